//! Load-balancing algorithms: pick one of a balancer's target instances.
//!
//! State lives in a plain struct per balancer; `pick` allocates nothing.

use crate::scenario::LoadBalancer;
use crate::schema::Algorithm;
use sim_core::Stream;

/// Virtual nodes per instance on the consistent-hash ring.
pub const VNODES: u32 = 64;

/// Per-balancer state.
#[derive(Debug, Clone)]
pub struct BalancerState {
    /// Global instance index of each target.
    pub targets: Vec<u32>,
    /// Link used to reach each target (by its pool).
    pub links: Vec<u32>,
    /// Requests this balancer has outstanding at each target.
    pub outstanding: Vec<u32>,
    weights: Vec<f64>,
    current: Vec<f64>,
    ring: Vec<(u64, u32)>,
    next: usize,
}

fn hash64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl BalancerState {
    /// Targets are the instances of each backend pool; `first_instance[node]` gives the
    /// global index of a pool's first instance and `instances[node]` its size.
    pub fn new(lb: &LoadBalancer, first_instance: &[u32], instances: &[u32]) -> Self {
        let mut targets = vec![];
        let mut links = vec![];
        let mut weights = vec![];
        for b in &lb.backends {
            let first = first_instance[b.node as usize];
            for i in 0..instances[b.node as usize] {
                targets.push(first + i);
                links.push(b.link);
                weights.push(b.weight);
            }
        }
        let mut ring = vec![];
        if lb.algorithm == Algorithm::ConsistentHash {
            for (pos, &t) in targets.iter().enumerate() {
                for v in 0..VNODES {
                    ring.push((hash64(((t as u64) << 32) | v as u64), pos as u32));
                }
            }
            ring.sort_unstable();
        }
        let n = targets.len();
        BalancerState {
            targets,
            links,
            outstanding: vec![0; n],
            current: vec![0.0; n],
            weights,
            ring,
            next: 0,
        }
    }

    /// Choose a target position (index into `targets`) for a request of `session`.
    #[inline]
    pub fn pick(&mut self, algorithm: &Algorithm, session: u64, rng: &mut Stream) -> usize {
        let n = self.targets.len();
        match algorithm {
            Algorithm::RoundRobin => {
                let p = self.next;
                self.next = (p + 1) % n;
                p
            }
            Algorithm::WeightedRoundRobin { .. } => {
                // Smooth weighted round robin (as in nginx): spreads picks evenly in time.
                let total: f64 = self.weights.iter().sum();
                let mut best = 0;
                for i in 0..n {
                    self.current[i] += self.weights[i];
                    if self.current[i] > self.current[best] {
                        best = i;
                    }
                }
                self.current[best] -= total;
                best
            }
            Algorithm::Random => rng.below(n as u64) as usize,
            Algorithm::LeastConnections => {
                // Ties go to the next in turn, so an idle pool is still used evenly.
                let start = self.next;
                self.next = (start + 1) % n;
                let mut best = start;
                for k in 1..n {
                    let i = (start + k) % n;
                    if self.outstanding[i] < self.outstanding[best] {
                        best = i;
                    }
                }
                best
            }
            Algorithm::PowerOfTwoChoices => {
                if n == 1 {
                    return 0;
                }
                let a = rng.below(n as u64) as usize;
                let b = (a + 1 + rng.below(n as u64 - 1) as usize) % n;
                if self.outstanding[b] < self.outstanding[a] {
                    b
                } else {
                    a
                }
            }
            Algorithm::ConsistentHash => {
                let h = hash64(session ^ 0xC0FF_EE00);
                let i = self.ring.partition_point(|&(x, _)| x < h);
                self.ring[if i == self.ring.len() { 0 } else { i }].1 as usize
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Backend, NONE};
    use sim_core::RngStreams;

    fn state(algorithm: Algorithm, pools: &[(u32, f64)]) -> (BalancerState, Algorithm) {
        let backends = pools
            .iter()
            .enumerate()
            .map(|(i, &(_, w))| Backend {
                node: i as u32,
                link: NONE,
                weight: w,
            })
            .collect();
        let lb = LoadBalancer {
            algorithm: algorithm.clone(),
            backends,
        };
        let sizes: Vec<u32> = pools.iter().map(|p| p.0).collect();
        let mut first = vec![];
        let mut acc = 0;
        for s in &sizes {
            first.push(acc);
            acc += s;
        }
        (BalancerState::new(&lb, &first, &sizes), algorithm)
    }

    #[test]
    fn consistent_hash_is_sticky_and_spreads_sessions() {
        let (mut st, alg) = state(Algorithm::ConsistentHash, &[(4, 1.0)]);
        let mut rng = RngStreams::new(1).get("lb");
        let mut counts = [0; 4];
        for session in 0..4000u64 {
            let first = st.pick(&alg, session, &mut rng);
            for _ in 0..3 {
                assert_eq!(
                    st.pick(&alg, session, &mut rng),
                    first,
                    "session {session} moved"
                );
            }
            counts[first] += 1;
        }
        for c in counts {
            assert!(c > 600, "uneven ring: {counts:?}");
        }
    }

    #[test]
    fn least_connections_and_p2c_avoid_the_busy_target() {
        let mut rng = RngStreams::new(2).get("lb");
        let (mut st, alg) = state(Algorithm::LeastConnections, &[(4, 1.0)]);
        st.outstanding = vec![3, 1, 0, 2];
        for _ in 0..8 {
            assert_eq!(st.pick(&alg, 0, &mut rng), 2);
        }
        let (mut st, alg) = state(Algorithm::PowerOfTwoChoices, &[(4, 1.0)]);
        st.outstanding = vec![100, 0, 0, 0];
        for _ in 0..1000 {
            assert_ne!(
                st.pick(&alg, 0, &mut rng),
                0,
                "the busiest of two distinct choices is never taken"
            );
        }
    }

    #[test]
    fn smooth_weighted_round_robin_interleaves() {
        // Pools of one instance with weights 3 and 1: a a b a (nginx's smooth order), repeating.
        let (mut st, alg) = state(
            Algorithm::WeightedRoundRobin { weights: vec![] },
            &[(1, 3.0), (1, 1.0)],
        );
        let mut rng = RngStreams::new(3).get("lb");
        let picks: Vec<usize> = (0..8).map(|_| st.pick(&alg, 0, &mut rng)).collect();
        assert_eq!(picks, vec![0, 0, 1, 0, 0, 0, 1, 0]);
        let (mut st, alg) = state(Algorithm::RoundRobin, &[(2, 1.0), (1, 1.0)]);
        let picks: Vec<usize> = (0..6).map(|_| st.pick(&alg, 0, &mut rng)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }
}

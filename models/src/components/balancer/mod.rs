//! Load balancers: spread requests over the ready instances of their backend pools.
//!
//! A balancer keeps a table of *targets* (one per pool instance it has ever seen, append
//! only, in backend order) and the set of targets that are routable now. Instances join
//! and leave as pools start, stop and kill them: every structure below changes in O(log n)
//! or better, and picking allocates nothing.
//!
//! | algorithm | pick | structure |
//! | --- | --- | --- |
//! | `RoundRobin` | members in turn | dense member array, O(1) |
//! | `WeightedRoundRobin` | smooth weighted round robin over pools (weight × ready instances), round robin inside the pool | O(pools) |
//! | `Random` | uniform over members | O(1) |
//! | `LeastConnections` | fewest outstanding; ties go to the next in turn | min-tree, O(log n) |
//! | `PowerOfTwoChoices` | two distinct members at random, the less loaded | O(1) |
//! | `ConsistentHash` | sticky by session: jump consistent hash over every target the balancer has seen, probing again while the one it lands on is not routable | no structure: O(1) change, O(ln n) pick |
//!
//! `ConsistentHash` moves only the sessions of an instance that leaves (they probe on to
//! another) or joins (jump hash sends it an even share, and probes that skipped it come
//! back), and spreads sessions evenly, with no ring to store: a 64-virtual-node ring over
//! 10 000 instances is 640 000 points, and each lookup into it cost a cache and TLB miss.

use super::{Component, Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, InstanceId, LinkId, NodeId};
use crate::kernel::{Cx, Ev};
use crate::scenario::raw::{Dur, NonNeg, MAX_WEIGHT};
use crate::scenario::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::{mix64, DenseSet, Key, MinTree, Stream};

/// Up to this many targets, `LeastConnections` scans (cheaper than a tree for a handful);
/// beyond, it keeps a min-tree. Both pick the same target.
const SCAN_MAX: usize = 32;

/// Probes of the jump hash before a request of a session whose targets are all gone falls
/// back to a plain pick among the routable targets.
const MAX_PROBES: u32 = 64;

/// Jump consistent hash (Lamping & Veach, 2014): a bucket in `0..n` for `key`. When `n`
/// grows by one, only the keys that move to the new bucket change. No memory; O(ln n).
fn jump(mut key: u64, n: u32) -> u32 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < n as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// A load balancer as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct RawBalancer {
    /// Unique name.
    pub name: String,
    /// Default: `RoundRobin`.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Service pools whose instances receive the traffic.
    pub backends: Vec<String>,
    /// Probe the instances; without, the balancer learns of every start, stop and death
    /// at once (as if the platform deregistered them). Default: none.
    #[serde(default)]
    pub health_check: Option<RawHealthCheck>,
    /// Send a request to an instance in the caller's own zone while one is routable, else
    /// in its own region, else anywhere (the caller: the calling instance, or the source's
    /// `zone`). With `RoundRobin`, `Random`, `LeastConnections` or `PowerOfTwoChoices`.
    /// Default: false.
    #[serde(default)]
    pub prefer_zone: bool,
}

/// A balancer's health check as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "HealthCheck")]
pub struct RawHealthCheck {
    /// Time between probes of every instance.
    pub interval: Dur,
    /// A probe of a dead instance fails after this long. Default: `"1s"`.
    #[serde(default = "one_second")]
    pub timeout: Dur,
    /// Failed probes in a row that take an instance out of rotation. Default: 3.
    #[serde(default = "three")]
    pub unhealthy_after: u32,
    /// Passed probes in a row that put an instance (back, or new) in rotation. Default: 2.
    #[serde(default = "two")]
    pub healthy_after: u32,
}

fn one_second() -> Dur {
    Dur(sim_core::SimTime::from_secs(1))
}
fn three() -> u32 {
    3
}
fn two() -> u32 {
    2
}

/// A validated health check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthCheck {
    /// Between probes.
    pub interval: sim_core::SimTime,
    /// Until a failed probe is known.
    pub timeout: sim_core::SimTime,
    /// Failures in a row to eject.
    pub unhealthy_after: u32,
    /// Passes in a row to admit.
    pub healthy_after: u32,
}

/// How a load balancer picks an instance.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Algorithm {
    /// Each instance in turn.
    #[default]
    RoundRobin,
    /// In proportion to a weight per backend pool, smoothly interleaved (as nginx does);
    /// each pool's share is its weight times its ready instances.
    WeightedRoundRobin {
        /// One weight per entry of `backends`, in order.
        weights: Vec<NonNeg>,
    },
    /// Uniformly at random.
    Random,
    /// The instance with the fewest requests outstanding from this balancer.
    LeastConnections,
    /// Two instances at random; the one with fewer outstanding requests.
    PowerOfTwoChoices,
    /// Sticky by session: each session keeps its instance while that instance serves;
    /// only the sessions of an instance that leaves or joins move (jump consistent hash).
    ConsistentHash,
}

/// A validated load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// Algorithm (weights validated).
    pub algorithm: Algorithm,
    /// Health check.
    pub health: Option<HealthCheck>,
    /// Backend pools.
    pub backends: Vec<Backend>,
    /// Prefer the caller's zone, then its region.
    pub prefer_zone: bool,
}

/// One backend pool of a load balancer.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// The service node.
    pub node: NodeId,
    /// Link from the balancer to it.
    pub link: Option<LinkId>,
    /// Weight (for `WeightedRoundRobin`; 1 otherwise).
    pub weight: f64,
}

impl RawConfig for RawBalancer {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let decl = r.decl(name);
        let backends = &self.backends;
        if backends.is_empty() {
            return Err(r
                .err(
                    r.loc().field_in(name, "backends"),
                    format!("load balancer `{name}` has no backends"),
                )
                .with_hint("e.g. backends: [\"web\"]"));
        }
        let weights: Vec<f64> = match &self.algorithm {
            Algorithm::WeightedRoundRobin { weights } => {
                if weights.len() != backends.len() {
                    return Err(r
                        .err(
                            r.loc().field_in(name, "weights"),
                            format!(
                                "load balancer `{name}`: {} weights for {} backends",
                                weights.len(),
                                backends.len()
                            ),
                        )
                        .with_hint("give one weight per backend, in the same order"));
                }
                if let Some(w) = weights.iter().find(|w| w.0 > MAX_WEIGHT) {
                    return Err(r
                        .err(
                            r.loc().field_in(name, "weights"),
                            format!(
                                "load balancer `{name}`: weight {:e} is above {MAX_WEIGHT:e}",
                                w.0
                            ),
                        )
                        .with_hint(
                            "weights are relative: [3, 1] sends three quarters to the first",
                        ));
                }
                if weights.iter().all(|w| w.0 == 0.0) {
                    return Err(r
                        .err(
                            r.loc().field_in(name, "weights"),
                            format!("load balancer `{name}`: the weights sum to 0"),
                        )
                        .with_hint("give at least one backend a weight above zero"));
                }
                weights.iter().map(|w| w.0).collect()
            }
            _ => vec![1.0; backends.len()],
        };
        let mut bs: Vec<Backend> = vec![];
        for (b, w) in backends.iter().zip(weights) {
            let node = r.node(b, decl)?;
            if !r.is_service(node) {
                return Err(r
                    .err(
                        r.loc().quoted(b, decl),
                        format!("load balancer `{name}`: backend `{b}` is not a service"),
                    )
                    .with_hint(
                        "a load balancer spreads requests over the instances of service pools",
                    ));
            }
            if bs.iter().any(|x| x.node == node) {
                return Err(r
                    .err(
                        r.loc().quoted(b, decl),
                        format!("load balancer `{name}`: backend `{b}` is listed twice"),
                    )
                    .with_hint(
                        "list each pool once; use WeightedRoundRobin to give one more traffic",
                    ));
            }
            bs.push(Backend {
                node,
                link: r.link_of(name, b),
                weight: w,
            });
        }
        let health = match &self.health_check {
            None => None,
            Some(h) => {
                let field = |f: &str| r.loc().field_in(name, f);
                if h.interval.0 == sim_core::SimTime::ZERO {
                    return Err(r
                        .err(
                            field("interval"),
                            format!(
                                "balancer `{name}`: a health-check interval must be above zero"
                            ),
                        )
                        .with_hint("e.g. interval: \"10s\""));
                }
                for (what, v) in [
                    ("unhealthy_after", h.unhealthy_after),
                    ("healthy_after", h.healthy_after),
                ] {
                    if !(1..=100).contains(&v) {
                        return Err(r
                            .err(
                                field(what),
                                format!("balancer `{name}`: {what} must be 1 to 100, found {v}"),
                            )
                            .with_hint(
                                "probes in a row, e.g. unhealthy_after: 3, healthy_after: 2",
                            ));
                    }
                }
                if h.timeout.0 >= h.interval.0 {
                    return Err(r
                        .err(field("timeout"), format!("balancer `{name}`: the health-check timeout ({}) must be shorter than the interval ({})", h.timeout.0, h.interval.0))
                        .with_hint("a probe must end before the next starts, e.g. interval: \"10s\", timeout: \"2s\""));
                }
                Some(HealthCheck {
                    interval: h.interval.0,
                    timeout: h.timeout.0,
                    unhealthy_after: h.unhealthy_after,
                    healthy_after: h.healthy_after,
                })
            }
        };
        if self.prefer_zone
            && matches!(
                self.algorithm,
                Algorithm::WeightedRoundRobin { .. } | Algorithm::ConsistentHash
            )
        {
            return Err(r
                .err(
                    r.loc().field_in(name, "prefer_zone"),
                    format!(
                        "load balancer `{name}`: prefer_zone does not combine with {}",
                        match self.algorithm {
                            Algorithm::ConsistentHash => "ConsistentHash",
                            _ => "WeightedRoundRobin",
                        }
                    ),
                )
                .with_hint("use RoundRobin, Random, LeastConnections or PowerOfTwoChoices with prefer_zone"));
        }
        Ok(NodeKind::LoadBalancer(LoadBalancer {
            prefer_zone: self.prefer_zone,
            health,
            algorithm: self.algorithm.clone(),
            backends: bs,
        }))
    }
}

impl LoadBalancer {
    /// Share of traffic per backend at the start (weight × instances, normalised).
    fn shares(&self, sc: &Scenario) -> Vec<f64> {
        let raw: Vec<f64> = self
            .backends
            .iter()
            .map(|b| {
                let size = sc.nodes[b.node.index()]
                    .kind
                    .as_service()
                    .map_or(1.0, |s| s.instances as f64);
                b.weight * size
            })
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|x| x / total).collect()
    }
}

impl Config for LoadBalancer {
    fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState {
        let mut b = Balancer::new(self, rng);
        b.id = id;
        if self.prefer_zone {
            b.locality = Some(Locality {
                zone_of: vec![],
                region_of: sc.regions.of_zone.clone(),
                zones: vec![Local::default(); sc.zones.len() + 1],
                regions: vec![Local::default(); sc.regions.names.len() + 1],
            });
        }
        for (bi, backend) in self.backends.iter().enumerate() {
            let Some(s) = sc.nodes[backend.node.index()].kind.as_service() else {
                continue;
            };
            for i in 0..s.instances {
                let inst = InstanceId::new(i as usize);
                let t = b.target(bi, inst);
                b.place(t, sc.zone_id(&s.zones[i as usize % s.zones.len()]));
                b.join(bi, inst);
            }
        }
        NodeState::LoadBalancer(b)
    }

    fn callees(&self, _class: ClassId, out: &mut Vec<NodeId>) {
        out.extend(self.backends.iter().map(|b| b.node));
    }

    fn visit(&self, _id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        for (b, share) in self.backends.iter().zip(self.shares(flow.sc)) {
            flow.visit(b.node, class, rate * share);
        }
    }

    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        self.backends
            .iter()
            .zip(self.shares(sc))
            .map(|(b, share)| {
                let link = b.link.map_or(0.0, |l| sc.links[l.index()].latency.mean_s());
                share * (2.0 * link + sc.nodes[b.node.index()].kind.response_time(class, sc))
            })
            .sum()
    }

    fn reads_key_or_session(&self) -> bool {
        matches!(self.algorithm, Algorithm::ConsistentHash)
    }
}

/// The algorithm without its parameters (weights live per backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    RoundRobin,
    Weighted,
    Random,
    LeastConnections,
    PowerOfTwo,
    Hash,
}

impl Alg {
    fn of(a: &Algorithm) -> Alg {
        match a {
            Algorithm::RoundRobin => Alg::RoundRobin,
            Algorithm::WeightedRoundRobin { .. } => Alg::Weighted,
            Algorithm::Random => Alg::Random,
            Algorithm::LeastConnections => Alg::LeastConnections,
            Algorithm::PowerOfTwoChoices => Alg::PowerOfTwo,
            Algorithm::ConsistentHash => Alg::Hash,
        }
    }
}

/// One instance a balancer can send to.
#[derive(Debug, Clone, Copy)]
struct Target {
    /// Index into `backends`.
    backend: u32,
    inst: InstanceId,
}

#[derive(Debug, Clone)]
struct BackendState {
    node: NodeId,
    link: Option<LinkId>,
    weight: f64,
    /// Smooth weighted round robin's running score.
    current: f64,
    /// This backend's routable targets.
    members: DenseSet,
    rr: usize,
    /// Target index per instance of the pool (`None`: never seen).
    target_of: Vec<Option<u32>>,
}

/// Routable targets in one zone or region, with a round-robin cursor.
#[derive(Debug, Clone, Default)]
struct Local {
    members: DenseSet,
    next: usize,
}

/// `prefer_zone`: the routable targets per zone and per region.
#[derive(Debug, Clone)]
struct Locality {
    /// Per target, its zone id.
    zone_of: Vec<u16>,
    /// Per zone id, its region id.
    region_of: Vec<u16>,
    /// Per zone id.
    zones: Vec<Local>,
    /// Per region id (0: zones in no region, never preferred).
    regions: Vec<Local>,
}

/// A load balancer at run time.
#[derive(Debug, Clone)]
pub struct Balancer {
    id: NodeId,
    health: Option<HealthCheck>,
    /// Health checks, per target: passes (> 0) or failures (< 0) in a row.
    streak: Vec<i32>,
    /// Health checks, per target: the verdict of the probe under way.
    probe: Vec<bool>,
    /// The node's stream `node/<name>` (random picks).
    rng: Stream,
    algorithm: Alg,
    backends: Vec<BackendState>,
    targets: Vec<Target>,
    /// Routable targets.
    members: DenseSet,
    /// Requests this balancer has outstanding at each target.
    outstanding: Vec<u32>,
    /// `LeastConnections` over more than `SCAN_MAX` targets: outstanding per routable
    /// target.
    least: MinTree,
    /// Round-robin cursor (and `LeastConnections`' rotating tie-break).
    next: usize,
    /// With `prefer_zone`: members by zone and region.
    locality: Option<Locality>,
}

impl Balancer {
    /// A balancer with no member yet.
    fn new(lb: &LoadBalancer, rng: Stream) -> Self {
        Balancer {
            id: NodeId::new(0),
            health: lb.health,
            streak: vec![],
            probe: vec![],
            rng,
            algorithm: Alg::of(&lb.algorithm),
            backends: lb
                .backends
                .iter()
                .map(|b| BackendState {
                    node: b.node,
                    link: b.link,
                    weight: b.weight,
                    current: 0.0,
                    members: DenseSet::new(),
                    rr: 0,
                    target_of: vec![],
                })
                .collect(),
            targets: vec![],
            members: DenseSet::new(),
            outstanding: vec![],
            least: MinTree::new(),
            next: 0,
            locality: None,
        }
    }

    /// Number of routable targets.
    pub fn routable(&self) -> usize {
        self.members.len()
    }

    /// Whether this balancer sends to `pool`.
    pub fn fronts(&self, pool: NodeId) -> bool {
        self.backends.iter().any(|b| b.node == pool)
    }

    /// A pool announced that one of its instances became routable or stopped being so.
    /// Without a health check the balancer follows at once. With one, a new (or
    /// restarted) instance waits for `healthy_after` passed probes, an instance taken out
    /// on purpose (drain, stop) leaves at once, and a death goes unnoticed until
    /// `unhealthy_after` probes have failed.
    pub fn set_member(&mut self, m: crate::kernel::Membership) {
        let Some(bi) = self.backends.iter().position(|b| b.node == m.node) else {
            return;
        };
        if self.locality.is_some() {
            let t = self.target(bi, m.inst);
            self.place(t, m.zone);
        }
        if self.health.is_none() {
            return if m.up {
                self.join(bi, m.inst)
            } else {
                self.leave(bi, m.inst)
            };
        }
        let t = self.target(bi, m.inst) as usize;
        if m.up {
            if !self.members.contains(t as u32) {
                self.streak[t] = 0;
            }
        } else if !m.died {
            self.leave(bi, m.inst);
            self.streak[t] = 0;
        }
    }

    /// The health check, if any.
    pub fn health(&self) -> Option<HealthCheck> {
        self.health
    }

    /// Instances to probe: (pool, instance) per target, in target order.
    pub fn probe_targets(&self) -> impl Iterator<Item = (NodeId, InstanceId)> + '_ {
        self.targets
            .iter()
            .map(|t| (self.backends[t.backend as usize].node, t.inst))
    }

    /// Record the outcome of this round's probes (in target order), known after the
    /// timeout.
    pub fn set_probe(&mut self, results: impl Iterator<Item = bool>) {
        self.probe.clear();
        self.probe.extend(results);
    }

    /// The verdicts of this round's probes are in: eject or admit instances. Returns the
    /// changes: (pool, instance, now in rotation).
    pub fn apply_probe(&mut self) -> Vec<(NodeId, InstanceId, bool)> {
        let Some(h) = self.health else {
            return vec![];
        };
        let mut changes = vec![];
        for t in 0..self.probe.len().min(self.targets.len()) {
            let ok = self.probe[t];
            let s = &mut self.streak[t];
            *s = match (ok, *s) {
                (true, s) if s > 0 => s + 1,
                (true, _) => 1,
                (false, s) if s < 0 => s - 1,
                (false, _) => -1,
            };
            let Target { backend, inst } = self.targets[t];
            let bi = backend as usize;
            let member = self.members.contains(t as u32);
            if member && *s <= -(h.unhealthy_after as i32) {
                self.leave(bi, inst);
                changes.push((self.backends[bi].node, inst, false));
            } else if !member && *s >= h.healthy_after as i32 {
                self.join(bi, inst);
                changes.push((self.backends[bi].node, inst, true));
            }
        }
        changes
    }

    fn target(&mut self, bi: usize, inst: InstanceId) -> u32 {
        let b = &mut self.backends[bi];
        if b.target_of.len() <= inst.index() {
            b.target_of.resize(inst.index() + 1, None);
        }
        if let Some(t) = b.target_of[inst.index()] {
            return t;
        }
        let t = self.targets.len() as u32;
        b.target_of[inst.index()] = Some(t);
        self.targets.push(Target {
            backend: bi as u32,
            inst,
        });
        self.outstanding.push(0);
        self.streak.push(0);
        if let Some(l) = &mut self.locality {
            l.zone_of.push(0);
        }
        if self.uses_tree() && self.targets.len() == SCAN_MAX + 1 {
            // Past the scan size: the tree takes over, seeded with every member.
            for &m in self.members.as_slice() {
                self.least.set(m, self.outstanding[m as usize]);
            }
        }
        t
    }

    #[inline]
    fn uses_tree(&self) -> bool {
        self.algorithm == Alg::LeastConnections && self.targets.len() > SCAN_MAX
    }

    /// The first routable target with the fewest outstanding, in cyclic order from
    /// `start`.
    #[inline]
    fn least_from(&self, start: usize) -> u32 {
        if self.uses_tree() {
            return self
                .least
                .first_min_from(start as u32)
                .expect("a member exists");
        }
        let mut best: Option<(u32, u32)> = None;
        for t in (start..self.targets.len()).chain(0..start) {
            let t = t as u32;
            let o = self.outstanding[t as usize];
            if best.is_none_or(|(_, b)| o < b) && self.members.contains(t) {
                best = Some((t, o));
            }
        }
        best.expect("a member exists").0
    }

    /// Target `t` is in zone `zone` (with `prefer_zone`; before it joins).
    fn place(&mut self, t: u32, zone: u16) {
        if let Some(l) = &mut self.locality {
            if !self.members.contains(t) {
                l.zone_of[t as usize] = zone;
            }
        }
    }

    fn join(&mut self, bi: usize, inst: InstanceId) {
        let t = self.target(bi, inst);
        if !self.members.insert(t) {
            return;
        }
        self.backends[bi].members.insert(t);
        if let Some(l) = &mut self.locality {
            let z = l.zone_of[t as usize] as usize;
            l.zones[z].members.insert(t);
            l.regions[l.region_of[z] as usize].members.insert(t);
        }
        if self.uses_tree() {
            self.least.set(t, self.outstanding[t as usize]);
        }
    }

    fn leave(&mut self, bi: usize, inst: InstanceId) {
        let t = self.target(bi, inst);
        if !self.members.remove(t) {
            return;
        }
        self.backends[bi].members.remove(t);
        if let Some(l) = &mut self.locality {
            let z = l.zone_of[t as usize] as usize;
            l.zones[z].members.remove(t);
            l.regions[l.region_of[z] as usize].members.remove(t);
        }
        if self.uses_tree() {
            self.least.set(t, u32::MAX);
        }
    }

    fn add_outstanding(&mut self, t: u32, d: i32) {
        let o = &mut self.outstanding[t as usize];
        *o = o.checked_add_signed(d).expect("outstanding stays ≥ 0");
        let o = *o;
        if self.uses_tree() && self.members.contains(t) {
            self.least.set(t, o);
        }
    }

    /// With `prefer_zone`, a routable target in zone `zone`, else in its region; `None`
    /// when there is none there (or no preference), and the pick goes to every member.
    fn pick_local(&mut self, zone: u16) -> Option<u32> {
        let l = self.locality.as_mut()?;
        if zone == 0 {
            return None;
        }
        let region = l.region_of[zone as usize] as usize;
        let local = if !l.zones[zone as usize].members.is_empty() {
            &mut l.zones[zone as usize]
        } else if region != 0 && !l.regions[region].members.is_empty() {
            &mut l.regions[region]
        } else {
            return None;
        };
        let (set, n) = (&local.members, local.members.len());
        let start = if local.next < n { local.next } else { 0 };
        Some(match self.algorithm {
            Alg::RoundRobin => {
                local.next = start + 1;
                set.get(start)
            }
            Alg::Random => set.get(self.rng.below(n as u64) as usize),
            Alg::LeastConnections => {
                local.next = start + 1;
                let out = &self.outstanding;
                (start..n)
                    .chain(0..start)
                    .map(|k| set.get(k))
                    .min_by_key(|&t| out[t as usize])
                    .expect("not empty")
            }
            Alg::PowerOfTwo => {
                if n == 1 {
                    return Some(set.get(0));
                }
                let a = self.rng.below(n as u64) as usize;
                let b = (a + 1 + self.rng.below(n as u64 - 1) as usize) % n;
                let (ta, tb) = (set.get(a), set.get(b));
                if self.outstanding[tb as usize] < self.outstanding[ta as usize] {
                    tb
                } else {
                    ta
                }
            }
            Alg::Weighted | Alg::Hash => unreachable!("validated: no prefer_zone"),
        })
    }

    /// Choose a routable target for a request of `session`; `None` if there is none.
    #[inline]
    fn pick(&mut self, session: u64) -> Option<u32> {
        let rng = &mut self.rng;
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        Some(match self.algorithm {
            Alg::RoundRobin => {
                let k = if self.next < n { self.next } else { 0 };
                self.next = k + 1;
                self.members.get(k)
            }
            Alg::Weighted => {
                // Smooth weighted round robin (as in nginx) over pools, each weighted by its
                // weight times its ready instances; then round robin inside the pool.
                let mut total = 0.0;
                let mut best: Option<(usize, f64)> = None;
                for (i, b) in self.backends.iter_mut().enumerate() {
                    let w = b.weight * b.members.len() as f64;
                    if w == 0.0 {
                        continue;
                    }
                    total += w;
                    b.current += w;
                    if best.is_none_or(|(_, c)| b.current > c) {
                        best = Some((i, b.current));
                    }
                }
                let Some((bi, _)) = best else {
                    // Every pool with members has weight 0: fall back to any member.
                    let k = self.next % n;
                    self.next = k + 1;
                    return Some(self.members.get(k));
                };
                let b = &mut self.backends[bi];
                b.current -= total;
                let k = b.rr % b.members.len();
                b.rr = k + 1;
                b.members.get(k)
            }
            Alg::Random => self.members.get(rng.below(n as u64) as usize),
            Alg::LeastConnections => {
                let start = if self.next < self.targets.len() {
                    self.next
                } else {
                    0
                };
                self.next = start + 1;
                self.least_from(start)
            }
            Alg::PowerOfTwo => {
                if n == 1 {
                    return Some(self.members.get(0));
                }
                let a = rng.below(n as u64) as usize;
                let b = (a + 1 + rng.below(n as u64 - 1) as usize) % n;
                let (ta, tb) = (self.members.get(a), self.members.get(b));
                if self.outstanding[tb as usize] < self.outstanding[ta as usize] {
                    tb
                } else {
                    ta
                }
            }
            Alg::Hash => {
                let n = self.targets.len() as u32;
                let mut key = mix64(session ^ 0xC0FF_EE00);
                for _ in 0..MAX_PROBES {
                    let t = jump(key, n);
                    if self.members.contains(t) {
                        return Some(t);
                    }
                    key = mix64(key);
                }
                // Every probe met a gone target (almost all are gone): any routable one.
                self.members.get((key % self.members.len() as u64) as usize)
            }
        })
    }
}

impl Component for Balancer {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        let fr = *cx.k.frames.get(f).expect("entering frame is live");
        let session = cx.k.reqs.get(fr.req).map_or(0, |r| r.session);
        let local = match self.locality {
            Some(_) => self.pick_local(fr.zone),
            None => None,
        };
        let Some(t) = local.or_else(|| self.pick(session)) else {
            // No instance to send to: fail at once (a 503).
            return cx.reject(f);
        };
        self.add_outstanding(t, 1);
        let target = self.targets[t as usize];
        let b = &self.backends[target.backend as usize];
        let (pool, link) = (b.node, b.link);
        cx.k.frames.get_mut(f).expect("live").pc = t;
        cx.accept(f);
        let child = cx.child(f, &fr, pool, Some(target.inst), link);
        cx.send(link, Ev::Enter(child, pool));
    }

    fn on_reply(&mut self, cx: &mut Cx, to: Key, ok: bool, _from: u16) {
        let fr = cx.leave(to);
        self.add_outstanding(fr.pc, -1);
        cx.reply(to, fr, ok);
    }

    fn begin(&mut self, q: &mut crate::kernel::Queue) {
        if let Some(h) = self.health {
            q.schedule(h.interval, crate::kernel::Ev::Tick(self.id));
        }
    }
}

#[cfg(test)]
mod tests;

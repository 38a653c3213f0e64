//! Service pools: identical instances (an autoscaling group), each a [`Station`] of
//! `cores` workers and a FIFO queue, running a handler program per request class.
//!
//! Semantics worth knowing:
//! - a node's latency is the sojourn of a frame: from its arrival at the node to its
//!   departure (reply sent), including queueing and downstream calls, so Little's law
//!   `L = λW` holds per node with `L` the time-average number of frames present;
//! - `Call` with `on_call: Hold` keeps the worker busy until the reply; with `Release` the
//!   worker serves others meanwhile and, if steps remain, the request queues again for a
//!   worker afterwards (a chain of `Release` services ending in calls is a tandem network);
//! - an error (a full queue, no instance to serve) fails the whole request: every caller up
//!   the chain replies with an error at once;
//! - instances live through [`Life`]: the verbs [`Pool::start`], [`Pool::stop`],
//!   [`Pool::kill`] and [`Pool::degrade`] change them; balancers in front learn of every
//!   instance that becomes routable or stops being so through the kernel's `membership`.
//!
//! [`Station`]: super::station

mod calls;
mod lifecycle;
pub mod sessions;

use super::station::{Instance, Life};
use super::{Component, Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::{self, Flow};
use crate::ids::{ClassId, InstanceId, NodeId};
use crate::kernel::{Cx, Ev, Wake};
use crate::scenario::program::{self, cache_call, Handler, Op};
use crate::scenario::raw::{unique_map, Count, Dur, NonNeg, RawStep, MAX_PRICE};
use crate::scenario::{Resolver, Scenario, ScenarioError};
use calls::{BreakerState, CallState};
use serde::Deserialize;
use sim_core::{DenseSet, Key, SimTime, Stream};
use std::collections::BTreeMap;

/// Most instances in one service pool (at the start, and ever at once).
pub const MAX_INSTANCES: u32 = 100_000;
/// Most instances of all pools together, at the start and ever at once (each costs
/// memory whether it serves or not).
pub const MAX_TOTAL_INSTANCES: u64 = 1_000_000;
/// Most workers per instance.
pub const MAX_CORES: u32 = 100_000;

fn default_one() -> Count {
    Count(1)
}
fn default_drain() -> Dur {
    Dur(SimTime::from_secs(30))
}

/// A service pool as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Service")]
pub struct RawService {
    /// Unique name.
    pub name: String,
    /// Number of instances at the start (all serving at time 0). Default: 1. At most
    /// 100 000.
    #[serde(default = "default_one")]
    pub instances: Count,
    /// Workers per instance (requests served in parallel). Default: 1. At most 100 000.
    #[serde(default = "default_one")]
    pub cores: Count,
    /// Waiting room per instance; a request finding it full is rejected (an error).
    /// Default: unbounded (then bounded only by `limits.max_in_flight`).
    #[serde(default)]
    pub queue: Option<Count>,
    /// Load shedding: refuse a request on arrival when the wait it can expect in the
    /// queue (requests ahead × mean worker time of its class / cores) reaches this.
    /// Default: none.
    #[serde(default)]
    pub shed_after: Option<Dur>,
    /// What a worker does while its request waits on a `Call`. Default: `Hold`.
    #[serde(default)]
    pub on_call: CallMode,
    /// Price of one instance per hour, billed from its start until it stops. Default: 0.
    #[serde(default)]
    pub cost_per_hour: NonNeg,
    /// Time from starting an instance to its serving (instances present at time 0 serve
    /// at once). Default: `"0s"`.
    #[serde(default)]
    pub startup: Dur,
    /// Longest a stopping instance may drain its in-flight work; what is left then fails.
    /// Default: `"30s"`.
    #[serde(default = "default_drain")]
    pub drain_timeout: Dur,
    /// Zones the instances are spread over in turn (instance `i` in zone `i mod n`).
    /// Default: one zone, `["default"]`.
    #[serde(default)]
    pub zones: Option<Vec<String>>,
    /// Program per request class; the key `"*"` serves every class not listed. Each class
    /// at most once.
    #[serde(deserialize_with = "unique_map")]
    pub handlers: BTreeMap<String, Vec<RawStep>>,
    /// An autoscaling policy (see `control::autoscale`). Default: none.
    #[serde(default)]
    pub autoscale: Option<crate::control::autoscale::RawAutoscale>,
    /// Where the users' sessions live: `Stateless` (on no instance; any instance serves
    /// any request) or `InMemory` (on the instance that served the user first; lost when
    /// it stops, missing on any other). `InMemory` pools report `sessions`: created,
    /// lost, moved. Default: `Stateless`.
    #[serde(default)]
    pub sessions: sessions::SessionMode,
}

/// What a service's worker does while its request waits on a synchronous `Call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum CallMode {
    /// The worker stays busy until the call returns (thread-per-request servers).
    #[default]
    Hold,
    /// The worker is freed; when the call returns, the request queues for a worker again
    /// (event-loop servers). A request coming back is never rejected by a full queue.
    Release,
}

/// A validated service pool.
#[derive(Debug, Clone)]
pub struct Service {
    /// Instances at the start.
    pub instances: u32,
    /// Workers per instance.
    pub cores: u32,
    /// Queue capacity per instance (`None`: unbounded).
    pub queue: Option<u32>,
    /// Load shedding bound on the expected queue wait.
    pub shed_after: Option<SimTime>,
    /// Worker behaviour during calls.
    pub on_call: CallMode,
    /// Price per instance-hour.
    pub cost_per_hour: f64,
    /// Start-up time of a new instance.
    pub startup: SimTime,
    /// Longest drain.
    pub drain_timeout: SimTime,
    /// Zone names.
    pub zones: Vec<String>,
    /// Handler per class id (`None`: this class never reaches here).
    pub handlers: Vec<Option<Handler>>,
    /// Its autoscaling policy.
    pub autoscale: Option<crate::control::autoscale::Autoscale>,
    /// Where its sessions live.
    pub sessions: sessions::SessionMode,
}

impl RawConfig for RawService {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let decl = r.decl(name);
        let field = |r: &Resolver, f: &str| r.loc().field_in(name, f);
        let (instances, cores, queue) = (self.instances.0, self.cores.0, self.queue.map(|q| q.0));
        if instances == 0 {
            return Err(r
                .err(
                    field(r, "instances"),
                    format!("service `{name}` has 0 instances"),
                )
                .with_hint("a pool needs at least 1 instance at the start (use actions to stop them later)"));
        }
        if instances > MAX_INSTANCES {
            return Err(r
                .err(
                    field(r, "instances"),
                    format!(
                        "service `{name}` has {instances} instances, more than the limit of {MAX_INSTANCES}"
                    ),
                )
                .with_hint("model a very large pool with fewer, bigger instances (more cores)"));
        }
        if cores > MAX_CORES {
            return Err(r
                .err(field(r, "cores"), format!("service `{name}` has {cores} cores per instance, more than the limit of {MAX_CORES}"))
                .with_hint("use more instances instead"));
        }
        if cores == 0 {
            return Err(r
                .err(field(r, "cores"), format!("service `{name}` has 0 cores"))
                .with_hint("each instance needs at least 1 worker"));
        }
        let zones = match &self.zones {
            None => vec!["default".to_string()],
            Some(z) if z.is_empty() => return Err(r
                .err(
                    field(r, "zones"),
                    format!("service `{name}` has an empty zones list"),
                )
                .with_hint(
                    "name at least one zone, e.g. zones: [\"a\", \"b\"], or leave the field out",
                )),
            Some(z) => {
                if let Some(dup) = z.iter().enumerate().find(|(i, x)| z[..*i].contains(x)) {
                    return Err(r
                        .err(
                            field(r, "zones"),
                            format!("service `{name}`: zone `{}` is listed twice", dup.1),
                        )
                        .with_hint("each zone once; instances are spread over them in turn"));
                }
                for zone in z {
                    r.check_name("zone", zone)?;
                }
                z.clone()
            }
        };
        if self.cost_per_hour.0 > MAX_PRICE {
            return Err(r
                .err(
                    field(r, "cost_per_hour"),
                    format!(
                        "service `{name}`: cost_per_hour {:e} is above {MAX_PRICE:e}",
                        self.cost_per_hour.0
                    ),
                )
                .with_hint("the price of one instance for one hour, e.g. 0.17"));
        }
        if self.handlers.is_empty() {
            return Err(r
                .err(
                    field(r, "handlers"),
                    format!("service `{name}` has no handlers"),
                )
                .with_hint("e.g. handlers: {\"*\": [Cpu(Exp(\"10ms\"))]}"));
        }
        let classes = r.classes().len();
        let mut per_class: Vec<Option<Handler>> = vec![None; classes];
        let mut wildcard = None;
        for (class, steps) in &self.handlers {
            let at = r.loc().quoted(class, decl).map_or(decl, |x| x.0);
            let resolved = program::resolve(steps, name, r, at)?;
            let h = r.compile(resolved);
            if class == "*" {
                wildcard = Some(h);
            } else if let Some(c) = r.class(class) {
                per_class[c.index()] = Some(h);
            } else {
                return Err(r.unknown_class(
                    class,
                    decl,
                    format!("service `{name}` has a handler for `{class}`, which no source sends"),
                ));
            }
        }
        if let Some(w) = wildcard {
            for h in per_class.iter_mut().filter(|h| h.is_none()) {
                *h = Some(w.clone());
            }
        }
        if self.shed_after.is_some_and(|d| d.0 == SimTime::ZERO) {
            return Err(r
                .err(
                    field(r, "shed_after"),
                    format!(
                        "service `{name}`: shed_after of 0 refuses every request that would wait"
                    ),
                )
                .with_hint(
                    "the longest expected queue wait to accept, e.g. shed_after: \"200ms\"",
                ));
        }
        Ok(NodeKind::Service(Service {
            instances,
            cores,
            queue,
            shed_after: self.shed_after.map(|d| d.0),
            on_call: self.on_call,
            cost_per_hour: self.cost_per_hour.0,
            startup: self.startup.0,
            drain_timeout: self.drain_timeout.0,
            zones,
            handlers: per_class,
            autoscale: match &self.autoscale {
                Some(a) => Some(crate::control::autoscale::Autoscale::validate(
                    a,
                    name,
                    r.raw().duration.0,
                    r,
                )?),
                None => None,
            },
            sessions: self.sessions,
        }))
    }
}

impl Config for Service {
    fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState {
        let mut pool = Pool {
            id,
            rng,
            ops: sc.ops.clone().into_boxed_slice(),
            degraded: false,
            cores: self.cores,
            queue_cap: self.queue,
            shed: self
                .handlers
                .iter()
                .enumerate()
                .map(|(c, h)| {
                    let (Some(h), Some(bound)) = (h, self.shed_after) else {
                        return u32::MAX;
                    };
                    let hold = self.on_call == CallMode::Hold;
                    let s = capacity::worker_time(sc, &h.steps, ClassId::new(c), hold);
                    if s > 0.0 {
                        (bound.as_secs_f64() * self.cores as f64 / s)
                            .ceil()
                            .min(u32::MAX as f64) as u32
                    } else {
                        u32::MAX
                    }
                })
                .collect(),
            release: self.on_call == CallMode::Release,
            pull: sc.nodes.iter().any(
                |n| matches!(&n.kind, crate::components::NodeKind::Queue(q) if q.consumer.0 == id),
            ),
            starts: self
                .handlers
                .iter()
                .map(|h| h.as_ref().map(|h| h.start))
                .collect(),
            startup: self.startup,
            drain_timeout: self.drain_timeout,
            zones: self.zones.len() as u32,
            zone_ids: self.zones.iter().map(|z| sc.zone_id(z)).collect(),
            crossing: sc.crossing.is_some(),
            killing: false,
            calls: Default::default(),
            budget: vec![(0, 0); sc.calls.len()],
            policies: sc.calls.clone(),
            breakers: sc
                .calls
                .iter()
                .map(|p| p.breaker.map(|_| BreakerState::default()))
                .collect(),
            bulk: vec![vec![]; sc.calls.len()],
            strays: vec![],
            instances: Vec::with_capacity(self.instances as usize),
            routable: DenseSet::new(),
            rr: 0,
            up: 0,
            ready: 0,
            running: 0,
            working: 0,
            working_cores: self.instances as u64 * self.cores as u64,
            gens: vec![(self.cores, self.cost_per_hour)],
            gen_running: vec![self.instances],
            scratch: vec![],
            homes: (self.sessions == sessions::SessionMode::InMemory)
                .then(Box::<sessions::Homes>::default),
        };
        for i in 0..self.instances {
            let mut inst = Instance::new(Life::Ready, i % pool.zones, SimTime::ZERO);
            inst.cores = self.cores;
            pool.instances.push(inst);
            pool.routable.insert(i);
        }
        let n = self.instances;
        (pool.up, pool.ready, pool.running, pool.working) = (n, n, n, n);
        NodeState::Service(pool)
    }

    fn callees(&self, class: ClassId, out: &mut Vec<NodeId>) {
        if let Some(h) = &self.handlers[class.index()] {
            program::callees(&h.steps, out);
        }
    }

    fn workers(&self) -> u64 {
        self.instances as u64 * self.cores as u64
    }

    fn cost_per_hour(&self) -> f64 {
        self.instances as f64 * self.cost_per_hour
    }

    fn handles(&self, class: ClassId) -> bool {
        self.handlers[class.index()].is_some()
    }

    fn visit(&self, id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        let h = self.handlers[class.index()].as_ref().expect("validated");
        let hold = self.on_call == CallMode::Hold;
        flow.demand[id.index()] += rate * capacity::worker_time(flow.sc, &h.steps, class, hold);
        capacity::calls(&h.steps, class, rate, flow);
    }

    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        let h = self.handlers[class.index()].as_ref().expect("validated");
        capacity::worker_time(sc, &h.steps, class, true)
    }

    fn reads_key_or_session(&self) -> bool {
        self.sessions == sessions::SessionMode::InMemory
    }
}

/// A service pool at run time.
#[derive(Debug, Clone)]
pub struct Pool {
    id: NodeId,
    /// The node's stream `node/<name>`: service times and branches.
    rng: Stream,
    /// The scenario's handler programs (a private copy: one indirection less per op).
    ops: Box<[Op]>,
    /// Some instance runs below full speed (else CPU times are used as drawn).
    degraded: bool,
    cores: u32,
    queue_cap: Option<u32>,
    /// Load shedding: per class, the queue length at which arrivals are refused.
    shed: Vec<u32>,
    release: bool,
    /// It consumes a queue: a message sent to it directly goes to a free worker (workers
    /// pull), not round robin over instances.
    pull: bool,
    /// Handler start per class.
    starts: Vec<Option<u32>>,
    startup: SimTime,
    drain_timeout: SimTime,
    zones: u32,
    /// The scenario-wide id of each of its zones.
    zone_ids: Vec<u16>,
    /// The scenario has a crossing latency.
    crossing: bool,
    /// Calls with a timeout or retries under way, by calling frame.
    calls: crate::kernel::FrameMap<CallState>,
    /// Per call policy: (calls, retries) over the whole run, for retry budgets.
    budget: Vec<(u64, u64)>,
    /// The scenario's call policies.
    policies: Vec<program::CallPolicy>,
    /// Per call policy with a breaker: its state.
    breakers: Vec<Option<BreakerState>>,
    /// Per call policy with a bulkhead: tries out per instance.
    bulk: Vec<Vec<u32>>,
    /// Abandoned tries whose replies are on their way: (calling frame, try's tag).
    strays: Vec<(Key, u16)>,
    /// A kill is under way (membership changes say "died").
    killing: bool,
    /// Every instance ever started; a stopped slot is reused by a later start.
    pub instances: Vec<Instance>,
    /// Ready instances, for requests sent to the pool directly (round robin).
    routable: DenseSet,
    rr: usize,
    /// Starting + ready.
    up: u32,
    /// Ready.
    ready: u32,
    /// Starting + ready + draining (billed).
    running: u32,
    /// Ready + draining (their workers count for utilisation).
    working: u32,
    /// Workers of the working instances.
    working_cores: u64,
    /// Sizes (cores, price per hour) by generation; new instances take the last.
    pub gens: Vec<(u32, f64)>,
    /// Per generation, its billed instances.
    gen_running: Vec<u32>,
    scratch: Vec<Key>,
    /// `InMemory` sessions: which instance holds each user's.
    homes: Option<Box<sessions::Homes>>,
}

impl Pool {
    /// Instances starting or serving (the pool's size as a scaler sees it).
    pub fn size(&self) -> u32 {
        self.up
    }

    /// Instances serving.
    pub fn ready(&self) -> u32 {
        self.ready
    }

    /// Start-up time of a new instance.
    pub fn startup(&self) -> SimTime {
        self.startup
    }

    /// Workers per instance of the current size.
    pub fn cores(&self) -> u32 {
        self.cores
    }

    /// Pick a ready instance with a free worker and nothing queued, from the round-robin
    /// cursor on (a pulling consumer's workers take messages as they free up); round
    /// robin when none is free.
    fn pick_free(&mut self) -> Option<InstanceId> {
        let n = self.routable.len();
        let from = if self.rr < n { self.rr } else { 0 };
        for k in 0..n {
            let idx = if from + k < n { from + k } else { from + k - n };
            let id = self.routable.get(idx) as usize;
            let inst = &self.instances[id];
            if inst.busy < inst.cores && inst.queue.is_empty() {
                self.rr = idx + 1;
                return Some(InstanceId::new(id));
            }
        }
        self.pick()
    }

    /// Pick a ready instance for a request sent to the pool directly (round robin).
    #[inline]
    fn pick(&mut self) -> Option<InstanceId> {
        if self.routable.is_empty() {
            return None;
        }
        // A wrapping cursor without a division (members may have left: start over).
        let k = if self.rr < self.routable.len() {
            self.rr
        } else {
            0
        };
        self.rr = k + 1;
        Some(InstanceId::new(self.routable.get(k) as usize))
    }

    /// Execute frame `f`'s program from its pc until it must wait (CPU, call) or ends.
    fn execute(&mut self, cx: &mut Cx, f: Key) {
        loop {
            let fr = cx.k.frames.get_mut(f).expect("running frame is live");
            match self.ops[fr.pc as usize] {
                Op::Cpu(d) => {
                    let mut dt = d.sample(&mut self.rng);
                    if self.degraded {
                        dt = self.instances[fr.inst.expect("placed").index()].cpu_time(dt);
                    }
                    cx.wake_at(cx.now + dt, f, self.id, Wake::CpuDone);
                    return;
                }
                Op::Call { node, link, policy } => {
                    let fr = *fr;
                    let child = match policy {
                        Some(p) => {
                            let inst = fr.inst.expect("placed").index() as u32;
                            self.calls.insert(f, CallState::new(inst));
                            match self.open_try(cx, f, p as usize, true) {
                                Some(child) => child,
                                None => return,
                            }
                        }
                        None => cx.child(f, &fr, node, None, link),
                    };
                    if self.release {
                        cx.k.frames.get_mut(f).expect("live").holds = false;
                        self.release_worker(cx, fr.inst.expect("placed"));
                    }
                    cx.send(link, Ev::Enter(child, node));
                    return;
                }
                Op::Lookup { node, link, .. } | Op::Fill { node, link } => {
                    let what = if matches!(self.ops[fr.pc as usize], Op::Fill { .. }) {
                        cache_call::FILL
                    } else {
                        cache_call::LOOKUP
                    };
                    let fr = *fr;
                    let child = cx.child(f, &fr, node, None, link);
                    cx.k.frames.get_mut(child).expect("live").pc = what;
                    if self.release {
                        cx.k.frames.get_mut(f).expect("live").holds = false;
                        self.release_worker(cx, fr.inst.expect("placed"));
                    }
                    cx.send(link, Ev::Enter(child, node));
                    return;
                }
                Op::Branch { p, else_pc } => {
                    let take = self.rng.chance(p);
                    fr.pc = if take { fr.pc + 1 } else { else_pc };
                }
                Op::Jump(t) => fr.pc = t,
                Op::End => {
                    self.depart(cx, f, true);
                    return;
                }
            }
        }
    }

    /// A worker of instance `i` is free: give it to the next queued frame, if any.
    fn release_worker(&mut self, cx: &mut Cx, i: InstanceId) {
        self.instances[i.index()].release_worker(cx, self.id);
    }

    /// The frame leaves (done or failed) and replies to its caller. A draining instance
    /// whose last frame this was stops.
    fn depart(&mut self, cx: &mut Cx, f: Key, ok: bool) {
        if !self.calls.is_empty() {
            self.calls.remove(&f);
        }
        if !self.strays.is_empty() {
            self.strays.retain(|s| s.0 != f);
        }
        let fr = cx.leave(f);
        let i = fr.inst.expect("placed");
        if fr.holds {
            self.release_worker(cx, i);
        }
        let inst = &mut self.instances[i.index()];
        inst.present -= 1;
        if inst.present == 0 && inst.life == Life::Draining {
            self.set_life(cx, i, Life::Stopped);
        }
        cx.reply(f, fr, ok);
    }
}

impl Component for Pool {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        let now = cx.now;
        let fm = cx.k.frames.get_mut(f).expect("entering frame is live");
        let chosen = match fm.inst {
            Some(i) => Some(i),
            None if self.pull => self.pick_free(),
            None => self.pick(),
        };
        // Refused: nothing serving (all stopped or starting), or the instance a balancer
        // chose stopped while the request was on its way.
        let Some(i) = chosen.filter(|i| self.instances[i.index()].is_working()) else {
            return cx.reject(f);
        };
        let start = self.starts[fm.class.index()].expect("validated: class handled");
        let inst = &mut self.instances[i.index()];
        let zone = self.zone_ids[inst.zone as usize];
        if !cx.k.partitions.is_empty() && fm.zone != 0 {
            let pair = (fm.zone.min(zone), fm.zone.max(zone));
            if cx.k.partitions.contains(&pair) {
                // Lost on the way: no answer ever comes back.
                cx.k.frames.remove(f);
                return;
            }
        }
        if self.crossing && fm.zone != zone {
            if let Some(extra) = cx.k.sc.crossing(fm.zone, zone) {
                // Into another zone or region: it arrives at the instance later.
                let dt = extra.sample(&mut cx.k.crossing_rng);
                (fm.inst, fm.zone) = (Some(i), zone);
                cx.q.schedule(now + dt, Ev::Delayed(f, self.id));
                return;
            }
        }
        fm.zone = zone;
        let stats = &mut cx.k.nodes[self.id.index()];
        let full = inst.busy >= inst.cores
            && (self
                .queue_cap
                .is_some_and(|cap| inst.queue.len() >= cap as usize)
                || inst.queue.len() >= self.shed[fm.class.index()] as usize);
        if let Some(homes) = self.homes.as_mut().filter(|_| !full) {
            let user = cx.k.reqs.get(fm.req).map_or(0, |r| r.user());
            let s = stats.sessions.get_or_insert_with(Default::default);
            match homes.visit(user, i.index() as u32) {
                sessions::Visit::Home => {}
                sessions::Visit::Created => s.created.inc(),
                sessions::Visit::Moved => {
                    s.created.inc();
                    s.moved.inc();
                }
            }
        }
        if inst.busy < inst.cores {
            inst.take_worker(now);
            inst.present += 1;
            stats.busy.add(now, 1);
            stats.present.add(now, 1);
            (fm.inst, fm.pc, fm.entered, fm.holds, fm.placed) = (Some(i), start, now, true, true);
            self.execute(cx, f);
        } else if full {
            cx.reject(f);
        } else {
            inst.queue.push_back(f);
            inst.present += 1;
            stats.queued.add(now, 1);
            stats.present.add(now, 1);
            (fm.inst, fm.pc, fm.entered, fm.placed) = (Some(i), start, now, true);
        }
    }

    fn on_reply(&mut self, cx: &mut Cx, to: Key, ok: bool, from: u16) {
        // The caller may be gone: its instance was killed while the call was out.
        let Some(pc) = cx.k.frames.get(to).map(|fr| fr.pc) else {
            return;
        };
        if !self.strays.is_empty() && self.take_stray(to, from) {
            return;
        }
        if let Op::Call {
            policy: Some(p), ..
        } = self.ops[pc as usize]
        {
            if !self.call_answered(cx, to, p as usize, ok, from) {
                return;
            }
        }
        let fr = cx.k.frames.get_mut(to).expect("live");
        if !ok {
            return self.depart(cx, to, false);
        }
        fr.pc = match self.ops[fr.pc as usize] {
            // A hit skips the miss steps.
            Op::Lookup { hit_pc, .. } => {
                let req = cx.k.reqs.get_mut(fr.req).expect("live");
                if std::mem::take(&mut req.missed) {
                    fr.pc + 1
                } else {
                    hit_pc
                }
            }
            _ => fr.pc + 1,
        };
        if fr.holds {
            return self.execute(cx, to);
        }
        if matches!(self.ops[fr.pc as usize], Op::End) {
            // Nothing left to do: reply without taking a worker again.
            return self.depart(cx, to, true);
        }
        // Released its worker for the call: get one again (never rejected).
        let i = fr.inst.expect("placed");
        let inst = &mut self.instances[i.index()];
        if inst.busy < inst.cores {
            inst.take_worker(cx.now);
            fr.holds = true;
            cx.k.nodes[self.id.index()].busy.add(cx.now, 1);
            self.execute(cx, to);
        } else {
            inst.queue.push_back(to);
            cx.k.nodes[self.id.index()].queued.add(cx.now, 1);
        }
    }

    fn on_wake(&mut self, cx: &mut Cx, f: Key, why: Wake) {
        // Stale if the frame's instance was killed meanwhile.
        let Some(fr) = cx.k.frames.get_mut(f) else {
            return;
        };
        match why {
            Wake::Timeout => {
                // Stale unless this try's deadline is now (answered, or retried, before).
                let Some(state) = self.calls.get(&f) else {
                    return;
                };
                if state.deadline != cx.now {
                    return;
                }
                let Op::Call {
                    policy: Some(p), ..
                } = self.ops[fr.pc as usize]
                else {
                    return;
                };
                // Give up on the tries out: their answers, whenever they come, are dropped.
                return self.call_timed_out(cx, f, p as usize);
            }
            Wake::Retry => return self.retry(cx, f),
            Wake::Hedge => return self.hedge(cx, f),
            Wake::CpuDone => fr.pc += 1,
            _ => {}
        }
        self.execute(cx, f);
    }
}

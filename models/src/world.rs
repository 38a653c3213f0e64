//! The simulation: sources, load balancers, service pools and links, driven by sim-core.
//!
//! Shape (see DESIGN.md, "Engine semantics"):
//! - an event ([`Ev`]) is a small `Copy` enum carrying generational keys;
//! - a request lives in a slab ([`Req`]); each visit of a request to a node is a *frame*
//!   in a second slab, linked to its caller's frame, so synchronous calls nest without any
//!   per-request allocation;
//! - component state is a plain struct in a `Vec` per kind, addressed by index, and dispatch
//!   is a `match`;
//! - statistics are updated in place; a periodic `Sample` event fills the time series.
//!
//! Semantics worth knowing:
//! - a node's latency is the sojourn of a frame: from its arrival at the node to its
//!   departure (reply sent), including queueing and any downstream calls, so Little's law
//!   `L = λW` holds per node with `L` the time-average number of frames present;
//! - `Call` with `on_call: Hold` keeps the worker busy until the reply; with `Release` the
//!   worker serves others meanwhile and, if steps remain, the request queues again for a
//!   worker afterwards (so a chain of `Release` services ending in calls is a tandem
//!   network);
//! - an error (a full queue) fails the whole request: every caller up the chain replies
//!   with an error at once;
//! - a client timeout counts the request as an error at the client; the servers still
//!   finish it (and their statistics include it).

use crate::balancer::BalancerState;
use crate::scenario::{NodeKind, Op, Scenario, NONE};
use crate::schema::{Arrivals, CallMode};
use sim_core::{
    run_until, Counter, EventQueue, Histogram, Key, Model, RngStreams, SimTime, Slab, StopReason,
    Stream, TimeSeries, TimeWeighted,
};
use std::collections::VecDeque;

/// An event. 16 bytes.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// The next arrival of a source.
    Arrival(u32),
    /// A frame reaches its node.
    Enter(Key),
    /// A frame's CPU step is done.
    CpuDone(Key),
    /// A frame got a worker from its instance's queue.
    Resume(Key),
    /// A callee's reply reaches the calling frame.
    Reply {
        /// The caller's frame.
        to: Key,
        /// Whether the call succeeded.
        ok: bool,
    },
    /// The reply reaches the client.
    ClientDone {
        /// The request.
        req: Key,
        /// Whether it succeeded.
        ok: bool,
    },
    /// The client gives up on a request (stale if the request already finished).
    Timeout(Key),
    /// Fill the time series.
    Sample,
    /// The warm-up is over: statistics restart.
    WarmupEnd,
}

#[derive(Debug, Clone, Copy)]
struct Req {
    born: SimTime,
    session: u64,
    class: u16,
    counted: bool,
    timed_out: bool,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    req: Key,
    parent: Key,
    entered: SimTime,
    node: u32,
    /// Service: global instance index. Load balancer: target position.
    inst: u32,
    pc: u32,
    link: u32,
    class: u16,
    holds: bool,
}

#[derive(Debug, Clone)]
struct Instance {
    node: u32,
    busy: u32,
    queue: VecDeque<Key>,
}

/// Raw statistics of one node over the measured window.
#[derive(Debug, Clone)]
pub struct NodeStats {
    /// Requests present (queued, in service or waiting on calls): `L` in Little's law.
    pub present: TimeWeighted,
    /// Busy workers.
    pub busy: TimeWeighted,
    /// Requests waiting in queues.
    pub queued: TimeWeighted,
    /// Sojourn times of departures.
    pub sojourn: Histogram,
    /// Departures (ok or failed).
    pub departures: Counter,
    /// Requests this node rejected (queue full).
    pub rejected: Counter,
    /// Queue length, sampled every `sample_every`.
    pub queue_series: TimeSeries,
    /// Busy workers, sampled every `sample_every`.
    pub busy_series: TimeSeries,
    /// Departures per second over each sampling interval.
    pub throughput_series: TimeSeries,
    /// Departures since the start (never reset; for the throughput series).
    departed_total: u64,
    departed_at_last_sample: u64,
}

/// Raw statistics of one request class, seen from the client.
#[derive(Debug, Clone, Default)]
pub struct ClassStats {
    /// Requests born after the warm-up.
    pub requests: Counter,
    /// Of those, answered successfully in time.
    pub completed: Counter,
    /// Of those, failed (rejected somewhere, or timed out).
    pub errors: Counter,
    /// Of the errors, client timeouts.
    pub timeouts: Counter,
    /// Response times of the completed ones.
    pub latency: Histogram,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran to the end of its duration.
    Completed,
    /// Cut: more than `limits.max_in_flight` requests alive; `node` held the most.
    InFlightLimit {
        /// The node that overflowed.
        node: u32,
        /// When.
        at: SimTime,
    },
    /// Cut: `limits.max_events` events handled.
    EventLimit {
        /// When.
        at: SimTime,
    },
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// The seed of this run.
    pub seed: u64,
    /// Events handled.
    pub events: u64,
    /// Start of the measured window (end of warm-up).
    pub window_start: SimTime,
    /// End of the run (the duration, or when it was cut).
    pub end: SimTime,
    /// How it ended.
    pub outcome: Outcome,
    /// Per node, in scenario order.
    pub nodes: Vec<NodeStats>,
    /// Per class, in scenario order.
    pub classes: Vec<ClassStats>,
    /// Requests still alive at the end.
    pub in_flight_end: u64,
    /// Highest number of requests alive at once.
    pub in_flight_peak: u64,
}

/// The simulated world of one run.
pub struct World<'s> {
    sc: &'s Scenario,
    seed: u64,
    reqs: Slab<Req>,
    frames: Slab<Frame>,
    instances: Vec<Instance>,
    first_instance: Vec<u32>,
    rr: Vec<u32>,
    lbs: Vec<Option<BalancerState>>,
    arrival_rng: Vec<Stream>,
    mix_rng: Vec<Stream>,
    node_rng: Vec<Stream>,
    link_rng: Vec<Stream>,
    next_arrival_s: Vec<f64>,
    nodes: Vec<NodeStats>,
    classes: Vec<ClassStats>,
    stop: Option<Outcome>,
}

impl<'s> World<'s> {
    /// Build the world for one run with `seed` (the scenario's own seed is ignored here).
    pub fn new(sc: &'s Scenario, seed: u64) -> Self {
        let streams = RngStreams::new(seed);
        let mut instances = vec![];
        let mut first_instance = vec![NONE; sc.nodes.len()];
        let mut sizes = vec![0; sc.nodes.len()];
        for (i, n) in sc.nodes.iter().enumerate() {
            if let NodeKind::Service(s) = &n.kind {
                first_instance[i] = instances.len() as u32;
                sizes[i] = s.instances;
                for _ in 0..s.instances {
                    instances.push(Instance {
                        node: i as u32,
                        busy: 0,
                        queue: VecDeque::new(),
                    });
                }
            }
        }
        let lbs = sc
            .nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::LoadBalancer(lb) => Some(BalancerState::new(lb, &first_instance, &sizes)),
                NodeKind::Service(_) => None,
            })
            .collect();
        let horizon = sc.duration;
        let node_stats = |_: &crate::scenario::Node| NodeStats {
            present: TimeWeighted::default(),
            busy: TimeWeighted::default(),
            queued: TimeWeighted::default(),
            sojourn: Histogram::new(),
            departures: Counter::default(),
            rejected: Counter::default(),
            queue_series: TimeSeries::new(sc.sample_every, horizon),
            busy_series: TimeSeries::new(sc.sample_every, horizon),
            throughput_series: TimeSeries::new(sc.sample_every, horizon),
            departed_total: 0,
            departed_at_last_sample: 0,
        };
        World {
            sc,
            seed,
            reqs: Slab::with_capacity(1024),
            frames: Slab::with_capacity(4096),
            instances,
            first_instance,
            rr: vec![0; sc.nodes.len()],
            lbs,
            arrival_rng: sc
                .sources
                .iter()
                .map(|s| streams.get(&format!("source/{}/arrivals", s.name)))
                .collect(),
            mix_rng: sc
                .sources
                .iter()
                .map(|s| streams.get(&format!("source/{}/mix", s.name)))
                .collect(),
            node_rng: sc
                .nodes
                .iter()
                .map(|n| streams.get(&format!("node/{}", n.name)))
                .collect(),
            link_rng: sc
                .links
                .iter()
                .map(|l| streams.get(&format!("link/{}->{}", l.from, l.to)))
                .collect(),
            next_arrival_s: vec![0.0; sc.sources.len()],
            nodes: sc.nodes.iter().map(node_stats).collect(),
            classes: vec![ClassStats::default(); sc.classes.len()],
            stop: None,
        }
    }

    /// Run to the end (or to a limit) and return what was measured.
    pub fn run(mut self) -> RunStats {
        let sc = self.sc;
        let mut q = EventQueue::with_capacity(4096);
        for s in 0..sc.sources.len() {
            self.schedule_next_arrival(s, &mut q);
        }
        if sc.warmup > SimTime::ZERO {
            q.schedule(sc.warmup, Ev::WarmupEnd);
        }
        q.schedule(sc.sample_every, Ev::Sample);
        let max_events = sc.max_events.unwrap_or(u64::MAX);
        let (why, events) = run_until(&mut self, &mut q, sc.duration, max_events);
        let end = match why {
            StopReason::Horizon => sc.duration,
            _ => q.now(),
        };
        let outcome = match (why, self.stop) {
            (_, Some(o)) => o,
            (StopReason::EventLimit, _) => Outcome::EventLimit { at: end },
            _ => Outcome::Completed,
        };
        RunStats {
            seed: self.seed,
            events,
            window_start: sc.warmup.min(end),
            end,
            outcome,
            in_flight_end: self.reqs.len() as u64,
            // Slots are added only when none is free: the slab's size is the peak.
            in_flight_peak: self.reqs.capacity_used() as u64,
            nodes: self.nodes,
            classes: self.classes,
        }
    }

    fn schedule_next_arrival(&mut self, s: usize, q: &mut EventQueue<Ev>) {
        let src = &self.sc.sources[s];
        let mass = match src.arrivals {
            Arrivals::Poisson => self.arrival_rng[s].exp1(),
            Arrivals::Deterministic => 1.0,
        };
        if let Some(t) = src.profile.next_after(self.next_arrival_s[s], mass) {
            self.next_arrival_s[s] = t;
            let at = SimTime::from_secs_f64(t);
            if at <= self.sc.duration {
                q.schedule(at, Ev::Arrival(s as u32));
            }
        }
    }

    #[inline]
    fn send(&mut self, now: SimTime, link: u32, ev: Ev, q: &mut EventQueue<Ev>) {
        let delay = if link == NONE {
            SimTime::ZERO
        } else {
            self.sc.links[link as usize]
                .latency
                .sample(&mut self.link_rng[link as usize])
        };
        q.schedule(now + delay, ev);
    }

    fn arrival(&mut self, now: SimTime, s: usize, q: &mut EventQueue<Ev>) {
        let src = &self.sc.sources[s];
        let rng = &mut self.mix_rng[s];
        let u = rng.unit();
        let m = src
            .mix
            .iter()
            .find(|m| u < m.cum)
            .unwrap_or(&src.mix[src.mix.len() - 1]);
        // The key is drawn now (so the stream stays the same when caches and shards use it).
        let _key = m.keys.sample(rng);
        let session = rng.below(src.sessions);
        let counted = now >= self.sc.warmup;
        let class = m.class;
        let req = self.reqs.insert(Req {
            born: now,
            session,
            class,
            counted,
            timed_out: false,
        });
        if counted {
            self.classes[class as usize].requests.inc();
        }
        if self.reqs.len() as u64 > self.sc.max_in_flight {
            let node = (0..self.nodes.len())
                .max_by_key(|&i| (self.nodes[i].queued.value(), self.nodes[i].present.value()))
                .unwrap_or(0);
            self.stop = Some(Outcome::InFlightLimit {
                node: node as u32,
                at: now,
            });
            return;
        }
        if let Some(t) = src.timeout {
            q.schedule(now + t, Ev::Timeout(req));
        }
        let (target, link) = (src.target, src.link);
        let f = self.frames.insert(Frame {
            req,
            parent: Key::NONE,
            entered: now,
            node: target,
            inst: NONE,
            pc: 0,
            link,
            class,
            holds: false,
        });
        self.send(now, link, Ev::Enter(f), q);
        self.schedule_next_arrival(s, q);
    }

    fn enter(&mut self, now: SimTime, f: Key, q: &mut EventQueue<Ev>) {
        let sc = self.sc;
        let fr = *self.frames.get(f).expect("entering frame is live");
        let node = fr.node as usize;
        match &sc.nodes[node].kind {
            NodeKind::LoadBalancer(lb) => {
                let session = self.reqs.get(fr.req).map_or(0, |r| r.session);
                let st = self.lbs[node].as_mut().expect("balancer state");
                let pos = st.pick(&lb.algorithm, session, &mut self.node_rng[node]);
                st.outstanding[pos] += 1;
                let (inst, link) = (st.targets[pos], st.links[pos]);
                let fm = self.frames.get_mut(f).expect("live");
                fm.inst = pos as u32;
                fm.entered = now;
                self.nodes[node].present.add(now, 1);
                let child = self.frames.insert(Frame {
                    req: fr.req,
                    parent: f,
                    entered: now,
                    node: self.instances[inst as usize].node,
                    inst,
                    pc: 0,
                    link,
                    class: fr.class,
                    holds: false,
                });
                self.send(now, link, Ev::Enter(child), q);
            }
            NodeKind::Service(svc) => {
                let inst = if fr.inst == NONE {
                    let i = self.first_instance[node] + self.rr[node];
                    self.rr[node] = (self.rr[node] + 1) % svc.instances;
                    i
                } else {
                    fr.inst
                };
                let start = svc.handlers[fr.class as usize]
                    .as_ref()
                    .expect("validated: class handled")
                    .start;
                let instance = &mut self.instances[inst as usize];
                let stats = &mut self.nodes[node];
                if instance.busy < svc.cores {
                    instance.busy += 1;
                    stats.busy.add(now, 1);
                    stats.present.add(now, 1);
                    let fm = self.frames.get_mut(f).expect("live");
                    (fm.inst, fm.pc, fm.entered, fm.holds) = (inst, start, now, true);
                    self.execute(now, f, q);
                } else if svc
                    .queue
                    .is_some_and(|cap| instance.queue.len() >= cap as usize)
                {
                    stats.rejected.inc();
                    let fr = self.frames.remove(f).expect("live");
                    self.reply(now, fr, false, q);
                } else {
                    instance.queue.push_back(f);
                    stats.queued.add(now, 1);
                    stats.present.add(now, 1);
                    let fm = self.frames.get_mut(f).expect("live");
                    (fm.inst, fm.pc, fm.entered) = (inst, start, now);
                }
            }
        }
    }

    /// Execute the frame's program from its pc until it must wait (CPU, call) or ends.
    fn execute(&mut self, now: SimTime, f: Key, q: &mut EventQueue<Ev>) {
        let sc = self.sc;
        loop {
            let fr = self.frames.get_mut(f).expect("running frame is live");
            match sc.ops[fr.pc as usize] {
                Op::Cpu(d) => {
                    let dt = d.sample(&mut self.node_rng[fr.node as usize]);
                    q.schedule(now + dt, Ev::CpuDone(f));
                    return;
                }
                Op::Call { node, link } => {
                    let fr = *fr;
                    let child = self.frames.insert(Frame {
                        req: fr.req,
                        parent: f,
                        entered: now,
                        node,
                        inst: NONE,
                        pc: 0,
                        link,
                        class: fr.class,
                        holds: false,
                    });
                    if let NodeKind::Service(svc) = &sc.nodes[fr.node as usize].kind {
                        if svc.on_call == CallMode::Release {
                            self.frames.get_mut(f).expect("live").holds = false;
                            self.release_worker(now, fr.inst, q);
                        }
                    }
                    self.send(now, link, Ev::Enter(child), q);
                    return;
                }
                Op::Branch { p, else_pc } => {
                    let take = self.node_rng[fr.node as usize].chance(p);
                    fr.pc = if take { fr.pc + 1 } else { else_pc };
                }
                Op::Jump(t) => fr.pc = t,
                Op::End => {
                    self.depart(now, f, true, q);
                    return;
                }
            }
        }
    }

    /// The worker of instance `inst` is free: give it to the next queued frame, if any.
    fn release_worker(&mut self, now: SimTime, inst: u32, q: &mut EventQueue<Ev>) {
        let instance = &mut self.instances[inst as usize];
        let stats = &mut self.nodes[instance.node as usize];
        match instance.queue.pop_front() {
            Some(next) => {
                stats.queued.add(now, -1);
                self.frames
                    .get_mut(next)
                    .expect("queued frame is live")
                    .holds = true;
                q.schedule(now, Ev::Resume(next));
            }
            None => {
                instance.busy -= 1;
                stats.busy.add(now, -1);
            }
        }
    }

    /// The frame leaves its node (done or failed) and replies to its caller.
    fn depart(&mut self, now: SimTime, f: Key, ok: bool, q: &mut EventQueue<Ev>) {
        let fr = self.frames.remove(f).expect("departing frame is live");
        let node = fr.node as usize;
        let stats = &mut self.nodes[node];
        stats.present.add(now, -1);
        stats.sojourn.record(now - fr.entered);
        stats.departures.inc();
        stats.departed_total += 1;
        match &self.sc.nodes[node].kind {
            NodeKind::LoadBalancer(_) => {
                self.lbs[node].as_mut().expect("balancer").outstanding[fr.inst as usize] -= 1;
            }
            NodeKind::Service(_) => {
                if fr.holds {
                    self.release_worker(now, fr.inst, q);
                }
            }
        }
        self.reply(now, fr, ok, q);
    }

    fn reply(&mut self, now: SimTime, fr: Frame, ok: bool, q: &mut EventQueue<Ev>) {
        let ev = if fr.parent.is_none() {
            Ev::ClientDone { req: fr.req, ok }
        } else {
            Ev::Reply { to: fr.parent, ok }
        };
        self.send(now, fr.link, ev, q);
    }

    fn on_reply(&mut self, now: SimTime, to: Key, ok: bool, q: &mut EventQueue<Ev>) {
        let sc = self.sc;
        let fr = self
            .frames
            .get_mut(to)
            .expect("a caller outlives its calls");
        match &sc.nodes[fr.node as usize].kind {
            NodeKind::LoadBalancer(_) => self.depart(now, to, ok, q),
            NodeKind::Service(svc) => {
                if !ok {
                    return self.depart(now, to, false, q);
                }
                fr.pc += 1;
                if fr.holds {
                    return self.execute(now, to, q);
                }
                if matches!(sc.ops[fr.pc as usize], Op::End) {
                    // Nothing left to do: reply without taking a worker again.
                    return self.depart(now, to, true, q);
                }
                // Released its worker for the call: get one again (never rejected).
                let (inst, node) = (fr.inst, fr.node as usize);
                let instance = &mut self.instances[inst as usize];
                if instance.busy < svc.cores {
                    instance.busy += 1;
                    self.nodes[node].busy.add(now, 1);
                    fr.holds = true;
                    self.execute(now, to, q);
                } else {
                    instance.queue.push_back(to);
                    self.nodes[node].queued.add(now, 1);
                }
            }
        }
    }

    fn client_done(&mut self, now: SimTime, req: Key, ok: bool) {
        let r = self
            .reqs
            .remove(req)
            .expect("request is live until its reply");
        if r.counted && !r.timed_out {
            let c = &mut self.classes[r.class as usize];
            if ok {
                c.completed.inc();
                c.latency.record(now - r.born);
            } else {
                c.errors.inc();
            }
        }
    }

    fn timeout(&mut self, req: Key) {
        // A stale key (the request already finished) resolves to None: the timer was
        // cancelled by the request's completion, at no cost.
        if let Some(r) = self.reqs.get_mut(req) {
            if !r.timed_out {
                r.timed_out = true;
                if r.counted {
                    let c = &mut self.classes[r.class as usize];
                    c.errors.inc();
                    c.timeouts.inc();
                }
            }
        }
    }
}

impl Model for World<'_> {
    type Event = Ev;

    #[inline]
    fn handle(&mut self, now: SimTime, ev: Ev, q: &mut EventQueue<Ev>) {
        match ev {
            Ev::Arrival(s) => self.arrival(now, s as usize, q),
            Ev::Enter(f) => self.enter(now, f, q),
            Ev::CpuDone(f) => {
                self.frames.get_mut(f).expect("frame in service is live").pc += 1;
                self.execute(now, f, q);
            }
            Ev::Resume(f) => self.execute(now, f, q),
            Ev::Reply { to, ok } => self.on_reply(now, to, ok, q),
            Ev::ClientDone { req, ok } => self.client_done(now, req, ok),
            Ev::Timeout(req) => self.timeout(req),
            Ev::Sample => {
                let interval_s = self.sc.sample_every.as_secs_f64();
                for n in &mut self.nodes {
                    n.queue_series.push(n.queued.value() as f64);
                    n.busy_series.push(n.busy.value() as f64);
                    let served = n.departed_total - n.departed_at_last_sample;
                    n.departed_at_last_sample = n.departed_total;
                    n.throughput_series.push(served as f64 / interval_s);
                }
                let next = now + self.sc.sample_every;
                if next <= self.sc.duration {
                    q.schedule(next, Ev::Sample);
                }
            }
            Ev::WarmupEnd => {
                for n in &mut self.nodes {
                    n.present.reset(now);
                    n.busy.reset(now);
                    n.queued.reset(now);
                    n.sojourn.clear();
                    n.departures = Counter::default();
                    n.rejected = Counter::default();
                }
            }
        }
    }

    #[inline]
    fn should_stop(&self) -> bool {
        self.stop.is_some()
    }
}

/// Run `sc` once with `seed`.
pub fn simulate(sc: &Scenario, seed: u64) -> RunStats {
    World::new(sc, seed).run()
}

//! The world: every component's state plus the shared kernel, driven by sim-core.
//!
//! [`World::simulation`] builds a steppable [`Simulation`] for one seed: sources' first
//! arrivals, the warm-up end, the first sample and every scripted action are scheduled,
//! and nothing else happens until the caller steps it. [`World::finish`] turns it into
//! [`RunStats`]. The world owns its scenario (an `Arc`), so a run can live on another
//! thread (the terminal UI's).
//!
//! Dispatch is one `match` per event on [`Ev`], then one on the node's [`NodeState`]; the
//! hot path allocates nothing.

pub mod alerts;
pub mod autoscale;
pub mod deploy;
pub mod faults;
mod health;
pub mod observe;
mod series;
pub mod stats;
pub mod trace;

use crate::components::source::SourceState;
use crate::components::NodeState;
use crate::control::Verb;
use crate::ids::{NodeId, SourceId};
use crate::kernel::{Cx, Ev, Kernel, PackedEv, Queue};
use crate::report::{TimelineEntry, TimelineKind};
use crate::scenario::Scenario;
use sim_core::{EventQueue, Key, Model, RngStreams, SimTime, Simulation, Slab, StopReason};
use stats::{ClassStats, NodeStats, Outcome, RunStats};
use std::sync::Arc;

/// Most events at one simulated instant before the run is cut as stalled: time has
/// stopped advancing (a loop of zero-time work), and the run would never end.
pub const MAX_EVENTS_AT_ONE_INSTANT: u64 = 10_000_000;

/// Most entries on a run's timeline; later ones are counted, not kept.
pub const MAX_TIMELINE: usize = 10_000;

/// The simulated world of one run.
pub struct World {
    k: Kernel,
    states: Vec<NodeState>,
    /// Per node, its autoscaler (pools with `autoscale`).
    autoscale: Vec<Option<autoscale::AutoState>>,
    /// Per node, the deployment under way.
    rollouts: Vec<Option<deploy::Rollout>>,
    sources: Vec<SourceState>,
    seed: u64,
    timeline: Vec<TimelineEntry>,
    timeline_dropped: u64,
    stop: Option<Outcome>,
    /// The instant of the last event, and how many events ran at it.
    instant: (SimTime, u64),
    /// Events at one instant before the run counts as stalled.
    stall_limit: u64,
    /// Keep the time series (`Sample` events still run either way, so the event count of
    /// a run does not depend on it).
    series: bool,
    /// With series: each class's latency histogram at the last sample (then the window's,
    /// reused), and the end-to-end p50, p95, p99 of the requests completed in each
    /// interval.
    latency_marks: Vec<sim_core::Histogram>,
    latency_series: [Vec<f64>; 3],
    /// With series: requests completed and failed per second in each interval, and the
    /// client totals at the last sample.
    rate_series: [Vec<f64>; 2],
    rate_mark: (u64, u64),
    /// Faults' run-time state.
    faults: faults::Faults,
    /// Per alert rule, its state.
    alerts: Vec<alerts::AlertState>,
}

impl World {
    /// Build the world for one run with `seed` (the scenario's own seed is ignored here);
    /// with `series`, the per-node time series are kept.
    pub fn new(sc: Arc<Scenario>, seed: u64, series: bool) -> Self {
        let streams = RngStreams::new(seed);
        let states = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let rng = streams.get(&format!("node/{}", n.name));
                n.kind.build(NodeId::new(i), &sc, rng)
            })
            .collect();
        let nodes = sc
            .nodes
            .iter()
            .map(|n| {
                let instances = n.kind.as_service().map_or(0, |s| s.instances as u64);
                let mut st = NodeStats::new(
                    instances,
                    n.kind.workers(),
                    sc.sample_every,
                    sc.duration,
                    series,
                );
                if series && n.kind.kind() == crate::components::Kind::Cache {
                    st.hit_series = sim_core::TimeSeries::new(sc.sample_every, sc.duration);
                }
                if series && n.kind.as_service().is_some_and(|s| s.autoscale.is_some()) {
                    st.desired_series = sim_core::TimeSeries::new(sc.sample_every, sc.duration);
                    st.starting_series = sim_core::TimeSeries::new(sc.sample_every, sc.duration);
                    st.metric_series = sim_core::TimeSeries::new(sc.sample_every, sc.duration);
                }
                st
            })
            .collect();
        World {
            faults: faults::Faults::new(&sc.faults, sc.nodes.len(), &streams),
            rollouts: vec![None; sc.nodes.len()],
            latency_marks: vec![],
            latency_series: Default::default(),
            rate_series: Default::default(),
            rate_mark: (0, 0),
            alerts: vec![],
            autoscale: sc
                .nodes
                .iter()
                .map(|n| {
                    n.kind
                        .as_service()
                        .and_then(|s| s.autoscale.clone())
                        .map(autoscale::AutoState::new)
                })
                .collect(),
            sources: sc
                .sources
                .iter()
                .enumerate()
                .map(|(i, s)| SourceState::new(SourceId::new(i), s, &sc, &streams))
                .collect(),
            k: Kernel {
                reqs: Slab::with_capacity(1024),
                frames: Slab::with_capacity(4096),
                link_rng: sc
                    .links
                    .iter()
                    .map(|l| streams.get(&format!("link/{}->{}", l.from, l.to)))
                    .collect(),
                nodes,
                classes: vec![ClassStats::default(); sc.classes.len()],
                membership: Vec::with_capacity(16),
                versions: crate::kernel::Versions::new(sc.nodes.len()),
                link_extra: vec![None; sc.links.len()],
                zones_down: vec![false; sc.zones.len() + 1],
                partitions: vec![],
                crossing_rng: streams.get("crossing"),
                calls: vec![Default::default(); sc.calls.len()],
                notes: vec![],
                defended: false,
                tracer: None,
                instance_slots: sc
                    .nodes
                    .iter()
                    .map(|n| n.kind.as_service().map_or(0, |s| s.instances as u64))
                    .sum(),
                sc,
            },
            states,
            seed,
            timeline: vec![],
            timeline_dropped: 0,
            stop: None,
            instant: (SimTime::ZERO, 0),
            stall_limit: MAX_EVENTS_AT_ONE_INSTANT,
            series,
        }
    }

    /// The kernel, for tests that look inside a run.
    #[cfg(test)]
    pub(crate) fn kernel(&self) -> &Kernel {
        &self.k
    }

    /// A simulation of `sc` with `seed`, with its initial events scheduled, keeping time
    /// series.
    pub fn simulation(sc: Arc<Scenario>, seed: u64) -> Simulation<World> {
        Self::simulation_with(sc, seed, true)
    }

    /// A simulation of `sc` with `seed`; `series` says whether to keep time series.
    pub fn simulation_with(sc: Arc<Scenario>, seed: u64, series: bool) -> Simulation<World> {
        let mut w = World::new(sc.clone(), seed, series);
        let mut q = EventQueue::with_capacity(4096);
        for s in &mut w.sources {
            s.schedule_next(&mut q);
        }
        if sc.warmup > SimTime::ZERO {
            q.schedule(sc.warmup, Ev::WarmupEnd);
        }
        q.schedule(sc.sample_every, Ev::Sample);
        w.begin_alerts(&mut q);
        for (i, a) in w.autoscale.iter().enumerate() {
            if let Some(a) = a {
                a.begin(NodeId::new(i), sc.duration, &mut q);
            }
        }
        for a in &sc.actions {
            q.schedule(a.at, Ev::Control(a.verb));
        }
        for (id, f) in sc.faults.iter().enumerate() {
            let id = id as u32;
            if f.start == crate::control::faults::Fault::BY_HAND {
                continue; // armed for a hand (the terminal UI)
            }
            q.schedule(f.start, Ev::Control(Verb::Fault { id, on: true }));
            if let Some(end) = f.end {
                q.schedule(end, Ev::Control(Verb::Fault { id, on: false }));
            }
        }
        for s in &mut w.states {
            s.begin(&mut q);
        }
        let sim = Simulation::new(w, q);
        match sc.max_events {
            Some(n) => sim.with_event_limit(n),
            None => sim,
        }
    }

    /// Run `sim` to the end of its scenario's duration (or a limit).
    pub fn run_to_end(sim: &mut Simulation<World>) -> StopReason {
        let end = sim.model().k.sc.duration;
        sim.run_until(end)
    }

    /// Follow one in `every` requests born in the measured window as a trace (see
    /// [`trace`]); call before the run starts.
    pub fn trace_every(&mut self, every: u64) {
        self.k.tracer = Some(Box::new(trace::Tracer::new(every)));
    }

    /// The traces recorded so far (the tracer is left empty).
    pub fn take_trace(&mut self) -> trace::TraceLog {
        self.k.tracer.as_mut().map(|t| t.take()).unwrap_or_default()
    }

    /// What the run measured, from a simulation stepped as far as it went.
    pub fn finish(sim: Simulation<World>) -> RunStats {
        let now = sim.now();
        let stopped = sim.stopped();
        let (mut w, events) = sim.into_model();
        let sc = w.k.sc.clone();
        // Faults still holding at the end: their impact runs to the end.
        for id in 0..sc.faults.len() {
            if w.faults.active[id] {
                w.close_impact(id, now.min(sc.duration), false);
            }
        }
        w.finish_faults();
        let faults = sc
            .faults
            .iter()
            .zip(&w.faults.impact)
            .filter(|(f, _)| f.start <= now)
            .map(|(_, i)| i.clone())
            .collect();
        // A message still waiting at the end is as old as it is then.
        for (i, s) in w.states.iter_mut().enumerate() {
            if let Some(queue) = s.as_queue_mut() {
                let age = queue.oldest_age(&w.k.reqs, now.min(sc.duration));
                if let Some(m) = w.k.nodes[i].messages.as_mut() {
                    m.oldest_age = m.oldest_age.max(age);
                }
            }
        }
        let end = match stopped {
            None => now.min(sc.duration),
            Some(_) => now,
        };
        let outcome = match (stopped, w.stop) {
            (_, Some(o)) => o,
            (Some(StopReason::EventLimit), _) => Outcome::EventLimit { at: end },
            _ => Outcome::Completed,
        };
        let alerts = w.finish_alerts(end);
        let mut timeline = w.timeline;
        if w.timeline_dropped > 0 {
            timeline.push(TimelineEntry {
                t: end.as_secs_f64(),
                kind: TimelineKind::Limit,
                node: String::new(),
                text: format!(
                    "{} more timeline entries were not kept (at most {MAX_TIMELINE})",
                    w.timeline_dropped
                ),
            });
        }
        RunStats {
            seed: w.seed,
            events,
            window_start: sc.warmup.min(end),
            end,
            outcome,
            in_flight_end: w.k.reqs.len() as u64,
            // Slots are added only when none is free: the slab's size is the peak.
            in_flight_peak: w.k.reqs.capacity_used() as u64,
            nodes: w.k.nodes,
            classes: w.k.classes,
            timeline,
            faults,
            calls: w.k.calls,
            latency_series: w.latency_series,
            rate_series: w.rate_series,
            alerts,
        }
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.k.sc
    }

    /// Note something on the timeline.
    fn note(&mut self, now: SimTime, kind: TimelineKind, node: NodeId, text: String) {
        let name = self.k.sc.nodes[node.index()].name.clone();
        self.note_named(now, kind, name, text);
    }

    /// Note something about a zone on the timeline (no node).
    fn note_zone(&mut self, now: SimTime, text: String) {
        self.note_named(now, TimelineKind::Fault, String::new(), text);
    }

    pub(super) fn note_named(
        &mut self,
        now: SimTime,
        kind: TimelineKind,
        node: String,
        text: String,
    ) {
        if self.timeline.len() >= MAX_TIMELINE {
            self.timeline_dropped += 1;
            return;
        }
        self.timeline.push(TimelineEntry {
            t: now.as_secs_f64(),
            kind,
            node,
            text,
        });
    }

    /// Tell the balancers in front of each pool which of its instances came and went.
    fn apply_membership(&mut self) {
        for m in std::mem::take(&mut self.k.membership) {
            for s in &mut self.states {
                if let Some(b) = s.as_balancer_mut() {
                    b.set_member(m);
                }
            }
        }
    }

    /// Apply a verb (scripted, or injected by a fault, an autoscaler or the UI).
    fn control(&mut self, now: SimTime, verb: Verb, q: &mut Queue) {
        match verb {
            Verb::Fault { id, on } => self.fault(now, id as usize, on, q),
            Verb::MonkeyKill { id, epoch } => self.monkey_kill(now, id as usize, epoch, q),
            Verb::MonkeyRestart { id } => self.monkey_restart(now, id as usize, q),
            Verb::HealthVerdict { node } => self.health_verdict(now, node, q),
            Verb::Deploy { id } => self.deploy_start(now, id as usize, q),
            _ => self.apply(now, verb, q, TimelineKind::Action),
        }
    }

    /// Apply a verb on a node, noting it on the timeline as `kind`.
    fn apply(&mut self, now: SimTime, verb: Verb, q: &mut Queue, kind: TimelineKind) {
        let Some(node) = verb.node() else {
            return;
        };
        if let Some(c) = self.states[node.index()].as_cache_mut() {
            let mut cx = Cx {
                k: &mut self.k,
                q,
                now,
            };
            let lost_writes = |cx: &Cx| {
                cx.k.nodes[node.index()]
                    .cache
                    .as_ref()
                    .map_or(0, |s| s.lost_writes.get())
            };
            let lost_before = lost_writes(&cx);
            let keys = c.len();
            let mut text = match verb {
                Verb::KillInstances { .. } => {
                    let failed = c.kill(&mut cx);
                    format!(
                        "killed: {} on it failed, {} gone",
                        plural(failed, "request"),
                        plural(keys as u64, "key")
                    )
                }
                Verb::FlushCache { .. } => {
                    c.flush(&mut cx);
                    format!("flush: {} gone", plural(keys as u64, "key"))
                }
                _ => return,
            };
            let lost = lost_writes(&cx) - lost_before;
            if lost > 0 {
                text += &format!(", {} not yet written lost", plural(lost, "write"));
            }
            return self.note(now, kind, node, text);
        }
        if let Some(db) = self.states[node.index()].as_database_mut() {
            let mut cx = Cx {
                k: &mut self.k,
                q,
                now,
            };
            let text = match verb {
                Verb::FailPrimary { .. } => {
                    let failed = db.fail_primary(&mut cx);
                    let failover = db.config().failover;
                    cx.q.schedule(now + failover, Ev::Control(Verb::Promote { node }));
                    format!(
                        "primary failed; {} on it failed; failover in {failover}",
                        plural(failed, "request")
                    )
                }
                Verb::Promote { .. } => {
                    let lost = db.promote(&mut cx);
                    format!(
                        "failover done; {} acknowledged but not replicated lost",
                        plural(lost, "write")
                    )
                }
                _ => return,
            };
            // A promotion is the end of a failure, whatever started it.
            let kind = match verb {
                Verb::Promote { .. } => TimelineKind::Fault,
                _ => kind,
            };
            return self.note(now, kind, node, text);
        }
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        let Some(pool) = self.states[node.index()].as_pool_mut() else {
            return;
        };
        let before = (pool.size(), pool.ready());
        let text = match verb {
            Verb::SetInstances { instances, .. } => {
                pool.set_instances(&mut cx, instances);
                format!("set instances {} → {}", before.0, pool.size())
            }
            Verb::StartInstances { count, .. } => {
                let n = pool.start(&mut cx, count);
                format!("start {} ({} → {})", instances(n), before.0, pool.size())
            }
            Verb::StopInstances { count, drain, .. } => {
                let chosen = pool.newest(count, true);
                for &i in &chosen {
                    pool.stop(&mut cx, i, drain);
                }
                format!(
                    "stop {}{} ({} → {})",
                    instances(chosen.len() as u32),
                    if drain { ", draining" } else { "" },
                    before.0,
                    pool.size()
                )
            }
            Verb::KillInstances { count, .. } => {
                let chosen = pool.newest(count, false);
                let killed_before = cx.k.nodes[node.index()].killed.get();
                for &i in &chosen {
                    pool.kill(&mut cx, i);
                }
                let lost = cx.k.nodes[node.index()].killed.get() - killed_before;
                format!(
                    "kill {} ({} → {} serving); {} on {} failed",
                    instances(chosen.len() as u32),
                    before.1,
                    pool.ready(),
                    plural(lost, "request"),
                    if chosen.len() == 1 { "it" } else { "them" }
                )
            }
            Verb::FlushCache { .. }
            | Verb::FailPrimary { .. }
            | Verb::Promote { .. }
            | Verb::Fault { .. }
            | Verb::MonkeyKill { .. }
            | Verb::MonkeyRestart { .. }
            | Verb::Deploy { .. }
            | Verb::HealthVerdict { .. } => unreachable!("handled above"),
            Verb::Degrade { factor, .. } => {
                for i in 0..pool.instances.len() {
                    pool.degrade(crate::ids::InstanceId::new(i), factor as f64);
                }
                format!("CPU speed × {factor}")
            }
        };
        self.note(now, kind, node, text);
        self.apply_membership();
        self.kick_queues(now, node, q);
        self.after_pool_change(now, node, q);
    }

    /// Pool `node` may have more workers now: queues it consumes for hand messages over.
    fn kick_queues(&mut self, now: SimTime, node: NodeId, q: &mut Queue) {
        for s in &mut self.states {
            if let Some(queue) = s.as_queue_mut() {
                if queue.consumer() == node {
                    let mut cx = Cx {
                        k: &mut self.k,
                        q,
                        now,
                    };
                    queue.dispatch(&mut cx);
                }
            }
        }
    }

    fn client_done(&mut self, now: SimTime, req: Key, ok: bool, q: &mut Queue) {
        // Copied out, then freed: `remove` would hand the request back through two
        // temporaries (see benches/README.md, issue 13, fifth part).
        let r = *self
            .k
            .reqs
            .get(req)
            .expect("request is live until its reply");
        self.k.reqs.remove(req);
        let trace = self.k.tracer.as_deref_mut().and_then(|t| t.answer(req));
        if let Some(sender) = r.message {
            let mut cx = Cx {
                k: &mut self.k,
                q,
                now,
            };
            return self.states[sender.index()].on_message_done(&mut cx, &r, ok);
        }
        if r.deadline.is_some() && !r.timed_out {
            self.sources[r.source.index()].answered();
        }
        if !ok && !r.timed_out {
            if let Some(next) = self.sources[r.source.index()].retry(now, &r, &mut self.k.reqs, q) {
                if r.counted {
                    self.k.classes[r.class.index()].client_retries.inc();
                }
                if let Some(tr) = self.k.tracer.as_deref_mut() {
                    tr.carry_to(next);
                }
                return;
            }
        }
        if let (Some(t), Some(tr)) = (trace, self.k.tracer.as_deref_mut()) {
            // A request that timed out has its root span already.
            if !r.timed_out {
                let how = if ok {
                    trace::SpanEnd::Ok
                } else {
                    trace::SpanEnd::Failed
                };
                tr.client(t, &r, now, how);
            }
        }
        if r.counted && !r.timed_out {
            let c = &mut self.k.classes[r.class.index()];
            if ok {
                c.completed.inc();
                c.latency.record(now - r.born);
            } else {
                c.errors.inc();
            }
        }
    }

    /// The in-flight limit was crossed: note which node holds the most.
    fn cut_in_flight(&mut self, now: SimTime) {
        let nodes = &self.k.nodes;
        let node = (0..nodes.len())
            .max_by_key(|&i| (nodes[i].queued.value(), nodes[i].present.value()))
            .unwrap_or(0);
        self.stop = Some(Outcome::InFlightLimit {
            node: NodeId::new(node),
            at: now,
        });
    }
}

impl Model for World {
    type Event = PackedEv;

    #[inline]
    fn handle(&mut self, now: SimTime, ev: PackedEv, q: &mut Queue) {
        if now == self.instant.0 {
            self.instant.1 += 1;
            if self.instant.1 > self.stall_limit {
                self.stop = Some(Outcome::Stalled { at: now });
            }
        } else {
            self.instant = (now, 0);
        }
        match ev.unpack() {
            Ev::Arrival(s) => {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                if !self.sources[s.index()].arrive(&mut cx) {
                    self.cut_in_flight(now);
                }
            }
            Ev::Enter(f, node) => {
                if self.faults.hot[node.index()] && self.fault_at_arrival(now, f, node, q) {
                    return;
                }
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.states[node.index()].on_enter(&mut cx, f);
            }
            Ev::Delayed(f, node) => {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.states[node.index()].on_enter(&mut cx, f);
            }
            Ev::Wake(f, node, why) => {
                // The component checks the key: stale if the frame's instance was killed.
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.states[node.index()].on_wake(&mut cx, f, why);
            }
            Ev::Reply { to, ok, from } => {
                // Stale when the caller's instance was killed while the call was out.
                let Some(fr) = self.k.frames.get(to) else {
                    return;
                };
                let node = fr.node.index();
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.states[node].on_reply(&mut cx, to, ok, from);
            }
            Ev::ClientDone { req, ok } => self.client_done(now, req, ok, q),
            Ev::Resend(req) => {
                let Some(source) = self.k.reqs.get(req).map(|r| r.source) else {
                    return;
                };
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.sources[source.index()].resend(&mut cx, req);
                if self.k.reqs.len() as u64 > self.k.sc.max_in_flight {
                    self.cut_in_flight(now);
                }
            }
            Ev::SourceTimer(s) => {
                let k = &mut self.k;
                self.sources[s.index()].on_timer(
                    now,
                    &mut k.reqs,
                    &mut k.classes,
                    k.tracer.as_deref_mut(),
                    q,
                )
            }
            Ev::InstanceReady(node, inst, epoch) => {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                if let Some(p) = self.states[node.index()].as_pool_mut() {
                    p.on_ready(&mut cx, inst, epoch);
                }
                self.apply_membership();
                self.kick_queues(now, node, q);
                self.after_pool_change(now, node, q);
            }
            Ev::DrainTimeout(node, inst, epoch) => {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                if let Some(p) = self.states[node.index()].as_pool_mut() {
                    p.on_drain_timeout(&mut cx, inst, epoch);
                }
                self.apply_membership();
            }
            Ev::Control(verb) => self.control(now, verb, q),
            Ev::Tick(node) if self.states[node.index()].as_balancer_mut().is_some() => {
                self.health_probe(now, node, q)
            }
            Ev::Tick(node) if self.autoscale[node.index()].is_some() => {
                self.autoscale_tick(now, node, q)
            }
            Ev::Tick(node) => {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                self.states[node.index()].on_tick(&mut cx);
            }
            Ev::Sample => self.sample(now, q),
            Ev::Alert(i) => self.evaluate_alert(i as usize, now, q),
            Ev::WarmupEnd => {
                for n in &mut self.k.nodes {
                    n.reset_window(now);
                }
                for c in &mut self.k.calls {
                    *c = Default::default();
                }
            }
        }
        debug_assert!(self.k.membership.is_empty(), "membership applied");
        if !self.k.notes.is_empty() {
            for (node, kind, text) in std::mem::take(&mut self.k.notes) {
                self.note(now, kind, node, text);
            }
            if std::mem::take(&mut self.k.defended) {
                self.fault_detected(now);
            }
        }
    }

    #[inline]
    fn should_stop(&self) -> bool {
        self.stop.is_some()
    }
}

/// "1 instance", "3 instances".
fn instances(n: u32) -> String {
    plural(n as u64, "instance")
}

/// "1 request", "0 requests".
pub fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Run `sc` once with `seed`, to the end, keeping time series.
pub fn simulate(sc: &Arc<Scenario>, seed: u64) -> RunStats {
    simulate_with(sc, seed, true)
}

/// Run `sc` once with `seed`, to the end; `series` says whether to keep time series.
pub fn simulate_with(sc: &Arc<Scenario>, seed: u64, series: bool) -> RunStats {
    let mut sim = World::simulation_with(sc.clone(), seed, series);
    World::run_to_end(&mut sim);
    World::finish(sim)
}

/// Run `sc` once with `seed` to the end, tracing one in `every` requests (see [`trace`]).
pub fn simulate_traced(
    sc: &Arc<Scenario>,
    seed: u64,
    series: bool,
    every: u64,
) -> (RunStats, trace::TraceLog) {
    let mut sim = World::simulation_with(sc.clone(), seed, series);
    sim.model_mut().trace_every(every);
    World::run_to_end(&mut sim);
    let log = sim.model_mut().take_trace();
    (World::finish(sim), log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;
    use observe::Snapshot;

    const BASE: &str = r#"Scenario(name: "step", duration: "3m", seed: 3,
        sources: [Source(name: "in", target: "lb", rate: Constant(400))],
        nodes: [LoadBalancer(name: "lb", algorithm: LeastConnections, backends: ["web"]),
                Service(name: "web", instances: 2, cores: 2, startup: "10s",
                        handlers: {"*": [Cpu(Exp("8ms"))]})]ACTIONS)"#;

    fn scenario(actions: &str) -> Arc<Scenario> {
        Arc::new(crate::load_str("step.ron", &BASE.replace("ACTIONS", actions)).unwrap())
    }

    #[test]
    fn an_injected_change_runs_exactly_like_the_same_change_scripted() {
        // 61.2345 s falls on no other event, so both orders are the same total order.
        let scripted =
            scenario(r#", actions: [At("61.2345s", SetInstances(node: "web", instances: 5))]"#);
        let plain = scenario("");
        let a = Report::from_run(&scripted, &simulate(&scripted, 9));

        let mut sim = World::simulation(plain.clone(), 9);
        let at = SimTime::from_nanos(61_234_500_000);
        sim.run_until(at);
        assert_eq!(sim.now(), at);
        let mut snap = Snapshot::default();
        sim.model().snapshot_into(sim.now(), &mut snap);
        assert_eq!((snap.nodes[1].size, snap.nodes[1].serving), (2, 2));
        let web = plain.node_id("web").unwrap();
        sim.inject(Ev::Control(Verb::SetInstances {
            node: web,
            instances: 5,
        }));
        sim.step();
        sim.model().snapshot_into(sim.now(), &mut snap);
        assert_eq!(
            (snap.nodes[1].size, snap.nodes[1].serving),
            (5, 2),
            "booting"
        );
        sim.run_until(at + SimTime::from_secs(10));
        sim.model().snapshot_into(sim.now(), &mut snap);
        assert_eq!(snap.nodes[1].serving, 5, "ready after the start-up time");
        // The rest of the run, in uneven slices, as a terminal UI would drive it.
        let mut t = sim.now();
        while t < plain.duration {
            t = (t + SimTime::from_nanos(777_000_000)).min(plain.duration);
            sim.run_until(t);
        }
        let b = Report::from_run(&plain, &World::finish(sim));
        assert_eq!(a, b);
        assert_eq!(b.timeline.len(), 1);
        assert_eq!(b.nodes[1].instances.max, 5.0);
    }

    #[test]
    fn a_run_whose_time_stops_advancing_is_cut_as_stalled() {
        let sc = scenario("");
        let mut sim = World::simulation(sc.clone(), 1);
        sim.model_mut().stall_limit = 1000;
        sim.run_until(SimTime::from_secs(5));
        let web = sc.node_id("web").unwrap();
        for _ in 0..2000 {
            sim.inject(Ev::Control(Verb::Degrade {
                node: web,
                factor: 1.0,
            }));
        }
        World::run_to_end(&mut sim);
        let stats = World::finish(sim);
        assert_eq!(
            stats.outcome,
            Outcome::Stalled {
                at: SimTime::from_secs(5)
            }
        );
        let r = Report::from_run(&sc, &stats);
        assert_eq!(r.outcome, crate::report::RunOutcome::Stalled);
        assert!(r.warnings[0].contains("simulated time stopped advancing"));
    }
}

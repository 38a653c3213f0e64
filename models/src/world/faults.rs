//! Faults at run time: what each fault changes while it holds, and what it cost.
//!
//! A fault breaks and heals through [`Verb::Fault`] events; faults that act on requests
//! (error injection, node latency) mark their node "hot", so the event loop pays one
//! `bool` test per arrival when no fault is active. Each fault draws from its own stream,
//! `fault/<index>`.
//!
//! [`Verb::Fault`]: crate::control::Verb::Fault

use super::{plural, World};
use crate::control::faults::{FaultKind, Place};
use crate::control::Verb;
use crate::ids::NodeId;
use crate::kernel::{Cx, Ev, Queue};
use crate::report::TimelineKind;
use crate::scenario::dist::Dist;
use sim_core::{Key, RngStreams, SimTime, Stream};

/// What one fault did, for the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultImpact {
    /// The fault in words.
    pub name: String,
    /// When it broke.
    pub start: SimTime,
    /// When it healed, or the end of the run.
    pub end: SimTime,
    /// Whether it healed within the run.
    pub healed: bool,
    /// Client requests answered successfully while it held (measured ones).
    pub completed: u64,
    /// Client requests failed or timed out while it held (measured ones).
    pub failed: u64,
    /// Requests killed on instances it killed (at once).
    pub killed: u64,
    /// Acknowledged writes lost while it held (caches' unsent writes, a failover's).
    pub writes_lost: u64,
    /// The highest client error rate over a sample interval from its start to its
    /// recovery.
    pub peak_error_rate: f64,
    /// The error rate that counts as recovered: the scenario's `ErrorRate` SLO (all
    /// classes), else the rate before the fault + 0.001.
    pub threshold: f64,
    /// From its start to the first defence that reacted (a health-check ejection, a
    /// breaker opening).
    pub detected: Option<SimTime>,
    /// From its start to the end of the first sample interval, after the error rate rose
    /// above the threshold, back at or under it (zero if it never rose).
    pub recovered: Option<SimTime>,
    /// Watching the error rate (from the start to the recovery).
    watching: bool,
    /// The error rate has been above the threshold.
    hurt: bool,
}

/// The faults' run-time state.
#[derive(Debug, Default)]
pub struct Faults {
    /// Per node: some fault acts on requests arriving there.
    pub hot: Vec<bool>,
    /// Per node: share of arrivals failed, and the fault drawing it.
    error: Vec<Option<(f64, u32)>>,
    /// Per node: extra delay before arrivals, and the fault drawing it.
    delay: Vec<Option<(Dist, u32)>>,
    /// Per fault: its stream.
    rng: Vec<Stream>,
    /// Per fault: holding now.
    pub active: Vec<bool>,
    /// Per fault (monkeys): bumped at each reschedule; older kills are stale.
    epoch: Vec<u32>,
    /// Per fault (zone outages): instances killed per pool, restarted at the heal.
    zone_killed: Vec<Vec<(NodeId, u32)>>,
    /// Per fault: client totals (completed, failed) when it broke.
    at_start: Vec<(u64, u64)>,
    /// Per fault: writes lost so far when it broke.
    lost_at_start: Vec<u64>,
    /// Client totals (completed, failed) at the last sample.
    last_sample: (u64, u64),
    /// Per fault: its impact so far.
    pub impact: Vec<FaultImpact>,
}

impl Faults {
    /// The state for `faults` faults over `nodes` nodes, streams from `streams`.
    pub fn new(
        faults: &[crate::control::faults::Fault],
        nodes: usize,
        streams: &RngStreams,
    ) -> Self {
        let n = faults.len();
        Faults {
            hot: vec![false; nodes],
            error: vec![None; nodes],
            delay: vec![None; nodes],
            rng: (0..n).map(|i| streams.get(&format!("fault/{i}"))).collect(),
            active: vec![false; n],
            epoch: vec![0; n],
            zone_killed: vec![vec![]; n],
            at_start: vec![(0, 0); n],
            lost_at_start: vec![0; n],
            last_sample: (0, 0),
            impact: faults
                .iter()
                .map(|f| FaultImpact {
                    name: f.name.clone(),
                    start: f.start,
                    end: f.start,
                    ..Default::default()
                })
                .collect(),
        }
    }

    fn set_hot(&mut self, node: NodeId) {
        let i = node.index();
        self.hot[i] = self.error[i].is_some() || self.delay[i].is_some();
    }
}

impl World {
    /// Client totals so far: (completed, failed).
    pub(super) fn client_totals(&self) -> (u64, u64) {
        self.k.classes.iter().fold((0, 0), |(c, e), s| {
            (c + s.completed.get(), e + s.errors.get())
        })
    }

    /// A request arrives at a node some fault acts on. Returns whether the fault took it
    /// (failed at once, or delayed: it arrives again as `Ev::Delayed`).
    #[cold]
    pub(super) fn fault_at_arrival(
        &mut self,
        now: SimTime,
        f: Key,
        node: NodeId,
        q: &mut Queue,
    ) -> bool {
        let i = node.index();
        if let Some((fraction, id)) = self.faults.error[i] {
            if self.faults.rng[id as usize].chance(fraction) {
                let mut cx = Cx {
                    k: &mut self.k,
                    q,
                    now,
                };
                cx.reject(f);
                return true;
            }
        }
        if let Some((extra, id)) = self.faults.delay[i] {
            let dt = extra.sample(&mut self.faults.rng[id as usize]);
            q.schedule(now + dt, Ev::Delayed(f, node));
            return true;
        }
        false
    }

    /// Fault `id` breaks (`on`) or heals.
    pub(super) fn fault(&mut self, now: SimTime, id: usize, on: bool, q: &mut Queue) {
        let fault = self.k.sc.faults[id].clone();
        if on {
            self.faults.active[id] = true;
            let (c0, e0) = self.client_totals();
            self.faults.at_start[id] = (c0, e0);
            self.faults.lost_at_start[id] = self.writes_lost();
            let before = if c0 + e0 > 0 {
                e0 as f64 / (c0 + e0) as f64
            } else {
                0.0
            };
            let slo = self.k.sc.slos.iter().find_map(|s| {
                (s.metric == crate::analysis::slo::Metric::ErrorRate && s.class.is_none())
                    .then_some(s.limit)
            });
            let imp = &mut self.faults.impact[id];
            imp.start = now;
            imp.threshold = slo.unwrap_or(before + 0.001);
            imp.watching = true;
        } else {
            self.faults.active[id] = false;
            self.close_impact(id, now, true);
        }
        match fault.kind {
            FaultKind::Kill { node, count } => {
                if on {
                    let killed_before = self.k.nodes[node.index()].killed.get();
                    self.apply(
                        now,
                        Verb::KillInstances { node, count },
                        q,
                        TimelineKind::Fault,
                    );
                    self.faults.impact[id].killed +=
                        self.k.nodes[node.index()].killed.get() - killed_before;
                } else if self.states[node.index()].as_pool().is_some() {
                    self.apply(
                        now,
                        Verb::StartInstances { node, count },
                        q,
                        TimelineKind::Fault,
                    );
                }
            }
            FaultKind::Degrade { node, factor } => {
                let factor = if on { factor } else { 1.0 } as f32;
                self.apply(now, Verb::Degrade { node, factor }, q, TimelineKind::Fault);
            }
            FaultKind::CacheFlush { node } => {
                if on {
                    self.apply(now, Verb::FlushCache { node }, q, TimelineKind::Fault);
                }
            }
            FaultKind::DatabaseFailover { node } => {
                if on {
                    self.apply(now, Verb::FailPrimary { node }, q, TimelineKind::Fault);
                }
            }
            FaultKind::ErrorInjection { node, fraction } => {
                self.faults.error[node.index()] = on.then_some((fraction, id as u32));
                self.faults.set_hot(node);
                let text = if on {
                    format!("{}: {:.1}% of arrivals fail", fault.name, fraction * 100.0)
                } else {
                    format!("{} healed", fault.name)
                };
                self.note(now, TimelineKind::Fault, node, text);
            }
            FaultKind::NodeLatency { node, extra } => {
                self.faults.delay[node.index()] = on.then_some((extra, id as u32));
                self.faults.set_hot(node);
                let text = if on {
                    format!(
                        "{}: arrivals wait {} more on average",
                        fault.name,
                        crate::report::human_secs(extra.mean_s())
                    )
                } else {
                    format!("{} healed", fault.name)
                };
                self.note(now, TimelineKind::Fault, node, text);
            }
            FaultKind::LinkLatency { link, extra } => {
                self.k.link_extra[link.index()] = on.then_some(extra);
                let l = &self.k.sc.links[link.index()];
                let edge = format!("{}->{}", l.from, l.to);
                let text = if on {
                    format!(
                        "{}: {} more each way on average",
                        fault.name,
                        crate::report::human_secs(extra.mean_s())
                    )
                } else {
                    format!("{} healed", fault.name)
                };
                self.note_named(now, TimelineKind::Fault, edge, text);
            }
            FaultKind::ZoneOutage { zone } => self.zone_outage(now, id, Place::Zone(zone), on, q),
            FaultKind::RegionOutage { region } => {
                self.zone_outage(now, id, Place::Region(region), on, q)
            }
            FaultKind::Partition { a, b } => {
                let sc = &self.k.sc;
                for za in a.zones(sc) {
                    for zb in b.zones(sc) {
                        let pair = (za.min(zb), za.max(zb));
                        if on {
                            self.k.partitions.push(pair);
                        } else if let Some(i) = self.k.partitions.iter().position(|&p| p == pair) {
                            self.k.partitions.swap_remove(i);
                        }
                    }
                }
                let (na, nb) = (a.name(sc), b.name(sc));
                let text = if on {
                    format!("{na} and {nb} cannot reach each other")
                } else {
                    format!("{na} and {nb} reach each other again")
                };
                self.note_zone(now, text);
            }
            FaultKind::ChaosMonkey { node, .. } => {
                let text = if on {
                    format!("{} starts", fault.name)
                } else {
                    format!("{} stops", fault.name)
                };
                self.note(now, TimelineKind::Fault, node, text);
                if on {
                    self.reschedule_monkey(now, id, q);
                }
            }
        }
    }

    /// Fault `id`: every zone of `place` goes down (`on`) or comes back.
    fn zone_outage(&mut self, now: SimTime, id: usize, place: Place, on: bool, q: &mut Queue) {
        let name = place.name(&self.k.sc);
        let zones = place.zones(&self.k.sc);
        for &zone in &zones {
            self.k.zones_down[zone as usize] = on;
        }
        let mut total = 0;
        let killed_before: u64 = self.k.nodes.iter().map(|n| n.killed.get()).sum();
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        if on {
            let mut killed = vec![];
            for (i, s) in self.states.iter_mut().enumerate() {
                if let Some(pool) = s.as_pool_mut() {
                    let n = zones.iter().map(|&z| pool.kill_zone(&mut cx, z)).sum();
                    if n > 0 {
                        killed.push((NodeId::new(i), n));
                        total += n;
                    }
                }
            }
            self.faults.zone_killed[id] = killed;
        } else {
            for &(node, n) in &std::mem::take(&mut self.faults.zone_killed[id]) {
                if let Some(pool) = self.states[node.index()].as_pool_mut() {
                    total += pool.start(&mut cx, n);
                }
            }
        }
        let failed: u64 = self.k.nodes.iter().map(|n| n.killed.get()).sum::<u64>() - killed_before;
        self.faults.impact[id].killed += failed;
        let text = if on {
            format!(
                "{name} down: {} killed, {} on them failed",
                plural(total as u64, "instance"),
                plural(failed, "request")
            )
        } else {
            format!("{name} back: {} started", plural(total as u64, "instance"))
        };
        self.note_zone(now, text);
        self.apply_membership();
        for i in 0..self.states.len() {
            self.after_pool_change(now, NodeId::new(i), q);
        }
    }

    /// Schedule monkey `id`'s next kill: the pool's serving instances each fail at rate
    /// 1/mtbf, so the next of them in Exp(mtbf / serving) (memoryless: redrawn whenever
    /// the count changes).
    pub(super) fn reschedule_monkey(&mut self, now: SimTime, id: usize, q: &mut Queue) {
        let FaultKind::ChaosMonkey { node, mtbf, .. } = self.k.sc.faults[id].kind else {
            return;
        };
        if !self.faults.active[id] {
            return;
        }
        self.faults.epoch[id] = self.faults.epoch[id].wrapping_add(1);
        let serving = self.states[node.index()].as_pool().map_or(0, |p| p.ready());
        if serving == 0 {
            return;
        }
        let dt = self.faults.rng[id].exp1() * mtbf.as_secs_f64() / serving as f64;
        let epoch = self.faults.epoch[id];
        q.schedule(
            now + SimTime::from_secs_f64(dt),
            Ev::Control(Verb::MonkeyKill {
                id: id as u32,
                epoch,
            }),
        );
    }

    /// Monkeys on `node` redraw their next kill (its serving count changed).
    /// (And a deployment under way on it takes its next step.)
    pub(super) fn after_pool_change(&mut self, now: SimTime, node: NodeId, q: &mut Queue) {
        if self.rollouts[node.index()].is_some() {
            self.deploy_step(now, node, q);
        }
        for id in 0..self.k.sc.faults.len() {
            if matches!(self.k.sc.faults[id].kind, FaultKind::ChaosMonkey { node: n, .. } if n == node)
            {
                self.reschedule_monkey(now, id, q);
            }
        }
    }

    /// Monkey `id` kills a serving instance at random.
    pub(super) fn monkey_kill(&mut self, now: SimTime, id: usize, epoch: u32, q: &mut Queue) {
        if !self.faults.active[id] || self.faults.epoch[id] != epoch {
            return;
        }
        let FaultKind::ChaosMonkey { node, mttr, .. } = self.k.sc.faults[id].kind else {
            return;
        };
        let Some(pool) = self.states[node.index()].as_pool_mut() else {
            return;
        };
        let serving = pool.ready();
        if serving > 0 {
            let k = self.faults.rng[id].below(serving as u64) as u32;
            let victim = pool.serving_instance(k);
            let killed_before = self.k.nodes[node.index()].killed.get();
            let mut cx = Cx {
                k: &mut self.k,
                q,
                now,
            };
            pool.kill(&mut cx, victim);
            let failed = self.k.nodes[node.index()].killed.get() - killed_before;
            self.faults.impact[id].killed += failed;
            q.schedule(
                now + mttr,
                Ev::Control(Verb::MonkeyRestart { id: id as u32 }),
            );
            let text = format!(
                "chaos monkey killed instance {}; {} on it failed",
                victim.index(),
                plural(failed, "request")
            );
            self.note(now, TimelineKind::Fault, node, text);
            self.apply_membership();
        }
        self.after_pool_change(now, node, q);
    }

    /// Monkey `id`'s victim starts again.
    pub(super) fn monkey_restart(&mut self, now: SimTime, id: usize, q: &mut Queue) {
        let FaultKind::ChaosMonkey { node, .. } = self.k.sc.faults[id].kind else {
            return;
        };
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        if let Some(pool) = self.states[node.index()].as_pool_mut() {
            pool.start(&mut cx, 1);
        }
        self.apply_membership();
        self.after_pool_change(now, node, q);
    }

    /// Fault `id`'s impact ends at `now`.
    pub(super) fn close_impact(&mut self, id: usize, now: SimTime, healed: bool) {
        let (c0, e0) = self.faults.at_start[id];
        let (c, e) = self.client_totals();
        let lost = self.writes_lost() - self.faults.lost_at_start[id];
        let imp = &mut self.faults.impact[id];
        imp.end = now;
        imp.healed = healed;
        imp.completed = c - c0;
        imp.failed = e - e0;
        imp.writes_lost = lost;
    }

    /// Acknowledged writes lost so far, over every cache and database.
    fn writes_lost(&self) -> u64 {
        self.k
            .nodes
            .iter()
            .map(|n| {
                n.cache.as_ref().map_or(0, |c| c.lost_writes.get())
                    + n.database.as_ref().map_or(0, |d| d.lost_writes.get())
            })
            .sum()
    }

    /// A defence reacted at `now` (a health check ejected an instance, a breaker opened):
    /// the faults holding, not yet detected, are.
    pub(super) fn fault_detected(&mut self, now: SimTime) {
        for (id, imp) in self.faults.impact.iter_mut().enumerate() {
            if self.faults.active[id] && imp.detected.is_none() {
                imp.detected = Some(now - imp.start);
            }
        }
    }

    /// A sample at `now`: the client error rate over the interval just ended, for the
    /// faults still watched (peak, recovery).
    pub(super) fn watch_faults(&mut self, now: SimTime) {
        if self.faults.impact.is_empty() {
            return;
        }
        let (c, e) = self.client_totals();
        let (c1, e1) = std::mem::replace(&mut self.faults.last_sample, (c, e));
        let (dc, de) = (c - c1, e - e1);
        if dc + de == 0 {
            return;
        }
        let rate = de as f64 / (dc + de) as f64;
        let mut recovered = vec![];
        for imp in &mut self.faults.impact {
            if !imp.watching || now <= imp.start {
                continue;
            }
            if rate > imp.threshold {
                imp.hurt = true;
                imp.peak_error_rate = imp.peak_error_rate.max(rate);
            } else if imp.hurt {
                imp.recovered = Some(now - imp.start);
                imp.watching = false;
                recovered.push(format!(
                    "{}: recovered, error rate back to ≤ {:.1}% after {} (peak {:.1}%)",
                    imp.name,
                    imp.threshold * 100.0,
                    now - imp.start,
                    imp.peak_error_rate * 100.0
                ));
            }
        }
        for text in recovered {
            self.note_zone(now, text);
        }
    }

    /// The run is over: a fault that never raised the error rate above its threshold
    /// recovered at once.
    pub(super) fn finish_faults(&mut self) {
        for imp in &mut self.faults.impact {
            if imp.watching && !imp.hurt {
                imp.recovered = Some(SimTime::ZERO);
            }
        }
    }
}

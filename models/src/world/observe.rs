//! Observing a run from outside: a [`Snapshot`] of the world's current state, filled in
//! place (no allocation once sized) between slices of a stepped run; the latency of the
//! requests completed since the last look; the timeline since the last look; the SLOs so
//! far. The terminal UI reads them (the time series take the latency window too); nothing
//! in the hot loop knows they exist.

use super::World;
use sim_core::SimTime;

/// The state of one node at an instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSnapshot {
    /// Node name.
    pub name: String,
    /// Instances starting or serving (service pools; 0 otherwise).
    pub size: u32,
    /// Instances serving.
    pub serving: u32,
    /// Busy workers.
    pub busy: u64,
    /// Workers of serving and draining instances.
    pub workers: u64,
    /// ∫ busy workers dt and ∫ workers dt (worker-nanoseconds) since `areas_since`: a
    /// reader's utilisation over an interval is the ratio of their differences.
    pub busy_area: u128,
    /// ∫ workers dt.
    pub worker_area: u128,
    /// Start of both areas (the end of the warm-up restarts them).
    pub areas_since: SimTime,
    /// Requests waiting in queues.
    pub queued: u64,
    /// Requests present.
    pub present: u64,
    /// Departures since the start.
    pub departed: u64,
    /// Requests refused in the measured window.
    pub rejected: u64,
    /// Requests failed by killed instances in the measured window.
    pub killed: u64,
    /// Service pools: each instance ever started (stopped ones too, their slots reused).
    pub instances: Vec<InstanceSnapshot>,
    /// Autoscaled pools: the autoscaler's latest datapoint.
    pub metric: Option<f64>,
    /// Caches: hits and misses in the measured window so far.
    pub hits: u64,
    /// Databases: shards whose primary failed and is not replaced yet.
    pub primaries_down: u32,
    /// Misses.
    pub misses: u64,
    /// Pools with sessions in instance memory: started, lost and moved in the measured
    /// window so far.
    pub sessions: Option<[u64; 3]>,
}

/// One instance of a pool at an instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceSnapshot {
    /// `starting`, `ready`, `draining` or `stopped`.
    pub life: &'static str,
    /// Its zone's index in its pool's `zones`.
    pub zone: u32,
    /// Busy workers, and workers.
    pub busy: u32,
    /// Workers (its size).
    pub cores: u32,
    /// Requests waiting for a worker.
    pub queued: u32,
    /// CPU speed factor (below 1: degraded).
    pub speed: f64,
}

/// The world at an instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Simulated time.
    pub t: SimTime,
    /// Requests in flight.
    pub in_flight: u64,
    /// Entries on the timeline so far.
    pub timeline_len: usize,
    /// Requests completed and failed (all classes, measured window), so far.
    pub completed: u64,
    /// Errors so far.
    pub errors: u64,
    /// Per node, scenario order.
    pub nodes: Vec<NodeSnapshot>,
    /// Per declared zone (scenario order): down (an outage of it, or of its region).
    pub zones_down: Vec<bool>,
    /// Pairs of zones (indices, lower first) that cannot reach each other.
    pub partitions: Vec<(u16, u16)>,
}

impl World {
    /// End-to-end p50, p95, p99 (seconds; 0 without any) of the requests completed since
    /// the last call with the same `marks` (each class's histogram then, and a reused
    /// window: no allocation after the first call). Read between events only.
    pub fn latency_window(&self, marks: &mut Vec<sim_core::Histogram>) -> [f64; 3] {
        let classes = &self.k.classes;
        if marks.len() != classes.len() + 1 {
            *marks = vec![sim_core::Histogram::new(); classes.len() + 1];
        }
        let (window, marks) = marks.split_last_mut().expect("window");
        window.clear();
        for (c, mark) in classes.iter().zip(marks) {
            window.add_since(&c.latency, mark);
            mark.copy_from(&c.latency);
        }
        [0.5, 0.95, 0.99].map(|q| {
            if window.count() > 0 {
                window.quantile_s(q)
            } else {
                0.0
            }
        })
    }

    /// The timeline from entry `n` on (what happened since a reader last looked).
    pub fn timeline_from(&self, n: usize) -> &[crate::report::TimelineEntry] {
        &self.timeline[n.min(self.timeline.len())..]
    }

    /// Fill `s` with the state at `now` (the simulation's clock). Allocates only the first
    /// time (node names).
    pub fn snapshot_into(&self, now: SimTime, s: &mut Snapshot) {
        let sc = &self.k.sc;
        s.t = now;
        s.in_flight = self.k.reqs.len() as u64;
        s.timeline_len = self.timeline.len();
        s.completed = self.k.classes.iter().map(|c| c.completed.get()).sum();
        s.errors = self.k.classes.iter().map(|c| c.errors.get()).sum();
        s.zones_down.clear();
        // Zone ids count from 1 (0: no zone).
        s.zones_down
            .extend_from_slice(&self.k.zones_down[1..=sc.zones.len()]);
        s.partitions.clear();
        s.partitions.extend(
            self.k
                .partitions
                .iter()
                .map(|&(a, b)| (a.saturating_sub(1), b.saturating_sub(1))),
        );
        s.nodes.resize_with(sc.nodes.len(), NodeSnapshot::default);
        for (i, n) in s.nodes.iter_mut().enumerate() {
            if n.name.is_empty() {
                n.name.clone_from(&sc.nodes[i].name);
            }
            let st = &self.k.nodes[i];
            let pool = self.states[i].as_pool();
            n.size = pool.map_or(0, |p| p.size());
            n.serving = pool.map_or(0, |p| p.ready());
            n.busy = st.busy.value();
            n.workers = st.workers.value();
            (n.busy_area, n.areas_since) = st.busy.area_at(now);
            n.worker_area = st.workers.area_at(now).0;
            n.queued = st.queued.value();
            n.present = st.present.value();
            n.departed = st.departed_total;
            n.rejected = st.rejected.get();
            n.killed = st.killed.get();
            n.metric = self.autoscale[i].as_ref().map(|a| a.latest());
            (n.hits, n.misses) = st
                .cache
                .as_ref()
                .map_or((0, 0), |c| (c.hits.get(), c.misses.get()));
            n.sessions = st
                .sessions
                .map(|s| [s.created.get(), s.lost.get(), s.moved.get()]);
            n.primaries_down = match &self.states[i] {
                crate::components::NodeState::Database(d) => d.primaries_down(),
                _ => 0,
            };
            n.instances.clear();
            if let Some(p) = pool {
                use crate::components::station::Life;
                n.instances
                    .extend(p.instances.iter().map(|i| InstanceSnapshot {
                        life: match i.life {
                            Life::Starting { .. } => "starting",
                            Life::Ready => "ready",
                            Life::Draining => "draining",
                            Life::Stopped => "stopped",
                        },
                        zone: i.zone,
                        busy: i.busy,
                        cores: i.cores,
                        queued: i.queue.len() as u32,
                        speed: i.speed,
                    }));
            }
        }
    }
}

/// An objective's verdict so far (the measured window up to now).
#[derive(Debug, Clone, PartialEq)]
pub struct SloNow {
    /// As the report names it: `p99_latency ≤ 0.5s`.
    pub name: String,
    /// Its figure so far (`None`: nothing measured yet, or a cost, known at the end).
    pub value: Option<f64>,
    /// Whether the figure meets the limit so far.
    pub pass: Option<bool>,
}

impl World {
    /// Each SLO's figure and verdict over the measured window so far. `scratch` is reused
    /// for the latency percentiles. Read between events only.
    pub fn slo_now(&self, scratch: &mut sim_core::Histogram) -> Vec<SloNow> {
        use crate::analysis::slo::Metric;
        let sc = &self.k.sc;
        sc.slos
            .iter()
            .map(|slo| {
                let classes: Vec<_> = match slo.class {
                    Some(c) => vec![&self.k.classes[c.index()]],
                    None => self.k.classes.iter().collect(),
                };
                let done: u64 = classes.iter().map(|c| c.completed.get()).sum();
                let errors: u64 = classes.iter().map(|c| c.errors.get()).sum();
                let all = done + errors;
                let value = match slo.metric {
                    Metric::ErrorRate => (all > 0).then(|| errors as f64 / all as f64),
                    Metric::Availability => (all > 0).then(|| done as f64 / all as f64),
                    Metric::Cost => None,
                    m => {
                        scratch.clear();
                        for c in &classes {
                            scratch.merge(&c.latency);
                        }
                        (scratch.count() > 0).then(|| match m {
                            Metric::P99Latency => scratch.quantile_s(0.99),
                            Metric::P95Latency => scratch.quantile_s(0.95),
                            Metric::P50Latency => scratch.quantile_s(0.5),
                            _ => scratch.mean_s(),
                        })
                    }
                };
                SloNow {
                    name: slo.name(sc),
                    pass: value.map(|v| {
                        if slo.metric.is_floor() {
                            v >= slo.limit
                        } else {
                            v <= slo.limit
                        }
                    }),
                    value,
                }
            })
            .collect()
    }
}

//! What a run measures: raw statistics per node and per class, updated in place by the
//! components, and the [`RunStats`] a finished run hands to the report.

use crate::ids::NodeId;
use crate::report::TimelineEntry;
use sim_core::{Counter, Histogram, SimTime, TimeSeries, TimeWeighted};

/// One generation of a pool's instances (after a deploy or resize).
#[derive(Debug, Clone)]
pub struct GenStats {
    /// Cores per instance.
    pub cores: u32,
    /// Price per instance-hour.
    pub price: f64,
    /// Billed instances over the run.
    pub run: TimeWeighted,
    /// Billed instances over the measured window.
    pub window: TimeWeighted,
}

/// Raw statistics of one node. Unless noted, over the measured window (after warm-up).
#[derive(Debug, Clone)]
pub struct NodeStats {
    /// Requests present (queued, in service or waiting on calls): `L` in Little's law.
    pub present: TimeWeighted,
    /// Busy workers.
    pub busy: TimeWeighted,
    /// Requests waiting in queues.
    pub queued: TimeWeighted,
    /// Workers of serving and draining instances (utilisation's denominator).
    pub workers: TimeWeighted,
    /// Serving (ready) instances, over the whole run.
    pub serving: TimeWeighted,
    /// Fewest serving instances at any time of the run.
    pub serving_min: u64,
    /// Billed instances (starting, serving, draining), over the whole run.
    pub running: TimeWeighted,
    /// Billed instances over the measured window (cost per request).
    pub running_window: TimeWeighted,
    /// Pools that were deployed or resized: per generation from the second on, its size
    /// (cores, price per hour) and billed instances over the run and over the window (the
    /// first generation's are the rest).
    pub gen_running: Vec<GenStats>,
    /// Sojourn times of departures.
    pub sojourn: Histogram,
    /// Departures (ok or failed).
    pub departures: Counter,
    /// Requests this node refused (queue full, no instance to serve).
    pub rejected: Counter,
    /// Requests that failed because their instance was killed (or stopped undrained).
    pub killed: Counter,

    /// Message figures (queues only).
    pub messages: Option<crate::components::queue::QueueStats>,
    /// Cache counters (caches only).
    pub cache: Option<crate::components::cache::CacheStats>,
    /// Database counters (databases only).
    pub database: Option<crate::components::database::DbStats>,
    /// Session counts (pools with `InMemory` sessions only).
    pub sessions: Option<crate::components::service::sessions::SessionStats>,
    /// Queue length, sampled every `sample_every`.
    pub queue_series: TimeSeries,
    /// Busy workers / workers, sampled every `sample_every`.
    pub util_series: TimeSeries,
    /// Serving instances, sampled every `sample_every`.
    pub instance_series: TimeSeries,
    /// Departures per second over each sampling interval.
    pub throughput_series: TimeSeries,
    /// Caches: the hit ratio over each sampling interval (0 without reads).
    pub hit_series: TimeSeries,
    /// Autoscaled pools: the size the autoscaler set (starting + serving) at each sample.
    pub desired_series: TimeSeries,
    /// Autoscaled pools: instances still starting at each sample.
    pub starting_series: TimeSeries,
    /// Autoscaled pools: the autoscaler's latest datapoint at each sample (0 before the
    /// first).
    pub metric_series: TimeSeries,
    /// Departures since the start (never reset; for the throughput series).
    pub departed_total: u64,
    /// `departed_total` at the last sample.
    pub departed_at_last_sample: u64,
}

impl NodeStats {
    /// Empty statistics for a node with `instances` serving and `workers` workers at the
    /// start; with `series`, sampled every `every` up to `horizon` (otherwise the series
    /// stay empty and allocate nothing).
    pub fn new(
        instances: u64,
        workers: u64,
        every: SimTime,
        horizon: SimTime,
        series: bool,
    ) -> Self {
        let t0 = SimTime::ZERO;
        let series = || {
            if series {
                TimeSeries::new(every, horizon)
            } else {
                TimeSeries::default()
            }
        };
        NodeStats {
            present: TimeWeighted::default(),
            busy: TimeWeighted::default(),
            queued: TimeWeighted::default(),
            workers: TimeWeighted::new(t0, workers),
            serving: TimeWeighted::new(t0, instances),
            serving_min: instances,
            running: TimeWeighted::new(t0, instances),
            running_window: TimeWeighted::new(t0, instances),
            gen_running: vec![],
            sojourn: Histogram::new(),
            departures: Counter::default(),
            rejected: Counter::default(),
            killed: Counter::default(),
            cache: None,
            database: None,
            sessions: None,
            messages: None,
            queue_series: series(),
            util_series: series(),
            instance_series: series(),
            throughput_series: series(),
            hit_series: TimeSeries::default(),
            desired_series: TimeSeries::default(),
            starting_series: TimeSeries::default(),
            metric_series: TimeSeries::default(),
            departed_total: 0,
            departed_at_last_sample: 0,
        }
    }

    /// The warm-up is over: window statistics restart at `now`.
    pub fn reset_window(&mut self, now: SimTime) {
        self.present.reset(now);
        self.busy.reset(now);
        self.queued.reset(now);
        self.workers.reset(now);
        self.running_window.reset(now);
        for g in &mut self.gen_running {
            g.window.reset(now);
        }
        self.sojourn.clear();
        self.departures = Counter::default();
        self.rejected = Counter::default();
        self.killed = Counter::default();
        if let Some(c) = &mut self.cache {
            *c = Default::default();
        }
        if let Some(d) = &mut self.database {
            d.reset(now);
        }
        if let Some(m) = &mut self.messages {
            *m = Default::default();
        }
        if let Some(s) = &mut self.sessions {
            *s = Default::default();
        }
    }
}

/// Raw statistics of one request class, seen from the client.
#[derive(Debug, Clone, Default)]
pub struct ClassStats {
    /// Requests born after the warm-up.
    pub requests: Counter,
    /// Of those, answered successfully in time.
    pub completed: Counter,
    /// Of those, failed (rejected somewhere, killed, or timed out).
    pub errors: Counter,
    /// Of the errors, client timeouts.
    pub timeouts: Counter,
    /// Response times of the completed ones.
    pub latency: Histogram,
    /// Calls with a timeout, retries or a breaker made for these requests.
    pub calls: Counter,
    /// Their tries, the first included.
    pub call_attempts: Counter,
    /// Retries by the clients (`Source(retry: ...)`).
    pub client_retries: Counter,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran to the end of its duration.
    Completed,
    /// Cut: more than `limits.max_in_flight` requests alive; `node` held the most.
    InFlightLimit {
        /// The node that overflowed.
        node: NodeId,
        /// When.
        at: SimTime,
    },
    /// Cut: `limits.max_events` events handled.
    EventLimit {
        /// When.
        at: SimTime,
    },
    /// Cut: simulated time stopped advancing (more than `MAX_EVENTS_AT_ONE_INSTANT` events
    /// at one instant).
    Stalled {
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
    /// What changed during the run (actions, faults, and later autoscaling).
    pub timeline: Vec<TimelineEntry>,
    /// Each fault that broke within the run, with its impact.
    pub faults: Vec<super::faults::FaultImpact>,
    /// Per call site with a timeout or retries (`Scenario::calls`).
    pub calls: Vec<crate::kernel::CallStats>,
    /// With series: end-to-end p50, p95, p99 of the requests completed in each sampling
    /// interval (0 in an interval without any).
    pub latency_series: [Vec<f64>; 3],
    /// With series: requests completed and failed per second in each interval.
    pub rate_series: [Vec<f64>; 2],
    /// Per alert rule, what it did.
    pub alerts: Vec<super::alerts::AlertStats>,
}

//! The report: what one run (or the mean of many) found, in DESIGN.md's field names.
//!
//! - [`from_run`]: one run's [`crate::world::stats::RunStats`] becomes a [`Report`]
//!   (instances, cost and the timeline are taken from what happened);
//! - [`merge`]: replications merge generically — every numeric field becomes the mean over
//!   replications and, in JSON, gains a `<field>_ci95` sibling (Student-t half-width);
//!   text fields come from the first replication; the bottleneck and SLO verdicts are
//!   recomputed from the merged figures;
//! - [`human`]: the tables printed on a terminal.
//!
//! Field order is fixed by the structs, so the JSON is byte-identical for the same inputs.

pub mod export;
mod from_run;
mod human;
mod merge;

pub use human::{human_figure, human_secs};

use crate::components::Kind;
use serde::{Deserialize, Serialize, Serializer};
use sim_core::Histogram;
use std::collections::BTreeMap;

/// Write a count as an integer when it is one (a single run), as a float otherwise (a mean).
fn count<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Latency figures, seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram) -> Latency {
        Latency {
            mean: h.mean_s(),
            p50: h.quantile_s(0.50),
            p95: h.quantile_s(0.95),
            p99: h.quantile_s(0.99),
            max: h.max_s(),
        }
    }
}

/// Client-side figures for all requests or one class.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Requests born in the measured window.
    #[serde(serialize_with = "count")]
    pub requests: f64,
    /// Answered successfully and in time.
    #[serde(serialize_with = "count")]
    pub completed: f64,
    /// Failed: rejected somewhere or timed out.
    #[serde(serialize_with = "count")]
    pub errors: f64,
    /// Of the errors, client timeouts.
    #[serde(serialize_with = "count")]
    pub timeouts: f64,
    /// errors / (completed + errors).
    pub error_rate: f64,
    /// Completed per second of the measured window.
    pub throughput: f64,
    /// Response times of the completed requests.
    pub latency: Latency,
    /// Calls with a timeout, retries or a breaker made for these requests (absent when
    /// none).
    #[serde(serialize_with = "count", skip_serializing_if = "is_zero", default)]
    pub calls: f64,
    /// Their tries, the first included.
    #[serde(serialize_with = "count", skip_serializing_if = "is_zero", default)]
    pub call_attempts: f64,
    /// call_attempts / calls: the load the retries add.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub amplification: f64,
    /// Retries by the clients (absent when none).
    #[serde(serialize_with = "count", skip_serializing_if = "is_zero", default)]
    pub client_retries: f64,
    /// (requests + client_retries) / requests: the load the clients' retries add.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub client_amplification: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// [`Stats`] with a class name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassReport {
    /// Class name.
    pub name: String,
    /// Figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// Instance counts over the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Instances {
    /// Fewest.
    #[serde(serialize_with = "count")]
    pub min: f64,
    /// Most.
    #[serde(serialize_with = "count")]
    pub max: f64,
    /// Time-average.
    pub mean: f64,
}

/// Figures for one node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// `service` or `load_balancer`.
    pub kind: Kind,
    /// Busy workers / all workers, time-averaged (0 for nodes without workers).
    pub utilization: f64,
    /// Time-average number of requests waiting in queues.
    pub mean_queue: f64,
    /// Most requests waiting at once.
    #[serde(serialize_with = "count")]
    pub max_queue: f64,
    /// Requests waiting at the end of the run.
    #[serde(serialize_with = "count")]
    pub queue_end: f64,
    /// Time-average number of requests present (L in Little's law).
    pub mean_present: f64,
    /// Departures per second.
    pub throughput: f64,
    /// Requests this node refused (queue full, or no instance to serve them).
    #[serde(serialize_with = "count")]
    pub errors: f64,
    /// Sojourn time at the node: arrival to departure.
    pub latency: Latency,
    /// Serving instances over the whole run (warm-up included): fewest, most,
    /// time-average.
    pub instances: Instances,
    /// Instance cost over the whole run: ∫ billed instances(t) dt × price per hour.
    pub cost: f64,
    /// Billed instance-hours (starting, serving and draining instances) over the run.
    pub instance_hours: f64,
    /// A pool deployed or resized during the run: cost and instance-hours per size
    /// (generation), in the order they ran. Absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sizes: Vec<SizeReport>,
    /// Requests that failed because their instance was killed or stopped undrained.
    #[serde(serialize_with = "count")]
    pub killed: f64,
    /// Cache figures (caches only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache: Option<CacheReport>,
    /// Database figures (databases only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub database: Option<DatabaseReport>,
    /// Message figures (queues only); the backlog is the node's queue figures.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub messages: Option<MessagesReport>,
    /// Session figures (service pools with `sessions: InMemory` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sessions: Option<SessionsReport>,
}

/// What an alert rule did over the run (its firings and resolutions are on the timeline).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AlertReport {
    /// Its name.
    pub name: String,
    /// The rule: `p95_latency > 0.5s for 1m, every 30s`.
    pub rule: String,
    /// Times it fired.
    #[serde(serialize_with = "count")]
    pub fired: f64,
    /// When it first fired, seconds from the start (`null`: never; with replications,
    /// `null` unless it fired in every one).
    pub first_fired: Option<f64>,
    /// Seconds it spent firing, to the end of the run.
    pub firing_s: f64,
}

/// What happened to the sessions a pool keeps in its instances' memory, over the
/// measured window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionsReport {
    /// Sessions started: users' first requests, and first requests after a session was
    /// lost or moved.
    #[serde(serialize_with = "count")]
    pub created: f64,
    /// Sessions that stopped with the instance holding them (killed, crashed, scaled in,
    /// replaced).
    #[serde(serialize_with = "count")]
    pub lost: f64,
    /// Requests placed on an instance without their session while another held it (the
    /// routing is not sticky): the session starts again there.
    #[serde(serialize_with = "count")]
    pub moved: f64,
}

/// What a queue's messages did over the measured window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MessagesReport {
    /// Messages accepted.
    #[serde(serialize_with = "count")]
    pub enqueued: f64,
    /// Messages processed successfully.
    #[serde(serialize_with = "count")]
    pub processed: f64,
    /// Messages whose processing failed (their last try).
    #[serde(serialize_with = "count")]
    pub failed: f64,
    /// Failed tries sent back to the queue.
    #[serde(serialize_with = "count")]
    pub retries: f64,
    /// Messages given up after `max_attempts` tries (with `max_attempts` above 1).
    #[serde(serialize_with = "count")]
    pub dead_letters: f64,
    /// Enqueue to done, for processed messages.
    pub processing_latency: Latency,
    /// Longest any message waited in the backlog (measured messages, and those still
    /// waiting at the end), seconds.
    pub oldest_age: f64,
}

/// What the calls of one call site with a timeout or retries did (measured window).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CallReport {
    /// The caller.
    pub from: String,
    /// The callee.
    pub to: String,
    /// Calls made.
    #[serde(serialize_with = "count")]
    pub calls: f64,
    /// Tries, the first included.
    #[serde(serialize_with = "count")]
    pub attempts: f64,
    /// attempts / calls: how much the retries multiply the load on the callee.
    pub amplification: f64,
    /// Tries given up on at their timeout.
    #[serde(serialize_with = "count")]
    pub timeouts: f64,
    /// Calls that failed after their last try.
    #[serde(serialize_with = "count")]
    pub failed: f64,
    /// Tries failed at once by an open circuit breaker (never sent).
    #[serde(serialize_with = "count")]
    pub short_circuited: f64,
    /// Times the breaker opened.
    #[serde(serialize_with = "count")]
    pub breaker_opened: f64,
    /// Seconds of the measured window the breaker was not closed (open or half-open).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub breaker_open_s: f64,
    /// Tries failed at once by a full bulkhead (never sent).
    #[serde(serialize_with = "count", skip_serializing_if = "is_zero", default)]
    pub bulkhead_rejected: f64,
    /// Second tries sent by the hedge.
    #[serde(serialize_with = "count", skip_serializing_if = "is_zero", default)]
    pub hedged: f64,
}

/// A fault and what it cost while it held.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FaultReport {
    /// The fault in words, e.g. `ZoneOutage(a)`.
    pub name: String,
    /// When it broke, seconds.
    pub start: f64,
    /// When it healed, or the end of the run, seconds.
    pub end: f64,
    /// Whether it healed within the run.
    pub healed: bool,
    /// Client requests answered while it held (measured ones).
    #[serde(serialize_with = "count")]
    pub completed: f64,
    /// The highest client error rate over one sample interval, from its start to its
    /// recovery.
    #[serde(default)]
    pub peak_error_rate: f64,
    /// Whether a defence reacted (a health-check ejection, a breaker opening) while it
    /// held.
    #[serde(default)]
    pub detected: bool,
    /// Seconds from its start to that reaction (0 when none).
    #[serde(default)]
    pub time_to_detect: f64,
    /// Whether the client error rate came back to `recovery_threshold` within the run.
    #[serde(default)]
    pub recovered: bool,
    /// Seconds from its start until the error rate, having risen above the threshold, is
    /// back at or under it over a sample interval (0: it never rose; not recovered: to
    /// the end of the run).
    #[serde(default)]
    pub time_to_recover: f64,
    /// The error rate that counts as recovered: the `ErrorRate` SLO on all classes, else
    /// the rate before the fault + 0.001.
    #[serde(default)]
    pub recovery_threshold: f64,
    /// Acknowledged writes lost while it held (a cache's unsent writes, a failover's).
    #[serde(serialize_with = "count", default)]
    pub writes_lost: f64,
    /// Client requests failed or timed out while it held (measured ones).
    #[serde(serialize_with = "count")]
    pub failed: f64,
    /// failed / (completed + failed) while it held.
    pub error_rate: f64,
    /// Requests that failed with the instances it killed, at the moment of each kill.
    #[serde(serialize_with = "count")]
    pub killed: f64,
}

/// What a database did over the measured window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DatabaseReport {
    /// Reads served.
    #[serde(serialize_with = "count")]
    pub reads: f64,
    /// Writes acknowledged.
    #[serde(serialize_with = "count")]
    pub writes: f64,
    /// Reads served by replicas.
    #[serde(serialize_with = "count")]
    pub replica_reads: f64,
    /// Reads that returned an older version than the latest acknowledged write.
    #[serde(serialize_with = "count")]
    pub stale_reads: f64,
    /// stale_reads / reads; 0 without reads.
    pub stale_ratio: f64,
    /// Writes applied by replicas.
    #[serde(serialize_with = "count")]
    pub applied: f64,
    /// Requests that waited for a connection.
    #[serde(serialize_with = "count")]
    pub pool_waits: f64,
    /// Requests that gave up waiting for a connection (after `pool_timeout`).
    #[serde(serialize_with = "count")]
    pub pool_timeouts: f64,
    /// Failovers done (promotions, or restarts of a shard without replicas).
    #[serde(serialize_with = "count")]
    pub failovers: f64,
    /// Acknowledged writes lost at a failover (not yet on the promoted replica).
    #[serde(serialize_with = "count")]
    pub lost_writes: f64,
    /// Per server (each shard's primary, then its replicas, as at the start).
    pub servers: Vec<ServerReport>,
    /// Share of the requests per shard.
    pub shard_shares: Vec<f64>,
    /// The shard taking far more than its even share (at least 1.5 × 1/shards), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hot_shard: Option<HotShard>,
}

/// One database server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServerReport {
    /// `primary`, `replica 2`, `shard 3 primary`, ...
    pub name: String,
    /// Busy workers / cores, time-averaged.
    pub utilization: f64,
}

/// A shard taking more than its share.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HotShard {
    /// Shard number.
    pub shard: f64,
    /// Its share of the database's requests.
    pub share: f64,
}

/// What a cache did over the measured window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CacheReport {
    /// Reads answered from the store.
    #[serde(serialize_with = "count")]
    pub hits: f64,
    /// Reads not found (expired ones included).
    #[serde(serialize_with = "count")]
    pub misses: f64,
    /// hits / (hits + misses); 0 without reads.
    pub hit_ratio: f64,
    /// Keys pushed out to make room.
    #[serde(serialize_with = "count")]
    pub evictions: f64,
    /// Keys found expired.
    #[serde(serialize_with = "count")]
    pub expirations: f64,
    /// Keys removed by writes.
    #[serde(serialize_with = "count")]
    pub invalidations: f64,
    /// Queries sent downstream for misses.
    #[serde(serialize_with = "count")]
    pub fetches: f64,
    /// Misses that waited for a fetch already under way (`coalesce_misses`).
    #[serde(serialize_with = "count")]
    pub coalesced: f64,
    /// Write-behind: writes sent downstream by a flush tick or an eviction.
    #[serde(serialize_with = "count")]
    pub written_back: f64,
    /// Write-behind: acknowledged writes lost because the cache was flushed first.
    #[serde(serialize_with = "count")]
    pub lost_writes: f64,
    /// Hits that returned an older version than the latest acknowledged write.
    #[serde(serialize_with = "count")]
    pub stale_reads: f64,
}

/// The node that limits throughput, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Bottleneck {
    /// Node name (empty if there is none).
    pub node: String,
    /// Why, in words.
    pub reason: String,
}

/// An SLO check. With replications, `value` is the mean over replications (with its
/// `value_ci95`) and `pass` says whether that mean meets the limit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SloResult {
    /// What is checked, e.g. `p99_latency(checkout) ≤ 0.8s`.
    pub name: String,
    /// Whether the value meets the limit (`value ≤ limit`, or `≥` for availability).
    pub pass: bool,
    /// Measured (seconds for latencies, a fraction for rates, money for cost).
    pub value: f64,
    /// The limit, in the same unit.
    pub limit: f64,
}

/// What kind of moment a timeline entry records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A scripted action from the scenario's `actions`.
    #[default]
    Action,
    /// A fault.
    Fault,
    /// An autoscaler decision.
    Autoscale,
    /// A health-check verdict.
    Health,
    /// A circuit breaker opened, half-opened or closed.
    Breaker,
    /// An alert rule fired or resolved.
    Alert,
    /// A run limit.
    Limit,
    /// A deployment or resize: its start and its end.
    Deploy,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Ran to the end of its duration.
    #[default]
    Completed,
    /// Cut at `limits.max_in_flight`.
    InFlightLimit,
    /// Cut at `limits.max_events`.
    EventLimit,
    /// Cut because simulated time stopped advancing.
    Stalled,
}

impl TimelineKind {
    /// The label in reports.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Action => "action",
            TimelineKind::Fault => "fault",
            TimelineKind::Autoscale => "autoscale",
            TimelineKind::Health => "health",
            TimelineKind::Breaker => "breaker",
            TimelineKind::Alert => "alert",
            TimelineKind::Limit => "limit",
            TimelineKind::Deploy => "deploy",
        }
    }
}

impl RunOutcome {
    /// The label in reports.
    pub fn label(self) -> &'static str {
        match self {
            RunOutcome::Completed => "completed",
            RunOutcome::InFlightLimit => "in_flight_limit",
            RunOutcome::EventLimit => "event_limit",
            RunOutcome::Stalled => "stalled",
        }
    }
}

/// Something that happened at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    /// Seconds from the start.
    pub t: f64,
    /// What kind of moment.
    pub kind: TimelineKind,
    /// Node concerned.
    pub node: String,
    /// What happened.
    pub text: String,
}

/// Money.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cost {
    /// All nodes, over the whole run.
    pub total: f64,
    /// By node name.
    pub per_node: BTreeMap<String, f64>,
    /// Cost of the measured window per million requests born in it (0 without requests).
    pub per_million_requests: f64,
}

/// One size (generation) of a pool's instances.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SizeReport {
    /// Cores per instance.
    pub cores: f64,
    /// Price per instance-hour.
    pub cost_per_hour: f64,
    /// Billed instance-hours of this size.
    pub instance_hours: f64,
    /// Their cost.
    pub cost: f64,
}

/// A whole report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Base seed.
    pub seed: u64,
    /// Number of replications merged.
    pub replications: u32,
    /// Simulated seconds per replication.
    pub sim_seconds: f64,
    /// Wall-clock seconds (only with `--wall-time`: it would break byte-identical output).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wall_seconds: Option<f64>,
    /// Events handled (per replication).
    #[serde(serialize_with = "count")]
    pub events: f64,
    /// `completed`, `in_flight_limit` or `event_limit`.
    pub outcome: RunOutcome,
    /// Most requests alive at once (what memory grows with).
    #[serde(serialize_with = "count")]
    pub in_flight_peak: f64,
    /// Requests still alive at the end: neither completed nor errors.
    #[serde(serialize_with = "count")]
    pub in_flight_end: f64,
    /// All requests.
    pub summary: Stats,
    /// Per class.
    pub classes: Vec<ClassReport>,
    /// Per node.
    pub nodes: Vec<NodeReport>,
    /// The limiting node.
    pub bottleneck: Bottleneck,
    /// SLO results.
    pub slo: Vec<SloResult>,
    /// The scenario's expectations (`expect:`), checked.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub expect: Vec<crate::analysis::expect::ExpectResult>,
    /// Notable moments.
    pub timeline: Vec<TimelineEntry>,
    /// Each fault that broke within the run, with its impact.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub faults: Vec<FaultReport>,
    /// Each call site with a timeout or retries: what its calls cost.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub calls: Vec<CallReport>,
    /// Each alert rule (`alerts:`): how often and when it fired.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub alerts: Vec<AlertReport>,
    /// Money.
    pub cost: Cost,
    /// Things the user should know (limits hit, censored requests...).
    pub warnings: Vec<String>,
    /// Time series per node (only with `--series`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub series: Option<Series>,
}

impl Report {
    /// The same report without its time series.
    pub fn without_series(mut self) -> Report {
        self.series = None;
        self
    }
}

/// Values sampled every `interval` seconds, the first at `interval`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Series {
    /// Sampling interval, seconds.
    pub interval: f64,
    /// End-to-end latency of the requests completed in each interval, seconds: median
    /// (0 in an interval without any).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub p50: Vec<f64>,
    /// 95th percentile.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub p95: Vec<f64>,
    /// 99th percentile.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub p99: Vec<f64>,
    /// Requests completed per second in each interval (measured window).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub completed: Vec<f64>,
    /// Requests failed per second in each interval.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<f64>,
    /// Per node, scenario order.
    pub nodes: Vec<NodeSeries>,
}

/// One node's time series.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeSeries {
    /// Node name.
    pub name: String,
    /// Requests waiting in queues at each sample.
    pub queue: Vec<f64>,
    /// Busy workers / all workers at each sample (0 for load balancers).
    pub utilization: Vec<f64>,
    /// Serving instances at each sample (0 for load balancers).
    pub instances: Vec<f64>,
    /// Departures per second over each interval.
    pub throughput: Vec<f64>,
    /// Caches: hit ratio over each interval (0 in an interval without reads).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hit_ratio: Vec<f64>,
    /// Autoscaled pools: the size the autoscaler set (starting + serving) at each sample.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub desired: Vec<f64>,
    /// Autoscaled pools: instances still starting at each sample (serving ones are
    /// `instances`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub starting: Vec<f64>,
    /// Autoscaled pools: the autoscaler's latest datapoint at each sample.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub metric: Vec<f64>,
}

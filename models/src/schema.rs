//! The scenario file as written: serde types that mirror the RON syntax one to one.
//!
//! These are parsed, never run. [`crate::scenario::Scenario::validate`] turns them into the
//! validated form (names resolved to indices, defaults filled, bounds checked). Checks that
//! concern one value alone (a duration's unit, a probability in `[0, 1]`, a non-negative
//! rate) happen here, during parsing, so the parser can point at the exact line and column.
//!
//! Every default is written in the doc comment of its field.

use serde::{Deserialize, Deserializer};
use sim_core::{parse_duration, SimTime};
use std::collections::BTreeMap;

/// A duration written as a string: `"250us"`, `"15ms"`, `"2s"`, `"5m"`, `"1h30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dur(pub SimTime);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(Dur)
            .map_err(serde::de::Error::custom)
    }
}

/// A finite number ≥ 0 (rates, weights, prices).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NonNeg(pub f64);

impl<'de> Deserialize<'de> for NonNeg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v < 0.0 {
            return Err(serde::de::Error::custom(format!(
                "expected a number ≥ 0, found {v}"
            )));
        }
        Ok(NonNeg(v))
    }
}

/// A probability in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prob(pub f64);

impl<'de> Deserialize<'de> for Prob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(serde::de::Error::custom(format!(
                "probability {v} is outside [0, 1]"
            )));
        }
        Ok(Prob(v))
    }
}

fn default_seed() -> u64 {
    1
}
fn default_one() -> u32 {
    1
}
fn default_max_in_flight() -> u64 {
    1_000_000
}
fn default_sessions() -> u64 {
    10_000
}
fn default_period() -> Dur {
    Dur(SimTime::from_secs(86_400))
}
fn default_keys() -> Keys {
    Keys::Uniform { n: 1_000_000 }
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// Short name, shown in reports.
    pub name: String,
    /// What the scenario shows. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Seed of every random stream. Default: 1. `--seed` overrides it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time to run. `--duration` overrides it.
    pub duration: Dur,
    /// Statistics ignore everything before this time (the system fills up). Default: `"0s"`.
    #[serde(default)]
    pub warmup: Dur,
    /// Interval of the time series (queue lengths, throughput). Default: duration / 200
    /// (at least 1 ms). At most 1 000 000 samples per run.
    #[serde(default)]
    pub sample_every: Option<Dur>,
    /// Run limits. Default: `(max_in_flight: 1000000, max_events: None)`.
    #[serde(default)]
    pub limits: RawLimits,
    /// Where requests come from. At least one.
    pub sources: Vec<RawSource>,
    /// The components. At least one.
    pub nodes: Vec<RawNode>,
    /// Network latency on edges. Default: none (every edge has zero latency).
    #[serde(default)]
    pub links: Vec<RawLink>,
}

/// Bounds on one run. Hitting one ends the run with a typed, reported outcome.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Limits")]
pub struct RawLimits {
    /// Requests alive at once (from birth at a source to the reply). Default: 1 000 000.
    /// A system whose queues grow without bound is cut here instead of eating all memory.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u64,
    /// Events handled per run. Default: no limit.
    #[serde(default)]
    pub max_events: Option<u64>,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_in_flight: default_max_in_flight(),
            max_events: None,
        }
    }
}

/// A stream of client requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Source")]
pub struct RawSource {
    /// Unique among sources and nodes.
    pub name: String,
    /// The node that receives the requests.
    pub target: String,
    /// Requests per second over time.
    pub rate: RawProfile,
    /// Arrival process. Default: `Poisson`.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Request classes with weights. Default: one class called `default`.
    #[serde(default)]
    pub mix: Vec<RawClass>,
    /// Number of distinct sessions (users); each request carries one, uniformly drawn.
    /// Default: 10 000.
    #[serde(default = "default_sessions")]
    pub sessions: u64,
    /// Client timeout: a request not answered by then counts as an error at the client,
    /// even if the server finishes it later. Default: none.
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Arrivals {
    /// A (non-homogeneous) Poisson process following the rate profile.
    #[default]
    Poisson,
    /// Evenly spaced: one arrival per unit of accumulated rate.
    Deterministic,
}

/// A request class in a source's mix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Class")]
pub struct RawClass {
    /// Class name; services pick their handler by it.
    pub name: String,
    /// Relative weight (≥ 0; the weights of a mix must not all be 0).
    pub weight: NonNeg,
    /// Key distribution (for caches and shards). Default: `Uniform(n: 1000000)`.
    #[serde(default = "default_keys")]
    pub keys: Keys,
}

/// Which key a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Keys {
    /// Keys `0..n`, equally likely.
    Uniform {
        /// Number of keys.
        n: u64,
    },
    /// Keys `0..n` with Zipf popularity: key `k` (from 1) has weight `1 / k^s`.
    Zipf {
        /// Number of keys.
        n: u64,
        /// Skew (> 0; around 1 for web traffic).
        s: f64,
    },
}

/// A rate profile in requests per second. Time is measured from the start of the run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawProfile {
    /// The same rate throughout.
    Constant(NonNeg),
    /// Linear change from `from` to `to` between `start` and `start + over`.
    Ramp {
        /// Rate before and at `start`.
        from: NonNeg,
        /// Rate from `start + over` on.
        to: NonNeg,
        /// When the ramp begins. Default: `"0s"`.
        #[serde(default)]
        start: Dur,
        /// How long the ramp lasts.
        over: Dur,
    },
    /// `from` until `at`, then `to`.
    Step {
        /// Rate before `at`.
        from: NonNeg,
        /// Rate from `at` on.
        to: NonNeg,
        /// When the rate jumps.
        at: Dur,
    },
    /// A day-like sinusoid: `mean + amplitude * cos(2π (t - peak_at) / period)`.
    Diurnal {
        /// Average rate.
        mean: NonNeg,
        /// Swing either side of the mean (≤ mean).
        amplitude: NonNeg,
        /// Length of a cycle. Default: `"24h"`.
        #[serde(default = "default_period")]
        period: Dur,
        /// When the rate peaks. Default: `"0s"`.
        #[serde(default)]
        peak_at: Dur,
    },
    /// Black-Friday shape: `base`, rising linearly from `at` to `peak` over `rise`, held for
    /// `hold`, falling back to `base` over `fall`.
    Spike {
        /// Rate outside the spike.
        base: NonNeg,
        /// Rate at the top of the spike.
        peak: NonNeg,
        /// When the rise begins.
        at: Dur,
        /// Duration of the rise.
        rise: Dur,
        /// Duration at the peak.
        hold: Dur,
        /// Duration of the fall.
        fall: Dur,
    },
    /// Points `(time, rate)` joined by straight lines; constant before the first and after
    /// the last. Two points at the same time make a jump.
    Piecewise(Vec<(Dur, NonNeg)>),
}

/// A component of the system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawNode {
    /// Spreads requests over the instances of its backend service pools. Takes no time.
    LoadBalancer {
        /// Unique name.
        name: String,
        /// Default: `RoundRobin`.
        #[serde(default)]
        algorithm: Algorithm,
        /// Service pools whose instances receive the traffic.
        backends: Vec<String>,
    },
    /// A pool of identical instances, each with `cores` workers and its own FIFO queue.
    Service {
        /// Unique name.
        name: String,
        /// Number of instances. Default: 1. At most 100 000.
        #[serde(default = "default_one")]
        instances: u32,
        /// Workers per instance (requests served in parallel). Default: 1. At most 100 000.
        #[serde(default = "default_one")]
        cores: u32,
        /// Waiting room per instance; a request finding it full is rejected (an error).
        /// Default: unbounded (then bounded only by `limits.max_in_flight`).
        #[serde(default)]
        queue: Option<u32>,
        /// What a worker does while its request waits on a `Call`. Default: `Hold`.
        #[serde(default)]
        on_call: CallMode,
        /// Price of one instance per hour. Default: 0.
        #[serde(default)]
        cost_per_hour: NonNeg,
        /// Program per request class; the key `"*"` serves every class not listed.
        handlers: BTreeMap<String, Vec<RawStep>>,
    },
}

/// How a load balancer picks an instance.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Algorithm {
    /// Each instance in turn.
    #[default]
    RoundRobin,
    /// In turn, in proportion to a weight per backend pool (smooth weighted round robin).
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
    /// Sticky by session: a hash ring (64 virtual nodes per instance).
    ConsistentHash,
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

/// One step of a handler program.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawStep {
    /// Occupy the worker for a sampled time.
    Cpu(RawDist),
    /// Call another node and wait for its reply.
    Call(String),
    /// With probability `p` run `then`, otherwise run `otherwise`.
    Branch {
        /// Probability of `then`.
        p: Prob,
        /// Steps run with probability `p`.
        then: Vec<RawStep>,
        /// Steps run otherwise. Default: none.
        #[serde(default)]
        otherwise: Vec<RawStep>,
    },
}

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawDist {
    /// Exponential with this mean.
    Exp(Dur),
    /// Always this value.
    Constant(Dur),
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower end.
        min: Dur,
        /// Upper end.
        max: Dur,
    },
    /// Log-normal given by its mean and 99th percentile (`mean < p99 ≤ ~15 × mean`).
    LogNormal {
        /// Mean.
        mean: Dur,
        /// 99th percentile.
        p99: Dur,
    },
    /// Sum of `k` exponentials: mean `mean`, coefficient of variation `1/√k`.
    Erlang {
        /// Number of phases (≥ 1).
        k: u32,
        /// Mean.
        mean: Dur,
    },
}

/// Network latency on the edge `from → to` (one way; a reply samples it again).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Link")]
pub struct RawLink {
    /// A source or node.
    pub from: String,
    /// A node.
    pub to: String,
    /// One-way latency.
    pub latency: RawDist,
}

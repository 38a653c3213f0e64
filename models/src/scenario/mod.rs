//! The scenario: from RON text to a validated [`Scenario`] the engine runs without further
//! checks.
//!
//! - [`raw`]: serde types that mirror the file (a node's own fields live in its component
//!   file); [`parse`] reads text into them with located, hinted errors;
//! - [`resolve`]: validation — names to typed ids, defaults filled, bounds checked;
//! - [`program`]: handler steps compiled to flat ops; [`graph`]: the call graph (cycles,
//!   class coverage, depths);
//! - [`dist`], [`profile`]: duration distributions and rate profiles;
//! - [`error`]: [`ScenarioError`], which says where (file:line:col), what, and a hint.

pub mod dist;
pub mod error;
pub mod graph;
pub mod overrides;
pub mod parse;
pub mod profile;
pub mod program;
pub mod raw;
pub mod resolve;
pub mod trace;
pub mod variants;
pub mod zones;

pub use error::{ErrorKind, ScenarioError};
pub use resolve::Resolver;

use crate::analysis::slo::Slo;
use crate::components::NodeKind;
use crate::control::actions::Action;
use crate::ids::{ClassId, LinkId, NodeId};
use dist::Dist;
use profile::Profile;
use program::Op;
use raw::Arrivals;
use sim_core::SimTime;

pub use crate::components::service::{MAX_CORES, MAX_INSTANCES};

/// Most time-series samples per run (`duration / sample_every`).
pub const MAX_SAMPLES: u64 = 1_000_000;
/// Most time-series points a run with `--series` keeps: nodes × samples (each point is
/// four numbers: queue, utilisation, instances, throughput).
pub const MAX_SERIES_POINTS: u64 = 10_000_000;

/// Most requests a run may be expected to simulate (the sources' rates over the duration)
/// unless `limits.max_events` is set: 10^11 is about 14 hours of computing at 2 M
/// requests/s, far past any intended run and short of a typo's `rate: Constant(1e9)` for a
/// day.
pub const MAX_EXPECTED_REQUESTS: f64 = 1e11;

/// A declared variant: overrides of the scenario, with its own expectations.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name.
    pub name: String,
    /// What it changes, in a line (empty without one).
    pub description: String,
    /// Its overrides.
    pub sets: Vec<overrides::Override>,
    /// SLOs it is meant to break.
    pub breaks: Vec<String>,
    /// Its expectations.
    pub expect: Vec<crate::analysis::expect::Expect>,
}

/// A validated scenario. Build it with [`Scenario::validate`] (or [`crate::load`]).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Seed of all random streams.
    pub seed: u64,
    /// Simulated run length.
    pub duration: SimTime,
    /// Statistics start here.
    pub warmup: SimTime,
    /// Time-series interval.
    pub sample_every: SimTime,
    /// Limit on live requests.
    pub max_in_flight: u64,
    /// Limit on events per run.
    pub max_events: Option<u64>,
    /// Every request class, across all sources (index = class id).
    pub classes: Vec<String>,
    /// What each class does to its key (index = class id).
    pub class_ops: Vec<raw::KeyOp>,
    /// Sources.
    pub sources: Vec<Source>,
    /// Nodes (index = node id).
    pub nodes: Vec<Node>,
    /// Links (index = link id).
    pub links: Vec<Link>,
    /// All handler programs, concatenated; handlers hold start offsets.
    pub ops: Vec<Op>,
    /// Scripted changes, in time order.
    pub actions: Vec<Action>,
    /// Deployments and resizes the actions start (`Verb::Deploy` indexes this).
    pub deploys: Vec<crate::control::Deploy>,
    /// Service-level objectives.
    pub slos: Vec<Slo>,
    /// Assertions for `scalelab check`.
    pub expect: Vec<crate::analysis::expect::Expect>,
    /// Alert rules.
    pub alerts: Vec<crate::analysis::alerts::Alert>,
    /// Topic (for `scalelab list`), empty without one.
    pub topic: String,
    /// The lesson's text, empty without one.
    pub lesson: String,
    /// SLOs meant to break (their names up to the comparison: `error_rate(browse)`).
    pub breaks: Vec<String>,
    /// Variants, as declared (their scenarios are built by [`crate::load_variant`]).
    pub variants: Vec<Variant>,
    /// Every zone a service runs in, sorted; a frame's `zone` is an index here + 1.
    pub zones: Vec<String>,
    /// Faults, in file order.
    pub faults: Vec<crate::control::faults::Fault>,
    /// Calls with a timeout or retries (`Op::Call`'s `policy` indexes here).
    pub calls: Vec<program::CallPolicy>,
    /// Regions, and the region of each zone.
    pub regions: zones::Regions,
    /// What crossing zones and regions costs, if anything.
    pub crossing: Option<zones::Crossing>,
    /// The fault space of `scalelab chaos`, if declared.
    pub chaos: Option<crate::control::chaos::ChaosSpace>,
}

impl Scenario {
    /// The id of zone `name` (1-based; 0 if no service runs there).
    pub fn zone_id(&self, name: &str) -> u16 {
        self.zones
            .binary_search_by(|z| z.as_str().cmp(name))
            .map_or(0, |i| i as u16 + 1)
    }

    /// The extra latency of a call from zone `from` into zone `to` (ids; 0 = none).
    #[inline]
    pub fn crossing(&self, from: u16, to: u16) -> Option<&Dist> {
        let c = self.crossing.as_ref()?;
        if from == to || from == 0 || to == 0 {
            return None;
        }
        let of = &self.regions.of_zone;
        if of[from as usize] == of[to as usize] {
            c.cross_zone.as_ref()
        } else {
            c.cross_region.as_ref()
        }
    }

    /// The region id of zone `zone` (0 when none).
    #[inline]
    pub fn region_of(&self, zone: u16) -> u16 {
        self.regions
            .of_zone
            .get(zone as usize)
            .copied()
            .unwrap_or(0)
    }
}

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name.
    pub name: String,
    /// Receiving node.
    pub target: NodeId,
    /// Link from the source to its target.
    pub link: Option<LinkId>,
    /// Rate profile.
    pub profile: Profile,
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Classes with cumulative weights (the last is 1).
    pub mix: Vec<MixEntry>,
    /// Number of sessions.
    pub sessions: u64,
    /// Client timeout.
    pub timeout: Option<SimTime>,
    /// The clients' zone id (0: none).
    pub zone: u16,
    /// The clients' retries.
    pub retry: program::RetryPolicy,
    /// A request trace to replay (arrival times and, where it says, class, key, session).
    pub trace: Option<trace::RequestTrace>,
}

/// One class in a source's mix.
#[derive(Debug, Clone)]
pub struct MixEntry {
    /// Class id.
    pub class: ClassId,
    /// Share of this source's requests.
    pub share: f64,
    /// Cumulative share up to and including this class.
    pub cum: f64,
    /// Key distribution.
    pub keys: KeyDist,
}

/// A validated key distribution.
#[derive(Debug, Clone, Copy)]
pub enum KeyDist {
    /// `0..n` uniformly.
    Uniform(u64),
    /// Zipf over `1..=n`, reported as `0..n`.
    Zipf {
        /// The sampler.
        dist: rand_distr::Zipf<f64>,
        /// Number of keys.
        n: u64,
        /// Skew.
        s: f64,
    },
}

impl KeyDist {
    /// Draw a key in `0..n`. Never allocates.
    #[inline]
    pub fn sample(&self, rng: &mut sim_core::Stream) -> u64 {
        match *self {
            KeyDist::Uniform(n) => rng.below(n),
            KeyDist::Zipf { dist, .. } => {
                use rand_distr::Distribution;
                (dist.sample(&mut **rng) as u64).saturating_sub(1)
            }
        }
    }
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name.
    pub name: String,
    /// What it is, with its validated config.
    pub kind: NodeKind,
}

/// A link with its latency distribution.
#[derive(Debug, Clone)]
pub struct Link {
    /// Source or node name.
    pub from: String,
    /// Node name.
    pub to: String,
    /// One-way latency.
    pub latency: Dist,
}

/// Why a command-line override of the scenario is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverrideError {
    /// `--duration 0s`.
    #[error("--duration must be above zero")]
    ZeroDuration,
    /// `--duration` not longer than the warm-up.
    #[error("--duration {duration} is not longer than the scenario's warmup ({warmup})")]
    DurationWithinWarmup {
        /// Requested duration.
        duration: SimTime,
        /// The scenario's warm-up.
        warmup: SimTime,
    },
    /// `--duration` makes the run too large to finish.
    #[error("--duration {duration} means about {requests:.1e} requests, more than {MAX_EXPECTED_REQUESTS:e}; shorten it, or set limits.max_events in the file to accept a run cut there")]
    TooManyRequests {
        /// Requested duration.
        duration: SimTime,
        /// Expected requests.
        requests: f64,
    },
    /// `--series` over more nodes × samples than the bound.
    #[error("--series would keep {points} points ({nodes} nodes × {samples} samples), more than {MAX_SERIES_POINTS}; raise sample_every in the file")]
    TooManySeriesPoints {
        /// Nodes × samples.
        points: u64,
        /// Nodes.
        nodes: u64,
        /// Samples.
        samples: u64,
    },
    /// `--duration` gives more time-series samples than the bound.
    #[error("--duration {duration} gives more than {MAX_SAMPLES} time-series samples at sample_every {every}; sample less often in the file")]
    TooManySamples {
        /// Requested duration.
        duration: SimTime,
        /// The scenario's sampling interval.
        every: SimTime,
    },
}

impl Scenario {
    /// Replace the run length (from `--duration`). Every bound the file was checked
    /// against is checked again. Scripted actions after the new end do not happen (the
    /// report warns).
    pub fn set_duration(&mut self, d: SimTime) -> Result<(), OverrideError> {
        if d == SimTime::ZERO {
            return Err(OverrideError::ZeroDuration);
        }
        if self.warmup >= d {
            return Err(OverrideError::DurationWithinWarmup {
                duration: d,
                warmup: self.warmup,
            });
        }
        let requests = self.expected_requests(d);
        if requests > MAX_EXPECTED_REQUESTS && self.max_events.is_none() {
            return Err(OverrideError::TooManyRequests {
                duration: d,
                requests,
            });
        }
        if d.0 / self.sample_every.0 > MAX_SAMPLES {
            return Err(OverrideError::TooManySamples {
                duration: d,
                every: self.sample_every,
            });
        }
        self.duration = d;
        Ok(())
    }

    /// Whether keeping time series (`--series`) stays within [`MAX_SERIES_POINTS`].
    pub fn check_series(&self) -> Result<(), OverrideError> {
        let nodes = self.nodes.len() as u64;
        let samples = self.duration.0 / self.sample_every.0;
        let points = nodes.saturating_mul(samples);
        if points > MAX_SERIES_POINTS {
            return Err(OverrideError::TooManySeriesPoints {
                points,
                nodes,
                samples,
            });
        }
        Ok(())
    }

    /// Requests the sources send over a run of length `d` (their rates integrated).
    pub fn expected_requests(&self, d: SimTime) -> f64 {
        let s = d.as_secs_f64();
        self.sources
            .iter()
            .map(|src| src.profile.cumulative(0.0, s))
            .sum()
    }

    /// The id of the node called `name`.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .map(NodeId::new)
    }

    /// The id of the class called `name`.
    pub fn class_id(&self, name: &str) -> Option<ClassId> {
        self.classes
            .iter()
            .position(|n| n == name)
            .map(ClassId::new)
    }
}

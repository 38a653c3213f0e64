//! models: scalelab's world.
//!
//! - [`schema`]: the scenario file as written (serde + RON); [`parse`] reads it;
//! - [`scenario`]: validation into a [`Scenario`] with resolved indices and filled defaults;
//! - [`dist`], [`profile`]: duration distributions and arrival-rate profiles;
//! - [`world`]: the simulation (sources, load balancers, service pools, links);
//! - [`balancer`]: load-balancing algorithms;
//! - [`capacity`]: the static capacity estimate behind `scalelab validate`;
//! - [`report`]: per-run and merged reports, human and JSON.
//!
//! Entry points: [`load`] a file, then [`run`] it.
#![warn(missing_docs)]

pub mod balancer;
pub mod capacity;
pub mod dist;
pub mod error;
pub mod parse;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod world;

pub use error::{ErrorKind, ScenarioError};
pub use report::Report;
pub use scenario::Scenario;

use std::path::Path;
use std::sync::Arc;

/// Read, parse and validate the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let (raw, text) = parse::read_file(path)?;
    Scenario::validate(&raw, &path.display().to_string(), &text)
}

/// Parse and validate scenario text; `name` stands for the file in errors.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let text: Arc<str> = text.into();
    let raw = parse::parse_str(name, text.clone())?;
    Scenario::validate(&raw, name, &text)
}

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Base seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Number of replications (default 1).
    pub replications: u32,
    /// Rayon threads for replications (default: all cores).
    pub threads: Option<usize>,
    /// Keep the per-node time series in the report.
    pub series: bool,
}

/// Run `sc` as `opts` says. Returns the (mean) report and, for several replications, the
/// report of 95% CI half-widths. The result does not depend on the number of threads.
pub fn run(sc: &Scenario, opts: &RunOptions) -> (Report, Option<Report>) {
    let seed = opts.seed.unwrap_or(sc.seed);
    let n = opts.replications.max(1);
    let reports = sim_core::replicate(n, seed, opts.threads, |_, s| {
        Report::from_run(sc, &world::simulate(sc, s))
    });
    let (mut mean, mut ci) = if n == 1 {
        // Replication 0 runs with the base seed itself, so its report already says it.
        (reports.into_iter().next().expect("one replication"), None)
    } else {
        let (mean, ci) = Report::merge(sc, &reports);
        (mean, Some(ci))
    };
    if !opts.series {
        mean.series = None;
        if let Some(c) = ci.as_mut() {
            c.series = None;
        }
    }
    (mean, ci)
}

//! Batch work: replications of one scenario, each report kept, and their merge.
//!
//! Replication `k` runs with `sim_core::replication_seed(seed, k)` (replication 0 with the
//! seed itself), on rayon, and results come back in replication order, so neither the
//! merge nor any per-replication report depends on the thread count.

use crate::report::Report;
use crate::scenario::Scenario;
use crate::world::simulate;
use std::sync::Arc;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Base seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Number of replications (default 1).
    pub replications: u32,
    /// Rayon threads for replications (default: all cores).
    pub threads: Option<usize>,
    /// Keep the per-node time series in the reports.
    pub series: bool,
}

/// Every replication's report and their merge.
#[derive(Debug, Clone)]
pub struct Replications {
    /// One report per replication, in replication order.
    pub reports: Vec<Report>,
    /// The mean over replications (the single report when there is one).
    pub mean: Report,
    /// 95% CI half-widths, same shape as `mean` (with two or more replications).
    pub ci: Option<Report>,
}

/// Run `sc` once with `seed` and report it (time series included).
pub fn run_once(sc: &Arc<Scenario>, seed: u64) -> Report {
    Report::from_run(sc, &simulate(sc, seed))
}

/// Run `sc` as `opts` says: every replication, then their merge.
pub fn replicate(sc: &Arc<Scenario>, opts: &RunOptions) -> Replications {
    let seed = opts.seed.unwrap_or(sc.seed);
    let n = opts.replications.max(1);
    let mut reports = sim_core::replicate(n, seed, opts.threads, |_, s| {
        let mut r = run_once(sc, s);
        if !opts.series {
            r.series = None;
        }
        r
    });
    let (mean, ci) = if n == 1 {
        // Replication 0 runs with the base seed itself, so its report already says it.
        (reports[0].clone(), None)
    } else {
        let (mean, ci) = Report::merge(sc, &reports);
        (mean, Some(ci))
    };
    reports.shrink_to_fit();
    Replications { reports, mean, ci }
}

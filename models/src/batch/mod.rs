//! Batch work: replications of one scenario, each report kept, and their merge.
//!
//! Replication `k` runs with `sim_core::replication_seed(seed, k)` (replication 0 with the
//! seed itself), on rayon, and results come back in replication order, so neither the
//! merge nor any per-replication report depends on the thread count.

pub mod compare;
pub mod sweep;

use crate::report::Report;
use crate::scenario::Scenario;
use crate::world::trace::TraceLog;
use crate::world::{simulate, simulate_traced, simulate_with};
use std::sync::Arc;

/// A stable fingerprint (FNV-1a, 64 bits, as hex) of `parts`, each ended by a byte no
/// UTF-8 text holds: what a batch's shards record, so that the results of different
/// batches are never mixed.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in parts {
        for b in s.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A shard `K/N` (1 ≤ K ≤ N): the points (or runs) whose index is K − 1 modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1.
    pub k: u64,
    /// N.
    pub n: u64,
}

impl Shard {
    /// Parse `K/N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: write K/N with 1 ≤ K ≤ N, e.g. --shard 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    /// Whether index `i` is this shard's.
    pub fn owns(&self, i: u64) -> bool {
        i % self.n == self.k - 1
    }
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
    /// Keep the per-node time series in the reports.
    pub series: bool,
    /// Trace one in this many requests of replication 0 (see [`crate::world::trace`]).
    pub trace_every: Option<u64>,
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
    /// Replication 0's traces, when [`RunOptions::trace_every`] asked for them.
    pub trace: Option<TraceLog>,
}

/// Run `sc` once with `seed` and report it (time series included).
pub fn run_once(sc: &Arc<Scenario>, seed: u64) -> Report {
    Report::from_run(sc, &simulate(sc, seed))
}

/// Run `sc` as `opts` says: every replication, then their merge.
pub fn replicate(sc: &Arc<Scenario>, opts: &RunOptions) -> Replications {
    let seed = opts.seed.unwrap_or(sc.seed);
    let n = opts.replications.max(1);
    let runs = sim_core::replicate(n, seed, opts.threads, |k, s| {
        let (stats, trace) = match opts.trace_every.filter(|_| k == 0) {
            Some(every) => {
                let (stats, log) = simulate_traced(sc, s, opts.series, every);
                (stats, Some(log))
            }
            None => (simulate_with(sc, s, opts.series), None),
        };
        let r = Report::from_run(sc, &stats);
        let r = if opts.series { r } else { r.without_series() };
        (r, trace)
    });
    let mut trace = None;
    let mut reports: Vec<Report> = runs
        .into_iter()
        .map(|(r, t)| {
            trace = trace.take().or(t);
            r
        })
        .collect();
    let (mean, ci) = if n == 1 {
        // Replication 0 runs with the base seed itself, so its report already says it.
        (reports[0].clone(), None)
    } else {
        let (mean, ci) = Report::merge(sc, &reports);
        (mean, Some(ci))
    };
    reports.shrink_to_fit();
    Replications {
        reports,
        mean,
        ci,
        trace,
    }
}

/// When each of `sc`'s SLOs first failed in the run with `seed`: the first sampling
/// instant (every `sample_every`) at which its figure over the measured window so far broke
/// its limit (`None`: never, or a cost, known only at the end).
pub fn first_breach(sc: &Arc<Scenario>, seed: u64) -> Vec<Option<f64>> {
    let mut sim = crate::world::World::simulation(sc.clone(), seed);
    let mut out = vec![None; sc.slos.len()];
    let mut scratch = sim_core::Histogram::new();
    let step = sc
        .sample_every
        .max(sim_core::SimTime::from_nanos(1_000_000));
    let mut t = sc.warmup;
    while t < sc.duration && out.iter().any(Option::is_none) {
        t = (t + step).min(sc.duration);
        sim.run_until(t);
        for (o, now) in out.iter_mut().zip(sim.model().slo_now(&mut scratch)) {
            if o.is_none() && now.pass == Some(false) {
                *o = Some(sim.now().as_secs_f64());
            }
        }
        if sim_core::Model::should_stop(sim.model()) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../../scenarios/default.ron");

    #[test]
    fn the_merge_is_the_mean_of_the_replication_reports_whatever_the_threads() {
        let mut sc = crate::load_str("default.ron", DEFAULT).unwrap();
        sc.set_duration(sim_core::SimTime::from_secs(90)).unwrap();
        let sc = Arc::new(sc);
        let opts = |threads| RunOptions {
            seed: Some(11),
            replications: 5,
            threads: Some(threads),
            series: false,
            trace_every: None,
        };
        let one = replicate(&sc, &opts(1));
        let two = replicate(&sc, &opts(2));
        assert_eq!(
            one.reports, two.reports,
            "per-replication reports vary with threads"
        );
        assert_eq!(one.mean, two.mean);
        assert_eq!(one.reports.len(), 5);
        // Replication k ran with the k-th derived seed; the first with the seed itself.
        assert_eq!(one.reports[0].seed, 11);
        assert_eq!(one.reports[0], run_once(&sc, 11).without_series());
        let mean = |f: &dyn Fn(&Report) -> f64| {
            one.reports.iter().map(f).sum::<f64>() / one.reports.len() as f64
        };
        type Figure<'a> = (&'a str, &'a dyn Fn(&Report) -> f64);
        let figures: [Figure; 6] = [
            ("p99", &|r| r.summary.latency.p99),
            ("requests", &|r| r.summary.requests),
            ("error rate", &|r| r.summary.error_rate),
            ("web utilisation", &|r| r.nodes[1].utilization),
            ("checkout mean", &|r| r.classes[1].stats.latency.mean),
            ("cost", &|r| r.cost.total),
        ];
        for (what, f) in figures {
            let (m, got) = (mean(f), f(&one.mean));
            assert!(
                (m - got).abs() <= 1e-12 * m.abs(),
                "{what}: merged {got} vs mean of replications {m}"
            );
        }
        let p99: Vec<f64> = one.reports.iter().map(|r| r.summary.latency.p99).collect();
        assert!(p99.windows(2).any(|w| w[0] != w[1]), "replications differ");
        let ci = one.ci.as_ref().unwrap();
        assert_eq!(ci.summary.latency.p99, sim_core::Summary::of(&p99).ci95);
    }
}

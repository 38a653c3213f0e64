//! Comparing designs with common random numbers.
//!
//! Every design runs on the same seeds: replication `k` of each design uses
//! `sim_core::replication_seed(base, k)`, and since each random quantity has its own named
//! stream, the same seed gives every design the same arrivals, the same request sizes, the
//! same failures — only the design differs. The difference between two designs is then
//! taken seed by seed (a **paired** difference), whose spread is the spread of the design's
//! effect alone, not of the traffic: its confidence interval is narrower than the one of two
//! independent samples on the same data (the report gives both).
//!
//! Per metric: each design's mean with its 95% CI (Student t over seeds), and for each pair
//! of designs the paired difference with its 95% CI and a verdict — better, worse, or no
//! significant difference (the CI contains 0).

use crate::report::Report;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use sim_core::{replication_seed, student_t_975, Summary};
use std::sync::Arc;

/// One design to compare: a scenario, under a name.
#[derive(Debug, Clone)]
pub struct Design {
    /// Its name in the comparison (`A`'s scenario name, a variant's name).
    pub name: String,
    /// Where it comes from: a file, or a file with overrides.
    pub source: String,
    /// The validated scenario.
    pub scenario: Arc<Scenario>,
}

/// A comparison's result (what `scalelab compare --json` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Seeds per design.
    pub seeds: u32,
    /// The base seed (replication k runs with `replication_seed(base, k)`).
    pub base_seed: u64,
    /// The designs, in the order given.
    pub designs: Vec<DesignInfo>,
    /// Per metric: values and pairwise differences.
    pub metrics: Vec<MetricComparison>,
}

/// A design as the report names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignInfo {
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub source: String,
}

/// What a figure is, for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Seconds.
    Seconds,
    /// Per second.
    PerSecond,
    /// A fraction (0..1).
    Fraction,
    /// Money.
    Money,
}

/// One metric across the designs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `p99_latency`, `checkout.p99_latency`, `error_rate`, `slo: p99_latency ≤ 0.5s`...
    pub name: String,
    /// Its unit.
    pub unit: Unit,
    /// Lower values are better (latency, errors, cost); else higher (throughput).
    pub lower_is_better: bool,
    /// Per design, in order.
    pub values: Vec<Estimate>,
    /// Per pair of designs (a < b): b − a.
    pub pairs: Vec<PairComparison>,
}

/// A mean with its 95% CI half-width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over seeds.
    pub mean: f64,
    /// 95% CI half-width.
    pub ci95: f64,
}

/// The difference of design `b` from design `a` on one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairComparison {
    /// Index of the first design.
    pub a: usize,
    /// Index of the second.
    pub b: usize,
    /// Mean of the per-seed differences b − a.
    pub diff: f64,
    /// 95% CI half-width of the paired difference.
    pub ci95: f64,
    /// 95% CI half-width had the runs been independent (Welch), for contrast.
    pub unpaired_ci95: f64,
    /// `b` against `a`.
    pub verdict: Verdict,
}

/// Design `b` against design `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better (the CI excludes 0, on the good side).
    Better,
    /// Significantly worse.
    Worse,
    /// The CI contains 0.
    NoSignificantDifference,
}

impl Verdict {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoSignificantDifference => "no significant difference",
        }
    }
}

/// Reads one figure of a report (`None`: the report has no such figure).
type Read = Box<dyn Fn(&Report) -> Option<f64> + Sync>;

/// A metric read from a report.
struct Def {
    name: String,
    unit: Unit,
    lower_is_better: bool,
    read: Read,
}

/// The metrics compared: overall throughput, error rate and latency percentiles, the same
/// per class when there are several, the cost, and each SLO all designs declare.
fn defs(designs: &[Design]) -> Vec<Def> {
    let mut out: Vec<Def> = vec![];
    let mut add = |name: String, unit, lower, read: Read| {
        out.push(Def {
            name,
            unit,
            lower_is_better: lower,
            read,
        })
    };
    add(
        "throughput".into(),
        Unit::PerSecond,
        false,
        Box::new(|r| Some(r.summary.throughput)),
    );
    add(
        "error_rate".into(),
        Unit::Fraction,
        true,
        Box::new(|r| Some(r.summary.error_rate)),
    );
    for (label, pick) in PERCENTILES {
        add(
            label.into(),
            Unit::Seconds,
            true,
            Box::new(move |r| Some(pick(&r.summary.latency))),
        );
    }
    let classes = &designs[0].scenario.classes;
    if classes.len() > 1 {
        for (k, c) in classes.iter().enumerate() {
            add(
                format!("{c}.error_rate"),
                Unit::Fraction,
                true,
                Box::new(move |r| r.classes.get(k).map(|c| c.stats.error_rate)),
            );
            for (label, pick) in PERCENTILES {
                add(
                    format!("{c}.{label}"),
                    Unit::Seconds,
                    true,
                    Box::new(move |r| r.classes.get(k).map(|c| pick(&c.stats.latency))),
                );
            }
        }
    }
    add(
        "cost".into(),
        Unit::Money,
        true,
        Box::new(|r| Some(r.cost.total)),
    );
    // SLOs by their name (`p99_latency ≤ 0.5s`), where every design declares them.
    let names = |d: &Design| -> Vec<String> {
        d.scenario
            .slos
            .iter()
            .map(|s| s.name(&d.scenario))
            .collect()
    };
    for name in names(&designs[0]) {
        if designs.iter().all(|d| names(d).contains(&name)) {
            let floor = name.contains('≥');
            let n = name.clone();
            add(
                format!("slo: {name}"),
                slo_unit(&name),
                !floor,
                Box::new(move |r| r.slo.iter().find(|s| s.name == n).map(|s| s.value)),
            );
            let n = name.clone();
            add(
                format!("slo met: {name}"),
                Unit::Fraction,
                false,
                Box::new(move |r| {
                    r.slo
                        .iter()
                        .find(|s| s.name == n)
                        .map(|s| if s.pass { 1.0 } else { 0.0 })
                }),
            );
        }
    }
    out
}

type Pick = fn(&crate::report::Latency) -> f64;
const PERCENTILES: [(&str, Pick); 3] = [
    ("p50_latency", |l| l.p50),
    ("p95_latency", |l| l.p95),
    ("p99_latency", |l| l.p99),
];

fn slo_unit(name: &str) -> Unit {
    if name.contains("latency") {
        Unit::Seconds
    } else if name.starts_with("cost") {
        Unit::Money
    } else {
        Unit::Fraction
    }
}

/// Why designs cannot be compared: their classes differ (names or order).
pub fn check_comparable(designs: &[Design]) -> Result<(), String> {
    let first = &designs[0];
    for d in &designs[1..] {
        if d.scenario.classes != first.scenario.classes {
            let only = |a: &Design, b: &Design| -> Vec<String> {
                a.scenario
                    .classes
                    .iter()
                    .filter(|c| !b.scenario.classes.contains(c))
                    .cloned()
                    .collect()
            };
            let (x, y) = (only(first, d), only(d, first));
            let what = if x.is_empty() && y.is_empty() {
                format!(
                    "the same classes in another order ({} vs {})",
                    first.scenario.classes.join(", "),
                    d.scenario.classes.join(", ")
                )
            } else {
                let mut parts = vec![];
                if !x.is_empty() {
                    parts.push(format!("only `{}` has {}", first.name, x.join(", ")));
                }
                if !y.is_empty() {
                    parts.push(format!("only `{}` has {}", d.name, y.join(", ")));
                }
                parts.join("; ")
            };
            return Err(format!(
                "`{}` and `{}` do not send the same request classes: {what}",
                first.name, d.name
            ));
        }
    }
    Ok(())
}

/// What a comparison runs and what its figures are called: the first line of a shard's
/// file (`scalelab compare --shard K/N --jsonl FILE`), which `scalelab merge` checks is the
/// same in every shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// A fingerprint of every design's validated scenario, the seeds and the base seed.
    pub compare: String,
    /// Seeds per design.
    pub seeds: u32,
    /// The base seed.
    pub base_seed: u64,
    /// The designs, in the order given.
    pub designs: Vec<DesignInfo>,
    /// The metrics read from each run, in order.
    pub metrics: Vec<MetricDef>,
}

/// A metric's name and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDef {
    /// Its name.
    pub name: String,
    /// Its unit.
    pub unit: Unit,
    /// Lower values are better.
    pub lower_is_better: bool,
}

/// One run's figures (run `r` is design `r / seeds` on seed index `r % seeds`): a line of
/// a shard's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// The comparison's fingerprint.
    pub compare: String,
    /// The run's index.
    pub run: u64,
    /// Each metric's figure (`None`: the run has none, or it is not finite).
    pub figures: Vec<Option<f64>>,
}

impl Plan {
    /// The plan for comparing `designs` on `seeds` seeds from `base_seed`.
    pub fn new(designs: &[Design], seeds: u32, base_seed: u64) -> Result<Plan, String> {
        if designs.len() < 2 {
            return Err("compare needs at least two designs".into());
        }
        if seeds < 2 {
            return Err("compare needs at least 2 seeds for a confidence interval".into());
        }
        check_comparable(designs)?;
        let shapes: Vec<String> = designs
            .iter()
            .map(|d| format!("{:?}", d.scenario))
            .collect();
        let (n, base) = (seeds.to_string(), base_seed.to_string());
        let names = designs
            .iter()
            .flat_map(|d| [d.name.as_str(), d.source.as_str()]);
        Ok(Plan {
            compare: super::fingerprint(
                shapes
                    .iter()
                    .map(String::as_str)
                    .chain(names)
                    .chain([n.as_str(), base.as_str()]),
            ),
            seeds,
            base_seed,
            designs: designs
                .iter()
                .map(|d| DesignInfo {
                    name: d.name.clone(),
                    source: d.source.clone(),
                })
                .collect(),
            metrics: defs(designs)
                .into_iter()
                .map(|d| MetricDef {
                    name: d.name,
                    unit: d.unit,
                    lower_is_better: d.lower_is_better,
                })
                .collect(),
        })
    }

    /// Runs in all: designs × seeds.
    pub fn runs(&self) -> u64 {
        self.designs.len() as u64 * self.seeds as u64
    }

    /// Run `runs` of `designs` (the designs this plan was made from) on `threads`;
    /// results in the order of `runs`. `progress` is called after each.
    pub fn run(
        &self,
        designs: &[Design],
        runs: &[u64],
        threads: Option<usize>,
        progress: &(dyn Fn() + Sync),
    ) -> Vec<RunFigures> {
        let defs = defs(designs);
        let n = self.seeds as u64;
        sim_core::par_map(runs.len(), threads, |j| {
            let run = runs[j];
            let sc = &designs[(run / n) as usize].scenario;
            let seed = replication_seed(self.base_seed, (run % n) as u32);
            let r = Report::from_run(sc, &crate::world::simulate_with(sc, seed, false));
            progress();
            RunFigures {
                compare: self.compare.clone(),
                run,
                figures: defs
                    .iter()
                    .map(|m| (m.read)(&r).filter(|x| x.is_finite()))
                    .collect(),
            }
        })
    }

    /// The comparison from every run's figures (`figures[r]` for run `r`).
    pub fn assemble(&self, figures: &[Vec<Option<f64>>]) -> Comparison {
        let n = self.seeds as usize;
        let column = |d: usize, m: usize| -> Option<Vec<f64>> {
            (0..n)
                .map(|k| figures[d * n + k].get(m).copied().flatten())
                .collect()
        };
        let metrics = self
            .metrics
            .iter()
            .enumerate()
            .filter_map(|(m, def)| {
                let cols: Vec<Vec<f64>> = (0..self.designs.len())
                    .map(|d| column(d, m))
                    .collect::<Option<_>>()?;
                let values = cols
                    .iter()
                    .map(|c| {
                        let s = Summary::of(c);
                        Estimate {
                            mean: s.mean,
                            ci95: s.ci95,
                        }
                    })
                    .collect();
                let mut pairs = vec![];
                for a in 0..cols.len() {
                    for b in a + 1..cols.len() {
                        pairs.push(pair(a, b, &cols[a], &cols[b], def.lower_is_better));
                    }
                }
                Some(MetricComparison {
                    name: def.name.clone(),
                    unit: def.unit,
                    lower_is_better: def.lower_is_better,
                    values,
                    pairs,
                })
            })
            .collect();
        Comparison {
            seeds: self.seeds,
            base_seed: self.base_seed,
            designs: self.designs.clone(),
            metrics,
        }
    }
}

/// Run every design on `seeds` seeds from `base_seed` (in parallel on `threads`; the
/// result does not depend on it) and compare them. `progress` is called after each run.
pub fn compare(
    designs: &[Design],
    seeds: u32,
    base_seed: u64,
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Result<Comparison, String> {
    let plan = Plan::new(designs, seeds, base_seed)?;
    // Each run reduced to its figures at once: memory holds designs × seeds × metrics.
    let all: Vec<u64> = (0..plan.runs()).collect();
    let figures: Vec<Vec<Option<f64>>> = plan
        .run(designs, &all, threads, progress)
        .into_iter()
        .map(|r| r.figures)
        .collect();
    Ok(plan.assemble(&figures))
}

/// b − a, paired seed by seed, with its verdict.
fn pair(a: usize, b: usize, xa: &[f64], xb: &[f64], lower_is_better: bool) -> PairComparison {
    let d: Vec<f64> = xa.iter().zip(xb).map(|(x, y)| y - x).collect();
    let s = Summary::of(&d);
    let (sa, sb) = (Summary::of(xa), Summary::of(xb));
    let n = xa.len() as f64;
    let (va, vb) = (sa.std_dev.powi(2) / n, sb.std_dev.powi(2) / n);
    // Welch–Satterthwaite degrees of freedom (2n − 2 when both spreads are 0).
    let df = if va + vb > 0.0 {
        (va + vb).powi(2) / (va.powi(2) / (n - 1.0) + vb.powi(2) / (n - 1.0))
    } else {
        2.0 * n - 2.0
    };
    let unpaired = student_t_975(df.floor().max(1.0) as u32) * (va + vb).sqrt();
    let verdict = if s.mean.abs() <= s.ci95 {
        Verdict::NoSignificantDifference
    } else if (s.mean < 0.0) == lower_is_better {
        Verdict::Better
    } else {
        Verdict::Worse
    };
    PairComparison {
        a,
        b,
        diff: s.mean,
        ci95: s.ci95,
        unpaired_ci95: unpaired,
        verdict,
    }
}

impl Comparison {
    /// The JSON report (pretty, stable order).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a comparison serialises");
        s.push('\n');
        s
    }

    /// The human report: per metric, each design's value and each pair's paired
    /// difference with its verdict.
    pub fn to_human(&self) -> String {
        let letter = |i: usize| -> String {
            if i < 26 {
                ((b'A' + i as u8) as char).to_string()
            } else {
                format!("D{i}")
            }
        };
        let mut o = format!(
            "compare: {} designs × {} seeds (base seed {}; common random numbers: the same traffic and faults for every design)\n",
            self.designs.len(),
            self.seeds,
            self.base_seed
        );
        for (i, d) in self.designs.iter().enumerate() {
            o += &format!("  {} = {}  ({})\n", letter(i), d.name, d.source);
        }
        o += "\nmeans ± 95% confidence intervals; differences paired seed by seed\n\n";
        let mut head = vec!["metric".to_string()];
        head.extend((0..self.designs.len()).map(letter));
        let pairs = self.metrics.first().map_or(&[][..], |m| &m.pairs[..]);
        for p in pairs {
            head.push(format!("{} − {}", letter(p.b), letter(p.a)));
            head.push("verdict".into());
        }
        let mut rows = vec![head];
        for m in &self.metrics {
            let dir = if m.lower_is_better { "↓" } else { "↑" };
            let mut row = vec![format!("{} {dir}", m.name)];
            row.extend(m.values.iter().map(|v| show(m.unit, v.mean, v.ci95, false)));
            for p in &m.pairs {
                row.push(show(m.unit, p.diff, p.ci95, true));
                row.push(match p.verdict {
                    Verdict::NoSignificantDifference => "no significant difference".into(),
                    v => format!("{} {}", letter(p.b), v.label()),
                });
            }
            rows.push(row);
        }
        let cols = rows[0].len();
        let width: Vec<usize> = (0..cols)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for r in &rows {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                let pad = width[c] - cell.chars().count();
                if c == 0 || c + 1 == cols {
                    line += &format!("{cell}{}", " ".repeat(pad));
                } else {
                    line += &format!("{}{cell}", " ".repeat(pad));
                }
                line += "   ";
            }
            o += line.trim_end();
            o.push('\n');
        }
        o += "\n↓ lower is better, ↑ higher is better; a verdict needs the paired 95% CI to exclude 0\n";
        o
    }
}

/// `1.52s ± 0.10s`, `812/s ± 3/s`, `0.012 ± 0.001`, with a sign for differences.
fn show(unit: Unit, v: f64, ci: f64, signed: bool) -> String {
    let f = |x: f64| -> String {
        match unit {
            Unit::Seconds => crate::report::human_secs(x.abs()),
            Unit::PerSecond => format!("{:.1}/s", x.abs()),
            Unit::Fraction => format!("{:.4}", x.abs()),
            Unit::Money if x.abs() < 10.0 => format!("{:.4}", x.abs()),
            Unit::Money => format!("{:.2}", x.abs()),
        }
    };
    let sign = if v < 0.0 {
        "−"
    } else if signed && v > 0.0 {
        "+"
    } else {
        ""
    };
    let ci = if ci.is_finite() { f(ci) } else { "∞".into() };
    format!("{sign}{} ± {ci}", f(v))
}

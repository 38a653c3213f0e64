//! Sweeps: a grid of overrides (`--set web.instances=2..16 --set cache.capacity=1e4,1e5`),
//! each point run on the same seeds, summarised as one JSON line.
//!
//! The grid is never built: point `i` is decoded from its index (the first axis varies
//! slowest), so memory does not grow with the number of points. Points run in batches in
//! parallel and come back in index order; each point's replications are merged like
//! `run --replications` (figures are means over seeds with 95% CIs, and an SLO is met when
//! its mean figure meets it).

use super::compare::Estimate;
pub use super::Shard;
use crate::report::Report;
use crate::scenario::overrides::{split_top, Override};
use crate::scenario::ScenarioError;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

/// Most points a sweep may have.
pub const MAX_POINTS: u64 = 10_000_000;
/// Most values one axis may have.
pub const MAX_AXIS_VALUES: usize = 1_000_000;

/// One axis: a path and its values (as typed; written as RON by the overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// `web.instances`.
    pub path: String,
    /// `["2", "3", ...]`.
    pub values: Vec<String>,
}

impl Axis {
    /// Parse `PATH=SPEC`: a list `a,b,c` (commas outside brackets and quotes), a range of
    /// integers `lo..hi` (both included), or `lo..hi:step` (numbers).
    pub fn parse(s: &str) -> Result<Axis, String> {
        let o = Override::parse(s)?;
        let spec = o.value.as_str();
        let values = match range(spec)? {
            Some(v) => v,
            None => split_top(spec)
                .into_iter()
                .map(|v| v.trim().to_string())
                .collect(),
        };
        if values.iter().any(String::is_empty) {
            return Err(format!("--set {s}: an empty value in the list"));
        }
        Ok(Axis {
            path: o.path,
            values,
        })
    }
}

/// `lo..hi[:step]` as its values, or `None` when `spec` is not a range.
fn range(spec: &str) -> Result<Option<Vec<String>>, String> {
    let Some((lo, rest)) = spec.split_once("..") else {
        return Ok(None);
    };
    let (hi, step) = match rest.split_once(':') {
        Some((h, s)) => (h, Some(s)),
        None => (rest, None),
    };
    let num = |x: &str, what: &str| -> Result<f64, String> {
        x.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("the range `{spec}`: {what} `{x}` is not a number"))
    };
    let (a, b) = (num(lo, "start")?, num(hi, "end")?);
    let s = match step {
        Some(s) => num(s, "step")?,
        None => 1.0,
    };
    if s <= 0.0 {
        return Err(format!("the range `{spec}`: the step must be above 0"));
    }
    if b < a {
        return Err(format!(
            "the range `{spec}` is empty: its end is below its start"
        ));
    }
    let n = ((b - a) / s + 1e-9).floor() as u64 + 1;
    if n > MAX_AXIS_VALUES as u64 {
        return Err(format!(
            "the range `{spec}` has {n} values, more than {MAX_AXIS_VALUES}"
        ));
    }
    let ints = [lo, hi, step.unwrap_or("1")]
        .iter()
        .all(|x| x.trim().parse::<i64>().is_ok());
    Ok(Some(
        (0..n)
            .map(|k| {
                let v = a + k as f64 * s;
                if ints {
                    format!("{}", v.round() as i64)
                } else {
                    // Round off the float steps' noise: 0.1 + 2 × 0.1 is 0.3.
                    format!("{}", (v * 1e9).round() / 1e9)
                }
            })
            .collect(),
    ))
}

/// A sweep: a scenario's text, its axes, seeds.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The file's name (errors, the fingerprint).
    pub file: String,
    /// Its text.
    pub text: String,
    /// The axes, first varying slowest.
    pub axes: Vec<Axis>,
    /// Seeds per point.
    pub seeds: u32,
    /// Base seed.
    pub base_seed: u64,
    /// Overrides applied to every point first (e.g. `duration`).
    pub fixed: Vec<Override>,
}

impl Sweep {
    /// Number of points.
    pub fn points(&self) -> u64 {
        self.axes
            .iter()
            .map(|a| a.values.len() as u64)
            .try_fold(1u64, |n, k| n.checked_mul(k))
            .unwrap_or(u64::MAX)
    }

    /// Point `i`'s overrides (the first axis varies slowest).
    pub fn point(&self, mut i: u64) -> Vec<Override> {
        let mut out = vec![];
        for a in self.axes.iter().rev() {
            let k = a.values.len() as u64;
            out.push(Override {
                path: a.path.clone(),
                value: a.values[(i % k) as usize].clone(),
            });
            i /= k;
        }
        out.reverse();
        out
    }

    /// A stable fingerprint of what the sweep runs (file text, axes, seeds, fixed
    /// overrides): points of another sweep are never mixed in.
    pub fn fingerprint(&self) -> String {
        let fixed: Vec<String> = self.fixed.iter().map(|o| o.to_string()).collect();
        let (seeds, base) = (self.seeds.to_string(), self.base_seed.to_string());
        super::fingerprint(
            [self.text.as_str()]
                .into_iter()
                .chain(self.axes.iter().flat_map(|a| {
                    [a.path.as_str()]
                        .into_iter()
                        .chain(a.values.iter().map(String::as_str))
                }))
                .chain(fixed.iter().map(String::as_str))
                .chain([seeds.as_str(), base.as_str()]),
        )
    }

    /// The scenario of point `i`, validated (an error names the file, the place and the
    /// overrides).
    pub fn scenario(&self, i: u64) -> Result<crate::Scenario, ScenarioError> {
        let mut sets = self.fixed.clone();
        sets.extend(self.point(i));
        crate::load_str_with(&self.file, &self.text, &sets)
    }

    /// Run points `ids` (each on every seed) on `threads`, in parallel; results in the
    /// order of `ids`. `progress` is called after each run.
    pub fn run(
        &self,
        ids: &[u64],
        threads: Option<usize>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Vec<PointResult>, ScenarioError> {
        let scenarios: Vec<Arc<crate::Scenario>> = ids
            .iter()
            .map(|&i| self.scenario(i).map(Arc::new))
            .collect::<Result<_, _>>()?;
        let n = self.seeds as usize;
        let reports: Vec<Report> = sim_core::par_map(ids.len() * n, threads, |job| {
            let sc = &scenarios[job / n];
            let seed = sim_core::replication_seed(self.base_seed, (job % n) as u32);
            let r = Report::from_run(sc, &crate::world::simulate_with(sc, seed, false));
            progress();
            r
        });
        let fp = self.fingerprint();
        Ok(ids
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let reps = &reports[k * n..(k + 1) * n];
                let (mean, ci) = if n == 1 {
                    (reps[0].clone(), None)
                } else {
                    let (m, c) = Report::merge(&scenarios[k], reps);
                    (m, Some(c))
                };
                PointResult::of(&fp, (i, self.points()), self.point(i), &mean, ci.as_ref())
            })
            .collect())
    }
}

/// The overrides of a point, serialised as a JSON object in axis order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sets(pub Vec<(String, String)>);

impl Serialize for Sets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Sets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sets;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of path: value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Sets, A::Error> {
                let mut out = vec![];
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Sets(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One point's summary: a line of the sweep's JSON Lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// The sweep's fingerprint.
    pub sweep: String,
    /// The point's index in the grid.
    pub point: u64,
    /// Points in the grid.
    pub of: u64,
    /// Its overrides.
    pub set: Sets,
    /// Figures over its seeds.
    pub summary: PointSummary,
    /// Each SLO over its seeds.
    pub slos: Vec<PointSlo>,
    /// Every SLO met (on the means).
    pub meets_slos: bool,
}

/// A point's figures: means over seeds with 95% CIs (0 with one seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSummary {
    /// Requests completed per second.
    pub throughput: Estimate,
    /// Errors / (completed + errors).
    pub error_rate: Estimate,
    /// Seconds.
    pub p50_latency: Estimate,
    /// Seconds.
    pub p95_latency: Estimate,
    /// Seconds.
    pub p99_latency: Estimate,
    /// Total cost of the run.
    pub cost: Estimate,
}

/// An SLO at a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSlo {
    /// As the report names it.
    pub name: String,
    /// Mean figure over seeds.
    pub value: f64,
    /// Its 95% CI half-width.
    pub ci95: f64,
    /// The limit.
    pub limit: f64,
    /// Met by the mean.
    pub pass: bool,
}

impl PointResult {
    fn of(
        fp: &str,
        (point, of): (u64, u64),
        set: Vec<Override>,
        mean: &Report,
        ci: Option<&Report>,
    ) -> Self {
        let est = |f: fn(&Report) -> f64| Estimate {
            mean: f(mean),
            ci95: ci.map_or(0.0, f),
        };
        let slos: Vec<PointSlo> = mean
            .slo
            .iter()
            .enumerate()
            .map(|(k, s)| PointSlo {
                name: s.name.clone(),
                value: s.value,
                ci95: ci.and_then(|c| c.slo.get(k)).map_or(0.0, |c| c.value),
                limit: s.limit,
                pass: s.pass,
            })
            .collect();
        PointResult {
            sweep: fp.to_string(),
            point,
            of,
            set: Sets(set.into_iter().map(|o| (o.path, o.value)).collect()),
            summary: PointSummary {
                throughput: est(|r| r.summary.throughput),
                error_rate: est(|r| r.summary.error_rate),
                p50_latency: est(|r| r.summary.latency.p50),
                p95_latency: est(|r| r.summary.latency.p95),
                p99_latency: est(|r| r.summary.latency.p99),
                cost: est(|r| r.cost.total),
            },
            meets_slos: slos.iter().all(|s| s.pass),
            slos,
        }
    }

    /// A figure by name (for `--minimize`).
    pub fn figure(&self, name: &str) -> Option<Estimate> {
        let s = &self.summary;
        Some(match name {
            "cost" => s.cost,
            "p50_latency" => s.p50_latency,
            "p95_latency" => s.p95_latency,
            "p99_latency" => s.p99_latency,
            "error_rate" => s.error_rate,
            _ => return None,
        })
    }
}

/// Whether `p` replaces `best` as the point with the lowest `figure` among those meeting
/// every SLO (an earlier point stays on ties: feed points in index order).
pub fn beats(p: &PointResult, best: Option<&PointResult>, figure: &str) -> bool {
    let v = |x: &PointResult| x.figure(figure).map_or(f64::INFINITY, |e| e.mean);
    p.meets_slos && best.is_none_or(|b| v(p) < v(b) || (v(p) == v(b) && p.point < b.point))
}

/// Figures `--minimize` takes.
pub const MINIMIZE: &[&str] = &[
    "cost",
    "p50_latency",
    "p95_latency",
    "p99_latency",
    "error_rate",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_ranges_lists_and_the_grid() {
        let a = Axis::parse("web.instances=2..5").unwrap();
        assert_eq!(a.values, ["2", "3", "4", "5"]);
        let a = Axis::parse("x.target=0.5..0.8:0.1").unwrap();
        assert_eq!(a.values, ["0.5", "0.6", "0.7", "0.8"]);
        let a = Axis::parse("c.capacity=1e4,1e5, 1e6").unwrap();
        assert_eq!(a.values, ["1e4", "1e5", "1e6"]);
        let a = Axis::parse("sources.u.rate=Constant(5),Spike(base: 1, peak: 2)").unwrap();
        assert_eq!(a.values.len(), 2);
        for bad in [
            "w.i=5..2",
            "w.i=1..x",
            "w.i=1..5:0",
            "w.i=1,,2",
            "w.i=0..1e9",
        ] {
            assert!(Axis::parse(bad).is_err(), "{bad}");
        }
        let s = Sweep {
            file: "f".into(),
            text: String::new(),
            axes: vec![
                Axis::parse("a.x=1,2").unwrap(),
                Axis::parse("b.y=7..9").unwrap(),
            ],
            seeds: 1,
            base_seed: 1,
            fixed: vec![],
        };
        assert_eq!(s.points(), 6);
        let p = |i| {
            s.point(i)
                .iter()
                .map(|o| o.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(p(0), ["1", "7"]);
        assert_eq!(p(2), ["1", "9"]);
        assert_eq!(p(3), ["2", "7"]);
        assert_eq!(p(5), ["2", "9"]);
        let sets = Sets(vec![("b".into(), "1".into()), ("a".into(), "2".into())]);
        let j = serde_json::to_string(&sets).unwrap();
        assert_eq!(j, r#"{"b":"1","a":"2"}"#);
        assert_eq!(serde_json::from_str::<Sets>(&j).unwrap(), sets);
    }
}

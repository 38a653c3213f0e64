//! Service-level objectives: validated from the scenario's `slos`, checked on a report.
//!
//! Each objective reads one figure of the report over the measured window (a latency
//! percentile or mean, the error rate or availability of all requests or of one class, or
//! the run's total cost) and compares it with its limit: `value ≤ limit` for `under`,
//! `value ≥ limit` for `over`. With replications the figure is the mean over replications
//! (the report gives its `value_ci95`), and the verdict is on that mean.

use crate::ids::ClassId;
use crate::report::{Report, SloResult, Stats};
use crate::scenario::raw::RawSlo;
use crate::scenario::{Resolver, Scenario, ScenarioError};

/// The figure an objective reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// 99th percentile response time, seconds.
    P99Latency,
    /// 95th percentile response time, seconds.
    P95Latency,
    /// Median response time, seconds.
    P50Latency,
    /// Mean response time, seconds.
    MeanLatency,
    /// errors / (completed + errors).
    ErrorRate,
    /// completed / (completed + errors).
    Availability,
    /// Total instance cost of the run.
    Cost,
}

impl Metric {
    fn label(self) -> &'static str {
        match self {
            Metric::P99Latency => "p99_latency",
            Metric::P95Latency => "p95_latency",
            Metric::P50Latency => "p50_latency",
            Metric::MeanLatency => "mean_latency",
            Metric::ErrorRate => "error_rate",
            Metric::Availability => "availability",
            Metric::Cost => "cost",
        }
    }

    /// Higher is better (the limit is a floor).
    pub(crate) fn is_floor(self) -> bool {
        self == Metric::Availability
    }
}

/// A validated objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// What is read.
    pub metric: Metric,
    /// One class, or all requests.
    pub class: Option<ClassId>,
    /// The limit (seconds, a fraction, or money).
    pub limit: f64,
}

impl Slo {
    /// Validate the file's `slos`: classes must exist.
    pub fn validate_all(
        raw: &[RawSlo],
        sc: &Scenario,
        r: &Resolver,
    ) -> Result<Vec<Slo>, ScenarioError> {
        let from = r.loc().field("slos", 0).map_or(0, |s| s.1);
        raw.iter()
            .map(|s| {
                let (metric, class, limit) = match s {
                    RawSlo::P99Latency { class, under } => {
                        (Metric::P99Latency, class, under.0.as_secs_f64())
                    }
                    RawSlo::P95Latency { class, under } => {
                        (Metric::P95Latency, class, under.0.as_secs_f64())
                    }
                    RawSlo::P50Latency { class, under } => {
                        (Metric::P50Latency, class, under.0.as_secs_f64())
                    }
                    RawSlo::MeanLatency { class, under } => {
                        (Metric::MeanLatency, class, under.0.as_secs_f64())
                    }
                    RawSlo::ErrorRate { class, under } => (Metric::ErrorRate, class, under.0),
                    RawSlo::Availability { class, over } => (Metric::Availability, class, over.0),
                    RawSlo::Cost { under } => (Metric::Cost, &None, under.0),
                };
                let class = match class {
                    None => None,
                    Some(name) => Some(sc.class_id(name).ok_or_else(|| {
                        r.unknown_class(
                            name,
                            from,
                            format!("SLO on class `{name}`, which no source sends"),
                        )
                    })?),
                };
                Ok(Slo {
                    metric,
                    class,
                    limit,
                })
            })
            .collect()
    }

    /// E.g. `p99_latency(checkout) ≤ 0.8s`, `availability ≥ 0.999`.
    pub fn name(&self, sc: &Scenario) -> String {
        let class = self
            .class
            .map(|c| format!("({})", sc.classes[c.index()]))
            .unwrap_or_default();
        let op = if self.metric.is_floor() { "≥" } else { "≤" };
        let unit = match self.metric {
            Metric::P99Latency | Metric::P95Latency | Metric::P50Latency | Metric::MeanLatency => {
                "s"
            }
            _ => "",
        };
        format!("{}{class} {op} {}{unit}", self.metric.label(), self.limit)
    }

    /// The figure this objective reads from `r`.
    pub fn value(&self, r: &Report) -> f64 {
        let stats: &Stats = match self.class {
            Some(c) => &r.classes[c.index()].stats,
            None => &r.summary,
        };
        match self.metric {
            Metric::P99Latency => stats.latency.p99,
            Metric::P95Latency => stats.latency.p95,
            Metric::P50Latency => stats.latency.p50,
            Metric::MeanLatency => stats.latency.mean,
            Metric::ErrorRate => stats.error_rate,
            Metric::Availability => {
                if stats.completed + stats.errors > 0.0 {
                    1.0 - stats.error_rate
                } else {
                    0.0
                }
            }
            Metric::Cost => r.cost.total,
        }
    }

    /// Whether `value` meets the limit.
    pub fn passes(&self, value: f64) -> bool {
        if self.metric.is_floor() {
            value >= self.limit
        } else {
            value <= self.limit
        }
    }
}

/// Check every objective on `r`.
pub fn evaluate(slos: &[Slo], sc: &Scenario, r: &Report) -> Vec<SloResult> {
    slos.iter()
        .map(|s| {
            let value = s.value(r);
            SloResult {
                name: s.name(sc),
                pass: s.passes(value),
                value,
                limit: s.limit,
            }
        })
        .collect()
}

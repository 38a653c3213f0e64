//! Alerts: rules a monitoring system would evaluate on the running system, declared in
//! the scenario (`alerts: [...]`) and evaluated as the run goes.
//!
//! ```ron
//! alerts: [
//!     Alert(name: "slow", when: P95Latency(over: "500ms"), for: "1m"),
//!     Alert(name: "errors", when: ErrorRate(over: 0.01)),
//!     Alert(name: "web-hot", when: Utilization(node: "web", over: 0.8), every: "1m", for: "5m"),
//! ]
//! ```
//!
//! Semantics, as Prometheus's alerting rules: every `every` (default 30 s) the condition
//! is computed over what happened since the last evaluation — the latency percentile or
//! mean of the requests completed in it, the error rate of the requests that ended in it,
//! a node's time-averaged utilisation or queue over it. A condition with nothing to read
//! (no request completed) is false. When the condition turns true the alert is
//! *pending*; once it has been true at every evaluation for `for` (default 0: at once) it
//! *fires*; at the first evaluation where it is false it *resolves*. Firing and resolving
//! are on the timeline (`alert`), and the report's `alerts` has per rule how often it
//! fired, when first (`first_fired`, seconds; `null` if never) and how long it fired in
//! all. Evaluations start after the warm-up, as the statistics do. They are events on the
//! run's queue and draw no random numbers: adding alerts changes no other figure.

use crate::ids::{ClassId, NodeId};
use crate::scenario::raw::{Dur, Prob};
use crate::scenario::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::SimTime;

/// Most alert rules in one scenario.
pub const MAX_ALERTS: usize = 100;

/// An alert rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Alert")]
pub struct RawAlert {
    /// Its name (letters, digits, - and _), unique among the alerts.
    pub name: String,
    /// The condition.
    pub when: RawCondition,
    /// How often it is evaluated, over what happened since the last time. Default: `"30s"`.
    #[serde(default)]
    pub every: Option<Dur>,
    /// How long the condition must hold before the alert fires. Default: `"0s"`.
    #[serde(default, rename = "for")]
    pub hold: Option<Dur>,
}

/// An alert's condition as written: a figure over the evaluation interval above a bound.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "condition")]
pub enum RawCondition {
    /// The 99th percentile of the interval's response times.
    P99Latency {
        /// A class. Default: all.
        #[serde(default)]
        class: Option<String>,
        /// The bound.
        over: Dur,
    },
    /// The 95th percentile.
    P95Latency {
        /// A class. Default: all.
        #[serde(default)]
        class: Option<String>,
        /// The bound.
        over: Dur,
    },
    /// The median.
    P50Latency {
        /// A class. Default: all.
        #[serde(default)]
        class: Option<String>,
        /// The bound.
        over: Dur,
    },
    /// The mean.
    MeanLatency {
        /// A class. Default: all.
        #[serde(default)]
        class: Option<String>,
        /// The bound.
        over: Dur,
    },
    /// errors / (completed + errors) of the requests that ended in the interval.
    ErrorRate {
        /// A class. Default: all.
        #[serde(default)]
        class: Option<String>,
        /// The bound, in [0, 1].
        over: Prob,
    },
    /// A node's busy workers / workers, time-averaged over the interval.
    Utilization {
        /// The node.
        node: String,
        /// The bound, in [0, 1].
        over: Prob,
    },
    /// A node's requests waiting, time-averaged over the interval.
    Queue {
        /// The node.
        node: String,
        /// The bound.
        over: f64,
    },
}

/// What an alert reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// A quantile (0.5, 0.95, 0.99) of response times, seconds.
    Latency(f64),
    /// The mean response time, seconds.
    MeanLatency,
    /// The error rate.
    ErrorRate,
    /// A node's utilisation.
    Utilization(NodeId),
    /// A node's mean queue.
    Queue(NodeId),
}

/// A validated alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Its name.
    pub name: String,
    /// What it reads.
    pub figure: Figure,
    /// One class, or all requests (latency and error figures).
    pub class: Option<ClassId>,
    /// It is true above this (seconds, a fraction, or requests).
    pub over: f64,
    /// Evaluation interval.
    pub every: SimTime,
    /// How long it must hold before firing.
    pub hold: SimTime,
}

impl Alert {
    /// Validate the file's `alerts`.
    pub fn validate_all(
        raw: &[RawAlert],
        sc: &Scenario,
        r: &Resolver,
    ) -> Result<Vec<Alert>, ScenarioError> {
        let loc = r.loc();
        let field = loc.field("alerts", 0);
        if raw.len() > MAX_ALERTS {
            return Err(r
                .err(
                    field,
                    format!("{} alerts, more than the limit of {MAX_ALERTS}", raw.len()),
                )
                .with_hint("alert on fewer, broader figures"));
        }
        let mut out: Vec<Alert> = Vec::with_capacity(raw.len());
        for (i, a) in raw.iter().enumerate() {
            let at = loc.nth_entry("alerts", i, &["Alert("]);
            let here = loc.quoted(&a.name, at).or(field);
            r.check_name("alert", &a.name)?;
            if !crate::scenario::resolve::is_plain_name(&a.name) {
                return Err(r
                    .err(here, format!("alert `{}`: a name is letters, digits, - and _", a.name))
                    .with_hint("`expect` reads it as a path, alerts.NAME.first_fired: e.g. name: \"p95-slow\""));
            }
            if out.iter().any(|o| o.name == a.name) {
                return Err(r
                    .err(here, format!("alert `{}` is declared twice", a.name))
                    .with_hint(
                        "each alert's name once: the report and `expect` paths find it by name",
                    ));
            }
            let every = a.every.map_or(SimTime::from_secs(30), |d| d.0);
            let hold = a.hold.map_or(SimTime::ZERO, |d| d.0);
            if every == SimTime::ZERO {
                return Err(r
                    .err(
                        loc.field("every", at).or(here),
                        format!("alert `{}`: every is 0", a.name),
                    )
                    .with_hint("how often the rule is evaluated, e.g. every: \"30s\""));
            }
            if every > sc.duration {
                return Err(r
                    .err(
                        loc.field("every", at).or(here),
                        format!(
                            "alert `{}` is evaluated every {every}, longer than the run ({})",
                            a.name, sc.duration
                        ),
                    )
                    .with_hint("evaluate it more often than once per run, e.g. every: \"30s\""));
            }
            let class_of = |class: &Option<String>| -> Result<Option<ClassId>, ScenarioError> {
                match class {
                    None => Ok(None),
                    Some(name) => sc.class_id(name).map(Some).ok_or_else(|| {
                        r.unknown_class(
                            name,
                            at,
                            format!(
                                "alert `{}` on class `{name}`, which no source sends",
                                a.name
                            ),
                        )
                    }),
                }
            };
            let secs = |d: &Dur| d.0.as_secs_f64();
            let (figure, class, over) = match &a.when {
                RawCondition::P99Latency { class, over } => {
                    (Figure::Latency(0.99), class_of(class)?, secs(over))
                }
                RawCondition::P95Latency { class, over } => {
                    (Figure::Latency(0.95), class_of(class)?, secs(over))
                }
                RawCondition::P50Latency { class, over } => {
                    (Figure::Latency(0.5), class_of(class)?, secs(over))
                }
                RawCondition::MeanLatency { class, over } => {
                    (Figure::MeanLatency, class_of(class)?, secs(over))
                }
                RawCondition::ErrorRate { class, over } => {
                    (Figure::ErrorRate, class_of(class)?, over.0)
                }
                RawCondition::Utilization { node, over } => {
                    (Figure::Utilization(r.node(node, at)?), None, over.0)
                }
                RawCondition::Queue { node, over } => {
                    if !(over.is_finite() && *over >= 0.0) {
                        return Err(r
                            .err(
                                loc.field("over", at).or(here),
                                format!("alert `{}`: a queue bound of {over}", a.name),
                            )
                            .with_hint(
                                "requests waiting on average, a number ≥ 0, e.g. over: 50",
                            ));
                    }
                    (Figure::Queue(r.node(node, at)?), None, *over)
                }
            };
            out.push(Alert {
                name: a.name.clone(),
                figure,
                class,
                over,
                every,
                hold,
            });
        }
        Ok(out)
    }

    /// What it reads: `p95_latency(checkout)`, `web.utilization`.
    pub fn figure_name(&self, sc: &Scenario) -> String {
        let class = self
            .class
            .map(|c| format!("({})", sc.classes[c.index()]))
            .unwrap_or_default();
        let node = |n: NodeId| sc.nodes[n.index()].name.as_str();
        match self.figure {
            Figure::Latency(q) => format!("p{:.0}_latency{class}", q * 100.0),
            Figure::MeanLatency => format!("mean_latency{class}"),
            Figure::ErrorRate => format!("error_rate{class}"),
            Figure::Utilization(n) => format!("{}.utilization", node(n)),
            Figure::Queue(n) => format!("{}.mean_queue", node(n)),
        }
    }

    /// The unit of its figure and bound: `s` for latencies.
    pub fn unit(&self) -> &'static str {
        match self.figure {
            Figure::Latency(_) | Figure::MeanLatency => "s",
            _ => "",
        }
    }

    /// The rule as the report says it: `p95_latency > 0.5s for 60s`.
    pub fn rule(&self, sc: &Scenario) -> String {
        let hold = if self.hold > SimTime::ZERO {
            format!(" for {}", self.hold)
        } else {
            String::new()
        };
        format!(
            "{} > {}{}{hold}, every {}",
            self.figure_name(sc),
            self.over,
            self.unit(),
            self.every
        )
    }
}

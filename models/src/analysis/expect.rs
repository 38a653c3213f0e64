//! Expectations: assertions on any figure of the report, declared in the scenario
//! (`expect: [...]`) and checked by `scalelab check` — what makes a lesson true.
//!
//! ```ron
//! expect: [
//!     Under("web.utilization", 0.9),          // a node's figure
//!     Over("product-cache.cache.hit_ratio", 0.8),
//!     Under("checkout.p99_latency", "800ms"), // a class's figure; durations in seconds
//!     Between("error_rate", 0.01, 0.05),      // a summary figure
//!     Under("cost.total", 2.5),               // any figure of the JSON report
//!     Under("alerts.slow.first_fired", "alerts.errors.first_fired"), // another figure
//! ]
//! ```
//!
//! A bound is a number, a duration, or — written as a path with a dot — another figure of
//! the same report, for orderings no fixed number can state robustly ("the latency alert
//! fires before the error alert, whenever each fires").
//!
//! A path is read in the JSON report: its first part is a node name (then the node's
//! fields, as in `nodes[]`), a class name (then its `stats`), or a field of the report
//! (`cost.total`, `bottleneck.utilization`), with the summary's fields directly
//! (`error_rate`, `throughput`, `latency.p99`). `p50_latency`, `p95_latency`,
//! `p99_latency` and `mean_latency` stand for `latency.p50` ... A list's `count` is how
//! many entries it has (`timeline.count`: changes on the timeline, such as scaling
//! decisions). A path that names nothing fails its check with what was there to choose
//! from.

use crate::report::Report;
use crate::scenario::{Resolver, ScenarioError};
use serde::{Deserialize, Serialize};

/// A bound as written: a number, a duration (`"800ms"`, in seconds), or a path to
/// another figure of the report (`"alerts.errors.first_fired"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawAmount {
    /// A number.
    Num(f64),
    /// A duration or a path.
    Text(String),
}

/// A validated bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// A number (durations in seconds).
    Value(f64),
    /// Another figure of the same report, by path.
    Figure(String),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Value(x) => write!(f, "{x}"),
            Bound::Figure(p) => f.write_str(p),
        }
    }
}

/// An expectation as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "Expect")]
pub enum RawExpect {
    /// The figure is at most the bound.
    Under(String, RawAmount),
    /// The figure is at least the bound.
    Over(String, RawAmount),
    /// The figure lies between the bounds (both included).
    Between(String, RawAmount, RawAmount),
}

/// A validated expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// The path, as written.
    pub path: String,
    /// Lowest value allowed.
    pub low: Option<Bound>,
    /// Highest value allowed.
    pub high: Option<Bound>,
}

/// An expectation's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectResult {
    /// `web.utilization ≤ 0.9`.
    pub name: String,
    /// Met.
    pub pass: bool,
    /// The figure (none when the path names nothing).
    pub value: Option<f64>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// The figures its bounds named, as read (`alerts.errors.first_fired = 1710`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bounds: Option<String>,
}

impl Expect {
    /// Validate the file's `expect`: bounds are numbers or durations, in order.
    pub fn validate_all(raw: &[RawExpect], r: &Resolver) -> Result<Vec<Expect>, ScenarioError> {
        let from = r.loc().field("expect", 0).map_or(0, |s| s.1);
        Self::validate_from(raw, r, from)
    }

    /// [`Expect::validate_all`] for expectations written at or after byte `from` (a
    /// variant's).
    pub fn validate_from(
        raw: &[RawExpect],
        r: &Resolver,
        from: usize,
    ) -> Result<Vec<Expect>, ScenarioError> {
        raw.iter()
            .map(|e| {
                let (path, low, high) = match e {
                    RawExpect::Under(p, a) => (p, None, Some(a)),
                    RawExpect::Over(p, a) => (p, Some(a), None),
                    RawExpect::Between(p, a, b) => (p, Some(a), Some(b)),
                };
                let span = r.loc().quoted(path, from);
                let amount = |a: Option<&RawAmount>| -> Result<Option<Bound>, ScenarioError> {
                    match a {
                        None => Ok(None),
                        Some(RawAmount::Num(x)) if x.is_finite() => Ok(Some(Bound::Value(*x))),
                        Some(RawAmount::Num(x)) => Err(r.err(span, format!("expect `{path}`: the bound {x} is not a finite number"))),
                        Some(RawAmount::Text(t)) if is_path(t) => Ok(Some(Bound::Figure(t.clone()))),
                        Some(RawAmount::Text(t)) => sim_core::parse_duration(t)
                            .map(|d| Some(Bound::Value(d.as_secs_f64())))
                            .map_err(|e| {
                                r.err(span, format!("expect `{path}`: the bound \"{t}\" is neither a number, a duration nor a path to a figure ({e})"))
                                    .with_hint("write a number (0.9), a duration (\"800ms\") or another figure (\"alerts.errors.first_fired\")")
                            }),
                    }
                };
                let (low, high) = (amount(low)?, amount(high)?);
                if path.trim().is_empty() || path.split('.').any(str::is_empty) {
                    return Err(r
                        .err(span, format!("expect: `{path}` is not a path to a figure"))
                        .with_hint("e.g. \"web.utilization\", \"checkout.p99_latency\", \"error_rate\""));
                }
                if let (Some(Bound::Value(l)), Some(Bound::Value(h))) = (&low, &high) {
                    if l > h {
                        return Err(r.err(span, format!("expect `{path}`: Between's bounds are the wrong way round ({l} > {h})")));
                    }
                }
                Ok(Expect {
                    path: path.clone(),
                    low,
                    high,
                })
            })
            .collect()
    }

    /// As printed: `web.utilization ≤ 0.9`, `error_rate in [0.01, 0.05]`.
    pub fn name(&self) -> String {
        match (&self.low, &self.high) {
            (Some(l), Some(h)) => format!("{} in [{l}, {h}]", self.path),
            (Some(l), None) => format!("{} ≥ {l}", self.path),
            (None, Some(h)) => format!("{} ≤ {h}", self.path),
            (None, None) => self.path.clone(),
        }
    }

    /// Its figure bounds as read in `report`: `alerts.errors.first_fired = 1710` (none
    /// without figure bounds).
    fn figure_bounds(&self, report: &serde_json::Value) -> Option<String> {
        let parts: Vec<String> = [&self.low, &self.high]
            .into_iter()
            .flatten()
            .filter_map(|b| match b {
                Bound::Figure(p) => Some(match read(report, p) {
                    Ok(x) if x.is_finite() => format!("{p} = {x}"),
                    _ => format!("{p} = none"),
                }),
                Bound::Value(_) => None,
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Met by `value`, with figure bounds read in `report` (the JSON report).
    pub fn passes(&self, value: f64, report: &serde_json::Value) -> Result<bool, String> {
        let bound = |b: &Option<Bound>| -> Result<Option<f64>, String> {
            match b {
                None => Ok(None),
                Some(Bound::Value(x)) => Ok(Some(*x)),
                Some(Bound::Figure(p)) => read(report, p).map(Some),
            }
        };
        let (low, high) = (bound(&self.low)?, bound(&self.high)?);
        // A bound that is not a finite figure (an alert that never fired) is not met.
        Ok(value.is_finite() && low.is_none_or(|l| value >= l) && high.is_none_or(|h| value <= h))
    }
}

/// Check every expectation on `r` (its JSON form is built once, only when there are any).
pub fn evaluate(expects: &[Expect], r: &Report) -> Vec<ExpectResult> {
    if expects.is_empty() {
        return vec![];
    }
    let v = serde_json::to_value(r).expect("a report serialises");
    expects
        .iter()
        .map(
            |e| match read(&v, &e.path).and_then(|x| Ok((x, e.passes(x, &v)?))) {
                Ok((value, pass)) => ExpectResult {
                    name: e.name(),
                    pass,
                    value: value.is_finite().then_some(value),
                    error: None,
                    bounds: e.figure_bounds(&v),
                },
                Err(m) => ExpectResult {
                    name: e.name(),
                    pass: false,
                    value: None,
                    error: Some(m),
                    bounds: None,
                },
            },
        )
        .collect()
}

/// A bound written as a path: a dotted name (a duration has no dot but in its number,
/// which starts with a digit).
fn is_path(t: &str) -> bool {
    t.contains('.')
        && t.starts_with(|c: char| c.is_alphabetic())
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The figure at `path` in the report `v` (see the module docs).
pub fn read(v: &serde_json::Value, path: &str) -> Result<f64, String> {
    use serde_json::Value;
    let segs: Vec<&str> = path.split('.').collect();
    let named = |list: &str, name: &str| -> Option<&Value> {
        v.get(list)?
            .as_array()?
            .iter()
            .find(|x| x.get("name").and_then(Value::as_str) == Some(name))
    };
    let (mut at, rest) = if let Some(n) = named("nodes", segs[0]) {
        (n, &segs[1..])
    } else if let Some(c) = named("classes", segs[0]) {
        // A class's figures sit beside its name in the JSON (its stats are flattened).
        (c.get("stats").unwrap_or(c), &segs[1..])
    } else if v.get(segs[0]).is_some() {
        (v, &segs[..])
    } else {
        (&v["summary"], &segs[..])
    };
    for (k, seg) in rest.iter().enumerate() {
        let alias = seg
            .strip_suffix("_latency")
            .filter(|p| ["p50", "p95", "p99", "mean", "max"].contains(p));
        // `count` of a list: how many entries it has (`timeline.count`).
        if let (Value::Array(xs), "count") = (at, *seg) {
            if k + 1 == rest.len() {
                return Ok(xs.len() as f64);
            }
        }
        let next = match at {
            Value::Object(m) => m
                .get(*seg)
                .or_else(|| alias.and_then(|a| m.get("latency").and_then(|l| l.get(a)))),
            Value::Array(xs) => xs
                .iter()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(seg))
                .or_else(|| seg.parse::<usize>().ok().and_then(|i| xs.get(i))),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => {
                let done = rest[..k].join(".");
                let here = if done.is_empty() {
                    String::new()
                } else {
                    format!(" in `{done}`")
                };
                let choices: Vec<String> = match at {
                    Value::Object(m) => m.keys().cloned().collect(),
                    Value::Array(xs) => xs
                        .iter()
                        .filter_map(|x| x.get("name").and_then(Value::as_str))
                        .map(String::from)
                        .collect(),
                    _ => vec![],
                };
                let hint = match crate::scenario::error::did_you_mean(
                    seg,
                    choices.iter().map(String::as_str),
                ) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None if choices.is_empty() => "it holds no fields".into(),
                    None => format!("there: {}", choices.join(", ")),
                };
                return Err(format!("the report has no `{seg}`{here}; {hint}"));
            }
        }
    }
    match at {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("`{path}` is not a number")),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Null => Ok(f64::NAN),
        _ => Err(format!(
            "`{path}` is not a figure but a group of them; name one of its fields"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::read;
    use serde_json::json;

    #[test]
    fn paths_reach_nodes_classes_the_summary_and_list_counts() {
        let v = json!({
            "summary": {"error_rate": 0.25, "latency": {"p99": 0.5}},
            "classes": [{"name": "get", "errors": 3, "latency": {"mean": 0.01}}],
            "nodes": [{"name": "web", "utilization": 0.7, "cache": {"hits": 9}}],
            "timeline": [{"t": 1.0}, {"t": 2.0}, {"t": 3.0}],
        });
        assert_eq!(read(&v, "error_rate"), Ok(0.25));
        assert_eq!(read(&v, "p99_latency"), Ok(0.5));
        // A class's figures sit beside its name (flattened stats).
        assert_eq!(read(&v, "get.mean_latency"), Ok(0.01));
        assert_eq!(read(&v, "get.errors"), Ok(3.0));
        assert_eq!(read(&v, "web.cache.hits"), Ok(9.0));
        assert_eq!(read(&v, "timeline.count"), Ok(3.0));
        assert!(read(&v, "web.nothing").is_err());
        assert!(read(&v, "timeline.count.more").is_err());
    }

    #[test]
    fn a_bound_may_be_another_figure() {
        use super::{is_path, Bound, Expect};
        let v = json!({
            "summary": {"error_rate": 0.25},
            "alerts": [
                {"name": "slow", "first_fired": 300.0},
                {"name": "errors", "first_fired": 900.0},
                {"name": "quiet", "first_fired": null},
            ],
        });
        let before = |a: &str, b: &str| Expect {
            path: format!("alerts.{a}.first_fired"),
            low: None,
            high: Some(Bound::Figure(format!("alerts.{b}.first_fired"))),
        };
        let value = |e: &Expect| read(&v, &e.path).unwrap();
        let e = before("slow", "errors");
        assert_eq!(
            e.name(),
            "alerts.slow.first_fired ≤ alerts.errors.first_fired"
        );
        assert_eq!(e.passes(value(&e), &v), Ok(true));
        assert_eq!(
            e.figure_bounds(&v).as_deref(),
            Some("alerts.errors.first_fired = 900")
        );
        let e = before("errors", "slow");
        assert_eq!(e.passes(value(&e), &v), Ok(false));
        // A bound that never happened is not met; one that names nothing is an error.
        let e = before("slow", "quiet");
        assert_eq!(e.passes(value(&e), &v), Ok(false));
        assert_eq!(
            e.figure_bounds(&v).as_deref(),
            Some("alerts.quiet.first_fired = none")
        );
        let e = before("slow", "nothing");
        assert!(e.passes(value(&e), &v).is_err());
        assert!(is_path("alerts.errors.first_fired") && is_path("web.utilization"));
        assert!(!is_path("1.5s") && !is_path("800ms") && !is_path("fast"));
    }
}

//! The report: what one run (or the mean of many) found, in DESIGN.md's field names.
//!
//! One run's [`RunStats`] becomes a [`Report`]. Replications merge generically: every
//! numeric field becomes the mean over replications and, in JSON, gains a `<field>_ci95`
//! sibling (Student-t half-width); text fields come from the first replication, and the
//! bottleneck is recomputed from the merged nodes. Field order is fixed by the structs, so
//! the JSON is byte-identical for the same inputs.

use crate::scenario::{NodeKind, Scenario};
use crate::world::{ClassStats, Outcome, RunStats};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use sim_core::{Histogram, Summary};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Write a count as an integer when it is one (a single run), as a float otherwise (a mean).
fn count<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Latency figures, seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram) -> Latency {
        Latency {
            mean: h.mean_s(),
            p50: h.quantile_s(0.50),
            p95: h.quantile_s(0.95),
            p99: h.quantile_s(0.99),
            max: h.max_s(),
        }
    }
}

/// Client-side figures for all requests or one class.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Requests born in the measured window.
    #[serde(serialize_with = "count")]
    pub requests: f64,
    /// Answered successfully and in time.
    #[serde(serialize_with = "count")]
    pub completed: f64,
    /// Failed: rejected somewhere or timed out.
    #[serde(serialize_with = "count")]
    pub errors: f64,
    /// Of the errors, client timeouts.
    #[serde(serialize_with = "count")]
    pub timeouts: f64,
    /// errors / (completed + errors).
    pub error_rate: f64,
    /// Completed per second of the measured window.
    pub throughput: f64,
    /// Response times of the completed requests.
    pub latency: Latency,
}

/// [`Stats`] with a class name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassReport {
    /// Class name.
    pub name: String,
    /// Figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// Instance counts over the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Instances {
    /// Fewest.
    #[serde(serialize_with = "count")]
    pub min: f64,
    /// Most.
    #[serde(serialize_with = "count")]
    pub max: f64,
    /// Time-average.
    pub mean: f64,
}

/// Figures for one node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// `service` or `load_balancer`.
    pub kind: String,
    /// Busy workers / all workers, time-averaged (0 for nodes without workers).
    pub utilization: f64,
    /// Time-average number of requests waiting in queues.
    pub mean_queue: f64,
    /// Most requests waiting at once.
    #[serde(serialize_with = "count")]
    pub max_queue: f64,
    /// Requests waiting at the end of the run.
    #[serde(serialize_with = "count")]
    pub queue_end: f64,
    /// Time-average number of requests present (L in Little's law).
    pub mean_present: f64,
    /// Departures per second.
    pub throughput: f64,
    /// Requests this node rejected (queue full).
    #[serde(serialize_with = "count")]
    pub errors: f64,
    /// Sojourn time at the node: arrival to departure.
    pub latency: Latency,
    /// Instances.
    pub instances: Instances,
    /// Instance cost over the run.
    pub cost: f64,
}

/// The node that limits throughput, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Bottleneck {
    /// Node name (empty if there is none).
    pub node: String,
    /// Why, in words.
    pub reason: String,
}

/// An SLO check (none until SLOs land; the field is part of the contract).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SloResult {
    /// Name.
    pub name: String,
    /// Passed.
    pub pass: bool,
    /// Measured.
    pub value: f64,
    /// Limit.
    pub limit: f64,
}

/// Something that happened at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    /// Seconds from the start.
    pub t: f64,
    /// `fault`, `autoscale`, `health`, `slo` or `limit`.
    pub kind: String,
    /// Node concerned.
    pub node: String,
    /// What happened.
    pub text: String,
}

/// Money.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cost {
    /// All nodes.
    pub total: f64,
    /// By node name.
    pub per_node: BTreeMap<String, f64>,
}

/// A whole report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Base seed.
    pub seed: u64,
    /// Number of replications merged.
    pub replications: u32,
    /// Simulated seconds per replication.
    pub sim_seconds: f64,
    /// Wall-clock seconds (only with `--wall-time`: it would break byte-identical output).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wall_seconds: Option<f64>,
    /// Events handled (per replication).
    #[serde(serialize_with = "count")]
    pub events: f64,
    /// `completed`, `in_flight_limit` or `event_limit`.
    pub outcome: String,
    /// Most requests alive at once (what memory grows with).
    #[serde(serialize_with = "count")]
    pub in_flight_peak: f64,
    /// Requests still alive at the end: neither completed nor errors.
    #[serde(serialize_with = "count")]
    pub in_flight_end: f64,
    /// All requests.
    pub summary: Stats,
    /// Per class.
    pub classes: Vec<ClassReport>,
    /// Per node.
    pub nodes: Vec<NodeReport>,
    /// The limiting node.
    pub bottleneck: Bottleneck,
    /// SLO results.
    pub slo: Vec<SloResult>,
    /// Notable moments.
    pub timeline: Vec<TimelineEntry>,
    /// Money.
    pub cost: Cost,
    /// Things the user should know (limits hit, censored requests...).
    pub warnings: Vec<String>,
    /// Time series per node (only with `--series`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub series: Option<Series>,
}

/// Values sampled every `interval` seconds, the first at `interval`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Series {
    /// Sampling interval, seconds.
    pub interval: f64,
    /// Per node, scenario order.
    pub nodes: Vec<NodeSeries>,
}

/// One node's time series.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeSeries {
    /// Node name.
    pub name: String,
    /// Requests waiting in queues at each sample.
    pub queue: Vec<f64>,
    /// Busy workers / all workers at each sample (0 for load balancers).
    pub utilization: Vec<f64>,
    /// Departures per second over each interval.
    pub throughput: Vec<f64>,
}

fn stats_of(c: &ClassStats, window_s: f64) -> Stats {
    let (done, err) = (c.completed.get() as f64, c.errors.get() as f64);
    Stats {
        requests: c.requests.get() as f64,
        completed: done,
        errors: err,
        timeouts: c.timeouts.get() as f64,
        error_rate: if done + err > 0.0 {
            err / (done + err)
        } else {
            0.0
        },
        throughput: if window_s > 0.0 { done / window_s } else { 0.0 },
        latency: Latency::of(&c.latency),
    }
}

impl Report {
    /// The report of one run.
    pub fn from_run(sc: &Scenario, run: &RunStats) -> Report {
        let window_s = (run.end - run.window_start).as_secs_f64();
        let run_h = run.end.as_secs_f64() / 3600.0;
        let mut all = ClassStats::default();
        for c in &run.classes {
            all.requests.add(c.requests.get());
            all.completed.add(c.completed.get());
            all.errors.add(c.errors.get());
            all.timeouts.add(c.timeouts.get());
            all.latency.merge(&c.latency);
        }
        let mut cost = Cost::default();
        let nodes: Vec<NodeReport> = sc
            .nodes
            .iter()
            .zip(&run.nodes)
            .map(|(n, st)| {
                let (workers, inst, price) = match &n.kind {
                    NodeKind::Service(s) => (
                        s.instances as f64 * s.cores as f64,
                        s.instances as f64,
                        s.cost_per_hour,
                    ),
                    NodeKind::LoadBalancer(_) => (0.0, 0.0, 0.0),
                };
                let node_cost = inst * price * run_h;
                cost.total += node_cost;
                cost.per_node.insert(n.name.clone(), node_cost);
                NodeReport {
                    name: n.name.clone(),
                    kind: n.kind.label().into(),
                    utilization: if workers > 0.0 {
                        st.busy.mean(run.end) / workers
                    } else {
                        0.0
                    },
                    mean_queue: st.queued.mean(run.end),
                    max_queue: st.queued.max() as f64,
                    queue_end: st.queued.value() as f64,
                    mean_present: st.present.mean(run.end),
                    throughput: if window_s > 0.0 {
                        st.departures.get() as f64 / window_s
                    } else {
                        0.0
                    },
                    errors: st.rejected.get() as f64,
                    latency: Latency::of(&st.sojourn),
                    instances: Instances {
                        min: inst,
                        max: inst,
                        mean: inst,
                    },
                    cost: node_cost,
                }
            })
            .collect();
        let mut warnings = vec![];
        let mut timeline = vec![];
        let outcome = match run.outcome {
            Outcome::Completed => "completed",
            Outcome::InFlightLimit { node, at } => {
                let util: Vec<Option<f64>> = nodes
                    .iter()
                    .map(|n| (n.kind == "service").then_some(n.utilization))
                    .collect();
                let n = &nodes[pick_bottleneck(&util, &sc.depths()).unwrap_or(node as usize)];
                let pile = &nodes[node as usize];
                let where_ = if pile.name == n.name {
                    format!("requests pile up in its queue ({})", pile.queue_end)
                } else {
                    format!(
                        "requests pile up behind it at `{}` (queue {})",
                        pile.name, pile.queue_end
                    )
                };
                let text = format!(
                    "run cut at {:.1}s: more than {} requests in flight (limits.max_in_flight). `{}` overflowed: \
                     utilisation {:.2}; {where_}. Add capacity to `{}`, bound queues (queue: N) or raise limits.max_in_flight",
                    at.as_secs_f64(), sc.max_in_flight, n.name, n.utilization, n.name
                );
                timeline.push(TimelineEntry {
                    t: at.as_secs_f64(),
                    kind: "limit".into(),
                    node: n.name.clone(),
                    text: text.clone(),
                });
                warnings.push(text);
                "in_flight_limit"
            }
            Outcome::EventLimit { at } => {
                warnings.push(format!(
                    "run cut at {:.1}s: limits.max_events ({}) reached",
                    at.as_secs_f64(),
                    sc.max_events.unwrap_or(0)
                ));
                "event_limit"
            }
        };
        let series = Series {
            interval: sc.sample_every.as_secs_f64(),
            nodes: sc
                .nodes
                .iter()
                .zip(&run.nodes)
                .map(|(n, st)| {
                    let workers = match &n.kind {
                        NodeKind::Service(s) => s.instances as f64 * s.cores as f64,
                        NodeKind::LoadBalancer(_) => 0.0,
                    };
                    NodeSeries {
                        name: n.name.clone(),
                        queue: st.queue_series.values.clone(),
                        utilization: st
                            .busy_series
                            .values
                            .iter()
                            .map(|b| if workers > 0.0 { b / workers } else { 0.0 })
                            .collect(),
                        throughput: st.throughput_series.values.clone(),
                    }
                })
                .collect(),
        };
        let mut report = Report {
            scenario: sc.name.clone(),
            seed: run.seed,
            replications: 1,
            sim_seconds: run.end.as_secs_f64(),
            wall_seconds: None,
            events: run.events as f64,
            outcome: outcome.into(),
            in_flight_peak: run.in_flight_peak as f64,
            in_flight_end: run.in_flight_end as f64,
            summary: stats_of(&all, window_s),
            classes: sc
                .classes
                .iter()
                .zip(&run.classes)
                .map(|(name, c)| ClassReport {
                    name: name.clone(),
                    stats: stats_of(c, window_s),
                })
                .collect(),
            nodes,
            bottleneck: Bottleneck::default(),
            slo: vec![],
            timeline,
            cost,
            warnings,
            series: Some(series),
        };
        report.bottleneck = find_bottleneck(&report, &sc.depths());
        report
    }

    /// Merge replication reports (in replication order). Returns the mean report and the
    /// report of 95% CI half-widths (same shape). `reps` must not be empty.
    pub fn merge(sc: &Scenario, reps: &[Report]) -> (Report, Report) {
        assert!(!reps.is_empty(), "merge of no reports");
        let values: Vec<Value> = reps
            .iter()
            // Identity fields are not statistics: every replication carries the base seed.
            .map(|r| {
                serde_json::to_value(Report {
                    seed: reps[0].seed,
                    ..r.clone()
                })
                .expect("report serialises")
            })
            .collect();
        let (mean, ci) = merge_values(&values);
        let mut mean: Report =
            serde_json::from_value(mean).expect("merged report has the report's shape");
        let mut ci: Report = serde_json::from_value(ci).expect("ci report has the report's shape");
        for r in [&mut mean, &mut ci] {
            r.seed = reps[0].seed;
            r.replications = reps.len() as u32;
            r.outcome = reps
                .iter()
                .map(|r| r.outcome.as_str())
                .find(|o| *o != "completed")
                .unwrap_or("completed")
                .into();
            r.warnings = reps
                .iter()
                .flat_map(|r| r.warnings.iter().cloned())
                .collect::<Vec<_>>();
            r.warnings.dedup();
        }
        mean.bottleneck = find_bottleneck(&mean, &sc.depths());
        (mean, ci)
    }

    /// JSON text. With `ci`, every numeric field but the run's identity gains a `_ci95`.
    pub fn to_json(&self, ci: Option<&Report>) -> String {
        let mut v = serde_json::to_value(self).expect("report serialises");
        if let Some(ci) = ci {
            let c = serde_json::to_value(ci).expect("report serialises");
            add_ci(&mut v, &c, true);
        }
        let mut s = serde_json::to_string_pretty(&v).expect("json");
        s.push('\n');
        s
    }
}

const NO_CI: [&str; 5] = [
    "seed",
    "replications",
    "sim_seconds",
    "wall_seconds",
    "interval",
];

fn add_ci(v: &mut Value, ci: &Value, top: bool) {
    match (v, ci) {
        (Value::Object(m), Value::Object(c)) => {
            let mut out = Map::new();
            for (k, val) in std::mem::take(m) {
                let mut val = val;
                let cv = c.get(&k);
                if let Some(cv) = cv {
                    add_ci(&mut val, cv, false);
                }
                let ci_num = match (&val, cv) {
                    (Value::Number(_), Some(Value::Number(n)))
                        if !(top && NO_CI.contains(&k.as_str())) =>
                    {
                        Some(n.clone())
                    }
                    _ => None,
                };
                out.insert(k.clone(), val);
                if let Some(n) = ci_num {
                    out.insert(format!("{k}_ci95"), Value::Number(n));
                }
            }
            *m = out;
        }
        (Value::Array(a), Value::Array(c)) => {
            for (x, y) in a.iter_mut().zip(c) {
                add_ci(x, y, false);
            }
        }
        _ => {}
    }
}

fn merge_values(vs: &[Value]) -> (Value, Value) {
    match &vs[0] {
        Value::Number(_) if vs.iter().all(|v| v == &vs[0]) => (vs[0].clone(), Value::from(0u64)),
        Value::Number(_) => {
            let xs: Vec<f64> = vs.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect();
            let s = Summary::of(&xs);
            let ci = if s.ci95.is_finite() { s.ci95 } else { 0.0 };
            (num(s.mean), num(ci))
        }
        Value::Object(first) => {
            let mut mean = Map::new();
            let mut ci = Map::new();
            for k in first.keys() {
                let parts: Vec<Value> = vs
                    .iter()
                    .map(|v| v.get(k).cloned().unwrap_or(Value::Null))
                    .collect();
                let (m, c) = merge_values(&parts);
                mean.insert(k.clone(), m);
                ci.insert(k.clone(), c);
            }
            (Value::Object(mean), Value::Object(ci))
        }
        Value::Array(first) => {
            let mut mean = vec![];
            let mut ci = vec![];
            for i in 0..first.len() {
                let parts: Vec<Value> = vs
                    .iter()
                    .map(|v| v.get(i).cloned().unwrap_or(Value::Null))
                    .collect();
                let (m, c) = merge_values(&parts);
                mean.push(m);
                ci.push(c);
            }
            (Value::Array(mean), Value::Array(ci))
        }
        other => (other.clone(), other.clone()),
    }
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Utilisation from which a service counts as saturated.
pub const SATURATED: f64 = 0.95;

/// The node that limits throughput: among saturated services the deepest in the call graph
/// (a pool whose workers are held waiting on a saturated callee is a symptom, not the
/// cause); if none is saturated, the busiest service. `depth[i]` is node i's call depth.
pub fn pick_bottleneck(utilization: &[Option<f64>], depth: &[u32]) -> Option<usize> {
    let services = || (0..utilization.len()).filter_map(|i| utilization[i].map(|u| (i, u)));
    let saturated = services()
        .filter(|&(_, u)| u >= SATURATED)
        .max_by(|a, b| depth[a.0].cmp(&depth[b.0]).then(a.1.total_cmp(&b.1)));
    saturated
        .or_else(|| services().max_by(|a, b| a.1.total_cmp(&b.1)))
        .map(|(i, _)| i)
}

/// The bottleneck of a report, with its reason.
pub fn find_bottleneck(r: &Report, depth: &[u32]) -> Bottleneck {
    let util: Vec<Option<f64>> = r
        .nodes
        .iter()
        .map(|n| (n.kind == "service").then_some(n.utilization))
        .collect();
    let Some(i) = pick_bottleneck(&util, depth) else {
        return Bottleneck {
            node: String::new(),
            reason: "no service nodes".into(),
        };
    };
    let n = &r.nodes[i];
    let mut reason = format!("{}: utilisation {:.2}", n.name, n.utilization);
    let growing = r.outcome == "in_flight_limit"
        || (n.utilization >= 0.9 && n.max_queue >= 50.0 && n.queue_end >= 0.5 * n.max_queue);
    if growing {
        reason += ", queue grows";
    } else if n.mean_queue >= 0.1 {
        let _ = write!(reason, ", mean queue {:.1}", n.mean_queue);
    }
    if n.errors > 0.0 {
        let _ = write!(reason, ", {} rejected (queue full)", n.errors.round());
    }
    if n.utilization < 0.5 && !growing {
        reason += " (no node is near saturation)";
    }
    Bottleneck {
        node: n.name.clone(),
        reason,
    }
}

/// Seconds as a short human duration.
pub fn human_secs(s: f64) -> String {
    if s == 0.0 {
        "0".into()
    } else if s < 1e-3 {
        format!("{:.0}µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2}ms", s * 1e3)
    } else {
        format!("{s:.2}s")
    }
}

impl Report {
    /// The human report (tables on stdout).
    pub fn to_human(&self, ci: Option<&Report>) -> String {
        let mut o = String::new();
        let reps = if self.replications == 1 {
            "1 replication".to_string()
        } else {
            format!("{} replications", self.replications)
        };
        let _ = writeln!(
            o,
            "scalelab — {}  (seed {}, {reps}, {} simulated, {} events{})",
            self.scenario,
            self.seed,
            sim_core::SimTime::from_secs_f64(self.sim_seconds),
            self.events.round(),
            self.wall_seconds
                .map(|w| format!(", {w:.2}s wall"))
                .unwrap_or_default()
        );
        if self.outcome != "completed" {
            let _ = writeln!(o, "OUTCOME: {}", self.outcome);
        }
        let pm = |v: f64, c: Option<f64>, f: &dyn Fn(f64) -> String| match c {
            Some(c) => format!("{} ±{}", f(v), f(c)),
            None => f(v),
        };
        let _ = writeln!(o, "\nRequests  {:<12} {:>10} {:>10} {:>8} {:>7} {:>10} {:>18} {:>10} {:>10} {:>18} {:>10}",
            "class", "requests", "completed", "errors", "err%", "thru/s", "mean", "p50", "p95", "p99", "max");
        let mut rows: Vec<(&str, &Stats, Option<&Stats>)> =
            vec![("all", &self.summary, ci.map(|c| &c.summary))];
        for (i, c) in self.classes.iter().enumerate() {
            rows.push((&c.name, &c.stats, ci.map(|x| &x.classes[i].stats)));
        }
        for (name, s, c) in rows {
            let _ = writeln!(o, "          {:<12} {:>10.0} {:>10.0} {:>8.0} {:>6.2}% {:>10.1} {:>18} {:>10} {:>10} {:>18} {:>10}",
                name, s.requests, s.completed, s.errors, s.error_rate * 100.0, s.throughput,
                pm(s.latency.mean, c.map(|c| c.latency.mean), &human_secs),
                human_secs(s.latency.p50), human_secs(s.latency.p95),
                pm(s.latency.p99, c.map(|c| c.latency.p99), &human_secs),
                human_secs(s.latency.max));
        }
        let _ = writeln!(
            o,
            "\nNodes     {:<12} {:<13} {:>6} {:>10} {:>9} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "node", "kind", "util", "queue avg", "max", "thru/s", "errors", "mean", "p95", "p99"
        );
        for n in &self.nodes {
            let util = if n.kind == "service" {
                format!("{:.2}", n.utilization)
            } else {
                "-".into()
            };
            let _ = writeln!(o, "          {:<12} {:<13} {:>6} {:>10.2} {:>9.0} {:>10.1} {:>8.0} {:>10} {:>10} {:>10}",
                n.name, n.kind, util, n.mean_queue, n.max_queue, n.throughput, n.errors,
                human_secs(n.latency.mean), human_secs(n.latency.p95), human_secs(n.latency.p99));
        }
        let _ = writeln!(
            o,
            "\nBottleneck: {}",
            if self.bottleneck.node.is_empty() {
                "none"
            } else {
                &self.bottleneck.reason
            }
        );
        if self.cost.total > 0.0 {
            let parts: Vec<String> = self
                .cost
                .per_node
                .iter()
                .filter(|(_, c)| **c > 0.0)
                .map(|(n, c)| format!("{n} ${c:.2}"))
                .collect();
            let _ = writeln!(
                o,
                "Cost:       ${:.2} ({})",
                self.cost.total,
                parts.join(", ")
            );
        }
        for w in &self.warnings {
            let _ = writeln!(o, "WARNING:    {w}");
        }
        o
    }
}

//! Merging replications: every numeric field becomes the mean over replications, with a
//! report of Student-t 95% CI half-widths of the same shape; `to_json` puts each half-width
//! beside its figure as `<field>_ci95`.

use super::{Report, RunOutcome};
use crate::analysis::bottleneck::find_bottleneck;
use crate::analysis::slo;
use crate::scenario::Scenario;
use serde_json::{Map, Value};
use sim_core::Summary;

impl Report {
    /// Merge replication reports (in replication order). Returns the mean report and the
    /// report of 95% CI half-widths (same shape). `reps` must not be empty.
    pub fn merge(sc: &Scenario, reps: &[Report]) -> (Report, Report) {
        assert!(!reps.is_empty(), "merge of no reports");
        let values: Vec<Value> = reps
            .iter()
            // Identity fields are not statistics: every replication carries the base seed.
            .map(|r| {
                // The timeline is taken from the first replication below, not averaged
                // (replications may see different moments).
                serde_json::to_value(Report {
                    seed: reps[0].seed,
                    timeline: vec![],
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
                .map(|r| r.outcome)
                .find(|o| *o != RunOutcome::Completed)
                .unwrap_or(RunOutcome::Completed);
            r.warnings = reps
                .iter()
                .flat_map(|r| r.warnings.iter().cloned())
                .collect::<Vec<_>>();
            r.warnings.dedup();
        }
        mean.bottleneck = find_bottleneck(&mean, &sc.depths());
        mean.timeline = reps[0].timeline.clone();
        // Verdicts on the mean figures (the values are already the means).
        mean.slo = slo::evaluate(&sc.slos, sc, &mean);
        mean.expect = crate::analysis::expect::evaluate(&sc.expect, &mean);
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
        // A figure some replications lack (an alert that did not fire in all): none.
        Value::Number(_) if vs.iter().any(|v| !v.is_number()) => (Value::Null, Value::Null),
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

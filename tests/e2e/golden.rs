//! Golden reports: nothing that worked changes by accident.
//!
//! Each case runs a shipped or truth scenario through the CLI and compares the JSON report
//! with the one recorded in `tests/golden/`. Every value the recorded report has must be
//! there again, equal to the last digit; a report may only *gain* fields. A figure that
//! changes on purpose is re-recorded with `SCALELAB_BLESS=1 cargo test golden` and
//! explained in the commit that changes it.

use super::scalelab;
use serde_json::Value;

/// (golden file stem, scenario, extra arguments).
const CASES: &[(&str, &str, &[&str])] = &[
    ("default_seed42", "scenarios/default.ron", &["--seed", "42"]),
    (
        "default_seed9_reps4",
        "scenarios/default.ron",
        &["--seed", "9", "--replications", "4"],
    ),
    (
        "default_series",
        "scenarios/default.ron",
        &["--duration", "2m", "--series"],
    ),
    (
        "mm1_rho05",
        "tests/golden/mm1_rho05.ron",
        &["--replications", "3"],
    ),
    (
        "mm1_rho08",
        "tests/golden/mm1_rho08.ron",
        &["--replications", "3"],
    ),
    ("mm4", "tests/golden/mm4.ron", &["--replications", "3"]),
    ("md1", "tests/golden/md1.ron", &["--replications", "3"]),
    ("mm1k", "tests/golden/mm1k.ron", &["--replications", "3"]),
    (
        "tandem",
        "tests/golden/tandem.ron",
        &["--replications", "3"],
    ),
    ("balancers", "tests/golden/balancers.ron", &[]),
    (
        "balancers_reps2",
        "tests/golden/balancers.ron",
        &["--replications", "2"],
    ),
    // Recorded before replicas kept one pending arrival each in the queue (issue 13).
    ("replica_ties", "tests/golden/replica-ties.ron", &[]),
    // Recorded after the lifecycle landed (it had no earlier form): guards what follows.
    (
        "actions_reps2",
        "tests/golden/actions.ron",
        &["--replications", "2", "--series"],
    ),
];

/// Every leaf of `old` must be in `new` at the same place with the same value. Objects in
/// `new` may have more keys; arrays must keep their length.
fn contains(old: &Value, new: &Value, path: &str, diffs: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, v) in o {
                match n.get(k) {
                    Some(nv) => contains(v, nv, &format!("{path}/{k}"), diffs),
                    None => diffs.push(format!("{path}/{k}: gone")),
                }
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            if o.len() != n.len() {
                diffs.push(format!("{path}: {} items, was {}", n.len(), o.len()));
            }
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                contains(a, b, &format!("{path}/{i}"), diffs);
            }
        }
        (a, b) if a == b => {}
        (a, b) => diffs.push(format!("{path}: {b}, was {a}")),
    }
}

#[test]
fn golden_reports_keep_every_figure() {
    let bless = std::env::var_os("SCALELAB_BLESS").is_some();
    let mut failures = vec![];
    // Every shipped scenario at its own length, besides the cases above.
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut shipped: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".ron")?.to_string();
            Some((format!("scenario_{stem}"), format!("scenarios/{name}")))
        })
        .collect();
    shipped.sort();
    let cases = CASES
        .iter()
        .map(|&(stem, file, extra)| (stem.to_string(), file.to_string(), extra.to_vec()))
        .chain(shipped.into_iter().map(|(s, f)| (s, f, vec![])));
    for (stem, file, extra) in cases {
        let mut args = vec!["run", file.as_str(), "--json"];
        args.extend_from_slice(&extra);
        let out = scalelab(&args);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = format!("{}/tests/golden/{stem}.json", env!("CARGO_MANIFEST_DIR"));
        if bless {
            std::fs::write(&path, &out.stdout).expect("write golden report");
            continue;
        }
        let old: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("{path}: {e} (a new scenario? record it with SCALELAB_BLESS=1)")
            }))
            .expect("golden report is JSON");
        let new: Value = serde_json::from_slice(&out.stdout).expect("report is JSON");
        let mut diffs = vec![];
        contains(&old, &new, "", &mut diffs);
        if !diffs.is_empty() {
            diffs.truncate(12);
            failures.push(format!(
                "{stem} ({file} {extra:?}):\n  {}",
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "reports changed (re-record with SCALELAB_BLESS=1 only if on purpose):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_comparison_catches_a_changed_figure() {
    let old: Value = serde_json::json!({"a": {"b": [1.5, 2]}, "c": "x"});
    let mut diffs = vec![];
    contains(
        &old,
        &serde_json::json!({"a": {"b": [1.5, 2], "new": 1}, "c": "x"}),
        "",
        &mut diffs,
    );
    assert!(diffs.is_empty(), "{diffs:?}");
    contains(
        &old,
        &serde_json::json!({"a": {"b": [1.5000000000000002, 2]}, "c": "x"}),
        "",
        &mut diffs,
    );
    contains(
        &old,
        &serde_json::json!({"a": {"b": [1.5]}}),
        "",
        &mut diffs,
    );
    assert_eq!(diffs.len(), 3, "{diffs:?}");
}

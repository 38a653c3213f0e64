//! End-to-end tests of the `scalelab` binary: one test binary, one module per concern.
//! Every test goes through the path a user takes: a RON file → `scalelab ...` → output.

mod alerts;
mod autoscale;
mod bad_input;
mod behaviour;
mod cache;
mod check;
mod compare;
mod database;
mod deploy;
mod determinism;
mod export;
mod faults;
mod golden;
mod guide;
mod lessons;
mod lifecycle;
mod list;
mod queue;
mod readme;
mod regions;
mod resilience;
mod sessions;
mod shards;
mod slo;
mod spans;
mod sweep;
mod trace;
mod truth;
mod tui_pty;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run the binary with `args`.
pub fn scalelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run scalelab")
}

/// Write `text` to a fresh temporary `.ron` file and return its directory guard and path.
pub fn scenario_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scenario.ron");
    std::fs::write(&path, text).expect("write scenario");
    (dir, path)
}

/// `scalelab run FILE --json ARGS...`, asserting success, parsed.
pub fn run_json(path: &Path, args: &[&str]) -> Value {
    let mut all = vec!["run", path.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    json_of(&all)
}

/// `scalelab ARGS` (which print JSON), asserting success, parsed.
pub fn json_of(all: &[&str]) -> Value {
    let out = scalelab(all);
    assert!(
        out.status.success(),
        "scalelab {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// A number at a JSON pointer, e.g. `/summary/latency/mean`.
pub fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {v}"))
}

/// Whether every SLO of report `r` passes.
/// The report's timeline entries of `kind` (`autoscale`, `deploy`, ...): (t, text).
pub fn timeline(r: &Value, kind: &str) -> Vec<(f64, String)> {
    r["timeline"]
        .as_array()
        .expect("timeline is a list")
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| (num(e, "/t"), e["text"].as_str().expect("text").to_string()))
        .collect()
}

/// The sizes a decision names: `2 → 4 instances: ...` (or replicas, cores) gives (2, 4).
pub fn sizes_of(text: &str) -> (u32, u32) {
    let head = text.split([' ', ':']).take(3).collect::<Vec<_>>();
    match head[..] {
        [a, "→", b] => (a.parse().expect("a size"), b.parse().expect("a size")),
        _ => panic!("not a size change: {text}"),
    }
}

pub fn slos_pass(r: &Value) -> bool {
    r["slo"]
        .as_array()
        .expect("slo is a list")
        .iter()
        .all(|s| s["pass"] == true)
}

//! Same scenario + seed ⇒ byte-identical JSON, whatever the thread count; other seeds differ.

use super::scalelab;

fn json(args: &[&str]) -> Vec<u8> {
    let out = scalelab(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn same_seed_same_bytes_with_one_or_two_threads() {
    let base = [
        "run",
        "scenarios/default.ron",
        "--json",
        "--replications",
        "4",
        "--duration",
        "2m",
    ];
    let one = json(&[&base[..], &["--threads", "1"]].concat());
    let two = json(&[&base[..], &["--threads", "2"]].concat());
    assert!(!one.is_empty());
    assert_eq!(one, two, "thread count changed the report");
    let again = json(&[&base[..], &["--threads", "2"]].concat());
    assert_eq!(two, again, "two identical runs differ");
}

#[test]
fn different_seeds_give_different_numbers() {
    let a = json(&[
        "run",
        "scenarios/default.ron",
        "--json",
        "--seed",
        "1",
        "--duration",
        "2m",
    ]);
    let b = json(&[
        "run",
        "scenarios/default.ron",
        "--json",
        "--seed",
        "2",
        "--duration",
        "2m",
    ]);
    assert_ne!(a, b);
    let va: serde_json::Value = serde_json::from_slice(&a).unwrap();
    let vb: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_ne!(
        va["summary"]["latency"]["p99"],
        vb["summary"]["latency"]["p99"]
    );
    assert_eq!(va["seed"], 1);
}

#[test]
fn wall_time_is_only_in_json_on_request() {
    let a = json(&["run", "scenarios/default.ron", "--json", "--duration", "1m"]);
    assert!(!String::from_utf8_lossy(&a).contains("wall_seconds"));
    let b = json(&[
        "run",
        "scenarios/default.ron",
        "--json",
        "--duration",
        "1m",
        "--wall-time",
    ]);
    assert!(String::from_utf8_lossy(&b).contains("wall_seconds"));
}

//! Traffic replayed from a CSV trace through the user's path (RON → run → JSON).

use super::{num, run_json, scenario_file};

/// A scenario in a temp dir beside `trace.csv` (`csv`), its source replaying it.
fn with_trace(rate: &str, csv: &str, extra: &str) -> serde_json::Value {
    let (d, f) = scenario_file(&format!(
        r#"Scenario(name: "tr", duration: "30s",
            sources: [Source(name: "u", target: "api", rate: {rate}, {extra}
                             mix: [Class(name: "read", weight: 3), Class(name: "write", weight: 1)])],
            nodes: [
                Cache(name: "c", capacity: 1000, hit: Constant("1ms")),
                Service(name: "api", instances: 1, cores: 4,
                        handlers: {{"read": [Lookup(cache: "c", on_miss: [Cpu(Constant("5ms")), Fill("c")])],
                                   "write": [Cpu(Constant("2ms"))]}})])"#
    ));
    std::fs::write(d.path().join("trace.csv"), csv).unwrap();
    run_json(&f, &[])
}

#[test]
fn a_request_trace_sets_times_classes_and_keys_and_speed_compresses_it() {
    // 120 trace-seconds of rows, one every 0.1 s: every fourth a write, reads cycling
    // over 10 keys. At speed 2 the 30 s run sees the first 60 trace-seconds: rows 0..=600.
    let mut csv = String::from("time,class,key\n");
    for i in 0..1200 {
        let class = if i % 4 == 3 { "write" } else { "read" };
        csv += &format!("{:.1},{class},{}\n", i as f64 * 0.1, i % 10);
    }
    let r = with_trace(r#"Trace(file: "trace.csv", speed: 2.0)"#, &csv, "");
    assert_eq!(num(&r, "/summary/requests"), 601.0);
    let class = |name: &str| {
        r["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| num(c, "/requests"))
            .unwrap()
    };
    // Rows 0..=600: i % 4 == 3 for 150 of them.
    assert_eq!((class("read"), class("write")), (451.0, 150.0));
    // Reads use the trace's keys: 10 distinct keys, so 10 misses (the first read of
    // each key; 0..9 never collide in a 1000-key cache) and every later read hits.
    let misses = num(&r, "/nodes/0/cache/misses");
    assert_eq!(misses, 10.0, "{}", r["nodes"][0]);
}

#[test]
fn a_rates_trace_is_a_step_profile_compressed_by_speed() {
    // 100/s for 60 trace-s, then 400/s: at speed 4 that is 400/s for 15 s, then
    // 1600/s for 15 s. Deterministic arrivals: 6 000 + 24 000 requests.
    let csv = "time,rate\n0,100\n60,400\n";
    let r = with_trace(
        r#"Trace(file: "trace.csv", speed: 4.0)"#,
        csv,
        "arrivals: Deterministic,",
    );
    let n = num(&r, "/summary/requests");
    assert!((n - 30_000.0).abs() <= 1.0, "{n}");
}

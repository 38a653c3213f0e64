//! One scenario per claim about model behaviour.
use super::{num, run_json, scalelab, scenario_file, slos_pass};
use serde_json::Value;

fn two_tier(on_call: &str) -> String {
    format!(
        r#"Scenario(name: "hold", duration: "65s", warmup: "5s",
            sources: [Source(name: "in", target: "front", rate: Constant(150))],
            nodes: [
                Service(name: "front", cores: 2, on_call: {on_call},
                        handlers: {{"*": [Cpu(Constant("1ms")), Call("slow")]}}),
                Service(name: "slow", cores: 64, handlers: {{"*": [Cpu(Constant("10ms"))]}}),
            ])"#
    )
}

#[test]
fn hold_keeps_the_worker_busy_during_calls_and_release_frees_it() {
    // front: 150/s × (1 ms CPU + 10 ms waiting on `slow`) = 1.65 workers busy when held,
    // 150/s × 1 ms = 0.15 when released. Of 2 workers: 0.825 vs 0.075.
    let (_d, f) = scenario_file(&two_tier("Hold"));
    let held = num(&run_json(&f, &[]), "/nodes/0/utilization");
    let (_d2, f2) = scenario_file(&two_tier("Release"));
    let released = num(&run_json(&f2, &[]), "/nodes/0/utilization");
    assert!((held - 0.825).abs() < 0.03, "held utilisation {held}");
    assert!(
        (released - 0.075).abs() < 0.01,
        "released utilisation {released}"
    );
}

#[test]
fn client_timeout_counts_errors_even_though_servers_finish() {
    // Constant 50 ms service, 30 ms timeout: every request times out at the client, but
    // the server still completes every one of them.
    let text = r#"Scenario(name: "t", duration: "20s",
        sources: [Source(name: "in", target: "s", rate: Constant(10), timeout: "30ms")],
        nodes: [Service(name: "s", cores: 4, handlers: {"*": [Cpu(Constant("50ms"))]})])"#;
    let (_d, f) = scenario_file(text);
    let r = run_json(&f, &[]);
    let requests = num(&r, "/summary/requests");
    assert!(requests > 150.0);
    assert_eq!(num(&r, "/summary/completed"), 0.0);
    assert_eq!(num(&r, "/summary/timeouts"), num(&r, "/summary/errors"));
    assert!(
        num(&r, "/summary/errors") >= requests - 1.0,
        "the one in flight at the end may be pending"
    );
    assert!(
        (num(&r, "/nodes/0/throughput") - 10.0).abs() < 1.5,
        "server still finishes"
    );
    assert!((num(&r, "/nodes/0/latency/mean") - 0.050).abs() < 1e-6);
}

#[test]
fn load_balancer_algorithms_spread_and_stick() {
    let lb = |alg: &str, extra: &str| {
        format!(
            r#"Scenario(name: "lb", duration: "60s",
                sources: [Source(name: "in", target: "lb", rate: Constant(400), sessions: 50)],
                nodes: [LoadBalancer(name: "lb", algorithm: {alg}, backends: ["a", "b"]),
                        Service(name: "a", instances: 2, cores: 4, handlers: {{"*": [Cpu(Exp("2ms"))]}}),
                        Service(name: "b", instances: 2, cores: 4 {extra}, handlers: {{"*": [Cpu(Exp("2ms"))]}})])"#
        )
    };
    let share_a = |alg: &str, extra: &str| {
        let (_d, f) = scenario_file(&lb(alg, extra));
        let r = run_json(&f, &[]);
        let (a, b) = (
            num(&r, "/nodes/1/throughput"),
            num(&r, "/nodes/2/throughput"),
        );
        a / (a + b)
    };
    for alg in [
        "RoundRobin",
        "Random",
        "LeastConnections",
        "PowerOfTwoChoices",
        "ConsistentHash",
    ] {
        let s = share_a(alg, "");
        assert!((s - 0.5).abs() < 0.1, "{alg}: pool a got {s:.3}");
    }
    let s = share_a("WeightedRoundRobin(weights: [3, 1])", "");
    assert!((s - 0.75).abs() < 0.01, "weighted: pool a got {s:.3}");
    // Least connections steers away from a slow pool; round robin does not.
    // Pool b: one core per instance and 4× slower, so round robin loads it to ρ = 0.8.
    let slow_lb = |alg: &str| {
        let text = lb(alg, "").replace(
            r#"Service(name: "b", instances: 2, cores: 4 , handlers: {"*": [Cpu(Exp("2ms"))]})"#,
            r#"Service(name: "b", instances: 2, cores: 1, handlers: {"*": [Cpu(Exp("8ms"))]})"#,
        );
        assert!(text.contains("8ms"));
        let (_d, f) = scenario_file(&text);
        let r = run_json(&f, &[]);
        num(&r, "/nodes/2/throughput") / num(&r, "/nodes/0/throughput")
    };
    let (rr, lc) = (slow_lb("RoundRobin"), slow_lb("LeastConnections"));
    assert!(
        (rr - 0.5).abs() < 0.02,
        "round robin sends half to b: {rr:.3}"
    );
    assert!(
        lc < rr - 0.1,
        "least connections avoids the slow pool: {lc:.3} vs {rr:.3}"
    );
}

#[test]
fn unbounded_growth_is_cut_at_the_in_flight_limit_naming_the_node() {
    let text = r#"Scenario(name: "overload", duration: "1h", limits: (max_in_flight: 5000),
        sources: [Source(name: "in", target: "front", rate: Constant(2000))],
        nodes: [Service(name: "front", cores: 8, handlers: {"*": [Cpu(Exp("1ms")), Call("db")]}),
                Service(name: "db", cores: 1, handlers: {"*": [Cpu(Exp("1ms"))]})])"#;
    let (_d, f) = scenario_file(text);
    let out = scalelab(&["run", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(3), "a cut run exits with 3");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "in_flight_limit");
    assert_eq!(
        r["in_flight_peak"], 5001,
        "cut as soon as the limit is passed"
    );
    assert_eq!(r["bottleneck"]["node"], "db");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`db` overflowed"), "{stderr}");
    assert!(stderr.contains("pile up behind it at `front`"), "{stderr}");
    assert!(
        num(&r, "/sim_seconds") < 60.0,
        "cut early, not after an hour"
    );
}

#[test]
fn out_file_is_written_whole_and_replaces_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    std::fs::write(&out, "old").unwrap();
    let o = scalelab(&[
        "run",
        "scenarios/default.ron",
        "--json",
        "--duration",
        "1m",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty(), "nothing on stdout with --out");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["scenario"], "default");
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary files left behind");
    // An unwritable destination fails cleanly and leaves nothing.
    let bad = dir.path().join("missing-dir/report.json");
    let o = scalelab(&[
        "run",
        "scenarios/default.ron",
        "--duration",
        "1m",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!bad.exists());
}

#[test]
fn default_run_names_the_bottleneck_and_validate_predicts_it() {
    let o = scalelab(&[]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Bottleneck: web: utilisation"), "{text}");
    let v = scalelab(&["validate", "scenarios/default.ron"]);
    assert!(v.status.success());
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(text.contains("Predicted bottleneck: web"), "{text}");
    assert!(text.contains("WARNING: ρ ≥ 1"), "{text}");
}

#[test]
fn embedded_default_is_the_file_in_scenarios() {
    let a = scalelab(&["run", "--json", "--duration", "1m"]);
    let b = scalelab(&["run", "scenarios/default.ron", "--json", "--duration", "1m"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn every_curated_scenario_validates_and_runs() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue; // (traces/ holds what scenarios replay)
        }
        let p = path.to_str().unwrap();
        let v = scalelab(&["validate", p]);
        assert!(
            v.status.success(),
            "{p}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        let r = scalelab(&["run", p, "--duration", "1m"]);
        assert!(
            r.status.success(),
            "{p}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
}

#[test]
fn deterministic_arrivals_never_wait() {
    // D/D/1 below saturation: every request finds the server idle, so each response time
    // is exactly the service time, and the count is exactly rate × window.
    let text = r#"Scenario(name: "dd1", duration: "10s",
        sources: [Source(name: "in", target: "s", rate: Constant(100), arrivals: Deterministic)],
        nodes: [Service(name: "s", handlers: {"*": [Cpu(Constant("9ms"))]})])"#;
    let (_d, f) = scenario_file(text);
    let r = run_json(&f, &[]);
    assert_eq!(num(&r, "/summary/requests"), 1000.0);
    assert_eq!(num(&r, "/summary/latency/max"), 0.009);
    assert_eq!(num(&r, "/summary/latency/mean"), 0.009);
    assert_eq!(num(&r, "/nodes/0/max_queue"), 0.0);
    // Every request is accounted for: the one born at exactly 10 s is still in flight.
    assert_eq!(
        num(&r, "/summary/completed") + num(&r, "/in_flight_end"),
        1000.0
    );
    assert_eq!(num(&r, "/in_flight_end"), 1.0);
    assert_eq!(num(&r, "/in_flight_peak"), 1.0);
}

#[test]
fn series_show_the_spike_and_only_on_request() {
    let plain = run_json(
        std::path::Path::new("scenarios/default.ron"),
        &["--duration", "4m"],
    );
    assert!(plain.get("series").is_none());
    let r = run_json(
        std::path::Path::new("scenarios/default.ron"),
        &["--duration", "4m", "--series"],
    );
    let s = &r["series"];
    let interval = num(s, "/interval");
    let lb = &s["nodes"][0];
    assert_eq!(lb["name"], "edge-lb");
    let thr: Vec<f64> = lb["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(thr.len(), (240.0 / interval).round() as usize);
    // Base 330/s before the spike (which starts at 2m), up to ~1000/s at 2m30s+.
    let at = |t: f64| thr[(t / interval) as usize - 1];
    assert!(
        (at(60.0) - 330.0).abs() < 80.0,
        "before the spike: {}",
        at(60.0)
    );
    assert!(at(200.0) > 800.0, "in the spike: {}", at(200.0));
    let web_util: Vec<f64> = s["nodes"][1]["utilization"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(web_util.iter().all(|u| (0.0..=1.0).contains(u)));
    assert!(
        web_util[(200.0 / interval) as usize] > 0.95,
        "web saturates in the spike"
    );
}

#[test]
fn event_limit_cuts_the_run() {
    let text = r#"Scenario(name: "ev", duration: "1h", limits: (max_events: 5000),
        sources: [Source(name: "in", target: "s", rate: Constant(100))],
        nodes: [Service(name: "s", handlers: {"*": [Cpu(Exp("1ms"))]})])"#;
    let (_d, f) = scenario_file(text);
    let out = scalelab(&["run", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "event_limit");
    assert_eq!(r["events"], 5000);
    assert!(String::from_utf8_lossy(&out.stderr).contains("limits.max_events (5000) reached"));
}

#[test]
fn release_reacquires_a_worker_for_steps_after_the_call() {
    // 150/s × (1 ms before + 1 ms after the call) on 2 workers = 0.15; the 10 ms call is
    // not held. Every request still gets all three phases: latency ≥ 12 ms.
    let text = two_tier("Release").replace(
        r#"[Cpu(Constant("1ms")), Call("slow")]"#,
        r#"[Cpu(Constant("1ms")), Call("slow"), Cpu(Constant("1ms"))]"#,
    );
    assert!(text.contains("Call(\"slow\"), Cpu"));
    let (_d, f) = scenario_file(&text);
    let r = run_json(&f, &[]);
    let u = num(&r, "/nodes/0/utilization");
    assert!((u - 0.15).abs() < 0.01, "utilisation {u}");
    assert!(num(&r, "/summary/latency/p50") >= 0.012 * 0.99);
    assert!(
        num(&r, "/summary/latency/mean") < 0.0125,
        "little queueing at this load"
    );
}

#[test]
fn a_rejection_downstream_fails_exactly_one_client_request() {
    // db has no waiting room (queue: 0) and one worker: every arrival finding it busy is
    // rejected, and that error travels back through front to the client.
    let text = r#"Scenario(name: "reject", duration: "60s",
        sources: [Source(name: "in", target: "front", rate: Constant(300))],
        nodes: [Service(name: "front", cores: 16, handlers: {"*": [Cpu(Exp("1ms")), Call("db")]}),
                Service(name: "db", queue: 0, handlers: {"*": [Cpu(Exp("2ms"))]})])"#;
    let (_d, f) = scenario_file(text);
    let r = run_json(&f, &[]);
    let rejected = num(&r, "/nodes/1/errors");
    assert!(rejected > 1000.0, "db must reject: {rejected}");
    assert_eq!(num(&r, "/summary/errors"), rejected);
    assert_eq!(
        num(&r, "/nodes/0/errors"),
        0.0,
        "front itself rejects nothing"
    );
    // Erlang loss (M/M/1/1): blocking = a / (1 + a) with a = 300 × 2 ms = 0.6.
    let blocking = num(&r, "/summary/error_rate");
    assert!((blocking - 0.375).abs() < 0.02, "blocking {blocking}");
}

#[test]
fn every_rate_profile_shapes_the_traffic_end_to_end() {
    // Arrivals per 10 s window (from the --series throughput of a never-busy service)
    // against the profile's mean rate over that window, within 8%.
    let cases: [(&str, [(usize, f64); 2]); 5] = [
        (
            r#"Ramp(from: 100, to: 500, start: "20s", over: "40s")"#,
            [(1, 100.0), (4, 350.0)],
        ),
        (
            r#"Step(from: 100, to: 400, at: "30s")"#,
            [(1, 100.0), (4, 400.0)],
        ),
        // Mean over the 20 s around the peak (trough): 300 ± 200·sin(π/4)/(π/4).
        (
            r#"Diurnal(mean: 300, amplitude: 200, period: "80s", peak_at: "20s")"#,
            [(1, 480.1), (5, 119.9)],
        ),
        (
            r#"Spike(base: 100, peak: 600, at: "20s", rise: "10s", hold: "20s", fall: "10s")"#,
            [(0, 100.0), (3, 600.0)],
        ),
        (
            r#"Piecewise([("0s", 100), ("40s", 100), ("40s", 600)])"#,
            [(2, 100.0), (5, 600.0)],
        ),
    ];
    for (profile, checks) in cases {
        let text = format!(
            r#"Scenario(name: "profile", duration: "80s", sample_every: "10s",
                sources: [Source(name: "in", target: "s", rate: {profile})],
                nodes: [Service(name: "s", cores: 1000, handlers: {{"*": [Cpu(Constant("1us"))]}})])"#
        );
        let (_d, f) = scenario_file(&text);
        let r = run_json(&f, &["--series"]);
        let thr = &r["series"]["nodes"][0]["throughput"];
        for (window, want) in checks {
            // Window i covers [10 i, 10 (i + 1)) seconds; for Diurnal, windows i and i + 1
            // together cover the 20 s centred on the peak (i = 1) or the trough (i = 5).
            let got = if profile.starts_with("Diurnal") {
                let a = thr[window].as_f64().unwrap();
                let b = thr[window + 1].as_f64().unwrap();
                (a + b) / 2.0
            } else {
                thr[window].as_f64().unwrap()
            };
            assert!(
                (got - want).abs() / want < 0.08,
                "{profile}: window {window}: {got:.1}/s vs {want:.1}/s"
            );
        }
    }
}

#[test]
fn link_latency_applies_on_the_way_there_and_back() {
    // 5 ms each way to the front, 2 ms each way to the db, 1 ms + 3 ms of CPU: 18 ms exactly.
    let text = r#"Scenario(name: "links", duration: "10s",
        sources: [Source(name: "in", target: "front", rate: Constant(20), arrivals: Deterministic)],
        nodes: [Service(name: "front", handlers: {"*": [Cpu(Constant("1ms")), Call("db")]}),
                Service(name: "db", handlers: {"*": [Cpu(Constant("3ms"))]})],
        links: [Link(from: "in", to: "front", latency: Constant("5ms")),
                Link(from: "front", to: "db", latency: Constant("2ms"))])"#;
    let (_d, f) = scenario_file(text);
    let r = run_json(&f, &[]);
    assert_eq!(num(&r, "/summary/latency/mean"), 0.018);
    assert_eq!(num(&r, "/summary/latency/max"), 0.018);
    // The front's sojourn excludes its inbound link but includes the call's round trip.
    assert_eq!(num(&r, "/nodes/0/latency/mean"), 0.008);
    assert_eq!(num(&r, "/nodes/1/latency/mean"), 0.003);
}

#[test]
fn the_scale_out_scenario_shows_its_lesson() {
    // The new instances boot 30 s into the rise: the checkout p99 SLO fails, while the
    // default scenario's errors (over 5%) are gone; the kill fails only what was on it.
    let r = run_json(std::path::Path::new("scenarios/scale-out.ron"), &[]);
    assert_eq!(r["slo"][0]["pass"], false, "{}", r["slo"]);
    assert_eq!(r["slo"][1]["pass"], true);
    let web = &r["nodes"][1];
    assert_eq!(web["instances"]["max"], 8);
    assert!(num(web, "/killed") < 20.0, "{web}");
    assert_eq!(r["timeline"].as_array().unwrap().len(), 3);
    // `validate` shows what the scenario will do to itself.
    let v = scalelab(&["validate", "scenarios/scale-out.ron"]);
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.contains("Actions\n       1m30s  web            set instances to 8"),
        "{v}"
    );
    assert!(v.contains("p99_latency(checkout) ≤ 0.2s"), "{v}");
}

#[test]
fn out_keeps_the_file_mode_writes_through_links_and_fails_before_simulating() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let r = report.to_str().unwrap();
    let run = |out: &str| scalelab(&["run", "--duration", "1m", "--json", "--out", out]);
    assert!(run(r).status.success());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&report), 0o644, "a new report is 0644");
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run(r).status.success());
    assert_eq!(mode(&report), 0o640, "replacing keeps the mode");
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&report, &link).unwrap();
    assert!(run(link.to_str().unwrap()).status.success());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let o = run("/nonexistent-dir/r.json");
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("cannot write the report to /nonexistent-dir/r.json"),
        "{e}"
    );
    assert!(!e.contains("warning"), "it simulated first: {e}");
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::process::{Command, Stdio};
    for args in [
        &["run", "--duration", "2m"][..],
        &["validate", "scenarios/default.ron"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away, like `| head -0`
        let out = child.wait_with_output().unwrap();
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {e}");
        assert!(!e.contains("Broken pipe") && !e.contains("panicked"), "{e}");
    }
}

#[test]
fn the_queue_scenario_absorbs_the_spike_the_synchronous_design_rejects() {
    let path = std::path::Path::new("scenarios/queue-absorbs-spike.ron");
    let r = run_json(path, &[]);
    assert_eq!(r["summary"]["errors"], 0);
    assert!(
        num(&r, "/summary/latency/p99") < 0.05,
        "{}",
        r["summary"]["latency"]
    );
    let q = &r["nodes"][1];
    assert!(
        num(q, "/max_queue") > 50_000.0,
        "backlog {}",
        q["max_queue"]
    );
    assert_eq!(q["queue_end"], 0, "the backlog drains");
    assert!(num(q, "/messages/processing_latency/p99") > 60.0);
    assert_eq!(r["slo"][0]["pass"], true);
    // The same spike with the email sent inside the request: rejected orders.
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace(r#"Call("emails")"#, r#"Call("mailers")"#);
    let (_d, f) = scenario_file(&text);
    let sync = run_json(&f, &[]);
    assert!(
        num(&sync, "/summary/error_rate") > 0.1,
        "{}",
        sync["summary"]
    );
    assert_eq!(sync["slo"][1]["pass"], false);
}

#[test]
fn the_stampede_scenario_fails_without_coalescing_and_holds_with_it() {
    let path = std::path::Path::new("scenarios/cache-stampede.ron");
    let r = run_json(path, &[]);
    let c = &r["nodes"][0]["cache"];
    assert_eq!(r["summary"]["errors"], 0);
    assert!(num(c, "/coalesced") > 10.0 * num(c, "/fetches"), "{c}");
    assert!(slos_pass(&r));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("coalesce_misses: true", "coalesce_misses: false");
    let (_d, f) = scenario_file(&text);
    let stampede = run_json(&f, &[]);
    assert!(
        num(&stampede, "/summary/error_rate") > 0.05,
        "{}",
        stampede["summary"]
    );
    let fetches = num(&stampede, "/nodes/0/cache/fetches");
    assert!(fetches > 100.0 * num(c, "/fetches"), "{fetches} queries");
    assert_eq!(stampede["slo"][1]["pass"], false);
}

#[test]
fn the_cache_aside_scenario_trades_hits_for_stale_reads_by_ttl() {
    let path = std::path::Path::new("scenarios/cache-aside.ron");
    let stale = |r: &Value| {
        let c = &r["nodes"][1]["cache"];
        (
            num(c, "/hit_ratio"),
            num(c, "/stale_reads") / num(c, "/hits"),
        )
    };
    let r = run_json(path, &[]);
    let (hits60, stale60) = stale(&r);
    assert_eq!(r["slo"][0]["pass"], true);
    let text = std::fs::read_to_string(path).unwrap();
    let short = text.replace(r#"ttl: "60s""#, r#"ttl: "5s""#);
    assert_ne!(short, text);
    let (_d, f) = scenario_file(&short);
    let r5 = run_json(&f, &[]);
    let (hits5, stale5) = stale(&r5);
    // A shorter TTL: fewer hits, far fewer stale, a busier database.
    assert!(hits5 < hits60 - 0.1, "{hits5} vs {hits60}");
    assert!(
        stale5 < stale60 / 5.0 && stale60 > 0.02,
        "{stale5} vs {stale60}"
    );
    assert!(num(&r5, "/nodes/2/utilization") > 1.2 * num(&r, "/nodes/2/utilization"));
    // Read-through with invalidation on writes: as many hits, almost nothing stale.
    let through = text
        .replace(r#"cores: 8),"#, r#"cores: 8, read_through: "users-db"),"#)
        .replace(
            r#"Lookup(cache: "profiles", on_miss: [Call("users-db"), Fill("profiles")])"#,
            r#"Call("profiles")"#,
        )
        .replace(
            r#"Cpu(Exp("2ms")), Call("users-db")"#,
            r#"Cpu(Exp("2ms")), Call("profiles")"#,
        );
    let (_d, f) = scenario_file(&through);
    let rt = run_json(&f, &[]);
    let (hits_rt, stale_rt) = stale(&rt);
    assert!((hits_rt - hits60).abs() < 0.02, "{hits_rt} vs {hits60}");
    assert!(stale_rt < 0.001, "{stale_rt}");
}

#[test]
fn the_replica_lag_scenario_reads_stale_and_loses_writes_at_failover() {
    let path = std::path::Path::new("scenarios/replica-lag.ron");
    let r = run_json(path, &[]);
    let d = &r["nodes"][1]["database"];
    assert!(num(d, "/stale_ratio") > 0.02, "{d}");
    assert!(num(d, "/lost_writes") > 10.0, "{d}");
    assert_eq!(num(d, "/failovers"), 1.0);
    // Writes fail during the 20 s failover, reads do not.
    assert_eq!(r["classes"][0]["errors"], 0);
    assert!(num(&r, "/classes/1/error_rate") > 0.03);
    assert_eq!(r["slo"][0]["pass"], true);
    // The replicas carry the reads, the primary only the writes.
    let primary = num(d, "/servers/0/utilization");
    assert!(
        primary < 0.2 && num(d, "/servers/2/utilization") > 0.3,
        "{d}"
    );
    // Read-your-writes: nothing stale.
    let text = std::fs::read_to_string(path).unwrap();
    let ryw = text.replace("reads_from: Replicas", "reads_from: ReadYourWrites");
    assert_ne!(ryw, text);
    let (_d, f) = scenario_file(&ryw);
    let r = run_json(&f, &[]);
    assert_eq!(r["nodes"][1]["database"]["stale_reads"], 0);
    // Sync replication: nothing stale, nothing lost, slower orders.
    let sync = text.replace("replication: Async(", "replication: Sync(");
    assert_ne!(sync, text);
    let (_d, f) = scenario_file(&sync);
    let r = run_json(&f, &[]);
    let d = &r["nodes"][1]["database"];
    assert_eq!((num(d, "/stale_reads"), num(d, "/lost_writes")), (0.0, 0.0));
    assert!(num(&r, "/classes/1/latency/mean") > 0.2);
}

#[test]
fn the_hot_shard_scenario_saturates_one_shard_and_hashing_spreads_it() {
    let path = std::path::Path::new("scenarios/hot-shard.ron");
    let r = run_json(path, &[]);
    let d = &r["nodes"][1]["database"];
    assert_eq!(num(d, "/hot_shard/shard"), 0.0);
    assert!(num(d, "/hot_shard/share") > 0.85, "{d}");
    assert!(num(d, "/servers/0/utilization") > 0.95);
    assert!(num(&r, "/summary/error_rate") > 0.05);
    assert!(r["bottleneck"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("events-db shard 0 primary: utilisation 1.00 (hot shard 0"));
    let v = scalelab(&["validate", path.to_str().unwrap()]);
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.contains("hot shard: shard 0 takes 89% of the requests"),
        "{v}"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let hashed = text.replace(
        "shards: Range(boundaries: [25000, 50000, 75000])",
        "shards: Hash(n: 4)",
    );
    assert_ne!(hashed, text);
    let (_d, f) = scenario_file(&hashed);
    let r = run_json(&f, &[]);
    assert_eq!(r["summary"]["errors"], 0);
    assert!(r["nodes"][1]["database"].get("hot_shard").is_none());
    assert!(slos_pass(&r));
}

#[test]
fn the_zone_outage_scenario_fails_until_the_health_checks_notice() {
    let path = std::path::Path::new("scenarios/zone-outage.ron");
    let r = run_json(path, &[]);
    let ejected: Vec<f64> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "health" && e["text"].as_str().unwrap().contains("ejected"))
        .map(|e| num(e, "/t"))
        .collect();
    // Probes at 120 (the outage's instant), 130, 140 s fail; verdicts 2 s later.
    assert_eq!(ejected, vec![142.0, 142.0]);
    let slow = num(&r, "/faults/0/failed");
    assert_eq!(r["slo"][0]["pass"], false);
    let text = std::fs::read_to_string(path).unwrap();
    let fast = text.replace(
        r#"interval: "10s", timeout: "2s", unhealthy_after: 3"#,
        r#"interval: "2s", timeout: "1s", unhealthy_after: 2"#,
    );
    assert_ne!(fast, text);
    let (_d, f) = scenario_file(&fast);
    let r = run_json(&f, &[]);
    assert!(
        num(&r, "/faults/0/failed") * 5.0 < slow,
        "{} vs {slow}",
        r["faults"]
    );
    assert_eq!(r["slo"][0]["pass"], true);
}

#[test]
fn the_retry_storm_scenario_never_recovers_and_its_fix_does() {
    let path = std::path::Path::new("scenarios/retry-storm.ron");
    let r = run_json(path, &["--series"]);
    let queue = |r: &Value, at: f64| {
        let s = &r["series"];
        let i = (at / num(s, "/interval")) as usize - 1;
        num(&s["nodes"][1]["queue"], &format!("/{i}"))
    };
    // Long after the 20 s slowdown, inventory's queue is still full of retries.
    assert!(queue(&r, 359.0) > 400.0);
    assert!(num(&r, "/calls/0/amplification") > 3.0);
    assert_eq!(r["slo"][0]["pass"], false);
    let text = std::fs::read_to_string(path).unwrap();
    let fixed = text.replace(
        "retry: Retry(attempts: 4)",
        r#"retry: Retry(attempts: 4, backoff: Exponential(base: "200ms", cap: "5s"), jitter: Full, budget: 0.1)"#,
    );
    assert_ne!(fixed, text);
    let (_d, f) = scenario_file(&fixed);
    let r = run_json(&f, &["--series"]);
    assert!(queue(&r, 240.0) < 50.0 && queue(&r, 359.0) < 50.0);
    assert!(num(&r, "/calls/0/amplification") < 1.1);
    assert_eq!(r["slo"][0]["pass"], true);
}

#[test]
fn the_chaos_monkey_scenario_needs_spares() {
    let path = std::path::Path::new("scenarios/chaos-monkey.ron");
    let text = std::fs::read_to_string(path).unwrap();
    let run = |n: u32| {
        let t = text.replace(
            "instances: 3, cores: 3",
            &format!("instances: {n}, cores: 3"),
        );
        let (_d, f) = scenario_file(&t);
        run_json(&f, &["--duration", "30m"])
    };
    let (n, n1, n2) = (run(3), run(4), run(5));
    let err = |r: &Value| num(r, "/summary/error_rate");
    assert!(err(&n) > 1.5 * err(&n1), "{} vs {}", err(&n), err(&n1));
    assert!(err(&n1) > err(&n2));
    assert_eq!(n["slo"][0]["pass"], false);
    assert_eq!(n2["slo"][0]["pass"], true);
}

#[test]
fn the_rate_limit_scenario_holds_off_the_scraper_and_spares_the_humans() {
    let path = std::path::Path::new("scenarios/rate-limit.ron");
    let r = run_json(path, &[]);
    assert_eq!(r["classes"][0]["errors"], 0);
    assert!((num(&r, "/classes/1/throughput") - 20.0).abs() < 0.1);
    assert!(slos_pass(&r));
    let text = std::fs::read_to_string(path).unwrap();
    let open = text.replace(
        "rate: 20, burst: 40, per: Session",
        "rate: 1000000, burst: 1000000, per: Session",
    );
    assert_ne!(open, text);
    let (_d, f) = scenario_file(&open);
    let r = run_json(&f, &[]);
    assert!(
        num(&r, "/classes/0/error_rate") > 0.1,
        "{}",
        r["classes"][0]
    );
    assert_eq!(r["slo"][0]["pass"], false);
}

#[test]
fn the_circuit_breaker_scenario_saves_the_requests_that_never_needed_the_dependency() {
    let path = std::path::Path::new("scenarios/circuit-breaker.ron");
    let r = run_json(path, &[]);
    let browse = num(&r, "/classes/0/error_rate");
    assert!(browse > 0.3, "{browse}");
    assert_eq!(r["slo"][0]["pass"], false);
    let text = std::fs::read_to_string(path).unwrap();
    let guarded = text.replace(
        r#"Call(node: "recommendations", timeout: "500ms")"#,
        r#"Call(node: "recommendations", timeout: "500ms", breaker: Breaker(threshold: 0.5, window: "10s", open_for: "20s"))"#,
    );
    assert_ne!(guarded, text);
    let (_d, f) = scenario_file(&guarded);
    let r = run_json(&f, &[]);
    assert!(
        num(&r, "/classes/0/error_rate") < browse / 10.0,
        "{}",
        r["classes"][0]
    );
    assert!(num(&r, "/calls/0/breaker_opened") >= 1.0);
    assert_eq!(r["slo"][0]["pass"], true);
}

#[test]
fn the_regional_failover_scenario_survives_only_while_one_region_can_carry_both() {
    let path = std::path::Path::new("scenarios/regional-failover.ron");
    let r = run_json(path, &[]);
    let (us, eu) = (&r["classes"][0], &r["classes"][1]);
    assert_eq!(
        (us["name"].as_str(), eu["name"].as_str()),
        (Some("us"), Some("eu"))
    );
    // Only us users fail, and only until the checks eject the dead region: 3 probes 5 s
    // apart plus the 1 s timeout is 11 s at 700/s (the first probe at 120 s fails, so
    // 10 to 11 s; a few more die with their instances).
    assert_eq!(eu["errors"], 0);
    let failed = num(us, "/errors");
    assert!((6_900.0..=7_800.0).contains(&failed), "{failed}");
    // During the 3 minutes in eu-west they pay the crossing (Exp 70 ms): about 40% of
    // the measured us requests, so their p95 is past 70 ms and eu's is not.
    assert!(num(us, "/latency/p95") > 0.1, "{us}");
    assert!(num(eu, "/latency/p95") < 0.05, "{eu}");
    assert_eq!(r["slo"][0]["pass"], true);
    assert_eq!(r["slo"][1]["pass"], true);
    // us users at 1200/s: eu-west gets 1 700/s for 1 600 of capacity and both regions fail.
    let text = std::fs::read_to_string(path).unwrap();
    let big = text.replace("rate: Constant(700)", "rate: Constant(1200)");
    assert_ne!(big, text);
    let (_d, f) = scenario_file(&big);
    let r = run_json(&f, &[]);
    assert!(
        num(&r, "/classes/1/error_rate") > 0.2,
        "{}",
        r["classes"][1]
    );
    assert_eq!(r["slo"][0]["pass"], false);
    assert_eq!(r["slo"][1]["pass"], false);
}

#[test]
fn the_black_friday_scenario_shows_reactive_scaling_too_late_and_pre_scaling_in_time() {
    let path = std::path::Path::new("scenarios/black-friday.ron");
    let text = std::fs::read_to_string(path).unwrap();
    let tracking = "autoscale: TargetTracking(metric: Cpu, target: 0.6, min: 3, max: 20)),";
    assert!(text.contains(tracking));
    let run = |policy: &str| {
        let (_d, f) = scenario_file(&text.replace(tracking, policy));
        run_json(&f, &[])
    };
    let p99 = |r: &Value| num(r, "/summary/latency/p99");
    let cost = |r: &Value| num(r, "/cost/total");
    let tt = run(tracking);
    let step = run(
        r#"autoscale: StepScaling(metric: Cpu, steps: [(above: 0.7, add: 3), (above: 0.9, add: 6), (below: 0.3, add: -1)], cooldown: "120s", min: 3, max: 20)),"#,
    );
    let sched =
        run(r#"autoscale: Scheduled([(at: "15m", instances: 10), (at: "50m", instances: 3)])),"#);
    // Reactive scaling lags the spike by minutes: the queue's wait dominates the tail.
    assert!(p99(&tt) > 60.0 && !slos_pass(&tt), "{}", tt["summary"]);
    assert!(p99(&step) < p99(&tt) && !slos_pass(&step));
    // Pre-scaled capacity is serving before the spike: the tail is the work's own.
    assert!(
        p99(&sched) < 0.15 && slos_pass(&sched),
        "{}",
        sched["summary"]
    );
    assert!(cost(&sched) < cost(&tt) && cost(&tt) < cost(&step));
}

#[test]
fn the_hpa_scenario_shows_the_default_stabilisation_riding_out_lulls() {
    let path = std::path::Path::new("scenarios/hpa-scale-down.ron");
    let text = std::fs::read_to_string(path).unwrap();
    let shipped = "max: 20)),";
    assert!(text.contains(shipped));
    let run = |policy: &str| {
        let (_d, f) = scenario_file(&text.replace(shipped, policy));
        run_json(&f, &[])
    };
    let events = |r: &Value| -> Vec<String> {
        super::timeline(r, "autoscale")
            .into_iter()
            .map(|e| e.1)
            .collect()
    };
    let default = run(shipped);
    let aggressive =
        run(r#"max: 20, behavior: Behavior(scale_down: Rules(stabilization: "0s")))),"#);
    // Lulls (2 min) are shorter than the 300 s stabilisation: the default never scales
    // down, and at the 60% target (58% in a burst, inside the tolerance) never up.
    assert!(events(&default).is_empty(), "{:?}", events(&default));
    assert!(slos_pass(&default), "{}", default["summary"]);
    // Aggressive: down in every lull (9), to one pod whenever the last burst's backlog
    // is gone (every other one), and the next burst meets that one pod.
    let e = events(&aggressive);
    let to_one = e.iter().filter(|t| t.contains(" → 1 replicas")).count();
    let down = e
        .iter()
        .filter(|t| {
            let (from, to) = super::sizes_of(t);
            to < from
        })
        .count();
    assert!(to_one >= 4 && down >= 9, "{e:?}");
    assert!(!slos_pass(&aggressive));
    let p99 = |r: &Value| num(r, "/summary/latency/p99");
    assert!(p99(&aggressive) > 100.0 * p99(&default));
    assert!(num(&aggressive, "/cost/total") < num(&default, "/cost/total"));
}

/// Runs shipped scenario `file` with its `actions: [...]` line replaced by `actions`.
fn with_actions(file: &str, shipped: &str, actions: &str) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(shipped), "{file} ships {shipped}");
    let (_d, f) = scenario_file(&text.replace(shipped, actions));
    run_json(&f, &[])
}

#[test]
fn the_deploy_scenario_shows_the_dip_of_a_rolling_update_without_surge() {
    let file = "scenarios/rolling-vs-blue-green.ron";
    let shipped =
        r#"actions: [At("10m", RollingUpdate(node: "api", max_surge: 0, max_unavailable: 1))],"#;
    let no_surge = with_actions(file, shipped, shipped);
    let surge = with_actions(
        file,
        shipped,
        r#"actions: [At("10m", RollingUpdate(node: "api", max_surge: 1, max_unavailable: 0))],"#,
    );
    let bg = with_actions(
        file,
        shipped,
        r#"actions: [At("10m", BlueGreen(node: "api"))],"#,
    );
    let p99 = |r: &Value| num(r, "/summary/latency/p99");
    let serving = |r: &Value, f: &str| num(r, &format!("/nodes/1/instances/{f}"));
    // Without surge three serve at times, at 110% CPU: the tail goes to seconds.
    assert_eq!(serving(&no_surge, "min"), 3.0);
    assert!(
        p99(&no_surge) > 2.0 && !slos_pass(&no_surge),
        "{}",
        p99(&no_surge)
    );
    // With surge, or blue/green, four always serve and the tail is the work's own.
    for r in [&surge, &bg] {
        assert_eq!(serving(r, "min"), 4.0);
        assert!(p99(r) < 0.2 && slos_pass(r), "{}", p99(r));
    }
    assert_eq!(serving(&bg, "max"), 8.0);
    // Both pay six extra instance-minutes (1 × 6 min, or 4 × 90 s) at 0.20/h: 0.02 —
    // less what the run without surge billed for its old instances draining their queues.
    let cost = |r: &Value| num(r, "/cost/total");
    assert!((cost(&surge) - cost(&bg)).abs() < 0.0005);
    let extra = cost(&surge) - cost(&no_surge);
    assert!(extra > 0.015 && extra <= 0.0201, "{extra}");
}

#[test]
fn the_vertical_scenario_costs_more_per_core_and_restarts_to_resize() {
    let file = "scenarios/vertical-vs-horizontal.ron";
    let shipped = r#"actions: [At("10m", Resize(node: "api", cores: 8, cost_per_hour: 0.50))],"#;
    let up = with_actions(file, shipped, shipped);
    let out = with_actions(
        file,
        shipped,
        r#"actions: [At("10m", SetInstances(node: "api", instances: 8))],"#,
    );
    let at_once = with_actions(
        file,
        shipped,
        r#"actions: [At("10m", Resize(node: "api", cores: 8, cost_per_hour: 0.50, mode: AllAtOnce))],"#,
    );
    let cost = |r: &Value| num(r, "/cost/total");
    // By hand: up = 2 × 10 min × 0.10 + the rolling swap + 2 × ~18 min × 0.50; out =
    // 2 × 10 min × 0.10 + 8 × 20 min × 0.10 = 0.30.
    assert!((cost(&out) - 0.30).abs() < 0.001, "{}", cost(&out));
    assert!(cost(&up) > cost(&out) * 1.1);
    // The rolling resize leaves one instance against 250/s for each start-up.
    assert_eq!(num(&up, "/nodes/1/instances/min"), 1.0);
    assert!(!slos_pass(&up) && slos_pass(&out));
    // All at once: nothing serves for the 60 s start-up, ~60 × 250 requests fail.
    assert_eq!(num(&at_once, "/nodes/1/instances/min"), 0.0);
    let errors = num(&at_once, "/summary/errors");
    assert!((14_000.0..16_000.0).contains(&errors), "{errors}");
}

#[test]
fn the_trace_replay_scenario_sends_the_traces_requests_and_scales_late() {
    let r = run_json(std::path::Path::new("scenarios/trace-replay.ron"), &[]);
    // By hand from the CSV: each row's rate for its minute of trace time; speed 2 sends
    // the same requests in half the time. The first row's minute is the 30 s warm-up.
    let csv = std::fs::read_to_string("scenarios/traces/checkout-incident.csv").unwrap();
    let rates: Vec<f64> = csv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("time"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let expected: f64 = rates[1..].iter().map(|r| r * 60.0).sum();
    let n = num(&r, "/summary/requests");
    // Poisson: a 99% interval is ±2.58 √N.
    assert!(
        (n - expected).abs() < 2.58 * expected.sqrt(),
        "{n} vs {expected}"
    );
    // The push starts at 50 trace-minutes, 25 run-minutes: the big scale-outs come
    // after it, at least three datapoints late.
    let outs: Vec<f64> = super::timeline(&r, "autoscale")
        .into_iter()
        .filter(|e| e.1.contains("cpu 100%"))
        .map(|e| e.0)
        .collect();
    assert!(!outs.is_empty() && outs[0] >= 1500.0 + 180.0, "{outs:?}");
    assert!(!slos_pass(&r));
}

#[test]
fn the_flapping_scenario_saws_and_its_fix_settles() {
    let file = "scenarios/autoscaler-flapping.ron";
    let shipped = "(below: 0.55, add: -2)],";
    let events = |r: &Value| super::timeline(r, "autoscale").len();
    let text = std::fs::read_to_string(file).unwrap();
    let run = |from: &str, to: &str| {
        assert!(text.contains(from));
        let (_d, f) = scenario_file(&text.replace(from, to));
        run_json(&f, &[])
    };
    let flapping = run(shipped, shipped);
    let slower = run(r#"cooldown: "60s""#, r#"cooldown: "600s""#);
    let fixed = run(shipped, "(below: 0.4, add: -2)],");
    // Every minute a change: dozens in the hour; a long cooldown only slows it.
    assert!(events(&flapping) >= 40, "{}", events(&flapping));
    assert!(events(&slower) >= 4 && events(&slower) < events(&flapping) / 4);
    assert!(events(&fixed) <= 3, "{}", fixed["timeline"]);
    // Half the time at four instances (75% CPU): the flapping pool's tail is longer.
    let p99 = |r: &Value| num(r, "/summary/latency/p99");
    assert!(
        p99(&flapping) > 1.3 * p99(&fixed),
        "{} vs {}",
        p99(&flapping),
        p99(&fixed)
    );
}

#[test]
fn the_queue_workers_scenario_wakes_for_the_sale_and_sleeps_after() {
    let file = "scenarios/queue-workers.ron";
    let text = std::fs::read_to_string(file).unwrap();
    let scaled = run_json(std::path::Path::new(file), &[]);
    let decisions = super::timeline(&scaled, "autoscale");
    // The sale starts at 600 s; the reading at 630 s asks for ceil(backlog / 100) ≥ 10.
    let sale = decisions
        .iter()
        .find(|d| d.0 == 630.0)
        .expect("a decision at 630 s");
    assert!(super::sizes_of(&sale.1).1 >= 10, "{decisions:?}");
    // Back to zero after the sale, and zero again and again in the trickle.
    assert!(
        decisions
            .iter()
            .filter(|d| d.1.contains("→ 0 instances"))
            .count()
            >= 3
    );
    let m = &scaled["nodes"][1]["messages"];
    assert_eq!(num(m, "/failed"), 0.0);
    assert_eq!(num(m, "/enqueued"), num(m, "/processed"));
    // A pool sized for the sale all day costs more than twice as much, and its orders
    // never wait long.
    let fixed_text = text
        .replace(
            r#"instances: 1, cores: 1, startup"#,
            r#"instances: 8, cores: 1, startup"#,
        )
        .replace(
            r#"handlers: {"*": [Cpu(Exp("100ms"))]},
                autoscale: QueueDriven(queue: "orders", per_instance: 100, min: 0, max: 40)),"#,
            r#"handlers: {"*": [Cpu(Exp("100ms"))]}),"#,
        );
    assert!(!fixed_text.contains("QueueDriven"));
    let (_d, f) = scenario_file(&fixed_text);
    let fixed = run_json(&f, &[]);
    assert!(num(&fixed, "/cost/total") > 2.0 * num(&scaled, "/cost/total"));
    let wait = |r: &Value| num(&r["nodes"][1]["messages"], "/processing_latency/p99");
    assert!(
        wait(&fixed) < 1.0 && wait(&scaled) > 10.0,
        "{} {}",
        wait(&fixed),
        wait(&scaled)
    );
}

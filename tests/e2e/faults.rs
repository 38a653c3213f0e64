//! Faults through the user's path (RON → run → JSON): each breaks what it says, for as
//! long as it holds, and the report counts what it cost.

use super::{num, run_json, scalelab, scenario_file, slos_pass};
use serde_json::Value;

/// A balancer over `web` (`instances` × 4 cores, 1 ms constant work) at 400 requests/s,
/// with `faults`.
fn web(instances: u32, extra: &str, faults: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "f", duration: "5m", warmup: "10s",
            sources: [Source(name: "users", target: "lb", rate: Constant(400))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"]),
                    Service(name: "web", instances: {instances}, cores: 4 {extra},
                            handlers: {{"*": [Cpu(Constant("1ms"))]}})],
            faults: [{faults}])"#
    ));
    run_json(&f, &[])
}

#[test]
fn chaos_monkey_keeps_the_down_fraction_at_mttr_over_mtbf_plus_mttr() {
    // Each of 10 instances serves an Exp(60 s) time, is killed, and restarts 20 s later
    // (no start-up time): the long-run share down is 20 / (60 + 20) = 0.25, so 7.5 serve
    // on average (alternating renewal).
    let (_d, f) = scenario_file(
        r#"Scenario(name: "monkey", duration: "2h",
            sources: [Source(name: "users", target: "lb", rate: Constant(100))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"]),
                    Service(name: "web", instances: 10, cores: 4,
                            handlers: {"*": [Cpu(Constant("1ms"))]})],
            faults: [At("0s", ChaosMonkey(node: "web", mtbf: "60s", mttr: "20s"))])"#,
    );
    let r = run_json(&f, &["--replications", "10"]);
    let mean = num(&r, "/nodes/1/instances/mean");
    let ci99 = num(&r, "/nodes/1/instances/mean_ci95") * 3.250 / 2.262;
    assert!(
        (mean - 7.5).abs() <= ci99 && ci99 < 0.1,
        "serving {mean} ± {ci99}, theory 7.5"
    );
    // Every kill is on the timeline (up to its bound) and in the fault's impact.
    let one = run_json(&f, &[]);
    let kills = one["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["text"]
                .as_str()
                .unwrap()
                .starts_with("chaos monkey killed")
        })
        .count();
    // About 7.5 × 7 200 s / 60 s = 900 kills.
    assert!((800..1000).contains(&kills), "{kills} kills");
}

#[test]
fn a_zone_outage_kills_the_zone_and_starts_nothing_there_until_it_heals() {
    // 6 instances over zones a, b, c (two each). Zone a fails from 1 m to 2 m; an action
    // at 1m30s starts 2 more, which must go to b and c.
    let r = web(
        6,
        r#", zones: ["a", "b", "c"]"#,
        r#"Between("1m", "2m", ZoneOutage(zone: "a"))"#,
    );
    let web = &r["nodes"][1];
    assert_eq!(web["instances"]["min"], 4);
    let t = r["timeline"].to_string();
    assert!(t.contains("zone a down: 2 instances killed"), "{t}");
    assert!(t.contains("zone a back: 2 instances started"), "{t}");
    let f = &r["faults"][0];
    assert_eq!(f["name"], "ZoneOutage(a)");
    assert_eq!((num(f, "/start"), num(f, "/end")), (60.0, 120.0));
    assert_eq!(f["healed"], true);
    // Only the requests on the killed instances failed.
    assert_eq!(num(f, "/failed"), num(f, "/killed"));
    assert_eq!(num(&r, "/summary/errors"), num(f, "/killed"));
    // With an action starting 2 during the outage: 4 + 2 serve (in b and c), then a's two
    // come back: 8.
    let (_d, file) = scenario_file(&format!(
        r#"Scenario(name: "f", duration: "5m",
            sources: [Source(name: "users", target: "web", rate: Constant(400))],
            nodes: [Service(name: "web", instances: 6, cores: 4, zones: ["a", "b", "c"],
                            handlers: {{"*": [Cpu(Constant("1ms"))]}})],
            actions: [At("90s", StartInstances(node: "web", count: 2))],
            faults: [{}])"#,
        r#"Between("1m", "2m", ZoneOutage(zone: "a"))"#
    ));
    let r = run_json(&file, &["--series"]);
    let inst = &r["series"]["nodes"][0]["instances"];
    let at = |s: f64| {
        num(
            inst,
            &format!("/{}", (s / num(&r, "/series/interval")) as usize - 1),
        )
    };
    assert_eq!((at(80.0), at(100.0), at(150.0)), (4.0, 6.0, 8.0));
}

#[test]
fn error_injection_fails_its_share_of_arrivals_while_it_holds() {
    // 400/s for 2 minutes at fraction 0.2: 48 000 arrivals, 9 600 expected to fail
    // (binomial sd 88); none before or after.
    let r = web(
        4,
        "",
        r#"Between("1m", "3m", ErrorInjection(node: "web", fraction: 0.2))"#,
    );
    let f = &r["faults"][0];
    let share = num(f, "/error_rate");
    assert!((share - 0.2).abs() < 0.01, "{share}");
    assert_eq!(num(&r, "/summary/errors"), num(f, "/failed"));
    assert!((num(f, "/failed") - 9600.0).abs() < 4.0 * 88.0, "{f}");
    // The node counts them as refused.
    assert_eq!(num(&r, "/nodes/1/errors"), num(f, "/failed"));
}

#[test]
fn node_and_link_latency_add_exactly_their_delay_while_they_hold() {
    // 1 ms of constant work; 50 ms more before web from 1 m to 2 m: every answer takes
    // 1 ms or 51 ms.
    let r = web(
        4,
        "",
        r#"Between("1m", "2m", NodeLatency(node: "web", extra: Constant("50ms")))"#,
    );
    let lat = &r["summary"]["latency"];
    assert!((num(lat, "/max") - 0.051).abs() < 1e-6, "{lat}");
    assert!((num(lat, "/p50") - 0.001).abs() < 1e-4, "{lat}");
    // A quarter of the window (1 of 4 m 50 s): the mean is 1 ms + 50 ms × 60 / 290.
    let want = 0.001 + 0.050 * 60.0 / 290.0;
    assert!((num(lat, "/mean") - want).abs() < 0.001, "{lat}");
    // A link 20 ms slower each way: 40 ms more per round trip.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "l", duration: "3m",
            sources: [Source(name: "users", target: "web", rate: Constant(100))],
            nodes: [Service(name: "web", cores: 16, handlers: {"*": [Call("db")]}),
                    Service(name: "db", cores: 4, handlers: {"*": [Cpu(Constant("1ms"))]})],
            links: [Link(from: "web", to: "db", latency: Constant("5ms"))],
            faults: [Between("1m", "2m", LinkLatency(from: "web", to: "db", extra: Constant("20ms")))])"#,
    );
    let r = run_json(&f, &[]);
    let lat = &r["summary"]["latency"];
    assert!((num(lat, "/max") - 0.051).abs() < 1e-6, "{lat}");
    assert!((num(lat, "/p50") - 0.011).abs() < 1e-4, "{lat}");
}

#[test]
fn degrade_heals_back_to_full_speed_and_kills_restart() {
    let r = web(
        4,
        "",
        r#"Between("1m", "2m", Degrade(node: "web", factor: 0.25)),
           Between("3m", "4m", KillInstances(node: "web", count: 3))"#,
    );
    let lat = &r["summary"]["latency"];
    // 1 ms at full speed, 4 ms at a quarter.
    assert!((num(lat, "/max") - 0.004).abs() < 1e-6, "{lat}");
    let web = &r["nodes"][1];
    assert_eq!(
        (num(web, "/instances/min"), num(web, "/instances/max")),
        (1.0, 4.0)
    );
    let t = r["timeline"].to_string();
    assert!(
        t.contains("CPU speed × 0.25") && t.contains("CPU speed × 1"),
        "{t}"
    );
    assert!(t.contains("start 3 instances (1 → 4)"), "{t}");
    assert_eq!(r["timeline"][0]["kind"], "fault");
}

#[test]
fn faults_replay_byte_for_byte_whatever_the_threads() {
    let (_d, f) = scenario_file(
        r#"Scenario(name: "r", duration: "3m",
            sources: [Source(name: "users", target: "lb", rate: Constant(300))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"]),
                    Service(name: "web", instances: 6, cores: 2, zones: ["a", "b"], startup: "5s",
                            handlers: {"*": [Cpu(Exp("5ms"))]})],
            faults: [Between("10s", "2m", ChaosMonkey(node: "web", mtbf: "30s", mttr: "10s")),
                     Between("1m", "90s", ErrorInjection(node: "web", fraction: 0.05)),
                     Between("100s", "110s", ZoneOutage(zone: "b"))])"#,
    );
    let run = |threads: &str| {
        scalelab(&[
            "run",
            f.to_str().unwrap(),
            "--json",
            "--replications",
            "4",
            "--threads",
            threads,
        ])
        .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    // validate lists them.
    let v = scalelab(&["validate", f.to_str().unwrap()]);
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.contains("Faults\n            10s – 2m  ChaosMonkey(web)\n"),
        "{v}"
    );
    assert!(v.contains("1m40s – 1m50s  ZoneOutage(b)"), "{v}");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("1"));
}

/// Round robin over 4 instances at 400 requests/s (Deterministic arrivals: the killed
/// instance gets exactly every 4th request), one killed at 60.5 s, with `health`.
fn killed_behind(health: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "hc", duration: "3m", warmup: "10s",
            sources: [Source(name: "users", target: "lb", rate: Constant(400), arrivals: Deterministic)],
            nodes: [LoadBalancer(name: "lb", backends: ["web"] {health}),
                    Service(name: "web", instances: 4, cores: 4,
                            handlers: {{"*": [Cpu(Constant("1ms"))]}})],
            faults: [At("60.5s", KillInstances(node: "web", count: 1))])"#
    ));
    run_json(&f, &[])
}

#[test]
fn a_dead_instance_gets_traffic_until_the_health_check_ejects_it() {
    // Probes every 10 s (at 10, 20, ... s), verdicts 1 s later, out after 3 failures: the
    // instance killed at 60.5 s fails the probes of 70, 80 and 90 s and leaves rotation at
    // 91 s. Between (k − 1)·i + timeout = 21 s and k·i + timeout = 31 s after the kill;
    // here 30.5 s, a quarter of 400/s: 3 050 requests fail (give or take the one in
    // service at the kill).
    let r = killed_behind(
        r#", health_check: HealthCheck(interval: "10s", timeout: "1s", unhealthy_after: 3, healthy_after: 2)"#,
    );
    let failed = num(&r, "/summary/errors");
    assert!((failed - 3050.0).abs() <= 2.0, "{failed} failed");
    assert!((2100.0..=3100.0).contains(&failed));
    let t = r["timeline"].to_string();
    assert!(t.contains("web/3 ejected after 3 failed checks"), "{t}");
    let ejected = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "health")
        .unwrap();
    assert_eq!(num(ejected, "/t"), 91.0);
    // Without a health check the balancer knows at once: only what was on it fails.
    let r = killed_behind("");
    assert!(num(&r, "/summary/errors") <= 4.0, "{}", r["summary"]);
}

#[test]
fn a_restarted_instance_rejoins_after_passing_its_checks() {
    // Killed at 60.5 s, started again at 100 s (no start-up; the restart comes before the
    // probe of the same instant, scheduled later): out at 91 s, probes pass at 100 and
    // 110 s, back in rotation at 111 s.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "hc", duration: "3m",
            sources: [Source(name: "users", target: "lb", rate: Constant(400))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"],
                        health_check: HealthCheck(interval: "10s", timeout: "1s")),
                    Service(name: "web", instances: 4, cores: 4,
                            handlers: {"*": [Cpu(Constant("1ms"))]})],
            faults: [Between("60.5s", "100s", KillInstances(node: "web", count: 1))])"#,
    );
    let r = run_json(&f, &[]);
    let health: Vec<(f64, String)> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "health")
        .map(|e| (num(e, "/t"), e["text"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        health,
        vec![
            (91.0, "web/3 ejected after 3 failed checks".to_string()),
            (111.0, "web/3 in rotation after 2 passed checks".to_string())
        ]
    );
}

#[test]
fn a_partition_fails_exactly_the_cross_zone_calls() {
    // `front` (2 instances: zones a, b) calls `back` (3 instances: a, b, a) through a
    // round-robin balancer; with deterministic arrivals request k runs on front k mod 2 and
    // back k mod 3: 3 of every 6 cross zones. With a and b partitioned those are lost, and
    // the 50 ms call timeout fails them; none of the others.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "p", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant(400), arrivals: Deterministic)],
            nodes: [Service(name: "front", instances: 2, cores: 32, zones: ["a", "b"],
                            handlers: {"*": [Call(node: "lb", timeout: "50ms")]}),
                    LoadBalancer(name: "lb", backends: ["back"]),
                    Service(name: "back", instances: 3, cores: 32, zones: ["a", "b"],
                            handlers: {"*": [Cpu(Constant("1ms"))]})],
            faults: [At("0s", Partition(a: "a", b: "b"))])"#,
    );
    let r = run_json(&f, &[]);
    let c = &r["calls"][0];
    // Round robin at both levels over deterministic arrivals: exactly half cross.
    assert!(
        (num(&r, "/summary/error_rate") - 0.5).abs() < 0.001,
        "{}",
        r["summary"]
    );
    // (Up to the calls of the last 50 ms, whose timeouts come after the end.)
    assert!(
        (num(c, "/timeouts") - num(c, "/calls") / 2.0).abs() <= 12.0,
        "{c}"
    );
    // The answered ones never crossed: 1 ms.
    assert!((num(&r, "/summary/latency/max") - 0.001).abs() < 1e-6);
    let t = r["timeline"].to_string();
    assert!(
        t.contains("zone a and zone b cannot reach each other"),
        "{t}"
    );
}

#[test]
fn a_fault_reports_its_writes_lost_detection_peak_and_recovery() {
    // Write-behind every 10 s; a flush at 25 s loses the 500 writes of [20 s, 25 s).
    let (_d, f) = scenario_file(
        r#"Scenario(name: "wb", duration: "29s",
            sources: [Source(name: "in", target: "cache", rate: Constant(100), arrivals: Deterministic,
                mix: [Class(name: "put", weight: 1, op: Write, keys: Uniform(n: 1000000000000))])],
            nodes: [Cache(name: "cache", capacity: 100000, hit: Constant("0s"), cores: 8,
                          read_through: "db", write: WriteBehind(flush_every: "10s")),
                    Database(name: "db", cores: 8, read: Constant("1ms"), write: Constant("1ms"))],
            faults: [At("25s", CacheFlush(node: "cache"))])"#,
    );
    let r = run_json(&f, &[]);
    let fault = &r["faults"][0];
    assert_eq!(num(fault, "/writes_lost"), 500.0, "{fault}");
    // Nothing failed: no error above the threshold, no defence needed.
    assert_eq!(fault["recovered"], true);
    assert_eq!(num(fault, "/time_to_recover"), 0.0);
    assert_eq!(fault["detected"], false);

    // Killing 2 of 6 instances behind round robin with checks every 10 s (3 to eject):
    // a third of the requests fail until the verdict on the third failed probe, then none.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "k", duration: "3m", warmup: "10s", sample_every: "1s",
            sources: [Source(name: "users", target: "lb", rate: Constant(600))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"],
                                 health_check: HealthCheck(interval: "10s", timeout: "2s", unhealthy_after: 3)),
                    Service(name: "web", instances: 6, cores: 4, handlers: {"*": [Cpu(Exp("4ms"))]})],
            faults: [At("65s", KillInstances(node: "web", count: 2))])"#,
    );
    let r = run_json(&f, &[]);
    let fault = &r["faults"][0];
    // Probes at 70, 80, 90 s fail; the verdict 2 s after the third: 27 s after the kill.
    assert_eq!(num(fault, "/time_to_detect"), 27.0, "{fault}");
    // Over 1 s intervals a third fail (binomial over ~600 answers: ±0.05 is > 3 sd).
    let peak = num(fault, "/peak_error_rate");
    assert!((peak - 1.0 / 3.0).abs() < 0.08, "{fault}");
    // Back under the 0.001 threshold in the first whole second after the ejection.
    assert_eq!(num(fault, "/recovery_threshold"), 0.001);
    assert_eq!(fault["recovered"], true);
    assert_eq!(num(fault, "/time_to_recover"), 28.0, "{fault}");
}

#[test]
fn chaos_search_finds_replays_and_shrinks_a_breaking_schedule_the_same_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = |threads: &str, sub: &str| {
        let d = dir.path().join(sub);
        std::fs::create_dir(&d).unwrap();
        let o = scalelab(&[
            "chaos",
            "scenarios/chaos-search.ron",
            "--trials",
            "12",
            "--threads",
            threads,
            "--out-dir",
            d.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout)
            .unwrap()
            .replace(d.to_str().unwrap(), "D");
        (d, text)
    };
    let (d1, one) = out("1", "one");
    let (d2, two) = out("2", "two");
    assert_eq!(one, two, "chaos output depends on the thread count");
    for f in [
        "worst-1.ron",
        "worst-2.ron",
        "worst-3.ron",
        "worst-1-min.ron",
    ] {
        assert_eq!(
            std::fs::read_to_string(d1.join(f)).unwrap(),
            std::fs::read_to_string(d2.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(one.contains("Schedules that break an SLO:"), "{one}");
    // Each written schedule replays exactly: the run reports the error rate the search did.
    let scenario = std::path::Path::new("scenarios/chaos-search.ron");
    for f in ["worst-1.ron", "worst-2.ron", "worst-3.ron"] {
        let text = std::fs::read_to_string(d1.join(f)).unwrap();
        let said: f64 = text
            .split("(error rate ")
            .nth(1)
            .and_then(|s| s.split('%').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        let r = run_json(scenario, &["--faults", d1.join(f).to_str().unwrap()]);
        assert_eq!(
            format!("{:.3}", num(&r, "/summary/error_rate") * 100.0),
            format!("{said:.3}"),
            "{f}"
        );
    }
    let worst = std::fs::read_to_string(d1.join("worst-1.ron")).unwrap();
    // The shrunk schedule still breaks an SLO, and is no bigger; with one fault left,
    // the scenario without it passes.
    let min = std::fs::read_to_string(d1.join("worst-1-min.ron")).unwrap();
    let count = |s: &str| {
        s.lines()
            .filter(|l| l.trim_start().starts_with("Between(") || l.trim_start().starts_with("At("))
            .count()
    };
    assert!(count(&min) >= 1 && count(&min) <= count(&worst), "{min}");
    let r = run_json(
        scenario,
        &["--faults", d1.join("worst-1-min.ron").to_str().unwrap()],
    );
    assert!(!slos_pass(&r));
    if count(&min) == 1 {
        let r = run_json(scenario, &[]);
        assert!(slos_pass(&r));
    }
}

#[test]
fn chaos_and_faults_files_bad_input_is_explained() {
    let e = scalelab(&["chaos", "scenarios/chaos-search.ron", "--trials", "0"]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        err.contains("--trials") && err.contains("1..=100000"),
        "{err}"
    );
    let e = scalelab(&["chaos", "scenarios/default.ron"]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert_eq!(e.status.code(), Some(2));
    assert!(err.contains("declares no chaos space"), "{err}");
    // A faults file naming an unknown node: located in that file.
    let (_d, f) = scenario_file("[\n    At(\"1m\", KillInstances(node: \"nope\", count: 1)),\n]\n");
    let e = scalelab(&[
        "run",
        "scenarios/chaos-search.ron",
        "--faults",
        f.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        err.contains(&format!("{}:2:", f.display())) && err.contains("nope"),
        "{err}"
    );
    let e = scalelab(&["run", "--faults", f.to_str().unwrap()]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--faults needs a scenario file"));
}

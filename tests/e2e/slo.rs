//! SLOs: each passes on its side of the limit and fails on the other; `--fail-on-slo`
//! turns a failure into exit code 4.

use super::{num, run_json, scalelab, scenario_file};

/// D/D/1: every response takes exactly 10 ms (no queueing); 2 instances at $0.50 an hour
/// for 1 h cost exactly $1.00; nothing fails.
fn scenario(slos: &str) -> String {
    format!(
        r#"Scenario(name: "slo", duration: "1h",
            sources: [Source(name: "in", target: "web", rate: Constant(20), arrivals: Deterministic,
                             mix: [Class(name: "a", weight: 1), Class(name: "b", weight: 1)])],
            nodes: [Service(name: "web", instances: 2, cost_per_hour: 0.5,
                            handlers: {{"*": [Cpu(Constant("10ms"))]}})],
            slos: [{slos}])"#
    )
}

#[test]
fn each_slo_passes_and_fails_on_the_right_side_of_its_limit() {
    let cases = [
        ("P99Latency(under: \"11ms\")", true, 0.010),
        ("P99Latency(under: \"9ms\")", false, 0.010),
        ("P95Latency(class: \"a\", under: \"10.2ms\")", true, 0.010),
        ("P50Latency(class: \"b\", under: \"9.8ms\")", false, 0.010),
        ("MeanLatency(under: \"10ms\")", true, 0.010),
        ("MeanLatency(under: \"9.999ms\")", false, 0.010),
        ("ErrorRate(under: 0.0)", true, 0.0),
        ("Availability(over: 1.0)", true, 1.0),
        ("Cost(under: 1.01)", true, 1.0),
        ("Cost(under: 0.99)", false, 1.0),
    ];
    let all: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (_d, f) = scenario_file(&scenario(&all.join(", ")));
    let r = run_json(&f, &[]);
    let slo = r["slo"].as_array().unwrap();
    assert_eq!(slo.len(), cases.len());
    for ((text, pass, value), got) in cases.iter().zip(slo) {
        assert_eq!(got["pass"], *pass, "{text}: {got}");
        let v = num(got, "/value");
        assert!(
            (v - value).abs() <= 0.01 * value.max(1e-9),
            "{text}: value {v}, want {value}"
        );
    }
    assert_eq!(slo[0]["name"], "p99_latency ≤ 0.011s");
    assert_eq!(slo[2]["name"], "p95_latency(a) ≤ 0.0102s");
    assert_eq!(slo[7]["name"], "availability ≥ 1");
    assert_eq!(slo[7]["limit"], 1.0);
}

#[test]
fn error_rate_and_availability_read_the_class_they_name() {
    // M/M/1/1 loss: class "x" goes to a one-slot pool with no queue and is blocked with
    // probability a/(1+a) = 0.5 at a = 1; class "y" goes elsewhere and never fails.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "loss", duration: "200s", warmup: "5s",
            sources: [Source(name: "in", target: "front", rate: Constant(200),
                             mix: [Class(name: "x", weight: 1), Class(name: "y", weight: 1)])],
            nodes: [Service(name: "front", cores: 1000,
                            handlers: {"x": [Call("loss")], "y": [Cpu(Constant("1ms"))]}),
                    Service(name: "loss", queue: 0, handlers: {"*": [Cpu(Exp("10ms"))]})],
            slos: [ErrorRate(class: "x", under: 0.55), ErrorRate(class: "x", under: 0.45),
                   Availability(class: "y", over: 0.999), Availability(over: 0.8)])"#,
    );
    let r = run_json(&f, &[]);
    let s = r["slo"].as_array().unwrap();
    let x = num(&s[0], "/value");
    assert!((x - 0.5).abs() < 0.02, "blocking {x}");
    assert_eq!(s[0]["pass"], true);
    assert_eq!(s[1]["pass"], false);
    assert_eq!(s[2]["pass"], true);
    assert_eq!(num(&s[2], "/value"), 1.0);
    assert_eq!(s[3]["pass"], false, "all classes: about 0.75 available");
}

#[test]
fn fail_on_slo_exits_with_code_4_only_when_one_fails() {
    let (_d, pass) = scenario_file(&scenario("P99Latency(under: \"11ms\")"));
    let (_e, fail) = scenario_file(&scenario("P99Latency(under: \"11ms\"), Cost(under: 0.1)"));
    let code = |f: &std::path::Path, flag: bool| {
        let mut args = vec!["run", f.to_str().unwrap(), "--duration", "10m"];
        if flag {
            args.push("--fail-on-slo");
        }
        let out = scalelab(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code(&pass, true).0, Some(0));
    let (c, stdout, stderr) = code(&fail, true);
    assert_eq!(c, Some(4));
    assert!(stderr.contains("SLO failed: cost ≤ 0.1"), "{stderr}");
    assert!(stdout.contains("✘ FAIL  cost ≤ 0.1"), "{stdout}");
    assert!(stdout.contains("✔ pass  p99_latency ≤ 0.011s"), "{stdout}");
    assert_eq!(
        code(&fail, false).0,
        Some(0),
        "without the flag a failed SLO is reported only"
    );
}

#[test]
fn with_replications_the_slo_value_is_the_mean_with_its_ci() {
    let (_d, f) = scenario_file(
        r#"Scenario(name: "mm1", duration: "30s", warmup: "2s",
            sources: [Source(name: "in", target: "s", rate: Constant(500))],
            nodes: [Service(name: "s", handlers: {"*": [Cpu(Exp("1ms"))]})],
            slos: [MeanLatency(under: "2.1ms"), MeanLatency(under: "1.9ms")])"#,
    );
    let r = run_json(&f, &["--replications", "6"]);
    let s = &r["slo"];
    assert_eq!(num(&s[0], "/value"), num(&r, "/summary/latency/mean"));
    assert!(num(&s[0], "/value_ci95") > 0.0);
    assert_eq!(s[0]["pass"], true, "M/M/1 at ρ = 0.5: W = 2 ms");
    assert_eq!(s[1]["pass"], false);
}

//! `scalelab check`: SLOs and `expect:` assertions over files and folders, JUnit, exit
//! codes, and replay commands that reproduce a failure.

use super::{num, run_json, scalelab};

/// M/M/1 at ρ = λ·E[S] = 60/s × 10 ms = 0.6: utilisation 0.6, mean response time
/// E[S]/(1 − ρ) = 25 ms, p99 = ln(100) × 25 ms = 115 ms.
fn mm1(expect: &str, slos: &str) -> String {
    format!(
        r#"Scenario(name: "mm1", duration: "20m", warmup: "1m", seed: 4,
            sources: [Source(name: "in", target: "pool", rate: Constant(60))],
            nodes: [Service(name: "pool", instances: 1, cores: 1,
                            handlers: {{"*": [Cpu(Exp("10ms"))]}})],
            slos: [{slos}],
            expect: [{expect}])"#
    )
}

#[test]
fn a_folder_is_checked_with_junit_exit_codes_and_a_replay_that_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    // Passes: the figures the theory gives, within generous bounds.
    std::fs::write(
        dir.path().join("a-good.ron"),
        mm1(
            r#"Between("pool.utilization", 0.57, 0.63), Under("mean_latency", "30ms"),
               Over("throughput", 58)"#,
            r#"P99Latency(under: "150ms")"#,
        ),
    )
    .unwrap();
    // Fails: an SLO the theory says is broken (p99 115 ms > 80 ms), and an expectation
    // that the pool is busier than it is.
    std::fs::write(
        dir.path().join("b-bad.ron"),
        mm1(
            r#"Over("pool.utilization", 0.7)"#,
            r#"P99Latency(under: "80ms")"#,
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();
    let junit = dir.path().join("out.xml");
    let out = scalelab(&[
        "check",
        dir.path().to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--quiet",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("✔ ") && text.contains("a-good.ron"), "{text}");
    assert!(
        text.contains("✔ expect pool.utilization in [0.57, 0.63]: 0."),
        "{text}"
    );
    assert!(text.contains("✔ expect mean_latency ≤ 0.03: "), "{text}");
    assert!(text.contains("✘ slo p99_latency ≤ 0.08s: 1"), "{text}");
    assert!(
        text.contains("✘ expect pool.utilization ≥ 0.7: 0."),
        "{text}"
    );
    assert!(
        text.contains("2 scenarios: 1 passed, 1 failed, 0 invalid; 2 of 8 checks failed"),
        "{text}"
    );
    // The JUnit file, parsed back: a suite per file, a case per check.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(report.test_suites.len(), 2);
    let bad = &report.test_suites[1];
    assert!(bad.name.ends_with("b-bad.ron"));
    assert_eq!(bad.test_cases.len(), 3);
    assert_eq!(bad.failures, 2);
    assert_eq!(report.test_suites[0].failures, 0);
    // The replay command printed for the SLO: the same failure, the same figure.
    let replay = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: scalelab "))
        .expect("a replay command");
    let args: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(args[0], "run");
    let r = run_json(std::path::Path::new(args[1]), &args[2..]);
    assert_eq!(r["slo"][0]["pass"], false);
    let p99 = num(&r, "/slo/0/value");
    assert!(
        text.contains(&models::report::human_secs(p99)),
        "{p99} in {text}"
    );
    // Where it first broke, for the terminal UI.
    let watch = text
        .lines()
        .find(|l| l.contains("watch:  scalelab tui"))
        .unwrap();
    assert!(watch.contains("--at "), "{watch}");
}

#[test]
fn a_scenario_that_does_not_load_or_names_no_figure_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ron");
    std::fs::write(&good, mm1(r#"Under("pool.utilisation", 0.9)"#, "")).unwrap();
    let broken = dir.path().join("broken.ron");
    std::fs::write(&broken, "Scenario(name: \"x\", sauces: [])").unwrap();
    let junit = dir.path().join("out.xml");
    let out = scalelab(&[
        "check",
        good.to_str().unwrap(),
        broken.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    // A scenario that does not load: exit 2, and an error case in the JUnit report.
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("broken.ron: does not load") && text.contains("sauces"),
        "{text}"
    );
    // A path that names no figure fails with what there is.
    assert!(
        text.contains("the report has no `utilisation`; did you mean `utilization`?"),
        "{text}"
    );
    let report =
        quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap())
            .unwrap();
    assert_eq!(report.test_suites[1].errors, 1);
    // A run cut at its in-flight limit (twice the load the pool can serve) fails
    // `completes`, with a replay.
    let cut = dir.path().join("cut.ron");
    std::fs::write(
        &cut,
        mm1("", "")
            .replace("Constant(60)", "Constant(200)")
            .replace(
                r#"warmup: "1m","#,
                r#"warmup: "1m", limits: (max_in_flight: 500),"#,
            ),
    )
    .unwrap();
    let out = scalelab(&["check", cut.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("✘ completes: in_flight_limit  (seed 4)"),
        "{text}"
    );
    assert!(text.contains("replay: scalelab run "), "{text}");
    // Nothing to check.
    let e = scalelab(&["check", dir.path().join("none").to_str().unwrap()]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("no such file or folder"));
}

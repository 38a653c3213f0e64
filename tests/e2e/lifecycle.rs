//! A world that changes while it runs: scripted actions start, stop (draining) and kill
//! instances; instances and cost in the report come from what happened; balancers route
//! only to serving instances. Each test states a figure computed by hand.

use super::{num, run_json, scalelab, scenario_file};
use serde_json::Value;

fn node<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

#[test]
fn set_instances_at_half_time_gives_mean_six_and_cost_from_instance_hours() {
    // 4 instances for 30 min, 8 for 30 min: the time-average is exactly 6, the pool ran
    // 6 instance-hours, and at $0.25 per instance-hour it cost exactly $1.50.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "step", duration: "1h",
            sources: [Source(name: "in", target: "web", rate: Constant(50))],
            nodes: [Service(name: "web", instances: 4, cost_per_hour: 0.25,
                            handlers: {"*": [Cpu(Exp("10ms"))]})],
            actions: [At("30m", SetInstances(node: "web", instances: 8))])"#,
    );
    let r = run_json(&f, &[]);
    let web = node(&r, "web");
    assert_eq!(num(web, "/instances/mean"), 6.0);
    assert_eq!(num(web, "/instances/min"), 4.0);
    assert_eq!(num(web, "/instances/max"), 8.0);
    assert_eq!(num(web, "/instance_hours"), 6.0);
    assert!((num(web, "/cost") - 1.5).abs() < 1e-12, "{}", web["cost"]);
    assert!((num(&r, "/cost/total") - 1.5).abs() < 1e-12);
    // $1.50 for the requests of one hour at 50/s.
    let per_million = 1.5 / num(&r, "/summary/requests") * 1e6;
    assert!((num(&r, "/cost/per_million_requests") - per_million).abs() < 1e-9);
    let tl = &r["timeline"][0];
    assert_eq!(tl["t"], 1800.0);
    assert_eq!(tl["kind"], "action");
    assert_eq!(tl["node"], "web");
    assert_eq!(tl["text"], "set instances 4 → 8");
}

#[test]
fn new_instances_serve_only_after_their_startup_time() {
    // 2 → 5 at 10 min with a 60 s start-up, in a 30 min run: serving (2·30 + 3·19)/30 = 3.9
    // instances on average, but billed from the start: (2·30 + 3·20)/60 = 2 instance-hours.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "boot", duration: "30m", sample_every: "30s",
            sources: [Source(name: "in", target: "lb", rate: Constant(100))],
            nodes: [LoadBalancer(name: "lb", backends: ["web"]),
                    Service(name: "web", instances: 2, startup: "60s", cost_per_hour: 1.0,
                            handlers: {"*": [Cpu(Exp("5ms"))]})],
            actions: [At("10m", SetInstances(node: "web", instances: 5))])"#,
    );
    let r = run_json(&f, &["--series"]);
    let web = node(&r, "web");
    assert!((num(web, "/instances/mean") - 3.9).abs() < 1e-12, "{web}");
    assert!((num(web, "/instance_hours") - 2.0).abs() < 1e-12, "{web}");
    // Samples every 30 s, the k-th at 30·k s: 10m30s is still 2 serving, 11m30s is 5.
    let inst = &r["series"]["nodes"][1]["instances"];
    assert_eq!(inst[20], 2.0, "at 10m30s");
    assert_eq!(inst[22], 5.0, "at 11m30s");
    assert_eq!(r["summary"]["errors"], 0);
}

/// Deterministic arrivals every 10 ms (the k-th at 10·k ms), round robin over 4
/// single-core instances serving 25 ms each: instance 3 serves the arrivals at multiples
/// of 40 ms, each alone and never queued.
const KILL: &str = r#"Scenario(name: "kill", duration: "20s",
    sources: [Source(name: "in", target: "lb", rate: Constant(100), arrivals: Deterministic)],
    nodes: [LoadBalancer(name: "lb", algorithm: RoundRobin, backends: ["web"]),
            Service(name: "web", instances: 4, handlers: {"*": [Cpu(Constant("25ms"))]})],
    actions: [At("AT", KillInstances(node: "web", count: 1))])"#;

#[test]
fn a_kill_fails_exactly_the_requests_on_the_instance_and_none_is_routed_there_after() {
    // The newest (highest) instance, 3, is killed at 10.050 s while it serves the arrival
    // of 10.040 s: exactly one request fails. Had the balancer kept sending to it, each
    // later request it got would be refused and counted in `errors`.
    let (_d, f) = scenario_file(&KILL.replace("AT", "10.050s"));
    let r = run_json(&f, &[]);
    let web = node(&r, "web");
    assert_eq!(web["killed"], 1, "{web}");
    assert_eq!(web["errors"], 0, "refused after the kill: {web}");
    assert_eq!(r["summary"]["errors"], 1);
    assert_eq!(num(web, "/instances/min"), 3.0);
    // Between its requests (10.030 s: idle since 10.025 s), a kill fails nothing.
    let (_d, f) = scenario_file(&KILL.replace("AT", "10.030s"));
    let r = run_json(&f, &[]);
    assert_eq!(node(&r, "web")["killed"], 0);
    assert_eq!(r["summary"]["errors"], 0);
    let text = r["timeline"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("kill 1 instance (4 → 3 serving); 0 requests on it"),
        "{text}"
    );
}

#[test]
fn stopping_with_drain_loses_nothing_and_without_drain_fails_the_work_in_flight() {
    // Stopped at 10.050 s, instance 3 holds the request of 10.040 s. Drained, it finishes
    // it (at 10.065 s) and stops; undrained, that one request fails at once.
    let stop = |drain: &str| {
        let text = KILL.replace(
            r#"KillInstances(node: "web", count: 1)"#,
            &format!(r#"StopInstances(node: "web", count: 1, drain: {drain})"#),
        );
        let (_d, f) = scenario_file(&text.replace("AT", "10.050s"));
        run_json(&f, &[])
    };
    let drained = stop("true");
    let web = node(&drained, "web");
    assert_eq!(web["killed"], 0, "{web}");
    assert_eq!(web["errors"], 0, "{web}");
    assert_eq!(drained["summary"]["errors"], 0);
    // Billed while draining: 4 instances until 10.065 s, then 3, over 20 s.
    let hours = (4.0 * 10.065 + 3.0 * 9.935) / 3600.0;
    assert!((num(web, "/instance_hours") - hours).abs() < 1e-12, "{web}");
    // Serving: 4 until 10.050 s.
    let serving = (4.0 * 10.050 + 3.0 * 9.950) / 20.0;
    assert!(
        (num(web, "/instances/mean") - serving).abs() < 1e-12,
        "{web}"
    );
    let cut = stop("false");
    assert_eq!(node(&cut, "web")["killed"], 1);
    assert_eq!(cut["summary"]["errors"], 1);
}

#[test]
fn a_drain_under_load_loses_nothing() {
    // A busy pool (ρ ≈ 0.75 per instance, queues form) stops 2 of 4 instances mid-run,
    // draining: every request is answered, whatever the random draws.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "drain", duration: "2m",
            sources: [Source(name: "in", target: "lb", rate: Constant(300))],
            nodes: [LoadBalancer(name: "lb", algorithm: LeastConnections, backends: ["web"]),
                    Service(name: "web", instances: 4, handlers: {"*": [Cpu(Exp("10ms"))]})],
            actions: [At("1m", StopInstances(node: "web", count: 2))])"#,
    );
    let r = run_json(&f, &["--replications", "3"]);
    let web = node(&r, "web");
    assert_eq!(web["killed"], 0, "{web}");
    assert_eq!(r["summary"]["errors"], 0);
    assert_eq!(num(web, "/instances/min"), 2.0);
}

#[test]
fn a_drain_timeout_fails_what_is_still_there() {
    // Two overloaded instances (150/s each against 100/s of service) build queues of about
    // 1 000 by 20 s; one stops with a 1 s drain, serves about 100 more, and the rest fails.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "slowdrain", duration: "40s",
            sources: [Source(name: "in", target: "web", rate: Constant(300))],
            nodes: [Service(name: "web", instances: 2, drain_timeout: "1s",
                            handlers: {"*": [Cpu(Constant("10ms"))]})],
            actions: [At("20s", StopInstances(node: "web", count: 1))])"#,
    );
    let r = run_json(&f, &[]);
    let web = node(&r, "web");
    assert!(num(web, "/killed") > 500.0, "{web}");
    assert_eq!(num(&r, "/summary/errors"), num(web, "/killed"));
}

#[test]
fn after_a_capacity_step_an_mmc_pool_settles_to_the_erlang_c_value_of_the_new_size() {
    // Random routing splits Poisson arrivals into Poisson streams, so each instance of
    // 4 cores is an M/M/4 queue. λ = 3600/s on one instance is ρ = 0.9; at 100 s a second
    // instance starts and each sees 1800/s (ρ = 0.45). Measured after 120 s, the mean
    // response is the M/M/4 value at 1800/s, not the one at 3600/s (2.8× larger).
    let (_d, f) = scenario_file(
        r#"Scenario(name: "mmc-step", duration: "220s", warmup: "120s",
            sources: [Source(name: "in", target: "lb", rate: Constant(3600))],
            nodes: [LoadBalancer(name: "lb", algorithm: Random, backends: ["web"]),
                    Service(name: "web", instances: 1, cores: 4,
                            handlers: {"*": [Cpu(Exp("1ms"))]})],
            actions: [At("100s", SetInstances(node: "web", instances: 2))])"#,
    );
    let r = run_json(&f, &["--replications", "20"]);
    let want = super::truth::mmc_w(1800.0, 1000.0, 4);
    let mean = num(&r, "/summary/latency/mean");
    let ci = num(&r, "/summary/latency/mean_ci95");
    assert!(
        (mean - want).abs() <= ci,
        "analytic {want:.6} outside {mean:.6} ± {ci:.6}"
    );
    assert!(ci < 0.02 * want, "CI ±{ci} too wide");
    let before = super::truth::mmc_w(3600.0, 1000.0, 4);
    assert!(before > 2.5 * want);
    assert!((num(&r, "/nodes/1/utilization") - 0.45).abs() < 0.01);
}

#[test]
fn actions_on_a_running_world_are_deterministic_across_threads() {
    let (_d, f) = scenario_file(&KILL.replace("AT", "10.050s"));
    let base = ["run", f.to_str().unwrap(), "--json", "--replications", "3"];
    let one = scalelab(&[&base[..], &["--threads", "1"]].concat());
    let two = scalelab(&[&base[..], &["--threads", "2"]].concat());
    assert!(one.status.success());
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn actions_after_a_shortened_run_do_not_happen_and_the_report_says_so() {
    let r = run_json(
        std::path::Path::new("tests/golden/actions.ron"),
        &["--duration", "2m30s"],
    );
    assert_eq!(
        r["timeline"].as_array().unwrap().len(),
        2,
        "{}",
        r["timeline"]
    );
    let w = r["warnings"][0].as_str().unwrap();
    assert_eq!(
        w,
        "5 actions scripted after the end of the run (150.0s) did not happen"
    );
}

//! Autoscalers through the user's path (RON → run → JSON): decisions at the datapoints
//! the rules say, with their reasons on the timeline, and cost from the run.

use super::{num, run_json, scenario_file, sizes_of, timeline};
use serde_json::Value;

/// `api` (2 × 1 core, 10 ms of constant work: 100 requests/s per instance at full CPU,
/// 60 s start-up, 1.0 per instance-hour) under deterministic load 100/s, 400/s from 10 min,
/// 100/s from 40 min, with `policy`.
fn stepped(policy: &str) -> Value {
    stepped_with(policy, &[])
}

fn stepped_with(policy: &str, args: &[&str]) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "tt", duration: "70m", warmup: "1m",
            sources: [Source(name: "users", target: "api", arrivals: Deterministic,
                rate: Piecewise([("0s", 100), ("10m", 100), ("10m", 400), ("40m", 400), ("40m", 100)]))],
            nodes: [Service(name: "api", instances: 2, cores: 1, startup: "60s", cost_per_hour: 1.0,
                            handlers: {{"*": [Cpu(Constant("10ms"))]}},
                            autoscale: {policy})])"#
    ));
    run_json(&f, args)
}

fn decisions(r: &Value) -> Vec<(f64, String)> {
    timeline(r, "autoscale")
}

#[test]
fn target_tracking_scales_at_the_datapoints_its_alarms_say_and_bills_what_ran() {
    let r = stepped("TargetTracking(metric: Cpu, target: 0.5, min: 1, max: 20)");
    let d = decisions(&r);
    // 1-minute datapoints. From 10 min the 2 instances are saturated (cpu 100%); the third
    // high datapoint (13 min) scales out to ceil(2 × 1.0 / 0.5) = 4. At 14 min the two new
    // ones are still starting: they count in the size, not in the metric (ceil(2 × 1.0 /
    // 0.5) = 4: no change). At 15 min four serve, saturated by the backlog: 8.
    assert_eq!(
        d[0],
        (
            780.0,
            "2 → 4 instances: cpu 100% vs target cpu 50% for 3 datapoints".into()
        )
    );
    assert_eq!(d[1].0, 900.0, "{d:?}");
    assert!(d[1].1.starts_with("4 → 8 instances"), "{d:?}");
    // After the drop at 40 min, 15 low datapoints (41..55 min): in at 55 min, to
    // ceil(8 × 0.125 / 0.5) = 2.
    let last = d.last().unwrap();
    assert_eq!(last.0, 3300.0, "{d:?}");
    assert!(
        last.1
            .starts_with("8 → 2 instances: cpu 12% under 90% of target"),
        "{d:?}"
    );
    // No scale-in within the warm-up (300 s) of a scale-out or the cooldown (300 s) of a
    // scale-in.
    let mut last_out: Option<f64> = None;
    let mut last_in: Option<f64> = None;
    for (t, text) in &d {
        let (from, to) = sizes_of(text);
        if to > from {
            last_out = Some(*t);
        } else {
            assert!(last_out.is_none_or(|o| t - o >= 300.0), "{d:?}");
            assert!(last_in.is_none_or(|i| t - i >= 300.0), "{d:?}");
            last_in = Some(*t);
        }
    }
    // Cost is the integral of instances × price: by hand from the decisions (each size
    // held from one decision to the next; new instances are billed from their start).
    let mut sizes = vec![(0.0, 2.0)];
    for (t, text) in &d {
        sizes.push((*t, sizes_of(text).1 as f64));
    }
    sizes.push((4200.0, 0.0));
    let by_hand: f64 = sizes
        .windows(2)
        .map(|w| w[0].1 * (w[1].0 - w[0].0))
        .sum::<f64>()
        / 3600.0;
    let hours = num(&r, "/nodes/0/instance_hours");
    // (Drained instances finish their last request, at most 10 ms, after the decision.)
    assert!((hours - by_hand).abs() < 0.001, "{hours} vs {by_hand}");
    assert!((num(&r, "/cost/total") - hours).abs() < 1e-9);
    // The series: the size the autoscaler set and its latest datapoint, at each sample
    // (every 21 s); serving instances lag the size by the 60 s start-up.
    let r = stepped_with(
        "TargetTracking(metric: Cpu, target: 0.5, min: 1, max: 20)",
        &["--series"],
    );
    let s = &r["series"];
    let at = |name: &str, t: f64| {
        let i = (t / num(s, "/interval")).floor() as usize - 1;
        num(&s["nodes"][0][name], &format!("/{i}"))
    };
    assert_eq!((at("desired", 770.0), at("desired", 800.0)), (2.0, 4.0));
    assert_eq!((at("instances", 800.0), at("instances", 860.0)), (2.0, 4.0));
    assert_eq!((at("starting", 800.0), at("starting", 860.0)), (2.0, 0.0));
    assert_eq!(at("metric", 800.0), 1.0);
    assert!((at("metric", 500.0) - 0.5).abs() < 0.01);
}

#[test]
fn step_scaling_and_a_schedule_do_what_they_say() {
    // Steps: above 90% add 4, above 80% add 2, below 30% remove 1; cooldown 5 min. The
    // first datapoint after the step (11 min) is at 100%: 2 → 6.
    let r = stepped(
        "StepScaling(metric: Cpu, steps: [(above: 0.8, add: 2), (above: 0.9, add: 4), (below: 0.3, add: -1)], cooldown: \"300s\", min: 1, max: 20)",
    );
    let d = decisions(&r);
    assert_eq!(d[0].0, 660.0, "{d:?}");
    assert!(
        d[0].1
            .starts_with("2 → 6 instances: cpu 100% above cpu 90% (step +4)"),
        "{d:?}"
    );
    // Never two changes within the cooldown.
    assert!(d.windows(2).all(|w| w[1].0 - w[0].0 >= 300.0), "{d:?}");
    // A schedule: 6 instances from 9 min (before the step), 2 from 45 min.
    let r = stepped(r#"Scheduled([(at: "9m", instances: 6), (at: "45m", instances: 2)])"#);
    assert_eq!(
        decisions(&r),
        vec![
            (540.0, "2 → 6 instances: scheduled".to_string()),
            (2700.0, "6 → 2 instances: scheduled".to_string())
        ]
    );
    // Pre-scaled: the step finds capacity ready; p99 stays at the 10 ms of work.
    assert!(num(&r, "/summary/latency/p99") < 0.012, "{}", r["summary"]);
}

#[test]
fn a_tight_band_with_a_short_cooldown_flaps_and_a_wide_band_settles() {
    // 300 requests/s of 10 ms on 1-core instances: 4 run at 75% CPU, 6 at 50%. Steps
    // "above 70%: +2" and "below 55%: −2" send 4 to 6 and 6 back to 4 at every chance.
    let run = |below: f64, cooldown: &str| {
        let (_d, f) = scenario_file(&format!(
            r#"Scenario(name: "flap", duration: "60m", warmup: "1m",
                sources: [Source(name: "users", target: "api", rate: Constant(300), arrivals: Deterministic)],
                nodes: [Service(name: "api", instances: 4, cores: 1,
                                handlers: {{"*": [Cpu(Constant("10ms"))]}},
                                autoscale: StepScaling(metric: Cpu, steps: [(above: 0.7, add: 2), (below: {below}, add: -2)],
                                                       cooldown: "{cooldown}", min: 2, max: 10))])"#
        ));
        decisions(&run_json(&f, &[])).len()
    };
    // Every other minute for an hour: about 30 changes.
    let flapping = run(0.55, "60s");
    assert!(flapping >= 25, "{flapping} changes");
    // A longer cooldown only slows the flapping; a band that 6 instances sit inside ends it.
    let slower = run(0.55, "600s");
    assert!(slower < flapping && slower >= 5, "{slower} changes");
    assert_eq!(run(0.4, "60s"), 1);
}

#[test]
fn queue_driven_workers_scale_from_zero_for_a_burst_and_back_after_the_cooldown() {
    // The consumer starts with one instance and nothing to do: the first reading (30 s)
    // scales it to zero. 50 messages/s from 2 min to 4 min; the backlog is read every
    // 30 s: at 150 s it holds the messages of 120.02 … 149.98 s, 1 499 (the one due at
    // 150 s comes after the reading), so ceil(1 499 / 100) = 15 instances start (no
    // start-up). Each does 10 messages/s.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "q", duration: "20m",
            sources: [Source(name: "shop", target: "web", arrivals: Deterministic,
                             rate: Piecewise([("0s", 0), ("2m", 0), ("2m", 50), ("4m", 50), ("4m", 0)]))],
            nodes: [Service(name: "web", cores: 8, handlers: {"*": [Enqueue("jobs")]}),
                    Queue(name: "jobs", consumer: "workers"),
                    Service(name: "workers", instances: 1, cores: 1,
                            handlers: {"*": [Cpu(Constant("100ms"))]},
                            autoscale: QueueDriven(queue: "jobs", per_instance: 100, min: 0, max: 40))])"#,
    );
    let r = run_json(&f, &[]);
    let d = decisions(&r);
    assert_eq!(
        d[0],
        (
            30.0,
            "1 → 0 instances: backlog 0 messages, 100 per instance".into()
        )
    );
    assert_eq!(
        d[1],
        (
            150.0,
            "0 → 15 instances: backlog 1499 messages, 100 per instance".into()
        )
    );
    // 15 workers drain the backlog within seconds and keep up (150/s for 50/s), so every
    // later reading finds about nothing and wants 0; a scale-down goes only as low as the
    // highest size wanted over the last 300 s — the 15 of 150 s — so to zero at 450 s.
    assert_eq!(d.len(), 3, "{d:?}");
    assert_eq!(
        d[2],
        (
            450.0,
            "15 → 0 instances: backlog 0 messages, 100 per instance".into()
        )
    );
    // Every message was processed: none lost to the empty pool.
    assert_eq!(num(&r, "/summary/errors"), 0.0, "{}", r["summary"]);
    let requests = num(&r, "/summary/requests");
    assert!((requests - 6000.0).abs() <= 1.0);
    assert!((num(&r, "/nodes/2/throughput") * 1200.0 - requests).abs() < 1e-6);
}

#[test]
fn latency_and_backlog_metrics_drive_target_tracking() {
    // p95 of api's response time per 1-minute datapoint: 10 ms while 2 instances keep up;
    // from 10 min they cannot, the queue and the p95 grow: out at the third datapoint.
    let r = stepped("TargetTracking(metric: LatencyP95, target: 0.05, min: 1, max: 20)");
    let d = decisions(&r);
    assert_eq!(d[0].0, 780.0, "{d:?}");
    assert!(d[0].1.starts_with("2 → 20 instances: p95 "), "{d:?}");
    assert!(d[0].1.contains("vs target p95 50.00ms"), "{d:?}");
    // Before the step nothing moves: 10 ms is under 90% of the target, but the step comes
    // at 10 min, before 15 such datapoints.
    assert!(d.iter().all(|x| x.0 >= 780.0), "{d:?}");
    // Backlog per instance of the queue a pool consumes, read at each datapoint.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "b", duration: "20m",
            sources: [Source(name: "shop", target: "web", arrivals: Deterministic,
                             rate: Piecewise([("0s", 0), ("2m", 0), ("2m", 50), ("6m", 50), ("6m", 0)]))],
            nodes: [Service(name: "web", cores: 8, handlers: {"*": [Enqueue("jobs")]}),
                    Queue(name: "jobs", consumer: "workers"),
                    Service(name: "workers", instances: 1, cores: 1,
                            handlers: {"*": [Cpu(Constant("100ms"))]},
                            autoscale: TargetTracking(metric: QueueBacklogPerInstance, target: 100, min: 1, max: 40))])"#,
    );
    let r = run_json(&f, &[]);
    let d = decisions(&r);
    // One worker does 10/s of the 50/s: the backlog grows 40/s from 2 min; datapoints at
    // 3, 4, 5 min read about 2 400, 4 800, 7 200 (above 100 per instance): out at 5 min
    // (7 199: the message due at 300 s comes after the reading), to ceil(1 × 7 199 / 100)
    // = 72, clamped to 40.
    assert_eq!(d[0], (300.0, "1 → 40 instances: backlog per instance 7199.0 vs target backlog per instance 100.0 for 3 datapoints".into()), "{d:?}");
}

#[test]
fn instances_still_warming_up_are_not_in_the_target_tracking_metric() {
    // One instance (100 ms of constant work: 10/s) under deterministic 15/s, no start-up.
    // At 3 min the third datapoint at 100% scales out to ceil(1 × 1.0 / 0.6) = 2. The old
    // instance keeps a backlog of 5/s × 180 s = 900, so it stays at 100% (it drains at
    // 2.5/s); the new one gets every second request (7.5/s) and is 75% busy. At 4 min the
    // new one is inside its 300 s warm-up: the metric is the old one's 100%, so
    // ceil(2 × 1.0 / 0.6) = 4. Were it counted, (100% + 75%) / 2 = 87.5% would ask for
    // ceil(2 × 0.875 / 0.6) = 3.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "warm", duration: "5m",
            sources: [Source(name: "u", target: "api", arrivals: Deterministic, rate: Constant(15))],
            nodes: [Service(name: "api", instances: 1, cores: 1,
                            handlers: {"*": [Cpu(Constant("100ms"))]},
                            autoscale: TargetTracking(metric: Cpu, target: 0.6, min: 1, max: 10,
                                                      warmup: "300s"))])"#,
    );
    let d = decisions(&run_json(&f, &[]));
    assert_eq!(d[0].0, 180.0, "{d:?}");
    assert!(d[0].1.starts_with("1 → 2 instances: cpu 100%"), "{d:?}");
    assert_eq!(d[1].0, 240.0);
    assert!(d[1].1.starts_with("2 → 4 instances: cpu 100%"), "{d:?}");
}

/// `api` (2 pods × 1 core, 100 ms of constant work, 20 s start-up) under deterministic
/// load 6/s, 14/s from 2 min, 3/s from 5 min, for 12 min, with `policy`.
fn hpa_run(policy: &str) -> Vec<(f64, String)> {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "hpa", duration: "12m",
            sources: [Source(name: "u", target: "api", arrivals: Deterministic,
                rate: Piecewise([("0s", 6), ("2m", 6), ("2m", 14), ("5m", 14), ("5m", 3)]))],
            nodes: [Service(name: "api", instances: 2, cores: 1, startup: "20s",
                            handlers: {{"*": [Cpu(Constant("100ms"))]}},
                            autoscale: {policy})])"#
    ));
    decisions(&run_json(&f, &[]))
}

#[test]
fn kubernetes_hpa_follows_the_controllers_rules_replica_by_replica() {
    // Derived by hand from replica_calculator.go and horizontal.go, syncs every 15 s, each
    // reading the last 15 s. Round robin over ready pods, so a pod's CPU is
    // rate × 0.1 s / ready pods.
    // - Until 120 s: 6/s on 2 pods, 30% each: ratio 30/50 = 0.6, ceil(0.6 × 2) = 2. Stays.
    // - 135 s (window 120..135 at 14/s): 70%, ratio 1.4, ceil(1.4 × 2) = 3 (the legacy
    //   limit max(2 × 2, 4) = 4 allows it): 2 → 3.
    // - 150 s: the new pod is starting (unready), so a scale-up counts it at 0%:
    //   1400/3000 = 46% → 0.92 < 1, a change of direction: keep 3.
    // - 165 s: ready since 155 s, but for less than one metric window inside the CPU
    //   initialisation period: still unready; the old pods' utilisation is ~54%, ratio
    //   1.08, inside the tolerance 0.1: keep 3.
    // - 180..300 s: 14/s on 3 pods, 46.67% → 46% (truncated), ratio 0.92, inside the
    //   tolerance: keep 3; every recommendation is 3.
    // - From 315 s (3/s): 10% each, ratio 0.2, ceil(0.2 × 3) = 1 — but the highest
    //   recommendation of the last 300 s is 3 until the one made at 300 s is older than
    //   the window, which is first true at 615 s: 3 → 1 there.
    let sizes = |d: &[(f64, String)]| -> Vec<(f64, (u32, u32))> {
        d.iter().map(|(t, s)| (*t, sizes_of(s))).collect()
    };
    let d = hpa_run("KubernetesHpa(metric: Cpu, target: 0.5, min: 1, max: 10)");
    assert_eq!(sizes(&d), [(135.0, (2, 3)), (615.0, (3, 1))], "{d:?}");
    // 70% exactly, or 69% when the request arriving at 120 s lands a hair before the
    // window (the utilisation is truncated: 1399/2000 is 69%).
    assert!(
        ["69", "70"]
            .map(|p| format!("2 → 3 replicas: cpu {p}% vs target 50% (HPA)"))
            .contains(&d[0].1),
        "{d:?}"
    );
    assert_eq!(d[1].1, "3 → 1 replicas: cpu 10% vs target 50% (HPA)");
    // Aggressive scale-down (no stabilisation): down at the first low sync, 315 s.
    let d = hpa_run(
        r#"KubernetesHpa(metric: Cpu, target: 0.5, min: 1, max: 10,
            behavior: Behavior(scale_down: Rules(stabilization: "0s")))"#,
    );
    let times: Vec<f64> = d.iter().map(|x| x.0).collect();
    assert_eq!(times, vec![135.0, 315.0], "{d:?}");
    // A scale-down policy of one pod per minute: 3 → 2 at 315 s, 2 → 1 at 375 s.
    let d = hpa_run(
        r#"KubernetesHpa(metric: Cpu, target: 0.5, min: 1, max: 10,
            behavior: Behavior(scale_down: Rules(stabilization: "0s", policies: [Pods(1, "60s")])))"#,
    );
    assert_eq!(
        sizes(&d),
        [(135.0, (2, 3)), (315.0, (3, 2)), (375.0, (2, 1))],
        "{d:?}"
    );
    // A tolerance of 0.05 makes 46% (ratio 0.92) a change: at 180 s, ceil(0.92 × 3) = 3
    // is no change either, so the sequence holds; at 0.5 the 70% step (ratio 1.4) is
    // inside the band and nothing scales up.
    let d = hpa_run("KubernetesHpa(metric: Cpu, target: 0.5, min: 1, max: 10, tolerance: 0.5)");
    assert!(d.iter().all(|x| !x.1.starts_with("2 → 3")), "{d:?}");
}

/// `api` (2 × 1 core, 10 ms of exponential work, 120 s start-up) under 100/s, then
/// 300/s from 10 min, with `policy`; the run's series every 10 s.
fn step_with_startup(policy: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "spike", duration: "25m", warmup: "1m", sample_every: "10s", seed: 3,
            sources: [Source(name: "u", target: "api", rate: Step(from: 100, to: 300, at: "10m"))],
            nodes: [Service(name: "api", instances: 2, cores: 1, startup: "120s",
                            handlers: {{"*": [Cpu(Exp("10ms"))]}},
                            autoscale: {policy})])"#
    ));
    run_json(&f, &["--series"])
}

/// Seconds of the run whose interval p99 is above 5× the median interval p99 before the
/// step (at 2 – 10 min), from the step on.
fn spike_seconds(r: &Value) -> f64 {
    let dt = num(&r["series"], "/interval");
    let p99: Vec<f64> = r["series"]["p99"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let at = |t: f64| (t / dt) as usize - 1;
    let mut before = p99[at(120.0)..at(600.0)].to_vec();
    before.sort_by(f64::total_cmp);
    let base = before[before.len() / 2];
    assert!(base > 0.02 && base < 0.2, "baseline p99 {base}");
    p99[at(610.0)..].iter().filter(|&&x| x > 5.0 * base).count() as f64 * dt
}

#[test]
fn a_step_with_start_up_shows_a_p99_spike_at_least_as_long_and_pre_scaling_none() {
    // Reactive: the two instances saturate at the step (300/s against 200/s); step
    // scaling sees the first 1-minute datapoint at 100% (11 min) and adds 8, which serve
    // 120 s later and drain the backlog (18 000 requests at 700/s spare: ~26 s). So the
    // tail stays high for the datapoint's 60 s plus at least the start-up D = 120 s
    // (without a start-up it would be ~90 s in all).
    let reactive = step_with_startup(
        "StepScaling(metric: Cpu, steps: [(above: 0.9, add: 8), (below: 0.2, add: -1)], min: 2, max: 10)",
    );
    let s = spike_seconds(&reactive);
    assert!(s >= 60.0 + 120.0, "spike of {s} s");
    // Pre-scaled 2 min before the step (so the new instances serve at the step): none.
    let scheduled = step_with_startup(r#"Scheduled([(at: "8m", instances: 8)])"#);
    assert_eq!(spike_seconds(&scheduled), 0.0);
}

#[test]
fn a_vertical_autoscaler_resizes_up_to_its_largest_size_and_no_further() {
    // 2 instances of 2 cores, 10 ms of constant work (100/s per core), 30 s start-up;
    // deterministic load 100/s, 300/s from 10 min, 1 000/s from 25 min, 1 800/s from 40 min.
    // Sizes 2, 4, 8 cores; grow above 70% for 3 one-minute datapoints; 600 s cooldown.
    // - 300/s on 4 cores: 75%; datapoints at 11, 12, 13 min: resize to 4 cores at 780 s,
    //   one instance at a time (two start-ups: done at 840 s). Then 37.5%.
    // - 1 000/s on 8 cores: saturated from 25 min; datapoints 26, 27, 28 min (the cooldown
    //   ended at 1 380 s): to 8 cores at 1 680 s. Then 62.5%.
    // - 1 800/s on 16 cores: saturated again from 40 min; at 43 min (2 580 s) it is at its
    //   largest size: the ceiling is noted once, nothing else happens.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "vertical", duration: "50m", warmup: "1m",
            sources: [Source(name: "u", target: "api", arrivals: Deterministic,
                rate: Piecewise([("0s", 100), ("10m", 100), ("10m", 300), ("25m", 300), ("25m", 1000),
                                 ("40m", 1000), ("40m", 1800)]))],
            nodes: [Service(name: "api", instances: 2, cores: 2, startup: "30s", cost_per_hour: 0.1,
                            handlers: {"*": [Cpu(Constant("10ms"))]},
                            autoscale: Vertical(metric: Cpu, above: 0.7, below: 0.2,
                                sizes: [(cores: 2, cost_per_hour: 0.1), (cores: 4, cost_per_hour: 0.22),
                                        (cores: 8, cost_per_hour: 0.5)]))])"#,
    );
    let r = run_json(&f, &[]);
    let d: Vec<(f64, String)> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (num(e, "/t"), e["text"].as_str().unwrap().to_string()))
        .collect();
    let at = |t: f64| -> Vec<&str> {
        d.iter()
            .filter(|e| e.0 == t)
            .map(|e| e.1.as_str())
            .collect()
    };
    assert_eq!(
        at(780.0),
        [
            "2 → 4 cores: cpu 75% above cpu 70% for 3 datapoints",
            "resize to 4 cores at 0.22/h, one at a time of 2 instances begins"
        ],
        "{d:?}"
    );
    assert_eq!(
        at(840.0),
        ["resize to 4 cores at 0.22/h, one at a time done in 1m"],
        "{d:?}"
    );
    assert!(
        at(1680.0)[0].starts_with("4 → 8 cores: cpu 100% above"),
        "{d:?}"
    );
    assert_eq!(
        at(2580.0),
        ["cpu 100% above cpu 70% for 3 datapoints: at the largest size (8 cores), it cannot grow"],
        "{d:?}"
    );
    assert_eq!(d.last().unwrap().0, 2580.0, "{d:?}");
    // Cost per size by hand, 2 cores: one instance stops (drains) at 780 s; the other
    // carries 300/s alone until its replacement serves at 810 s, queueing 100/s × 30 s,
    // which it drains at 200/s before it stops: 825 s. So 780 + 825 instance-seconds.
    let sizes = r["nodes"][0]["sizes"].as_array().unwrap();
    let hours = |i: usize| num(&sizes[i], "/instance_hours");
    let close = |a: f64, b: f64| (a - b).abs() < 0.001;
    assert!(close(hours(0), (780.0 + 825.0) / 3600.0), "{}", hours(0));
    // Each size billed at its own price, adding up to the node's cost.
    let cost: f64 = sizes
        .iter()
        .map(|s| num(s, "/instance_hours") * num(s, "/cost_per_hour"))
        .sum();
    assert!(close(cost, num(&r, "/nodes/0/cost")), "{cost}");
    let all: f64 = (0..3).map(hours).sum();
    assert!(close(all, num(&r, "/nodes/0/instance_hours")));
    // The 8-core instances run from the second resize to the end (3 000 s): two of them,
    // less the start-up stagger and more the drains: between 2 × 1 260 and 2 × 1 320 s.
    assert!(hours(2) > 2.0 * 1260.0 / 3600.0 && hours(2) < 2.0 * 1320.0 / 3600.0);
}

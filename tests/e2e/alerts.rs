//! Alert rules (`alerts:`): evaluated every `every` over the interval since the last
//! evaluation, pending while true, firing after `for`, resolved at the first false
//! evaluation — checked on a run whose every figure is known in advance.

use super::{num, run_json, scenario_file, timeline};

/// 40 requests/s evenly spaced, each 10 ms of CPU on one core: no request ever waits,
/// latency 10 ms, utilisation 0.4. At 5 min the instance slows to half speed (20 ms, 0.8)
/// until 10 min; from 11m40s to 13m20s no instance serves (every request fails).
const SCENARIO: &str = r#"Scenario(
    name: "alerts",
    seed: 1,
    duration: "15m",
    warmup: "30s",
    sources: [Source(name: "users", target: "web", rate: Constant(40), arrivals: Deterministic)],
    nodes: [Service(name: "web", cores: 1, handlers: {"*": [Cpu(Constant("10ms"))]})],
    actions: [
        At("5m", Degrade(node: "web", factor: 0.5)),
        At("10m", Degrade(node: "web", factor: 1.0)),
        At("11m40s", SetInstances(node: "web", instances: 0)),
        At("13m20s", SetInstances(node: "web", instances: 1)),
    ],
    alerts: [
        Alert(name: "slow", when: MeanLatency(over: "15ms"), for: "1m"),
        Alert(name: "busy", when: Utilization(node: "web", over: 0.5)),
        Alert(name: "failing", when: ErrorRate(over: 0.5), every: "20s"),
        Alert(name: "queued", when: Queue(node: "web", over: 0.1)),
        Alert(name: "tail", when: P99Latency(over: "15ms"), for: "30s"),
    ],
)"#;

#[test]
fn alerts_fire_and_resolve_at_the_evaluations_the_rules_say() {
    let (_d, path) = scenario_file(SCENARIO);
    let r = run_json(&path, &[]);
    let alert = |name: &str| {
        let a = r["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no alert {name}"))
            .clone();
        (
            num(&a, "/fired"),
            a["first_fired"].as_f64(),
            num(&a, "/firing_s"),
        )
    };
    // Evaluations every 30 s from the warm-up: 60, 90, ... The first wholly slow window
    // ends at 330 s: pending from then, firing one minute later at 390 s; the first
    // fast window ends at 630 s: resolved then, after 240 s.
    assert_eq!(alert("slow"), (1.0, Some(390.0), 240.0));
    // No hold: firing at 330 s (the window (300, 330] is 0.8 busy), resolved at 630 s.
    assert_eq!(alert("busy"), (1.0, Some(330.0), 300.0));
    // Every 20 s from 30 s: 690, 710, ... The window (690, 710] is 10 s ok and 10 s
    // failed: 0.5 is not over 0.5. (710, 730] fails wholly: firing at 730 s. (790, 810]
    // is 10 s failed and 10 s ok, 0.5 again: resolved at 810 s, after 80 s.
    assert_eq!(alert("failing"), (1.0, Some(730.0), 80.0));
    // Evenly spaced arrivals 25 ms apart never wait behind a 20 ms request.
    assert_eq!(alert("queued"), (0.0, None, 0.0));
    // The p99 goes with the mean here, held for 30 s: firing at 360 s.
    assert_eq!(alert("tail"), (1.0, Some(360.0), 270.0));
    let notes = timeline(&r, "alert");
    assert_eq!(
        notes.len(),
        8,
        "four alerts fired and resolved once: {notes:?}"
    );
    assert!(
        notes.iter().any(|(t, text)| *t == 390.0
            && text.starts_with("slow firing: mean_latency 0.0200s > 0.015s")),
        "{notes:?}"
    );
    // Adding alerts changes no other figure.
    let without = {
        let text = SCENARIO[..SCENARIO.find("    alerts:").unwrap()].to_string() + ")";
        let (_d, path) = scenario_file(&text);
        run_json(&path, &[])
    };
    for p in ["/summary", "/nodes", "/cost"] {
        assert_eq!(r.pointer(p), without.pointer(p), "{p} changed with alerts");
    }
}

#[test]
fn alerts_are_in_the_human_report_and_replications_keep_what_all_agree_on() {
    let (_d, path) = scenario_file(SCENARIO);
    let out = super::scalelab(&["run", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("slow             mean_latency > 0.015s for 1m, every 30s"),
        "{text}"
    );
    assert!(text.contains("never fired"), "{text}");
    // With replications the times are means; an alert that never fired stays null.
    let r = run_json(&path, &["--replications", "3"]);
    assert_eq!(r["alerts"][0]["first_fired"], 390.0);
    assert!(r["alerts"][3]["first_fired"].is_null());
}

//! Deployments and resizes through the user's path (RON → run → JSON): how many
//! instances serve while one runs, when it ends, and what each size cost.

use super::{num, run_json, scenario_file, timeline};
use serde_json::Value;

/// `api` (4 × 2 cores, 60 s start-up, 1.0 per instance-hour) behind a balancer, under
/// 300/s of 20 ms work (utilisation 0.75), for 20 min, with `actions`.
fn deployed(actions: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "dep", duration: "20m", seed: 1,
            sources: [Source(name: "u", target: "lb", rate: Constant(300))],
            nodes: [
                LoadBalancer(name: "lb", backends: ["api"]),
                Service(name: "api", instances: 4, cores: 2, startup: "60s", cost_per_hour: 1.0,
                        handlers: {{"*": [Cpu(Exp("20ms"))]}}),
            ],
            actions: [{actions}])"#
    ));
    run_json(&f, &[])
}

fn deploys(r: &Value) -> Vec<(f64, String)> {
    timeline(r, "deploy")
}

/// (instance-hours, cost) per size.
fn sizes(r: &Value) -> Vec<(f64, f64, f64)> {
    r["nodes"][1]["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (num(s, "/cores"), num(s, "/instance_hours"), num(s, "/cost")))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    // Drained instances finish their last request (tens of ms) after being stopped.
    (a - b).abs() < 0.001
}

#[test]
fn a_rolling_update_replaces_one_at_a_time_and_never_dips_below_the_pool() {
    // max_surge 1, max_unavailable 0: a fifth instance starts at 5 min; when it serves
    // (6 min) an old one stops and the next starts: four start-ups, done at 9 min.
    let r = deployed(r#"At("5m", RollingUpdate(node: "api"))"#);
    let d = deploys(&r);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].0, 300.0);
    assert_eq!(
        d[1],
        (
            540.0,
            "rolling update (max surge 1, max unavailable 0) done in 4m".into()
        )
    );
    assert_eq!(num(&r, "/nodes/1/instances/min"), 4.0);
    assert_eq!(num(&r, "/nodes/1/instances/max"), 5.0);
    assert_eq!(num(&r, "/summary/errors"), 0.0);
    // Cost by hand: the old generation 4 × 5 min, then 4, 3, 2, 1 minutes of the old ones
    // beside the new = 30 instance-minutes; the new ones started at 5, 6, 7, 8 min and run
    // to the end: 15 + 14 + 13 + 12 = 54 instance-minutes.
    let s = sizes(&r);
    assert!(
        close(s[0].1, 30.0 / 60.0) && close(s[1].1, 54.0 / 60.0),
        "{s:?}"
    );
    assert!(close(num(&r, "/nodes/1/cost"), 84.0 / 60.0));
}

#[test]
fn max_unavailable_lets_it_dip_and_blue_green_doubles_for_a_start_up() {
    // max_surge 0, max_unavailable 1: one old stops, its replacement starts; 3 serve at
    // worst; still four start-ups.
    let r = deployed(r#"At("5m", RollingUpdate(node: "api", max_surge: 0, max_unavailable: 1))"#);
    let d = deploys(&r);
    assert_eq!(d[1].0, 540.0, "{d:?}");
    assert_eq!(num(&r, "/nodes/1/instances/min"), 3.0);
    assert_eq!(num(&r, "/nodes/1/instances/max"), 4.0);
    // Blue/green: 4 new start together, serve after one start-up, then the old 4 stop:
    // 8 billed for a minute, done at 6 min.
    let r = deployed(r#"At("5m", BlueGreen(node: "api"))"#);
    let d = deploys(&r);
    assert_eq!(
        d[1],
        (360.0, "blue/green deploy done in 1m".into()),
        "{d:?}"
    );
    assert_eq!(num(&r, "/nodes/1/instances/min"), 4.0);
    assert_eq!(num(&r, "/nodes/1/instances/max"), 8.0);
    let s = sizes(&r);
    assert!(
        close(s[0].1, 24.0 / 60.0) && close(s[1].1, 60.0 / 60.0),
        "{s:?}"
    );
}

#[test]
fn a_resize_all_at_once_is_down_for_a_start_up_and_a_rolling_one_is_not() {
    // All at once: the 4 old stop at 5 min, 4 of 4 cores start, none serves for 60 s.
    let r =
        deployed(r#"At("5m", Resize(node: "api", cores: 4, cost_per_hour: 2.0, mode: AllAtOnce))"#);
    let d = deploys(&r);
    assert_eq!(
        d[1],
        (
            360.0,
            "resize to 4 cores at 2/h, all at once done in 1m".into()
        )
    );
    assert_eq!(num(&r, "/nodes/1/instances/min"), 0.0);
    // About 60 s × 300/s refused at the balancer.
    let errors = num(&r, "/summary/errors");
    assert!((17_000.0..19_000.0).contains(&errors), "{errors}");
    // Cost: 4 × 5 min at 1.0, then 4 × 15 min at 2.0.
    let s = sizes(&r);
    assert_eq!((s[0].0, s[1].0), (2.0, 4.0));
    assert!(
        close(s[0].2, 20.0 / 60.0) && close(s[1].2, 2.0 * 60.0 / 60.0),
        "{s:?}"
    );
    // Rolling (the default): one at a time, each stopped before its replacement starts:
    // 3 serve at worst, no request fails, four start-ups.
    let r = deployed(r#"At("5m", Resize(node: "api", cores: 4, cost_per_hour: 2.0))"#);
    assert_eq!(deploys(&r)[1].0, 540.0);
    assert_eq!(num(&r, "/nodes/1/instances/min"), 3.0);
    assert_eq!(num(&r, "/summary/errors"), 0.0);
    // The bigger instances serve the same load at half the utilisation.
    let after = r["nodes"][1]["utilization"].as_f64().unwrap();
    assert!(after < 0.6, "{after}");
}

//! Zones and regions through the user's path: crossing latency is paid by exactly the
//! calls that cross, balancers that prefer their zone keep traffic local and fail over to
//! the region, then anywhere; region outages and partitions act on every zone they cover.

use super::{num, run_json, scenario_file};
use serde_json::Value;

/// `front` (2 instances, zones a and b) calls `back` (3 instances: a, b, a) through a
/// round-robin balancer (`lb_extra` added to it), deterministic arrivals at 100/s, 1 ms
/// of constant work at `back`; `places` adds regions and crossing.
fn chain(lb_extra: &str, places: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "x", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant(100), arrivals: Deterministic)],
            nodes: [Service(name: "front", instances: 2, cores: 32, zones: ["a", "b"],
                            handlers: {{"*": [Call("lb")]}}),
                    LoadBalancer(name: "lb", backends: ["back"] {lb_extra}),
                    Service(name: "back", instances: 3, cores: 32, zones: ["a", "b"],
                            handlers: {{"*": [Cpu(Constant("1ms"))]}})]
            {places})"#
    ));
    run_json(&f, &[])
}

#[test]
fn crossing_latency_is_paid_by_exactly_the_calls_that_cross() {
    // Request k runs on front k mod 2 (zone a, b) and back k mod 3 (a, b, a): 3 of every 6
    // cross. Each crossing call pays the constant extra once.
    let mean = |r: &Value| num(r, "/summary/latency/mean");
    let max = |r: &Value| num(r, "/summary/latency/max");
    let r = chain("", r#", crossing: Latency(cross_zone: Constant("10ms"))"#);
    assert!((mean(&r) - 0.006).abs() < 1e-4, "{}", r["summary"]);
    assert!((max(&r) - 0.011).abs() < 1e-6);
    // a and b in two regions: the crossing is regional.
    let regions = r#", regions: [Region(name: "us", zones: ["a"]), Region(name: "eu", zones: ["b"])],
        crossing: Latency(cross_zone: Constant("10ms"), cross_region: Constant("70ms"))"#;
    let r = chain("", regions);
    assert!((mean(&r) - 0.036).abs() < 1e-4, "{}", r["summary"]);
    assert!((max(&r) - 0.071).abs() < 1e-6);
    // Preferring the caller's zone: nothing crosses.
    let r = chain(", prefer_zone: true", regions);
    assert!((max(&r) - 0.001).abs() < 1e-6, "{}", r["summary"]);
    // Exponential crossing: the mean extra is the distribution's (99% interval).
    let r = chain("", r#", crossing: Latency(cross_zone: Exp("20ms"))"#);
    let n = num(&r, "/summary/completed");
    // Half of the requests pay Exp(20 ms): mean 10 ms, sd of the mean √(½·(2·0.02²) − 0.01²)/√n.
    let sd = ((0.5 * 2.0 * 0.02f64.powi(2) - 0.01f64.powi(2)) / n).sqrt();
    assert!(sd < 0.0005, "too few requests: {n}");
    assert!(
        (mean(&r) - 0.011).abs() < 2.576 * sd,
        "mean {} vs 0.011 ± {}",
        mean(&r),
        2.576 * sd
    );
}

/// Clients in zone a1 reach `web` (zones a1, a2 in region us, b1 in eu) through a
/// balancer that prefers their zone, with `faults` from the start.
fn failover(faults: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "x", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "lb", rate: Constant(100), zone: "a1", timeout: "1s")],
            nodes: [LoadBalancer(name: "lb", backends: ["web"], prefer_zone: true),
                    Service(name: "web", instances: 3, cores: 32, zones: ["a1", "a2", "b1"],
                            handlers: {{"*": [Cpu(Constant("1ms"))]}})],
            regions: [Region(name: "us", zones: ["a1", "a2"]), Region(name: "eu", zones: ["b1"])],
            crossing: Latency(cross_zone: Constant("5ms"), cross_region: Constant("70ms")),
            faults: [{faults}])"#
    ));
    run_json(&f, &[])
}

#[test]
fn a_preferring_balancer_fails_over_to_the_region_then_anywhere() {
    let latency = |r: &Value| {
        let us = |x: f64| (x * 1e6).round() / 1e6;
        (
            us(num(r, "/summary/latency/mean")),
            us(num(r, "/summary/latency/max")),
            num(r, "/summary/errors"),
        )
    };
    // All local.
    assert_eq!(latency(&failover("")), (0.001, 0.001, 0.0));
    // Zone a1 down: the region's other zone.
    assert_eq!(
        latency(&failover(r#"At("0s", ZoneOutage(zone: "a1"))"#)),
        (0.006, 0.006, 0.0)
    );
    // Region us down: the other region, at the regional price.
    let r = failover(r#"At("0s", RegionOutage(region: "us"))"#);
    assert_eq!(latency(&r), (0.071, 0.071, 0.0));
    assert_eq!(num(&r, "/nodes/1/instances/mean"), 1.0);
    assert_eq!(r["faults"][0]["name"], "RegionOutage(us)");
    let t = r["timeline"].to_string();
    assert!(t.contains("region us down: 2 instances killed"), "{t}");
    // Region us down and the regions partitioned: the clients (in us) reach nothing; every
    // request is lost on the way and ends at the client's timeout.
    let r =
        failover(r#"At("0s", RegionOutage(region: "us")), At("0s", Partition(a: "us", b: "eu"))"#);
    assert_eq!(num(&r, "/summary/completed"), 0.0, "{}", r["summary"]);
    assert!(num(&r, "/summary/errors") > 5000.0);
    let t = r["timeline"].to_string();
    assert!(
        t.contains("region us and region eu cannot reach each other"),
        "{t}"
    );
    // Healed: the region comes back and takes its clients again.
    let r = failover(r#"Between("0s", "5s", RegionOutage(region: "us"))"#);
    assert_eq!(latency(&r), (0.001, 0.001, 0.0));
}

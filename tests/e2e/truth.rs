//! Queueing theory checks. Each builds a RON scenario, runs enough replications through
//! the CLI, and asserts that the analytic value lies inside the reported 95% CI and that
//! the CI is tight (half-width < 5% of the value), so a wrong model cannot pass.
//!
//! Analytic formulas are computed here in Rust; they were cross-checked once against
//! `shared/anchors/analytic.py` (see `analytic_formulas_match_the_oracle`).

use super::{num, run_json, scenario_file};
use serde_json::Value;

/// One station fed by a Poisson source: `servers` workers, `service` distribution.
fn station(lam: f64, servers: u32, service: &str, queue: &str, duration: &str) -> String {
    format!(
        r#"Scenario(name: "station", duration: "{duration}", warmup: "5s",
            sources: [Source(name: "in", target: "s", rate: Constant({lam}))],
            nodes: [Service(name: "s", cores: {servers}, {queue} handlers: {{"*": [Cpu({service})]}})])"#
    )
}

/// Assert `analytic` is inside `mean ± ci` at `pointer`, and the CI is under 5% of it.
fn assert_inside(report: &Value, pointer: &str, analytic: f64, what: &str) {
    let mean = num(report, pointer);
    let ci = num(report, &format!("{pointer}_ci95"));
    assert!(
        (mean - analytic).abs() <= ci,
        "{what}: analytic {analytic:.6} outside CI {mean:.6} ± {ci:.6}"
    );
    assert!(
        ci < 0.05 * analytic,
        "{what}: CI ±{ci:.6} too wide for {analytic:.6}"
    );
}

fn mm1_w(lam: f64, mu: f64) -> f64 {
    1.0 / (mu - lam)
}

/// Erlang C: probability of waiting in M/M/c with offered load a = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let top = term * a / c as f64 * (c as f64 / (c as f64 - a));
    top / (sum + top)
}

/// Mean response time of M/M/c.
pub fn mmc_w(lam: f64, mu: f64, c: u32) -> f64 {
    erlang_c(c, lam / mu) / (c as f64 * mu - lam) + 1.0 / mu
}

/// Pollaczek–Khinchine for M/D/1.
fn md1_w(lam: f64, mu: f64) -> f64 {
    let rho = lam / mu;
    rho / (2.0 * mu * (1.0 - rho)) + 1.0 / mu
}

/// M/M/1/K: blocking probability and mean response time of admitted customers.
pub fn mm1k(lam: f64, mu: f64, k: u32) -> (f64, f64) {
    let rho = lam / mu;
    let norm: f64 = (0..=k).map(|n| rho.powi(n as i32)).sum();
    let p = |n: u32| rho.powi(n as i32) / norm;
    let block = p(k);
    let l: f64 = (0..=k).map(|n| n as f64 * p(n)).sum();
    (block, l / (lam * (1.0 - block)))
}

#[test]
fn analytic_formulas_match_the_oracle() {
    // Values printed by shared/anchors/analytic.py (mm1, mmc, md1, mmck) for these inputs.
    assert!((mm1_w(0.9, 1.0) - 10.0).abs() < 1e-12);
    assert!(
        (mmc_w(3.2, 1.0, 4) - 1.745_540_6).abs() < 1e-6,
        "{}",
        mmc_w(3.2, 1.0, 4)
    );
    assert!((md1_w(0.5, 1.0) - 1.5).abs() < 1e-12);
    let (b, w) = mm1k(0.9, 1.0, 10);
    assert!((b - 0.050_813_73).abs() < 1e-7, "{b}");
    assert!((w - 4.646_600_67).abs() < 1e-7, "{w}");
}

#[test]
fn mm1_at_rho_half_and_its_p95() {
    let (lam, mu) = (500.0, 1000.0);
    let (_d, f) = scenario_file(&station(lam, 1, "Exp(\"1ms\")", "", "105s"));
    let r = run_json(&f, &["--replications", "20"]);
    assert_inside(
        &r,
        "/summary/latency/mean",
        mm1_w(lam, mu),
        "M/M/1 ρ=0.5 mean",
    );
    // p95 of an exponential sojourn with rate μ−λ: ln(20)/(μ−λ), within 3%.
    let p95 = num(&r, "/summary/latency/p95");
    let want = 20f64.ln() / (mu - lam);
    assert!((p95 - want).abs() / want < 0.03, "p95 {p95} vs {want}");
    // Utilisation is ρ.
    let util = num(&r, "/nodes/0/utilization");
    assert!((util - 0.5).abs() < 0.01, "utilisation {util}");
}

#[test]
fn mm1_at_rho_0_8() {
    let (lam, mu) = (800.0, 1000.0);
    let (_d, f) = scenario_file(&station(lam, 1, "Exp(\"1ms\")", "", "205s"));
    let r = run_json(&f, &["--replications", "20"]);
    assert_inside(
        &r,
        "/summary/latency/mean",
        mm1_w(lam, mu),
        "M/M/1 ρ=0.8 mean",
    );
}

#[test]
fn mmc_erlang_c_with_four_servers() {
    let (lam, mu, c) = (3200.0, 1000.0, 4);
    let (_d, f) = scenario_file(&station(lam, c, "Exp(\"1ms\")", "", "65s"));
    let r = run_json(&f, &["--replications", "20"]);
    assert_inside(
        &r,
        "/summary/latency/mean",
        mmc_w(lam, mu, c),
        "M/M/4 ρ=0.8 mean",
    );
}

#[test]
fn md1_pollaczek_khinchine() {
    let (lam, mu) = (700.0, 1000.0);
    let (_d, f) = scenario_file(&station(lam, 1, "Constant(\"1ms\")", "", "105s"));
    let r = run_json(&f, &["--replications", "20"]);
    assert_inside(
        &r,
        "/summary/latency/mean",
        md1_w(lam, mu),
        "M/D/1 ρ=0.7 mean",
    );
}

#[test]
fn mm1k_blocking_probability() {
    // K = 10 in the system: one in service and a queue of 9.
    let (lam, mu, k) = (900.0, 1000.0, 10);
    let (_d, f) = scenario_file(&station(lam, 1, "Exp(\"1ms\")", "queue: 9,", "105s"));
    let r = run_json(&f, &["--replications", "20"]);
    let (block, w) = mm1k(lam, mu, k);
    assert_inside(&r, "/summary/error_rate", block, "M/M/1/10 blocking");
    assert_inside(
        &r,
        "/summary/latency/mean",
        w,
        "M/M/1/10 mean response of admitted",
    );
}

#[test]
fn tandem_of_three_mm1_stations() {
    // Release mode + a final Call forwards the request: three M/M/1 queues in series.
    let (lam, mu) = (700.0, 1000.0);
    let text = format!(
        r#"Scenario(name: "tandem", duration: "105s", warmup: "5s",
            sources: [Source(name: "in", target: "s1", rate: Constant({lam}))],
            nodes: [
                Service(name: "s1", on_call: Release, handlers: {{"*": [Cpu(Exp("1ms")), Call("s2")]}}),
                Service(name: "s2", on_call: Release, handlers: {{"*": [Cpu(Exp("1ms")), Call("s3")]}}),
                Service(name: "s3", handlers: {{"*": [Cpu(Exp("1ms"))]}}),
            ])"#
    );
    let (_d, f) = scenario_file(&text);
    let r = run_json(&f, &["--replications", "20"]);
    assert_inside(
        &r,
        "/summary/latency/mean",
        3.0 * mm1_w(lam, mu),
        "tandem end-to-end mean",
    );
    // Each station alone is M/M/1: its own sojourn excludes the stations downstream only
    // for the last one; check the last station and every utilisation.
    assert_inside(
        &r,
        "/nodes/2/latency/mean",
        mm1_w(lam, mu),
        "tandem station 3 mean",
    );
    for i in 0..3 {
        let u = num(&r, &format!("/nodes/{i}/utilization"));
        assert!((u - 0.7).abs() < 0.01, "station {i} utilisation {u}");
    }
}

#[test]
fn littles_law_holds_on_every_node_of_the_default_scenario() {
    let r = run_json(std::path::Path::new("scenarios/default.ron"), &[]);
    for node in r["nodes"].as_array().unwrap() {
        let name = node["name"].as_str().unwrap();
        let l = num(node, "/mean_present");
        let lw = num(node, "/throughput") * num(node, "/latency/mean");
        assert!(l > 0.0, "{name}: nothing present");
        assert!(
            (l - lw).abs() / l < 0.02,
            "{name}: L = {l:.4} but λW = {lw:.4}"
        );
    }
}

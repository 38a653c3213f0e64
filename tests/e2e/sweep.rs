//! `scalelab sweep`: a grid of overrides, a JSON line per point, the cheapest point
//! meeting the SLOs, resuming.

use super::{scalelab, scenario_file};
use serde_json::Value;

/// A pool of `instances` × 1 core behind nothing: the pool sends requests round robin, so
/// each instance sees every c-th arrival of a Poisson stream of 300/s (Erlang-c
/// interarrivals) and serves them FIFO in Exp(10 ms): an E_c/M/1 queue each.
const POOL: &str = r#"Scenario(name: "pool", duration: "5m", warmup: "30s", seed: 3,
    sources: [Source(name: "in", target: "pool", rate: Constant(300))],
    nodes: [Service(name: "pool", instances: 4, cores: 1, cost_per_hour: 1.0,
                    handlers: {"*": [Cpu(Exp("10ms"))]})],
    slos: [P99Latency(under: "60ms")])"#;

/// p99 of the response time of an instance among `c` behind round robin (GI/M/1 theory):
/// the sojourn time is exponential with rate μ(1 − σ), where σ is the root in (0, 1) of
/// σ = A*(μ(1 − σ)) and A*(s) = (λ / (λ + s))^c is the Laplace transform of the Erlang-c
/// interarrival time (c phases of rate λ). So p99 = ln(100) / (μ(1 − σ)).
fn p99(c: u32) -> f64 {
    let (lam, mu) = (300.0f64, 100.0f64);
    let mut s = 0.5f64;
    for _ in 0..10_000 {
        s = (lam / (lam + mu * (1.0 - s))).powi(c as i32);
    }
    100f64.ln() / (mu * (1.0 - s))
}

/// A small, short sweep of `f`: `instances` × two queue limits, 2 seeds, 2 minutes.
fn small_grid<'a>(f: &'a str, instances: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        f,
        "--set",
        instances,
        "--set",
        "pool.queue=50,100",
        "--seeds",
        "2",
        "--duration",
        "2m",
        "--quiet",
    ]
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_sweep_finds_the_cheapest_pool_meeting_a_latency_slo() {
    // p99 by the theory: 4 → 122 ms, 5 → 77 ms, 6 → 63.2 ms, 7 → 56.6 ms, 8 → 53 ms. The
    // SLO (60 ms) is met from 7 instances on, so 7 is the cheapest (cost grows with
    // instances).
    let first = (4..=10).find(|&c| p99(c) <= 0.060).unwrap();
    assert_eq!(first, 7);
    assert!(
        p99(6) > 0.060 * 1.04 && p99(7) < 0.060 * 0.96,
        "a clear margin either side"
    );
    let (dir, f) = scenario_file(POOL);
    let jsonl = dir.path().join("points.jsonl");
    let out = scalelab(&[
        "sweep",
        f.to_str().unwrap(),
        "--set",
        "pool.instances=4..10",
        "--seeds",
        "10",
        "--minimize",
        "cost",
        "--json",
        "--quiet",
        "--jsonl",
        jsonl.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["points"], 7);
    assert_eq!(v["best"]["set"]["pool.instances"], first.to_string(), "{v}");
    assert_eq!(v["best"]["meets_slos"], true);
    // 7 instances for 5 minutes at 1 an hour.
    let cost = v["best"]["summary"]["cost"]["mean"].as_f64().unwrap();
    assert!((cost - 7.0 / 12.0).abs() < 1e-9, "{cost}");
    // Each point's p99 is the theory's, within its 95% CI (and a bound on its width:
    // measured 0.8% to 3.6%, the widest at 4 instances, ρ = 0.75; the histogram adds up to
    // 1% relative error).
    let points = lines(&jsonl);
    assert_eq!(points.len(), 7);
    for p in &points {
        let c: u32 = p["set"]["pool.instances"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let e = &p["summary"]["p99_latency"];
        let (mean, ci) = (e["mean"].as_f64().unwrap(), e["ci95"].as_f64().unwrap());
        let want = p99(c);
        assert!(ci < 0.08 * want, "{c}: ±{ci}");
        assert!(
            (mean - want).abs() <= ci + 0.01 * want,
            "{c}: {mean} ± {ci}, theory {want}"
        );
        assert_eq!(p["meets_slos"], c >= first, "{c}: {p}");
    }
}

#[test]
fn an_interrupted_sweep_resumes_and_the_results_do_not_depend_on_threads() {
    let (dir, f) = scenario_file(POOL);
    let f = f.to_str().unwrap();
    let sweep = |jsonl: &std::path::Path, threads: &str, extra: &[&str]| {
        let mut args = small_grid(f, "pool.instances=5..8");
        args.extend(["--threads", threads, "--jsonl", jsonl.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let out = scalelab(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let csv = dir.path().join("points.csv");
    let svg = dir.path().join("sweep.svg");
    let table = sweep(
        &a,
        "1",
        &[
            "--csv",
            csv.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ],
    );
    // The plot: p99 and cost against each axis, a line per value of the other.
    let plot = std::fs::read_to_string(&svg).unwrap();
    for t in [
        "p99 latency against pool.instances",
        "cost against pool.queue",
        "pool.queue=50",
        "pool.instances=8",
    ] {
        assert!(plot.contains(t), "{t}");
    }
    sweep(&b, "2", &[]);
    let whole = std::fs::read_to_string(&a).unwrap();
    assert_eq!(
        whole,
        std::fs::read_to_string(&b).unwrap(),
        "threads changed a point"
    );
    assert_eq!(whole.lines().count(), 8);
    // The grid's order: the first axis varies slowest.
    let pts = lines(&a);
    assert_eq!(
        pts[1]["set"],
        serde_json::json!({"pool.instances": "5", "pool.queue": "100"})
    );
    assert!(
        table.contains("pool.instances") && table.lines().count() == 9,
        "{table}"
    );
    // The CSV: a header and a row per point.
    let c = std::fs::read_to_string(&csv).unwrap();
    assert!(
        c.starts_with("point,pool.instances,pool.queue,throughput,throughput_ci95,"),
        "{c}"
    );
    assert_eq!(c.lines().count(), 9);
    // Interrupted after three points, in the middle of the fourth line.
    let cut: Vec<&str> = whole.lines().collect();
    std::fs::write(
        &a,
        format!("{}\n{}\n{}\n{}", cut[0], cut[1], cut[2], &cut[3][..20]),
    )
    .unwrap();
    let again = sweep(&a, "2", &[]);
    assert!(
        again.contains("resumed: 3 of 8 points already in"),
        "{again}"
    );
    assert_eq!(
        again
            .lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count(),
        5
    );
    let mut resumed: Vec<&str> = std::fs::read_to_string(&a)
        .unwrap()
        .leak()
        .lines()
        .collect();
    let mut fresh: Vec<&str> = whole.lines().collect();
    resumed.sort();
    fresh.sort();
    assert_eq!(
        resumed, fresh,
        "each point once, the same as a run in one go"
    );
    // The file of another sweep is not mixed in.
    let out = scalelab(&[
        "sweep",
        f,
        "--set",
        "pool.instances=5..9",
        "--seeds",
        "2",
        "--duration",
        "2m",
        "--jsonl",
        a.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a point of another sweep"));
}

#[test]
fn shards_merge_into_exactly_the_file_of_one_run() {
    let (dir, f) = scenario_file(POOL);
    let f = f.to_str().unwrap();
    let base = small_grid(f, "pool.instances=5..9");
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        let out = scalelab(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let whole = path("whole.jsonl");
    run(&["--jsonl", &whole]);
    let shards: Vec<String> = (1..=3).map(|k| path(&format!("s{k}.jsonl"))).collect();
    for (k, s) in shards.iter().enumerate() {
        run(&["--shard", &format!("{}/3", k + 1), "--jsonl", s]);
    }
    // Each shard holds its share: point i in shard (i mod 3) + 1.
    let s2 = lines(std::path::Path::new(&shards[1]));
    assert!(s2.iter().all(|p| p["point"].as_u64().unwrap() % 3 == 1));
    assert_eq!(s2.len(), 3);
    let merged = path("merged.jsonl");
    let mut args = vec!["merge"];
    // In any order.
    args.extend(shards.iter().rev().map(String::as_str));
    args.extend(["--out", &merged, "--minimize", "cost"]);
    let out = scalelab(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("merged 10 points from 3 files"), "{text}");
    assert!(
        text.contains("lowest cost meeting every SLO: point "),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        std::fs::read(&whole).unwrap(),
        "the merge is byte for byte the single run's file"
    );
    // A shard missing: the points named, nothing written.
    let partial = path("partial.jsonl");
    let out = scalelab(&["merge", &shards[0], &shards[2], "--out", &partial]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("3 of 10 points are missing: 1, 4, 7"), "{e}");
    assert!(!std::path::Path::new(&partial).exists());
    // Points of another sweep are refused.
    let other = path("other.jsonl");
    let mut a: Vec<&str> = base.to_vec();
    a[3] = "pool.instances=5..6";
    a.extend(["--jsonl", &other]);
    assert!(scalelab(&a).status.success());
    let out = scalelab(&["merge", &whole, &other]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("comes from another sweep"));
    // A shard's flags are checked.
    for (shard, msg) in [("3/2", "1 ≤ K ≤ N"), ("0/2", "1 ≤ K ≤ N"), ("x", "K/N")] {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(["--shard", shard, "--jsonl", &other]);
        let out = scalelab(&a);
        assert_eq!(out.status.code(), Some(2), "{shard}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(msg),
            "{shard}"
        );
    }
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--shard", "1/2"]);
    let out = scalelab(&a);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shard needs --jsonl"));
}

//! Databases through the user's path (RON → run → JSON): replica utilisation against the
//! load split, a connection pool as an M/M/1 queue, stale reads against a hand
//! computation, synchronous writes, failover losses, and the hot shard.

use super::truth::mmc_w;
use super::{num, run_json, scalelab, scenario_file};
use serde_json::Value;

/// `analytic` is inside the 99% interval (the 95% half-width × 1.44, Student t with 9
/// degrees of freedom: 3.250 / 2.262), and that interval is under `width` of the value.
fn assert_inside(report: &Value, pointer: &str, analytic: f64, width: f64, what: &str) {
    let mean = num(report, pointer);
    let ci99 = num(report, &format!("{pointer}_ci95")) * 3.250 / 2.262;
    assert!(
        (mean - analytic).abs() <= ci99,
        "{what}: analytic {analytic:.6} outside the 99% interval {mean:.6} ± {ci99:.6}"
    );
    assert!(
        ci99 < width * analytic,
        "{what}: interval ±{ci99:.6} too wide for {analytic:.6}"
    );
}

/// A source sending `reads`/s and `writes`/s straight to database `db` declared by
/// `database` (its fields after the name).
fn direct(reads: f64, writes: f64, keys: &str, database: &str, extra: &str) -> String {
    format!(
        r#"Scenario(name: "db", duration: "100s", warmup: "10s",
            sources: [Source(name: "in", target: "db", rate: Constant({total}),
                mix: [Class(name: "get", weight: {reads}, keys: {keys}),
                      Class(name: "put", weight: {writes}, op: Write, keys: {keys})])],
            nodes: [Database(name: "db", {database})]{extra})"#,
        total = reads + writes
    )
}

#[test]
fn replicas_split_the_reads_and_apply_every_write() {
    // 800 reads/s over 2 replicas (2 ms each), 200 writes/s on the primary (5 ms each),
    // every write applied on both replicas (default apply: 5 ms × 0.5), 4 cores each:
    // primary ρ = 200 × 0.005 / 4 = 0.25; replica ρ = (400 × 0.002 + 200 × 0.0025) / 4
    // = 0.325.
    let (_d, f) = scenario_file(&direct(
        800.0,
        200.0,
        "Uniform(n: 100000)",
        r#"cores: 4, read: Exp("2ms"), write: Exp("5ms"), replicas: 2, reads_from: Replicas,
           replication: Async(lag: Exp("20ms"))"#,
        "",
    ));
    let r = run_json(&f, &["--replications", "10"]);
    let s = "/nodes/0/database/servers";
    assert_inside(&r, &format!("{s}/0/utilization"), 0.25, 0.02, "primary");
    for k in [1, 2] {
        assert_inside(&r, &format!("{s}/{k}/utilization"), 0.325, 0.02, "replica");
    }
    // Async writes are acknowledged at commit: the primary alone is M/M/4 for them.
    assert_inside(
        &r,
        "/classes/1/latency/mean",
        mmc_w(200.0, 200.0, 4),
        0.05,
        "write latency",
    );
    let d = &r["nodes"][0]["database"];
    // Every read went to a replica (up to those in flight at the window's ends).
    assert!((num(d, "/replica_reads") - num(d, "/reads")).abs() < 10.0);
    assert!((num(d, "/applied") / num(d, "/writes") - 2.0).abs() < 0.01);
    // validate predicts the same split.
    let out = scalelab(&["validate", f.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ρ per server: primary 0.25, replica 1 0.33, replica 2 0.33"),
        "{text}"
    );
}

#[test]
fn a_connection_pool_of_one_is_a_single_server_queue() {
    // 8 cores, but one connection: reads (Exp 10 ms) at 80/s queue for it as in M/M/1,
    // W = 1 / (100 - 80) = 50 ms.
    let (_d, f) = scenario_file(&direct(
        80.0,
        0.0,
        "Uniform(n: 1000)",
        r#"cores: 8, read: Exp("10ms"), write: Exp("10ms"), pool: 1"#,
        "",
    ));
    let r = run_json(&f, &["--replications", "10", "--duration", "400s"]);
    assert_inside(&r, "/classes/0/latency/mean", 0.05, 0.08, "pool of one");
    assert!(num(&r, "/nodes/0/database/pool_waits") > 0.0);
    // A short pool timeout turns long waits into errors.
    let (_d, f) = scenario_file(&direct(
        95.0,
        0.0,
        "Uniform(n: 1000)",
        r#"cores: 8, read: Exp("10ms"), write: Exp("10ms"), pool: 1, pool_timeout: "20ms""#,
        "",
    ));
    let r = run_json(&f, &[]);
    let timeouts = num(&r, "/nodes/0/database/pool_timeouts");
    assert!(timeouts > 100.0, "{timeouts}");
    assert_eq!(num(&r, "/classes/0/errors"), timeouts);
}

#[test]
fn replica_reads_are_stale_for_the_lag_after_a_write() {
    // 100 keys, 100 writes/s: each key is written at 1/s (Poisson). A replica has a write
    // 101 ms after its commit (100 ms lag + 1 ms apply); a read (1 ms) is stale when it
    // ends before that, for a write acknowledged before it began: one in the 100 ms before
    // the read. P = 1 − e^(−0.1) = 0.0952.
    let db = |reads_from: &str, replication: &str| {
        format!(
            r#"cores: 64, read: Constant("1ms"), write: Constant("1ms"), apply: Constant("1ms"),
               replicas: 1, reads_from: {reads_from}, replication: {replication}"#
        )
    };
    let run = |reads_from: &str, replication: &str| {
        let (_d, f) = scenario_file(&direct(
            1000.0,
            100.0,
            "Uniform(n: 100)",
            &db(reads_from, replication),
            "",
        ));
        run_json(&f, &[])["nodes"][0]["database"].clone()
    };
    let lag = r#"Async(lag: Constant("100ms"))"#;
    let d = run("Replicas", lag);
    let stale = num(&d, "/stale_ratio");
    let want = 1.0 - (-0.1f64).exp();
    // 90 000 reads: the standard error is 0.001.
    assert!((stale - want).abs() < 0.005, "stale {stale}, theory {want}");
    // Reading from the primary, or from a replica only when it has the key's last write,
    // or with synchronous replication, nothing is stale.
    for (from, repl) in [
        ("Primary", lag),
        ("ReadYourWrites", lag),
        ("Replicas", r#"Sync(lag: Constant("100ms"))"#),
    ] {
        let d = run(from, repl);
        assert_eq!(num(&d, "/stale_reads"), 0.0, "{from} {repl}");
    }
    // ReadYourWrites sends the reads a replica cannot serve fresh to the primary: those
    // whose key was written in the last 101 ms.
    let d = run("ReadYourWrites", lag);
    let on_primary = 1.0 - num(&d, "/replica_reads") / num(&d, "/reads");
    let want = 1.0 - (-0.101f64).exp();
    assert!((on_primary - want).abs() < 0.005, "{on_primary} vs {want}");
}

#[test]
fn sync_writes_wait_for_the_slowest_replica() {
    // Evenly spaced, 50 ms apart: no write's lag (at most 30 ms) lets it queue behind
    // the one before.
    let text = direct(
        0.0,
        20.0,
        "Uniform(n: 1000)",
        r#"cores: 64, read: Constant("1ms"), write: Constant("2ms"), apply: Constant("3ms"),
           replicas: 3, replication: Sync(lag: Uniform(min: "10ms", max: "30ms"))"#,
        "",
    )
    .replace(
        "rate: Constant(20)",
        "rate: Constant(20), arrivals: Deterministic",
    );
    let (_d, f) = scenario_file(&text);
    let r = run_json(&f, &[]);
    // 2 ms + the largest of 3 lags uniform on [10, 30] ms (mean 10 + 20 × 3/4 = 25 ms)
    // + 3 ms apply = 30 ms.
    let mean = num(&r, "/classes/1/latency/mean");
    assert!((mean - 0.030).abs() < 0.0005, "{mean}");
    assert!(num(&r, "/classes/1/latency/max") <= 0.035 + 1e-9);
}

#[test]
fn a_failover_loses_the_async_writes_the_replica_had_not_received() {
    // Evenly spaced writes at 100/s, a constant lag of 500 ms: when the primary fails the
    // last 50 acknowledged writes are still on their way, and are lost. Writes fail during
    // the 10 s failover.
    let scenario = |replication: &str| {
        direct(
            0.0,
            100.0,
            "Uniform(n: 1000000)",
            &format!(
                r#"cores: 8, read: Constant("1ms"), write: Constant("1ms"), replicas: 2,
                   replication: {replication}, failover: "10s""#
            ),
            r#", actions: [At("50.0005s", FailPrimary(node: "db"))]"#,
        )
        .replace(
            "rate: Constant(100)",
            "rate: Constant(100), arrivals: Deterministic",
        )
    };
    let (_d, f) = scenario_file(&scenario(r#"Async(lag: Constant("500ms"))"#));
    let r = run_json(&f, &[]);
    let d = &r["nodes"][0]["database"];
    assert_eq!(num(d, "/failovers"), 1.0);
    let lost = num(d, "/lost_writes");
    assert!((49.0..=51.0).contains(&lost), "lost {lost}");
    let errors = num(&r, "/classes/1/errors");
    assert!((999.0..=1001.0).contains(&errors), "errors {errors}");
    let timeline = r["timeline"].to_string();
    assert!(timeline.contains("primary failed"), "{timeline}");
    assert!(timeline.contains(&format!(
        "{lost} writes acknowledged but not replicated lost"
    )));
    // Synchronous replication acknowledges nothing a replica lacks: nothing is lost.
    let (_d, f) = scenario_file(&scenario(r#"Sync(lag: Constant("500ms"))"#));
    let r = run_json(&f, &[]);
    assert_eq!(num(&r, "/nodes/0/database/lost_writes"), 0.0);
}

#[test]
fn zipf_keys_on_range_shards_make_a_hot_shard_that_validate_predicts() {
    // Zipf(s = 1) over 10 000 keys: the keys below 2 500 (shard 0 of 4) carry
    // H(2500) / H(10000) = 8.4012 / 9.7876 = 85.8% of the requests.
    let (_d, f) = scenario_file(&direct(
        2000.0,
        0.0,
        "Zipf(n: 10000, s: 1.0)",
        r#"cores: 8, read: Exp("1ms"), write: Exp("1ms"),
           shards: Range(boundaries: [2500, 5000, 7500])"#,
        "",
    ));
    let h = |n: u32| (1..=n).map(|k| 1.0 / k as f64).sum::<f64>();
    let want = h(2500) / h(10000);
    let r = run_json(&f, &[]);
    let d = &r["nodes"][0]["database"];
    assert_eq!(num(d, "/hot_shard/shard"), 0.0);
    let share = num(d, "/hot_shard/share");
    assert!((share - want).abs() < 0.005, "{share} vs {want}");
    let text = String::from_utf8_lossy(&scalelab(&["run", f.to_str().unwrap()]).stdout).to_string();
    assert!(
        text.contains(&format!(
            "Hot shard:  db shard 0 takes {:.0}% of the requests (an even share is 25%)",
            share * 100.0
        )),
        "{text}"
    );
    let out = scalelab(&["validate", f.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("hot shard: shard 0 takes 86% of the requests (an even share is 25%)"),
        "{text}"
    );
    // Hashing spreads the same keys: no hot shard (the hottest key alone is 10%).
    let (_d, f) = scenario_file(&direct(
        2000.0,
        0.0,
        "Zipf(n: 10000, s: 1.0)",
        r#"cores: 8, read: Exp("1ms"), write: Exp("1ms"), shards: Hash(n: 4)"#,
        "",
    ));
    let r = run_json(&f, &[]);
    assert!(r["nodes"][0]["database"].get("hot_shard").is_none());
}

#[test]
fn geo_shards_follow_the_callers_zone() {
    // `app` has 3 instances spread over eu, us, eu (round robin from the balancer): two
    // thirds of its calls come from eu. Each zone's shard takes its own zone's requests.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "geo", duration: "60s", warmup: "10s",
            sources: [Source(name: "in", target: "lb", rate: Constant(900),
                mix: [Class(name: "get", weight: 0.8, keys: Uniform(n: 1000)),
                      Class(name: "put", weight: 0.2, op: Write, keys: Uniform(n: 1000))])],
            nodes: [
                LoadBalancer(name: "lb", algorithm: RoundRobin, backends: ["app"]),
                Service(name: "app", instances: 3, cores: 16, zones: ["eu", "us"],
                        handlers: {"*": [Call("db")]}),
                Database(name: "db", cores: 8, read: Exp("2ms"), write: Exp("4ms"),
                         replicas: 1, reads_from: Replicas, shards: Geo(zones: ["us", "eu"])),
            ])"#,
    );
    let r = run_json(&f, &[]);
    let d = &r["nodes"][2]["database"];
    let (us, eu) = (num(d, "/shard_shares/0"), num(d, "/shard_shares/1"));
    assert!(
        (eu - 2.0 / 3.0).abs() < 0.001 && (us - 1.0 / 3.0).abs() < 0.001,
        "{d}"
    );
    assert_eq!(d["servers"][0]["name"], "shard us primary");
    assert_eq!(d["servers"][3]["name"], "shard eu replica 1");
    // eu's shard is the hot one (two thirds against an even half: below 1.5 × ½, not
    // flagged).
    assert!(d.get("hot_shard").is_none());
    // A zone no service runs in is refused, naming the zones there are.
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace(r#"Geo(zones: ["us", "eu"])"#, r#"Geo(zones: ["us", "ap"])"#);
    let (_d2, f2) = scenario_file(&text);
    let out = scalelab(&["validate", f2.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("no service runs in zone `ap`") && e.contains("zones of services: eu, us"),
        "{e}"
    );
}

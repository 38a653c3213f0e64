//! Caches through the user's path (RON → run → JSON): hit ratios against theory, what
//! passes to the database, writes that invalidate.

use super::{num, run_json, scalelab, scenario_file};
use serde_json::Value;

/// 2 000 reads/s of `keys` through a cache of `capacity` keys reading through a database;
/// 30 s to fill, then 100 s measured (200 000 reads: the hit ratio's standard error is
/// under 0.0012).
fn cached(keys: &str, capacity: u32, eviction: &str, writes: f64) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "cache", duration: "130s", warmup: "30s",
            sources: [Source(name: "in", target: "cache", rate: Constant(2000),
                mix: [Class(name: "get", weight: {reads}, keys: {keys}),
                      Class(name: "put", weight: {writes}, op: Write, keys: {keys})])],
            nodes: [
                Cache(name: "cache", capacity: {capacity}, eviction: {eviction}, cores: 64,
                      hit: Exp("100us"), read_through: "db"),
                Service(name: "db", cores: 256, handlers: {{"*": [Cpu(Exp("2ms"))]}}),
            ])"#,
        reads = 1.0 - writes,
    ));
    run_json(&f, &[])
}

fn hit_ratio(r: &Value) -> f64 {
    num(r, "/nodes/0/cache/hit_ratio")
}

#[test]
fn lru_with_uniform_keys_hits_c_over_n() {
    let r = cached("Uniform(n: 10000)", 2000, "Lru", 0.0);
    let h = hit_ratio(&r);
    assert!((h - 0.2).abs() < 0.01, "hit ratio {h}, theory 0.2");
}

#[test]
fn lru_under_zipf_matches_the_che_approximation() {
    // Zipf(s = 1) over 10 000 keys, 500 cached: Che gives 0.58674 for LRU and 0.53940 for
    // FIFO and Random (shared/anchors/analytic.py che --s 1.0 --N 10000 --C 500).
    let w: Vec<f64> = (1..=10_000).map(|k| 1.0 / k as f64).collect();
    let total: f64 = w.iter().sum();
    let p: Vec<f64> = w.iter().map(|x| x / total).collect();
    let che = models::components::cache::che_hit_ratio(&p, 500.0);
    assert!((che - 0.586_736).abs() < 1e-5, "{che}");
    let keys = "Zipf(n: 10000, s: 1.0)";
    let lru = hit_ratio(&cached(keys, 500, "Lru", 0.0));
    assert!((lru - che).abs() < 0.01, "LRU {lru}, Che {che}");
    for eviction in ["Fifo", "Random"] {
        let h = hit_ratio(&cached(keys, 500, eviction, 0.0));
        assert!((h - 0.539_396).abs() < 0.01, "{eviction} {h}, Che 0.5394");
    }
    // LFU keeps the most popular keys: close to the static optimum (0.69402), above LRU.
    let lfu = hit_ratio(&cached(keys, 500, "Lfu", 0.0));
    assert!(lfu > lru + 0.05 && lfu < 0.6941, "LFU {lfu}");
}

#[test]
fn only_misses_and_writes_reach_the_database() {
    let r = cached("Uniform(n: 10000)", 2000, "Lru", 0.1);
    let c = &r["nodes"][0]["cache"];
    let (hits, misses) = (num(c, "/hits"), num(c, "/misses"));
    let writes = num(&r, "/classes/1/requests");
    let db = num(&r, "/nodes/1/throughput") * 100.0;
    // Every miss and every write goes through (up to the requests in flight at the ends).
    assert!(
        (db - (misses + writes)).abs() < 50.0,
        "db {db}, misses {misses} + writes {writes}"
    );
    assert!(num(c, "/invalidations") > 0.0);
    assert!(hits > 0.0 && num(c, "/evictions") > 0.0);
    // Every read is a hit or a miss (up to the requests in flight at the window's ends).
    let reads = num(&r, "/classes/0/requests");
    assert!(
        (hits + misses - reads).abs() < 50.0,
        "{hits} + {misses} vs {reads}"
    );
    // validate passes only the predicted misses on: 1 800 reads × 0.8 + 200 writes.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "v", duration: "10s",
            sources: [Source(name: "in", target: "cache", rate: Constant(2000),
                mix: [Class(name: "get", weight: 0.9, keys: Uniform(n: 10000)),
                      Class(name: "put", weight: 0.1, op: Write, keys: Uniform(n: 10000))])],
            nodes: [Cache(name: "cache", capacity: 2000, read_through: "db"),
                    Service(name: "db", cores: 16, handlers: {"*": [Cpu(Exp("2ms"))]})])"#,
    );
    let out = scalelab(&["validate", f.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let db_line = text
        .lines()
        .rfind(|l| l.trim_start().starts_with("db "))
        .unwrap();
    assert!(db_line.contains("1640.0"), "{db_line}");
}

#[test]
fn a_ttl_expires_keys() {
    let (_d, f) = scenario_file(
        r#"Scenario(name: "ttl", duration: "60s", warmup: "10s",
            sources: [Source(name: "in", target: "cache", rate: Constant(1000),
                             mix: [Class(name: "get", weight: 1, keys: Uniform(n: 100))])],
            nodes: [Cache(name: "cache", capacity: 1000, ttl: "1s", read_through: "db"),
                    Service(name: "db", cores: 64, handlers: {"*": [Cpu(Constant("1ms"))]})])"#,
    );
    let r = run_json(&f, &[]);
    let c = &r["nodes"][0]["cache"];
    // Each of the 100 keys is fetched about once a second: 50 s × 100 expirations.
    let exp = num(c, "/expirations");
    assert!((4500.0..5100.0).contains(&exp), "{exp} expirations");
    assert_eq!(c["evictions"], 0);
}

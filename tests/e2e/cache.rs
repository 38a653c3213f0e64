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
                Database(name: "db", cores: 256, read: Exp("2ms"), write: Exp("2ms")),
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
                    Database(name: "db", cores: 16, read: Exp("2ms"), write: Exp("2ms"))])"#,
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
                    Database(name: "db", cores: 64, read: Constant("1ms"), write: Constant("1ms"))])"#,
    );
    let r = run_json(&f, &[]);
    let c = &r["nodes"][0]["cache"];
    // Each of the 100 keys is fetched about once a second: 50 s × 100 expirations.
    let exp = num(c, "/expirations");
    assert!((4500.0..5100.0).contains(&exp), "{exp} expirations");
    assert_eq!(c["evictions"], 0);
}

#[test]
fn a_stampede_sends_a_burst_downstream_and_coalescing_sends_one_query() {
    // One hot key, read 1 000 times a second, expires every second; the database takes
    // 100 ms to answer. Without coalescing, every read in those 100 ms misses and queries
    // the database (~100 per expiry); with it, exactly one query per expiry.
    let run = |coalesce: bool| {
        let (_d, f) = scenario_file(&format!(
            r#"Scenario(name: "stampede", duration: "62s", warmup: "2s",
                sources: [Source(name: "in", target: "cache", rate: Constant(1000), arrivals: Deterministic,
                                 mix: [Class(name: "get", weight: 1, keys: Uniform(n: 1))])],
                nodes: [Cache(name: "cache", capacity: 10, ttl: "1s", hit: Constant("0s"), cores: 1000,
                              read_through: "db", coalesce_misses: {coalesce}),
                        Database(name: "db", cores: 1000, read: Constant("100ms"), write: Constant("100ms"))])"#
        ));
        run_json(&f, &[])
    };
    let plain = run(false);
    let c = &plain["nodes"][0]["cache"];
    let (fetches, expirations) = (num(c, "/fetches"), num(c, "/expirations"));
    // Each racing fetch refreshes the key when it lands: it lives from the last one
    // (~200 ms after expiry) for 1 s, so 60 s hold about 50 expiries.
    assert!(
        (45.0..=61.0).contains(&expirations),
        "{expirations} expirations"
    );
    assert!(
        fetches > 90.0 * expirations,
        "{fetches} queries for {expirations} expiries"
    );
    assert_eq!(num(c, "/coalesced"), 0.0);
    let one = run(true);
    let c = &one["nodes"][0]["cache"];
    let (fetches, expirations) = (num(c, "/fetches"), num(c, "/expirations"));
    // One fetch per 1.1 s cycle (1 s of life + 100 ms fetch): about 55.
    assert!(
        (50.0..=61.0).contains(&expirations),
        "{expirations} expirations"
    );
    assert_eq!(fetches, expirations, "exactly one query per expiry");
    assert!(num(c, "/coalesced") > 90.0 * expirations);
    // Everyone got an answer: the waiters were answered by the one fetch.
    assert_eq!(one["summary"]["errors"], 0);
    let done = num(&one, "/summary/completed") + num(&one, "/in_flight_end");
    assert_eq!(done, num(&one, "/summary/requests"));
    // At most the reads of one fetch's 100 ms are still waiting at the end.
    assert!(
        num(&one, "/in_flight_end") <= 100.0,
        "{}",
        one["in_flight_end"]
    );
}

#[test]
fn a_saturated_cache_is_the_bottleneck() {
    // One worker, 1 ms per lookup, 1 200 reads/s: the cache itself cannot keep up.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "slow-cache", duration: "20s",
            sources: [Source(name: "in", target: "cache", rate: Constant(1200),
                             mix: [Class(name: "get", weight: 1, keys: Uniform(n: 10))])],
            nodes: [Cache(name: "cache", capacity: 10, hit: Constant("1ms"), queue: 100, read_through: "db"),
                    Database(name: "db", cores: 8, read: Exp("1ms"), write: Exp("1ms"))])"#,
    );
    let r = run_json(&f, &[]);
    assert_eq!(r["bottleneck"]["node"], "cache", "{}", r["bottleneck"]);
    assert!(num(&r, "/nodes/0/utilization") > 0.95);
    assert!(
        num(&r, "/nodes/0/errors") > 0.0,
        "a full cache queue rejects"
    );
}

#[test]
fn a_flush_empties_the_cache_and_the_misses_come_back() {
    let run = |actions: &str| {
        let (_d, f) = scenario_file(&format!(
            r#"Scenario(name: "flush", duration: "60s", warmup: "20s", sample_every: "1s",
                sources: [Source(name: "in", target: "cache", rate: Constant(2000),
                                 mix: [Class(name: "get", weight: 1, keys: Uniform(n: 4000))])],
                nodes: [Cache(name: "cache", capacity: 2000, cores: 16, read_through: "db"),
                        Database(name: "db", cores: 64, read: Exp("1ms"), write: Exp("1ms"))],
                actions: [{actions}])"#
        ));
        run_json(&f, &["--series"])
    };
    let steady = run("");
    let flushed = run(r#"At("40s", FlushCache(node: "cache"))"#);
    // The hit-ratio series dips in the second after the flush (the k-th value covers
    // (k, k + 1] s).
    let series = |r: &Value| -> Vec<f64> {
        r["series"]["nodes"][0]["hit_ratio"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (s, f) = (series(&steady), series(&flushed));
    assert_eq!(s.len(), 60);
    assert!(
        f[39] > 0.45 && f[40] < 0.4 && f[43] > 0.45,
        "{:?}",
        &f[38..44]
    );
    assert!((s[40] - 0.5).abs() < 0.05, "{}", s[40]);
    // Only caches have one.
    assert!(steady["series"]["nodes"][1].get("hit_ratio").is_none());
    assert_eq!(flushed["timeline"][0]["text"], "flush: 2000 keys gone");
    assert!((num(&steady, "/nodes/0/cache/hit_ratio") - 0.5).abs() < 0.01);
    // Refilling from empty: the cache holds f keys after t seconds with df/dt = λ(1 − f/n)
    // (each miss stores one), so C = 2 000 keys take (n/λ)·ln(n/(n−C)) = 1.386 s and cost
    // C misses where the full cache would have missed λ·t·(1 − C/n) = 1 386: 614 more. The
    // same seed draws the same keys in both runs, so the difference is the refill alone.
    let extra = num(&flushed, "/nodes/0/cache/misses") - num(&steady, "/nodes/0/cache/misses");
    assert!(
        (500.0..730.0).contains(&extra),
        "{extra} extra misses, theory 614"
    );
}

#[test]
fn write_behind_loses_exactly_the_unflushed_writes_when_the_cache_is_flushed() {
    // 100 writes a second to distinct keys (the k-th at 10·k ms), acknowledged at once, sent
    // on every 10 s. The flush at 25 s comes after the sends at 10 s and 20 s (each runs
    // before a write due at the same instant): the 500 writes of [20 s, 25 s) are lost, the
    // 1 999 before were written back, and the database saw exactly those.
    let run_with = |write: &str, action: &str| {
        let (_d, f) = scenario_file(&format!(
            r#"Scenario(name: "wb", duration: "29s",
                sources: [Source(name: "in", target: "cache", rate: Constant(100), arrivals: Deterministic,
                    mix: [Class(name: "put", weight: 1, op: Write, keys: Uniform(n: 1000000000000))])],
                nodes: [Cache(name: "cache", capacity: 100000, hit: Constant("0s"), cores: 8,
                              read_through: "db", write: {write}),
                        Database(name: "db", cores: 8, read: Constant("1ms"), write: Constant("1ms"))],
                actions: [At("25s", {action})])"#
        ));
        run_json(&f, &[])
    };
    let run = |write: &str| run_with(write, r#"FlushCache(node: "cache")"#);
    let run_kill = |write: &str| run_with(write, r#"KillInstances(node: "cache", count: 1)"#);
    let r = run(r#"WriteBehind(flush_every: "10s")"#);
    let c = &r["nodes"][0]["cache"];
    assert_eq!(c["lost_writes"], 500, "{c}");
    assert_eq!(c["written_back"], 1999, "{c}");
    assert!((num(&r, "/nodes/1/throughput") * 29.0 - 1999.0).abs() < 1e-6);
    let text = r["timeline"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "flush: 2499 keys gone, 500 writes not yet written lost"
    );
    // Killing the cache node loses the same writes (and its contents).
    let killed = run_kill(r#"WriteBehind(flush_every: "10s")"#);
    assert_eq!(killed["nodes"][0]["cache"]["lost_writes"], 500);
    assert_eq!(
        killed["timeline"][0]["text"].as_str().unwrap(),
        "killed: 0 requests on it failed, 2499 keys gone, 500 writes not yet written lost"
    );
    // Acknowledged at once: the writers never waited for the database.
    assert_eq!(num(&r, "/summary/latency/max"), 0.0);
    // Write-through waits for the database and loses nothing.
    let r = run("WriteThrough");
    assert_eq!(r["nodes"][0]["cache"]["lost_writes"], 0);
    assert!(num(&r, "/summary/latency/mean") >= 0.001);
}

/// 900 reads/s and 100 writes/s over 100 keys (each key read at 9/s and written at 1/s),
/// through service `app` whose handlers are `handlers`, with cache `cache` declared by
/// `cache_fields` and a database of 1 ms reads and writes.
fn app_with(handlers: &str, cache_fields: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "aside", duration: "200s", warmup: "20s",
            sources: [Source(name: "in", target: "app", rate: Constant(1000),
                mix: [Class(name: "get", weight: 0.9, keys: Uniform(n: 100)),
                      Class(name: "put", weight: 0.1, op: Write, keys: Uniform(n: 100))])],
            nodes: [
                Service(name: "app", cores: 64, handlers: {{{handlers}}}),
                Cache(name: "cache", cores: 8, hit: Constant("100us"), {cache_fields}),
                Database(name: "db", cores: 16, read: Constant("1ms"), write: Constant("1ms")),
            ])"#
    ));
    run_json(&f, &[])
}

#[test]
fn cache_aside_without_invalidation_serves_stale_hits_as_ttl_theory_says() {
    // Cache-aside with a 1 s TTL, writes straight to the database: a key filled at age 0
    // is hit uniformly over its life [0, T); a hit at age x is stale when the key was
    // written since: P = 1 − e^(−wx). Over the life, 1 − (1 − e^(−wT)) / (wT) = e^(−1)
    // for w = 1/s and T = 1 s.
    let r = app_with(
        r#""get": [Lookup(cache: "cache", on_miss: [Call("db"), Fill("cache")])],
           "put": [Call("db")]"#,
        r#"capacity: 1000, ttl: "1s""#,
    );
    let c = &r["nodes"][1]["cache"];
    let (hits, stale) = (num(c, "/hits"), num(c, "/stale_reads"));
    let want = (-1.0f64).exp();
    assert!(
        (stale / hits - want).abs() < 0.015,
        "{} vs {want}",
        stale / hits
    );
    // Every miss went to the database once and was filled once.
    let db = num(&r, "/nodes/2/database/reads");
    assert!((db - num(c, "/misses")).abs() < 5.0, "{db} vs {c}");
    // A miss per key per TTL cycle: each cycle is one miss, then hits for 1 s at 9/s.
    let ratio = num(c, "/hit_ratio");
    assert!((ratio - 9.0 / 10.0).abs() < 0.01, "{ratio}");
    // Read-through with invalidating writes through the cache: the race (a fill read
    // just before a write lands after its invalidation) is rare; nothing else is stale.
    let r = app_with(
        r#""*": [Call("cache")]"#,
        r#"capacity: 1000, ttl: "1s", read_through: "db""#,
    );
    let c = &r["nodes"][1]["cache"];
    assert!(num(c, "/stale_reads") / num(c, "/hits") < 0.005, "{c}");
    assert!(num(c, "/invalidations") > 0.0);
}

//! Properties of the models crate as a whole (one test binary):
//! - bad input never panics: thousands of random edits of the default scenario (deleting,
//!   duplicating or replacing a character or a token) each load to `Ok` or to a
//!   `ScenarioError`; the ones that load also simulate one second without panicking;
//! - the hot loop allocates nothing per event: a run four times longer allocates (almost)
//!   nothing more, counted by a per-thread counting allocator;
//! - what a run holds is bounded by the requests in flight, whatever the client timeout:
//!   the same allocator tracks the peak of live bytes.

use sim_core::{RngStreams, SimTime};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes allocated and not freed by this thread (may go negative when it frees what
    /// another thread allocated), and the highest value since the last reset.
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn grow(by: i64) {
    LIVE.with(|l| {
        let v = l.get() + by;
        l.set(v);
        PEAK.with(|p| p.set(p.get().max(v)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        grow(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grow(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        grow(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Peak live bytes of this thread while `f` runs, above what was live before.
fn peak_bytes<R>(f: impl FnOnce() -> R) -> (i64, R) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    (PEAK.with(Cell::get) - base, r)
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_hot_loop_allocates_nothing_per_event() {
    // The default scenario: load balancer, bounded queues, calls, links, timeouts.
    let mut sc = models::load_str("default.ron", DEFAULT).unwrap();
    sc.sample_every = SimTime::from_secs(1);
    assert_no_allocation_per_event(sc, 60, 240, 100_000);
}

/// Run `sc` for `short` and for `long` seconds: the longer run handles at least `more`
/// more events and allocates fewer than 100 more times (growth of slabs, queues and time
/// series to their peaks: a few doublings, not one allocation per event).
fn assert_no_allocation_per_event(sc: models::Scenario, short: u64, long: u64, more: u64) {
    let run = |secs: u64| {
        let mut sc = sc.clone();
        sc.set_duration(SimTime::from_secs(secs)).unwrap();
        let sc = std::sync::Arc::new(sc);
        let before = allocations();
        let stats = models::world::simulate(&sc, 3);
        (allocations() - before, stats.events)
    };
    let (short_allocs, short_events) = run(short);
    let (long_allocs, long_events) = run(long);
    assert!(long_events > short_events + more);
    let extra = long_allocs.saturating_sub(short_allocs);
    assert!(
        extra < 100,
        "{extra} more allocations for {} more events",
        long_events - short_events
    );
}

#[test]
fn a_cache_allocates_nothing_per_event_once_full() {
    let text = r#"Scenario(name: "c", duration: "10s", sample_every: "1s",
        sources: [Source(name: "in", target: "cache", rate: Constant(20000),
            mix: [Class(name: "get", weight: 0.9, keys: Zipf(n: 100000, s: 0.9)),
                  Class(name: "put", weight: 0.1, op: Write, keys: Uniform(n: 100000))])],
        nodes: [Cache(name: "cache", capacity: 5000, ttl: "3s", cores: 8, read_through: "db"),
                Database(name: "db", cores: 64, read: Exp("1ms"), write: Exp("1ms"))])"#;
    let sc = models::load_str("c.ron", text).unwrap();
    assert_no_allocation_per_event(sc, 10, 40, 1_000_000);
}

#[test]
fn the_data_tier_allocates_nothing_per_event() {
    // Cache-aside, a sharded database with replicas (async and sync replication logs, a
    // pool that makes some requests wait; both variants keep up, checked through the CLI)
    // and a queue: once every key has been written (the version maps are full) and the
    // logs, pool and backlog have met their peaks, nothing more is allocated.
    for replication in [r#"Async(lag: Exp("30ms"))"#, r#"Sync(lag: Exp("5ms"))"#] {
        let text = format!(
            r#"Scenario(name: "d", duration: "10s", sample_every: "1s",
            sources: [Source(name: "in", target: "app", rate: Constant(5000),
                mix: [Class(name: "get", weight: 0.8, keys: Uniform(n: 1000)),
                      Class(name: "put", weight: 0.2, op: Write, keys: Uniform(n: 1000))])],
            nodes: [
                Service(name: "app", cores: 256, handlers: {{
                    "get": [Lookup(cache: "c", on_miss: [Call("db"), Fill("c")])],
                    "put": [Call("db"), Enqueue("q")]}}),
                Cache(name: "c", capacity: 200, ttl: "1s", cores: 8),
                Database(name: "db", cores: 2, read: Exp("1ms"), write: Exp("1ms"), replicas: 2,
                         replication: {replication}, reads_from: Replicas, pool: 24,
                         shards: Hash(n: 4)),
                Queue(name: "q", consumer: "workers"),
                Service(name: "workers", cores: 8, handlers: {{"*": [Cpu(Exp("1ms"))]}}),
            ])"#
        );
        let sc = models::load_str("d.ron", &text).unwrap();
        assert_no_allocation_per_event(sc, 10, 40, 1_000_000);
    }
}

#[test]
fn a_long_client_timeout_holds_nothing_for_answered_requests() {
    // 100 000 req/s answered in ~1 ms, each with a 1 h timeout: 2 M requests in 20 s, about
    // 100 in flight. One pending timer per request would hold 2 M events (48 MB); bounded
    // by what is in flight, the run needs well under 16 MB whatever the duration.
    let text = r#"Scenario(name: "t", duration: "20s", sample_every: "1s",
        sources: [Source(name: "in", target: "s", rate: Constant(100000), timeout: "1h")],
        nodes: [Service(name: "s", cores: 200, handlers: {"*": [Cpu(Exp("1ms"))]})])"#;
    let sc = std::sync::Arc::new(models::load_str("t.ron", text).unwrap());
    let (peak, stats) = peak_bytes(|| models::world::simulate(&sc, 1));
    assert!(stats.classes[0].requests.get() > 1_900_000);
    assert_eq!(stats.classes[0].timeouts.get(), 0);
    assert!(peak < 16 << 20, "peak {} MB", peak >> 20);
}

const DEFAULT: &str = include_str!("../../scenarios/default.ron");
const TOKENS: [&str; 12] = [
    "0",
    "-1",
    "\"\"",
    "\"0s\"",
    "1e400",
    "(",
    ")",
    "[",
    ",",
    "Call(\"web\")",
    "None",
    "999999999999",
];

#[test]
fn random_edits_never_panic() {
    let mut rng = RngStreams::new(2026).get("mutations");
    let chars: Vec<char> = DEFAULT.chars().collect();
    let (mut ok, mut rejected) = (0, 0);
    for _ in 0..3000 {
        let mut c = chars.clone();
        for _ in 0..=rng.below(2) {
            let at = rng.below(c.len() as u64) as usize;
            match rng.below(4) {
                0 => {
                    c.remove(at);
                }
                1 => c.insert(at, c[at]),
                2 => {
                    c[at] =
                        ['"', '(', ')', ',', '0', '9', '-', 'x', ':', ' '][rng.below(10) as usize]
                }
                _ => {
                    let tok = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                    for (k, ch) in tok.chars().enumerate() {
                        c.insert(at + k, ch);
                    }
                }
            }
        }
        let text: String = c.into_iter().collect();
        let result = std::panic::catch_unwind(|| match models::load_str("mutant.ron", &text) {
            Ok(mut sc) => {
                let d = sc.warmup + SimTime::from_secs(1);
                sc.set_duration(d).unwrap();
                sc.max_in_flight = sc.max_in_flight.min(100_000);
                let sc = std::sync::Arc::new(sc);
                let run = models::world::simulate(&sc, 1);
                let _ = models::Report::from_run(&sc, &run).to_json(None);
                true
            }
            Err(e) => {
                assert!(!e.message.is_empty());
                let _ = e.to_string();
                false
            }
        });
        match result {
            Ok(true) => ok += 1,
            Ok(false) => rejected += 1,
            Err(_) => panic!("panicked on this input:\n{text}"),
        }
    }
    assert!(ok > 100 && rejected > 1000, "ok {ok}, rejected {rejected}");
}

mod extreme {
    //! Scenarios built from parts, with numbers at the edges of what is legal: rates from
    //! 1e-6/s to the clock's 1e9/s, zero-width and jumping profiles, pools and cores at
    //! their bounds, weights near their bound and near zero, zero and hour-long service
    //! times, every balancer. Each must load or be refused with an error; one that loads
    //! must run (to a step budget) within a memory budget, without panicking, and its
    //! static estimate and its run must agree on whether traffic flows.

    use super::peak_bytes;
    use models::world::World;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn rate() -> impl Strategy<Value = String> {
        let r = prop_oneof![
            Just(0.0),
            Just(1e-6),
            Just(0.5),
            Just(1.0),
            Just(1e3),
            Just(1e6),
            Just(1e9),
            Just(2e9)
        ];
        prop_oneof![
            r.clone().prop_map(|r| format!("Constant({r})")),
            (r.clone(), r.clone()).prop_map(|(a, b)| format!(
                r#"Spike(base: {a}, peak: {b}, at: "1ms", rise: "0s", hold: "0s", fall: "0s")"#
            )),
            (r.clone(), r.clone()).prop_map(|(a, b)| format!(
                r#"Piecewise([("0s", {a}), ("1ms", {b}), ("1ms", 0), ("1ms", {a})])"#
            )),
            r.clone()
                .prop_map(|a| format!(r#"Diurnal(mean: {a}, amplitude: {a}, period: "1ms")"#)),
            (r.clone(), r).prop_map(|(a, b)| format!(r#"Step(from: {a}, to: {b}, at: "0s")"#)),
        ]
    }

    fn dist() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(r#"Constant("0ns")"#),
            Just(r#"Exp("1ns")"#),
            Just(r#"Exp("10us")"#),
            Just(r#"Exp("1h")"#),
            Just(r#"Uniform(min: "0ns", max: "1ms")"#),
            Just(r#"Erlang(k: 1000, mean: "1ms")"#),
            Just(r#"LogNormal(mean: "1ms", p99: "14.9ms")"#),
        ]
    }

    fn scenario() -> impl Strategy<Value = String> {
        let algorithm = prop_oneof![
            Just("RoundRobin".to_string()),
            Just("Random".to_string()),
            Just("LeastConnections".to_string()),
            Just("PowerOfTwoChoices".to_string()),
            Just("ConsistentHash".to_string()),
            (prop_oneof![Just(1e9), Just(1e-300), Just(0.0)], Just(1.0))
                .prop_map(|(a, b)| format!("WeightedRoundRobin(weights: [{a}, {b}])")),
        ];
        let count = prop_oneof![Just(1u32), Just(3), Just(100_000)];
        let queue = prop_oneof![Just(""), Just("queue: 0,"), Just("queue: 1,")];
        let duration = prop_oneof![Just("1ns"), Just("10ms"), Just("2s"), Just("1h")];
        let weight = prop_oneof![Just(1e9), Just(1e-300), Just(1.0)];
        let timeout = prop_oneof![
            Just(""),
            Just(r#"timeout: "1ns","#),
            Just(r#"timeout: "1h","#)
        ];
        (
            (rate(), algorithm, count.clone(), count, queue),
            (dist(), dist(), duration, weight, timeout),
        )
            .prop_map(
                |((rate, alg, instances, cores, queue), (d1, d2, duration, w, timeout))| {
                    format!(
                        r#"Scenario(name: "x", duration: "{duration}", sample_every: "1s",
                sources: [Source(name: "in", target: "lb", rate: {rate}, {timeout}
                    mix: [Class(name: "a", weight: {w}), Class(name: "b", weight: 1)])],
                nodes: [
                    LoadBalancer(name: "lb", algorithm: {alg}, backends: ["web", "api"]),
                    Service(name: "web", instances: {instances}, cores: {cores}, {queue}
                            handlers: {{"*": [Cpu({d1}), Branch(p: 0.5, then: [Call("db")])]}}),
                    Service(name: "api", instances: 2, on_call: Release,
                            handlers: {{"*": [Cpu({d2}), Call("db")]}}),
                    Service(name: "db", cores: 4, handlers: {{"*": [Cpu({d1})]}}),
                ],
                actions: [At("{duration}", SetInstances(node: "web", instances: 1))])"#
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn extreme_but_legal_scenarios_load_or_fail_cleanly_and_run_within_budgets(text in scenario()) {
            let sc = match models::load_str("x.ron", &text) {
                Ok(sc) => Arc::new(sc),
                Err(e) => {
                    // Refused: with a message, never a panic.
                    prop_assert!(!e.message.is_empty());
                    return Ok(());
                }
            };
            let (peak, stats) = peak_bytes(|| {
                let mut sim = World::simulation_with(sc.clone(), 1, false).with_event_limit(200_000);
                World::run_to_end(&mut sim);
                World::finish(sim)
            });
            prop_assert!(peak < 512 << 20, "{} MB for\n{text}", peak >> 20);
            prop_assert!(stats.events <= 200_000);
            // Estimate and run agree on whether traffic flows: what the rate promised over
            // the time the run reached must show up as requests (P(none | mean 20) = 2e-9).
            let peak = models::analysis::capacity::Estimate::of(&sc).peak_rate;
            prop_assert!(
                peak <= 0.0 || sc.expected_requests(sc.duration) > 0.0,
                "validate's peak {peak}/s, but nothing is sent over the run in\n{text}"
            );
            let promised = sc.expected_requests(stats.end);
            let born: u64 = stats.classes.iter().map(|c| c.requests.get()).sum();
            if promised >= 20.0 {
                prop_assert!(born > 0, "{promised} expected, none born, in\n{text}");
            }
            if born > 0 {
                prop_assert!(sc.expected_requests(sc.duration) > 0.0);
            }
        }
    }
}

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
    let run = |secs: u64| {
        let mut sc = models::load_str("default.ron", DEFAULT).unwrap();
        sc.set_duration(SimTime::from_secs(secs)).unwrap();
        sc.sample_every = SimTime::from_secs(1);
        let sc = std::sync::Arc::new(sc);
        let before = allocations();
        let stats = models::world::simulate(&sc, 3);
        (allocations() - before, stats.events)
    };
    let (short_allocs, short_events) = run(60);
    let (long_allocs, long_events) = run(240);
    assert!(long_events > short_events + 100_000);
    // Growth of slabs, queues and the time series to their peaks: a few doublings, not
    // one allocation per event (which would be > 100 000 here).
    let extra = long_allocs.saturating_sub(short_allocs);
    assert!(
        extra < 100,
        "{extra} more allocations for {} more events",
        long_events - short_events
    );
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

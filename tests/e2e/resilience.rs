//! Timeouts and retries through the user's path (RON → run → JSON): the retry formulas,
//! timeouts that abandon a try, and backoff with jitter against a slow dependency.

use super::{num, run_json, scenario_file};
use serde_json::Value;

/// `front` calls `back` (1 ms of work) with `call`; `faults` on the scenario.
fn front_back(rate: u32, call: &str, back: &str, faults: &str) -> Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "r", duration: "2m", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant({rate}))],
            nodes: [Service(name: "front", cores: 2000, handlers: {{"*": [{call}]}}),
                    Service(name: "back", cores: 64, handlers: {{"*": [{back}]}})],
            faults: [{faults}])"#
    ));
    run_json(&f, &[])
}

#[test]
fn retries_against_error_injection_follow_the_geometric_law() {
    // Each try fails with f = 0.3, independently; 3 tries: tries per call
    // (1 − f³)/(1 − f) = 1.39, calls failing f³ = 0.027.
    let r = front_back(
        1000,
        r#"Call(node: "back", retry: Retry(attempts: 3))"#,
        r#"Cpu(Exp("1ms"))"#,
        r#"At("0s", ErrorInjection(node: "back", fraction: 0.3))"#,
    );
    let c = &r["calls"][0];
    let f: f64 = 0.3;
    let amp = (1.0 - f.powi(3)) / (1.0 - f);
    // 110 000 calls: standard errors 0.002 and 0.0005.
    assert!((num(c, "/amplification") - amp).abs() < 0.01, "{c}");
    assert!(
        (num(&r, "/summary/error_rate") - f.powi(3)).abs() < 0.003,
        "{}",
        r["summary"]
    );
    assert_eq!(num(c, "/failed"), num(&r, "/summary/errors"));
    assert_eq!(
        (c["from"].as_str(), c["to"].as_str()),
        (Some("front"), Some("back"))
    );
    // The same figure overall and for the (only) class.
    assert_eq!(num(&r, "/summary/amplification"), num(c, "/amplification"));
    assert_eq!(num(&r, "/classes/0/call_attempts"), num(c, "/attempts"));
    // One try: the injected share fails.
    let r = front_back(
        1000,
        r#"Call(node: "back", retry: Retry(attempts: 1))"#,
        r#"Cpu(Exp("1ms"))"#,
        r#"At("0s", ErrorInjection(node: "back", fraction: 0.3))"#,
    );
    assert_eq!(num(&r, "/calls/0/amplification"), 1.0);
    assert!((num(&r, "/summary/error_rate") - 0.3).abs() < 0.01);
}

#[test]
fn a_timeout_abandons_the_try_and_the_callee_still_does_the_work() {
    // The callee takes 100 ms; the caller gives each try 30 ms, twice: every call fails
    // after 60 ms, both tries time out, and the callee serves both anyway.
    let r = front_back(
        100,
        r#"Call(node: "back", timeout: "30ms", retry: Retry(attempts: 2))"#,
        r#"Cpu(Constant("100ms"))"#,
        "",
    );
    let c = &r["calls"][0];
    // Up to the calls still under way at the end (100/s × 60 ms).
    let calls = num(c, "/calls");
    assert!((num(c, "/failed") - calls).abs() <= 10.0, "{c}");
    assert!((num(c, "/timeouts") - 2.0 * calls).abs() <= 20.0, "{c}");
    assert!((num(c, "/amplification") - 2.0).abs() < 0.002, "{c}");
    assert_eq!(r["summary"]["completed"], 0);
    // front's sojourn: 60 ms for every request.
    assert!((num(&r, "/nodes/0/latency/mean") - 0.060).abs() < 1e-6);
    assert!(
        (num(&r, "/nodes/1/throughput") - 200.0).abs() < 5.0,
        "{}",
        r["nodes"][1]
    );
    // A timeout longer than the work changes nothing.
    let r = front_back(
        100,
        r#"Call(node: "back", timeout: "150ms", retry: Retry(attempts: 2))"#,
        r#"Cpu(Constant("100ms"))"#,
        "",
    );
    assert_eq!(r["summary"]["errors"], 0);
    assert_eq!(num(&r, "/calls/0/amplification"), 1.0);
}

#[test]
fn backoff_with_jitter_lowers_the_amplification_of_a_slow_dependency() {
    // `back` is 100 ms slower for 5 s; calls time out at 50 ms and try 4 times. At once,
    // all four tries fall inside the slow spell; with exponential backoff and full jitter
    // the later tries land after it and succeed.
    let slow = r#"Between("60s", "65s", NodeLatency(node: "back", extra: Constant("100ms")))"#;
    let run = |retry: &str| {
        let r = front_back(
            500,
            &format!(r#"Call(node: "back", timeout: "50ms", retry: {retry})"#),
            r#"Cpu(Exp("2ms"))"#,
            slow,
        );
        (
            num(&r, "/calls/0/amplification"),
            num(&r, "/calls/0/failed"),
        )
    };
    let (amp_now, failed_now) = run("Retry(attempts: 4)");
    let (amp_backoff, failed_backoff) =
        run(r#"Retry(attempts: 4, backoff: Exponential(base: "1s", cap: "10s"), jitter: Full)"#);
    assert!(amp_now > 1.1, "{amp_now}");
    assert!(amp_backoff < amp_now - 0.01, "{amp_backoff} vs {amp_now}");
    assert!(
        failed_backoff < failed_now / 2.0,
        "{failed_backoff} vs {failed_now}"
    );
}

#[test]
fn a_retry_budget_caps_the_storm() {
    // A dependency at 88% of its capacity, 50 ms timeouts and 4 tries: without a budget
    // the retries overload it and almost everything fails (a retry storm); a 10% budget
    // keeps the tries under 1.1 per call.
    let run = |retry: &str| {
        let (_d, f) = scenario_file(&format!(
            r#"Scenario(name: "storm", duration: "3m", warmup: "30s",
                sources: [Source(name: "users", target: "front", rate: Constant(700))],
                nodes: [Service(name: "front", cores: 1000,
                                handlers: {{"*": [Call(node: "back", timeout: "50ms", retry: {retry})]}}),
                        Service(name: "back", cores: 8, queue: 2000, handlers: {{"*": [Cpu(Exp("10ms"))]}})])"#
        ));
        run_json(&f, &[])
    };
    let storm = run("Retry(attempts: 4)");
    assert!(num(&storm, "/calls/0/amplification") > 3.5);
    assert!(num(&storm, "/summary/error_rate") > 0.9);
    let budget = run("Retry(attempts: 4, budget: 0.1)");
    let amp = num(&budget, "/calls/0/amplification");
    assert!(amp <= 1.1 + 1e-9 && amp > 1.05, "{amp}");
    assert!(num(&budget, "/summary/error_rate") < num(&storm, "/summary/error_rate"));
}

#[test]
fn an_open_breaker_stops_the_calls_to_a_failed_dependency() {
    // From 60 s every call to `back` fails. The breaker (window 10 s in 1 s buckets, opens
    // at a 50% failure share) opens about 5 s later, when half the window has failed;
    // then only its trial calls reach `back`: 3 per 30 s open spell.
    let r = front_back(
        100,
        r#"Call(node: "back", breaker: Breaker(threshold: 0.5, window: "10s", min_calls: 20, open_for: "30s", probes: 3))"#,
        r#"Cpu(Constant("1ms"))"#,
        r#"At("60s", ErrorInjection(node: "back", fraction: 1.0))"#,
    );
    let timeline = r["timeline"].as_array().unwrap();
    let breaker: Vec<(f64, &str)> = timeline
        .iter()
        .filter(|e| e["kind"] == "breaker")
        .map(|e| (num(e, "/t"), e["text"].as_str().unwrap()))
        .collect();
    let (opened_at, text) = breaker[0];
    assert_eq!(text, "breaker → back opened: calls fail at once for 30s");
    assert!((64.0..66.5).contains(&opened_at), "{breaker:?}");
    // Half-open at ~95 s and ~125 s (the trials fail, it opens again); the run ends at 120 s.
    assert_eq!(breaker.len(), 3, "{breaker:?}");
    assert!(breaker[1].1.ends_with("half-open: trial calls"));
    // What reached `back` after 60 s: the ~500 calls before the breaker opened, and the
    // trial calls (one fails and reopens it).
    let reached = num(&r, "/nodes/1/errors");
    assert!((450.0..=560.0).contains(&reached), "{reached}");
    let c = &r["calls"][0];
    assert_eq!(num(c, "/breaker_opened"), 2.0);
    // Everything after the opening fails at once, without reaching `back`.
    assert!(
        (num(c, "/short_circuited") - 100.0 * (120.0 - opened_at)).abs() < 150.0,
        "{c}"
    );
    // It never closed again: not closed from the opening to the end.
    assert!(
        (num(c, "/breaker_open_s") - (120.0 - opened_at)).abs() < 1e-6,
        "{c}"
    );
}

#[test]
fn a_token_bucket_passes_exactly_its_rate() {
    // 1 000 requests/s against a global bucket of 100/s: once the first burst is spent,
    // exactly 100 pass each second (to the token); the rest are refused at once.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "tb", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "limit", rate: Constant(1000))],
            nodes: [RateLimiter(name: "limit", target: "api", rate: 100, burst: 50),
                    Service(name: "api", cores: 8, handlers: {"*": [Cpu(Constant("1ms"))]})])"#,
    );
    let r = run_json(&f, &[]);
    let passed = num(&r, "/summary/completed");
    assert!((passed - 6000.0).abs() <= 2.0, "{passed}");
    assert_eq!(num(&r, "/nodes/0/errors"), num(&r, "/summary/errors"));
    assert_eq!(r["nodes"][0]["kind"], "rate_limiter");
    // From a standstill the burst passes at once: 50 + 100/s.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "tb", duration: "10s",
            sources: [Source(name: "users", target: "limit", rate: Constant(1000))],
            nodes: [RateLimiter(name: "limit", target: "api", rate: 100, burst: 50),
                    Service(name: "api", cores: 8, handlers: {"*": [Cpu(Constant("1ms"))]})])"#,
    );
    let r = run_json(&f, &[]);
    let passed = num(&r, "/summary/completed");
    assert!((passed - 1050.0).abs() <= 2.0, "{passed}");
}

#[test]
fn a_per_session_limit_holds_off_one_abusive_client_only() {
    let (_d, f) = scenario_file(
        r#"Scenario(name: "abuse", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "limit", rate: Constant(500), sessions: 10000,
                             mix: [Class(name: "user", weight: 1)]),
                      Source(name: "bot", target: "limit", rate: Constant(2000), sessions: 1,
                             mix: [Class(name: "bot", weight: 1)])],
            nodes: [RateLimiter(name: "limit", target: "api", rate: 20, burst: 40, per: Session),
                    Service(name: "api", instances: 2, cores: 8, handlers: {"*": [Cpu(Exp("5ms"))]})])"#,
    );
    let r = run_json(&f, &[]);
    // Users (each far under 20/s) all pass; the bot gets exactly its 20/s.
    assert_eq!(r["classes"][0]["errors"], 0);
    assert!(
        (num(&r, "/classes/1/completed") - 20.0 * 60.0).abs() <= 2.0,
        "{}",
        r["classes"][1]
    );
}

#[test]
fn load_shedding_at_an_expected_wait_is_an_m_m_1_k_queue() {
    // One worker, Exp(10 ms) work, arrivals at 90/s; refuse when the expected wait
    // (queue × 10 ms) reaches 50 ms: at most 5 wait, 6 in the system: M/M/1/6.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "shed", duration: "1h", warmup: "1m",
            sources: [Source(name: "users", target: "s", rate: Constant(90))],
            nodes: [Service(name: "s", cores: 1, shed_after: "50ms",
                            handlers: {"*": [Cpu(Exp("10ms"))]})])"#,
    );
    let r = run_json(&f, &["--replications", "8"]);
    let (block, w) = super::truth::mm1k(90.0, 100.0, 6);
    let shed = num(&r, "/summary/error_rate");
    let ci = num(&r, "/summary/error_rate_ci95") * 3.5 / 2.365; // 99%, 7 degrees of freedom
    assert!(
        (shed - block).abs() <= ci && ci < 0.1 * block,
        "{shed} ± {ci} vs {block}"
    );
    let mean = num(&r, "/summary/latency/mean");
    let ci = num(&r, "/summary/latency/mean_ci95") * 3.5 / 2.365;
    assert!(
        (mean - w).abs() <= ci && ci < 0.05 * w,
        "{mean} ± {ci} vs {w}"
    );
    assert_eq!(num(&r, "/nodes/0/max_queue"), 5.0);
}

#[test]
fn a_bulkhead_admits_exactly_its_limit_of_tries_at_once() {
    // One front instance calls `back` (950 ms, plenty of cores) every 100 ms with a bulkhead
    // of 4: the tries sent at t, t+0.1, t+0.2, t+0.3 hold the four slots until t+0.95…1.25,
    // so 4 of every 10 calls are sent and 6 fail at once: a share of 0.6 exactly.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "b", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant(10), arrivals: Deterministic)],
            nodes: [Service(name: "front", cores: 64,
                            handlers: {"*": [Call(node: "back", bulkhead: 4)]}),
                    Service(name: "back", cores: 64, handlers: {"*": [Cpu(Constant("950ms"))]})])"#,
    );
    let r = run_json(&f, &[]);
    let c = &r["calls"][0];
    let calls = num(c, "/calls");
    assert!(calls >= 590.0, "{c}");
    assert!(
        (num(c, "/bulkhead_rejected") / calls - 0.6).abs() < 0.01,
        "{c}"
    );
    // (Up to the calls of the last second, still out at the end.)
    assert!((num(&r, "/summary/error_rate") - 0.6).abs() < 0.01);
    // back never holds more than 4 at once.
    assert_eq!(num(&r, "/nodes/1/max_queue"), 0.0);
    assert!(
        num(&r, "/nodes/1/mean_present") <= 4.0 + 1e-9,
        "{}",
        r["nodes"][1]
    );
    // Without the bulkhead every call goes through.
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace(r#"Call(node: "back", bulkhead: 4)"#, r#"Call("back")"#);
    let (_d2, f2) = scenario_file(&text);
    assert_eq!(num(&run_json(&f2, &[]), "/summary/errors"), 0.0);
}

#[test]
fn a_hedge_cuts_the_tail_by_the_hedge_law() {
    // back answers in 10 ms with probability 0.9, in 1 s otherwise. Hedging after 50 ms: a
    // slow first try (0.1) gets a second one, which is slow with 0.1 again: the call takes
    // 10 ms (0.9), 60 ms (0.09) or 1 s (0.01), mean 24.4 ms (109 ms without the hedge),
    // and 10% of calls are hedged (amplification 1.1).
    let scenario = |call: &str| {
        format!(
            r#"Scenario(name: "h", duration: "10m", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant(200))],
            nodes: [Service(name: "front", cores: 2000, handlers: {{"*": [{call}]}}),
                    Service(name: "back", cores: 2000,
                            handlers: {{"*": [Branch(p: 0.1, then: [Cpu(Constant("1s"))],
                                                     otherwise: [Cpu(Constant("10ms"))])]}})])"#
        )
    };
    let (_d, f) = scenario_file(&scenario(r#"Call(node: "back", hedge: "50ms")"#));
    let r = run_json(&f, &[]);
    let c = &r["calls"][0];
    let n = num(c, "/calls");
    // Hedged share: binomial, 99% interval.
    let share = num(c, "/hedged") / n;
    let half = 2.576 * (0.1f64 * 0.9 / n).sqrt();
    assert!(
        half < 0.005 && (share - 0.1).abs() < half,
        "{share} ± {half}"
    );
    assert!((num(c, "/amplification") - 1.0 - share).abs() < 1e-9);
    // Mean latency: the variance of the three-point law over n calls.
    let (m, m2) = (
        0.9 * 0.010 + 0.09 * 0.060 + 0.01 * 1.0,
        0.9 * 0.010f64.powi(2) + 0.09 * 0.060f64.powi(2) + 0.01 * 1.0,
    );
    let half = 2.576 * ((m2 - m * m) / n).sqrt();
    let mean = num(&r, "/summary/latency/mean");
    assert!(
        half < 0.003 && (mean - m).abs() < half,
        "{mean} vs {m} ± {half}"
    );
    assert_eq!(num(&r, "/summary/errors"), 0.0);
    // Without the hedge: 109 ms.
    let (_d, f) = scenario_file(&scenario(r#"Call("back")"#));
    let mean = num(&run_json(&f, &[]), "/summary/latency/mean");
    assert!((mean - 0.109).abs() < 0.01, "{mean}");
}

#[test]
fn a_reply_already_on_its_way_when_its_try_times_out_is_dropped() {
    // Each try reaches back after 10 ms, takes 85 ms and its reply lands 10 ms later, at
    // 105 ms: after the 100 ms timeout. The late reply must not answer the retry sent at
    // 100 ms (which meets the same fate): all 3 tries of every call time out, none succeeds.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "s", duration: "70s", warmup: "10s",
            sources: [Source(name: "users", target: "front", rate: Constant(20))],
            nodes: [Service(name: "front", cores: 64,
                            handlers: {"*": [Call(node: "back", timeout: "100ms", retry: Retry(attempts: 3))]}),
                    Service(name: "back", cores: 64, handlers: {"*": [Cpu(Constant("85ms"))]})],
            links: [Link(from: "front", to: "back", latency: Constant("10ms"))])"#,
    );
    let r = run_json(&f, &[]);
    let c = &r["calls"][0];
    assert_eq!(num(&r, "/summary/completed"), 0.0, "{}", r["summary"]);
    assert!((num(c, "/amplification") - 3.0).abs() < 0.01, "{c}");
    // Every try timed out; every call but those of the last 300 ms failed after 3.
    assert!(num(c, "/timeouts") >= 3.0 * num(c, "/failed"), "{c}");
    assert!(
        num(c, "/attempts") - num(c, "/timeouts") <= 3.0 * 6.0,
        "{c}"
    );
    assert!(num(c, "/calls") - num(c, "/failed") <= 6.0 + 3.0, "{c}");
}

#[test]
fn client_retries_follow_the_geometric_law_and_abandon_timed_out_tries() {
    // Each try fails with f = 0.3 at `api`; the clients try 3 times: tries per request
    // (1 − f³)/(1 − f) = 1.39, requests failing f³ = 0.027.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "c", duration: "5m", warmup: "10s",
            sources: [Source(name: "users", target: "api", rate: Constant(1000),
                             retry: Retry(attempts: 3, backoff: Constant("10ms")))],
            nodes: [Service(name: "api", cores: 64, handlers: {"*": [Cpu(Exp("1ms"))]})],
            faults: [At("0s", ErrorInjection(node: "api", fraction: 0.3))])"#,
    );
    let r = run_json(&f, &[]);
    let s = &r["summary"];
    let n = num(s, "/requests");
    let fr: f64 = 0.3;
    let tries = (1.0 - fr.powi(3)) / (1.0 - fr);
    // Tries per request: 1 + Bernoulli(f) + Bernoulli(f²) (the second given the first):
    // variance f(1−f) + f²(1−f²) + 2·f²·(1 − f) (covariance), 99% interval.
    let var = fr * (1.0 - fr) + fr.powi(2) * (1.0 - fr.powi(2)) + 2.0 * fr.powi(2) * (1.0 - fr);
    let half = 2.576 * (var / n).sqrt();
    let amp = num(s, "/client_amplification");
    assert!(
        half < 0.01 && (amp - tries).abs() < half,
        "{amp} vs {tries} ± {half}"
    );
    let p = fr.powi(3);
    let half = 2.576 * (p * (1.0 - p) / n).sqrt();
    let err = num(s, "/error_rate");
    assert!((err - p).abs() < half, "{err} vs {p} ± {half}");
    assert!(r["classes"][0]["client_retries"].as_f64().unwrap() > 0.0);

    // A slow try (2 s, probability 0.2) times out at the client after 500 ms and is
    // retried at once: a request fails only when both tries are slow (0.04), and the
    // abandoned try's late answer is ignored; a retried success takes 510 ms.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "t", duration: "5m", warmup: "10s",
            sources: [Source(name: "users", target: "api", rate: Constant(500), timeout: "500ms",
                             retry: Retry(attempts: 2))],
            nodes: [Service(name: "api", cores: 2000,
                            handlers: {"*": [Branch(p: 0.2, then: [Cpu(Constant("2s"))],
                                                     otherwise: [Cpu(Constant("10ms"))])]})])"#,
    );
    let r = run_json(&f, &[]);
    let s = &r["summary"];
    let n = num(s, "/requests");
    let half = 2.576 * (0.04 * 0.96 / n).sqrt();
    assert!((num(s, "/error_rate") - 0.04).abs() < half, "{s}");
    assert_eq!(num(s, "/errors"), num(s, "/timeouts"));
    assert!((num(s, "/latency/max") - 0.51).abs() < 1e-6, "{s}");
    let half = 2.576 * (0.2 * 0.8 / n).sqrt();
    assert!((num(s, "/client_amplification") - 1.2).abs() < half, "{s}");
}

//! Queues through the user's path: the producer returns at enqueue; a consumer pool with
//! `c` workers behind a queue is M/M/c.

use super::{num, run_json, scenario_file};

fn queued(rate: f64, capacity: &str, duration: &str, reps: &str) -> serde_json::Value {
    queued_on(rate, capacity, duration, reps, "cores: 4")
}

fn queued_on(
    rate: f64,
    capacity: &str,
    duration: &str,
    reps: &str,
    pool: &str,
) -> serde_json::Value {
    let (_d, f) = scenario_file(&format!(
        r#"Scenario(name: "queue", duration: "{duration}", warmup: "5s",
            sources: [Source(name: "in", target: "jobs", rate: Constant({rate}))],
            nodes: [Queue(name: "jobs", consumer: "workers" {capacity}),
                    Service(name: "workers", {pool}, handlers: {{"*": [Cpu(Exp("1ms"))]}})])"#
    ));
    run_json(&f, &["--replications", reps])
}

#[test]
fn a_queue_with_a_pool_of_c_workers_is_mmc() {
    // λ = 3 200/s, μ = 1 000/s, c = 4 (ρ = 0.8): enqueue-to-done is Erlang C's response —
    // whether the 4 workers are one instance's cores or four single-core instances (workers
    // pull: a message goes to a free worker, never behind a busy one).
    for pool in ["cores: 4", "instances: 4, cores: 1"] {
        mmc_through_a_queue(pool);
    }
}

fn mmc_through_a_queue(pool: &str) {
    let r = queued_on(3200.0, "", "65s", "20", pool);
    let want = super::truth::mmc_w(3200.0, 1000.0, 4);
    let m = &r["nodes"][0]["messages"];
    let mean = num(m, "/processing_latency/mean");
    let ci = num(m, "/processing_latency/mean_ci95");
    assert!(
        (mean - want).abs() <= ci,
        "{pool}: Erlang C {want:.6} outside {mean:.6} ± {ci:.6}"
    );
    assert!(ci < 0.05 * want, "CI ±{ci} too wide");
    // The producer is answered at enqueue: its latency excludes the work.
    assert!(
        num(&r, "/summary/latency/mean") < 1e-6,
        "{}",
        r["summary"]["latency"]
    );
    // Little on the backlog: mean waiting = λ × Wq.
    let wq = want - 0.001;
    let backlog = num(&r, "/nodes/0/mean_queue");
    assert!(
        (backlog - 3200.0 * wq).abs() < 0.05 * 3200.0 * wq,
        "backlog {backlog}"
    );
    assert!((num(&r, "/nodes/1/utilization") - 0.8).abs() < 0.01);
}

#[test]
fn a_full_queue_fails_the_enqueue_and_an_unbounded_one_keeps_everything() {
    // Twice the consumer's capacity: a bounded queue fills and refuses the rest.
    let r = queued(8000.0, ", capacity: 100", "20s", "1");
    let m = &r["nodes"][0]["messages"];
    let refused = num(&r, "/nodes/0/errors");
    assert!(refused > 30_000.0, "{refused} refused");
    assert_eq!(num(&r, "/summary/errors"), refused);
    assert!(num(&r, "/nodes/0/max_queue") <= 100.0);
    let accepted = num(&r, "/summary/completed");
    assert!((num(m, "/enqueued") - accepted).abs() < 1.0);
    // Processed at the consumer's pace: 4 000/s.
    assert!((num(m, "/processed") / 15.0 - 4000.0).abs() < 100.0, "{m}");
    // Unbounded: nothing refused, the backlog grows by λ − cμ = 4 000/s, as validate
    // predicts.
    let r = queued(8000.0, "", "20s", "1");
    assert_eq!(r["summary"]["errors"], 0);
    let growth = num(&r, "/nodes/0/queue_end") / 20.0;
    assert!((growth - 4000.0).abs() < 100.0, "{growth}/s");
    let (_d, f) = scenario_file(
        r#"Scenario(name: "queue", duration: "20s",
            sources: [Source(name: "in", target: "jobs", rate: Constant(8000))],
            nodes: [Queue(name: "jobs", consumer: "workers"),
                    Service(name: "workers", cores: 4, handlers: {"*": [Cpu(Exp("1ms"))]})])"#,
    );
    let v = super::scalelab(&["validate", f.to_str().unwrap()]);
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.contains(
            "consumer workers at ρ 2.00: the backlog grows by about 4000 messages/s at peak"
        ),
        "{v}"
    );
}

#[test]
fn failed_messages_are_retried_up_to_max_attempts_then_dead_lettered() {
    // The consumer calls `broken`, whose only worker the first call holds for an hour: it
    // refuses every later call. So every message but the first fails each of its 3 tries.
    let (_d, f) = scenario_file(
        r#"Scenario(name: "retry", duration: "60s",
            sources: [Source(name: "in", target: "jobs", rate: Constant(10), arrivals: Deterministic)],
            nodes: [Queue(name: "jobs", consumer: "workers", max_attempts: 3),
                    Service(name: "workers", cores: 4, handlers: {"*": [Call("broken")]}),
                    Service(name: "broken", queue: 0, handlers: {"*": [Cpu(Constant("1h"))]})])"#,
    );
    let r = run_json(&f, &[]);
    let m = &r["nodes"][0]["messages"];
    assert_eq!(m["enqueued"], 600);
    assert_eq!(m["processed"], 0);
    assert_eq!(m["dead_letters"], 599, "{m}");
    assert_eq!(m["failed"], 599);
    assert_eq!(m["retries"], 2 * 599);
    // The producers never notice: their enqueues all succeeded.
    assert_eq!(r["summary"]["errors"], 0);
}

#[test]
fn a_backlog_waits_for_a_dead_consumer_and_drains_when_it_starts_again() {
    // 100 messages/s for 10 s; the only consumer instance is killed at 5.0025 s and a new
    // one serves from 25 s (started at 20 s, 5 s to boot). Nothing arrives after 10 s, so
    // only the consumer's growth can start the backlog moving again.
    let (_d, f) = super::scenario_file(
        r#"Scenario(name: "q", duration: "60s", warmup: "1s",
            sources: [Source(name: "in", target: "jobs", arrivals: Deterministic,
                             rate: Step(from: 100, to: 0, at: "10s"))],
            nodes: [Queue(name: "jobs", consumer: "workers"),
                    Service(name: "workers", startup: "5s",
                            handlers: {"*": [Cpu(Constant("5ms"))]})],
            actions: [At("5.0025s", KillInstances(node: "workers", count: 1)),
                      At("20s", StartInstances(node: "workers", count: 1))])"#,
    );
    let r = run_json(&f, &[]);
    let m = &r["nodes"][0]["messages"];
    assert_eq!(num(&r, "/nodes/0/queue_end"), 0.0, "{m}");
    assert_eq!(num(m, "/failed"), 1.0, "the message on the killed instance");
    assert_eq!(num(m, "/processed") + 1.0, num(m, "/enqueued"));
    // The first message after the kill (5.01 s) waited until 25 s.
    let oldest = num(m, "/oldest_age");
    assert!((oldest - 19.99).abs() < 0.011, "{oldest}");
    let text =
        String::from_utf8_lossy(&super::scalelab(&["run", f.to_str().unwrap()]).stdout).to_string();
    assert!(text.contains("oldest message waited 19.99s"), "{text}");
}

//! `run --trace-out`: a sample of requests' paths as OpenTelemetry (OTLP/JSON) spans.
//! The spans are checked against the scenario by hand (constant link latencies show up
//! exactly between a parent's and its child's times) and against the report (with every
//! request traced, the client spans are the report's latency, request by request).

use super::{run_json, scalelab, scenario_file};
use serde_json::Value;
use std::collections::HashMap;

const CHAIN: &str = r#"Scenario(
    name: "chain", seed: 5, duration: "2m", warmup: "10s",
    sources: [Source(name: "users", target: "lb", rate: Constant(150), arrivals: Poisson,
                     mix: [Class(name: "get", weight: 1.0)])],
    nodes: [
        LoadBalancer(name: "lb", algorithm: RoundRobin, backends: ["web"]),
        Service(name: "web", instances: 2, handlers: { "*": [Cpu(Exp("3ms")), Call("db")] }),
        Service(name: "db", cores: 2, handlers: { "*": [Cpu(Exp("4ms"))] }),
    ],
    links: [
        Link(from: "users", to: "lb", latency: Constant("5ms")),
        Link(from: "web", to: "db", latency: Constant("1ms")),
    ],
)"#;

/// A span, flattened: its service (the node, or the source for the client's span).
#[derive(Debug, Clone)]
struct Span {
    service: String,
    trace: String,
    id: String,
    parent: Option<String>,
    kind: u64,
    start: u64,
    end: u64,
    ok: bool,
    attrs: HashMap<String, String>,
}

fn spans(path: &std::path::Path) -> Vec<Span> {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object on one line");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = vec![];
    for r in v["resourceSpans"].as_array().unwrap() {
        let service = r["resource"]["attributes"][0]["value"]["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(r["resource"]["attributes"][0]["key"], "service.name", "{r}");
        for s in r["scopeSpans"][0]["spans"].as_array().unwrap() {
            let n = |k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
            let attrs = s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let v = &a["value"];
                    let v = v["stringValue"].as_str().or(v["intValue"].as_str());
                    (
                        a["key"].as_str().unwrap().to_string(),
                        v.unwrap().to_string(),
                    )
                })
                .collect();
            let trace = s["traceId"].as_str().unwrap().to_string();
            let id = s["spanId"].as_str().unwrap().to_string();
            assert_eq!((trace.len(), id.len()), (32, 16), "hex ids: {s}");
            out.push(Span {
                service: service.clone(),
                trace,
                id,
                parent: s["parentSpanId"].as_str().map(str::to_string),
                kind: s["kind"].as_u64().unwrap(),
                start: n("startTimeUnixNano"),
                end: n("endTimeUnixNano"),
                ok: s["status"]["code"] == 1,
                attrs,
            });
        }
    }
    out
}

/// Every span's parent is in its own trace, every trace has at most one root (the
/// client's), and a child lies within its parent (calls are synchronous).
fn assert_trees(all: &[Span]) -> HashMap<&str, Vec<&Span>> {
    let mut traces: HashMap<&str, Vec<&Span>> = HashMap::new();
    for s in all {
        traces.entry(s.trace.as_str()).or_default().push(s);
    }
    for (t, spans) in &traces {
        let by_id: HashMap<&str, &Span> = spans.iter().map(|s| (s.id.as_str(), *s)).collect();
        assert_eq!(by_id.len(), spans.len(), "span ids unique in trace {t}");
        assert!(spans.iter().filter(|s| s.parent.is_none()).count() <= 1);
        for s in spans {
            assert!(s.start <= s.end, "{s:?}");
            match &s.parent {
                None => assert_eq!(s.kind, 3, "a root is the client's span: {s:?}"),
                Some(p) => {
                    assert_eq!(s.kind, 2, "{s:?}");
                    // A parent still running when the run ended has no span yet.
                    if let Some(parent) = by_id.get(p.as_str()) {
                        assert!(
                            parent.start <= s.start,
                            "child starts after its parent: {s:?} in {parent:?}"
                        );
                    }
                }
            }
        }
    }
    traces
}

#[test]
fn every_request_traced_gives_its_path_and_the_reports_latency() {
    let (dir, f) = scenario_file(CHAIN);
    let out = dir.path().join("spans.json");
    let report = run_json(
        &f,
        &["--trace-out", out.to_str().unwrap(), "--trace-every", "1"],
    );
    let all = spans(&out);
    let traces = assert_trees(&all);
    let ms = 1_000_000;
    let s = &report["summary"];
    let (requests, completed) = (
        s["requests"].as_u64().unwrap(),
        s["completed"].as_u64().unwrap(),
    );
    assert_eq!(s["errors"], 0);
    // One trace per request born after the warm-up (those still in flight at the end
    // may have no span yet).
    let in_flight = report["in_flight_end"].as_u64().unwrap();
    assert!(traces.len() as u64 <= requests && traces.len() as u64 + in_flight >= requests);
    let roots: Vec<&Span> = all.iter().filter(|s| s.parent.is_none()).collect();
    assert_eq!(
        roots.len() as u64,
        completed,
        "a client span per answered request"
    );
    assert!(roots.iter().all(|r| r.service == "users" && r.ok));
    // The client's spans are the report's latency: same mean, same maximum.
    let mean = roots.iter().map(|r| (r.end - r.start) as f64).sum::<f64>() / roots.len() as f64;
    let want = s["latency"]["mean"].as_f64().unwrap() * 1e9;
    assert!(
        (mean - want).abs() <= 1e-9 * want,
        "mean {mean} ns vs {want}"
    );
    let max = roots.iter().map(|r| r.end - r.start).max().unwrap();
    assert_eq!(
        max as f64,
        (s["latency"]["max"].as_f64().unwrap() * 1e9).round()
    );
    // Each answered request went users → lb → web → db, and each hop's constant link
    // latency sits exactly between a parent's times and its child's.
    for root in &roots {
        let spans = &traces[root.trace.as_str()];
        let child = |of: &Span, service: &str| -> Span {
            let c: Vec<&&Span> = spans
                .iter()
                .filter(|s| s.parent.as_deref() == Some(of.id.as_str()))
                .collect();
            assert_eq!(c.len(), 1, "{of:?} has one call: {c:?}");
            assert_eq!(c[0].service, service);
            (*c[0]).clone()
        };
        let lb = child(root, "lb");
        assert_eq!((lb.start - root.start, root.end - lb.end), (5 * ms, 5 * ms));
        let web = child(&lb, "web");
        assert_eq!(
            (web.start, web.end),
            (lb.start, lb.end),
            "a balancer adds no time"
        );
        let inst: u64 = web.attrs["scalelab.instance"].parse().unwrap();
        assert!(inst < 2, "{web:?}");
        let db = child(&web, "db");
        assert!(
            db.start >= web.start + ms && db.end + ms <= web.end,
            "{db:?} in {web:?}"
        );
        assert_eq!(spans.len(), 4, "nothing else in the trace");
        assert!(spans.iter().all(|s| s.attrs["scalelab.class"] == "get"));
    }
    // The db's spans are its sojourns: their mean is the report's (which also counts the
    // few frames of requests born in the warm-up and leaving after it).
    let db: Vec<u64> = all
        .iter()
        .filter(|s| s.service == "db")
        .map(|s| s.end - s.start)
        .collect();
    let mean = db.iter().sum::<u64>() as f64 / db.len() as f64 / 1e9;
    let node = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "db")
        .unwrap();
    let want = node["latency"]["mean"].as_f64().unwrap();
    assert!(
        (mean - want).abs() <= 0.01 * want,
        "db sojourn {mean} vs {want}"
    );
}

#[test]
fn one_in_n_is_sampled_and_tracing_changes_nothing_in_the_report() {
    let (dir, f) = scenario_file(CHAIN);
    let out = dir.path().join("spans.json");
    let file = f.to_str().unwrap();
    let plain = scalelab(&["run", file, "--json", "--replications", "3"]);
    let traced = scalelab(&[
        "run",
        file,
        "--json",
        "--replications",
        "3",
        "--trace-out",
        out.to_str().unwrap(),
        "--trace-every",
        "7",
        "--metrics-epoch",
        "1700000000",
    ]);
    assert!(
        traced.status.success(),
        "{}",
        String::from_utf8_lossy(&traced.stderr)
    );
    assert_eq!(plain.stdout, traced.stdout, "tracing changed the report");
    let all = spans(&out);
    assert_trees(&all);
    // Replication 0 is traced: its report has the requests born.
    let r0 = run_json(&f, &[]);
    let requests = r0["summary"]["requests"].as_u64().unwrap();
    let mut numbers: Vec<u64> = all
        .iter()
        .map(|s| u64::from_str_radix(&s.trace[16..], 16).unwrap())
        .collect();
    numbers.sort();
    numbers.dedup();
    let expect = requests.div_ceil(7);
    let in_flight = r0["in_flight_end"].as_u64().unwrap();
    assert!(numbers.len() as u64 <= expect && numbers.len() as u64 + in_flight >= expect);
    assert_eq!(numbers[0], 1);
    assert!(numbers.windows(2).all(|w| w[1] > w[0]) && *numbers.last().unwrap() <= expect);
    // Times are Unix nanoseconds from the epoch; the first traced request is born just
    // after the 10 s warm-up.
    let first = all.iter().map(|s| s.start).min().unwrap();
    let epoch = 1_700_000_000 * 1_000_000_000u64;
    assert!(
        first >= epoch + 10_000_000_000 && first < epoch + 11_000_000_000,
        "{first}"
    );
}

#[test]
fn failures_show_in_spans_retries_share_the_trace() {
    // Offered 1.5 times what the pool serves, so its queues are always full: arrivals are
    // refused, waits pass the client's 50 ms timeout (then it retries once), and the two
    // instances killed at 20 s have work on them. Each must show in the spans.
    let text = r#"Scenario(
        name: "faulty", seed: 9, duration: "1m", warmup: "5s",
        sources: [Source(name: "users", target: "lb", rate: Constant(300), arrivals: Poisson,
                         timeout: "50ms", retry: Retry(attempts: 2, backoff: Constant("10ms")),
                         mix: [Class(name: "get", weight: 1.0)])],
        nodes: [
            LoadBalancer(name: "lb", algorithm: RoundRobin, backends: ["web"]),
            Service(name: "web", instances: 4, queue: 5,
                    handlers: { "*": [Cpu(Exp("20ms"))] }),
        ],
        faults: [At("20s", KillInstances(node: "web", count: 2))],
    )"#;
    let (dir, f) = scenario_file(text);
    let out = dir.path().join("spans.json");
    let r = run_json(
        &f,
        &["--trace-out", out.to_str().unwrap(), "--trace-every", "1"],
    );
    let all = spans(&out);
    let traces = assert_trees(&all);
    let outcome = |s: &Span| s.attrs["scalelab.outcome"].clone();
    let count = |what: &str| all.iter().filter(|s| outcome(s) == what).count() as u64;
    assert!(count("killed") >= 1, "the kill shows");
    let killed = r["nodes"][1]["killed"].as_u64().unwrap();
    assert!(
        count("killed") <= killed,
        "killed spans {} of {killed}",
        count("killed")
    );
    assert_eq!(
        count("timed_out"),
        r["summary"]["timeouts"].as_u64().unwrap(),
        "a client span per time-out"
    );
    assert!(count("timed_out") > 0 && count("rejected") > 0);
    for s in all.iter().filter(|s| outcome(s) != "ok") {
        assert!(!s.ok, "{s:?} has an error status");
    }
    // The balancer passes a refusal or a kill on: its own span failed.
    let by_id: HashMap<&str, &Span> = all.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut passed_on = 0;
    for s in all.iter().filter(|s| s.service == "web" && !s.ok) {
        let lb = by_id[s.parent.as_deref().unwrap()];
        assert_eq!(
            (lb.service.as_str(), outcome(lb).as_str()),
            ("lb", "failed"),
            "{s:?}"
        );
        passed_on += 1;
    }
    assert!(passed_on > 0);
    // A retried request: its second try's frames are in the first try's trace.
    let retried = traces
        .values()
        .find(|t| t.iter().any(|s| s.attrs["scalelab.attempt"] == "2"))
        .expect("some request was retried");
    assert!(retried.iter().any(|s| s.attrs["scalelab.attempt"] == "1"));
}

#[test]
fn a_queues_messages_and_their_redeliveries_stay_in_the_producers_trace() {
    // Half the messages fail at the workers and are delivered again (3 tries at most).
    let text = r#"Scenario(
        name: "async", seed: 4, duration: "1m", warmup: "5s",
        sources: [Source(name: "shop", target: "web", rate: Constant(20), arrivals: Poisson,
                         mix: [Class(name: "order", weight: 1.0)])],
        nodes: [
            Service(name: "web", handlers: {"*": [Cpu(Exp("2ms")), Enqueue("orders")]}),
            Queue(name: "orders", consumer: "workers", max_attempts: 3),
            Service(name: "workers", instances: 2, handlers: {"*": [Cpu(Exp("20ms"))]}),
        ],
        faults: [Between("0s", "1m", ErrorInjection(node: "workers", fraction: 0.5))],
    )"#;
    let (dir, f) = scenario_file(text);
    let out = dir.path().join("spans.json");
    run_json(
        &f,
        &["--trace-out", out.to_str().unwrap(), "--trace-every", "1"],
    );
    let all = spans(&out);
    let traces = assert_trees(&all);
    let mut redelivered = 0;
    for t in traces.values() {
        let count = |svc: &str| t.iter().filter(|s| s.service == svc).count();
        if count("shop") == 0 {
            continue; // still in flight at the end
        }
        assert_eq!((count("web"), count("orders")), (1, 1), "{t:?}");
        // The worker's tries: one per delivery, the last ok unless all 3 failed.
        let tries: Vec<&&Span> = t.iter().filter(|s| s.service == "workers").collect();
        assert!(tries.len() <= 3, "{t:?}");
        let attempts: Vec<&str> = tries
            .iter()
            .map(|s| s.attrs["scalelab.attempt"].as_str())
            .collect();
        for (k, a) in attempts.iter().enumerate() {
            assert_eq!(*a, (k + 1).to_string(), "deliveries in order: {t:?}");
        }
        redelivered += (tries.len() > 1) as usize;
    }
    assert!(redelivered > 50, "{redelivered} messages delivered again");
}

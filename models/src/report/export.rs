//! A report's time series in the formats other tools read: CSV (one wide table of the
//! series, one of the timeline) and OpenMetrics text (loadable next to real dashboards,
//! with simulated timestamps: seconds from the start of the run, or from `epoch`).

use super::{NodeSeries, Report, Series};
use std::fmt::Write as _;

/// A column of a node's series: its name and values (absent series are skipped).
fn node_columns(n: &NodeSeries) -> Vec<(&'static str, &Vec<f64>)> {
    let mut out = vec![
        ("queue", &n.queue),
        ("utilization", &n.utilization),
        ("instances", &n.instances),
        ("throughput", &n.throughput),
    ];
    for (name, v) in [
        ("hit_ratio", &n.hit_ratio),
        ("desired", &n.desired),
        ("starting", &n.starting),
        ("metric", &n.metric),
    ] {
        if !v.is_empty() {
            out.push((name, v));
        }
    }
    out
}

/// A CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The series as one CSV table: `t` (seconds, the end of each interval), then the
/// overall columns, then `<node>.<series>` for every node.
pub fn series_csv(s: &Series) -> String {
    let mut cols: Vec<(String, &Vec<f64>)> = vec![];
    for (name, v) in [
        ("completed_per_s", &s.completed),
        ("errors_per_s", &s.errors),
        ("p50", &s.p50),
        ("p95", &s.p95),
        ("p99", &s.p99),
    ] {
        if !v.is_empty() {
            cols.push((name.to_string(), v));
        }
    }
    for n in &s.nodes {
        for (c, v) in node_columns(n) {
            cols.push((format!("{}.{c}", n.name), v));
        }
    }
    let rows = cols.iter().map(|c| c.1.len()).max().unwrap_or(0);
    let mut o = String::from("t");
    for (name, _) in &cols {
        o.push(',');
        o += &field(name);
    }
    o.push('\n');
    for i in 0..rows {
        let _ = write!(o, "{}", (i + 1) as f64 * s.interval);
        for (_, v) in &cols {
            o.push(',');
            if let Some(x) = v.get(i) {
                let _ = write!(o, "{x}");
            }
        }
        o.push('\n');
    }
    o
}

/// The timeline as CSV: `t,kind,node,text`.
pub fn timeline_csv(r: &Report) -> String {
    let mut o = String::from("t,kind,node,text\n");
    for e in &r.timeline {
        let _ = writeln!(
            o,
            "{},{},{},{}",
            e.t,
            e.kind.label(),
            field(&e.node),
            field(&e.text)
        );
    }
    o
}

/// A label value, escaped as OpenMetrics wants (`\`, `"`, newline).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The series in OpenMetrics text format: a gauge family per series, every sample with
/// its timestamp (`epoch` + simulated seconds), `# EOF` at the end.
pub fn openmetrics(r: &Report, s: &Series, epoch: f64) -> String {
    let sc = label(&r.scenario);
    let t = |i: usize| epoch + (i + 1) as f64 * s.interval;
    let mut o = String::new();
    let mut family =
        |name: &str, help: &str, unit: Option<&str>, rows: Vec<(String, &Vec<f64>)>| {
            if rows.iter().all(|r| r.1.is_empty()) {
                return;
            }
            let _ = writeln!(o, "# TYPE scalelab_{name} gauge");
            if let Some(u) = unit {
                let _ = writeln!(o, "# UNIT scalelab_{name} {u}");
            }
            let _ = writeln!(o, "# HELP scalelab_{name} {help}");
            for (labels, v) in rows {
                for (i, x) in v.iter().enumerate() {
                    if x.is_finite() {
                        let _ = writeln!(
                            o,
                            "scalelab_{name}{{scenario=\"{sc}\"{labels}}} {x} {}",
                            t(i)
                        );
                    }
                }
            }
        };
    family(
        "completed_rate",
        "Requests completed per second over each interval.",
        None,
        vec![(String::new(), &s.completed)],
    );
    family(
        "error_rate_per_second",
        "Requests failed per second over each interval.",
        None,
        vec![(String::new(), &s.errors)],
    );
    family(
        "latency_seconds",
        "End-to-end latency of the requests completed in each interval.",
        Some("seconds"),
        vec![
            (",quantile=\"0.5\"".into(), &s.p50),
            (",quantile=\"0.95\"".into(), &s.p95),
            (",quantile=\"0.99\"".into(), &s.p99),
        ],
    );
    let per_node = |pick: fn(&NodeSeries) -> &Vec<f64>| -> Vec<(String, &Vec<f64>)> {
        s.nodes
            .iter()
            .map(|n| (format!(",node=\"{}\"", label(&n.name)), pick(n)))
            .collect()
    };
    // The per-node families: name, help, unit, series.
    type Pick = fn(&NodeSeries) -> &Vec<f64>;
    let nodes: [(&str, &str, Option<&str>, Pick); 7] = [
        (
            "node_queue",
            "Requests waiting in the node's queues.",
            None,
            |n| &n.queue,
        ),
        (
            "node_utilization_ratio",
            "Busy workers over all workers.",
            Some("ratio"),
            |n| &n.utilization,
        ),
        ("node_instances", "Serving instances.", None, |n| {
            &n.instances
        }),
        (
            "node_throughput",
            "Departures per second over each interval.",
            None,
            |n| &n.throughput,
        ),
        (
            "cache_hit_ratio",
            "Cache hits over reads in each interval.",
            Some("ratio"),
            |n| &n.hit_ratio,
        ),
        (
            "node_desired_instances",
            "Instances the autoscaler set (starting and serving).",
            None,
            |n| &n.desired,
        ),
        (
            "node_autoscaler_metric",
            "The autoscaler's latest datapoint.",
            None,
            |n| &n.metric,
        ),
    ];
    for (name, help, unit, pick) in nodes {
        family(name, help, unit, per_node(pick));
    }
    o += "# EOF\n";
    o
}

/// A run's traces as OpenTelemetry (OTLP/JSON) spans: one resource per service (each
/// node, and each source for the client's spans), times in Unix nanoseconds from `epoch`
/// (seconds). One JSON object on one line: what Jaeger's "upload JSON" reads, one line of
/// the OpenTelemetry Collector's file format, and the body of an OTLP/HTTP `/v1/traces`
/// request. Written straight into one string (no JSON tree: 200 000 spans take about a
/// tenth of a second and no more memory than the text).
pub fn otlp_traces(
    sc: &crate::Scenario,
    log: &crate::world::trace::TraceLog,
    seed: u64,
    epoch: f64,
) -> String {
    use crate::world::trace::SpanEnd;
    let q = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let base = (epoch.trunc() as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add((epoch.fract() * 1e9).round() as u64);
    let ns = |t: sim_core::SimTime| base.saturating_add(t.as_nanos());
    let trace_hi = sim_core::mix64(seed ^ 0x7EAC_E000_0000_0000);
    let classes: Vec<String> = sc.classes.iter().map(|c| q(c)).collect();
    let zones: Vec<String> = sc.zones.iter().map(|z| q(z)).collect();
    // Services: the sources, then the nodes, each with its spans in the order they ended.
    let sources = sc.sources.len();
    let mut by_service: Vec<Vec<usize>> = vec![vec![]; sources + sc.nodes.len()];
    for (i, s) in log.spans.iter().enumerate() {
        by_service[s.node.map_or(s.source.index(), |n| sources + n.index())].push(i);
    }
    let names = sc
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .chain(sc.nodes.iter().map(|n| n.name.as_str()));
    let mut o = String::with_capacity(64 + log.spans.len() * 420);
    o += "{\"resourceSpans\":[";
    let mut first_service = true;
    for (name, spans) in names.zip(&by_service).filter(|(_, s)| !s.is_empty()) {
        if !first_service {
            o.push(',');
        }
        first_service = false;
        let _ = write!(
            o,
            "{{\"resource\":{{\"attributes\":[\
             {{\"key\":\"service.name\",\"value\":{{\"stringValue\":{}}}}},\
             {{\"key\":\"scalelab.scenario\",\"value\":{{\"stringValue\":{}}}}},\
             {{\"key\":\"scalelab.seed\",\"value\":{{\"intValue\":\"{seed}\"}}}}]}},\
             \"scopeSpans\":[{{\"scope\":{{\"name\":\"scalelab\",\"version\":\"{}\"}},\"spans\":[",
            q(name),
            q(&sc.name),
            env!("CARGO_PKG_VERSION")
        );
        for (k, &i) in spans.iter().enumerate() {
            let s = &log.spans[i];
            if k > 0 {
                o.push(',');
            }
            let _ = write!(
                o,
                "{{\"traceId\":\"{trace_hi:016x}{:016x}\",\"spanId\":\"{:016x}\",",
                s.trace, s.id
            );
            if s.parent != 0 {
                let _ = write!(o, "\"parentSpanId\":\"{:016x}\",", s.parent);
            }
            let class = &classes[s.class.index()];
            let _ = write!(
                o,
                "\"name\":{class},\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\
                 \"attributes\":[{{\"key\":\"scalelab.class\",\"value\":{{\"stringValue\":{class}}}}},\
                 {{\"key\":\"scalelab.attempt\",\"value\":{{\"intValue\":\"{}\"}}}},\
                 {{\"key\":\"scalelab.outcome\",\"value\":{{\"stringValue\":\"{}\"}}}}",
                if s.node.is_some() { 2 } else { 3 },
                ns(s.start),
                ns(s.end),
                s.attempt,
                s.how.name()
            );
            if let Some(inst) = s.inst {
                let _ = write!(
                    o,
                    ",{{\"key\":\"scalelab.instance\",\"value\":{{\"intValue\":\"{}\"}}}}",
                    inst.index()
                );
            }
            if s.zone > 0 {
                let _ = write!(
                    o,
                    ",{{\"key\":\"scalelab.zone\",\"value\":{{\"stringValue\":{}}}}}",
                    zones[s.zone as usize - 1]
                );
            }
            if s.how == SpanEnd::Ok {
                o += "],\"status\":{\"code\":1}}";
            } else {
                let _ = write!(
                    o,
                    "],\"status\":{{\"code\":2,\"message\":\"{}\"}}}}",
                    s.how.name()
                );
            }
        }
        o += "]}]}";
    }
    o += "]}\n";
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Series {
        Series {
            interval: 2.0,
            p50: vec![0.01, 0.02],
            p95: vec![0.03, 0.04],
            p99: vec![0.05, 0.06],
            completed: vec![100.0, 110.0],
            errors: vec![0.0, 1.5],
            nodes: vec![NodeSeries {
                name: "web,1".into(),
                queue: vec![1.0, 2.0],
                utilization: vec![0.5, 0.6],
                instances: vec![2.0, 2.0],
                throughput: vec![100.0, 110.0],
                ..NodeSeries::default()
            }],
        }
    }

    #[test]
    fn csv_has_a_column_per_series_and_a_row_per_interval() {
        let c = series_csv(&series());
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(
            lines[0],
            "t,completed_per_s,errors_per_s,p50,p95,p99,\"web,1.queue\",\"web,1.utilization\",\"web,1.instances\",\"web,1.throughput\""
        );
        assert_eq!(lines[2], "4,110,1.5,0.02,0.04,0.06,2,0.6,2,110");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn openmetrics_families_are_grouped_timestamped_and_end_with_eof() {
        let r = Report {
            scenario: "s\"x".into(),
            ..Report::default()
        };
        let m = openmetrics(&r, &series(), 1000.0);
        assert!(m.ends_with("# EOF\n"));
        assert!(m.contains(
            "# TYPE scalelab_latency_seconds gauge\n# UNIT scalelab_latency_seconds seconds\n"
        ));
        assert!(
            m.contains(
                "scalelab_latency_seconds{scenario=\"s\\\"x\",quantile=\"0.99\"} 0.06 1004\n"
            ),
            "{m}"
        );
        assert!(m.contains("scalelab_node_queue{scenario=\"s\\\"x\",node=\"web,1\"} 2 1004\n"));
        // Families without data are left out.
        assert!(!m.contains("cache_hit_ratio"));
        // Every family's samples are together (no family named twice).
        let types: Vec<&str> = m.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let mut unique = types.clone();
        unique.dedup();
        assert_eq!(types, unique);
    }
}

//! Exports of a run: `--plot` (SVG), `--csv DIR`, `--metrics-out` (OpenMetrics) — the same
//! figures as the JSON report's series, in the formats other tools open.

use super::{run_json, scalelab};

#[test]
fn plot_csv_and_openmetrics_carry_the_reports_series() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, csv, om) = (
        dir.path().join("run.svg"),
        dir.path().join("csv"),
        dir.path().join("run.om"),
    );
    let f = std::path::Path::new("scenarios/black-friday.ron");
    let plain = scalelab(&["run", "scenarios/black-friday.ron", "--json"]).stdout;
    let out = scalelab(&[
        "run",
        "scenarios/black-friday.ron",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--metrics-out",
        om.to_str().unwrap(),
        "--metrics-epoch",
        "1700000000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Exports do not change the report (its series stay out unless --series).
    assert_eq!(out.stdout, plain);
    let r = run_json(f, &["--series"]);
    let s = &r["series"];
    let queue: Vec<f64> = s["nodes"][0]["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let interval = s["interval"].as_f64().unwrap();
    // The SVG: a chart per kind of series, the autoscaler's decisions marked.
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    for t in [
        "throughput and errors",
        "end-to-end latency",
        "instances",
        "backlog",
        "api desired",
    ] {
        assert!(text.contains(t), "{t}");
    }
    // The CSV: a row per sample, the same values as the JSON series.
    let c = std::fs::read_to_string(csv.join("series.csv")).unwrap();
    let head: Vec<&str> = c.lines().next().unwrap().split(',').collect();
    let col = head.iter().position(|h| *h == "api.queue").unwrap();
    let rows: Vec<Vec<&str>> = c.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), queue.len());
    for (row, q) in rows.iter().zip(&queue) {
        assert_eq!(row[col].parse::<f64>().unwrap(), *q);
    }
    assert_eq!(rows[1][0].parse::<f64>().unwrap(), 2.0 * interval);
    let t = std::fs::read_to_string(csv.join("timeline.csv")).unwrap();
    assert!(
        t.starts_with("t,kind,node,text\n") && t.contains(",autoscale,api,"),
        "{t}"
    );
    // OpenMetrics: families declared once, samples `name{labels} value timestamp` in
    // time order, the queue's samples the JSON's, `# EOF` last.
    let m = std::fs::read_to_string(&om).unwrap();
    assert!(m.ends_with("# EOF\n"));
    let mut families = vec![];
    let mut samples = vec![];
    for line in m.lines().filter(|l| *l != "# EOF") {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!families.contains(&name), "{name} declared twice");
            families.push(name);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, rest) = line.rsplit_once("} ").expect("labels");
        let mut parts = rest.split(' ');
        let v: f64 = parts.next().unwrap().parse().unwrap();
        let ts: f64 = parts.next().unwrap().parse().unwrap();
        assert!(series.starts_with(families.last().unwrap()), "{line}");
        if series == "scalelab_node_queue{scenario=\"black-friday\",node=\"api\"" {
            samples.push((ts, v));
        }
    }
    assert_eq!(samples.len(), queue.len());
    for (i, ((ts, v), q)) in samples.iter().zip(&queue).enumerate() {
        assert_eq!(*v, *q);
        assert_eq!(*ts, 1_700_000_000.0 + (i + 1) as f64 * interval);
    }
    // A folder that cannot be made: exit 1, nothing half-written.
    let out = scalelab(&["run", "scenarios/default.ron", "--csv", "/proc/no/such/dir"]);
    assert_eq!(out.status.code(), Some(1));
}

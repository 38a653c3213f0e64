//! `scalelab compare`: designs on common random numbers, paired differences, verdicts.

use super::{scalelab, scenario_file};
use serde_json::Value;

/// `scalelab compare ARGS --json`, asserting success, parsed.
fn compare_json(args: &[&str]) -> Value {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    all.extend(["--json", "--quiet"]);
    super::json_of(&all)
}

/// The metric named `name`.
fn metric<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// An M/M/c station: Poisson arrivals at `rate`, exponential service of 10 ms on one
/// instance of `c` cores sharing one FIFO queue.
fn mmc(rate: f64, c: u32) -> String {
    format!(
        r#"Scenario(name: "mmc-{c}", duration: "5m", warmup: "30s", seed: 5,
            sources: [Source(name: "in", target: "pool", rate: Constant({rate}))],
            nodes: [Service(name: "pool", instances: 1, cores: {c}, cost_per_hour: 1.0,
                            handlers: {{"*": [Cpu(Exp("10ms"))]}})],
            slos: [P99Latency(under: "100ms")])"#
    )
}

#[test]
fn a_design_against_itself_differs_in_nothing() {
    let (_d, f) = scenario_file(&mmc(300.0, 4));
    let f = f.to_str().unwrap();
    // The same file twice: the same seeds give the same runs, so every difference is
    // exactly 0 and nothing is significant.
    let c = compare_json(&[f, f, "--seeds", "5"]);
    let names: Vec<&str> = c["designs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert_ne!(names[0], names[1], "each design has its own name");
    for m in c["metrics"].as_array().unwrap() {
        let p = &m["pairs"][0];
        assert_eq!(p["verdict"], "no_significant_difference", "{m}");
        assert_eq!(p["diff"], 0.0, "{m}");
    }
    // A variant that sets a field to the value it has is the same design too.
    let c = compare_json(&[f, "--variant", "same:pool.cores=4", "--seeds", "5"]);
    assert!(c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["pairs"][0]["verdict"] == "no_significant_difference"));
}

#[test]
fn a_clearly_better_design_is_better_and_pairing_narrows_the_interval() {
    // M/M/4 at ρ = 0.75 against M/M/5 at ρ = 0.6, λ = 300/s, 10 ms each. Erlang C
    // (../shared/anchors/analytic.py mmc --lam 300 --mu 100 --c 4, then --c 5): waiting
    // probability 0.509 and 0.236; response-time p50 11.56 ms and 8.17 ms, p99 60.06 ms
    // and 48.16 ms (the M/M/c response-time distribution, analytic.py mmc_response_sf,
    // solved for P(T > t) = 0.5 and 0.01).
    let (_d, f) = scenario_file(&mmc(300.0, 4));
    let f = f.to_str().unwrap();
    let c = compare_json(&[f, "--variant", "five:pool.cores=5", "--seeds", "20"]);
    // Each design's figures are the theory's, within their 95% CI (which is narrow).
    for (name, theory) in [
        ("p50_latency", [0.011_563, 0.008_170]),
        ("p99_latency", [0.060_063, 0.048_156]),
    ] {
        for (d, want) in theory.iter().enumerate() {
            let v = &metric(&c, name)["values"][d];
            let (mean, ci) = (v["mean"].as_f64().unwrap(), v["ci95"].as_f64().unwrap());
            assert!(ci < 0.03 * want, "{name} of design {d}: ±{ci} is too wide");
            // The histogram's bins add up to 1% of relative error to the percentile.
            assert!(
                (mean - want).abs() <= ci + 0.01 * want,
                "{name} of design {d}: {mean} ± {ci}, theory {want}"
            );
        }
    }
    for name in [
        "p50_latency",
        "p95_latency",
        "p99_latency",
        "slo: p99_latency ≤ 0.1s",
    ] {
        let p = &metric(&c, name)["pairs"][0];
        assert_eq!(p["verdict"], "better", "{name}: {p}");
        assert!(p["diff"].as_f64().unwrap() < 0.0);
    }
    // A bigger instance at the same price: the same cost, seed by seed.
    let cost = &metric(&c, "cost")["pairs"][0];
    assert_eq!(cost["verdict"], "no_significant_difference");
    assert_eq!(cost["diff"], 0.0);
    // Common random numbers: both designs see the same arrivals and sizes, so the paired
    // interval is narrower than the one independent runs would give on the same data —
    // for throughput (the same arrivals: nearly all the spread cancels; measured ratio
    // 0.005) and the body of the latency distribution (measured 0.6–0.8).
    for name in ["throughput", "p50_latency", "p95_latency"] {
        let p = &metric(&c, name)["pairs"][0];
        let (paired, unpaired) = (
            p["ci95"].as_f64().unwrap(),
            p["unpaired_ci95"].as_f64().unwrap(),
        );
        assert!(
            paired < unpaired,
            "{name}: paired ±{paired} vs unpaired ±{unpaired}"
        );
    }
    let tp = &metric(&c, "throughput")["pairs"][0];
    assert!(
        tp["ci95"].as_f64().unwrap() < 0.2 * tp["unpaired_ci95"].as_f64().unwrap(),
        "{tp}"
    );
}

#[test]
fn a_comparison_is_the_same_on_any_number_of_threads_and_printed_as_a_table() {
    let (_d, f) = scenario_file(&mmc(300.0, 4));
    let f = f.to_str().unwrap();
    let args = |t: &'static str| {
        scalelab(&[
            "compare",
            f,
            "--variant",
            "five:pool.cores=5",
            "--seeds",
            "4",
            "--json",
            "--threads",
            t,
        ])
        .stdout
    };
    assert_eq!(args("1"), args("2"));
    let out = scalelab(&[
        "compare",
        f,
        "--variant",
        "five:pool.cores=5",
        "--seeds",
        "4",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("A = mmc-4"), "{text}");
    assert!(
        text.contains("B = five") && text.contains("with pool.cores=5"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("p99_latency ↓"))
        .unwrap();
    assert!(row.ends_with("B better"), "{row}");
}

#[test]
fn designs_that_cannot_be_compared_are_refused_with_what_differs() {
    let (_d, a) = scenario_file(&mmc(300.0, 4));
    let (_e, b) = scenario_file(&mmc(300.0, 4).replace(
        r#"rate: Constant(300))"#,
        r#"rate: Constant(300), mix: [Class(name: "get", weight: 1.0)])"#,
    ));
    let out = scalelab(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--seeds",
        "2",
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("do not send the same request classes"), "{e}");
    assert!(e.contains("has default") && e.contains("has get"), "{e}");
}

#[test]
fn a_comparison_plots_its_designs_overlaid_without_changing_a_figure() {
    let (dir, f) = scenario_file(&mmc(300.0, 4));
    let f = f.to_str().unwrap();
    let svg = dir.path().join("cmp.svg");
    let args = [
        "compare",
        f,
        "--variant",
        "five:pool.cores=5",
        "--seeds",
        "3",
        "--json",
    ];
    let plain = scalelab(&args).stdout;
    let mut with = args.to_vec();
    with.extend(["--plot", svg.to_str().unwrap()]);
    let out = scalelab(&with);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, plain);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    for t in [
        "2 designs on seed 5",
        "throughput",
        "p99 latency",
        "mmc-4",
        "five",
    ] {
        assert!(text.contains(t), "{t}");
    }
}

//! Lessons that check themselves: `breaks` (SLOs a design is meant to break), declared
//! `variants` (the lesson's other side) run by `check` and opened by `run`, `compare` and
//! `explain` — and the shipped library passing `scalelab check scenarios/`.

use super::{json_of, scalelab, scenario_file};

/// M/M/2 at λ = 150/s, μ = 100/s per core: ρ = 0.75. Erlang C: a = 1.5,
/// C(2, 1.5) = (a²/2!)·2/(2 − a) / (1 + a + (a²/2!)·2/(2 − a)) = 4.5/7 = 0.6429, so
/// W = 1/μ + C/(cμ − λ) = 10 ms + 0.6429/50 s = 22.86 ms. With a third core (the variant):
/// C(3, 1.5) = 1.125/4.75 = 0.2368, W = 10 ms + 0.2368/150 s = 11.58 ms. The SLO (mean
/// under 15 ms) breaks with two cores and holds with three.
const MMC: &str = r#"Scenario(
    name: "mmc-lesson", seed: 3, duration: "20m", warmup: "1m",
    description: "Two cores wait, three do not.",
    lesson: "At 75% busy, two cores queue: the mean latency is more than twice the service time.",
    sources: [Source(name: "users", target: "web", rate: Constant(150), arrivals: Poisson,
                     mix: [Class(name: "get", weight: 1.0)])],
    nodes: [Service(name: "web", cores: 2, handlers: {"*": [Cpu(Exp("10ms"))]})],
    slos: [MeanLatency(under: "15ms")],
    breaks: ["mean_latency"],
    expect: [Between("get.mean_latency", "20.6ms", "25.1ms"), Between("web.utilization", 0.73, 0.77)],
    variants: [
        Variant(
            name: "three-cores",
            description: "A third core: the queue all but goes.",
            set: ["web.cores=3"],
            expect: [Between("get.mean_latency", "10.4ms", "12.7ms"), Between("web.utilization", 0.48, 0.52)],
        ),
    ],
)"#;

#[test]
fn check_runs_a_scenario_and_its_variants_against_erlang_c() {
    let (dir, f) = scenario_file(MMC);
    let junit = dir.path().join("check.xml");
    let out = scalelab(&[
        "check",
        f.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--quiet",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let file = f.display().to_string();
    for line in [
        format!("✔ {file}\n"),
        "✔ slo mean_latency ≤ 0.015s breaks, as meant:".to_string(),
        format!("✔ {file} --variant three-cores\n"),
        "✔ slo mean_latency ≤ 0.015s: ".to_string(),
        "1 scenarios and 1 variants: 2 passed, 0 failed, 0 invalid; 0 of 8 checks failed".into(),
    ] {
        assert!(text.contains(&line), "{line:?} in:\n{text}");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(&format!("classname=\"{file} --variant three-cores\"")));
    // A variant that does not do what it claims fails, with the command that replays it.
    let wrong = MMC.replace(r#"set: ["web.cores=3"]"#, r#"set: ["web.cores=2"]"#);
    let (_d, f2) = scenario_file(&wrong);
    let out = scalelab(&["check", f2.to_str().unwrap(), "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    let f2 = f2.display().to_string();
    assert!(
        text.contains(&format!("✘ {f2} --variant three-cores\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "replay: scalelab run {f2} --variant three-cores --seed 3"
        )),
        "{text}"
    );
    // A design meant to break its SLO that meets it fails too.
    let (_d3, f3) = scenario_file(&MMC.replace("cores: 2,", "cores: 4,"));
    let out = scalelab(&["check", f3.to_str().unwrap(), "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✘ slo mean_latency ≤ 0.015s breaks, as meant"),
        "{text}"
    );
}

#[test]
fn a_variant_runs_as_the_file_edited_by_hand() {
    let (dir, f) = scenario_file(MMC);
    let file = f.to_str().unwrap();
    let edited = dir.path().join("edited.ron");
    std::fs::write(&edited, MMC.replace("cores: 2,", "cores: 3,")).unwrap();
    let short = ["--duration", "3m", "--json"];
    let mut variant = json_of(&[&["run", file, "--variant", "three-cores"][..], &short].concat());
    let mut by_hand = json_of(&[&["run", edited.to_str().unwrap()][..], &short].concat());
    // The same run; only the expectations checked differ (the variant's own).
    let (mine, base) = (variant["expect"].take(), by_hand["expect"].take());
    assert_eq!(variant, by_hand, "the variant is the file edited");
    assert!(
        mine[0]["pass"] == true && base[0]["pass"] == false,
        "{mine} {base}"
    );
    // compare takes a declared variant by name.
    let c = json_of(&[
        "compare",
        file,
        "--variant",
        "three-cores",
        "--seeds",
        "3",
        "--duration",
        "3m",
        "--json",
        "--quiet",
    ]);
    assert_eq!(c["designs"][1]["name"], "three-cores");
    let mean = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "p50_latency")
        .unwrap();
    assert_eq!(mean["pairs"][0]["verdict"], "better", "{mean}");
    // explain shows the lesson and the variants.
    let out = scalelab(&["explain", file]);
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Lesson\n  At 75% busy, two cores queue",
        "This design is meant to break: mean_latency.",
        "three-cores: web.cores=3",
        "A third core: the queue all but goes.",
        "--variant three-cores    both sides",
    ] {
        assert!(text.contains(want), "{want:?} in:\n{text}");
    }
}

#[test]
fn variants_that_do_not_fit_are_refused_with_their_place() {
    let (_d, f) = scenario_file(MMC);
    let file = f.to_str().unwrap();
    let refused = |args: &[&str], want: &[&str]| {
        let out = scalelab(args);
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {e}");
        for w in want {
            assert!(e.contains(w), "{w:?} in:\n{e}");
        }
    };
    refused(
        &["run", file, "--variant", "three-core"],
        &[
            "no variant `three-core` in mmc-lesson",
            "did you mean `three-cores`?",
        ],
    );
    refused(
        &["run", file, "--variant", "x", "--faults", "f.ron"],
        &["--variant and --faults cannot be used together"],
    );
    refused(
        &["tui", "--variant", "three-cores"],
        &["--variant", "<FILE>"],
    );
    refused(
        &["tui", file, "--variant", "three-core"],
        &["no variant `three-core` in mmc-lesson"],
    );
    // An override that does not fit the scenario: validate and check say where.
    let (_d2, bad) = scenario_file(&MMC.replace("web.cores=3", "wbe.cores=3"));
    let bad = bad.to_str().unwrap();
    refused(
        &["validate", bad],
        &[
            "variant `three-cores`: wbe.cores=3: no node named `wbe`",
            "did you mean `web`?",
        ],
    );
    let out = scalelab(&["check", bad, "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("✘ {bad} --variant three-cores: does not load")),
        "{text}"
    );
}
#[test]
fn the_library_checks_itself() {
    let out = scalelab(&["check", "scenarios/", "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("0 failed, 0 invalid; 0 of"), "{text}");
}

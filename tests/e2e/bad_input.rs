//! Bad input never panics: exit code 2 and one message naming the file, line and column,
//! what is wrong, and a hint. Table-driven over `tests/bad/*.ron`: each file states what
//! it expects in header comments (`// expect: <text in stderr>`, `// line: <N>`).

use super::scalelab;

fn check_rejected(args: &[&str]) -> String {
    let out = scalelab(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2; stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed a report for bad input"
    );
    stderr
}

#[test]
fn every_bad_scenario_gets_its_message() {
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| e.unwrap().path())
        // (Traces the bad scenarios replay sit beside them.)
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let p = path.to_str().unwrap();
        for cmd in ["validate", "run"] {
            let stderr = check_rejected(&[cmd, p]);
            for line in text.lines() {
                if let Some(want) = line.strip_prefix("// expect: ") {
                    assert!(
                        stderr.contains(want),
                        "{p}: expected {want:?} in:\n{stderr}"
                    );
                }
                if let Some(n) = line.strip_prefix("// line: ") {
                    let at = format!("{p}:{n}:");
                    assert!(
                        stderr.contains(&at),
                        "{p}: expected location {at} in:\n{stderr}"
                    );
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} bad scenarios found");
}

#[test]
fn empty_file_is_explained() {
    let e = check_rejected(&["validate", "tests/bad/empty.ron"]);
    assert!(e.contains("the file is empty"), "{e}");
    assert!(e.contains("a scenario starts with"), "{e}");
}

#[test]
fn missing_file_and_directory_are_explained() {
    let e = check_rejected(&["run", "no/such/file.ron"]);
    assert!(e.contains("no/such/file.ron: no such file"), "{e}");
    let e = check_rejected(&["validate", "tests"]);
    assert!(
        e.contains("tests: is a directory, not a scenario file"),
        "{e}"
    );
}

#[test]
fn bad_flags_are_explained() {
    let e = check_rejected(&["run", "scenarios/default.ron", "--duration", "15 parsecs"]);
    assert!(e.contains("unknown time unit `parsecs`"), "{e}");
    let e = check_rejected(&["run", "scenarios/default.ron", "--duration", "10s"]);
    assert!(
        e.contains("is not longer than the scenario's warmup"),
        "{e}"
    );
    let e = check_rejected(&["run", "scenarios/default.ron", "--replications", "0"]);
    assert!(e.contains("--replications"), "{e}");
    for threads in ["0", "100000"] {
        let e = check_rejected(&["run", "scenarios/default.ron", "--threads", threads]);
        assert!(e.contains("--threads") && e.contains("1..=1024"), "{e}");
    }
    // Every bound the file was checked against holds again after the flags apply.
    let e = check_rejected(&["run", "scenarios/default.ron", "--duration", "1000h"]);
    assert!(e.contains("more than 1000000 time-series samples"), "{e}");
    let (_d, many) = super::scenario_file(&format!(
        r#"Scenario(name: "s", duration: "1000s", sample_every: "1ms",
            sources: [Source(name: "in", target: "n0", rate: Constant(1))],
            nodes: [{}])"#,
        (0..20)
            .map(|i| format!(r#"Service(name: "n{i}", handlers: {{"*": [Cpu(Exp("1ms"))]}})"#))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let e = check_rejected(&["run", many.to_str().unwrap(), "--series"]);
    assert!(
        e.contains("--series would keep 20000000 points (20 nodes × 1000000 samples)"),
        "{e}"
    );
    for epoch in [
        "--metrics-epoch=nan",
        "--metrics-epoch=-5",
        "--metrics-epoch=inf",
    ] {
        let e = check_rejected(&["run", "scenarios/default.ron", epoch]);
        assert!(e.contains("is not a Unix time in seconds"), "{e}");
    }
    let e = check_rejected(&["run", "scenarios/default.ron", "--duration", "1000000h"]);
    assert!(e.contains("requests, more than 1e11"), "{e}");
    let e = check_rejected(&["run", "--trace-out", "t.json", "--trace-every", "0"]);
    assert!(
        e.contains("--trace-every") && e.contains("0 is not in 1.."),
        "{e}"
    );
    let e = check_rejected(&["run", "--trace-every", "10"]);
    assert!(e.contains("--trace-out"), "{e}");
    // A trace that cannot be written: the exit code says so, and nothing is left.
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("no/such/folder/t.json");
    let out = scalelab(&[
        "run",
        "--duration",
        "1m",
        "--trace-out",
        to.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "refused before running");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("cannot write") && e.contains("t.json"), "{e}");
    assert!(!to.exists());
}

#[test]
fn generated_hostile_files_get_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let ok = r#"Scenario(name: "x", duration: "1m",
        sources: [Source(name: "in", target: "s", rate: Constant(1))],
        nodes: [Service(name: "s", handlers: {"*": [Cpu(Exp("1ms"))]})])"#;
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    // An error 70 000 columns into one line: located, no snippet, no panic.
    let long = ok.replace('\n', " ").replace(
        "duration: \"1m\",",
        &format!("duration: \"1m\",{}", " ".repeat(70_000)),
    );
    let long = long.replace("target: \"s\"", "target: \"zz\"");
    let e = check_rejected(&["validate", &write("long.ron", long.as_bytes())]);
    assert!(
        e.contains("long.ron:1:") && e.contains("unknown node `zz`"),
        "{e}"
    );
    // Not UTF-8: where.
    let mut bad = ok.as_bytes().to_vec();
    bad.insert(40, 0xFF);
    let e = check_rejected(&["validate", &write("latin.ron", &bad)]);
    assert!(e.contains("is not UTF-8 text: byte 40 (line 2)"), "{e}");
    // Larger than the bound, and a device that never ends.
    let big = vec![b' '; (16 << 20) + 1];
    let e = check_rejected(&["validate", &write("big.ron", &big)]);
    assert!(e.contains("is larger than 16 MiB"), "{e}");
    let e = check_rejected(&["validate", "/dev/zero"]);
    assert!(e.contains("is larger than 16 MiB"), "{e}");
    // A byte-order mark is accepted.
    let bom = [&[0xEF, 0xBB, 0xBF][..], ok.as_bytes()].concat();
    let out = scalelab(&["validate", &write("bom.ron", &bom)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn too_many_nodes_or_classes_are_refused_with_the_bound() {
    let classes: Vec<String> = (0..1001)
        .map(|i| format!(r#"Class(name: "c{i}", weight: 1)"#))
        .collect();
    let (_d, f) = super::scenario_file(&format!(
        r#"Scenario(name: "s", duration: "1s",
            sources: [Source(name: "in", target: "n", rate: Constant(1), mix: [{}])],
            nodes: [Service(name: "n", handlers: {{"*": [Cpu(Exp("1ms"))]}})])"#,
        classes.join(", ")
    ));
    let e = check_rejected(&["validate", f.to_str().unwrap()]);
    assert!(e.contains("more than 1000 request classes"), "{e}");
    let nodes: Vec<String> = (0..1001)
        .map(|i| format!(r#"Service(name: "n{i}", handlers: {{"*": [Cpu(Exp("1ms"))]}})"#))
        .collect();
    let (_e, f) = super::scenario_file(&format!(
        r#"Scenario(name: "s", duration: "1s",
            sources: [Source(name: "in", target: "n0", rate: Constant(1))],
            nodes: [{}])"#,
        nodes.join(", ")
    ));
    let e = check_rejected(&["validate", f.to_str().unwrap()]);
    assert!(e.contains("1001 nodes, more than the limit of 1000"), "{e}");
}

#[test]
fn the_terminal_ui_refuses_bad_input_and_a_missing_terminal_clearly() {
    // A bad scenario: the same located error as `run`.
    let e = check_rejected(&["tui", "tests/bad/autoscale_min_above_max.ron"]);
    assert!(e.contains("tests/bad/autoscale_min_above_max.ron:"), "{e}");
    // No terminal (the tests pipe stdin and stdout): a clear refusal, not a garbled screen.
    let e = check_rejected(&["tui"]);
    assert!(e.contains("`scalelab tui` needs a terminal"), "{e}");
    // Opening paused after the end of the run, or at no time at all.
    let e = check_rejected(&["tui", "scenarios/default.ron", "--at", "1h"]);
    assert!(
        e.contains("--at 1:00:00 is after the end of the run (06:00)"),
        "{e}"
    );
    let e = check_rejected(&["tui", "scenarios/default.ron", "--at", "soon"]);
    assert!(e.contains("--at"), "{e}");
}

#[test]
fn compare_refuses_bad_designs_and_overrides_with_their_place() {
    let d = "scenarios/default.ron";
    let e = check_rejected(&["compare", d, "--seeds", "1"]);
    assert!(e.contains("--seeds") && e.contains("2..=100000"), "{e}");
    let e = check_rejected(&["compare", d]);
    assert!(e.contains("at least two designs"), "{e}");
    let e = check_rejected(&["compare", d, "--variant", "nocolon"]);
    assert!(
        e.contains("declares no such variant") && e.contains("NAME:PATH=VALUE"),
        "{e}"
    );
    let e = check_rejected(&["compare", d, "--variant", "=8"]);
    assert!(e.contains("has no name"), "{e}");
    let e = check_rejected(&["compare", d, "--variant", "big:web.instances"]);
    assert!(e.contains("is not PATH=VALUE"), "{e}");
    let e = check_rejected(&[
        "compare",
        d,
        "--variant",
        "a:web.cores=2",
        "--variant",
        "a:web.cores=3",
    ]);
    assert!(e.contains("two designs are named `a`"), "{e}");
    // An unknown node: a suggestion.
    let e = check_rejected(&["compare", d, "--variant", "big:wbe.instances=3"]);
    assert!(
        e.contains("no node named `wbe`") && e.contains("did you mean `web`?"),
        "{e}"
    );
    // An unknown field or a value of the wrong type: the same located error as in the
    // file, naming the override.
    let e = check_rejected(&["compare", d, "--variant", "big:web.instancs=3"]);
    assert!(
        e.contains("unknown field `instancs` in `Service` (with --set web.instancs=3)")
            && e.contains("did you mean `instances`?")
            && e.contains("scenarios/default.ron:"),
        "{e}"
    );
    let e = check_rejected(&["compare", d, "--variant", "big:web.instances=abc"]);
    assert!(
        e.contains("scenarios/default.ron:34:") && e.contains("(with --set web.instances=abc)"),
        "{e}"
    );
    let e = check_rejected(&["compare", d, "--variant", "big:web.autoscale.max=3"]);
    assert!(e.contains("`web` has no `autoscale` written"), "{e}");
    // A value the validator refuses.
    let e = check_rejected(&["compare", d, "--variant", "none:web.instances=0"]);
    assert!(e.contains("(with --set web.instances=0)"), "{e}");
}

#[test]
fn sweep_refuses_bad_axes_before_running_anything() {
    let d = "scenarios/default.ron";
    let e = check_rejected(&["sweep", d, "--set", "wbe.instances=2..4"]);
    assert!(
        e.contains("no node named `wbe`") && e.contains("did you mean `web`?"),
        "{e}"
    );
    let e = check_rejected(&["sweep", d, "--set", "web.instances=5..2"]);
    assert!(e.contains("the range `5..2` is empty"), "{e}");
    let e = check_rejected(&["sweep", d, "--set", "web.instances=1..4:0"]);
    assert!(e.contains("the step must be above 0"), "{e}");
    let e = check_rejected(&["sweep", d, "--set", "web.instances=1..x"]);
    assert!(e.contains("end `x` is not a number"), "{e}");
    let e = check_rejected(&["sweep", d, "--set", "web.instances=2,,3"]);
    assert!(e.contains("an empty value"), "{e}");
    let e = check_rejected(&[
        "sweep",
        d,
        "--set",
        "web.instances=2",
        "--set",
        "web.instances=3",
    ]);
    assert!(e.contains("`web.instances` is swept twice"), "{e}");
    let e = check_rejected(&["sweep", d, "--set", "web.instances=2", "--plot", "x.svg"]);
    assert!(e.contains("--plot: no axis has two values or more"), "{e}");
    let e = check_rejected(&["sweep", d, "--set", "web.instances=2", "--minimize", "fun"]);
    assert!(
        e.contains("--minimize fun") && e.contains("one of cost"),
        "{e}"
    );
    let e = check_rejected(&[
        "sweep",
        d,
        "--set",
        "web.instances=2",
        "--duration",
        "5 parsecs",
    ]);
    assert!(e.contains("--duration 5 parsecs"), "{e}");
    // A value the validator refuses, at any place in the grid: the file's located error,
    // naming the point's overrides; nothing ran.
    let e = check_rejected(&[
        "sweep",
        d,
        "--set",
        "web.cores=2,4",
        "--set",
        "web.instances=3,0",
    ]);
    assert!(
        e.contains("scenarios/default.ron:") && e.contains("web.instances=0)"),
        "{e}"
    );
    let e = check_rejected(&[
        "sweep",
        d,
        "--set",
        "web.instances=1..10000",
        "--set",
        "web.cores=1..10000",
    ]);
    assert!(
        e.contains("the grid has 100000000 points, more than 10000000"),
        "{e}"
    );
}

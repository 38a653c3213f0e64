//! `scalelab list` and `scalelab explain`: the library by topic, and a scenario explained
//! before it runs.

use super::scalelab;

#[test]
fn the_library_is_listed_by_topic_and_a_broken_file_is_named() {
    let out = scalelab(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // Topics in order, each scenario under its own, with its first sentence.
    let caching = text.find("\ncaching\n").expect("a caching topic");
    let databases = text.find("\ndatabases\n").expect("a databases topic");
    assert!(caching < databases, "{text}");
    let stampede = text.find("  cache-stampede").unwrap();
    assert!(caching < stampede && stampede < databases, "{text}");
    assert!(text.contains("miss coalescing sends one."), "{text}");
    let n = std::fs::read_dir("scenarios")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "ron")
        })
        .count();
    assert!(
        text.contains(&format!("{n} scenarios in scenarios")),
        "{text}"
    );
    // Every shipped scenario has a topic.
    assert!(!text.contains("(no topic)"), "{text}");
    // A folder with a scenario without topic and one that does not load.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("scenarios/default.ron", dir.path().join("a.ron")).unwrap();
    let a = std::fs::read_to_string(dir.path().join("a.ron")).unwrap();
    std::fs::write(
        dir.path().join("a.ron"),
        a.replace("    topic: \"when to scale\",\n", ""),
    )
    .unwrap();
    std::fs::write(dir.path().join("b.ron"), "Scenario(name: 1)").unwrap();
    let out = scalelab(&["list", dir.path().to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "default");
    assert_eq!(v[0]["topic"], "");
    assert!(v[1]["error"].as_str().unwrap().contains("b.ron:1:"), "{v}");
    let out = scalelab(&["list", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("(no topic)\n  default ") && text.contains("✘ "),
        "{text}"
    );
    let out = scalelab(&["list", "no-such-folder"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_predicts_before_running() {
    let out = scalelab(&["explain", "scenarios/default.ron"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("default — when to scale\n"), "{text}");
    assert!(
        text.contains("A small web backend behind a load balancer"),
        "{text}"
    );
    assert!(
        text.contains("web (service, 4 × 2 cores) -> catalog-db, orders-db"),
        "{text}"
    );
    // The capacity prediction: at the 1 000/s peak the web tier's 8 workers need
    // 1 000 × 8.88 ms = 8.88 of them: ρ = 1.11.
    assert!(
        text.contains("Predicted bottleneck: web (ρ = 1.11 at peak)"),
        "{text}"
    );
    assert!(
        text.contains("scalelab tui scenarios/default.ron"),
        "{text}"
    );
    // The lesson, and its other side.
    assert!(text.contains("\nLesson\n  Traffic triples"), "{text}");
    assert!(text.contains("six-instances: web.instances=6"), "{text}");
    // Expectations are listed.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.ron");
    let src = std::fs::read_to_string("scenarios/default.ron").unwrap();
    let src = src.replace(
        r#"expect: [Over("error_rate", 0.01), Over("web.utilization", 0.6)],"#,
        r#"expect: [Under("web.utilization", 0.9)],"#,
    );
    std::fs::write(&f, src).unwrap();
    let text = String::from_utf8(scalelab(&["explain", f.to_str().unwrap()]).stdout).unwrap();
    assert!(
        text.contains("Expectations (checked by scalelab check)\n  web.utilization ≤ 0.9"),
        "{text}"
    );
    // A bad file: the located error.
    let out = scalelab(&["explain", "tests/bad/expect_bad_bound.ron"]);
    assert_eq!(out.status.code(), Some(2));
}

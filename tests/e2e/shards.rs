//! Shards of `compare` and `chaos` (`--shard K/N --jsonl FILE`) and their `merge`: the
//! merged result is byte for byte what one run prints and writes. (A sweep's shards are
//! in `sweep.rs`.)

use super::scalelab;

fn ok(args: &[&str]) -> Vec<u8> {
    let out = scalelab(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `scalelab ARGS` must be refused (exit 2) with a message containing `want`.
fn refused(args: &[&str], want: &str) {
    let out = scalelab(args);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {e}");
    assert!(e.contains(want), "{args:?}: {e}");
    assert!(!e.contains("panicked"), "{e}");
}

const COMPARE: [&str; 8] = [
    "compare",
    "scenarios/default.ron",
    "--variant",
    "big-web:web.instances=6",
    "--seeds",
    "5",
    "--duration",
    "90s",
];

#[test]
fn compare_shards_merge_into_the_comparison_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let one = |extra: &[&str]| ok(&[&COMPARE[..], &["--quiet"], extra].concat());
    let whole_json = one(&["--json"]);
    let whole_human = one(&[]);
    // 3 shards of the 10 runs (4, 3, 3), each on its own thread count.
    let shards: Vec<String> = (1..=3).map(|k| p(&format!("c{k}.jsonl"))).collect();
    for (k, s) in shards.iter().enumerate() {
        let spec = format!("{}/3", k + 1);
        let threads = if k == 0 { "1" } else { "2" };
        ok(&[
            &COMPARE[..],
            &[
                "--quiet",
                "--shard",
                &spec,
                "--jsonl",
                s,
                "--threads",
                threads,
            ],
        ]
        .concat());
        let lines = std::fs::read_to_string(s).unwrap().lines().count();
        assert_eq!(
            lines,
            1 + if k == 0 { 4 } else { 3 },
            "the plan, then its runs"
        );
    }
    // In any order, a shard given twice is harmless.
    let merged = ok(&[
        "merge", &shards[2], &shards[0], &shards[1], &shards[0], "--json",
    ]);
    assert_eq!(
        merged, whole_json,
        "merged JSON is the single run's, byte for byte"
    );
    let merged = ok(&["merge", &shards[1], &shards[2], &shards[0]]);
    assert_eq!(merged, whole_human);
    let out = p("merged.json");
    ok(&[
        "merge", &shards[0], &shards[1], &shards[2], "--json", "--out", &out,
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), whole_json);
    // A missing shard is named; another comparison's shard is refused.
    refused(
        &["merge", &shards[0], &shards[2]],
        "3 of 10 runs are missing: 1, 4, 7",
    );
    let other = p("other.jsonl");
    let mut args = COMPARE.to_vec();
    args[5] = "4";
    ok(&[&args[..], &["--quiet", "--shard", "2/3", "--jsonl", &other]].concat());
    refused(&["merge", &shards[0], &other], "another comparison than");
    refused(
        &[
            "merge",
            &shards[0],
            &shards[1],
            &shards[2],
            "--minimize",
            "cost",
        ],
        "--minimize picks a sweep's best point",
    );
}

#[test]
fn chaos_shards_merge_into_the_search_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sub = |n: &str| {
        let d = dir.path().join(n);
        std::fs::create_dir(&d).unwrap();
        d.display().to_string()
    };
    let (one, merged_dir) = (sub("one"), sub("merged"));
    let search = [
        "chaos",
        "scenarios/chaos-search.ron",
        "--trials",
        "9",
        "--quiet",
    ];
    let whole = ok(&[&search[..], &["--out-dir", &one]].concat());
    let shards: Vec<String> = (1..=2)
        .map(|k| dir.path().join(format!("s{k}.jsonl")).display().to_string())
        .collect();
    for (k, s) in shards.iter().enumerate() {
        let spec = format!("{}/2", k + 1);
        ok(&[&search[..], &["--shard", &spec, "--jsonl", s]].concat());
    }
    let merged = ok(&["merge", &shards[1], &shards[0], "--out-dir", &merged_dir]);
    let text = |b: Vec<u8>, d: &str| String::from_utf8(b).unwrap().replace(d, "OUT");
    assert_eq!(text(merged, &merged_dir), text(whole.clone(), &one));
    assert!(String::from_utf8_lossy(&whole).contains("Shrunk trial"));
    // The same schedule files, byte for byte.
    let mut names: Vec<String> = std::fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "worst-1-min.ron",
            "worst-1.ron",
            "worst-2.ron",
            "worst-3.ron"
        ]
    );
    for n in &names {
        let read = |d: &str| std::fs::read(std::path::Path::new(d).join(n)).unwrap();
        assert_eq!(read(&one), read(&merged_dir), "{n}");
    }
    // A missing shard is named; a shard of another kind of batch is refused.
    refused(
        &["merge", &shards[0]],
        "4 of 9 trials are missing: 1, 3, 5, 7",
    );
    let compare = dir.path().join("c.jsonl").display().to_string();
    ok(&[
        &COMPARE[..],
        &["--quiet", "--shard", "1/9", "--jsonl", &compare],
    ]
    .concat());
    refused(
        &["merge", &shards[0], &compare],
        "not a chaos search's plan",
    );
}

#[test]
fn a_chaos_merge_refuses_a_scenario_changed_since_the_shards_ran() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("search.ron");
    let text = std::fs::read_to_string("scenarios/chaos-search.ron").unwrap();
    std::fs::write(&file, &text).unwrap();
    let f = file.to_str().unwrap();
    let shard = dir.path().join("s.jsonl").display().to_string();
    ok(&[
        "chaos", f, "--trials", "2", "--quiet", "--shard", "1/1", "--jsonl", &shard,
    ]);
    std::fs::write(&file, text.replacen("seed: 5", "seed: 6", 1)).unwrap();
    let d = dir.path().display().to_string();
    refused(
        &["merge", &shard, "--out-dir", &d, "--no-shrink"],
        "has changed since the shards ran",
    );
}

#[test]
fn shard_flags_are_checked() {
    let c = &COMPARE[..];
    refused(
        &[c, &["--shard", "3/2", "--jsonl", "x.jsonl"]].concat(),
        "--shard 3/2",
    );
    refused(
        &[c, &["--shard", "1/2"]].concat(),
        "--shard and --jsonl go together",
    );
    refused(
        &[c, &["--jsonl", "x.jsonl"]].concat(),
        "--shard and --jsonl go together",
    );
    refused(
        &[
            c,
            &["--shard", "1/2", "--jsonl", "x.jsonl", "--plot", "x.svg"],
        ]
        .concat(),
        "a shard writes only its --jsonl file",
    );
    let chaos = ["chaos", "scenarios/chaos-search.ron", "--trials", "4"];
    refused(
        &[&chaos[..], &["--shard", "0/2", "--jsonl", "x.jsonl"]].concat(),
        "--shard 0/2",
    );
    refused(
        &[&chaos[..], &["--shard", "1/2"]].concat(),
        "--shard and --jsonl go together",
    );
}

//! Every command in README.md's shell blocks runs and succeeds, so the docs cannot drift.

use super::scalelab;

#[test]
fn every_readme_command_runs() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("chaos-out")).unwrap();
    let mut in_sh = false;
    let mut ran = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let cmd = line.split(" #").next().unwrap().trim();
        let args: Vec<String> = if let Some(rest) = cmd.strip_prefix("cargo run --release -- ") {
            rest.split_whitespace().map(String::from).collect()
        } else if let Some(rest) = cmd.strip_prefix("scalelab") {
            rest.split_whitespace().map(String::from).collect()
        } else {
            // `cargo run --release` and `cargo test --workspace` are what CI itself runs.
            assert!(
                cmd.starts_with("cargo "),
                "unexpected README command: {cmd}"
            );
            continue;
        };
        // Keep the work tree clean: outputs go to a temporary directory.
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.ends_with(".json") || a.starts_with("chaos-out") {
                    dir.path().join(a).display().to_string()
                } else {
                    a.clone()
                }
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = scalelab(&refs);
        assert!(
            out.status.success(),
            "README command `{cmd}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} README commands found");
}

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
        let cmd = line
            .split("   #")
            .next()
            .unwrap()
            .split(" # ")
            .next()
            .unwrap()
            .trim();
        let args: Vec<String> = if let Some(rest) = cmd.strip_prefix("cargo run --release -- ") {
            words(rest)
        } else if let Some(rest) = cmd.strip_prefix("scalelab") {
            words(rest)
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
                let output = [".json", ".xml", ".csv", ".jsonl", ".svg", ".om", "/"]
                    .iter()
                    .any(|x| a.ends_with(x));
                if output || a.starts_with("chaos-out") {
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

/// Split a command line into words as a POSIX shell does for plain words and quotes
/// ('...' literally, "..." with \" and \\ escapes).
pub fn words(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut any) = (vec![], String::new(), false);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                any = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                any = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        c => cur.push(c),
                    }
                }
            }
            c if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                any = true;
                cur.push(c);
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[test]
fn readme_commands_are_split_like_a_shell_would() {
    assert_eq!(
        words(r#" sweep f --set 'slos=[P(under: "1ms")]' --x "a b" c"#),
        [
            "sweep",
            "f",
            "--set",
            r#"slos=[P(under: "1ms")]"#,
            "--x",
            "a b",
            "c"
        ]
    );
}

//! docs/guide.md: every command in its shell blocks runs, and each output block under a
//! command appears, line for line, in what that command prints — a student following the
//! guide sees what it shows.

use super::readme::words;
use super::scalelab;

#[test]
fn every_guide_command_runs_and_prints_what_the_guide_shows() {
    let guide = std::fs::read_to_string("docs/guide.md").unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Fenced blocks in order: (language, lines).
    let mut blocks: Vec<(String, Vec<String>)> = vec![];
    let mut open: Option<(String, Vec<String>)> = None;
    for line in guide.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            match open.take() {
                Some(b) => blocks.push(b),
                None => open = Some((lang.to_string(), vec![])),
            }
            continue;
        }
        if let Some(b) = open.as_mut() {
            b.1.push(line.to_string());
        }
    }
    assert!(open.is_none(), "an unclosed block in docs/guide.md");
    let (mut ran, mut shown) = (0, 0);
    let mut last: Option<(String, String)> = None; // (command, what it printed)
    for (lang, lines) in &blocks {
        match lang.as_str() {
            "sh" => {
                for cmd in lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
                    let rest = cmd
                        .strip_prefix("scalelab ")
                        .unwrap_or_else(|| panic!("a guide command is a scalelab command: {cmd}"));
                    let args: Vec<String> = words(rest)
                        .into_iter()
                        .map(|a| {
                            let output = [".json", ".xml", ".csv", ".jsonl", ".svg"]
                                .iter()
                                .any(|x| a.ends_with(x));
                            if output {
                                dir.path().join(&a).display().to_string()
                            } else {
                                a
                            }
                        })
                        .collect();
                    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                    let out = scalelab(&refs);
                    let printed = format!(
                        "{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    assert!(out.status.success(), "`{cmd}` failed:\n{printed}");
                    last = Some((cmd.to_string(), printed));
                    ran += 1;
                }
            }
            "text" => {
                let (cmd, printed) = last
                    .take()
                    .expect("an output block follows the command that prints it");
                for want in lines
                    .iter()
                    .filter(|l| !l.trim().is_empty() && l.trim() != "…")
                {
                    assert!(
                        printed.lines().any(|l| l.trim_end() == want.trim_end()),
                        "`{cmd}` does not print the guide's line\n  {want}\nit printed:\n{printed}"
                    );
                    shown += 1;
                }
            }
            _ => last = None,
        }
    }
    assert!(
        ran >= 6 && shown >= 15,
        "only {ran} commands and {shown} lines checked"
    );
}

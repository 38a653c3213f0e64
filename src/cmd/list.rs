//! `scalelab list [DIR]`: the scenarios of a folder by topic, each with its name and the
//! first sentence of its description.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `scalelab list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Folder of scenario files (default: scenarios).
    #[arg(default_value = "scenarios")]
    pub dir: PathBuf,
    /// Print the list as JSON (name, topic, file, description; or the error).
    #[arg(long)]
    pub json: bool,
}

/// The first sentence of `text` (up to `. `), on one line.
pub fn first_sentence(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match t.find(". ") {
        Some(i) => t[..=i].to_string(),
        None => t,
    }
}

struct Entry {
    file: String,
    name: String,
    topic: String,
    about: String,
    error: Option<String>,
}

fn entries(dir: &Path) -> Result<Vec<Entry>, String> {
    let files = super::ron_files(dir)?;
    Ok(files
        .iter()
        .map(|f| {
            let file = f.display().to_string();
            match models::load(f) {
                Ok(sc) => Entry {
                    file,
                    name: sc.name.clone(),
                    topic: sc.topic.clone(),
                    about: first_sentence(&sc.description),
                    error: None,
                },
                Err(e) => Entry {
                    file,
                    name: String::new(),
                    topic: String::new(),
                    about: String::new(),
                    error: Some(e.to_string().lines().next().unwrap_or_default().to_string()),
                },
            }
        })
        .collect())
}

/// Run the command.
pub fn run(args: ListArgs) -> ExitCode {
    let list = match entries(&args.dir) {
        Ok(l) => l,
        Err(m) => {
            eprintln!("error: {m}");
            eprintln!("  help: scalelab list DIR, a folder of .ron scenario files");
            return ExitCode::from(super::EXIT_BAD_INPUT);
        }
    };
    let text = if args.json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|e| match &e.error {
                None => serde_json::json!({"name": e.name, "topic": e.topic, "file": e.file, "description": e.about}),
                Some(m) => serde_json::json!({"file": e.file, "error": m}),
            })
            .collect();
        serde_json::to_string_pretty(&v).expect("serialises") + "\n"
    } else {
        let mut topics: Vec<&str> = list
            .iter()
            .filter(|e| e.error.is_none())
            .map(|e| e.topic.as_str())
            .collect();
        topics.sort_by_key(|t| (t.is_empty(), *t));
        topics.dedup();
        let width = list
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut o = String::new();
        for t in topics {
            o += &format!("{}\n", if t.is_empty() { "(no topic)" } else { t });
            for e in list.iter().filter(|e| e.error.is_none() && e.topic == t) {
                o += &format!("  {:<width$}  {}\n", e.name, e.about);
            }
            o.push('\n');
        }
        for e in list.iter().filter(|e| e.error.is_some()) {
            o += &format!(
                "✘ {}: does not load: {}\n",
                e.file,
                e.error.as_deref().unwrap_or("")
            );
        }
        o += &format!(
            "{} scenarios in {}; scalelab explain FILE for one, scalelab tui to pick and watch one\n",
            list.len(),
            args.dir.display()
        );
        o
    };
    if let Err(e) = super::Output::Stdout.write(text.as_bytes()) {
        eprintln!("error: cannot write to stdout: {e}");
        return ExitCode::from(super::EXIT_WRITE);
    }
    ExitCode::SUCCESS
}

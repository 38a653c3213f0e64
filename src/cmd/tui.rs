//! `scalelab tui [FILE]`: the terminal UI on a scenario. Without FILE: a picker over the
//! built-in default and the `scenarios/` folder's files where there is one, the built-in
//! default alone otherwise.

use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `scalelab tui`.
#[derive(Args, Debug, Default)]
pub struct TuiArgs {
    /// Scenario file (.ron). Without one: a picker over the built-in default and
    /// ./scenarios/*.ron (the built-in default alone where there is no such folder).
    pub file: Option<PathBuf>,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Open paused at this simulated time (run there as fast as it goes), e.g. "2m10s".
    #[arg(long, value_parser = super::run::parse_duration_arg)]
    pub at: Option<sim_core::SimTime>,
    /// Open the scenario's declared variant NAME.
    #[arg(long, value_name = "NAME", requires = "file")]
    pub variant: Option<String>,
}

/// The scenarios to offer without a FILE: the built-in default, then `scenarios/*.ron`
/// in the working directory, sorted (a copy of the built-in default left out), each
/// followed by its declared variants, each loaded or with the error that loading it gave.
pub fn library(dir: &Path) -> Vec<tui::pick::Choice> {
    let default = super::load(None).expect("the built-in default scenario loads");
    let mut out = vec![tui::pick::Choice {
        path: "built-in default".into(),
        variant: None,
        scenario: Ok(Arc::new(default)),
    }];
    // No such folder: the built-in default alone.
    let files = super::ron_files(dir).unwrap_or_default();
    for f in files {
        if std::fs::read_to_string(&f).is_ok_and(|t| t == super::DEFAULT_SCENARIO) {
            continue;
        }
        let base = models::load(&f).map(Arc::new).map_err(|e| e.to_string());
        let variants: Vec<(String, String)> = match &base {
            Ok(sc) => sc
                .variants
                .iter()
                .map(|v| (v.name.clone(), v.description.clone()))
                .collect(),
            Err(_) => vec![],
        };
        out.push(tui::pick::Choice {
            path: f.display().to_string(),
            variant: None,
            scenario: base,
        });
        for v in variants {
            out.push(tui::pick::Choice {
                path: format!("{} --variant {}", f.display(), v.0),
                scenario: models::load_variant(&f, &v.0)
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
                variant: Some(v),
            });
        }
    }
    out
}

/// Open the UI.
pub fn run(args: TuiArgs) -> ExitCode {
    let choices = match &args.file {
        Some(f) => match super::load_design(Some(f), args.variant.as_deref()) {
            Ok(sc) => vec![tui::pick::Choice {
                variant: args.variant.clone().map(|v| {
                    let d = sc.variants.iter().find(|x| x.name == v);
                    (v, d.map(|x| x.description.clone()).unwrap_or_default())
                }),
                path: match &args.variant {
                    Some(v) => format!("{} --variant {v}", f.display()),
                    None => f.display().to_string(),
                },
                scenario: Ok(Arc::new(sc)),
            }],
            Err(e) => return super::report_error(&e),
        },
        None => library(Path::new("scenarios")),
    };
    if let (Some(at), Some(Ok(sc))) = (args.at, choices.first().map(|c| &c.scenario)) {
        if at > sc.duration {
            eprintln!(
                "error: --at {} is after the end of the run ({})",
                tui::view::clock(at.as_secs_f64()),
                tui::view::clock(sc.duration.as_secs_f64())
            );
            eprintln!("  help: give a time within the scenario's duration");
            return ExitCode::from(2);
        }
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "error: `scalelab tui` needs a terminal (stdin and stdout are not one)\n  help: run it in a terminal, or use `scalelab run` for a report"
        );
        return ExitCode::from(2);
    }
    match tui::run(choices, args.seed, args.at) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the terminal UI failed: {e}");
            ExitCode::from(1)
        }
    }
}

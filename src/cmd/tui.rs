//! `scalelab tui [FILE]`: the terminal UI on a scenario (the built-in default without
//! FILE).

use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `scalelab tui`.
#[derive(Args, Debug, Default)]
pub struct TuiArgs {
    /// Scenario file (.ron); the built-in default without one.
    pub file: Option<PathBuf>,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Open the UI.
pub fn run(args: TuiArgs) -> ExitCode {
    let sc = match super::load(args.file.as_deref()) {
        Ok(sc) => sc,
        Err(e) => return super::report_error(&e),
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "error: `scalelab tui` needs a terminal (stdin and stdout are not one)\n  help: run it in a terminal, or use `scalelab run` for a report"
        );
        return ExitCode::from(2);
    }
    let seed = args.seed.unwrap_or(sc.seed);
    match tui::run(std::sync::Arc::new(sc), seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the terminal UI failed: {e}");
            ExitCode::from(1)
        }
    }
}

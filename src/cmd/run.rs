//! `scalelab run`: simulate a scenario and print its report.

use super::{load, report_error, Output, EXIT_BAD_INPUT, EXIT_LIMIT, EXIT_SLO, EXIT_WRITE};
use models::report::RunOutcome;
use models::RunOptions;
use sim_core::{parse_duration, SimTime};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `scalelab run`.
#[derive(clap::Args, Default)]
pub struct RunArgs {
    /// Scenario file (.ron). Default: the built-in default scenario.
    pub file: Option<PathBuf>,
    /// Base seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Independent replications; figures become means with 95% confidence intervals.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub replications: u32,
    /// Simulated duration (overrides the scenario's), e.g. "30m", "2h".
    #[arg(long, value_parser = parse_duration_arg)]
    pub duration: Option<SimTime>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the report to this file instead of stdout (whole or not at all).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Threads for replications (default: all cores; 1 to 1024). Never changes the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Include wall-clock time in the report (makes JSON differ from run to run).
    #[arg(long)]
    pub wall_time: bool,
    /// Include per-node time series (queue, utilisation, instances, throughput every
    /// `sample_every`) in the JSON report.
    #[arg(long)]
    pub series: bool,
    /// Exit with code 4 when any of the scenario's SLOs fails.
    #[arg(long)]
    pub fail_on_slo: bool,
    /// Add the faults of this file (a RON list like `faults: [...]`, e.g. a schedule
    /// written by `scalelab chaos`) after the scenario's own.
    #[arg(long)]
    pub faults: Option<PathBuf>,
}

pub fn parse_duration_arg(s: &str) -> Result<SimTime, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Run the command.
pub fn run(args: RunArgs) -> ExitCode {
    let loaded = match (&args.faults, args.file.as_deref()) {
        (Some(faults), Some(file)) => models::chaos::load_with_faults(file, faults),
        (Some(_), None) => {
            eprintln!("error: --faults needs a scenario file");
            eprintln!("  help: scalelab run FILE --faults schedule.ron");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        (None, file) => load(file),
    };
    let mut sc = match loaded {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    if let Some(d) = args.duration {
        if let Err(m) = sc.set_duration(d) {
            eprintln!("error: {m}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    if args.series {
        if let Err(m) = sc.check_series() {
            eprintln!("error: {m}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    let target = |p: Option<&PathBuf>| p.map_or("stdout".into(), |p| p.display().to_string());
    let out = match Output::open(args.out.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "error: cannot write the report to {}: {e}",
                target(args.out.as_ref())
            );
            return ExitCode::from(EXIT_WRITE);
        }
    };
    let opts = RunOptions {
        seed: args.seed,
        replications: args.replications,
        threads: args.threads.map(usize::from),
        series: args.series,
    };
    let started = std::time::Instant::now();
    let reps = models::replicate(&Arc::new(sc), &opts);
    let (mut report, ci) = (reps.mean, reps.ci);
    if args.wall_time || !args.json {
        report.wall_seconds = Some(started.elapsed().as_secs_f64());
    }
    let text = if args.json {
        report.to_json(ci.as_ref())
    } else {
        report.to_human(ci.as_ref())
    };
    if let Err(e) = out.write(text.as_bytes()) {
        eprintln!(
            "error: cannot write the report to {}: {e}",
            target(args.out.as_ref())
        );
        return ExitCode::from(EXIT_WRITE);
    }
    // The human report on stdout already lists warnings; repeat them on stderr only when
    // stdout carries JSON or the report went to a file.
    if args.json || args.out.is_some() {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    let failed: Vec<&str> = report
        .slo
        .iter()
        .filter(|s| !s.pass)
        .map(|s| s.name.as_str())
        .collect();
    if report.outcome != RunOutcome::Completed {
        ExitCode::from(EXIT_LIMIT)
    } else if args.fail_on_slo && !failed.is_empty() {
        eprintln!("error: SLO failed: {}", failed.join("; "));
        ExitCode::from(EXIT_SLO)
    } else {
        ExitCode::SUCCESS
    }
}

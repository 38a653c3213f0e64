//! The `scalelab` command line. Parses arguments and calls into `models`; all simulation
//! logic lives in the library crates.

use clap::{Parser, Subcommand};
use miette::{LabeledSpan, MietteDiagnostic, NamedSource};
use models::capacity::Estimate;
use models::{RunOptions, Scenario, ScenarioError};
use sim_core::{parse_duration, SimTime};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The built-in default scenario (the same file as `scenarios/default.ron`).
const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.ron");
const DEFAULT_NAME: &str = "scenarios/default.ron (built in)";

/// Exit code for bad input (scenario or flags).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a run cut by a limit (in flight, events).
const EXIT_LIMIT: u8 = 3;

#[derive(Parser)]
#[command(
    name = "scalelab",
    version,
    about = "Infrastructure simulator and chaos-testing lab: a fast, deterministic discrete-event simulation of a backend described in one RON file.",
    after_help = "With no command, runs the built-in default scenario and prints its report.\n\nExamples:\n  scalelab\n  scalelab run scenarios/default.ron --replications 10\n  scalelab validate scenarios/default.ron"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and print its report.
    #[command(
        after_help = "Examples:\n  scalelab run scenarios/default.ron\n  scalelab run scenarios/default.ron --seed 7 --replications 20 --json --out report.json\n  scalelab run scenarios/default.ron --duration 1h"
    )]
    Run(RunArgs),
    /// Check a scenario and print its graph with a static capacity estimate.
    #[command(
        after_help = "Example:\n  scalelab validate scenarios/default.ron\n\nFor each node: offered load λ at the sources' peak, mean worker time E[S], workers,\nand utilisation ρ = λ·E[S]/(instances·cores); the node with the highest ρ is the\npredicted bottleneck. Exit code 2 if the file is invalid."
    )]
    Validate {
        /// Scenario file (.ron).
        file: PathBuf,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario file (.ron). Default: the built-in default scenario.
    file: Option<PathBuf>,
    /// Base seed (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Independent replications; figures become means with 95% confidence intervals.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replications: u32,
    /// Simulated duration (overrides the scenario's), e.g. "30m", "2h".
    #[arg(long, value_parser = parse_duration_arg)]
    duration: Option<SimTime>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write the report to this file instead of stdout (whole or not at all).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Threads for replications (default: all cores). Never changes the results.
    #[arg(long)]
    threads: Option<usize>,
    /// Include wall-clock time in the report (makes JSON differ from run to run).
    #[arg(long)]
    wall_time: bool,
    /// Include per-node time series (queue, utilisation, throughput every `sample_every`)
    /// in the JSON report.
    #[arg(long)]
    series: bool,
}

fn parse_duration_arg(s: &str) -> Result<SimTime, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run(RunArgs {
        file: None,
        seed: None,
        replications: 1,
        duration: None,
        json: false,
        out: None,
        threads: None,
        wall_time: false,
        series: false,
    }));
    match command {
        Command::Run(args) => run(args),
        Command::Validate { file } => validate(&file),
    }
}

/// Render a scenario error with its source snippet on stderr.
fn report_error(e: &ScenarioError) -> ExitCode {
    let mut diag = MietteDiagnostic::new(e.message.clone());
    if let Some(h) = &e.hint {
        diag = diag.with_help(h.clone());
    }
    let location = match e.line_col() {
        Some((l, c)) => format!("{}:{l}:{c}", e.file),
        None => e.file.clone(),
    };
    diag = diag.with_code(format!("scalelab::{:?}", e.kind).to_lowercase());
    let report = match (&e.source, e.span) {
        (Some(src), Some((s, end))) => {
            let len = end
                .saturating_sub(s)
                .max(1)
                .min(src.len().saturating_sub(s));
            let diag = diag.with_label(LabeledSpan::at(s..s + len, "here"));
            miette::Report::new(diag)
                .with_source_code(NamedSource::new(e.file.clone(), src.to_string()))
        }
        _ => miette::Report::new(diag),
    };
    eprintln!("error: {location}: {}", e.message);
    eprintln!("{report:?}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn load(file: Option<&Path>) -> Result<Scenario, ScenarioError> {
    match file {
        Some(f) => models::load(f),
        None => models::load_str(DEFAULT_NAME, DEFAULT_SCENARIO),
    }
}

fn run(args: RunArgs) -> ExitCode {
    let mut sc = match load(args.file.as_deref()) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    if let Some(d) = args.duration {
        if let Err(m) = sc.set_duration(d) {
            eprintln!("error: {m}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    let opts = RunOptions {
        seed: args.seed,
        replications: args.replications,
        threads: args.threads,
        series: args.series,
    };
    let started = std::time::Instant::now();
    let (mut report, ci) = models::run(&sc, &opts);
    if args.wall_time || !args.json {
        report.wall_seconds = Some(started.elapsed().as_secs_f64());
    }
    let text = if args.json {
        report.to_json(ci.as_ref())
    } else {
        report.to_human(ci.as_ref())
    };
    let written = match &args.out {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    if let Err(e) = written {
        let target = args
            .out
            .as_ref()
            .map_or("stdout".into(), |p| p.display().to_string());
        eprintln!("error: cannot write the report to {target}: {e}");
        return ExitCode::from(1);
    }
    // The human report on stdout already lists warnings; repeat them on stderr only when
    // stdout carries JSON or the report went to a file.
    if args.json || args.out.is_some() {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if report.outcome == "completed" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_LIMIT)
    }
}

/// Write to a temporary file beside `path`, then rename over it: readers see the old file
/// or the whole new one, never a half-written report.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn validate(file: &Path) -> ExitCode {
    let sc = match models::load(file) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    let est = Estimate::of(&sc);
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        o,
        "{}: ok — scenario `{}`, {} simulated, seed {}",
        file.display(),
        sc.name,
        sc.duration,
        sc.seed
    );
    if !sc.description.is_empty() {
        let _ = writeln!(o, "  {}", sc.description);
    }
    let _ = writeln!(o, "\nGraph");
    for s in &sc.sources {
        let _ = writeln!(
            o,
            "  {} (source, peak {:.0}/s, mean {:.0}/s) -> {}",
            s.name,
            s.profile.max_rate(sc.duration.as_secs_f64()),
            s.profile.mean_rate(sc.duration.as_secs_f64()),
            sc.nodes[s.target as usize].name
        );
    }
    for (i, n) in sc.nodes.iter().enumerate() {
        let callees: Vec<&str> = sc
            .callees(i as u32)
            .iter()
            .map(|&c| sc.nodes[c as usize].name.as_str())
            .collect();
        let arrow = if callees.is_empty() {
            String::new()
        } else {
            format!(" -> {}", callees.join(", "))
        };
        let _ = writeln!(o, "  {} ({}){arrow}", n.name, n.kind.label());
    }
    let _ = writeln!(
        o,
        "\nCapacity at peak load ({:.0} req/s from all sources)",
        est.peak_rate
    );
    let _ = writeln!(
        o,
        "  {:<14} {:<14} {:>12} {:>10} {:>8} {:>7}",
        "node", "kind", "offered/s", "E[S]", "workers", "ρ"
    );
    for n in &est.nodes {
        let (es, w, rho) = if n.workers > 0 {
            (
                models::report::human_secs(n.service_s),
                n.workers.to_string(),
                format!("{:.2}", n.rho),
            )
        } else {
            ("-".into(), "-".into(), "-".into())
        };
        let warn = if n.workers > 0 && n.rho >= 1.0 {
            "  WARNING: ρ ≥ 1, the queue grows at peak"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  {:<14} {:<14} {:>12.1} {:>10} {:>8} {:>7}{warn}",
            n.name, n.kind, n.offered, es, w, rho
        );
    }
    if let Some(b) = est.bottleneck {
        let n = &est.nodes[b];
        let _ = writeln!(o, "\nPredicted bottleneck: {} (ρ = {:.2} at peak); maximum throughput ≈ {:.0} req/s at this mix",
            n.name, n.rho, est.max_throughput);
    }
    print!("{o}");
    ExitCode::SUCCESS
}

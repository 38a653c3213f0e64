//! `scalelab run`: simulate a scenario and print its report.

use super::{report_error, Output, EXIT_BAD_INPUT, EXIT_LIMIT, EXIT_SLO, EXIT_WRITE};
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
    /// Run the scenario's declared variant NAME (`variants:` in the file; `scalelab
    /// explain FILE` lists them).
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
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
    /// Draw the time series (throughput, errors, latency, instances, backlog, hit ratio;
    /// faults and decisions marked) as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Write the time series as CSV into this folder: series.csv (a column per series)
    /// and timeline.csv.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Write the time series as OpenMetrics text (timestamps: simulated seconds from
    /// --metrics-epoch).
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// The Unix time (seconds) the simulated run starts at in --metrics-out and
    /// --trace-out (default 0).
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub metrics_epoch: f64,
    /// Write a sample of requests' paths through the graph as OpenTelemetry (OTLP/JSON)
    /// spans, one span per node visited, for a trace viewer (Jaeger's "upload JSON", or an
    /// OpenTelemetry Collector). With replications, replication 0 is traced.
    #[arg(long, value_name = "FILE.json")]
    pub trace_out: Option<PathBuf>,
    /// With --trace-out: follow one in N requests born after the warm-up (the 1st, the
    /// N+1-th, ...; no random draw, so the report does not change).
    #[arg(long, value_name = "N", default_value_t = 100, requires = "trace_out",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub trace_every: u64,
}

pub fn parse_duration_arg(s: &str) -> Result<SimTime, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Run the command.
pub fn run(args: RunArgs) -> ExitCode {
    if args.variant.is_some() && args.faults.is_some() {
        eprintln!("error: --variant and --faults cannot be used together yet");
        eprintln!("  help: add the faults to the variant's `set` (faults=[...]), or run the scenario with --faults");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let loaded = match (&args.faults, args.file.as_deref()) {
        (Some(faults), Some(file)) => models::chaos::load_with_faults(file, faults),
        (Some(_), None) => {
            eprintln!("error: --faults needs a scenario file");
            eprintln!("  help: scalelab run FILE --faults schedule.ron");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        (None, file) => super::load_design(file, args.variant.as_deref()),
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
    if !(args.metrics_epoch.is_finite() && args.metrics_epoch >= 0.0) {
        eprintln!(
            "error: --metrics-epoch {} is not a Unix time in seconds",
            args.metrics_epoch
        );
        eprintln!("  help: e.g. --metrics-epoch 1700000000 (or leave it out: 0)");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let exports = args.plot.is_some() || args.csv.is_some() || args.metrics_out.is_some();
    if args.series || exports {
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
    // Opened before the run, so a path that cannot be written is known at once.
    let trace_out = match args
        .trace_out
        .as_deref()
        .map(|p| (p, Output::open(Some(p))))
    {
        None => None,
        Some((_, Ok(o))) => Some(o),
        Some((p, Err(e))) => {
            eprintln!("error: cannot write {}: {e}", p.display());
            return ExitCode::from(EXIT_WRITE);
        }
    };
    let opts = RunOptions {
        seed: args.seed,
        replications: args.replications,
        threads: args.threads.map(usize::from),
        series: args.series || exports,
        trace_every: args.trace_out.as_ref().map(|_| args.trace_every),
    };
    let started = std::time::Instant::now();
    let sc = Arc::new(sc);
    let reps = models::replicate(&sc, &opts);
    let (mut report, ci) = (reps.mean, reps.ci);
    if let (Some(out), Some(log)) = (trace_out, &reps.trace) {
        let seed = args.seed.unwrap_or(sc.seed);
        let text = models::report::export::otlp_traces(&sc, log, seed, args.metrics_epoch);
        if let Err(e) = out.write(text.as_bytes()) {
            let path = args
                .trace_out
                .as_deref()
                .unwrap_or(std::path::Path::new("-"));
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_WRITE);
        }
        if log.dropped > 0 {
            eprintln!(
                "warning: --trace-out kept {} traces ({} spans, the most one run keeps); \
                 {} more sampled requests were not traced",
                log.traces,
                log.spans.len(),
                log.dropped
            );
            eprintln!("  help: sample fewer with a larger --trace-every, or a shorter --duration");
        }
    }
    if args.wall_time || !args.json {
        report.wall_seconds = Some(started.elapsed().as_secs_f64());
    }
    if let Err(code) = export(&args, &report) {
        return code;
    }
    if !args.series {
        report.series = None;
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

/// Write the plot, the CSV and the OpenMetrics files asked for (each whole or not at all).
fn export(args: &RunArgs, report: &models::Report) -> Result<(), ExitCode> {
    use models::report::export;
    let Some(series) = report.series.as_ref() else {
        return Ok(());
    };
    let write = |path: &std::path::Path, text: &str| -> Result<(), ExitCode> {
        Output::open(Some(path))
            .and_then(|o| o.write(text.as_bytes()))
            .map_err(|e| {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::from(EXIT_WRITE)
            })
    };
    if let Some(p) = &args.plot {
        let svg = super::plot::svg(report).map_err(|m| {
            eprintln!("error: {m}");
            ExitCode::from(EXIT_WRITE)
        })?;
        write(p, &svg)?;
    }
    if let Some(dir) = &args.csv {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return Err(ExitCode::from(EXIT_WRITE));
        }
        write(&dir.join("series.csv"), &export::series_csv(series))?;
        write(&dir.join("timeline.csv"), &export::timeline_csv(report))?;
    }
    if let Some(p) = &args.metrics_out {
        write(p, &export::openmetrics(report, series, args.metrics_epoch))?;
    }
    Ok(())
}

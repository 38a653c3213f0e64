//! `scalelab chaos`: search the scenario's fault space for the schedules that hurt its
//! SLOs most, write the worst as replayable faults files, and shrink the worst breaking
//! one to a smallest set of faults that still breaks an SLO.

use super::{report_error, Output, EXIT_BAD_INPUT, EXIT_SLO, EXIT_WRITE};
use models::chaos::{Chaos, Harm, Trial};
use models::control::chaos::to_ron;
use models::control::faults::RawFaultTimed;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `scalelab chaos`.
#[derive(clap::Args)]
pub struct ChaosArgs {
    /// Scenario file (.ron) with a `chaos: Chaos(...)` space.
    pub file: PathBuf,
    /// Schedules to draw and run (1 to 100 000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub trials: u32,
    /// Seed of the draws and of every run (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Threads (default: all cores; 1 to 1024). Never changes the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// How many of the worst schedules to print and write (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub keep: u32,
    /// Directory for worst-1.ron, worst-2.ron, ... and worst-1-min.ron.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
    /// Do not shrink the worst breaking schedule.
    #[arg(long)]
    pub no_shrink: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Exit with code 4 when some schedule breaks an SLO.
    #[arg(long)]
    pub fail_on_slo: bool,
}

/// Run the command.
pub fn run(args: ChaosArgs) -> ExitCode {
    let chaos = match Chaos::load(&args.file) {
        Ok(c) => c,
        Err(e) => return report_error(&e),
    };
    if !args.out_dir.is_dir() {
        eprintln!(
            "error: --out-dir {}: not a directory",
            args.out_dir.display()
        );
        eprintln!("  help: create it first, or leave --out-dir out to write here");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let sc = chaos.scenario();
    let space = sc.chaos.as_ref().expect("loaded with a chaos space");
    let seed = args.seed.unwrap_or(sc.seed);
    let file = args.file.display().to_string();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scalelab chaos — {}: {} schedules of {} fault{} (seed {seed}, every run on the same seed)\n",
        sc.name,
        args.trials,
        space.at_once,
        if space.at_once == 1 { "" } else { "s" }
    );
    let fail = |e: models::ScenarioError| report_error(&e);
    let baseline = match chaos.run(&[], seed) {
        Ok(r) => Harm::of(&r),
        Err(e) => return fail(e),
    };
    let _ = writeln!(
        o,
        "Without drawn faults: harm {:.3}{}",
        baseline.score,
        describe(&baseline)
    );
    let bar = super::progress(args.trials as u64, "schedules", args.quiet);
    let tick = || bar.inc(1);
    let trials = match chaos.search(args.trials, seed, args.threads.map(usize::from), &tick) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    bar.finish_and_clear();
    let broke = trials.iter().filter(|t| t.harm.breaks()).count();
    let _ = writeln!(
        o,
        "Schedules that break an SLO: {broke} of {}\n\nWorst (harm: the largest SLO value over its limit; above 1 it fails)",
        trials.len()
    );
    let mut files: Vec<(PathBuf, String)> = vec![];
    for (k, t) in trials.iter().take(args.keep as usize).enumerate() {
        let name = format!("worst-{}.ron", k + 1);
        let path = args.out_dir.join(&name);
        let _ = writeln!(
            o,
            "  #{}  trial {:<6} harm {:.3}{}",
            k + 1,
            t.index,
            t.harm.score,
            describe(&t.harm)
        );
        for line in to_ron(&t.faults).lines().filter(|l| l.starts_with(' ')) {
            let _ = writeln!(o, "      {}", line.trim());
        }
        let _ = writeln!(
            o,
            "      replay: scalelab run {file} --faults {}",
            path.display()
        );
        files.push((path, schedule_file(&file, seed, t, &t.faults, &t.harm)));
    }
    if let Some(worst) = trials
        .iter()
        .find(|t| t.harm.breaks())
        .filter(|_| !args.no_shrink)
    {
        match chaos.shrink(&worst.faults, seed) {
            Ok((min, harm)) => {
                let path = args.out_dir.join("worst-1-min.ron");
                let _ = writeln!(
                    o,
                    "\nShrunk trial {} from {} to {} fault{} that still break{} an SLO (harm {:.3}{}):",
                    worst.index,
                    worst.faults.len(),
                    min.len(),
                    if min.len() == 1 { "" } else { "s" },
                    if min.len() == 1 { "s" } else { "" },
                    harm.score,
                    describe(&harm)
                );
                for line in to_ron(&min).lines().filter(|l| l.starts_with(' ')) {
                    let _ = writeln!(o, "      {}", line.trim());
                }
                let _ = writeln!(
                    o,
                    "      replay: scalelab run {file} --faults {}",
                    path.display()
                );
                files.push((path, schedule_file(&file, seed, worst, &min, &harm)));
            }
            Err(e) => return fail(e),
        }
    } else if broke == 0 {
        let _ = writeln!(o, "\nNo schedule broke an SLO: nothing to shrink.");
    }
    for (path, text) in &files {
        let written = Output::open(Some(path)).and_then(|out| out.write(text.as_bytes()));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_WRITE);
        }
    }
    if let Err(e) = Output::Stdout.write(o.as_bytes()) {
        eprintln!("error: cannot write the report: {e}");
        return ExitCode::from(EXIT_WRITE);
    }
    if args.fail_on_slo && broke > 0 {
        ExitCode::from(EXIT_SLO)
    } else {
        ExitCode::SUCCESS
    }
}

/// `; fails: a, b` (or nothing).
fn describe(h: &Harm) -> String {
    if h.failing.is_empty() {
        format!(" (error rate {:.3}%)", h.error_rate * 100.0)
    } else {
        format!(
            " (error rate {:.3}%); fails: {}",
            h.error_rate * 100.0,
            h.failing.join("; ")
        )
    }
}

/// A schedule as a faults file, with where it came from.
fn schedule_file(
    file: &str,
    seed: u64,
    t: &Trial,
    faults: &[RawFaultTimed],
    harm: &Harm,
) -> String {
    let name = Path::new(file).display();
    format!(
        "// scalelab chaos: trial {} of {name} (seed {seed}): harm {:.3}{}\n// Replay: scalelab run {name} --faults <this file> --seed {seed}\n{}",
        t.index,
        harm.score,
        describe(harm),
        to_ron(faults)
    )
}

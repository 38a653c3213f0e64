//! `scalelab chaos`: search the scenario's fault space for the schedules that hurt its
//! SLOs most, write the worst as replayable faults files, and shrink the worst breaking
//! one to a smallest set of faults that still breaks an SLO.

use super::merge::Batch;
use super::{bad, report_error, Output, EXIT_BAD_INPUT, EXIT_SLO, EXIT_WRITE};
use models::chaos::{rank, Chaos, Harm, SearchPlan, Trial, TrialLine};
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
    #[command(flatten)]
    pub finish: Finish,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard K of N: the trials whose index is K − 1 modulo N, written to
    /// --jsonl; `scalelab merge` joins the shards' files and finishes the search (the
    /// ranking, the worst schedules' files, the shrink) as one run would have.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// With --shard: the shard's file (JSON Lines: the search, then one line per trial).
    #[arg(long, value_name = "FILE.jsonl")]
    pub jsonl: Option<PathBuf>,
}

/// How a search is finished and reported (`scalelab chaos`, and `scalelab merge` of its
/// shards).
#[derive(clap::Args, Debug)]
pub struct Finish {
    /// How many of the worst schedules to print and write (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub keep: u32,
    /// Directory for worst-1.ron, worst-2.ron, ... and worst-1-min.ron.
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
    /// Do not shrink the worst breaking schedule.
    #[arg(long)]
    pub no_shrink: bool,
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
    if args.shard.is_none() && args.jsonl.is_none() {
        if let Err(code) = check_out_dir(&args.finish) {
            return code;
        }
    }
    let seed = args.seed.unwrap_or(chaos.scenario().seed);
    let threads = args.threads.map(usize::from);
    if args.shard.is_some() || args.jsonl.is_some() {
        return shard(&args, &chaos, seed, threads);
    }
    let bar = super::progress(args.trials as u64, "schedules", args.quiet);
    let tick = || bar.inc(1);
    let trials = match chaos.search(args.trials, seed, threads, &tick) {
        Ok(t) => t,
        Err(e) => return report_error(&e),
    };
    bar.finish_and_clear();
    finish(
        &chaos,
        &args.file.display().to_string(),
        seed,
        &trials,
        &args.finish,
        None,
    )
}

fn check_out_dir(f: &Finish) -> Result<(), ExitCode> {
    if f.out_dir.is_dir() {
        return Ok(());
    }
    eprintln!("error: --out-dir {}: not a directory", f.out_dir.display());
    eprintln!("  help: create it first, or leave --out-dir out to write here");
    Err(ExitCode::from(EXIT_BAD_INPUT))
}

/// Chaos searches' shards.
const SEARCH: Batch = Batch {
    what: "chaos search",
    unit: "trial",
    command: "chaos",
    same: "the same FILE, --trials and --seed",
};

/// `--shard K/N --jsonl FILE`: run this shard's trials and write their harm (whole or not
/// at all).
fn shard(args: &ChaosArgs, chaos: &Chaos, seed: u64, threads: Option<usize>) -> ExitCode {
    let example = "scalelab chaos FILE --trials 200";
    let (shard, out) = match SEARCH.open(args.shard.as_deref(), args.jsonl.as_deref(), example) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = chaos.plan(args.trials, seed);
    let mine: Vec<u32> = (0..args.trials).filter(|&i| shard.owns(i as u64)).collect();
    let bar = super::progress(mine.len() as u64, "schedules", args.quiet);
    let tick = || bar.inc(1);
    let trials = match chaos.trials(&mine, seed, threads, &tick) {
        Ok(t) => t,
        Err(e) => return report_error(&e),
    };
    bar.finish_and_clear();
    let lines: Vec<TrialLine> = trials
        .iter()
        .map(|t| TrialLine {
            chaos: plan.chaos.clone(),
            trial: t.index,
            harm: t.harm.clone(),
        })
        .collect();
    let path = args.jsonl.as_deref().expect("checked by open");
    SEARCH.write((shard, out), path, &plan, &lines, args.trials as u64)
}

/// Join a search's shards (`lines`: file index, line number, text) and finish it as
/// `scalelab chaos` would have; the report goes to `out` (default stdout).
pub fn merge(
    files: &[PathBuf],
    lines: &[(usize, usize, String)],
    opts: &Finish,
    out: Option<&Path>,
) -> ExitCode {
    let joined = SEARCH.join(
        files,
        lines,
        |p: &SearchPlan| p.trials as u64,
        |p, t: &TrialLine| (t.chaos == p.chaos).then_some(t.trial as u64),
    );
    let (plan, lines) = match joined {
        Ok(x) => x,
        Err(code) => return code,
    };
    if let Err(code) = check_out_dir(opts) {
        return code;
    }
    // The schedules are drawn again from the scenario, which must be the one searched.
    let chaos = match Chaos::load(Path::new(&plan.file)) {
        Ok(c) => c,
        Err(e) => return report_error(&e),
    };
    if chaos.plan(plan.trials, plan.seed) != plan {
        return bad(
            format!("{} has changed since the shards ran", plan.file),
            "run the shards again on the file as it is now",
        );
    }
    let mut trials: Vec<Trial> = lines
        .into_iter()
        .map(|t| Trial {
            index: t.trial,
            faults: chaos.draw(t.trial, plan.seed),
            harm: t.harm,
        })
        .collect();
    rank(&mut trials);
    finish(&chaos, &plan.file, plan.seed, &trials, opts, out)
}

/// Report a search (`trials` ranked worst first): the baseline, the worst schedules
/// (printed, and written to `--out-dir`), the shrunk worst breaking one. The report goes
/// to `out` (default stdout).
fn finish(
    chaos: &Chaos,
    file: &str,
    seed: u64,
    trials: &[Trial],
    args: &Finish,
    out: Option<&Path>,
) -> ExitCode {
    let sc = chaos.scenario();
    let space = sc.chaos.as_ref().expect("loaded with a chaos space");
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scalelab chaos — {}: {} schedules of {} fault{} (seed {seed}, every run on the same seed)\n",
        sc.name,
        trials.len(),
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
        files.push((path, schedule_file(file, seed, t, &t.faults, &t.harm)));
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
                files.push((path, schedule_file(file, seed, worst, &min, &harm)));
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
    if let Err(e) = Output::open(out).and_then(|w| w.write(o.as_bytes())) {
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

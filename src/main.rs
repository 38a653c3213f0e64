//! The `scalelab` command line. `main` parses the arguments and hands them to a command in
//! [`cmd`]; all simulation logic lives in the library crates.

mod cmd;

use clap::{Parser, Subcommand};
use cmd::run::RunArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "scalelab",
    version,
    about = "Infrastructure simulator and chaos-testing lab: a fast, deterministic discrete-event simulation of a backend described in one RON file.",
    after_help = "With no command, runs the built-in default scenario and prints its report.\n\nExamples:\n  scalelab\n  scalelab run scenarios/default.ron --replications 10\n  scalelab validate scenarios/default.ron\n  scalelab tui\n  scalelab compare a.ron b.ron --seeds 10\n  scalelab sweep FILE --set web.instances=2..16 --minimize cost\n  scalelab check scenarios/ --junit out.xml"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and print its report.
    #[command(
        after_help = "Examples:\n  scalelab run scenarios/default.ron\n  scalelab run scenarios/default.ron --seed 7 --replications 20 --json --out report.json\n  scalelab run scenarios/default.ron --duration 1h\n  scalelab run scenarios/default.ron --fail-on-slo\n\nExit codes: 0 ok; 1 the report could not be written; 2 bad input (scenario or flags);\n3 the run was cut by a limit (limits.max_in_flight, limits.max_events);\n4 an SLO failed (only with --fail-on-slo)."
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
    /// Search the scenario's chaos space for the fault schedules that hurt its SLOs most.
    #[command(
        after_help = "Examples:\n  scalelab chaos scenarios/chaos-search.ron --trials 200\n  scalelab chaos scenarios/chaos-search.ron --trials 50 --seed 3 --out-dir /tmp/chaos\n  scalelab run scenarios/chaos-search.ron --faults worst-1.ron\n\nEach schedule is drawn from the stream chaos/<trial> of the seed and run on that seed,\nso the schedules differ and the traffic does not. The worst are written as faults files\n(worst-1.ron, ...) that `scalelab run FILE --faults F` replays exactly; the worst that\nbreaks an SLO is shrunk to a smallest breaking set (worst-1-min.ron).\n\nExit codes: 0 ok; 1 a file could not be written; 2 bad input; 4 a schedule broke an SLO\n(only with --fail-on-slo)."
    )]
    Chaos(cmd::chaos::ChaosArgs),
    /// Watch a run live in the terminal: topology coloured by load, charts, events; pause,
    /// change speed, kill instances with a key.
    #[command(
        after_help = "Examples:\n  scalelab tui\n  scalelab tui scenarios/black-friday.ron\n  scalelab tui scenarios/zone-outage.ron --seed 7\n\nKeys: space pause, +/- speed, . step, tab select, k kill, r restart, s save the faults\ninjected so far, d lesson, ? help, q quit. Respects NO_COLOR."
    )]
    Tui(cmd::tui::TuiArgs),
    /// Compare designs on the same seeds (common random numbers): each metric per design
    /// with its 95% CI, and each pair's paired difference with a verdict.
    #[command(
        after_help = "Examples:\n  scalelab compare scenarios/rolling-vs-blue-green.ron scenarios/default.ron --seeds 10\n  scalelab compare scenarios/default.ron --variant big-web:web.instances=6 --seeds 20\n  scalelab compare scenarios/default.ron --variant a:web.cores=4 --variant b:web.instances=8,web.cores=1 --json\n  scalelab compare scenarios/circuit-breaker.ron --variant with-breaker\n\nEvery design runs replication k with the same seed, so traffic and faults are the\nsame for all (each random quantity has its own named stream); differences are taken\nseed by seed. A verdict says `better` or `worse` when the 95% CI of the paired\ndifference excludes 0, else `no significant difference`.\n\nExit codes: 0 ok; 1 the report could not be written; 2 bad input."
    )]
    Compare(cmd::compare::CompareArgs),
    /// Run a grid of overrides on the same seeds: a row and a JSON line per point, and the
    /// cheapest point meeting every SLO.
    #[command(
        after_help = "Examples:\n  scalelab sweep scenarios/default.ron --set web.instances=2..8 --seeds 5 --minimize cost\n  scalelab sweep scenarios/cache-aside.ron --set profiles.capacity=1e3,1e4,1e5 --set app.instances=2,4\n  scalelab sweep FILE --set web.instances=2..16 --jsonl points.jsonl --csv points.csv\n\nPATH is a node then its fields (web.instances, web.autoscale.max), sources.NAME then\nthe source's (sources.users.rate.peak), or a top-level field (duration). VALUES is a\nlist a,b,c, or LO..HI (integers, both included), or LO..HI:STEP. Every point runs the\nsame seeds. Each point's figures are means over its seeds with 95% CIs; an SLO is met\nwhen its mean figure meets it. With --jsonl, a sweep run again skips the points the file\nalready holds.\n\nExit codes: 0 ok; 1 a file could not be written; 2 bad input."
    )]
    Sweep(cmd::sweep::SweepArgs),
    /// Run scenarios and check their SLOs and `expect:` assertions: a line per check,
    /// JUnit XML, the commands that replay each failure, and a non-zero exit on failure.
    #[command(
        after_help = "Examples:\n  scalelab check scenarios/\n  scalelab check scenarios/ --junit check.xml\n  scalelab check scenarios/black-friday.ron --seeds 5\n\nA scenario declares assertions in `expect: [Under(\"web.utilization\", 0.9),\nOver(\"cache.cache.hit_ratio\", 0.8), Between(\"error_rate\", 0.01, 0.05)]` (any figure of\nthe JSON report; see README). With --seeds N, figures are means over N seeds. A scenario's\n`breaks: [...]` SLOs must fail; each of its `variants` is checked too, as\nFILE --variant NAME. Each\nfailure prints `scalelab run FILE --seed S` that replays it and `scalelab tui FILE --seed S\n--at T` that opens the terminal UI paused where an SLO first broke.\n\nExit codes: 0 every check passed; 1 the JUnit file could not be written; 2 a scenario\ndoes not load (or bad flags); 4 a check failed."
    )]
    Check(cmd::check::CheckArgs),
    /// List the scenarios of a folder by topic, with a line about each.
    #[command(
        after_help = "Examples:\n  scalelab list\n  scalelab list scenarios --json\n\nA scenario's `topic:` groups it; the line is the first sentence of its `description`."
    )]
    List(cmd::list::ListArgs),
    /// Join the shards of a sweep, a comparison or a chaos search (`--shard K/N --jsonl F`)
    /// into what one run of the whole batch gives.
    #[command(
        after_help = "Examples:\n  scalelab sweep FILE --set web.instances=2..16 --shard 1/2 --jsonl s1.jsonl\n  scalelab sweep FILE --set web.instances=2..16 --shard 2/2 --jsonl s2.jsonl\n  scalelab merge s1.jsonl s2.jsonl --out all.jsonl --minimize cost\n  scalelab merge compare-*.jsonl --json\n  scalelab merge chaos-*.jsonl --out-dir chaos-out --keep 3\n\nThe kind of batch is read from the files' first line. A sweep's merge is byte for byte\nthe file `sweep --jsonl` writes without shards; a comparison's is what `compare` prints\n(--json too); a chaos search's loads the scenario again, ranks every trial, writes the\nworst schedules and shrinks the worst breaking one, as `chaos` would have. Every unit\nmust be there once (or twice, identical); those of another batch are refused. See\ndocs/shards.md for a CI matrix and a Kubernetes Indexed Job.\n\nExit codes: 0 ok; 1 the output could not be written; 2 the files do not make one batch;\n4 a chaos schedule broke an SLO (only with --fail-on-slo)."
    )]
    Merge(cmd::merge::MergeArgs),
    /// Explain a scenario before running it: what it shows, its graph, what is scheduled,
    /// its SLOs and expectations, and the capacity at peak load from queueing arithmetic.
    #[command(
        after_help = "Example:\n  scalelab explain scenarios/black-friday.ron\n\nThe capacity table is `scalelab validate`'s: offered load λ, mean worker time E[S],\nworkers, utilisation ρ per node, the predicted bottleneck and the maximum throughput."
    )]
    Explain {
        /// Scenario file (.ron).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run(RunArgs {
        replications: 1,
        ..RunArgs::default()
    }));
    match command {
        Command::Run(args) => cmd::run::run(args),
        Command::Validate { file } => cmd::validate::run(&file),
        Command::Chaos(args) => cmd::chaos::run(args),
        Command::Tui(args) => cmd::tui::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Sweep(args) => cmd::sweep::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::List(args) => cmd::list::run(args),
        Command::Merge(args) => cmd::merge::run(args),
        Command::Explain { file } => cmd::validate::explain(&file),
    }
}

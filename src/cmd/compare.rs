//! `scalelab compare A.ron B.ron [...] --seeds N`: every design on the same seeds (common
//! random numbers), each metric's value per design and each pair's paired difference with
//! a verdict.

use super::{bad, report_error, Output, EXIT_WRITE};
use models::batch::compare::{compare, Design, Plan};
use models::scenario::overrides::{split_top, Override};
use sim_core::SimTime;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `scalelab compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Scenario files, one design each (one file is enough with --variant).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A variant of the first file: NAME:PATH=VALUE[,PATH=VALUE...], e.g.
    /// big-web:web.instances=8, or the NAME of one it declares (`variants:`)
    /// (repeatable).
    #[arg(long = "variant", value_name = "NAME:PATH=VALUE,...")]
    pub variants: Vec<String>,
    /// Seeds per design (replications; the same seeds for every design).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub seeds: u32,
    /// Base seed (default: the first design's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated duration of every design (overrides the files'), e.g. "10m".
    #[arg(long, value_parser = super::run::parse_duration_arg)]
    pub duration: Option<SimTime>,
    /// Threads (default: all cores). Never changes the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write it to this file instead of stdout (whole or not at all).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Draw the designs' time series overlaid (throughput, errors, p99, instances), one
    /// run each on the first seed, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Run only shard K of N: the runs (design × seed, run r = design r / seeds on seed
    /// r mod seeds) whose index is K − 1 modulo N, written to --jsonl; `scalelab merge`
    /// joins the shards' files into the comparison one run would have printed.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// With --shard: the shard's file (JSON Lines: the plan, then one line per run).
    #[arg(long, value_name = "FILE.jsonl")]
    pub jsonl: Option<PathBuf>,
}

/// `NAME:PATH=VALUE,...` → the name and its overrides.
fn parse_variant(v: &str) -> Result<(String, Vec<Override>), String> {
    let form = "write --variant NAME:PATH=VALUE[,PATH=VALUE...], e.g. big-web:web.instances=8";
    let Some((name, rest)) = v.split_once(':').filter(|(n, _)| !n.contains('=')) else {
        return Err(format!("--variant `{v}` has no name: {form}"));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("--variant `{v}` has an empty name: {form}"));
    }
    let sets = split_top(rest)
        .into_iter()
        .map(|o| Override::parse(o).map_err(|e| format!("--variant `{name}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_string(), sets))
}

/// Run the command.
pub fn run(args: CompareArgs) -> ExitCode {
    let mut designs: Vec<Design> = vec![];
    for f in &args.files {
        match models::load(f) {
            Ok(sc) => designs.push(Design {
                name: sc.name.clone(),
                source: f.display().to_string(),
                scenario: Arc::new(sc),
            }),
            Err(e) => return report_error(&e),
        }
    }
    // Two files with the same scenario name: named by their files (and the same file
    // twice: numbered).
    let dup = |ds: &[Design], i: usize| ds.iter().filter(|d| d.name == ds[i].name).count() > 1;
    let twice: Vec<bool> = (0..designs.len()).map(|i| dup(&designs, i)).collect();
    for (d, t) in designs.iter_mut().zip(twice) {
        if t {
            d.name = d.source.clone();
        }
    }
    for i in 0..designs.len() {
        if designs[..i].iter().any(|d| d.name == designs[i].name) {
            designs[i].name = format!("{} #{}", designs[i].name, i + 1);
        }
    }
    let base = args.files[0].clone();
    for v in &args.variants {
        // A variant the file declares.
        if !v.contains(':') && !v.contains('=') {
            let name = v.trim();
            let declared = &designs[0].scenario.variants;
            if !declared.iter().any(|d| d.name == name) {
                let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
                return bad(
                    format!(
                        "--variant `{name}`: {} declares no such variant{}",
                        base.display(),
                        if names.is_empty() {
                            String::new()
                        } else {
                            format!(" (it declares {})", names.join(", "))
                        }
                    ),
                    "write --variant NAME:PATH=VALUE[,PATH=VALUE...], e.g. big-web:web.instances=8, or the NAME of a variant the first file declares",
                );
            }
            if designs.iter().any(|d| d.name == name) {
                return bad(
                    format!("two designs are named `{name}`"),
                    "give each --variant once",
                );
            }
            match models::load_variant(&base, name) {
                Ok(sc) => designs.push(Design {
                    name: name.to_string(),
                    source: format!("{} --variant {name}", base.display()),
                    scenario: Arc::new(sc),
                }),
                Err(e) => return report_error(&e),
            }
            continue;
        }
        let (name, sets) = match parse_variant(v) {
            Ok(x) => x,
            Err(m) => return bad(m, "see scalelab compare --help"),
        };
        if designs.iter().any(|d| d.name == name) {
            return bad(
                format!("two designs are named `{name}`"),
                "give each --variant its own name",
            );
        }
        match models::load_with(&base, &sets) {
            Ok(sc) => designs.push(Design {
                name,
                source: format!(
                    "{} with {}",
                    base.display(),
                    sets.iter()
                        .map(|o| o.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                scenario: Arc::new(sc),
            }),
            Err(e) => return report_error(&e),
        }
    }
    if designs.len() < 2 {
        return bad(
            "compare needs at least two designs".into(),
            "give two scenario files, or one with --variant NAME:PATH=VALUE",
        );
    }
    if let Some(d) = args.duration {
        for x in &mut designs {
            let mut sc = (*x.scenario).clone();
            if let Err(m) = sc.set_duration(d) {
                return bad(format!("{}: {m}", x.name), "give a longer --duration");
            }
            x.scenario = Arc::new(sc);
        }
    }
    if let Err(m) = models::batch::compare::check_comparable(&designs) {
        return bad(
            m,
            "compare designs of the same traffic: the same classes, in the same order",
        );
    }
    let seed = args.seed.unwrap_or(designs[0].scenario.seed);
    if args.shard.is_some() || args.jsonl.is_some() {
        return shard(&args, &designs, seed);
    }
    let out = match Output::open(args.out.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: cannot write the comparison: {e}");
            return ExitCode::from(EXIT_WRITE);
        }
    };
    let bar = super::progress(designs.len() as u64 * args.seeds as u64, "runs", args.quiet);
    let tick = || bar.inc(1);
    let result = compare(
        &designs,
        args.seeds,
        seed,
        args.threads.map(usize::from),
        &tick,
    );
    bar.finish_and_clear();
    let c = match result {
        Ok(c) => c,
        Err(m) => return bad(m, "see scalelab compare --help"),
    };
    if let Some(p) = &args.plot {
        for d in &designs {
            if let Err(m) = d.scenario.check_series() {
                return bad(
                    format!("--plot: {}: {m}", d.name),
                    "lengthen sample_every, or shorten --duration",
                );
            }
        }
        let runs: Vec<(String, models::Report)> =
            sim_core::par_map(designs.len(), args.threads.map(usize::from), |i| {
                let d = &designs[i];
                let run = models::world::simulate_with(&d.scenario, seed, true);
                (d.name.clone(), models::Report::from_run(&d.scenario, &run))
            });
        let svg = match super::plot::overlay(&runs) {
            Ok(s) => s,
            Err(m) => {
                eprintln!("error: {m}");
                return ExitCode::from(EXIT_WRITE);
            }
        };
        if let Err(e) = Output::open(Some(p)).and_then(|o| o.write(svg.as_bytes())) {
            eprintln!("error: cannot write {}: {e}", p.display());
            return ExitCode::from(EXIT_WRITE);
        }
    }
    let text = if args.json { c.to_json() } else { c.to_human() };
    if let Err(e) = out.write(text.as_bytes()) {
        eprintln!("error: cannot write the comparison: {e}");
        return ExitCode::from(EXIT_WRITE);
    }
    ExitCode::SUCCESS
}

/// `--shard K/N --jsonl FILE`: run this shard's runs and write them (whole or not at all).
fn shard(args: &CompareArgs, designs: &[Design], seed: u64) -> ExitCode {
    let batch = &super::merge::COMPARISON;
    if args.plot.is_some() || args.out.is_some() || args.json {
        return bad(
            "a shard writes only its --jsonl file (no --plot, --out or --json)".into(),
            "scalelab merge prints the comparison from all shards' files",
        );
    }
    let plan = match Plan::new(designs, args.seeds, seed) {
        Ok(p) => p,
        Err(m) => return bad(m, "see scalelab compare --help"),
    };
    let example = "scalelab compare A.ron B.ron --seeds 20";
    let (shard, out) = match batch.open(args.shard.as_deref(), args.jsonl.as_deref(), example) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mine: Vec<u64> = (0..plan.runs()).filter(|&r| shard.owns(r)).collect();
    let bar = super::progress(mine.len() as u64, "runs", args.quiet);
    let tick = || bar.inc(1);
    let runs = plan.run(designs, &mine, args.threads.map(usize::from), &tick);
    bar.finish_and_clear();
    let path = args.jsonl.as_deref().expect("checked by open");
    batch.write((shard, out), path, &plan, &runs, plan.runs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_and_top_level_commas() {
        assert_eq!(
            split_top(r#"a=1,b=Spike(base: 1, peak: 2),c="x,y""#),
            vec!["a=1", "b=Spike(base: 1, peak: 2)", r#"c="x,y""#]
        );
        let (n, sets) = parse_variant("big:web.instances=8,web.cores=4").unwrap();
        assert_eq!(n, "big");
        assert_eq!(sets.len(), 2);
        assert!(parse_variant("web.instances=8").is_err());
        assert!(parse_variant(":web.instances=8").is_err());
        assert!(parse_variant("big:web.instances").is_err());
    }
}

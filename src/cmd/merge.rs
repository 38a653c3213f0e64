//! `scalelab merge FILES...`: join the JSON Lines of a batch's shards into what one run of
//! the whole batch gives:
//! - a sweep's: the file one run would have written (every point once, in order), and the
//!   best point;
//! - a comparison's: the comparison one `scalelab compare` prints;
//! - a chaos search's: the ranking, the worst schedules' files and the shrunk one, as one
//!   `scalelab chaos` writes them.
//!
//! Which kind the files hold is read from their first line.

use super::{bad, Output, EXIT_WRITE};
use models::batch::compare::{Plan, RunFigures};
use models::batch::sweep::{beats, PointResult, MINIMIZE};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `scalelab merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// JSON Lines files written by `scalelab sweep`, `compare` or `chaos` with
    /// `--shard K/N --jsonl FILE`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the result here (whole or not at all) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Sweeps: name the point with the lowest mean of this figure among those meeting
    /// every SLO: cost, p50_latency, p95_latency, p99_latency, error_rate.
    #[arg(long, value_name = "FIGURE")]
    pub minimize: Option<String>,
    /// Comparisons: print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub chaos: super::chaos::Finish,
}

/// A shard file's lines: (file, line number from 1, text), blank lines left out.
type Lines = Vec<(usize, usize, String)>;

/// Run the command.
pub fn run(args: MergeArgs) -> ExitCode {
    let mut lines: Lines = vec![];
    for (i, f) in args.files.iter().enumerate() {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                return bad(
                    format!("cannot read {}: {e}", f.display()),
                    "give the shards' --jsonl files",
                )
            }
        };
        for (n, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                lines.push((i, n + 1, line.to_string()));
            }
        }
    }
    let Some(first) = lines.first() else {
        return bad("the files hold nothing".into(), "run the shards first");
    };
    let head: serde_json::Value = serde_json::from_str(&first.2).unwrap_or_default();
    if head.get("designs").is_some() && head.get("compare").is_some() {
        merge_compare(&args, &lines)
    } else if head.get("trials").is_some() && head.get("chaos").is_some() {
        super::chaos::merge(&args.files, &lines, &args.chaos, args.out.as_deref())
    } else {
        merge_sweep(&args, &lines)
    }
}

/// Where line `(file, n)` is, for messages.
pub fn place(files: &[PathBuf], (f, n): (usize, usize)) -> String {
    format!("{}:{n}", files[f].display())
}

/// Join a comparison's shards: each file starts with the same plan, then its runs.
fn merge_compare(args: &MergeArgs, lines: &Lines) -> ExitCode {
    if args.minimize.is_some() {
        return bad(
            "--minimize picks a sweep's best point; these files are a comparison's".into(),
            "leave --minimize out",
        );
    }
    let mut plan: Option<Plan> = None;
    let mut figures: Vec<Option<Vec<Option<f64>>>> = vec![];
    let mut last_file = usize::MAX;
    for (f, n, text) in lines {
        let at = place(&args.files, (*f, *n));
        if *f != last_file {
            last_file = *f;
            let p: Plan = match serde_json::from_str(text) {
                Ok(p) => p,
                Err(e) => {
                    return bad(
                        format!("{at}: not a comparison's plan ({e})"),
                        "each shard's file starts with its plan: give the files `scalelab compare --shard K/N --jsonl FILE` wrote",
                    )
                }
            };
            match &plan {
                None => {
                    figures = vec![None; p.runs() as usize];
                    plan = Some(p);
                }
                Some(q) if *q != p => {
                    return bad(
                        format!("{at}: another comparison than {}'s (the designs, seeds or base seed differ)", args.files[lines[0].0].display()),
                        "merge only the shards of one comparison: the same files, --variant, --seeds, --seed and --duration",
                    )
                }
                Some(_) => {}
            }
            continue;
        }
        let plan = plan.as_ref().expect("read first");
        let r: RunFigures = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                return bad(
                    format!("{at}: not a comparison's run ({e})"),
                    "give the files `scalelab compare --shard K/N --jsonl FILE` wrote",
                )
            }
        };
        if r.compare != plan.compare || r.run >= plan.runs() {
            return bad(
                format!("{at}: run {} is not one of this comparison's", r.run),
                "merge only the shards of one comparison",
            );
        }
        let slot = &mut figures[r.run as usize];
        match slot {
            Some(f) if *f != r.figures => {
                return bad(
                    format!("{at}: run {} appears twice with different figures", r.run),
                    "a comparison is deterministic: were the shards run with different versions of scalelab?",
                )
            }
            _ => *slot = Some(r.figures),
        }
    }
    let plan = plan.expect("a first line");
    let missing: Vec<u64> = (0..plan.runs())
        .filter(|&r| figures[r as usize].is_none())
        .collect();
    if !missing.is_empty() {
        return bad(
            format!(
                "{} of {} runs are missing: {}",
                missing.len(),
                plan.runs(),
                list(&missing)
            ),
            "run the shards that hold them (run r is shard (r mod N) + 1 of N)",
        );
    }
    let figures: Vec<Vec<Option<f64>>> = figures.into_iter().map(Option::unwrap).collect();
    let c = plan.assemble(&figures);
    let text = if args.json { c.to_json() } else { c.to_human() };
    if let Err(e) = Output::open(args.out.as_deref()).and_then(|o| o.write(text.as_bytes())) {
        eprintln!("error: cannot write the comparison: {e}");
        return ExitCode::from(EXIT_WRITE);
    }
    ExitCode::SUCCESS
}

/// Up to 20 indices, then `...`.
fn list(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(20).map(u64::to_string).collect();
    format!(
        "{}{}",
        shown.join(", "),
        if ids.len() > 20 { ", ..." } else { "" }
    )
}

/// Join a sweep's shards.
fn merge_sweep(args: &MergeArgs, lines: &Lines) -> ExitCode {
    if args.json {
        return bad(
            "--json prints a comparison; a sweep's merge is JSON Lines already".into(),
            "leave --json out",
        );
    }
    if let Some(m) = &args.minimize {
        if !MINIMIZE.contains(&m.as_str()) {
            return bad(
                format!("--minimize {m}: not a figure a sweep can minimise"),
                &format!("one of {}", MINIMIZE.join(", ")),
            );
        }
    }
    // Every line: (the text as written, the point); the text is kept so the merge is the
    // shards' bytes, not a re-serialisation.
    let mut points: Vec<(String, PointResult)> = vec![];
    for (f, n, line) in lines {
        match serde_json::from_str::<PointResult>(line) {
            Ok(p) => points.push((line.to_string(), p)),
            Err(e) => {
                return bad(
                    format!("{}: not a sweep point ({e})", place(&args.files, (*f, *n))),
                    "merge joins the --jsonl files of `scalelab sweep`, `compare` or `chaos` run with --shard",
                )
            }
        }
    }
    let Some(first) = points.first().map(|p| p.1.clone()) else {
        return bad("the files hold no points".into(), "run the shards first");
    };
    if let Some((_, p)) = points
        .iter()
        .find(|(_, p)| p.sweep != first.sweep || p.of != first.of)
    {
        return bad(
            format!(
                "point {} comes from another sweep than point {} (their file, axes, seeds or duration differ)",
                p.point, first.point
            ),
            "merge only the shards of one sweep: the same FILE, --set, --seeds, --seed and --duration",
        );
    }
    points.sort_by_key(|p| p.1.point);
    let mut merged: Vec<&(String, PointResult)> = vec![];
    for p in &points {
        match merged.last() {
            Some(q) if q.1.point == p.1.point => {
                if q.1 != p.1 {
                    return bad(
                        format!("point {} appears twice with different figures", p.1.point),
                        "a sweep is deterministic: were the shards run with different versions of scalelab?",
                    );
                }
            }
            _ => merged.push(p),
        }
    }
    let missing: Vec<u64> = {
        let mut have = merged.iter().map(|p| p.1.point).peekable();
        let mut out = vec![];
        for i in 0..first.of {
            if have.peek() == Some(&i) {
                have.next();
            } else {
                out.push(i);
                if out.len() > 20 {
                    break;
                }
            }
        }
        out
    };
    if !missing.is_empty() {
        return bad(
            format!(
                "{} of {} points are missing: {}",
                first.of - merged.len() as u64,
                first.of,
                list(&missing)
            ),
            "run the shards that hold them (point i is shard (i mod N) + 1 of N), or resume them with the same --jsonl",
        );
    }
    let mut text = String::new();
    for (line, _) in &merged {
        text += line;
        text.push('\n');
    }
    if let Err(e) = Output::open(args.out.as_deref()).and_then(|o| o.write(text.as_bytes())) {
        eprintln!("error: cannot write the merged points: {e}");
        return ExitCode::from(EXIT_WRITE);
    }
    // The summary goes where it does not mix with the points.
    let say = |s: String| {
        if args.out.is_some() {
            println!("{s}");
        } else {
            eprintln!("{s}");
        }
    };
    say(format!(
        "merged {} points from {} files",
        merged.len(),
        args.files.len()
    ));
    if let Some(m) = &args.minimize {
        let mut best: Option<&PointResult> = None;
        for (_, p) in &merged {
            if beats(p, best, m) {
                best = Some(p);
            }
        }
        match best {
            Some(b) => {
                let e = b.figure(m).expect("a known figure");
                let set: Vec<String> = b.set.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
                say(format!(
                    "lowest {m} meeting every SLO: point {} ({}): {m} {} ± {}",
                    b.point,
                    set.join(", "),
                    e.mean,
                    e.ci95
                ));
            }
            None => say("no point meets every SLO".into()),
        }
    }
    ExitCode::SUCCESS
}

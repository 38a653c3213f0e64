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
use models::batch::Shard;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
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

/// A kind of batch whose shard files start with a plan line (the same in every shard),
/// then a line per unit of work: comparisons (runs) and chaos searches (trials).
pub struct Batch {
    /// What it is, for messages: "comparison".
    pub what: &'static str,
    /// Its unit of work: "run".
    pub unit: &'static str,
    /// The command that writes its shards: "compare".
    pub command: &'static str,
    /// How to run the shards of one batch: "the same files, --seeds, ...".
    pub same: &'static str,
}

impl Batch {
    /// `--shard K/N --jsonl FILE` checked and FILE opened (before any run).
    pub fn open(
        &self,
        shard: Option<&str>,
        jsonl: Option<&Path>,
        example: &str,
    ) -> Result<(Shard, Output), ExitCode> {
        let (Some(spec), Some(path)) = (shard, jsonl) else {
            return Err(bad(
                format!(
                    "--shard and --jsonl go together: a shard's {}s are written to its file",
                    self.unit
                ),
                &format!("{example} --shard 1/4 --jsonl shard-1.jsonl; then scalelab merge shard-*.jsonl"),
            ));
        };
        let shard = Shard::parse(spec)
            .map_err(|m| bad(m, "shards are numbered from 1: --shard 1/4 ... --shard 4/4"))?;
        let out = Output::open(Some(path)).map_err(|e| {
            eprintln!("error: cannot write {}: {e}", path.display());
            ExitCode::from(EXIT_WRITE)
        })?;
        Ok((shard, out))
    }

    /// Write a shard's file: the plan, then `items` (whole or not at all), and say so.
    pub fn write<P: Serialize, L: Serialize>(
        &self,
        (shard, out): (Shard, Output),
        path: &Path,
        plan: &P,
        items: &[L],
        total: u64,
    ) -> ExitCode {
        let mut text = serde_json::to_string(plan).expect("a plan serialises");
        text.push('\n');
        for item in items {
            text += &serde_json::to_string(item).expect("a result serialises");
            text.push('\n');
        }
        if let Err(e) = out.write(text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_WRITE);
        }
        eprintln!(
            "shard {}/{}: {} of {total} {}s written to {}; join all shards with scalelab merge",
            shard.k,
            shard.n,
            items.len(),
            self.unit,
            path.display()
        );
        ExitCode::SUCCESS
    }

    /// Join shards' `lines`: the plan (every file's first line, the same in all), then
    /// every unit's line in index order, each once. `units` counts a plan's units;
    /// `index` gives a line's unit (`None`: not one of the plan's).
    pub fn join<P, L>(
        &self,
        files: &[PathBuf],
        lines: &[(usize, usize, String)],
        units: impl Fn(&P) -> u64,
        index: impl Fn(&P, &L) -> Option<u64>,
    ) -> Result<(P, Vec<L>), ExitCode>
    where
        P: DeserializeOwned + PartialEq,
        L: DeserializeOwned + PartialEq,
    {
        let (what, unit) = (self.what, self.unit);
        let help = format!(
            "give the files `scalelab {} --shard K/N --jsonl FILE` wrote",
            self.command
        );
        let mut plan: Option<P> = None;
        let mut slots: Vec<Option<L>> = vec![];
        let mut last_file = usize::MAX;
        for (f, n, text) in lines {
            let at = place(files, (*f, *n));
            if *f != last_file {
                last_file = *f;
                let p: P = serde_json::from_str(text)
                    .map_err(|e| bad(format!("{at}: not a {what}'s plan ({e})"), &help))?;
                match &plan {
                    None => {
                        slots = (0..units(&p)).map(|_| None).collect();
                        plan = Some(p);
                    }
                    Some(q) if *q != p => {
                        return Err(bad(
                            format!(
                                "{at}: another {what} than {}'s",
                                files[lines[0].0].display()
                            ),
                            &format!("merge only the shards of one {what}: {}", self.same),
                        ))
                    }
                    Some(_) => {}
                }
                continue;
            }
            let plan = plan.as_ref().expect("read first");
            let item: L = serde_json::from_str(text)
                .map_err(|e| bad(format!("{at}: not a {what}'s {unit} ({e})"), &help))?;
            let Some(i) = index(plan, &item).filter(|&i| i < slots.len() as u64) else {
                return Err(bad(
                    format!("{at}: a {unit} of another {what}"),
                    &format!("merge only the shards of one {what}"),
                ));
            };
            match &slots[i as usize] {
                Some(old) if *old != item => {
                    return Err(bad(
                        format!("{at}: {unit} {i} appears twice with different results"),
                        &format!("a {what} is deterministic: were the shards run with different versions of scalelab?"),
                    ))
                }
                _ => slots[i as usize] = Some(item),
            }
        }
        let plan = plan.expect("a first line");
        let missing: Vec<u64> = (0..slots.len() as u64)
            .filter(|&i| slots[i as usize].is_none())
            .collect();
        if !missing.is_empty() {
            return Err(bad(
                format!(
                    "{} of {} {unit}s are missing: {}",
                    missing.len(),
                    slots.len(),
                    list(&missing)
                ),
                &format!("run the shards that hold them ({unit} i is shard (i mod N) + 1 of N)"),
            ));
        }
        Ok((
            plan,
            slots
                .into_iter()
                .map(|s| s.expect("none missing"))
                .collect(),
        ))
    }
}

/// Comparisons' shards.
pub const COMPARISON: Batch = Batch {
    what: "comparison",
    unit: "run",
    command: "compare",
    same: "the same files, --variant, --seeds, --seed and --duration",
};

/// Join a comparison's shards and print the comparison.
fn merge_compare(args: &MergeArgs, lines: &Lines) -> ExitCode {
    if args.minimize.is_some() {
        return bad(
            "--minimize picks a sweep's best point; these files are a comparison's".into(),
            "leave --minimize out",
        );
    }
    let joined = COMPARISON.join(
        &args.files,
        lines,
        |p: &Plan| p.runs(),
        |p, r: &RunFigures| (r.compare == p.compare).then_some(r.run),
    );
    let (plan, runs) = match joined {
        Ok(x) => x,
        Err(code) => return code,
    };
    let figures: Vec<Vec<Option<f64>>> = runs.into_iter().map(|r| r.figures).collect();
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

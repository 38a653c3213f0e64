//! `scalelab merge FILES...`: join the JSON Lines of a sweep's shards into the file one run
//! of the whole sweep would have written (every point once, in order), and name the best.

use super::{bad, Output, EXIT_WRITE};
use models::batch::sweep::{beats, PointResult, MINIMIZE};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `scalelab merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// JSON Lines files written by `scalelab sweep --shard K/N --jsonl FILE`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged JSON Lines here (whole or not at all) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Name the point with the lowest mean of this figure among those meeting every SLO:
    /// cost, p50_latency, p95_latency, p99_latency, error_rate.
    #[arg(long, value_name = "FIGURE")]
    pub minimize: Option<String>,
}

/// Run the command.
pub fn run(args: MergeArgs) -> ExitCode {
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
    for f in &args.files {
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
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<PointResult>(line) {
                Ok(p) => points.push((line.to_string(), p)),
                Err(e) => {
                    return bad(
                        format!("{}:{}: not a sweep point ({e})", f.display(), n + 1),
                        "merge joins the --jsonl files of `scalelab sweep`",
                    )
                }
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
        let list: Vec<String> = missing.iter().take(20).map(u64::to_string).collect();
        return bad(
            format!(
                "{} of {} points are missing: {}{}",
                first.of - merged.len() as u64,
                first.of,
                list.join(", "),
                if missing.len() > 20 { ", ..." } else { "" }
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

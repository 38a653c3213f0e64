//! `scalelab sweep FILE --set PATH=SPEC ... --seeds N`: run a grid of overrides, a table
//! row and a JSON line per point, and the best point meeting every SLO.

use super::{bad, report_error, Output, EXIT_WRITE};
use models::batch::sweep::{beats, Axis, PointResult, Shard, Sweep, MAX_POINTS, MINIMIZE};
use models::scenario::overrides::Override;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `scalelab sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (.ron).
    pub file: PathBuf,
    /// An axis: PATH=LIST (a,b,c) or PATH=LO..HI (integers, both included) or
    /// PATH=LO..HI:STEP, e.g. web.instances=2..16 (repeatable; the grid is their product).
    #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
    pub sets: Vec<String>,
    /// Seeds per point (the same seeds at every point).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub seeds: u32,
    /// Base seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated duration at every point (overrides the file's), e.g. "10m".
    #[arg(long)]
    pub duration: Option<String>,
    /// Report the point with the lowest mean of this figure among those meeting every SLO:
    /// cost, p50_latency, p95_latency, p99_latency, error_rate.
    #[arg(long, value_name = "FIGURE")]
    pub minimize: Option<String>,
    /// Append a JSON line per point to this file; an interrupted sweep run again with the
    /// same file skips the points already in it.
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
    /// Write a CSV row per point to this file (whole or not at all).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Print a JSON summary (with `best`) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Threads (default: all cores). Never changes the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Draw p99 and cost against each axis of several values (a line per combination of
    /// the others) as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Run only shard K of N: the points whose index is K − 1 modulo N (needs --jsonl;
    /// `scalelab merge` joins the shards' files).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

/// Points run together (in parallel); results are written after each batch.
const BATCH: usize = 16;

/// The points of `path` from this sweep (by fingerprint), its last partial line (an
/// interrupted write) cut off. Another sweep's points are an error.
fn resume(path: &Path, fp: &str) -> Result<Vec<PointResult>, String> {
    let Ok(f) = std::fs::File::open(path) else {
        return Ok(vec![]);
    };
    let mut text = String::new();
    std::io::BufReader::new(f)
        .read_to_string_lossy(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let whole = text.rfind('\n').map_or(0, |i| i + 1);
    if whole < text.len() {
        // A line cut by an interruption: drop it, it runs again.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot repair {}: {e}", path.display()))?;
        f.set_len(whole as u64)
            .map_err(|e| format!("cannot repair {}: {e}", path.display()))?;
    }
    let mut out = vec![];
    for (n, line) in text[..whole].lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: PointResult = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}:{}: not a sweep point ({e}); is this the right file?",
                path.display(),
                n + 1
            )
        })?;
        if p.sweep != fp {
            return Err(format!(
                "{}:{}: a point of another sweep (its file, axes, seeds or duration differ)",
                path.display(),
                n + 1
            ));
        }
        out.push(p);
    }
    Ok(out)
}

trait ReadLossy {
    fn read_to_string_lossy(&mut self, s: &mut String) -> std::io::Result<()>;
}

impl<R: BufRead> ReadLossy for R {
    fn read_to_string_lossy(&mut self, s: &mut String) -> std::io::Result<()> {
        let mut bytes = vec![];
        self.read_to_end(&mut bytes)?;
        s.push_str(&String::from_utf8_lossy(&bytes));
        Ok(())
    }
}

/// Table cells of a point (the axes of more than one value: `shown`).
fn row(p: &PointResult, shown: &[bool]) -> Vec<String> {
    let s = &p.summary;
    let mut r = vec![p.point.to_string()];
    r.extend(
        p.set
            .0
            .iter()
            .zip(shown)
            .filter(|x| *x.1)
            .map(|((_, v), _)| v.clone()),
    );
    r.push(format!("{:.1}", s.throughput.mean));
    r.push(format!("{:.4}", s.error_rate.mean));
    r.push(models::report::human_secs(s.p99_latency.mean));
    r.push(format!("{:.4}", s.cost.mean));
    r.push(if p.slos.is_empty() {
        "-".into()
    } else if p.meets_slos {
        "✔".into()
    } else {
        let failed: Vec<&str> = p
            .slos
            .iter()
            .filter(|s| !s.pass)
            .map(|s| s.name.as_str())
            .collect();
        format!("✘ {}", failed.join("; "))
    });
    r
}

/// CSV header and rows.
fn csv_header(axes: &[Axis], slos: &[String]) -> String {
    let mut h = vec!["point".to_string()];
    h.extend(axes.iter().map(|a| a.path.clone()));
    for f in [
        "throughput",
        "error_rate",
        "p50_latency",
        "p95_latency",
        "p99_latency",
        "cost",
    ] {
        h.push(f.into());
        h.push(format!("{f}_ci95"));
    }
    for s in slos {
        h.push(format!("slo: {s}"));
        h.push(format!("slo met: {s}"));
    }
    h.push("meets_slos".into());
    csv_line(&h)
}

fn csv_row(p: &PointResult) -> String {
    let s = &p.summary;
    let mut r = vec![p.point.to_string()];
    r.extend(p.set.0.iter().map(|(_, v)| v.clone()));
    for e in [
        s.throughput,
        s.error_rate,
        s.p50_latency,
        s.p95_latency,
        s.p99_latency,
        s.cost,
    ] {
        r.push(e.mean.to_string());
        r.push(e.ci95.to_string());
    }
    for x in &p.slos {
        r.push(x.value.to_string());
        r.push(x.pass.to_string());
    }
    r.push(p.meets_slos.to_string());
    csv_line(&r)
}

/// A CSV line: fields quoted where they hold a comma, a quote or a newline.
fn csv_line(fields: &[String]) -> String {
    let mut out = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    out
}

/// Run the command.
pub fn run(args: SweepArgs) -> ExitCode {
    let text = match models::scenario::parse::read_text(&args.file) {
        Ok(t) => t,
        Err(e) => return report_error(&e),
    };
    let mut axes: Vec<Axis> = vec![];
    for s in &args.sets {
        match Axis::parse(s) {
            Ok(a) if axes.iter().any(|x| x.path == a.path) => {
                return bad(
                    format!("--set {}: `{}` is swept twice", s, a.path),
                    "give each path one --set with all its values: --set web.instances=2,4,8",
                )
            }
            Ok(a) => axes.push(a),
            Err(m) => return bad(format!("--set {m}"), "see scalelab sweep --help"),
        }
    }
    if let Some(m) = &args.minimize {
        if !MINIMIZE.contains(&m.as_str()) {
            return bad(
                format!("--minimize {m}: not a figure a sweep can minimise"),
                &format!("one of {}", MINIMIZE.join(", ")),
            );
        }
    }
    if args.plot.is_some() && axes.iter().all(|a| a.values.len() < 2) {
        return bad(
            "--plot: no axis has two values or more to plot against".into(),
            "sweep an axis over several values, e.g. --set web.instances=2..8",
        );
    }
    let shard = match args.shard.as_deref().map(Shard::parse) {
        Some(Ok(s)) => Some(s),
        Some(Err(m)) => return bad(m, "shards are numbered from 1: --shard 1/4 ... --shard 4/4"),
        None => None,
    };
    if shard.is_some() && args.jsonl.is_none() {
        return bad(
            "--shard needs --jsonl: a shard's points are merged from its file".into(),
            "scalelab sweep FILE --set ... --shard 1/4 --jsonl shard-1.jsonl; then scalelab merge shard-*.jsonl",
        );
    }
    let mut fixed = vec![];
    if let Some(d) = &args.duration {
        if let Err(e) = sim_core::parse_duration(d) {
            return bad(format!("--duration {d}: {e}"), "e.g. --duration 10m");
        }
        fixed.push(Override {
            path: "duration".into(),
            value: d.clone(),
        });
    }
    let mut sweep = Sweep {
        file: args.file.display().to_string(),
        text: text.to_string(),
        axes,
        seeds: args.seeds,
        base_seed: 0,
        fixed,
    };
    let points = sweep.points();
    if points > MAX_POINTS {
        return bad(
            format!("the grid has {points} points, more than {MAX_POINTS}"),
            "sweep fewer values, or split the grid into several sweeps",
        );
    }
    // Every value of every axis checked once (the others at their first value), before
    // anything runs.
    let mut stride = 1u64;
    for a in sweep.axes.iter().rev() {
        for k in 0..a.values.len() as u64 {
            if let Err(e) = sweep.scenario(k * stride) {
                return report_error(&e);
            }
        }
        stride *= a.values.len() as u64;
    }
    let first = match sweep.scenario(0) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    sweep.base_seed = args.seed.unwrap_or(first.seed);
    let slo_names: Vec<String> = first.slos.iter().map(|s| s.name(&first)).collect();
    if args.minimize.is_some() && slo_names.is_empty() {
        eprintln!(
            "warning: {} declares no SLOs, so every point meets them and --minimize picks the lowest figure of all; add slos: [...] to the file, or --set 'slos=[P99Latency(under: \"200ms\")]'",
            sweep.file
        );
    }
    let fp = sweep.fingerprint();
    let done = match &args.jsonl {
        Some(p) => match resume(p, &fp) {
            Ok(d) => d,
            Err(m) => return bad(m, "remove the file, or give another --jsonl"),
        },
        None => vec![],
    };
    let mut jsonl = match &args.jsonl {
        Some(p) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Some(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", p.display());
                return ExitCode::from(EXIT_WRITE);
            }
        },
        None => None,
    };
    let mut csv = match args.csv.as_deref().map(|p| Output::open(Some(p))) {
        Some(Ok(o)) => Some(o),
        Some(Err(e)) => {
            eprintln!("error: cannot write the CSV: {e}");
            return ExitCode::from(EXIT_WRITE);
        }
        None => None,
    };
    let write_err = |what: &str, e: std::io::Error| {
        eprintln!("error: cannot write {what}: {e}");
        ExitCode::from(EXIT_WRITE)
    };
    if let Some(c) = csv.as_mut() {
        if let Err(e) = c.append(csv_header(&sweep.axes, &slo_names).as_bytes()) {
            return write_err("the CSV", e);
        }
    }
    let minimize = args.minimize.clone();
    let mut best: Option<PointResult> = None;
    let mut consider = |p: &PointResult| {
        if let Some(m) = &minimize {
            if beats(p, best.as_ref(), m) {
                best = Some(p.clone());
            }
        }
    };
    let mut table: Vec<Vec<String>> = vec![];
    // Axes of one value are the same at every point: said once, not a column.
    let shown: Vec<bool> = sweep.axes.iter().map(|a| a.values.len() > 1).collect();
    let single: Vec<String> = sweep
        .axes
        .iter()
        .filter(|a| a.values.len() == 1)
        .map(|a| format!("{}={}", a.path, a.values[0]))
        .collect();
    if !single.is_empty() && !args.json {
        println!("at every point: {}", single.join(", "));
    }
    let columns: Vec<&Axis> = sweep.axes.iter().filter(|a| a.values.len() > 1).collect();
    let header = {
        let mut h = vec!["point".to_string()];
        h.extend(columns.iter().map(|a| a.path.clone()));
        h.extend(["throughput/s", "error rate", "p99", "cost", "SLOs"].map(String::from));
        h
    };
    // Column widths fixed up front, so that every batch's rows line up.
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let values = match c {
                0 => points.to_string().len(),
                c if c <= columns.len() => columns[c - 1]
                    .values
                    .iter()
                    .map(|v| v.chars().count())
                    .max()
                    .unwrap_or(0),
                _ => 10,
            };
            h.chars().count().max(values)
        })
        .collect();
    let skipped: std::collections::HashSet<u64> = done.iter().map(|p| p.point).collect();
    // Only a plot keeps the points (the sweep itself streams them).
    let mut kept: Vec<PointResult> = vec![];
    for p in &done {
        if args.plot.is_some() {
            kept.push(p.clone());
        }
        consider(p);
        if let Some(c) = csv.as_mut() {
            if let Err(e) = c.append(csv_row(p).as_bytes()) {
                return write_err("the CSV", e);
            }
        }
    }
    drop(done);
    if !skipped.is_empty() && !args.json {
        println!(
            "resumed: {} of {points} points already in {}",
            skipped.len(),
            args.jsonl
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    let mine = |i: u64| shard.is_none_or(|s| s.owns(i));
    let todo = (0..points)
        .filter(|&i| mine(i) && !skipped.contains(&i))
        .count() as u64;
    let bar = super::progress(todo * args.seeds as u64, "runs", args.quiet);
    let tick = || bar.inc(1);
    let mut batch = Vec::with_capacity(BATCH);
    let mut next = 0u64;
    let mut printed_header = false;
    let mut ran = 0u64;
    while next < points {
        batch.clear();
        while next < points && batch.len() < BATCH {
            if mine(next) && !skipped.contains(&next) {
                batch.push(next);
            }
            next += 1;
        }
        if batch.is_empty() {
            continue;
        }
        let results = match sweep.run(&batch, args.threads.map(usize::from), &tick) {
            Ok(r) => r,
            Err(e) => {
                bar.finish_and_clear();
                return report_error(&e);
            }
        };
        ran += results.len() as u64;
        for p in &results {
            consider(p);
            if args.plot.is_some() {
                kept.push(p.clone());
            }
            if let Some(j) = jsonl.as_mut() {
                let line = serde_json::to_string(p).expect("a point serialises") + "\n";
                if let Err(e) = j.write_all(line.as_bytes()) {
                    return write_err("the JSON lines", e);
                }
            }
            if let Some(c) = csv.as_mut() {
                if let Err(e) = c.append(csv_row(p).as_bytes()) {
                    return write_err("the CSV", e);
                }
            }
            if !args.json {
                table.push(row(p, &shown));
            }
        }
        if let Some(j) = jsonl.as_mut() {
            if let Err(e) = j.flush() {
                return write_err("the JSON lines", e);
            }
        }
        if !args.json {
            // Rows as each batch ends, aligned within it (the header's widths at least).
            let mut rows = if printed_header {
                vec![]
            } else {
                vec![header.clone()]
            };
            rows.append(&mut table);
            bar.suspend(|| print_rows(&rows, &widths));
            printed_header = true;
        }
    }
    bar.finish_and_clear();
    if let Some(path) = &args.plot {
        kept.sort_by_key(|p| p.point);
        let svg = match super::plot::sweep_axes(&sweep.axes, &kept) {
            Ok(s) => s,
            Err(m) => {
                return bad(
                    format!("--plot: {m}"),
                    "sweep an axis over two values or more",
                )
            }
        };
        if let Err(e) = Output::open(Some(path)).and_then(|o| o.write(svg.as_bytes())) {
            return write_err("the plot", e);
        }
    }
    if let Some(c) = csv {
        if let Err(e) = c.finish() {
            return write_err("the CSV", e);
        }
    }
    if args.json {
        let v = serde_json::json!({
            "sweep": fp,
            "file": sweep.file,
            "axes": sweep.axes.iter().map(|a| serde_json::json!({"path": a.path, "values": a.values})).collect::<Vec<_>>(),
            "seeds": sweep.seeds,
            "base_seed": sweep.base_seed,
            "points": points,
            "run": ran,
            "skipped": skipped.len(),
            "minimize": args.minimize,
            "best": best,
        });
        let text = serde_json::to_string_pretty(&v).expect("serialises") + "\n";
        if let Err(e) = Output::Stdout.write(text.as_bytes()) {
            return write_err("the summary", e);
        }
    } else if let Some(m) = &args.minimize {
        match &best {
            Some(b) => {
                let e = b.figure(m).expect("a known figure");
                let set: Vec<String> = b
                    .set
                    .0
                    .iter()
                    .zip(&shown)
                    .filter(|x| *x.1)
                    .map(|((k, v), _)| format!("{k}={v}"))
                    .collect();
                println!(
                    "\nlowest {m} meeting every SLO: point {} ({}): {m} {} ± {} (95% CI over {} seeds)",
                    b.point,
                    set.join(", "),
                    models::report::human_figure(m, e.mean),
                    models::report::human_figure(m, e.ci95),
                    sweep.seeds
                );
            }
            None => println!("\nno point meets every SLO"),
        }
    }
    ExitCode::SUCCESS
}

/// Print rows in columns of `width` (the last one as it is).
fn print_rows(rows: &[Vec<String>], width: &[usize]) {
    let mut out = std::io::stdout().lock();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line += cell;
            } else {
                let pad = width[c].saturating_sub(cell.chars().count());
                line += &format!("{}{cell}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

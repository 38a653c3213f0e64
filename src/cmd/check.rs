//! `scalelab check PATH... [--junit out.xml] [--seeds N]`: run every scenario, check its
//! SLOs and `expect:` assertions, print a line per scenario and assertion, write JUnit,
//! and exit non-zero when any fails — with the commands that replay each failure.

use super::{Output, EXIT_BAD_INPUT, EXIT_SLO, EXIT_WRITE};
use models::report::{Report, RunOutcome};
use models::scenario::variants::slo_key;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `scalelab check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files, or folders of them (their .ron files, sorted).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Seeds per scenario: figures are means over them (as `run --replications`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub seeds: u32,
    /// Simulated duration of every scenario (overrides the files'), e.g. "2m".
    #[arg(long, value_parser = super::run::parse_duration_arg)]
    pub duration: Option<sim_core::SimTime>,
    /// Write the results as JUnit XML to this file (whole or not at all).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Threads (default: all cores). Never changes the results.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The scenario files named by `paths` (folders: their `.ron` files, sorted), or why not.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    for p in paths {
        if p.is_dir() {
            let found = super::ron_files(p)?;
            if found.is_empty() {
                return Err(format!(
                    "{}: no .ron scenario files in this folder",
                    p.display()
                ));
            }
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}

/// One assertion's outcome.
struct Verdict {
    /// `slo p99_latency ≤ 0.5s` / `expect web.utilization ≤ 0.9` / `completes`.
    name: String,
    pass: bool,
    /// The figure, as printed.
    value: String,
    /// Why it could not be evaluated.
    error: Option<String>,
    /// The seed of a replication that fails it, and when it first broke (SLOs).
    replay: Option<(u64, Option<f64>)>,
}

/// A scenario's outcome.
enum Outcome {
    /// It did not load.
    Invalid(String),
    /// It ran: its assertions.
    Ran(Vec<Verdict>),
}

/// The verdicts of a scenario run on `reps` (merged in `mean`).
fn verdicts(sc: &Arc<models::Scenario>, mean: &Report, reps: &[Report]) -> Vec<Verdict> {
    let mut out = vec![];
    let failing = |pick: &dyn Fn(&Report) -> bool| -> u64 {
        reps.iter()
            .find(|r| pick(r))
            .map_or(reps[0].seed, |r| r.seed)
    };
    // The run itself: cut by a limit is a failure (its figures are not the scenario's).
    let cut = mean.outcome != RunOutcome::Completed;
    out.push(Verdict {
        name: "completes".into(),
        pass: !cut,
        // As the JSON report names it: completed, in_flight_limit, event_limit, stalled.
        value: serde_json::to_value(mean.outcome)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        error: None,
        replay: cut.then(|| {
            (
                failing(&|r: &Report| r.outcome != RunOutcome::Completed),
                None,
            )
        }),
    });
    // When each SLO first broke, per seed replayed: one re-run per seed, not per SLO. An
    // SLO the design is meant to break passes by failing.
    let mut breaches: Vec<(u64, Vec<Option<f64>>)> = vec![];
    for (k, s) in mean.slo.iter().enumerate() {
        let meant = sc.breaks.iter().any(|b| b == slo_key(&s.name));
        if meant {
            out.push(Verdict {
                name: format!("slo {} breaks, as meant", s.name),
                pass: !s.pass,
                value: models::report::human_figure(&s.name, s.value),
                error: None,
                replay: s.pass.then(|| {
                    let seed = failing(&|r: &Report| r.slo.get(k).is_some_and(|x| x.pass));
                    (seed, None)
                }),
            });
            continue;
        }
        let replay = (!s.pass).then(|| {
            let seed = failing(&|r: &Report| r.slo.get(k).is_some_and(|x| !x.pass));
            let i = match breaches.iter().position(|b| b.0 == seed) {
                Some(i) => i,
                None => {
                    breaches.push((seed, models::batch::first_breach(sc, seed)));
                    breaches.len() - 1
                }
            };
            (seed, breaches[i].1.get(k).copied().flatten())
        });
        out.push(Verdict {
            name: format!("slo {}", s.name),
            pass: s.pass,
            value: models::report::human_figure(&s.name, s.value),
            error: None,
            replay,
        });
    }
    for (k, e) in mean.expect.iter().enumerate() {
        out.push(Verdict {
            name: format!("expect {}", e.name),
            pass: e.pass,
            value: {
                let v = e
                    .value
                    .map_or("-".into(), |v| models::report::human_figure(&e.name, v));
                match &e.bounds {
                    Some(b) => format!("{v} ({b})"),
                    None => v,
                }
            },
            error: e.error.clone(),
            replay: (!e.pass && e.error.is_none()).then(|| {
                (
                    failing(&|r: &Report| r.expect.get(k).is_some_and(|x| !x.pass)),
                    None,
                )
            }),
        });
    }
    out
}

/// `2m10s`-style time for a command line (whole seconds, rounded up so the breach shows).
fn at_flag(t: f64) -> String {
    let s = t.ceil() as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// Run the command.
pub fn run(args: CheckArgs) -> ExitCode {
    let files = match files(&args.paths) {
        Ok(f) => f,
        Err(m) => {
            eprintln!("error: {m}");
            eprintln!("  help: scalelab check scenarios/ (a folder) or scalelab check a.ron b.ron");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let junit_out = match args.junit.as_deref().map(|p| Output::open(Some(p))) {
        Some(Ok(o)) => Some(o),
        Some(Err(e)) => {
            eprintln!("error: cannot write the JUnit report: {e}");
            return ExitCode::from(EXIT_WRITE);
        }
        None => None,
    };
    // Every scenario, then each of its variants: `FILE` and `FILE --variant NAME`.
    let mut shown: Vec<String> = vec![];
    let mut loaded: Vec<Result<Arc<models::Scenario>, String>> = vec![];
    for f in &files {
        let name = f.display().to_string();
        let set = |sc: models::Scenario| -> Result<Arc<models::Scenario>, String> {
            let mut sc = sc;
            if let Some(d) = args.duration {
                sc.set_duration(d).map_err(|m| format!("{name}: {m}"))?;
            }
            Ok(Arc::new(sc))
        };
        let base = models::scenario::parse::read_text(f)
            .and_then(|text| models::load_str(&name, &text).map(|sc| (sc, text)));
        match base {
            Err(e) => {
                shown.push(name.clone());
                loaded.push(Err(e.to_string()));
            }
            Ok((sc, text)) => {
                let variants: Vec<String> = sc.variants.iter().map(|v| v.name.clone()).collect();
                for v in &variants {
                    let vs = models::variant_of(&sc, &name, &text, v).map_err(|e| e.to_string());
                    shown.push(format!("{name} --variant {v}"));
                    loaded.push(vs.and_then(set));
                }
                let at = shown.len() - variants.len();
                shown.insert(at, name.clone());
                loaded.insert(at, set(sc));
            }
        }
    }
    let n = args.seeds as usize;
    let ok: Vec<usize> = (0..loaded.len()).filter(|&i| loaded[i].is_ok()).collect();
    let bar = super::progress((ok.len() * n) as u64, "runs", args.quiet);
    let reports: Vec<Report> =
        sim_core::par_map(ok.len() * n, args.threads.map(usize::from), |job| {
            let sc = loaded[ok[job / n]].as_ref().expect("loaded");
            let seed = sim_core::replication_seed(sc.seed, (job % n) as u32);
            let r = Report::from_run(sc, &models::world::simulate_with(sc, seed, false))
                .without_series();
            bar.inc(1);
            r
        });
    bar.finish_and_clear();
    let mut outcomes = vec![];
    let mut next = 0;
    for l in &loaded {
        outcomes.push(match l {
            Err(m) => Outcome::Invalid(m.clone()),
            Ok(sc) => {
                let reps = &reports[next * n..(next + 1) * n];
                next += 1;
                let mean = if n == 1 {
                    reps[0].clone()
                } else {
                    Report::merge(sc, reps).0
                };
                Outcome::Ran(verdicts(sc, &mean, reps))
            }
        });
    }
    // The report: a line per scenario, one per assertion, and how to replay failures.
    let (mut passed, mut failed, mut invalid, mut checks, mut broken) = (0, 0, 0, 0, 0);
    let mut text = String::new();
    let mut suites = vec![];
    for (shown, o) in shown.iter().zip(&outcomes) {
        let shown = shown.clone();
        let mut suite = TestSuite::new(shown.clone());
        match o {
            Outcome::Invalid(m) => {
                invalid += 1;
                text += &format!(
                    "✘ {shown}: does not load\n    {}\n",
                    m.replace('\n', "\n    ")
                );
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                st.set_message("the scenario does not load")
                    .set_description(m.clone());
                let mut tc = TestCase::new("loads", st);
                tc.set_classname(shown.clone());
                suite.add_test_case(tc);
            }
            Outcome::Ran(vs) => {
                let ok = vs.iter().all(|v| v.pass);
                if ok {
                    passed += 1;
                } else {
                    failed += 1;
                }
                let seeds = if n > 1 {
                    format!(" (means over {n} seeds)")
                } else {
                    String::new()
                };
                text += &format!("{} {shown}{seeds}\n", if ok { "✔" } else { "✘" });
                let mut replays: Vec<(u64, Option<f64>)> = vec![];
                for v in vs {
                    checks += 1;
                    let mark = if v.pass { "✔" } else { "✘" };
                    let mut line = format!("    {mark} {}: {}", v.name, v.value);
                    if let Some(e) = &v.error {
                        line += &format!(" — {e}");
                    }
                    if let Some((seed, at)) = v.replay {
                        match at {
                            Some(t) => {
                                line += &format!(
                                    "  (seed {seed}: first broken at {})",
                                    tui::view::clock(t)
                                )
                            }
                            None => line += &format!("  (seed {seed})"),
                        }
                        if !replays.iter().any(|r| r.0 == seed && r.1 == at) {
                            replays.push((seed, at));
                        }
                    }
                    if !v.pass {
                        broken += 1;
                    }
                    text += &line;
                    text.push('\n');
                    let status = if v.pass {
                        TestCaseStatus::success()
                    } else {
                        let mut st = TestCaseStatus::non_success(if v.error.is_some() {
                            NonSuccessKind::Error
                        } else {
                            NonSuccessKind::Failure
                        });
                        let mut msg = format!("{}: {}", v.name, v.value);
                        if let Some(e) = &v.error {
                            msg += &format!(" — {e}");
                        }
                        st.set_message(msg);
                        if let Some((seed, at)) = v.replay {
                            st.set_description(replay_lines(&shown, seed, at, args.duration));
                        }
                        st
                    };
                    let mut tc = TestCase::new(v.name.clone(), status);
                    tc.set_classname(shown.clone());
                    suite.add_test_case(tc);
                }
                for (seed, at) in replays {
                    for l in replay_lines(&shown, seed, at, args.duration).lines() {
                        text += &format!("    {l}\n");
                    }
                }
            }
        }
        suites.push(suite);
    }
    let designs = if outcomes.len() > files.len() {
        format!(
            "{} scenarios and {} variants",
            files.len(),
            outcomes.len() - files.len()
        )
    } else {
        format!("{} scenarios", files.len())
    };
    text += &format!(
        "\n{designs}: {passed} passed, {failed} failed, {invalid} invalid; {broken} of {checks} checks failed\n"
    );
    print!("{text}");
    if let Some(out) = junit_out {
        let mut report = quick_junit::Report::new("scalelab check");
        report.add_test_suites(suites);
        let xml = report.to_string().expect("JUnit serialises");
        if let Err(e) = out.write(xml.as_bytes()) {
            eprintln!("error: cannot write the JUnit report: {e}");
            return ExitCode::from(EXIT_WRITE);
        }
    }
    if invalid > 0 {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if failed > 0 {
        ExitCode::from(EXIT_SLO)
    } else {
        ExitCode::SUCCESS
    }
}

/// The commands that replay a failure: the run with its seed, and the terminal UI
/// opened where it first broke.
fn replay_lines(
    file: &str,
    seed: u64,
    at: Option<f64>,
    duration: Option<sim_core::SimTime>,
) -> String {
    let dur = duration.map_or(String::new(), |d| {
        format!(" --duration {}", at_flag(d.as_secs_f64()))
    });
    let mut s = format!("replay: scalelab run {file} --seed {seed}{dur}\n");
    s += &match at {
        Some(t) => format!(
            "watch:  scalelab tui {file} --seed {seed} --at {}\n",
            at_flag(t)
        ),
        None => format!("watch:  scalelab tui {file} --seed {seed}\n"),
    };
    s
}

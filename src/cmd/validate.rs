//! `scalelab validate`: check a scenario and print its graph with a static capacity
//! estimate.

use super::report_error;
use models::analysis::capacity::Estimate;
use models::ids::NodeId;
use std::path::Path;
use std::process::ExitCode;

/// Run the command.
pub fn run(file: &Path) -> ExitCode {
    let sc = match models::load(file) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    // Every variant must build too.
    for v in &sc.variants {
        if let Err(e) = models::load_variant(file, &v.name) {
            return report_error(&e);
        }
    }
    let mut o = format!(
        "{}: ok — scenario `{}`, {} simulated, seed {}\n",
        file.display(),
        sc.name,
        sc.duration,
        sc.seed
    );
    if !sc.description.is_empty() {
        o += &format!("  {}\n", sc.description);
    }
    o += &describe(&sc);
    print(&o)
}

/// `scalelab explain FILE`: what the scenario shows, then what `validate` says (the graph
/// and the capacity prediction), so a student can predict before running.
pub fn explain(file: &Path) -> ExitCode {
    let sc = match models::load(file) {
        Ok(s) => s,
        Err(e) => return report_error(&e),
    };
    let topic = if sc.topic.is_empty() {
        String::new()
    } else {
        format!(" — {}", sc.topic)
    };
    let mut o = format!("{}{topic}\n", sc.name);
    let about = if sc.description.is_empty() {
        "(no description)"
    } else {
        &sc.description
    };
    o += &format!("\n{}\n", wrap(about, 88, ""));
    if !sc.lesson.is_empty() {
        o += &format!("\nLesson\n{}\n", wrap(&sc.lesson, 88, "  "));
    }
    o += &format!(
        "\n{} simulated (the first {} not measured), seed {}.",
        sc.duration, sc.warmup, sc.seed
    );
    o += " Below: the graph, what is scheduled, and the capacity at peak load\nfrom queueing arithmetic alone — predict the run, then run it.\n";
    o += &describe(&sc);
    let f = file.display();
    if !sc.breaks.is_empty() {
        o += &format!(
            "\nThis design is meant to break: {}.\n",
            sc.breaks.join(", ")
        );
    }
    if !sc.variants.is_empty() {
        o += "\nVariants (the lesson's other side; scalelab run FILE --variant NAME):\n";
        for v in &sc.variants {
            // A value over several lines (a whole graph) is the file's to show.
            let sets: Vec<String> = v
                .sets
                .iter()
                .map(|s| s.to_string())
                .map(|s| match s.split_once('\n') {
                    Some((first, _)) => {
                        format!(
                            "{} … ({} lines; see the file)",
                            first.trim_end(),
                            s.lines().count()
                        )
                    }
                    None => s,
                })
                .collect();
            o += &format!("  {}: {}\n", v.name, sets.join(", "));
            if !v.description.is_empty() {
                o += &format!("{}\n", wrap(&v.description, 84, "    "));
            }
        }
    }
    o += &format!(
        "\nThen:\n  scalelab run {f}          the report\n  scalelab tui {f}          watch it live\n  scalelab check {f}        its SLOs and expectations\n"
    );
    if let Some(v) = sc.variants.first() {
        o += &format!(
            "  scalelab compare {f} --variant {}    both sides, on the same traffic\n",
            v.name
        );
    }
    print(&o)
}

fn print(o: &str) -> ExitCode {
    if let Err(e) = super::Output::Stdout.write(o.as_bytes()) {
        eprintln!("error: cannot write to stdout: {e}");
        return ExitCode::from(super::EXIT_WRITE);
    }
    ExitCode::SUCCESS
}

/// `text` in lines of at most `width` characters, each after `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for w in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
                out += &format!("{indent}{line}\n");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line += w;
        }
        out += &format!("{indent}{line}\n");
    }
    out.trim_end().to_string()
}

/// The graph, actions, faults, SLOs, expectations and the static capacity estimate.
fn describe(sc: &models::Scenario) -> String {
    let est = Estimate::of(sc);
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "\nGraph");
    for s in &sc.sources {
        let _ = writeln!(
            o,
            "  {} (source, peak {:.0}/s, mean {:.0}/s) -> {}",
            s.name,
            s.profile.max_rate(sc.duration.as_secs_f64()),
            s.profile.mean_rate(sc.duration.as_secs_f64()),
            sc.nodes[s.target.index()].name
        );
    }
    for (i, n) in sc.nodes.iter().enumerate() {
        let callees: Vec<&str> = sc
            .callees(NodeId::new(i))
            .iter()
            .map(|&c| sc.nodes[c.index()].name.as_str())
            .collect();
        let arrow = if callees.is_empty() {
            String::new()
        } else {
            format!(" -> {}", callees.join(", "))
        };
        let what = match n.kind.as_service() {
            Some(sv) => {
                let auto = sv
                    .autoscale
                    .as_ref()
                    .map_or(String::new(), |a| format!(", autoscaled by {}", a.label()));
                format!("service, {} × {} cores{auto}", sv.instances, sv.cores)
            }
            None => n.kind.kind().label().to_string(),
        };
        let _ = writeln!(o, "  {} ({what}){arrow}", n.name);
    }
    if !sc.actions.is_empty() {
        let _ = writeln!(o, "\nActions");
        for a in &sc.actions {
            let _ = writeln!(
                o,
                "  {:>10}  {:<14} {}",
                a.at.to_string(),
                a.verb
                    .node()
                    .map_or("", |n| sc.nodes[n.index()].name.as_str()),
                a.verb.describe()
            );
        }
    }
    if !sc.faults.is_empty() {
        let _ = writeln!(o, "\nFaults");
        for f in &sc.faults {
            let when = match f.end {
                Some(end) => format!("{} – {}", f.start, end),
                None => format!("from {}", f.start),
            };
            let _ = writeln!(o, "  {when:>18}  {}", f.name);
        }
    }
    if !sc.slos.is_empty() {
        let _ = writeln!(
            o,
            "\nSLOs (checked by run; --fail-on-slo exits 4 when one fails)"
        );
        for s in &sc.slos {
            let _ = writeln!(o, "  {}", s.name(sc));
        }
    }
    if !sc.expect.is_empty() {
        let _ = writeln!(o, "\nExpectations (checked by scalelab check)");
        for e in &sc.expect {
            let _ = writeln!(o, "  {}", e.name());
        }
    }
    if !sc.alerts.is_empty() {
        let _ = writeln!(o, "\nAlerts (evaluated as the run goes; on the timeline)");
        for a in &sc.alerts {
            let _ = writeln!(o, "  {:<16} {}", a.name, a.rule(sc));
        }
    }
    let _ = writeln!(
        o,
        "\nCapacity at peak load ({:.0} req/s from all sources)",
        est.peak_rate
    );
    let _ = writeln!(
        o,
        "  {:<14} {:<14} {:>12} {:>10} {:>8} {:>7}",
        "node", "kind", "offered/s", "E[S]", "workers", "ρ"
    );
    for n in &est.nodes {
        let (es, w, rho) = if n.workers > 0 {
            (
                models::report::human_secs(n.service_s),
                n.workers.to_string(),
                format!("{:.2}", n.rho),
            )
        } else {
            ("-".into(), "-".into(), "-".into())
        };
        let warn = if n.workers > 0 && n.rho >= 1.0 {
            "  WARNING: ρ ≥ 1, the queue grows at peak"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  {:<14} {:<14} {:>12.1} {:>10} {:>8} {:>7}{warn}",
            n.name, n.kind, n.offered, es, w, rho
        );
        if n.servers.len() > 1 {
            let parts: Vec<String> = n
                .servers
                .iter()
                .map(|(s, r)| format!("{s} {r:.2}"))
                .collect();
            let _ = writeln!(o, "      ρ per server: {}", parts.join(", "));
        }
        for note in &n.notes {
            let _ = writeln!(o, "      {note}");
        }
    }
    if let Some(b) = est.bottleneck {
        let n = &est.nodes[b];
        let _ = writeln!(o, "\nPredicted bottleneck: {} (ρ = {:.2} at peak); maximum throughput ≈ {:.0} req/s at this mix",
            n.name, n.rho, est.max_throughput);
    }
    o
}

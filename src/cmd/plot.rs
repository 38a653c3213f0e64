//! `--plot out.svg`: a run's time series as stacked SVG charts (plotters): throughput and
//! errors, latency percentiles, instances, backlog, cache hit ratio — with faults,
//! actions, deployments and autoscaler decisions marked as vertical lines.

use models::report::{Report, Series, TimelineKind};
use plotters::prelude::*;

/// One chart: a title, a y-axis label, and its lines (a name and points (x, y)).
struct Panel {
    title: String,
    unit: &'static str,
    lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// A series sampled every `interval` (the first at `interval`) as points, scaled.
fn points(v: &[f64], interval: f64, scale: f64) -> Vec<(f64, f64)> {
    v.iter()
        .enumerate()
        .map(|(i, y)| ((i + 1) as f64 * interval, y * scale))
        .collect()
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// mm:ss (or h:mm) of simulated seconds, for the time axis.
fn clock(s: f64) -> String {
    let s = s.max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}h", s / 3600, s / 60 % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A figure for the y axis: no needless decimals.
fn figure(y: f64) -> String {
    let a = y.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{y:.0}")
    } else if a >= 1.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.3}")
    }
}

fn panels(s: &Series, r: &Report) -> Vec<Panel> {
    let line = |name: &str, v: &[f64], scale: f64| (name.to_string(), points(v, s.interval, scale));
    let mut out = vec![Panel {
        title: "throughput and errors".into(),
        unit: "requests/s",
        lines: vec![
            line("completed", &s.completed, 1.0),
            line("failed", &s.errors, 1.0),
        ],
    }];
    // Milliseconds, or seconds once the tail passes 2 s.
    let worst = s.p99.iter().copied().fold(0.0f64, f64::max);
    let (unit, scale) = if worst > 2.0 {
        ("s", 1.0)
    } else {
        ("ms", 1000.0)
    };
    out.push(Panel {
        title: "end-to-end latency".into(),
        unit,
        lines: vec![
            line("p50", &s.p50, scale),
            line("p95", &s.p95, scale),
            line("p99", &s.p99, scale),
        ],
    });
    let pools: Vec<(String, Vec<(f64, f64)>)> = s
        .nodes
        .iter()
        .zip(&r.nodes)
        .filter(|(_, n)| n.kind.label() == "service")
        .flat_map(|(ns, _)| {
            let mut v = vec![line(&format!("{} serving", ns.name), &ns.instances, 1.0)];
            if !ns.desired.is_empty() {
                v.push(line(&format!("{} desired", ns.name), &ns.desired, 1.0));
            }
            v
        })
        .collect();
    if !pools.is_empty() {
        out.push(Panel {
            title: "instances".into(),
            unit: "instances",
            lines: pools,
        });
    }
    let queued: Vec<(String, Vec<(f64, f64)>)> = s
        .nodes
        .iter()
        .filter(|n| n.queue.iter().any(|&q| q > 0.0))
        .map(|n| line(&n.name, &n.queue, 1.0))
        .collect();
    if !queued.is_empty() {
        out.push(Panel {
            title: "backlog".into(),
            unit: "waiting",
            lines: queued,
        });
    }
    let caches: Vec<(String, Vec<(f64, f64)>)> = s
        .nodes
        .iter()
        .filter(|n| !n.hit_ratio.is_empty())
        .map(|n| line(&n.name, &n.hit_ratio, 100.0))
        .collect();
    if !caches.is_empty() {
        out.push(Panel {
            title: "cache hit ratio".into(),
            unit: "%",
            lines: caches,
        });
    }
    out
}

/// Vertical lines for a report's faults (red), actions and deployments (grey) and
/// autoscaler decisions (blue).
fn marks(r: &Report) -> Vec<(f64, RGBColor)> {
    r.timeline
        .iter()
        .filter_map(|e| match e.kind {
            TimelineKind::Fault => Some((e.t, RGBColor(214, 39, 40))),
            TimelineKind::Action | TimelineKind::Deploy => Some((e.t, RGBColor(127, 127, 127))),
            TimelineKind::Autoscale => Some((e.t, RGBColor(31, 119, 180))),
            _ => None,
        })
        .collect()
}

/// The SVG text of `r`'s series (which it must have).
pub fn svg(r: &Report) -> Result<String, String> {
    let s = r
        .series
        .as_ref()
        .ok_or("the report has no time series to plot")?;
    let n = s.p99.len().max(s.completed.len());
    let t_end = (n as f64 * s.interval).max(s.interval);
    let title = format!(
        "{} — seed {}{}",
        r.scenario,
        r.seed,
        if r.replications > 1 {
            format!(", mean of {} replications", r.replications)
        } else {
            String::new()
        }
    );
    draw(&title, &panels(s, r), &marks(r), t_end)
}

/// Designs compared, overlaid: each design's throughput, errors, p99 and instances in
/// service (all pools) over time, from one run each on the same seed.
pub fn overlay(designs: &[(String, Report)]) -> Result<String, String> {
    let mut t_end = 0.0f64;
    // Milliseconds, or seconds once a tail passes 2 s.
    let worst = designs
        .iter()
        .filter_map(|d| d.1.series.as_ref())
        .flat_map(|s| s.p99.iter().copied())
        .fold(0.0f64, f64::max);
    let (unit, scale) = if worst > 2.0 {
        ("s", 1.0)
    } else {
        ("ms", 1000.0)
    };
    let mut panels = vec![
        ("throughput", "requests/s"),
        ("failed requests", "requests/s"),
        ("p99 latency", unit),
        ("instances serving (all pools)", "instances"),
    ]
    .into_iter()
    .map(|(t, u)| Panel {
        title: t.into(),
        unit: u,
        lines: vec![],
    })
    .collect::<Vec<_>>();
    for (name, r) in designs {
        let s = r
            .series
            .as_ref()
            .ok_or("a design's report has no time series to plot")?;
        t_end = t_end.max(s.p99.len() as f64 * s.interval);
        let serving: Vec<f64> = (0..s.p99.len())
            .map(|i| {
                s.nodes
                    .iter()
                    .zip(&r.nodes)
                    .filter(|(_, n)| n.kind.label() == "service")
                    .map(|(ns, _)| ns.instances.get(i).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect();
        for (p, (v, scale)) in panels.iter_mut().zip([
            (&s.completed, 1.0),
            (&s.errors, 1.0),
            (&s.p99, scale),
            (&serving, 1.0),
        ]) {
            p.lines.push((name.clone(), points(v, s.interval, scale)));
        }
    }
    let seed = designs.first().map_or(0, |d| d.1.seed);
    draw(
        &format!("{} designs on seed {seed}", designs.len()),
        &panels,
        &[],
        t_end.max(1.0),
    )
}

/// The horizontal axis: its range (NaN: each panel's own points) and how its ticks read.
struct XAxis<'a> {
    from: f64,
    to: f64,
    label: &'a dyn Fn(&f64) -> String,
}

/// Stacked charts of `panels` over simulated time 0..`t_end`, `marks` drawn on each.
fn draw(
    title: &str,
    panels: &[Panel],
    marks: &[(f64, RGBColor)],
    t_end: f64,
) -> Result<String, String> {
    let label = |x: &f64| clock(*x);
    draw_on(
        title,
        panels,
        marks,
        XAxis {
            from: 0.0,
            to: t_end,
            label: &label,
        },
    )
}

/// Stacked charts of `panels` over `x`, `marks` drawn on each.
fn draw_on(
    title: &str,
    panels: &[Panel],
    marks: &[(f64, RGBColor)],
    x: XAxis,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let h = 230 * panels.len() as u32 + 40;
        let root = SVGBackend::with_string(&mut out, (1000, h)).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<_>| format!("cannot draw the plot: {e}");
        root.fill(&WHITE).map_err(err)?;
        let (top, rest) = root.split_vertically(40);
        top.titled(title, ("sans-serif", 20)).map_err(err)?;
        let areas = rest.split_evenly((panels.len(), 1));
        for (area, p) in areas.iter().zip(panels) {
            let ymax = p
                .lines
                .iter()
                .flat_map(|l| l.1.iter().map(|q| q.1))
                .filter(|v| v.is_finite())
                .fold(0.0f64, f64::max);
            // Nothing above 0 (no errors at all): a 0..1 axis, not a microscopic one.
            let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
            // No range given: the panel's own points, with a margin.
            let (x0, x1) = if x.from.is_nan() {
                let (lo, hi) = p
                    .lines
                    .iter()
                    .flat_map(|l| l.1.iter().map(|q| q.0))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(v), b.max(v))
                    });
                let pad = ((hi - lo) * 0.05).max(0.5);
                (lo - pad, hi + pad)
            } else {
                (x.from, x.to)
            };
            let mut chart = ChartBuilder::on(area)
                .caption(&p.title, ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(26)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, 0f64..ymax)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_labels(10)
                .y_labels(5)
                .x_label_formatter(x.label)
                .y_label_formatter(&|y| figure(*y))
                .y_desc(p.unit)
                .light_line_style(RGBColor(240, 240, 240))
                .draw()
                .map_err(err)?;
            for &(t, c) in marks {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(t, 0.0), (t, ymax)],
                        c.mix(0.5),
                    )))
                    .map_err(err)?;
            }
            for (k, (name, pts)) in p.lines.iter().enumerate() {
                let c = COLORS[k % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A sweep: per axis of several values, p99 and cost against the axis's values (numbers
/// on a number line; other values at their positions), one line per combination of the
/// other axes (at most 8 shown).
pub fn sweep_axes(
    axes: &[models::batch::sweep::Axis],
    points: &[models::batch::sweep::PointResult],
) -> Result<String, String> {
    let mut panels = vec![];
    for (a, axis) in axes.iter().enumerate().filter(|(_, x)| x.values.len() > 1) {
        let numeric: Option<Vec<f64>> = axis.values.iter().map(|v| v.parse().ok()).collect();
        let xs: Vec<f64> = numeric
            .clone()
            .unwrap_or_else(|| (0..axis.values.len()).map(|i| i as f64).collect());
        // Lines: the combinations of the other axes, in order of first appearance.
        let others = |p: &models::batch::sweep::PointResult| -> String {
            p.set
                .0
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != a && axes.get(*k).is_some_and(|x| x.values.len() > 1))
                .map(|(_, (k, v))| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut keys: Vec<String> = vec![];
        for p in points {
            let k = others(p);
            if !keys.contains(&k) && keys.len() < 8 {
                keys.push(k);
            }
        }
        for (title, unit, pick) in [
            (
                "p99 latency",
                "ms",
                (|p: &models::batch::sweep::PointResult| p.summary.p99_latency.mean * 1000.0)
                    as fn(&_) -> f64,
            ),
            ("cost", "cost", |p| p.summary.cost.mean),
        ] {
            let lines = keys
                .iter()
                .map(|k| {
                    let mut pts: Vec<(f64, f64)> = points
                        .iter()
                        .filter(|p| &others(p) == k)
                        .filter_map(|p| {
                            let v = &p.set.0.get(a)?.1;
                            let i = axis.values.iter().position(|x| x == v)?;
                            Some((xs[i], pick(p)))
                        })
                        .collect();
                    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
                    (
                        if k.is_empty() {
                            axis.path.clone()
                        } else {
                            k.clone()
                        },
                        pts,
                    )
                })
                .collect();
            panels.push(Panel {
                title: format!("{title} against {}", axis.path),
                unit,
                lines,
            });
        }
    }
    if panels.is_empty() {
        return Err("no axis of the sweep has more than one value to plot against".into());
    }
    let label = |x: &f64| figure(*x);
    draw_on(
        &format!("sweep of {} points", points.len()),
        &panels,
        &[],
        // Each panel's range from its own axis's values.
        XAxis {
            from: f64::NAN,
            to: f64::NAN,
            label: &label,
        },
    )
}

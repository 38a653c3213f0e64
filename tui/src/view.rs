//! Drawing: every view reads the [`App`] (its latest snapshot and histories) and nothing
//! else, so it can be drawn on ratatui's `TestBackend` in tests.

use crate::app::{App, SPEEDS};
use models::world::observe::NodeSnapshot;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph, Wrap};
use ratatui::Frame;
use std::collections::VecDeque;

/// Colours on, unless `NO_COLOR` is set (then symbols carry the load alone).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Use colour.
    pub color: bool,
}

impl Theme {
    /// From the environment.
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
}

/// Load as a colour and a symbol usable without colour.
fn load(u: f64) -> (Color, &'static str) {
    if u >= 0.9 {
        (Color::Red, "●")
    } else if u >= 0.7 {
        (Color::Yellow, "◐")
    } else {
        (Color::Green, "○")
    }
}

/// mm:ss (or h:mm:ss) of simulated seconds.
pub fn clock(s: f64) -> String {
    let s = s.max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &App, theme: Theme) {
    let area = f.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(area);
    let main = rows[0];
    if main.width >= 60 && main.height >= 12 {
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .split(main);
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(68), Constraint::Min(4)])
            .split(cols[1]);
        topology(f, app, theme, cols[0]);
        charts(f, app, theme, right[0]);
        log(f, app, right[1]);
    } else {
        // Too small for panels: the topology alone.
        topology(f, app, theme, main);
    }
    status(f, app, theme, rows[1]);
    if app.help {
        popup(f, area, "Keys", HELP);
    } else if app.detail {
        let (title, text) = detail(app);
        popup(f, area, &title, &text);
    } else if app.lesson {
        let text = if app.description.is_empty() {
            "This scenario has no description or lesson."
        } else {
            &app.description
        };
        popup(f, area, &format!("Lesson: {}", app.title), text);
    }
}

/// The selected node's detail: its figures and a line per instance.
pub fn detail(app: &App) -> (String, String) {
    let i = app.selected;
    let (name, kind, _) = app.nodes.get(i).cloned().unwrap_or_default();
    let Some(n) = app.snap.nodes.get(i) else {
        return (name, "no data yet".into());
    };
    let mut t = format!(
        "{kind}: {:.0}% busy over the last slice, {} waiting, {} present, {} refused, {} killed\n",
        app.load(i) * 100.0,
        n.queued,
        n.present,
        n.rejected,
        n.killed
    );
    if let Some([started, lost, moved]) = n.sessions {
        t += &format!(
            "sessions in instance memory: {started} started, {lost} lost with their instance, {moved} moved\n"
        );
    }
    if !n.instances.is_empty() {
        t += "\n  #  state      zone        busy  queue  speed\n";
        let zones = app.zones.get(i).map(Vec::as_slice).unwrap_or(&[]);
        for (k, x) in n
            .instances
            .iter()
            .enumerate()
            .filter(|x| x.1.life != "stopped")
        {
            t += &format!(
                "{k:>3}  {:<9}  {:<10} {:>2}/{:<2} {:>6}  {}\n",
                x.life,
                zones.get(x.zone as usize).map_or("-", String::as_str),
                x.busy,
                x.cores,
                x.queued,
                if x.speed < 1.0 {
                    format!("×{}", x.speed)
                } else {
                    "full".into()
                }
            );
        }
    }
    (format!("{name} (enter / esc: close)"), t)
}

/// The keys, for `?`.
pub const HELP: &str = "space  pause / resume\n\
+ -    faster / slower (x1 ... x100000, max)\n\
.      one step while paused\n\
tab    select the next node (shift-tab, arrows: others)\n\
enter  the selected node's detail: each instance's state, zone, busy, queue\n\
k      kill an instance of the selected node\n\
l      inject latency on it (again: heal)\n\
e      inject errors on it (again: heal)\n\
f      flush it (a cache) or fail its primary over (a database)\n\
z      take its zone down (again: bring it back)\n\
h      heal everything broken by hand\n\
r      restart from t = 0 with the same seed\n\
s      save the faults injected so far as RON\n\
d      the lesson: description, lesson, SLOs meant to break, variants\n\
b      back to the scenario picker (when it opened this one)\n\
?      this help    esc  close    q  quit";

fn popup(f: &mut Frame, area: Rect, title: &str, text: &str) {
    let w = area.width.saturating_sub(4).min(70);
    // Lines as wrapped inside the borders.
    let inner = w.saturating_sub(2).max(1) as usize;
    let lines: usize = text
        .lines()
        .map(|l| l.chars().count().div_ceil(inner).max(1))
        .sum();
    let h = area.height.saturating_sub(2).min(lines as u16 + 3);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text.to_string())
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(title.to_string()),
            ),
        r,
    );
}

/// A node's heading (selection, name, bottleneck mark) and its lines: load and instances;
/// queue, errors and what is broken; whom it calls.
fn node_parts(
    app: &App,
    i: usize,
    n: &NodeSnapshot,
    theme: Theme,
) -> (Vec<Span<'static>>, Vec<Line<'static>>) {
    let (name, kind, _) = &app.nodes[i];
    let u = app.load(i);
    let (color, sym) = load(u);
    // The busiest node; a bottleneck once it is near saturation.
    let mark = match Some(i) == app.bottleneck() {
        true if u >= 0.9 => " ◆ bottleneck",
        true if u >= 0.5 => " ◇ busiest",
        _ => "",
    };
    let sel = if i == app.selected { "▶ " } else { "" };
    let head = vec![
        Span::raw(sel),
        Span::styled(name.clone(), Style::default().add_modifier(Modifier::BOLD)),
        Span::styled(mark, theme.fg(Color::Magenta).add_modifier(Modifier::BOLD)),
    ];
    let mut first = vec![Span::raw(kind.to_string())];
    if n.workers > 0 || *kind == "service" {
        first.push(Span::styled(
            format!(" {sym} {:>3.0}%", u * 100.0),
            theme.fg(color),
        ));
    }
    if *kind == "service" {
        let down = n.serving == 0;
        let inst = format!(" {}/{} up", n.serving, n.size);
        first.push(if down || n.serving < n.size {
            Span::styled(
                format!("{inst}{}", if down { " ✗ DOWN" } else { "" }),
                theme.fg(Color::Red),
            )
        } else {
            Span::raw(inst)
        });
    }
    if n.primaries_down > 0 {
        first.push(Span::styled(
            match n.primaries_down {
                1 => " primary ✗ DOWN".to_string(),
                k => format!(" {k} primaries ✗ DOWN"),
            },
            theme.fg(Color::Red),
        ));
    }
    let mut second = vec![Span::raw(format!("q {}", n.queued))];
    let rate = app.error_rate(i);
    if rate > 0.0 {
        second.push(Span::styled(
            format!(" err {rate:.0}/s"),
            theme.fg(Color::Red),
        ));
    } else if n.rejected + n.killed > 0 {
        second.push(Span::raw(format!(" err {}", n.rejected + n.killed)));
    }
    for (id, what) in [
        (app.armed.latency.get(i).copied().flatten(), " [latency]"),
        (app.armed.errors.get(i).copied().flatten(), " [errors]"),
    ] {
        if app.holds(id) {
            second.push(Span::styled(what, theme.fg(Color::Red)));
        }
    }
    for z in app.zones.get(i).into_iter().flatten() {
        let k = app.zone_names.iter().position(|x| x == z);
        if k.is_some_and(|k| app.snap.zones_down.get(k) == Some(&true)) {
            second.push(Span::styled(
                format!(" zone {z} ✗ DOWN"),
                theme.fg(Color::Red),
            ));
        }
    }
    let mut lines = vec![Line::from(first), Line::from(second)];
    if let Some(c) = app.calls.get(i).filter(|c| !c.is_empty()) {
        let names: Vec<&str> = c.iter().map(|&k| app.nodes[k].0.as_str()).collect();
        lines.push(Line::styled(
            format!("→ {}", names.join(", ")),
            Style::default().add_modifier(Modifier::DIM),
        ));
    }
    (head, lines)
}

/// The declared zones, down or up, and the partitions between them (empty without zones).
fn zones_line(app: &App, theme: Theme) -> Option<Line<'static>> {
    if app.zone_names.is_empty() || app.zone_names == ["default"] {
        return None;
    }
    let mut spans = vec![Span::raw("zones")];
    for (k, z) in app.zone_names.iter().enumerate() {
        if app.snap.zones_down.get(k) == Some(&true) {
            spans.push(Span::styled(format!(" {z} ✗ DOWN"), theme.fg(Color::Red)));
        } else {
            spans.push(Span::raw(format!(" {z} ✔")));
        }
    }
    for &(a, b) in &app.snap.partitions {
        let name = |k: u16| app.zone_names.get(k as usize).map_or("?", String::as_str);
        spans.push(Span::styled(
            format!(" · {} ⇹ {} cut", name(a), name(b)),
            theme.fg(Color::Red),
        ));
    }
    Some(Line::from(spans))
}

/// The graph in layers, top to bottom in call order (the sources' targets first, the
/// data stores last): each node a box with its load, instances, queue, errors and calls,
/// boxes of a layer side by side. Where the boxes do not fit, a compact list.
fn topology(f: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let title = format!(" {} — topology ", app.title);
    let outer = Block::default().borders(Borders::ALL).title(title);
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    if app.snap.nodes.is_empty() {
        f.render_widget(Paragraph::new("starting…"), inner);
        return;
    }
    let zones = zones_line(app, theme);
    let max_depth = app.nodes.iter().map(|n| n.2).max().unwrap_or(0);
    let parts: Vec<_> = app
        .snap
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| node_parts(app, i, n, theme))
        .collect();
    // Boxes: place each layer's boxes in rows that fit the width.
    let mut placed = vec![]; // (node, rect)
    let mut y = inner.y + u16::from(zones.is_some());
    let mut fits = true;
    for d in 0..=max_depth {
        let members: Vec<usize> = (0..parts.len())
            .filter(|&i| app.nodes.get(i).is_some_and(|x| x.2 == d))
            .collect();
        if members.is_empty() {
            continue;
        }
        y += 1; // the layer's heading
        let (mut x, mut row_h) = (inner.x, 0u16);
        for &i in &members {
            let (head, lines) = &parts[i];
            let w = lines
                .iter()
                .map(Line::width)
                .chain([head.iter().map(Span::width).sum::<usize>() + 2])
                .max()
                .unwrap_or(0) as u16
                + 2;
            let w = w.min(inner.width);
            let h = lines.len() as u16 + 2;
            if x > inner.x && x + w > inner.right() {
                (x, y) = (inner.x, y + row_h);
                row_h = 0;
            }
            placed.push((i, Rect::new(x, y, w, h)));
            x += w + 1;
            row_h = row_h.max(h);
        }
        y += row_h;
        if y > inner.bottom() {
            fits = false;
            break;
        }
    }
    if let Some(z) = &zones {
        f.render_widget(Paragraph::new(z.clone()), Rect { height: 1, ..inner });
    }
    if fits {
        let mut last_depth = None;
        for &(i, r) in &placed {
            let d = app.nodes[i].2;
            if last_depth != Some(d) {
                let text = if d == 0 { "sources ↓" } else { "↓ calls" };
                f.render_widget(
                    Paragraph::new(Line::styled(
                        text,
                        Style::default().add_modifier(Modifier::DIM),
                    )),
                    Rect::new(inner.x, r.y - 1, inner.width, 1),
                );
                last_depth = Some(d);
            }
            let (head, lines) = &parts[i];
            let u = app.load(i);
            let mut border = Style::default();
            if Some(i) == app.bottleneck() && u >= 0.9 {
                border = theme.fg(Color::Red);
            }
            let mut block = Block::default()
                .borders(Borders::ALL)
                .border_style(border)
                .title(Line::from(head.clone()));
            if i == app.selected {
                block = block.border_type(ratatui::widgets::BorderType::Double);
            }
            f.render_widget(Paragraph::new(lines.clone()).block(block), r);
        }
        return;
    }
    // Compact: a heading per layer, two or three lines per node, scrolled so that the
    // selected node shows.
    let mut lines: Vec<Line> = zones.into_iter().collect();
    let mut selected_at = 0;
    for d in 0..=max_depth {
        let arrow = if d == 0 {
            "sources → layer 1".into()
        } else {
            format!("→ layer {}", d + 1)
        };
        lines.push(Line::styled(
            arrow,
            Style::default().add_modifier(Modifier::DIM),
        ));
        for (i, (head, body)) in parts.iter().enumerate() {
            if app.nodes.get(i).is_some_and(|x| x.2 == d) {
                if i == app.selected {
                    selected_at = lines.len();
                }
                let mut h = vec![Span::raw(if i == app.selected { "" } else { "  " })];
                h.extend(head.iter().cloned());
                lines.push(Line::from(h));
                for l in body {
                    let mut spans = vec![Span::raw("    ")];
                    spans.extend(l.spans.iter().cloned());
                    lines.push(Line::from(spans).style(l.style));
                }
            }
        }
    }
    let scroll = (selected_at + 4).saturating_sub(inner.height as usize) as u16;
    f.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// Seconds in three figures at most: `0.8ms`, `12ms`, `1.3s`, `240s`.
fn ms(s: f64) -> String {
    if s < 0.01 {
        format!("{:.1}ms", s * 1e3)
    } else if s < 1.0 {
        format!("{:.0}ms", s * 1e3)
    } else if s < 10.0 {
        format!("{s:.1}s")
    } else {
        format!("{s:.0}s")
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (1 for nothing): a round top
/// for a chart's axis.
fn nice(v: f64) -> f64 {
    if !(v > 0.0 && v.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|k| k * p)
        .find(|&x| x >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * p)
}

/// A compact figure for an axis label.
fn short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1.0 && v.fract() == 0.0 || v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A line chart over the history's times: each series a line, each mark (a simulated
/// time) a dotted vertical line, the y axis from 0 to a round figure above the largest
/// value, labelled with `label`; over the times `t`, drawn in `theme`.
fn chart(
    f: &mut Frame,
    area: Rect,
    title: Line<'static>,
    series: &[(&VecDeque<f64>, Color, f64)],
    marks: &[f64],
    label: fn(f64) -> String,
    (t, theme): (&VecDeque<f64>, Theme),
) {
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let (t0, t1) = (
        t.front().copied().unwrap_or(0.0),
        t.back().copied().unwrap_or(1.0),
    );
    let t1 = if t1 > t0 { t1 } else { t0 + 1.0 };
    let data: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|(v, _, scale)| {
            t.iter()
                .zip(v.iter())
                .filter(|(_, y)| y.is_finite())
                .map(|(&x, &y)| (x, y * scale))
                .collect()
        })
        .collect();
    let top = nice(data.iter().flatten().map(|p| p.1).fold(0.0f64, f64::max) * 1.05);
    let ticks: Vec<(f64, f64)> = marks
        .iter()
        .filter(|&&m| m >= t0 && m <= t1)
        .flat_map(|&m| (0..=16).map(move |k| (m, top * k as f64 / 16.0)))
        .collect();
    let mut sets: Vec<Dataset> = data
        .iter()
        .zip(series)
        .map(|(d, (_, c, _))| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.fg(*c))
                .data(d)
        })
        .collect();
    sets.insert(
        0,
        Dataset::default()
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(theme.fg(Color::Magenta))
            .data(&ticks),
    );
    let chart = Chart::new(sets)
        .block(Block::default().borders(Borders::ALL).title(title))
        .x_axis(Axis::default().bounds([t0, t1]))
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([Span::raw("0"), Span::raw(label(top))]),
        )
        .legend_position(None);
    f.render_widget(chart, area);
}

fn charts(f: &mut Frame, app: &App, theme: Theme, area: Rect) {
    use models::report::TimelineKind as K;
    let h = &app.history;
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Ratio(1, 4); 4])
        .split(area);
    let last = |v: &VecDeque<f64>| v.back().copied().unwrap_or(0.0);
    let empty = Default::default();
    let node = h.nodes.get(app.selected).unwrap_or(&empty);
    let name = app.nodes.get(app.selected).map_or("", |n| n.0.as_str());
    let coloured = |text: String, c: Color| Span::styled(text, theme.fg(c));
    // Faults, actions, deployments and alerts anywhere; the selected node's autoscaler too.
    let all: Vec<f64> = h
        .marks
        .iter()
        .filter(|m| m.kind != K::Autoscale)
        .map(|m| m.t)
        .collect();
    let own: Vec<f64> = h
        .marks
        .iter()
        .filter(|m| m.node == name)
        .map(|m| m.t)
        .collect();
    chart(
        f,
        rows[0],
        Line::from(vec![
            coloured(format!(" done {:.0}/s ", last(&h.throughput)), Color::Green),
            coloured(format!("errors {:.0}/s ", last(&h.errors)), Color::Red),
        ]),
        &[
            (&h.throughput, Color::Green, 1.0),
            (&h.errors, Color::Red, 1.0),
        ],
        &all,
        short,
        (&h.t, theme),
    );
    let secs = |v: &VecDeque<f64>| ms(last(v));
    chart(
        f,
        rows[1],
        Line::from(vec![
            coloured(format!(" p50 {} ", secs(&h.p50)), Color::Green),
            coloured(format!("p95 {} ", secs(&h.p95)), Color::Yellow),
            coloured(format!("p99 {} ", secs(&h.p99)), Color::Red),
        ]),
        &[
            (&h.p50, Color::Green, 1.0),
            (&h.p95, Color::Yellow, 1.0),
            (&h.p99, Color::Red, 1.0),
        ],
        &all,
        ms,
        (&h.t, theme),
    );
    let pool = app
        .nodes
        .get(app.selected)
        .is_some_and(|n| n.1 == "service");
    if !pool {
        chart(
            f,
            rows[2],
            Line::from(format!(
                " {name}: {:.0}% busy ",
                app.load(app.selected) * 100.0
            )),
            &[(&node.util, Color::Cyan, 100.0)],
            &own,
            short,
            (&h.t, theme),
        );
    }
    let metric = app.metrics.get(app.selected).copied().flatten();
    let inst_area = if metric.is_some() {
        let halves = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Ratio(1, 2); 2])
            .split(rows[2]);
        if let Some(m) = metric {
            let now = app.snap.nodes.get(app.selected).and_then(|n| n.metric);
            chart(
                f,
                halves[1],
                Line::from(format!(" reads {} ", now.map_or("-".into(), |v| m.show(v)))),
                &[(&node.metric, Color::Yellow, 1.0)],
                &own,
                short,
                (&h.t, theme),
            );
        }
        halves[0]
    } else {
        rows[2]
    };
    if pool {
        chart(
            f,
            inst_area,
            Line::from(vec![
                coloured(format!(" {name}: {}", last(&node.serving)), Color::Cyan),
                coloured(format!("/{} up ", last(&node.size)), Color::Blue),
            ]),
            &[
                (&node.size, Color::Blue, 1.0),
                (&node.serving, Color::Cyan, 1.0),
            ],
            &own,
            short,
            (&h.t, theme),
        );
    }
    if app.nodes.get(app.selected).is_some_and(|n| n.1 == "cache") {
        chart(
            f,
            rows[3],
            Line::from(format!(
                " {name}: hit ratio {:.0}% ",
                last(&node.hit_ratio) * 100.0
            )),
            &[(&node.hit_ratio, Color::Blue, 100.0)],
            &own,
            short,
            (&h.t, theme),
        );
    } else {
        chart(
            f,
            rows[3],
            Line::from(format!(" {name}: {} waiting ", last(&node.queue))),
            &[(&node.queue, Color::Magenta, 1.0)],
            &own,
            short,
            (&h.t, theme),
        );
    }
}

fn log(f: &mut Frame, app: &App, area: Rect) {
    let n = area.height.saturating_sub(2) as usize;
    let items: Vec<ListItem> = app
        .log
        .iter()
        .skip(app.log.len().saturating_sub(n))
        .map(|e| {
            let node = if e.node.is_empty() {
                String::new()
            } else {
                format!(" {}", e.node)
            };
            ListItem::new(format!(
                "{} {}{node}: {}",
                clock(e.t),
                e.kind.label(),
                e.text
            ))
        })
        .collect();
    f.render_widget(
        List::new(items).block(Block::default().borders(Borders::ALL).title(" events ")),
        area,
    );
}

fn status(f: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let speed = match SPEEDS[app.speed] {
        Some(s) => format!("×{s}"),
        None => "max".into(),
    };
    let state = if app.done {
        "ended".to_string()
    } else if app.paused {
        "PAUSED".to_string()
    } else if app.snap.t.as_secs_f64() < app.warmup {
        format!("warm-up to {} (not measured)", clock(app.warmup))
    } else {
        "running".to_string()
    };
    let msg = if app.message.is_empty() {
        "space pause  +/- speed  tab select  d lesson  k l e f z h break/heal  s save  ? help  q quit"
            .to_string()
    } else {
        app.message.clone()
    };
    let line = Line::from(vec![
        Span::styled(
            format!(" t {} ", clock(app.snap.t.as_secs_f64())),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{speed} ")),
        Span::styled(
            format!("{state} "),
            if app.paused {
                theme.fg(Color::Yellow)
            } else {
                Style::default()
            },
        ),
        Span::raw(format!("seed {} ", app.seed)),
        slo_span(app, theme),
        Span::raw(format!("│ {msg}")),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// `SLO ✔ 2/2`, or the first failing one: `SLO ✘ p99_latency ≤ 0.5s (2.61s)`.
fn slo_span(app: &App, theme: Theme) -> Span<'static> {
    if app.slo.is_empty() {
        return Span::raw("");
    }
    match app.slo.iter().find(|s| s.pass == Some(false)) {
        Some(s) => {
            let v = s
                .value
                .map_or("-".into(), |v| models::report::human_figure(&s.name, v));
            Span::styled(format!("SLO ✘ {} ({v}) ", s.name), theme.fg(Color::Red))
        }
        None => {
            let ok = app.slo.iter().filter(|s| s.pass == Some(true)).count();
            Span::styled(
                format!("SLO ✔ {ok}/{} ", app.slo.len()),
                theme.fg(Color::Green),
            )
        }
    }
}

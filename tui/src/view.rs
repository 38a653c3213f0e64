//! Drawing: every view reads the [`App`] (its latest snapshot and histories) and nothing
//! else, so it can be drawn on ratatui's `TestBackend` in tests.

use crate::app::{App, SPEEDS};
use models::world::observe::NodeSnapshot;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

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
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
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
            "This scenario has no description."
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
tab    select the next node (shift-tab, arrows: others)
enter  the selected node's detail: each instance's state, zone, busy, queue\n\
k      kill an instance of the selected node\n\
r      restart from t = 0 with the same seed\n\
s      save the faults injected so far as RON\n\
d      the scenario's description (lesson)\n\
?      this help    esc  close    q  quit";

fn popup(f: &mut Frame, area: Rect, title: &str, text: &str) {
    let w = area.width.saturating_sub(4).min(70);
    let h = area
        .height
        .saturating_sub(2)
        .min(text.lines().count() as u16 + 6);
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

/// One node's lines in the topology.
fn node_lines(app: &App, i: usize, n: &NodeSnapshot, theme: Theme) -> Vec<Line<'static>> {
    let (name, kind, _) = &app.nodes[i];
    let u = app.load(i);
    let (color, sym) = load(u);
    // The busiest node; a bottleneck once it is near saturation.
    let mark = match Some(i) == app.bottleneck() {
        true if u >= 0.9 => " ◆ bottleneck",
        true if u > 0.0 => " ◇ busiest",
        _ => "",
    };
    let sel = if i == app.selected { "▶ " } else { "  " };
    let head = vec![
        Span::raw(sel),
        Span::styled(name.clone(), Style::default().add_modifier(Modifier::BOLD)),
        Span::styled(mark, theme.fg(Color::Magenta).add_modifier(Modifier::BOLD)),
    ];
    let mut detail = vec![Span::raw(format!("    {kind}"))];
    if n.workers > 0 || *kind == "service" {
        detail.push(Span::styled(
            format!(" {sym} {:>3.0}%", u * 100.0),
            theme.fg(color),
        ));
    }
    if *kind == "service" {
        let down = n.serving == 0;
        let inst = format!(" {}/{} up", n.serving, n.size);
        detail.push(if down || n.serving < n.size {
            Span::styled(
                format!("{inst}{}", if down { " ✗ DOWN" } else { "" }),
                theme.fg(Color::Red),
            )
        } else {
            Span::raw(inst)
        });
    }
    detail.push(Span::raw(format!(" q {}", n.queued)));
    for (id, what) in [
        (app.armed.latency.get(i).copied().flatten(), " [latency]"),
        (app.armed.errors.get(i).copied().flatten(), " [errors]"),
    ] {
        if app.holds(id) {
            detail.push(Span::styled(what, theme.fg(Color::Red)));
        }
    }
    if n.rejected + n.killed > 0 {
        detail.push(Span::styled(
            format!(" err {}", n.rejected + n.killed),
            theme.fg(Color::Red),
        ));
    }
    vec![Line::from(head), Line::from(detail)]
}

/// The graph in layers: depth 0 (the sources' targets) first, each layer's nodes under
/// its heading, with the load of each.
fn topology(f: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let max_depth = app.nodes.iter().map(|n| n.2).max().unwrap_or(0);
    let mut lines = vec![];
    for d in 0..=max_depth {
        let arrow = if d == 0 { "sources →" } else { "→" };
        lines.push(Line::styled(
            format!("{arrow} layer {}", d + 1),
            Style::default().add_modifier(Modifier::DIM),
        ));
        for (i, n) in app.snap.nodes.iter().enumerate() {
            if app.nodes.get(i).is_some_and(|x| x.2 == d) {
                lines.extend(node_lines(app, i, n, theme));
            }
        }
    }
    if app.snap.nodes.is_empty() {
        lines.push(Line::raw("starting…"));
    }
    let title = format!(" {} — topology ", app.title);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn spark(v: &std::collections::VecDeque<f64>, scale: f64, width: u16) -> Vec<u64> {
    let n = v.len().min(width as usize);
    v.iter()
        .skip(v.len() - n)
        .map(|x| (x * scale).round().max(0.0) as u64)
        .collect()
}

fn charts(f: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let h = &app.history;
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Ratio(1, 4); 4])
        .split(area);
    let top = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Ratio(1, 2); 2])
        .split(rows[0]);
    let last = |v: &std::collections::VecDeque<f64>| v.back().copied().unwrap_or(0.0);
    let w = area.width.saturating_sub(2);
    let empty = Default::default();
    let node = h.nodes.get(app.selected).unwrap_or(&empty);
    let name = app.nodes.get(app.selected).map_or("", |n| n.0.as_str());
    let items = [
        (
            format!(" done {:.0}/s ", last(&h.throughput)),
            spark(&h.throughput, 1.0, w / 2),
            Color::Green,
            top[0],
        ),
        (
            format!(" errors {:.0}/s ", last(&h.errors)),
            spark(&h.errors, 1.0, w / 2),
            Color::Red,
            top[1],
        ),
        (
            format!(" p99 {} ", models::report::human_secs(last(&h.p99))),
            spark(&h.p99, 1000.0, w),
            Color::Yellow,
            rows[1],
        ),
        (
            format!(
                " {name}: {} serving of {}{} ",
                last(&node.serving),
                last(&node.size),
                match (
                    app.metrics.get(app.selected).copied().flatten(),
                    app.snap.nodes.get(app.selected).and_then(|n| n.metric),
                ) {
                    (Some(m), Some(v)) => format!(" · reads {}", m.show(v)),
                    _ => String::new(),
                }
            ),
            spark(&node.serving, 1.0, w),
            Color::Cyan,
            rows[2],
        ),
        if app.nodes.get(app.selected).is_some_and(|n| n.1 == "cache") {
            (
                format!(" {name}: hit ratio {:.0}% ", last(&node.hit_ratio) * 100.0),
                spark(&node.hit_ratio, 100.0, w),
                Color::Blue,
                rows[3],
            )
        } else {
            (
                format!(" {name}: {} waiting ", last(&node.queue)),
                spark(&node.queue, 1.0, w),
                Color::Magenta,
                rows[3],
            )
        },
    ];
    for (title, data, c, r) in items {
        f.render_widget(
            Sparkline::default()
                .data(&data)
                .style(theme.fg(c))
                .block(Block::default().borders(Borders::ALL).title(title)),
            r,
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
            ListItem::new(format!(
                "{} {} {}: {}",
                clock(e.t),
                e.kind.label(),
                e.node,
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
        "ended"
    } else if app.paused {
        "PAUSED"
    } else {
        "running"
    };
    let msg = if app.message.is_empty() {
        "space pause  +/- speed  tab select  k l e f z h break/heal  s save  ? help  q quit"
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
            let v = s.value.map_or("-".into(), |v| {
                if s.name.contains("latency") {
                    models::report::human_secs(v)
                } else {
                    format!("{v:.4}")
                }
            });
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

//! The scenario picker `scalelab tui` opens without a FILE where a `scenarios/` folder is
//! at hand: the built-in default and each scenario file, with its description, each
//! lesson's variants under it; `enter` opens one, and `b` in the running UI comes back
//! here.

use models::Scenario;
use ratatui::layout::{Constraint, Direction, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;
use std::sync::Arc;

/// One scenario on offer: where it comes from, and it loaded (or why not).
#[derive(Debug, Clone)]
pub struct Choice {
    /// Its file (or `built-in default`), and ` --variant NAME` for a variant.
    pub path: String,
    /// A lesson's declared variant (listed under its scenario): its name and description.
    pub variant: Option<(String, String)>,
    /// The scenario, or the error that loading it gave (shown, never opened).
    pub scenario: Result<Arc<Scenario>, String>,
}

/// The picker's state: a pure state machine like [`crate::app::App`].
#[derive(Debug, Default)]
pub struct Picker {
    /// The highlighted choice.
    pub selected: usize,
    /// A line under the list (why a choice cannot open).
    pub message: String,
}

/// What a key in the picker asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Nothing yet.
    Stay,
    /// Open this choice.
    Open(usize),
    /// Leave scalelab.
    Quit,
}

impl Picker {
    /// A key: move, open, or quit.
    pub fn key(&mut self, k: crate::app::Key, choices: &[Choice]) -> Pick {
        use crate::app::Key;
        self.message.clear();
        let n = choices.len().max(1);
        match k {
            Key::Next => self.selected = (self.selected + 1) % n,
            Key::Prev => self.selected = (self.selected + n - 1) % n,
            Key::Enter => match choices.get(self.selected).map(|c| &c.scenario) {
                Some(Ok(_)) => return Pick::Open(self.selected),
                Some(Err(e)) => self.message = e.lines().next().unwrap_or_default().to_string(),
                None => {}
            },
            Key::Char('q') | Key::Esc => return Pick::Quit,
            _ => {}
        }
        Pick::Stay
    }
}

/// Draw the list (name and file) beside the highlighted scenario's description.
pub fn draw(f: &mut Frame, picker: &Picker, choices: &[Choice]) {
    let area = f.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(area);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
        .split(rows[0]);
    let items: Vec<ListItem> = choices
        .iter()
        .map(|c| {
            let name = match (&c.scenario, &c.variant) {
                (Ok(_), Some((v, _))) => Span::raw(format!("  ↳ {v}")),
                (Ok(sc), None) => Span::styled(
                    sc.name.clone(),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                (Err(_), Some((v, _))) => Span::raw(format!("  ✗ {v} does not load")),
                (Err(_), None) => Span::raw("✗ does not load"),
            };
            ListItem::new(Line::from(name))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(picker.selected));
    f.render_stateful_widget(
        List::new(items)
            .highlight_symbol("▶ ")
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" scalelab — pick a scenario "),
            ),
        cols[0],
        &mut state,
    );
    let choice = choices.get(picker.selected);
    let text = match choice.map(|c| &c.scenario) {
        Some(Ok(sc)) => {
            let mut lesson = crate::app::lesson_text(sc);
            if let Some((name, description)) = choice.and_then(|c| c.variant.as_ref()) {
                lesson = format!("Variant {name} of {}: {description}\n\n{lesson}", sc.name);
            }
            let about = if lesson.is_empty() {
                "This scenario has no description."
            } else {
                &lesson
            };
            let nodes: Vec<&str> = sc.nodes.iter().map(|n| n.name.as_str()).collect();
            format!(
                "{about}\n\n{} simulated · seed {} · nodes: {}",
                crate::view::clock(sc.duration.as_secs_f64()),
                sc.seed,
                nodes.join(", ")
            )
        }
        Some(Err(e)) => e.clone(),
        None => String::new(),
    };
    let title = format!(" {} ", choice.map_or("", |c| c.path.as_str()));
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        cols[1],
    );
    let status = if picker.message.is_empty() {
        " ↑↓ tab choose  enter open (b in a run: back here)  q quit".to_string()
    } else {
        format!(" {}", picker.message)
    };
    f.render_widget(Paragraph::new(status), rows[1]);
}

//! scalelab's terminal UI (`scalelab tui [FILE]`): the simulation runs on its own thread
//! in slices of simulated time ([`sim`]); the UI draws its latest frame at a steady rate
//! ([`view`]) and turns keys into changes of its state and commands to the simulation
//! ([`app`]). Neither waits on the other. The terminal is restored on quit, on error and
//! on panic.

pub mod app;
pub mod arm;
pub mod pick;
pub mod sim;
pub mod view;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::ExecutableCommand;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Frames drawn per second.
const FPS: u64 = 20;

fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = io::stdout().execute(LeaveAlternateScreen);
    let _ = io::stdout().execute(crossterm::cursor::Show);
}

/// Run the terminal UI until the user quits: on the one scenario given, or, with several,
/// a picker over them first (`b` in a run comes back to it). `seed`: the scenario's own
/// without one. `at`: open the (first) run paused at that simulated time.
pub fn run(
    choices: Vec<pick::Choice>,
    seed: Option<u64>,
    at: Option<sim_core::SimTime>,
) -> io::Result<()> {
    terminal::enable_raw_mode()?;
    io::stdout().execute(EnterAlternateScreen)?;
    // On a panic, give the terminal back before the message is printed.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        hook(info);
    }));
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let result = session(&mut term, &choices, seed, at);
    restore();
    let _ = std::panic::take_hook();
    result
}

fn session(
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    choices: &[pick::Choice],
    seed: Option<u64>,
    mut at: Option<sim_core::SimTime>,
) -> io::Result<()> {
    let picking = choices.len() > 1;
    let mut picker = pick::Picker::default();
    loop {
        let i = if picking {
            match pick_loop(term, &mut picker, choices)? {
                Some(i) => i,
                None => return Ok(()),
            }
        } else {
            0
        };
        let Some(Ok(sc)) = choices.get(i).map(|c| c.scenario.clone()) else {
            return Ok(());
        };
        let seed = seed.unwrap_or(sc.seed);
        if !event_loop(term, sc, seed, at.take(), picking)? {
            return Ok(());
        }
    }
}

/// Translate a terminal key (ctrl-c is `q`).
fn key_of(k: event::KeyEvent) -> Option<app::Key> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
            Some(app::Key::Char('q'))
        }
        KeyCode::Char(c) => Some(app::Key::Char(c)),
        KeyCode::Tab | KeyCode::Right | KeyCode::Down => Some(app::Key::Next),
        KeyCode::BackTab | KeyCode::Left | KeyCode::Up => Some(app::Key::Prev),
        KeyCode::Enter => Some(app::Key::Enter),
        KeyCode::Esc => Some(app::Key::Esc),
        _ => None,
    }
}

/// The picker until a choice opens (`Some`) or the user quits.
fn pick_loop(
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    picker: &mut pick::Picker,
    choices: &[pick::Choice],
) -> io::Result<Option<usize>> {
    loop {
        term.draw(|f| pick::draw(f, picker, choices))?;
        match event::read()? {
            Event::Key(k) => {
                if let Some(key) = key_of(k) {
                    match picker.key(key, choices) {
                        pick::Pick::Open(i) => return Ok(Some(i)),
                        pick::Pick::Quit => return Ok(None),
                        pick::Pick::Stay => {}
                    }
                }
            }
            Event::Resize(..) => term.autoresize()?,
            _ => {}
        }
    }
}

/// One run in the UI; whether the user asked to go back to the picker.
fn event_loop(
    term: &mut Terminal<CrosstermBackend<Stdout>>,
    sc: Arc<models::Scenario>,
    seed: u64,
    at: Option<sim_core::SimTime>,
    picker: bool,
) -> io::Result<bool> {
    let (armed_sc, armed) = arm::arm(&sc);
    let sc = Arc::new(armed_sc);
    let (tx, rx) = sim::channel();
    let mailbox: sim::Mailbox = Arc::new(Mutex::new(None));
    let handle = sim::spawn(sc.clone(), seed, at, rx, mailbox.clone());
    let mut app = app::App::new(&sc, armed, seed);
    app.picker = picker;
    app.paused = at.is_some();
    let theme = view::Theme::from_env();
    let frame_time = Duration::from_millis(1000 / FPS);
    while !app.quit {
        if let Some(f) = mailbox.lock().ok().and_then(|mut m| m.take()) {
            app.frame(f);
        }
        term.draw(|f| view::draw(f, &app, theme))?;
        if event::poll(frame_time)? {
            match event::read()? {
                Event::Key(k) => {
                    if let Some(key) = key_of(k) {
                        for c in app.key(key, &sc) {
                            // The thread gone (it ended): nothing more to ask.
                            let _ = tx.send(c);
                        }
                    }
                }
                Event::Resize(..) => term.autoresize()?,
                _ => {}
            }
        }
    }
    let _ = tx.send(app::Cmd::Quit);
    let _ = handle.join();
    Ok(app.back)
}

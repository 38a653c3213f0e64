//! The real binary's terminal UI in a pseudo-terminal: keys in, screen out (portable-pty
//! and vt100, so CI needs nothing installed). It fails, never skips, when no
//! pseudo-terminal can be opened.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Wait up to 30 s for `what` on the screen.
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.text();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what:?} never appeared; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The binary running in a pseudo-terminal of 100×30, its screen and its keyboard.
struct Session {
    screen: Screen,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    /// Held while the session lasts (closing it hangs the terminal up).
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    fn start(args: &[&str], cwd: &std::path::Path) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal (this test must not be skipped)");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_scalelab"));
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("spawn scalelab tui");
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(30, 100, 0)));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let p = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
        });
        let keys = pty.master.take_writer().unwrap();
        Session {
            screen: Screen { parser },
            child,
            keys,
            _master: pty.master,
        }
    }

    fn send(&mut self, k: &str) {
        self.keys.write_all(k.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Quit with `q`: the process ends well and gives the terminal back (out of the
    /// alternate screen, cursor shown).
    fn quit(mut self) {
        self.send("q");
        let start = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "did not quit");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
        let start = Instant::now();
        while self
            .screen
            .parser
            .lock()
            .unwrap()
            .screen()
            .alternate_screen()
        {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "still in the alternate screen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!self.screen.parser.lock().unwrap().screen().hide_cursor());
    }
}

#[test]
fn the_terminal_ui_runs_pauses_kills_and_quits_in_a_real_terminal() {
    let mut t = Session::start(
        &["tui", "scenarios/black-friday.ron"],
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    let screen = &t.screen;
    // It draws the scenario's topology and runs.
    screen.wait_for("black-friday — topology");
    // The first 30 s are the scenario's warm-up, said on the status bar; then it runs.
    let s = screen.wait_for("3/3 up");
    assert!(
        s.contains("api") && s.contains("warm-up to 00:30 (not measured)"),
        "{s}"
    );
    screen.wait_for(" running ");
    // Faster, so the spike and the autoscaler come within seconds.
    t.send("+");
    t.send("+");
    t.screen.wait_for("autoscale api:");
    // Pause, kill an instance of api: the kill is on the event log.
    t.send(" ");
    t.screen.wait_for("PAUSED");
    t.send("k");
    t.send(".");
    let s = t.screen.wait_for("kill 1 instance");
    assert!(s.contains("PAUSED"), "{s}");
    // Help, then quit.
    t.send("?");
    t.screen.wait_for("pause / resume");
    t.quit();
}

#[test]
fn without_a_file_the_terminal_ui_offers_the_scenarios_at_hand() {
    let dir = std::env::temp_dir().join(format!("scalelab-picker-{}", std::process::id()));
    let lib = dir.join("scenarios");
    std::fs::create_dir_all(&lib).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("scenarios/black-friday.ron"),
        lib.join("black-friday.ron"),
    )
    .unwrap();
    std::fs::write(lib.join("broken.ron"), "Scenario(name: \"x\", sauces: [])").unwrap();
    let mut t = Session::start(&["tui"], &dir);
    // The built-in default first, then the folder's files in order, each lesson's variants
    // under it; the broken one says so.
    let s = t.screen.wait_for("pick a scenario");
    assert!(s.contains("▶ default"), "{s}");
    assert!(
        s.contains("  black-friday")
            && s.contains("↳ step-scaling")
            && s.contains("↳ pre-scaled")
            && s.contains("✗ does not load"),
        "{s}"
    );
    assert!(s.contains("A small web backend"), "{s}");
    // Down to a variant: what it changes, and its command.
    t.send("\x1b[B");
    t.screen.wait_for("▶ black-friday");
    t.send("\x1b[B");
    t.screen.wait_for("Variant step-scaling of black-friday");
    t.screen.wait_for("black-friday.ron --variant step-scaling");
    // Down twice more to the broken one: its located error, and enter does not open it.
    t.send("\x1b[B");
    t.send("\x1b[B");
    t.screen.wait_for("broken.ron:1:");
    t.send("\r");
    std::thread::sleep(Duration::from_millis(300));
    assert!(t.screen.text().contains("pick a scenario"));
    // Up to the pre-scaled variant, open it; `b` comes back to the picker, `q` quits.
    t.send("\x1b[A");
    t.screen.wait_for("Variant pre-scaled of black-friday");
    t.send("\r");
    t.screen.wait_for("black-friday — topology");
    t.send("b");
    t.screen.wait_for("pick a scenario");
    t.quit();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_terminal_ui_opens_paused_where_check_says_a_failure_began() {
    let t = Session::start(
        &[
            "tui",
            "scenarios/black-friday.ron",
            "--at",
            "25m",
            "--seed",
            "7",
        ],
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    let s = t.screen.wait_for("t 25:00");
    assert!(s.contains("PAUSED") && s.contains("seed 7"), "{s}");
    // The autoscaler's decisions up to then are on the event log.
    assert!(s.contains("autoscale api:"), "{s}");
    t.quit();
}

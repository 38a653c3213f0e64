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

#[test]
fn the_terminal_ui_runs_pauses_kills_and_quits_in_a_real_terminal() {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal (this test must not be skipped)");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_scalelab"));
    cmd.args(["tui", "scenarios/black-friday.ron"]);
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    cmd.env("NO_COLOR", "1");
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn scalelab tui");
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
    let mut keys = pty.master.take_writer().unwrap();
    let mut send = |k: &str| {
        keys.write_all(k.as_bytes()).unwrap();
        keys.flush().unwrap();
    };
    let screen = Screen { parser };
    // It draws the scenario's topology and runs.
    screen.wait_for("black-friday — topology");
    let s = screen.wait_for("3/3 up");
    assert!(s.contains("api") && s.contains("running"), "{s}");
    // Faster, so the spike and the autoscaler come within seconds.
    send("+");
    send("+");
    screen.wait_for("autoscale api:");
    // Pause, kill an instance of api: the kill is on the event log.
    send(" ");
    screen.wait_for("PAUSED");
    send("k");
    send(".");
    let s = screen.wait_for("kill 1 instance");
    assert!(s.contains("PAUSED"), "{s}");
    // Help, then quit: the process ends and gives the terminal back.
    send("?");
    screen.wait_for("pause / resume");
    send("q");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "did not quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // The terminal is given back: out of the alternate screen, cursor shown.
    let start = Instant::now();
    while screen.parser.lock().unwrap().screen().alternate_screen() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still in the alternate screen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!screen.parser.lock().unwrap().screen().hide_cursor());
}

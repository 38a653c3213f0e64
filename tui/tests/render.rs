//! The UI drawn on ratatui's TestBackend from real simulation frames, and its key
//! handling: what a user would see and do.

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::Arc;
use tui::app::{App, Cmd, Key};
use tui::sim::Frame;
use tui::view::{draw, Theme};

const SHOP: &str = r#"Scenario(name: "shop", duration: "10m", seed: 1,
    description: "A balancer in front of a pool that saturates.",
    sources: [Source(name: "users", target: "lb", rate: Constant(1100))],
    nodes: [LoadBalancer(name: "lb", backends: ["api"]),
            Service(name: "api", instances: 2, cores: 2, handlers: {"*": [Cpu(Exp("4ms"))]})])"#;

fn scenario() -> Arc<models::Scenario> {
    Arc::new(models::load_str("shop.ron", SHOP).unwrap())
}

/// Run `sim` to `t` seconds and hand the app the frame, as the simulation thread does.
fn advance(
    app: &mut App,
    sim: &mut sim_core::Simulation<models::world::World>,
    marks: &mut Vec<sim_core::Histogram>,
    seen: &mut usize,
    t: u64,
) {
    sim.run_until(sim_core::SimTime::from_secs(t));
    let w = sim.model();
    let mut f = Frame::default();
    w.snapshot_into(sim.now(), &mut f.snap);
    f.log = w.timeline_from(*seen).to_vec();
    *seen += f.log.len();
    f.latency = w.latency_window(marks);
    app.frame(f);
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| draw(f, app, Theme { color: false })).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out += buf[(x, y)].symbol();
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_topology_shows_every_node_marks_the_bottleneck_and_a_kill() {
    let sc = scenario();
    let mut app = App::new(&sc, 1);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    for t in 1..=30 {
        advance(&mut app, &mut sim, &mut marks, &mut seen, t);
    }
    let s = screen(&app, 100, 30);
    assert!(s.contains("lb") && s.contains("api"), "{s}");
    // 1 100/s of 4 ms on 4 workers (1 000/s at most): saturated — the bottleneck,
    // marked without colour.
    assert!(s.contains("api ◆ bottleneck"), "{s}");
    assert!(s.contains("2/2 up"), "{s}");
    // The charts have data: the throughput, near 1 000/s, is in the title.
    assert!(
        s.contains("throughput 9") || s.contains("throughput 10"),
        "{s}"
    );
    // Select api and kill an instance: the command is an injected kill, recorded for `s`.
    app.key(Key::Next, &sc);
    let cmds = app.key(Key::Char('k'), &sc);
    let Some(Cmd::Inject(v)) = cmds.first() else {
        panic!("{cmds:?}")
    };
    sim.inject(models::kernel::Ev::Control(*v));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 31);
    let s = screen(&app, 100, 30);
    // One serving of one left (a kill is not replaced), its queue's requests failed.
    assert!(s.contains("1/1 up") && s.contains(" err "), "{s}");
    assert!(s.contains("kill 1 instance"), "the event log: {s}");
    assert!(app
        .faults_ron()
        .contains(r#"At("30000ms", KillInstances(node: "api", count: 1)),"#));
    // The saved faults replay: `run --faults` validates them against the scenario.
    let dir = std::env::temp_dir().join(format!("scalelab-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scf, ff) = (dir.join("shop.ron"), dir.join("faults.ron"));
    std::fs::write(&scf, SHOP).unwrap();
    std::fs::write(&ff, app.faults_ron()).unwrap();
    let with = models::chaos::load_with_faults(&scf, &ff).unwrap();
    assert_eq!(with.faults.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_pause_change_speed_and_open_panels() {
    let sc = scenario();
    let mut app = App::new(&sc, 1);
    assert_eq!(app.key(Key::Char(' '), &sc), vec![Cmd::Pause(true)]);
    assert!(screen(&app, 100, 30).contains("PAUSED"));
    assert_eq!(app.key(Key::Char('.'), &sc), vec![Cmd::Step]);
    assert_eq!(app.key(Key::Char(' '), &sc), vec![Cmd::Pause(false)]);
    // A step only while paused.
    assert!(app.key(Key::Char('.'), &sc).is_empty());
    assert_eq!(app.key(Key::Char('+'), &sc), vec![Cmd::Speed(Some(100.0))]);
    for _ in 0..10 {
        app.key(Key::Char('+'), &sc);
    }
    assert_eq!(app.key(Key::Char('+'), &sc), vec![Cmd::Speed(None)]);
    assert!(screen(&app, 100, 30).contains(" max "));
    for _ in 0..10 {
        app.key(Key::Char('-'), &sc);
    }
    assert_eq!(app.key(Key::Char('-'), &sc), vec![Cmd::Speed(Some(1.0))]);
    // A balancer has no instances to kill: refused with a reason, nothing injected.
    assert!(app.key(Key::Char('k'), &sc).is_empty());
    assert!(screen(&app, 100, 30).contains("`lb` has no instances to kill"));
    app.key(Key::Char('?'), &sc);
    assert!(screen(&app, 100, 30).contains("pause / resume"));
    app.key(Key::Esc, &sc);
    app.key(Key::Char('d'), &sc);
    assert!(screen(&app, 100, 30).contains("A balancer in front of a pool"));
    assert_eq!(app.key(Key::Char('q'), &sc), vec![Cmd::Quit]);
    assert!(app.quit);
}

#[test]
fn small_terminals_get_the_topology_alone_and_nothing_panics() {
    let sc = scenario();
    let mut app = App::new(&sc, 1);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    advance(&mut app, &mut sim, &mut marks, &mut seen, 5);
    for (w, h) in [(80, 24), (40, 10), (20, 5), (1, 1)] {
        let s = screen(&app, w, h);
        if w >= 80 {
            assert!(s.contains("events"), "{s}");
        } else if w >= 40 {
            assert!(!s.contains("events") && s.contains("api"), "{s}");
        }
    }
}

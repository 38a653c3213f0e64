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
            Service(name: "api", instances: 2, cores: 2, handlers: {"*": [Cpu(Exp("4ms"))]})],
    slos: [ErrorRate(under: 0.01), P99Latency(under: "50ms")])"#;

/// The scenario as the UI runs it (with its armed faults), and the UI's state.
fn scenario() -> (Arc<models::Scenario>, App) {
    let sc = models::load_str("shop.ron", SHOP).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let app = App::new(&sc, armed, 1);
    (Arc::new(sc), app)
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
    f.slo = w.slo_now(&mut sim_core::Histogram::new());
    f.applied = APPLIED.with(|a| std::mem::take(&mut *a.borrow_mut()));
    app.frame(f);
}

thread_local! {
    /// Times of the changes injected since the last frame (as the simulation thread keeps
    /// them), per test thread.
    static APPLIED: std::cell::RefCell<Vec<sim_core::SimTime>> = Default::default();
}

/// Apply the UI's commands to `sim`, as the simulation thread does.
fn apply(sim: &mut sim_core::Simulation<models::world::World>, cmds: Vec<Cmd>) {
    for c in cmds {
        if let Cmd::Inject(v) = c {
            sim.inject(models::kernel::Ev::Control(v));
            APPLIED.with(|a| a.borrow_mut().push(sim.now()));
        }
    }
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
    let (sc, mut app) = scenario();
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
    // Saturated: the tail breaks its SLO, on the status bar with its figure.
    assert!(s.contains("SLO ✘ p99_latency ≤ 0.05s ("), "{s}");
    // The charts have data: the throughput, near 1 000/s, is in the title.
    assert!(s.contains("done 9") || s.contains("done 10"), "{s}");
    // api, the first pool, is selected at the start. Kill an instance: the command is an
    // injected kill, recorded for `s`.
    assert_eq!(app.selected, 1);
    let cmds = app.key(Key::Char('k'), &sc);
    assert!(matches!(cmds[..], [Cmd::Inject(_)]), "{cmds:?}");
    apply(&mut sim, cmds);
    advance(&mut app, &mut sim, &mut marks, &mut seen, 31);
    let s = screen(&app, 100, 30);
    // One serving of one left (a kill is not replaced), its queue's requests failed.
    // The requests queued at the killed instance failed within this one-second frame: a
    // rate on api's box, as many per second as were lost.
    assert!(s.contains("1/1 up"), "{s}");
    let lost = app.snap.nodes[1].killed as f64;
    assert!(
        lost > 0.0 && app.error_rate(1) == lost,
        "{lost} {}",
        app.error_rate(1)
    );
    assert!(s.contains(&format!(" err {lost:.0}/s")), "{s}");
    assert!(s.contains("kill 1 instance"), "the event log: {s}");
    // The selected node's own charts follow it, and its detail lists its instances.
    assert!(s.contains("api: 1/1 up"), "{s}");
    app.key(Key::Enter, &sc);
    let d = screen(&app, 100, 30);
    assert!(
        d.contains("state") && d.contains("ready") && d.contains(" 2/2 "),
        "{d}"
    );
    app.key(Key::Esc, &sc);
    assert!(app
        .faults_ron()
        .contains(r#"At("30000ms", KillInstances(node: "api", count: 1)),"#));
    // Latency on api from 31 s, healed at 33 s: on the node while it holds, and saved as a
    // Between at the times the simulation applied them.
    apply(&mut sim, app.key(Key::Char('l'), &sc));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 33);
    let s = screen(&app, 100, 30);
    assert!(s.contains("[latency]"), "{s}");
    apply(&mut sim, app.key(Key::Char('h'), &sc));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 34);
    assert!(!screen(&app, 100, 30).contains("[latency]"));
    assert!(
        app.faults_ron().contains(
            r#"Between("31000ms", "33000ms", NodeLatency(node: "api", extra: Exp("100ms"))),"#
        ),
        "{}",
        app.faults_ron()
    );
    // Errors on api, left holding: an At.
    apply(&mut sim, app.key(Key::Char('e'), &sc));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 35);
    assert!(app
        .faults_ron()
        .contains(r#"At("34000ms", ErrorInjection(node: "api", fraction: 0.2)),"#));
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("[errors]") && s.contains("ErrorInjection(api, 0.2)"),
        "{s}"
    );
    // The saved faults replay: `run --faults` validates them against the scenario.
    let dir = std::env::temp_dir().join(format!("scalelab-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scf, ff) = (dir.join("shop.ron"), dir.join("faults.ron"));
    std::fs::write(&scf, SHOP).unwrap();
    std::fs::write(&ff, app.faults_ron()).unwrap();
    let with = models::chaos::load_with_faults(&scf, &ff).unwrap();
    assert_eq!(with.faults.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_pause_change_speed_and_open_panels() {
    let (sc, mut app) = scenario();
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
    // A balancer has no instances to kill: refused with a reason, nothing injected; nor
    // latency, a flush, or a zone (none declared) for it.
    app.key(Key::Prev, &sc);
    assert!(app.key(Key::Char('k'), &sc).is_empty());
    assert!(screen(&app, 100, 30).contains("`lb` has no instances to kill"));
    for k in ['l', 'f', 'z', 'h'] {
        assert!(app.key(Key::Char(k), &sc).is_empty(), "{k}");
        assert!(!app.message.is_empty(), "{k}");
    }
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
    let (sc, mut app) = scenario();
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

#[test]
fn an_autoscaled_pool_shows_what_its_autoscaler_reads_and_its_decisions() {
    let text = SHOP.replace(
        r#"handlers: {"*": [Cpu(Exp("4ms"))]})"#,
        r#"handlers: {"*": [Cpu(Exp("4ms"))]},
                    autoscale: TargetTracking(metric: Cpu, target: 0.6, min: 2, max: 8))"#,
    );
    assert!(text.contains("TargetTracking"));
    let sc = models::load_str("shop.ron", &text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let sc = Arc::new(sc);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    for t in (10..=240).step_by(10) {
        advance(&mut app, &mut sim, &mut marks, &mut seen, t);
    }
    let s = screen(&app, 100, 30);
    // Saturated from the start (1 100/s against 1 000/s): three 1-minute datapoints at
    // 100%, out at 180 s to ceil(2 × 1.0 / 0.6) = 4, then 6.
    assert!(s.contains("api: 6/6 up") && s.contains("reads cpu "), "{s}");
    assert!(s.contains("03:00 autoscale api: 2 → 4 instances"), "{s}");
}

#[test]
fn a_selected_cache_charts_its_hit_ratio() {
    let text = r#"Scenario(name: "c", duration: "1m",
        sources: [Source(name: "in", target: "cache", rate: Constant(2000),
            mix: [Class(name: "get", weight: 0.9, keys: Uniform(n: 100)),
                  Class(name: "put", weight: 0.1, op: Write, keys: Uniform(n: 100))])],
        nodes: [Cache(name: "cache", capacity: 1000, cores: 64, hit: Constant("100us"),
                      read_through: "db"),
                Database(name: "db", cores: 64, read: Exp("2ms"), write: Exp("2ms"))])"#;
    let sc = models::load_str("c.ron", text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let mut sim = models::world::World::simulation(Arc::new(sc), 1);
    let (mut marks, mut seen) = (vec![], 0);
    for t in 1..=20 {
        advance(&mut app, &mut sim, &mut marks, &mut seen, t);
    }
    // 100 keys read through; each write (200/s) invalidates its key, so the next read of
    // it misses: about 200 misses in 1 800 reads a second, a hit ratio near 0.89.
    let s = screen(&app, 100, 30);
    let ratio = app.history.nodes[0].hit_ratio.back().copied().unwrap();
    assert!((0.85..0.93).contains(&ratio), "{ratio}");
    assert!(
        s.contains("cache: hit ratio 8") || s.contains("cache: hit ratio 9"),
        "{s}"
    );
}

/// The screen's cells drawn in `color` inside `area` (x0..x1, y0..y1), with colour on.
fn cells_in(app: &App, (w, h): (u16, u16), color: ratatui::style::Color, area: [u16; 4]) -> usize {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| draw(f, app, Theme { color: true })).unwrap();
    let buf = term.backend().buffer().clone();
    let [x0, x1, y0, y1] = area;
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[(x, y)].fg == color && buf[(x, y)].symbol() != " ")
        .count()
}

#[test]
fn zones_calls_and_faults_show_on_the_topology_and_the_charts() {
    let text = r#"Scenario(name: "zoned", duration: "10m",
        sources: [Source(name: "users", target: "lb", rate: Constant(400))],
        nodes: [LoadBalancer(name: "lb", backends: ["web"]),
                Service(name: "web", instances: 4, cores: 1, zones: ["a", "b"],
                        handlers: {"*": [Cpu(Exp("2ms")), Call("db")]}),
                Database(name: "db", cores: 8, read: Exp("1ms"), write: Exp("1ms"))])"#;
    let sc = models::load_str("zoned.ron", text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let sc = Arc::new(sc);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    for t in 1..=20 {
        advance(&mut app, &mut sim, &mut marks, &mut seen, t);
    }
    let s = screen(&app, 100, 30);
    // Each node a box with whom it calls; the zones, all up.
    assert!(s.contains("→ web") && s.contains("→ db"), "{s}");
    assert!(s.contains("zones a ✔ b ✔"), "{s}");
    // The latency chart names its three percentiles, in order.
    assert!(
        s.contains("p50 ") && s.contains("p95 ") && s.contains("p99 "),
        "{s}"
    );
    let h = &app.history;
    let (p50, p95, p99) = (h.p50.back(), h.p95.back(), h.p99.back());
    assert!(
        p50 > Some(&0.0) && p50 <= p95 && p95 <= p99,
        "{p50:?} {p95:?} {p99:?}"
    );
    // No fault yet: nothing marked on the throughput chart (top right).
    let top_right = [56, 100, 0, 5];
    let marked = |app: &App| cells_in(app, (100, 30), ratatui::style::Color::Magenta, top_right);
    assert_eq!(marked(&app), 0);
    // web is selected (the first pool): take its zone down.
    assert_eq!(app.selected, 1);
    apply(&mut sim, app.key(Key::Char('z'), &sc));
    for t in 21..=25 {
        advance(&mut app, &mut sim, &mut marks, &mut seen, t);
    }
    let s = screen(&app, 100, 30);
    assert!(s.contains("zones a ✗ DOWN b ✔"), "{s}");
    assert!(s.contains("zone a ✗ DOWN"), "the pool's box: {s}");
    assert!(s.contains("2/2 up"), "{s}");
    // The outage is marked on the chart, at its time.
    assert!(marked(&app) > 0, "{s}");
    assert!(
        app.history.marks.iter().any(|m| m.t == 20.0),
        "{:?}",
        app.history.marks
    );
    // Brought back: the zone is up again.
    apply(&mut sim, app.key(Key::Char('z'), &sc));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 26);
    assert!(screen(&app, 100, 30).contains("zones a ✔ b ✔"));
}

#[test]
fn a_graph_too_deep_for_boxes_is_listed_and_scrolls_to_the_selection() {
    let mut nodes = vec![];
    for i in 0..10 {
        let call = if i < 9 {
            format!(", Call(\"s{}\")", i + 1)
        } else {
            String::new()
        };
        nodes.push(format!(
            r#"Service(name: "s{i}", instances: 1, cores: 8, handlers: {{"*": [Cpu(Exp("1ms")){call}]}})"#
        ));
    }
    let text = format!(
        r#"Scenario(name: "deep", duration: "1m",
            sources: [Source(name: "in", target: "s0", rate: Constant(10))],
            nodes: [{}])"#,
        nodes.join(",\n")
    );
    let sc = models::load_str("deep.ron", &text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let sc = Arc::new(sc);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    advance(&mut app, &mut sim, &mut marks, &mut seen, 2);
    let s = screen(&app, 80, 24);
    // Ten layers of boxes do not fit 24 rows: a list, starting at the top.
    assert!(
        s.contains("▶ s0") && s.contains("layer 1") && !s.contains("╔"),
        "{s}"
    );
    for _ in 0..9 {
        app.key(Key::Next, &sc);
    }
    let s = screen(&app, 80, 24);
    assert!(s.contains("▶ s9") && !s.contains("layer 1 "), "{s}");
}

#[test]
fn the_simulation_thread_keeps_the_latency_of_its_last_slice_while_paused() {
    let (sc, _) = scenario();
    let (tx, rx) = tui::sim::channel();
    let mailbox: tui::sim::Mailbox = Default::default();
    let handle = tui::sim::spawn(sc, 1, None, rx, mailbox.clone());
    let take = || loop {
        if let Some(f) = mailbox.lock().unwrap().take() {
            return f;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    tx.send(Cmd::Speed(None)).unwrap();
    while take().snap.t < sim_core::SimTime::from_secs(5) {}
    tx.send(Cmd::Pause(true)).unwrap();
    // Frames keep coming while paused (every 50 ms); the clock stands still, and each
    // carries the percentiles of the last slice run, not those of an empty window.
    // (A slice already under way when the pause arrived ends first.)
    let mut t = take().snap.t;
    loop {
        let now = take().snap.t;
        if now == t {
            break;
        }
        t = now;
    }
    for _ in 0..4 {
        let f = take();
        assert_eq!(f.snap.t, t);
        assert!(
            f.latency[0] > 0.0 && f.latency[2] >= f.latency[0],
            "{:?}",
            f.latency
        );
    }
    tx.send(Cmd::Quit).unwrap();
    handle.join().unwrap();
}

#[test]
fn the_picker_lists_scenarios_opens_one_and_refuses_a_broken_one() {
    use tui::pick::{draw as draw_picker, Choice, Pick, Picker};
    let (sc, _) = scenario();
    let choices = vec![
        Choice {
            path: "scenarios/shop.ron".into(),
            variant: None,
            scenario: Ok(sc.clone()),
        },
        Choice {
            path: "scenarios/broken.ron".into(),
            variant: None,
            scenario: Err("scenarios/broken.ron:3:9: unknown field `sauces`\n  hint: …".into()),
        },
    ];
    let mut p = Picker::default();
    let shot = |p: &Picker| {
        let mut term = Terminal::new(TestBackend::new(100, 20)).unwrap();
        term.draw(|f| draw_picker(f, p, &choices)).unwrap();
        let buf = term.backend().buffer().clone();
        (0..20)
            .map(|y| (0..100).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
            .collect::<String>()
    };
    let s = shot(&p);
    assert!(s.contains("▶ shop") && s.contains("✗ does not load"), "{s}");
    // A lesson's variant is listed under it, and says what it changes.
    let text = SHOP.trim_end().strip_suffix(')').unwrap().to_string()
        + r#",
    variants: [Variant(name: "bigger", description: "Twice the instances.", set: ["api.instances=4"])],
)"#;
    let base = models::load_str("shop.ron", &text).unwrap();
    let big = models::variant_of(&base, "shop.ron", &text, "bigger").unwrap();
    let mut with_variant = choices.clone();
    with_variant.insert(
        1,
        Choice {
            path: "scenarios/shop.ron --variant bigger".into(),
            variant: Some(("bigger".into(), "Twice the instances.".into())),
            scenario: Ok(Arc::new(big)),
        },
    );
    let mut v = Picker::default();
    v.key(Key::Next, &with_variant);
    let mut term = Terminal::new(TestBackend::new(100, 20)).unwrap();
    term.draw(|f| draw_picker(f, &v, &with_variant)).unwrap();
    let buf = term.backend().buffer().clone();
    let vs: String = (0..20)
        .map(|y| (0..100).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect();
    assert!(vs.contains("▶   ↳ bigger"), "{vs}");
    assert!(
        vs.contains("Variant bigger of shop: Twice the instances."),
        "{vs}"
    );
    assert!(vs.contains("scenarios/shop.ron --variant bigger"), "{vs}");
    assert_eq!(v.key(Key::Enter, &with_variant), Pick::Open(1));
    // The highlighted one's description, file, length and nodes.
    assert!(
        s.contains("A balancer in front of a pool that saturates."),
        "{s}"
    );
    assert!(
        s.contains("scenarios/shop.ron") && s.contains("nodes: lb, api"),
        "{s}"
    );
    // The broken one shows its located error and does not open.
    assert_eq!(p.key(Key::Next, &choices), Pick::Stay);
    assert!(shot(&p).contains("unknown field `sauces`"));
    assert_eq!(p.key(Key::Enter, &choices), Pick::Stay);
    assert!(shot(&p).contains(" scenarios/broken.ron:3:9: unknown field"));
    assert_eq!(p.key(Key::Next, &choices), Pick::Stay);
    assert_eq!(p.key(Key::Enter, &choices), Pick::Open(0));
    assert_eq!(p.key(Key::Char('q'), &choices), Pick::Quit);
    // In a run, `b` goes back to the picker only when one opened it.
    let (sc, mut app) = scenario();
    assert!(app.key(Key::Char('b'), &sc).is_empty() && !app.quit);
    app.picker = true;
    assert_eq!(app.key(Key::Char('b'), &sc), vec![Cmd::Quit]);
    assert!(app.quit && app.back);
}

#[test]
fn a_failed_primary_shows_down_until_the_failover() {
    let text = r#"Scenario(name: "db", duration: "1m",
        sources: [Source(name: "in", target: "app", rate: Constant(100))],
        nodes: [Service(name: "app", instances: 2, cores: 2,
                        handlers: {"*": [Cpu(Exp("1ms")), Call("db")]}),
                Database(name: "db", cores: 4, read: Exp("2ms"), write: Exp("2ms"),
                         failover: "5s")])"#;
    let sc = models::load_str("db.ron", text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let sc = Arc::new(sc);
    let mut sim = models::world::World::simulation(sc.clone(), 1);
    let (mut marks, mut seen) = (vec![], 0);
    advance(&mut app, &mut sim, &mut marks, &mut seen, 10);
    app.key(Key::Next, &sc);
    assert!(!screen(&app, 100, 30).contains("primary ✗ DOWN"));
    apply(&mut sim, app.key(Key::Char('f'), &sc));
    advance(&mut app, &mut sim, &mut marks, &mut seen, 12);
    let s = screen(&app, 100, 30);
    assert!(
        s.contains("primary ✗ DOWN") && s.contains("primary failed"),
        "{s}"
    );
    // Restarted (no replicas) 5 s after the failure.
    advance(&mut app, &mut sim, &mut marks, &mut seen, 16);
    assert!(!screen(&app, 100, 30).contains("primary ✗ DOWN"));
}

#[test]
fn the_lesson_panel_shows_the_lesson_and_its_other_side() {
    let text = SHOP.replace(
        r#"slos: [ErrorRate(under: 0.01), P99Latency(under: "50ms")])"#,
        r#"slos: [ErrorRate(under: 0.01), P99Latency(under: "50ms")],
        lesson: "Two instances cannot carry 1 100 requests a second: watch the api's queue fill and the errors start within seconds.",
        breaks: ["error_rate"],
        variants: [Variant(name: "three", description: "A third instance: the queue drains.", set: ["api.instances=3"])])"#,
    );
    let sc = models::load_str("shop.ron", &text).unwrap();
    let (sc, armed) = tui::arm::arm(&sc);
    let mut app = App::new(&sc, armed, 1);
    let s = screen(&app, 100, 30);
    assert!(!s.contains("Lesson: shop"), "closed until asked:\n{s}");
    app.key(Key::Char('d'), &sc);
    let s = screen(&app, 100, 30);
    // Wrapped in the panel: each piece whole somewhere on the screen.
    let flat: String = s
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "Lesson: shop",
        "A balancer in front of a pool that saturates.",
        "watch the api's queue fill",
        "Meant to break: error_rate.",
        "three: A third instance: the queue drains.",
    ] {
        assert!(flat.contains(want), "{want:?} in:\n{s}");
    }
}

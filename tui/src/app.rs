//! The UI's state and how keys and simulation frames change it: a pure state machine
//! (`App::key`, `App::frame`) that the event loop drives and the tests drive directly.
//! What it asks of the simulation comes back as [`Cmd`]s.

use crate::sim::Frame;
use models::report::TimelineEntry;
use models::world::observe::Snapshot;
use std::collections::VecDeque;

/// Points kept per chart (one per frame from the simulation).
pub const HISTORY: usize = 240;
/// Lines kept in the event log.
pub const LOG: usize = 200;
/// Speeds, simulated seconds per wall second; `None` is as fast as it goes.
pub const SPEEDS: [Option<f64>; 7] = [
    Some(1.0),
    Some(10.0),
    Some(100.0),
    Some(1_000.0),
    Some(10_000.0),
    Some(100_000.0),
    None,
];

/// The speed a run starts at (index into [`SPEEDS`]: ×10, so a spike of minutes takes
/// seconds to watch).
pub const DEFAULT_SPEED: usize = 1;

/// What the UI asks of the simulation thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Stop or go on.
    Pause(bool),
    /// Simulated seconds per wall second (`None`: max).
    Speed(Option<f64>),
    /// One slice while paused.
    Step,
    /// Apply a change now, as an event on the queue.
    Inject(models::control::Verb),
    /// Start again from t = 0 with the same seed.
    Restart,
    /// End the thread.
    Quit,
}

/// A key, as the UI sees it (decoupled from the terminal library for the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character key.
    Char(char),
    /// Tab or right/down.
    Next,
    /// Shift-tab or left/up.
    Prev,
    /// Enter.
    Enter,
    /// Escape.
    Esc,
}

/// A change made by hand: when it was applied (and healed), as a fault's RON.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    /// Simulated seconds when it was applied (`None` until the simulation says).
    pub at: Option<f64>,
    /// When it was healed.
    pub until: Option<f64>,
    /// The fault as a scenario writes it.
    pub ron: String,
}

/// One node's history for the charts.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Completed per second over each frame.
    pub throughput: VecDeque<f64>,
    /// Errors per second over each frame.
    pub errors: VecDeque<f64>,
    /// End-to-end p50, p95, p99 per frame, seconds.
    pub p50: VecDeque<f64>,
    /// p95.
    pub p95: VecDeque<f64>,
    /// p99.
    pub p99: VecDeque<f64>,
    /// Simulated time of each point, seconds.
    pub t: VecDeque<f64>,
    /// Per node: serving instances, instances starting or serving, requests waiting.
    pub nodes: Vec<NodeHistory>,
    /// Moments to mark on the charts (faults, actions, deployments, autoscaler
    /// decisions), oldest first, none older than the oldest point.
    pub marks: VecDeque<Mark>,
}

/// A moment marked on the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Simulated seconds.
    pub t: f64,
    /// What kind.
    pub kind: models::report::TimelineKind,
    /// The node concerned (empty for a zone).
    pub node: String,
}

/// One node's history.
#[derive(Debug, Clone, Default)]
pub struct NodeHistory {
    /// Serving instances.
    pub serving: VecDeque<f64>,
    /// Starting or serving (what an autoscaler set).
    pub size: VecDeque<f64>,
    /// Requests waiting in queues.
    pub queue: VecDeque<f64>,
    /// Caches: the hit ratio over each frame (the last one's when it had no reads).
    pub hit_ratio: VecDeque<f64>,
    /// What its autoscaler reads (NaN without one).
    pub metric: VecDeque<f64>,
    /// Busy / workers over each frame's slice.
    pub util: VecDeque<f64>,
}

/// The UI's state.
#[derive(Debug)]
pub struct App {
    /// The scenario's name and description.
    pub title: String,
    /// Its description (the lesson panel).
    pub description: String,
    /// The seed.
    pub seed: u64,
    /// Simulated seconds before requests are measured (the charts are flat until then).
    pub warmup: f64,
    /// Node names and kinds, scenario order, and their depth in the call graph.
    pub nodes: Vec<(String, &'static str, u32)>,
    /// Paused.
    pub paused: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// The selected node.
    pub selected: usize,
    /// Help shown.
    pub help: bool,
    /// The selected node's detail shown.
    pub detail: bool,
    /// Per node, its zones' names (service pools).
    pub zones: Vec<Vec<String>>,
    /// The declared zones, scenario order.
    pub zone_names: Vec<String>,
    /// Per node, the nodes it calls (balancer backends, calls, read-through stores).
    pub calls: Vec<Vec<usize>>,
    /// Per node, what its autoscaler reads (if it has one that reads a metric).
    pub metrics: Vec<Option<models::control::autoscale::Metric>>,
    /// Lesson panel shown.
    pub lesson: bool,
    /// The latest snapshot.
    pub snap: Snapshot,
    /// The charts.
    pub history: History,
    /// The event log, newest last.
    pub log: VecDeque<TimelineEntry>,
    /// Changes injected by hand, in order.
    pub injected: Vec<Injected>,
    /// Injections sent and not yet applied: (record, whether it is its start).
    pending: VecDeque<(usize, bool)>,
    /// Armed faults (see [`crate::arm`]) and, of those broken by hand, their records.
    pub armed: crate::arm::Armed,
    /// Armed fault id → its record, while it holds.
    pub active: Vec<(u32, usize)>,
    /// Per node, busy / workers over the last frame's slice (0 without workers).
    pub util: Vec<f64>,
    /// Per node, requests it refused or lost per second over the last frame's slice.
    pub err_rate: Vec<f64>,
    /// The scenario's SLOs so far.
    pub slo: Vec<models::world::observe::SloNow>,
    /// The run reached its end.
    pub done: bool,
    /// A line for the status bar (saved file, refused key).
    pub message: String,
    /// Quit asked.
    pub quit: bool,
    /// A picker is there to go back to (`b`).
    pub picker: bool,
    /// Back to the picker asked (with `quit`).
    pub back: bool,
}

/// What the lesson panel shows: the description, the lesson, the SLOs meant to break,
/// and the variants that show the lesson's other side (empty when there is none of it).
pub fn lesson_text(sc: &models::Scenario) -> String {
    let mut parts: Vec<String> = vec![];
    if !sc.description.is_empty() {
        parts.push(sc.description.clone());
    }
    if !sc.lesson.is_empty() {
        parts.push(sc.lesson.clone());
    }
    if !sc.breaks.is_empty() {
        parts.push(format!("Meant to break: {}.", sc.breaks.join(", ")));
    }
    if !sc.variants.is_empty() {
        let mut v = "The other side (scalelab tui FILE --variant NAME):".to_string();
        for x in &sc.variants {
            v += &format!("\n  {}: {}", x.name, x.description);
        }
        parts.push(v);
    }
    parts.join("\n\n")
}

impl App {
    /// The state for `sc` run with `seed`, paused at t = 0 until the first frame.
    pub fn new(sc: &models::Scenario, armed: crate::arm::Armed, seed: u64) -> App {
        let depths = sc.depths();
        App {
            title: sc.name.clone(),
            description: lesson_text(sc),
            seed,
            warmup: sc.warmup.as_secs_f64(),
            nodes: sc
                .nodes
                .iter()
                .zip(depths)
                .map(|(n, d)| (n.name.clone(), n.kind.kind().label(), d))
                .collect(),
            paused: false,
            speed: DEFAULT_SPEED,
            // The first pool: what its charts show (instances, backlog) is what a
            // user comes to watch.
            selected: sc
                .nodes
                .iter()
                .position(|n| n.kind.as_service().is_some())
                .unwrap_or(0),
            help: false,
            detail: false,
            zones: sc
                .nodes
                .iter()
                .map(|n| n.kind.as_service().map_or(vec![], |s| s.zones.clone()))
                .collect(),
            zone_names: sc.zones.clone(),
            calls: (0..sc.nodes.len())
                .map(|i| {
                    sc.callees(models::ids::NodeId::new(i))
                        .into_iter()
                        .map(|c| c.index())
                        .collect()
                })
                .collect(),
            metrics: sc
                .nodes
                .iter()
                .map(|n| {
                    n.kind
                        .as_service()
                        .and_then(|s| s.autoscale.as_ref())
                        .and_then(|a| a.metric())
                })
                .collect(),
            lesson: false,
            snap: Snapshot::default(),
            history: History::default(),
            log: VecDeque::new(),
            injected: vec![],
            pending: VecDeque::new(),
            armed,
            active: vec![],
            util: vec![],
            err_rate: vec![],
            slo: vec![],
            done: false,
            message: String::new(),
            quit: false,
            picker: false,
            back: false,
        }
    }

    /// A key was pressed: the state changes, and what to ask of the simulation.
    pub fn key(&mut self, k: Key, sc: &models::Scenario) -> Vec<Cmd> {
        use models::control::Verb;
        self.message.clear();
        let sel = models::ids::NodeId::new(self.selected);
        let node = || sel;
        let name = self
            .nodes
            .get(self.selected)
            .map(|n| n.0.clone())
            .unwrap_or_default();
        match k {
            Key::Char('q') => {
                self.quit = true;
                vec![Cmd::Quit]
            }
            Key::Char('b') if self.picker => {
                (self.quit, self.back) = (true, true);
                vec![Cmd::Quit]
            }
            Key::Char(' ') => {
                self.paused = !self.paused;
                vec![Cmd::Pause(self.paused)]
            }
            Key::Char('+') | Key::Char('=') => {
                self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
                vec![Cmd::Speed(SPEEDS[self.speed])]
            }
            Key::Char('-') => {
                self.speed = self.speed.saturating_sub(1);
                vec![Cmd::Speed(SPEEDS[self.speed])]
            }
            Key::Char('.') if self.paused => vec![Cmd::Step],
            Key::Next => {
                self.selected = (self.selected + 1) % self.nodes.len().max(1);
                vec![]
            }
            Key::Prev => {
                let n = self.nodes.len().max(1);
                self.selected = (self.selected + n - 1) % n;
                vec![]
            }
            Key::Char('?') => {
                self.help = !self.help;
                vec![]
            }
            Key::Char('d') => {
                self.lesson = !self.lesson;
                vec![]
            }
            Key::Esc => {
                (self.help, self.lesson, self.detail) = (false, false, false);
                vec![]
            }
            Key::Enter => {
                self.detail = !self.detail;
                vec![]
            }
            Key::Char('k' | 'l' | 'e' | 'f' | 'z' | 'h') if self.done => {
                self.message = "the run has ended: r restarts it".into();
                vec![]
            }
            Key::Char('k') => {
                let kind = self.nodes.get(self.selected).map_or("", |n| n.1);
                if kind != "service" && kind != "cache" {
                    self.message = format!("k: `{name}` has no instances to kill");
                    return vec![];
                }
                self.record(format!("KillInstances(node: \"{name}\", count: 1)"));
                vec![Cmd::Inject(Verb::KillInstances {
                    node: node(),
                    count: 1,
                })]
            }
            Key::Char(c @ ('l' | 'e')) => {
                let (ids, ron) = if c == 'l' {
                    (
                        &self.armed.latency,
                        format!(
                            "NodeLatency(node: \"{name}\", extra: Exp(\"{}\"))",
                            crate::arm::LATENCY
                        ),
                    )
                } else {
                    (
                        &self.armed.errors,
                        format!(
                            "ErrorInjection(node: \"{name}\", fraction: {})",
                            crate::arm::ERRORS
                        ),
                    )
                };
                match ids.get(self.selected).copied().flatten() {
                    Some(id) => self.toggle(id, ron),
                    None => {
                        self.message = format!("{c}: `{name}` serves no requests of its own");
                        vec![]
                    }
                }
            }
            Key::Char('z') => {
                let zone = sc.nodes[self.selected]
                    .kind
                    .as_service()
                    .and_then(|s| s.zones.first())
                    .and_then(|z| sc.zones.iter().position(|x| x == z).map(|i| (i, z.clone())));
                match zone.and_then(|(i, z)| self.armed.zones.get(i).map(|&id| (id, z))) {
                    Some((id, z)) => self.toggle(id, format!("ZoneOutage(zone: \"{z}\")")),
                    None => {
                        self.message = format!("z: `{name}` runs in no declared zone");
                        vec![]
                    }
                }
            }
            Key::Char('f') => match self.nodes.get(self.selected).map_or("", |n| n.1) {
                "cache" => {
                    self.record(format!("CacheFlush(node: \"{name}\")"));
                    vec![Cmd::Inject(Verb::FlushCache { node: node() })]
                }
                "database" => {
                    self.record(format!("DatabaseFailover(node: \"{name}\")"));
                    vec![Cmd::Inject(Verb::FailPrimary { node: node() })]
                }
                _ => {
                    self.message = format!(
                        "f: `{name}` is neither a cache (flush) nor a database (fail over)"
                    );
                    vec![]
                }
            },
            Key::Char('h') => {
                let active = std::mem::take(&mut self.active);
                if active.is_empty() {
                    self.message = "h: nothing broken by hand holds".into();
                }
                active
                    .into_iter()
                    .map(|(id, rec)| {
                        self.pending.push_back((rec, false));
                        Cmd::Inject(Verb::Fault { id, on: false })
                    })
                    .collect()
            }
            Key::Char('r') => {
                self.history = History::default();
                self.log.clear();
                self.injected.clear();
                self.pending.clear();
                self.active.clear();
                self.done = false;
                vec![Cmd::Restart]
            }
            Key::Char('s') => {
                self.message = match self.save(sc) {
                    Ok(path) => format!(
                        "saved {} injected faults to {path}",
                        self.injected.iter().filter(|i| i.at.is_some()).count()
                    ),
                    Err(e) => format!("could not save: {e}"),
                };
                vec![]
            }
            _ => vec![],
        }
    }

    /// Note a change sent now (its time comes with the frame after it is applied).
    fn record(&mut self, ron: String) -> usize {
        self.injected.push(Injected {
            at: None,
            until: None,
            ron,
        });
        let rec = self.injected.len() - 1;
        self.pending.push_back((rec, true));
        rec
    }

    /// Break armed fault `id` (written `ron`), or heal it if it holds.
    fn toggle(&mut self, id: u32, ron: String) -> Vec<Cmd> {
        use models::control::Verb;
        if let Some(k) = self.active.iter().position(|a| a.0 == id) {
            let (_, rec) = self.active.remove(k);
            self.pending.push_back((rec, false));
            return vec![Cmd::Inject(Verb::Fault { id, on: false })];
        }
        let rec = self.record(ron);
        self.active.push((id, rec));
        vec![Cmd::Inject(Verb::Fault { id, on: true })]
    }

    /// Whether armed fault `id` holds.
    pub fn holds(&self, id: Option<u32>) -> bool {
        id.is_some_and(|id| self.active.iter().any(|a| a.0 == id))
    }

    /// The faults injected so far, as a RON list a scenario's `faults:` (or `scalelab run
    /// --faults`) takes, at the simulated times they were applied.
    pub fn faults_ron(&self) -> String {
        let mut out = String::from("// Faults injected by hand in `scalelab tui`; replay with\n// scalelab run SCENARIO --faults THIS_FILE\n[\n");
        let ms = |t: f64| (t * 1000.0).round() as u64;
        for i in &self.injected {
            match (i.at, i.until) {
                (Some(a), Some(b)) => {
                    out += &format!(
                        "    Between(\"{}ms\", \"{}ms\", {}),\n",
                        ms(a),
                        ms(b),
                        i.ron
                    )
                }
                (Some(a), None) => out += &format!("    At(\"{}ms\", {}),\n", ms(a), i.ron),
                _ => {}
            }
        }
        out += "]\n";
        out
    }

    /// Write [`App::faults_ron`] to `<scenario>-faults.ron` in the working directory,
    /// whole or not at all.
    fn save(&self, sc: &models::Scenario) -> std::io::Result<String> {
        let path = format!("{}-faults.ron", sc.name);
        let tmp = format!(".{path}.tmp");
        std::fs::write(&tmp, self.faults_ron())?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// A frame from the simulation: the snapshot, the charts, the log.
    pub fn frame(&mut self, f: Frame) {
        let dt = (f.snap.t.as_secs_f64() - self.snap.t.as_secs_f64()).max(0.0);
        let advanced = dt > 0.0 && f.snap.t > self.snap.t;
        if advanced {
            let h = &mut self.history;
            let push = |q: &mut VecDeque<f64>, v: f64| {
                if q.len() == HISTORY {
                    q.pop_front();
                }
                q.push_back(v);
            };
            push(
                &mut h.throughput,
                f.snap.completed.saturating_sub(self.snap.completed) as f64 / dt,
            );
            push(
                &mut h.errors,
                f.snap.errors.saturating_sub(self.snap.errors) as f64 / dt,
            );
            push(&mut h.p50, f.latency[0]);
            push(&mut h.p95, f.latency[1]);
            push(&mut h.p99, f.latency[2]);
            push(&mut h.t, f.snap.t.as_secs_f64());
            h.nodes
                .resize_with(f.snap.nodes.len(), NodeHistory::default);
            for (i, (nh, n)) in h.nodes.iter_mut().zip(&f.snap.nodes).enumerate() {
                push(&mut nh.serving, n.serving as f64);
                push(&mut nh.size, n.size as f64);
                push(&mut nh.queue, n.queued as f64);
                push(&mut nh.metric, n.metric.unwrap_or(f64::NAN));
                let (h0, m0) = self
                    .snap
                    .nodes
                    .get(i)
                    .map_or((0, 0), |o| (o.hits, o.misses));
                let (dh, dm) = (n.hits.saturating_sub(h0), n.misses.saturating_sub(m0));
                let ratio = if dh + dm > 0 {
                    dh as f64 / (dh + dm) as f64
                } else {
                    nh.hit_ratio.back().copied().unwrap_or(0.0)
                };
                push(&mut nh.hit_ratio, ratio);
            }
        }
        for t in &f.applied {
            if let Some((rec, start)) = self.pending.pop_front() {
                let r = &mut self.injected[rec];
                if start {
                    r.at = Some(t.as_secs_f64());
                } else {
                    r.until = Some(t.as_secs_f64());
                }
            }
        }
        if f.restarted {
            self.history = History::default();
        }
        for e in f.log {
            use models::report::TimelineKind as K;
            if matches!(
                e.kind,
                K::Fault | K::Action | K::Deploy | K::Autoscale | K::Alert
            ) {
                self.history.marks.push_back(Mark {
                    t: e.t,
                    kind: e.kind,
                    node: e.node.clone(),
                });
            }
            if self.log.len() == LOG {
                self.log.pop_front();
            }
            self.log.push_back(e);
        }
        let oldest = self.history.t.front().copied().unwrap_or(0.0);
        while self.history.marks.front().is_some_and(|m| m.t < oldest) {
            self.history.marks.pop_front();
        }
        self.util = f
            .snap
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match self.snap.nodes.get(i) {
                // Over the slice: the difference of the areas (same window start).
                Some(o) if o.areas_since == n.areas_since && n.worker_area > o.worker_area => {
                    (n.busy_area - o.busy_area) as f64 / (n.worker_area - o.worker_area) as f64
                }
                _ => util(n),
            })
            .collect();
        if advanced {
            let lost = |n: &models::world::observe::NodeSnapshot| n.rejected + n.killed;
            self.err_rate = f
                .snap
                .nodes
                .iter()
                .zip(&self.snap.nodes)
                .map(|(n, o)| lost(n).saturating_sub(lost(o)) as f64 / dt)
                .collect();
            let h = &mut self.history;
            for (nh, &u) in h.nodes.iter_mut().zip(&self.util) {
                if nh.util.len() == HISTORY {
                    nh.util.pop_front();
                }
                nh.util.push_back(u);
            }
        }
        self.done = f.done;
        self.slo = f.slo;
        self.snap = f.snap;
    }

    /// Requests node `i` refused or lost per second over the last slice.
    pub fn error_rate(&self, i: usize) -> f64 {
        self.err_rate.get(i).copied().unwrap_or(0.0)
    }

    /// Node `i`'s utilisation over the last slice.
    pub fn load(&self, i: usize) -> f64 {
        self.util.get(i).copied().unwrap_or(0.0)
    }

    /// The node most loaded over the last slice, if any has workers.
    pub fn bottleneck(&self) -> Option<usize> {
        self.snap
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.workers > 0)
            .max_by(|a, b| self.load(a.0).total_cmp(&self.load(b.0)))
            .map(|(i, _)| i)
    }
}

/// Busy / workers now (0 without workers).
fn util(n: &models::world::observe::NodeSnapshot) -> f64 {
    if n.workers == 0 {
        0.0
    } else {
        n.busy as f64 / n.workers as f64
    }
}

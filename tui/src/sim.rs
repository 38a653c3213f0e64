//! The simulation on its own thread: it runs in slices of simulated time at the chosen
//! speed, and after each slice sends a [`Frame`] (a snapshot, the new timeline entries,
//! the latency of the slice). It never waits on the UI (a frame the UI has not taken yet
//! is replaced, not queued), and the UI never waits on it. Commands (pause, speed, an
//! injected fault) arrive on a channel and are applied between slices, as events on the
//! simulation's own queue.

use crate::app::Cmd;
use models::kernel::Ev;
use models::report::TimelineEntry;
use models::world::observe::Snapshot;
use models::world::World;
use models::Scenario;
use sim_core::{SimTime, Simulation};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wall time per slice.
pub const SLICE: Duration = Duration::from_millis(50);
/// At "max" speed, the simulated time of a slice is grown until a slice takes about this.
const MAX_SLICE_WALL: Duration = Duration::from_millis(40);

/// What the simulation sends after a slice.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The world now.
    pub snap: Snapshot,
    /// Timeline entries since the last frame.
    pub log: Vec<TimelineEntry>,
    /// End-to-end p50, p95, p99 of the requests completed in the slice.
    pub latency: [f64; 3],
    /// The run reached its end.
    pub done: bool,
    /// The run started again from t = 0.
    pub restarted: bool,
    /// When each change injected since the last frame was applied, in order.
    pub applied: Vec<SimTime>,
    /// The scenario's SLOs so far.
    pub slo: Vec<models::world::observe::SloNow>,
}

/// The latest frame, taken by the UI (the simulation overwrites an untaken one).
pub type Mailbox = Arc<Mutex<Option<Frame>>>;

/// Start the simulation of `sc` with `seed` on its own thread: running from t = 0, or,
/// with `at`, run as fast as it goes to `at` and paused there.
pub fn spawn(
    sc: Arc<Scenario>,
    seed: u64,
    at: Option<SimTime>,
    cmds: Receiver<Cmd>,
    out: Mailbox,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("simulation".into())
        .spawn(move || run(sc, seed, at, cmds, out))
        .expect("spawn the simulation thread")
}

fn run(sc: Arc<Scenario>, seed: u64, at: Option<SimTime>, cmds: Receiver<Cmd>, out: Mailbox) {
    let mut sim: Simulation<World> = World::simulation(sc.clone(), seed);
    let (mut paused, mut speed, mut step) =
        (false, crate::app::SPEEDS[crate::app::DEFAULT_SPEED], false);
    if let Some(at) = at {
        sim.run_until(at.min(sc.duration));
        paused = true;
    }
    let mut max_slice = SimTime::from_nanos(100_000_000);
    let mut seen = 0;
    let mut marks = vec![];
    let mut restarted = false;
    let mut applied = vec![];
    let mut scratch = sim_core::Histogram::new();
    // The latest slice's percentiles: a frame sent while paused repeats them (an empty
    // window would read 0).
    let mut latency = [0.0; 3];
    loop {
        let began = Instant::now();
        loop {
            match cmds.try_recv() {
                Ok(Cmd::Pause(p)) => paused = p,
                Ok(Cmd::Speed(s)) => speed = s,
                Ok(Cmd::Step) => step = true,
                Ok(Cmd::Inject(v)) => {
                    sim.inject(Ev::Control(v));
                    applied.push(sim.now());
                }
                Ok(Cmd::Restart) => {
                    sim = World::simulation(sc.clone(), seed);
                    (seen, marks, restarted, latency) = (0, vec![], true, [0.0; 3]);
                }
                Ok(Cmd::Quit) | Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
        let end = sc.duration;
        let now = sim.now();
        let running = (!paused || step) && now < end;
        if running {
            let slice = match speed {
                Some(s) => SimTime::from_secs_f64(s * SLICE.as_secs_f64()),
                None => max_slice,
            };
            let to = (now + slice.max(SimTime::from_nanos(1))).min(end);
            let t0 = Instant::now();
            sim.run_until(to);
            if speed.is_none() {
                // Grow or shrink the slice to about MAX_SLICE_WALL of work.
                let took = t0.elapsed().max(Duration::from_micros(50));
                let k = (MAX_SLICE_WALL.as_secs_f64() / took.as_secs_f64()).clamp(0.5, 2.0);
                max_slice = SimTime::from_secs_f64((max_slice.as_secs_f64() * k).max(1e-3));
            }
            step = false;
            latency = sim.model().latency_window(&mut marks);
        }
        let w = sim.model();
        let mut frame = Frame {
            restarted: std::mem::take(&mut restarted),
            applied: std::mem::take(&mut applied),
            done: sim.now() >= end,
            ..Frame::default()
        };
        w.snapshot_into(sim.now(), &mut frame.snap);
        frame.log = w.timeline_from(seen).to_vec();
        seen += frame.log.len();
        frame.latency = latency;
        frame.slo = w.slo_now(&mut scratch);
        if let Ok(mut m) = out.lock() {
            // An untaken frame's log must not be lost: carry it over.
            if let Some(old) = m.take() {
                let mut log = old.log;
                log.extend(frame.log);
                frame.log = log;
                frame.restarted |= old.restarted;
                let mut applied = old.applied;
                applied.extend(frame.applied);
                frame.applied = applied;
            }
            *m = Some(frame);
        }
        // Pace: a slice per SLICE of wall time (at max speed, as fast as it goes).
        if speed.is_some() || paused || sim.now() >= end {
            let spent = began.elapsed();
            if spent < SLICE {
                std::thread::sleep(SLICE - spent);
            }
        }
    }
}

/// A channel pair for [`spawn`].
pub fn channel() -> (Sender<Cmd>, Receiver<Cmd>) {
    std::sync::mpsc::channel()
}

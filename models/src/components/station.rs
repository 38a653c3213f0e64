//! A station: one instance's workers (`cores`) and its bounded FIFO queue, with the
//! instance's lifecycle. Shared by everything that serves requests on instances (service
//! pools today; database nodes and queue workers later).

use crate::ids::NodeId;
use crate::kernel::{Cx, Wake};
use sim_core::{Key, SimTime};
use std::collections::VecDeque;

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Booting: serves from `ready_at` on.
    Starting {
        /// When it begins to serve.
        ready_at: SimTime,
    },
    /// Serving: balancers route to it.
    Ready,
    /// Taking no new requests; finishing those it has, then it stops.
    Draining,
    /// Gone (stopped or killed); its slot may be reused by a later start.
    Stopped,
}

/// One instance of a pool.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Lifecycle state.
    pub life: Life,
    /// Zone index (into the pool's `zones`).
    pub zone: u32,
    /// Bumped at every start and stop, so a stale timer (ready, drain timeout) is ignored.
    pub epoch: u32,
    /// When it was (last) started.
    pub started: SimTime,
    /// When it last became ready or stopped being ready (or was started): a pod's Ready
    /// condition's `lastTransitionTime`.
    pub transition: SimTime,
    /// CPU speed factor (1 = full speed; `degrade` lowers it).
    pub speed: f64,
    /// Workers (a service pool's instance: its size's cores).
    pub cores: u32,
    /// Its pool's generation when it started (a deploy or resize makes a new one).
    pub gen: u16,
    /// Busy workers (change it with [`Instance::take_worker`] / [`Instance::release_worker`],
    /// which keep `busy_area` in step).
    pub busy: u32,
    /// ∫ busy dt since it was (last) started, worker-nanoseconds, up to `busy_at`,
    /// wrapping: only differences over a window are read, and a window's fit in 64 bits.
    pub busy_area: u64,
    /// When `busy_area` was last brought up to date.
    pub busy_at: SimTime,
    /// `busy_area` at the last autoscaler datapoint (per-pod metrics read the difference).
    pub mark: u64,
    /// Frames accepted and not yet departed (queued, in service, or waiting on calls).
    pub present: u32,
    /// Frames waiting for a worker, in arrival order.
    pub queue: VecDeque<Key>,
}

impl Instance {
    /// A new instance in `life`, in `zone`, started at `now`.
    pub fn new(life: Life, zone: u32, now: SimTime) -> Self {
        Instance {
            life,
            zone,
            epoch: 0,
            started: now,
            transition: now,
            speed: 1.0,
            cores: 1,
            gen: 0,
            busy: 0,
            busy_area: 0,
            busy_at: now,
            mark: 0,
            present: 0,
            queue: VecDeque::new(),
        }
    }

    /// Its `busy_area` at `now` (≥ `busy_at`).
    #[inline]
    pub fn busy_area_at(&self, now: SimTime) -> u64 {
        self.busy_area
            .wrapping_add((self.busy as u64).wrapping_mul((now - self.busy_at).as_nanos()))
    }

    /// Busy worker-nanoseconds since the last datapoint's mark.
    pub fn busy_since_mark(&self, now: SimTime) -> u64 {
        self.busy_area_at(now).wrapping_sub(self.mark)
    }

    /// Change the busy workers to `busy` at `now`.
    #[inline]
    fn set_busy(&mut self, now: SimTime, busy: u32) {
        self.busy_area = self.busy_area_at(now);
        self.busy_at = now;
        self.busy = busy;
    }

    /// One more worker busy at `now`.
    #[inline]
    pub fn take_worker(&mut self, now: SimTime) {
        self.set_busy(now, self.busy + 1);
    }

    /// (Re)started at `now`: its busy time counts from here.
    pub fn restart_clock(&mut self, now: SimTime) {
        (self.started, self.transition) = (now, now);
        (self.busy_area, self.busy_at, self.mark) = (0, now, 0);
    }

    /// Whether it is starting or serving (what a pool's size counts).
    pub fn is_up(&self) -> bool {
        matches!(self.life, Life::Starting { .. } | Life::Ready)
    }

    /// Whether it is billed (starting, serving or draining).
    pub fn is_running(&self) -> bool {
        self.life != Life::Stopped
    }

    /// Whether its workers work (serving or draining).
    pub fn is_working(&self) -> bool {
        matches!(self.life, Life::Ready | Life::Draining)
    }

    /// A worker of this instance (of node `node`) is free: hand it to the next queued frame
    /// (woken with `Wake::Resume`), or count it idle.
    #[inline]
    pub fn release_worker(&mut self, cx: &mut Cx, node: NodeId) {
        let stats = &mut cx.k.nodes[node.index()];
        match self.queue.pop_front() {
            Some(next) => {
                stats.queued.add(cx.now, -1);
                cx.k.frames
                    .get_mut(next)
                    .expect("queued frame is live")
                    .holds = true;
                cx.wake_at(cx.now, next, node, Wake::Resume);
            }
            None => {
                self.set_busy(cx.now, self.busy - 1);
                stats.busy.add(cx.now, -1);
            }
        }
    }

    /// Everything queued or in service here stops at once (a kill): the queue is dropped
    /// and the workers freed, in the node's statistics too. Returns the workers that were
    /// busy. The frames themselves are the caller's to fail ([`Cx::kill`]).
    pub fn abort(&mut self, cx: &mut Cx, node: NodeId) -> u32 {
        let st = &mut cx.k.nodes[node.index()];
        st.queued.add(cx.now, -(self.queue.len() as i64));
        st.busy.add(cx.now, -(self.busy as i64));
        self.queue.clear();
        let busy = self.busy;
        self.set_busy(cx.now, 0);
        busy
    }

    /// Scale a CPU time by the instance's speed. Exact at full speed.
    #[inline]
    pub fn cpu_time(&self, t: SimTime) -> SimTime {
        if self.speed == 1.0 {
            t
        } else {
            SimTime::from_secs_f64(t.as_secs_f64() / self.speed)
        }
    }
}

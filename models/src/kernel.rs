//! The kernel: the event type, requests and their frames, and the context [`Cx`] that a
//! component is handed with each event (send, call, reply, depart, schedule a timer).
//!
//! - A request ([`Req`]) lives in a slab from its birth at a source to its reply.
//! - Each visit of a request to a node is a [`Frame`] in a second slab, linked to its
//!   caller's frame, so synchronous calls nest without any per-request allocation.
//! - Events ([`Ev`]) are small and `Copy` and carry generational keys: when a frame is gone
//!   (failed, or its instance killed), an event naming it is stale and is dropped.

use crate::control::Verb;
use crate::ids::{ClassId, InstanceId, LinkId, NodeId, SourceId};
use crate::scenario::Scenario;
use crate::world::stats::{ClassStats, NodeStats};
use crate::world::trace::SpanEnd;
use sim_core::{EventQueue, Key, SimTime, Slab, Stream};
use std::sync::Arc;

mod packed;
pub use packed::PackedEv;

/// The event queue of a run: events held packed, scheduled as [`Ev`].
pub type Queue = EventQueue<PackedEv>;

// A frame stays at 48 bytes (one per call in flight), a request at 72 (one per request in
// flight).
const _: () = assert!(std::mem::size_of::<Frame>() == 48);
const _: () = assert!(std::mem::size_of::<Req>() == 72);

/// An event, as components write and match it. The queue holds it packed
/// ([`PackedEv`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ev {
    /// The next arrival of a source.
    Arrival(SourceId),
    /// A frame reaches its node.
    Enter(Key, NodeId),
    /// A frame held back by a `NodeLatency` fault reaches its node.
    Delayed(Key, NodeId),
    /// A node's own timer for a frame.
    Wake(Key, NodeId, Wake),
    /// A client's retry (a new request, born with the first try) is sent now.
    Resend(Key),
    /// A callee's reply reaches the calling frame.
    Reply {
        /// The caller's frame.
        to: Key,
        /// Whether the call succeeded.
        ok: bool,
        /// [`Key::tag`] of the callee's frame: which try of the call this answers.
        from: u16,
    },
    /// The reply reaches the client.
    ClientDone {
        /// The request.
        req: Key,
        /// Whether it succeeded.
        ok: bool,
    },
    /// A source's client-timeout timer: requests of that source whose deadline has come
    /// and that are still unanswered time out.
    SourceTimer(SourceId),
    /// An instance has started and begins to serve (stale if its epoch moved on).
    InstanceReady(NodeId, InstanceId, u32),
    /// A draining instance's time is up: what is left on it fails (stale if it finished).
    DrainTimeout(NodeId, InstanceId, u32),
    /// A change to the world: scripted, from a fault, an autoscaler or the terminal UI.
    Control(Verb),
    /// A node's periodic timer (a write-behind cache's flush).
    Tick(NodeId),
    /// Fill the time series.
    Sample,
    /// Evaluate alert rule n (`Scenario::alerts`).
    Alert(u16),
    /// The warm-up is over: statistics restart.
    WarmupEnd,
}

/// Why a node's timer fired. The discriminants are the byte a packed event holds
/// ([`PackedEv`]); `Wake::from_byte` reads them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Wake {
    /// A CPU step is done.
    CpuDone = 0,
    /// The frame got a worker from its instance's queue.
    Resume = 1,
    /// A replicated write reaches a database replica.
    Arrive = 2,
    /// A wait (for a database connection, for a call's answer) is up.
    Timeout = 3,
    /// A call's backoff is over: try again.
    Retry = 4,
    /// A call's hedge delay is over: send a second try.
    Hedge = 5,
}

/// A request in flight, from its birth at a source to the reply.
#[derive(Debug, Clone, Copy)]
pub struct Req {
    /// Birth time.
    pub born: SimTime,
    /// The client's deadline (birth + timeout), if it has one.
    pub deadline: Option<SimTime>,
    /// The source it was born at.
    pub source: SourceId,
    /// The session (user) it belongs to, for sticky routing.
    pub session: u64,
    /// The key it reads or writes (caches, shards).
    pub key: u64,
    /// Its class.
    pub class: ClassId,
    /// Attempt number: 1 for the first try (retries come with the chaos issue).
    pub attempt: u16,
    /// A queue's message (processed in the background), not a client's request.
    pub message: Option<NodeId>,
    /// Born after the warm-up: counted in the statistics.
    pub counted: bool,
    /// The client gave up on it.
    pub timed_out: bool,
    /// The data version its last read returned (0: never written), for caches that store
    /// what it read; or, for a write-behind flush, the version the cache acknowledged.
    pub version: u64,
    /// Its last `Lookup` missed (set by the cache, read by the calling program).
    pub missed: bool,
    /// The database that produced `version`.
    pub store: Option<NodeId>,
}

impl Req {
    /// Its user: the source and the session together (two sources' sessions are
    /// different users), for per-user state such as rate-limit buckets and sessions.
    #[inline]
    pub fn user(&self) -> u64 {
        ((self.source.index() as u64) << 40) ^ self.session
    }
}

/// One visit of a request to a node.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// The request.
    pub req: Key,
    /// The calling frame, or [`Key::NONE`] for the client.
    pub parent: Key,
    /// When it arrived at the node.
    pub entered: SimTime,
    /// The node.
    pub node: NodeId,
    /// Service pools: the instance serving it (chosen by a balancer in front, or by the
    /// pool on entry when `None`).
    pub inst: Option<InstanceId>,
    /// Services: the next op of its handler program. Balancers: the target it was sent
    /// to (a balancer runs no program; sharing the slot keeps a frame at 48 bytes).
    pub pc: u32,
    /// The link it came over (its reply goes back over it).
    pub link: Option<LinkId>,
    /// The request's class.
    pub class: ClassId,
    /// It holds a worker of its instance.
    pub holds: bool,
    /// It is counted present at its instance (accepted, not yet departed).
    pub placed: bool,
    /// The zone it runs in (an id in [`Scenario::zones`], 1-based): set where a service
    /// instance takes it, inherited by the calls it makes; 0 when not in a zone (a
    /// source's request before any service). Geo-sharded databases route by it.
    pub zone: u16,
}

/// A change in which instances a pool serves from, for the balancers in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// The pool.
    pub node: NodeId,
    /// The instance.
    pub inst: InstanceId,
    /// Now routable (true) or not any more (false).
    pub up: bool,
    /// It died (killed) rather than being taken out on purpose (a drain, a stop): a
    /// balancer with health checks learns of a death only from its probes.
    pub died: bool,
    /// The instance's zone id (for balancers that prefer their caller's zone).
    pub zone: u16,
}

/// Everything the components share: the scenario, requests and frames, random streams and
/// statistics. Each component's own state (with its own random stream `node/<name>`)
/// lives in `NodeState`, outside the kernel.
pub struct Kernel {
    /// The scenario being run.
    pub sc: Arc<Scenario>,
    /// Requests in flight.
    pub reqs: Slab<Req>,
    /// Frames in flight.
    pub frames: Slab<Frame>,
    /// One stream per link (`link/<from>-><to>`).
    pub link_rng: Vec<Stream>,
    /// Statistics per node.
    pub nodes: Vec<NodeStats>,
    /// Statistics per class, seen from the client.
    pub classes: Vec<ClassStats>,
    /// Instance slots of all pools together (bounded by `MAX_TOTAL_INSTANCES`).
    pub instance_slots: u64,
    /// Membership changes announced by pools, applied to balancers by the world after the
    /// event that caused them. Empty between events.
    pub membership: Vec<Membership>,
    /// The latest acknowledged version of every written key, per data store.
    pub versions: Versions,
    /// Per link, the extra latency of a `LinkLatency` fault while it holds.
    pub link_extra: Vec<Option<crate::scenario::dist::Dist>>,
    /// Per zone id, whether a `ZoneOutage` holds (no instance starts there).
    pub zones_down: Vec<bool>,
    /// Zone pairs that cannot reach each other (a `Partition`), smaller id first.
    pub partitions: Vec<(u16, u16)>,
    /// The stream `crossing`: latency of calls into another zone or region.
    pub crossing_rng: Stream,
    /// Per call policy (`Scenario::calls`), what its calls did in the measured window.
    pub calls: Vec<CallStats>,
    /// Timeline notes from components (a breaker's changes), taken by the world after
    /// the event that made them. Empty between events.
    pub notes: Vec<(NodeId, crate::report::TimelineKind, String)>,
    /// A defence reacted in this event (a breaker opened), with a note: faults holding
    /// count as detected.
    pub defended: bool,
    /// Request traces (`--trace-out`); off unless asked for.
    pub tracer: Option<Box<crate::world::trace::Tracer>>,
}

/// What the calls of one call site (with a timeout or retries) did.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    /// Calls made (first tries).
    pub calls: sim_core::Counter,
    /// Tries, the first included.
    pub attempts: sim_core::Counter,
    /// Tries given up on at their timeout.
    pub timeouts: sim_core::Counter,
    /// Calls that failed after their last try.
    pub failed: sim_core::Counter,
    /// Tries failed at once by an open breaker (never sent).
    pub short_circuited: sim_core::Counter,
    /// Times the breaker opened.
    pub opened: sim_core::Counter,
    /// Tries failed at once by a full bulkhead (never sent).
    pub rejected: sim_core::Counter,
    /// Second tries sent by the hedge.
    pub hedged: sim_core::Counter,
    /// Since when the breaker has not been closed, if it is not.
    pub open_since: Option<SimTime>,
    /// Time not closed so far, within the measured window, up to `open_since`.
    pub open_total: SimTime,
}

impl CallStats {
    /// The breaker left the closed state (`open`) or returned to it, at `now`; only time
    /// after `warmup` counts.
    pub fn breaker_closed(&mut self, now: SimTime, closed: bool, warmup: SimTime) {
        match (closed, self.open_since) {
            (false, None) => self.open_since = Some(now),
            (true, Some(since)) => {
                self.open_total = self.open_total + now.saturating_sub(since.max(warmup));
                self.open_since = None;
            }
            _ => {}
        }
    }

    /// Time the breaker was not closed within `[warmup, end]`.
    pub fn open_time(&self, warmup: SimTime, end: SimTime) -> SimTime {
        self.open_total
            + self
                .open_since
                .map_or(SimTime::ZERO, |s| end.saturating_sub(s.max(warmup)))
    }
}

/// `u64` keys hashed with SplitMix64: fast, and the same on every machine.
#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = sim_core::mix64(self.0 ^ b as u64);
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.0 = sim_core::mix64(k);
    }
    fn write_u32(&mut self, k: u32) {
        // A slab key is two: its index, then its generation.
        self.0 = sim_core::mix64(self.0 ^ k as u64 ^ 0x9E37_79B9_7F4A_7C15);
    }
}

/// A map from request keys.
pub type KeyMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// A map from slab keys (frames), hashed the same way: no SipHash on a hot path.
pub type FrameMap<V> = std::collections::HashMap<Key, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// Data versions, for counting stale reads. Every acknowledged write gets the next number
/// of one counter shared by the world; per data store (a database node) and key, the
/// latest acknowledged one is kept. A read that returns an older version than that is
/// stale. Only written keys take memory.
///
/// A database keeps its own per-key record (its last committed write) in the same entry,
/// so that a request looks a key up once, not once per map: over a million random keys
/// every lookup misses the processor's caches.
#[derive(Debug, Default)]
pub struct Versions {
    last: u64,
    latest: Vec<KeyMap<KeyVersion>>,
}

/// What is known of one key at one data store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyVersion {
    /// The latest acknowledged version (0: never written).
    pub acked: u64,
    /// A database's last committed write to the key: its version (0: none) ...
    pub committed: u64,
    /// ... its log position ...
    pub pos: u64,
    /// ... and the shard it was committed on.
    pub shard: u32,
}

impl Versions {
    /// Versions for `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Versions {
            last: 0,
            latest: (0..nodes).map(|_| KeyMap::default()).collect(),
        }
    }

    /// A new version number, above every one before.
    #[inline]
    pub fn new_version(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    /// The latest acknowledged version of `key` at `store` (0: never written).
    #[inline]
    pub fn latest(&self, store: NodeId, key: u64) -> u64 {
        self.latest[store.index()].get(&key).map_or(0, |e| e.acked)
    }

    /// Version `v` of `key` at `store` was acknowledged (an older one changes nothing).
    #[inline]
    pub fn acknowledge(&mut self, store: NodeId, key: u64, v: u64) {
        let e = self.entry(store, key);
        e.acked = e.acked.max(v);
    }

    /// What `store` knows of `key`, if anything.
    #[inline]
    pub fn get(&self, store: NodeId, key: u64) -> Option<&KeyVersion> {
        self.latest[store.index()].get(&key)
    }

    /// What `store` knows of `key`, to change it (made empty if it was not there).
    #[inline]
    pub fn entry(&mut self, store: NodeId, key: u64) -> &mut KeyVersion {
        self.latest[store.index()].entry(key).or_default()
    }

    /// How many keys `store` knows of (written, acknowledged or committed).
    #[cfg(test)]
    pub(crate) fn keys(&self, store: NodeId) -> usize {
        self.latest[store.index()].len()
    }

    /// Keep only the keys of `store` for which `keep` says so (it may change them).
    pub fn retain(&mut self, store: NodeId, keep: impl FnMut(&u64, &mut KeyVersion) -> bool) {
        self.latest[store.index()].retain(keep);
    }
}

/// The context handed to a component with an event.
pub struct Cx<'a> {
    /// The shared kernel.
    pub k: &'a mut Kernel,
    /// The event queue.
    pub q: &'a mut Queue,
    /// The current time.
    pub now: SimTime,
}

impl Cx<'_> {
    /// Send `ev` over `link` (sampling its latency), or now without one.
    #[inline(always)]
    pub fn send(&mut self, link: Option<LinkId>, ev: Ev) {
        let delay = match link {
            None => SimTime::ZERO,
            Some(l) => {
                let rng = &mut self.k.link_rng[l.index()];
                let base = self.k.sc.links[l.index()].latency.sample(rng);
                match self.k.link_extra[l.index()] {
                    None => base,
                    Some(extra) => base + extra.sample(rng),
                }
            }
        };
        self.q.schedule(self.now + delay, ev);
    }

    /// Schedule node `node`'s timer `why` for frame `f` at `at`.
    #[inline]
    pub fn wake_at(&mut self, at: SimTime, f: Key, node: NodeId, why: Wake) {
        self.q.schedule(at, Ev::Wake(f, node, why));
    }

    /// A new frame of `from`'s request, called by frame `parent`, for `node` (at instance
    /// `inst` if the caller chose one), reached over `link`. Not sent yet: see
    /// [`Cx::send`] with [`Ev::Enter`].
    #[inline(always)]
    pub fn child(
        &mut self,
        parent: Key,
        from: &Frame,
        node: NodeId,
        inst: Option<InstanceId>,
        link: Option<LinkId>,
    ) -> Key {
        self.k.frames.insert(Frame {
            req: from.req,
            parent,
            entered: self.now,
            node,
            inst,
            pc: 0,
            link,
            class: from.class,
            holds: false,
            placed: false,
            zone: from.zone,
        })
    }

    /// The frame is taken in by its node now: it counts as present there (Little's `L`)
    /// and its sojourn starts. Components that queue per instance do this themselves.
    #[inline(always)]
    pub fn accept(&mut self, f: Key) {
        let fm = self.k.frames.get_mut(f).expect("accepted frame is live");
        fm.entered = self.now;
        let node = fm.node.index();
        self.k.nodes[node].present.add(self.now, 1);
    }

    /// A new top-level frame for request `req` (a client's or a queue's message), for
    /// `node`, reached over `link`, from zone `zone` (0: none), and send it.
    #[inline(always)]
    pub fn send_root(
        &mut self,
        req: Key,
        node: NodeId,
        link: Option<LinkId>,
        class: ClassId,
        zone: u16,
    ) {
        let f = self.k.frames.insert(Frame {
            req,
            parent: Key::NONE,
            entered: self.now,
            node,
            inst: None,
            pc: 0,
            link,
            class,
            holds: false,
            placed: false,
            zone,
        });
        self.send(link, Ev::Enter(f, node));
    }

    /// The frame leaves its node after being served (done or failed): it is removed, and
    /// the node's presence, sojourn and departures are updated. The caller replies.
    #[inline(always)]
    pub fn leave(&mut self, f: Key) -> Frame {
        if self.k.tracer.is_some() {
            Self::span(self.k, self.now, f, SpanEnd::Ok);
        }
        let fr = self.k.frames.remove(f).expect("departing frame is live");
        let stats = &mut self.k.nodes[fr.node.index()];
        stats.present.add(self.now, -1);
        stats.sojourn.record(self.now - fr.entered);
        stats.departures.inc();
        stats.departed_total += 1;
        fr
    }

    /// Reply for a frame that has left its node: to its caller, or to the client.
    #[inline(always)]
    pub fn reply(&mut self, from: Key, fr: Frame, ok: bool) {
        if !ok {
            if let Some(t) = self.k.tracer.as_deref_mut() {
                t.failed(from);
            }
        }
        self.answer(from, fr, ok);
    }

    /// Send the reply of frame `from` (now `fr`, removed).
    #[inline(always)]
    fn answer(&mut self, from: Key, fr: Frame, ok: bool) {
        let ev = if fr.parent.is_none() {
            Ev::ClientDone { req: fr.req, ok }
        } else {
            Ev::Reply {
                to: fr.parent,
                ok,
                from: from.tag(),
            }
        };
        self.send(fr.link, ev);
    }

    /// Whether frame `f`'s request counts in the statistics (born after the warm-up).
    #[inline]
    pub fn counted(&self, f: Key) -> bool {
        self.k
            .frames
            .get(f)
            .and_then(|fr| self.k.reqs.get(fr.req))
            .is_some_and(|r| r.counted)
    }

    /// Fail a frame at once because what served it is gone (a killed instance or server):
    /// it is removed, counted in its node's `killed`, and fails its caller.
    #[inline]
    pub fn kill(&mut self, f: Key) {
        if self.k.tracer.is_some() {
            Self::span(self.k, self.now, f, SpanEnd::Killed);
        }
        let fr = self.k.frames.remove(f).expect("killed frame is live");
        let stats = &mut self.k.nodes[fr.node.index()];
        stats.present.add(self.now, -1);
        stats.killed.inc();
        self.answer(f, fr, false);
    }

    /// Refuse a frame on arrival (queue full, nothing to serve it): it is removed, counted
    /// as rejected at its node, and fails its caller.
    #[inline]
    pub fn reject(&mut self, f: Key) {
        if self.k.tracer.is_some() {
            Self::span(self.k, self.now, f, SpanEnd::Rejected);
        }
        let fr = self.k.frames.remove(f).expect("rejected frame is live");
        self.k.nodes[fr.node.index()].rejected.inc();
        self.answer(f, fr, false);
    }

    /// Frame `f` (still live) ends now, `how` (a served frame's `Ok` becomes `Failed` if
    /// its reply says so): its span, if its request is traced.
    #[cold]
    #[inline(never)]
    fn span(k: &mut Kernel, now: SimTime, f: Key, how: SpanEnd) {
        let (Some(tracer), Some(fr)) = (k.tracer.as_deref_mut(), k.frames.get(f)) else {
            return;
        };
        let (Some(trace), Some(r)) = (tracer.trace_of(fr.req), k.reqs.get(fr.req)) else {
            return;
        };
        let at = (r.source, fr.class, fr.zone, r.attempt);
        tracer.frame(
            trace,
            f,
            fr.parent,
            fr.node,
            fr.inst,
            at,
            (fr.entered, now),
            how,
        );
    }
}

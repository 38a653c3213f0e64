//! Caches (Redis / Memcached-like): a key store of bounded capacity in front of a slower
//! node, with its own cores and queue so a cache can saturate too.
//!
//! A request reaching a cache performs its class's operation (`op`) on its key:
//! - `Read`: after the lookup time (`hit`), a key present and not expired is a **hit** and
//!   the reply goes back at once. A **miss** with `read_through` asks that node (the worker
//!   is freed meanwhile) and stores the key when the answer comes back; without
//!   `read_through` the cache answers "not here" (the caller's program decides).
//! - `Write`: the key is invalidated (removed) and, with `read_through`, the write is passed
//!   on; the reply waits for it.
//!
//! Evictions when full: `Lru` (least recently used), `Lfu` (least frequently used, ties to
//! the oldest), `Fifo` (oldest inserted), `Random` (from the node's stream). A `ttl`
//! expires keys lazily: an expired key found by a lookup is removed and counts as a miss
//! and an expiration. All operations are O(1) (O(log n) for `Lfu`) and allocate nothing
//! once the store is full.
//!
//! Writes (`write`): `Invalidate` (default) removes the key and passes the write on;
//! `WriteThrough` passes it on and stores the key when the node behind acknowledges it;
//! `WriteBehind(flush_every)` stores the key at once, acknowledges the write, and sends the
//! dirty keys downstream every `flush_every` (a dirty key evicted before is written back
//! then). A `FlushCache` loses the writes not yet sent: counted as `lost_writes`.
//!
//! Miss coalescing (`coalesce_misses: true`): while a key is being fetched, further misses
//! on it wait for that fetch instead of sending their own — without it, a hot key that
//! expires under load sends a burst of identical queries downstream (the stampede).
//!
//! Metrics (report `nodes[].cache`): hits, misses, `hit_ratio`, fetches (queries sent
//! downstream for misses), coalesced misses, evictions, expirations, invalidations, over the
//! measured window.

use super::station::{Instance, Life};
use super::{Component, Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, LinkId, NodeId};
use crate::kernel::{Cx, Ev, Wake};
use crate::scenario::dist::Dist;
use crate::scenario::program::cache_call;
use crate::scenario::raw::{Count, Dur, KeyOp, RawDist};
use crate::scenario::{KeyDist, Resolver, Scenario, ScenarioError};
use serde::Deserialize;
mod store;

use sim_core::{Counter, Key, SimTime, Slab, Stream};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use store::{KeyHasher, Lookup, Store};

/// Most keys one cache holds.
pub const MAX_CACHE_KEYS: u32 = 10_000_000;

fn default_hit() -> RawDist {
    RawDist::Exp(Dur(SimTime::from_nanos(300_000)))
}
fn default_one() -> Count {
    Count(1)
}

/// A cache as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Cache")]
pub struct RawCache {
    /// Unique name.
    pub name: String,
    /// Keys it holds (1 to 10 000 000).
    pub capacity: Count,
    /// What goes when it is full. Default: `Lru`.
    #[serde(default)]
    pub eviction: Eviction,
    /// Keys expire this long after they were stored. Default: never.
    #[serde(default)]
    pub ttl: Option<Dur>,
    /// Time of a lookup, hit or miss (it holds a worker). Default: `Exp("300us")`.
    #[serde(default = "default_hit")]
    pub hit: RawDist,
    /// The node a miss is fetched from (and writes are passed to). Default: none.
    #[serde(default)]
    pub read_through: Option<String>,
    /// Workers. Default: 1.
    #[serde(default = "default_one")]
    pub cores: Count,
    /// Waiting room; full ⇒ the request is rejected. Default: unbounded.
    #[serde(default)]
    pub queue: Option<Count>,
    /// Misses on a key already being fetched wait for that fetch. Default: `false`.
    #[serde(default)]
    pub coalesce_misses: bool,
    /// What a write does. Default: `Invalidate`.
    #[serde(default)]
    pub write: RawWrite,
    /// A CDN edge: read-only (a class that writes may not reach it, nothing fills it but
    /// its origin, `read_through`), `hit` is the edge's latency. Default: `false`.
    #[serde(default)]
    pub edge: bool,
}

/// What a write does at a cache.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawWrite {
    /// Remove the key; pass the write on.
    #[default]
    Invalidate,
    /// Pass the write on; store the key when it is acknowledged.
    WriteThrough,
    /// Store the key and acknowledge at once; send dirty keys on every `flush_every`.
    WriteBehind {
        /// Interval between flushes of dirty keys.
        flush_every: Dur,
    },
}

/// A validated write policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePolicy {
    /// Remove and pass on.
    Invalidate,
    /// Pass on, store on acknowledgement.
    Through,
    /// Store, acknowledge, flush every interval.
    Behind(SimTime),
}

/// Which key leaves a full cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Eviction {
    /// Least recently used.
    #[default]
    Lru,
    /// Least frequently used (ties: the least recently inserted of them).
    Lfu,
    /// Oldest inserted.
    Fifo,
    /// A random one.
    Random,
}

/// A validated cache.
#[derive(Debug, Clone)]
pub struct Cache {
    /// Keys it holds.
    pub capacity: u32,
    /// Eviction policy.
    pub eviction: Eviction,
    /// Time to live.
    pub ttl: Option<SimTime>,
    /// Lookup time.
    pub hit: Dist,
    /// Where misses and writes go, and the link to it.
    pub read_through: Option<(NodeId, Option<LinkId>)>,
    /// Workers.
    pub cores: u32,
    /// Queue capacity.
    pub queue: Option<u32>,
    /// Coalesce misses on a key being fetched.
    pub coalesce: bool,
    /// Write policy.
    pub write: WritePolicy,
    /// A read-only CDN edge.
    pub edge: bool,
}

impl RawConfig for RawCache {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let decl = r.decl(name);
        let field = |r: &Resolver, f: &str| r.loc().field_in(name, f);
        if self.capacity.0 == 0 || self.capacity.0 > MAX_CACHE_KEYS {
            return Err(r
                .err(
                    field(r, "capacity"),
                    format!(
                        "cache `{name}`: capacity {} is outside 1..={MAX_CACHE_KEYS} keys",
                        self.capacity.0
                    ),
                )
                .with_hint("the number of keys the cache holds, e.g. capacity: 50000"));
        }
        if self.cores.0 == 0 || self.cores.0 > super::service::MAX_CORES {
            return Err(r
                .err(
                    field(r, "cores"),
                    format!("cache `{name}`: cores must be 1 to 100000"),
                )
                .with_hint("workers serving lookups in parallel"));
        }
        let ttl = match self.ttl {
            Some(Dur(t)) if t == SimTime::ZERO => {
                return Err(r
                    .err(
                        field(r, "ttl"),
                        format!("cache `{name}`: a ttl of 0 keeps nothing"),
                    )
                    .with_hint(
                        "leave ttl out for keys that never expire, or give e.g. ttl: \"5m\"",
                    ))
            }
            t => t.map(|d| d.0),
        };
        let hit = Dist::from_raw(&self.hit)
            .map_err(|m| r.err(field(r, "hit"), format!("cache `{name}`: {m}")))?;
        let read_through = match &self.read_through {
            None => None,
            Some(target) => {
                let node = r.node(target, decl)?;
                if target == name {
                    return Err(r
                        .err(
                            r.loc().quoted(target, decl),
                            format!("cache `{name}` reads through itself"),
                        )
                        .with_hint("name the database (or service) behind the cache"));
                }
                let kind = match r.raw_node(node) {
                    super::RawNode::Database(_) => None,
                    super::RawNode::Service(_) | super::RawNode::LoadBalancer(_) if self.edge => {
                        None
                    }
                    super::RawNode::Service(_) => Some("a service"),
                    super::RawNode::LoadBalancer(_) => Some("a load balancer"),
                    super::RawNode::Cache(_) => Some("a cache"),
                    super::RawNode::Queue(_) => Some("a queue"),
                    super::RawNode::RateLimiter(_) => Some("a rate limiter"),
                };
                if let Some(kind) = kind {
                    return Err(r
                        .err(
                            r.loc().quoted(target, decl),
                            format!(
                                "cache `{name}` reads through `{target}`, {kind}, but a cache reads through a database"
                            ),
                        )
                        .with_hint(format!(
                            "make `{target}` a Database(...); a CDN edge (edge: true) may read through a service"                        )));
                }
                Some((node, r.link_of(name, target)))
            }
        };
        let write = match self.write {
            RawWrite::Invalidate => WritePolicy::Invalidate,
            RawWrite::WriteThrough => WritePolicy::Through,
            RawWrite::WriteBehind { flush_every } => {
                if flush_every.0 == SimTime::ZERO {
                    return Err(r
                        .err(
                            field(r, "flush_every"),
                            format!("cache `{name}`: flush_every must be above zero"),
                        )
                        .with_hint("e.g. write: WriteBehind(flush_every: \"1s\")"));
                }
                WritePolicy::Behind(flush_every.0)
            }
        };
        if self.edge && read_through.is_none() {
            return Err(r
                .err(
                    field(r, "edge"),
                    format!("cache `{name}`: a CDN edge needs an origin to fill from"),
                )
                .with_hint("add read_through: \"<origin>\""));
        }
        if write != WritePolicy::Invalidate && read_through.is_none() {
            return Err(r
                .err(
                    field(r, "write"),
                    format!(
                        "cache `{name}`: {} writes need read_through, the node they go to",
                        if write == WritePolicy::Through {
                            "WriteThrough"
                        } else {
                            "WriteBehind"
                        }
                    ),
                )
                .with_hint("add read_through: \"<database>\""));
        }
        Ok(NodeKind::Cache(Cache {
            write,
            capacity: self.capacity.0,
            eviction: self.eviction,
            ttl,
            hit,
            read_through,
            cores: self.cores.0,
            queue: self.queue.map(|q| q.0),
            coalesce: self.coalesce_misses,
            edge: self.edge,
        }))
    }
}

/// The hit ratio of an LRU cache of `capacity` keys under independent requests with
/// popularities `p` (summing to 1), by Che's approximation: find the characteristic time
/// `T` with `Σ (1 − e^(−p_i T)) = C`; then the hit ratio is `Σ p_i (1 − e^(−p_i T))`.
pub fn che_hit_ratio(p: &[f64], capacity: f64) -> f64 {
    if capacity >= p.len() as f64 {
        return 1.0;
    }
    let filled = |t: f64| p.iter().map(|&q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < capacity {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|&q| q * (1.0 - (-q * hi).exp())).sum()
}

impl Cache {
    /// Predicted share of reads that miss, for `class` (capacity estimate): `1 − C/n` for
    /// uniform keys, Che's approximation for Zipf keys with up to 2 000 000 keys (an
    /// estimate for `Lru`, used for every policy), all of them otherwise.
    pub fn miss_ratio(&self, class: ClassId, sc: &Scenario) -> f64 {
        let keys = sc
            .sources
            .iter()
            .flat_map(|s| &s.mix)
            .find(|m| m.class == class)
            .map(|m| m.keys);
        let c = self.capacity as f64;
        match keys {
            Some(KeyDist::Uniform(n)) => (1.0 - c / n as f64).max(0.0),
            Some(KeyDist::Zipf { n, s, .. }) if n <= 2_000_000 => {
                let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
                let total: f64 = w.iter().sum();
                let p: Vec<f64> = w.iter().map(|x| x / total).collect();
                1.0 - che_hit_ratio(&p, c)
            }
            _ => 1.0,
        }
    }
}

impl Config for Cache {
    fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState {
        NodeState::Cache(CacheState {
            id,
            rng,
            hit: self.hit,
            cores: self.cores,
            queue_cap: self.queue,
            read_through: self.read_through,
            ops: sc.class_ops.clone(),
            station: Instance::new(Life::Ready, 0, SimTime::ZERO),
            store: Store::new(self.capacity as usize, self.eviction, self.ttl),
            coalesce: self.coalesce,
            write: self.write,
            dirty: vec![],
            fetching: HashMap::default(),
            waiters: Slab::with_capacity(0),
            interval: (0, 0),
            origin: self.read_through.and_then(|(n, _)| {
                matches!(sc.nodes[n.index()].kind, NodeKind::Database(_)).then_some(n)
            }),
        })
    }

    fn callees(&self, _class: ClassId, out: &mut Vec<NodeId>) {
        out.extend(self.read_through.map(|r| r.0));
    }

    fn workers(&self) -> u64 {
        self.cores as u64
    }

    fn visit(&self, id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        flow.demand[id.index()] += rate * self.hit.mean_s();
        if let Some((node, _)) = self.read_through {
            let passed = match flow.sc.class_ops[class.index()] {
                KeyOp::Read => self.miss_ratio(class, flow.sc),
                KeyOp::Write => 1.0,
            };
            flow.visit(node, class, rate * passed);
        }
    }

    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        let behind = self.read_through.map_or(0.0, |(node, link)| {
            let link = link.map_or(0.0, |l| sc.links[l.index()].latency.mean_s());
            let passed = match sc.class_ops[class.index()] {
                KeyOp::Read => self.miss_ratio(class, sc),
                KeyOp::Write => 1.0,
            };
            passed * (2.0 * link + sc.nodes[node.index()].kind.response_time(class, sc))
        });
        self.hit.mean_s() + behind
    }
}

/// A cache's counters over the measured window.
#[derive(Debug, Clone, Default)]
pub struct CacheStats {
    /// Reads answered from the store.
    pub hits: Counter,
    /// Reads not found (expired ones included).
    pub misses: Counter,
    /// Keys pushed out to make room.
    pub evictions: Counter,
    /// Keys found expired.
    pub expirations: Counter,
    /// Keys removed by writes.
    pub invalidations: Counter,
    /// Queries sent downstream for misses.
    pub fetches: Counter,
    /// Misses that waited for a fetch already under way.
    pub coalesced: Counter,
    /// Write-behind: writes sent downstream by a flush or an eviction.
    pub written_back: Counter,
    /// Write-behind: acknowledged writes lost because the cache was flushed first.
    pub lost_writes: Counter,
    /// Hits that returned an older version than the latest acknowledged write.
    pub stale_reads: Counter,
}

/// A cache at run time.
#[derive(Debug, Clone)]
pub struct CacheState {
    id: NodeId,
    rng: Stream,
    hit: Dist,
    cores: u32,
    queue_cap: Option<u32>,
    read_through: Option<(NodeId, Option<LinkId>)>,
    ops: Vec<KeyOp>,
    station: Instance,
    store: Store,
    coalesce: bool,
    write: WritePolicy,
    /// Write-behind: keys written since the last flush (their entries say if still dirty).
    dirty: Vec<u64>,
    /// Keys being fetched (with coalescing): the first waiting frame, if any.
    fetching: HashMap<u64, Option<Key>, BuildHasherDefault<KeyHasher>>,
    /// Frames waiting for a fetch, each linked to the next waiting for the same key.
    waiters: Slab<(Key, Option<Key>)>,
    /// The database whose data it holds (for stale reads): its read-through database, or
    /// the one the values it was filled with came from.
    origin: Option<NodeId>,
    /// Hits and misses since the last sample (for the hit-ratio series).
    interval: (u64, u64),
}

impl CacheState {
    /// Empty the store (a fault's `flush`); writes not yet sent are lost and counted.
    pub fn flush(&mut self, cx: &mut Cx) {
        // Taking the mark counts a key once even if it is listed twice (evicted, then
        // written again).
        let lost = self
            .dirty
            .drain(..)
            .filter(|&k| self.store.take_dirty(k).is_some())
            .count() as u64;
        self.stats(cx).lost_writes.add(lost);
        self.store.clear();
    }

    /// Kill the cache node (a restart): every request on it fails, its contents and its
    /// unsent writes are lost. Returns the requests that failed.
    pub fn kill(&mut self, cx: &mut Cx) -> u64 {
        let victims: Vec<Key> =
            cx.k.frames
                .iter()
                .filter(|(_, fr)| fr.node == self.id && fr.placed)
                .map(|(k, _)| k)
                .collect();
        self.station.abort(cx, self.id);
        // Fetches under way are forgotten: their answers find no frame and are dropped.
        self.fetching.clear();
        self.waiters = Slab::with_capacity(0);
        for &k in &victims {
            cx.kill(k);
        }
        self.flush(cx);
        victims.len() as u64
    }

    /// Whether a hit returning `version` of `key` is stale.
    fn is_stale(&self, cx: &Cx, key: u64, version: u64) -> bool {
        self.origin
            .is_some_and(|o| version < cx.k.versions.latest(o, key))
    }

    /// Write-behind: send `key`'s write (of `version`) downstream, as a background request.
    fn write_back(&mut self, cx: &mut Cx, key: u64, class: ClassId, version: u64) {
        let Some((node, link)) = self.read_through else {
            return;
        };
        let now = cx.now;
        let req = cx.k.reqs.insert(crate::kernel::Req {
            born: now,
            deadline: None,
            source: crate::ids::SourceId::new(0),
            session: 0,
            key,
            class,
            attempt: 1,
            message: Some(self.id),
            counted: now >= cx.k.sc.warmup,
            timed_out: false,
            version,
            missed: false,
            store: None,
        });
        self.stats(cx).written_back.inc();
        cx.send_root(req, node, link, class, 0);
    }

    /// Store `key` holding `version` (a fill or a write); an evicted dirty key is written
    /// back first.
    fn store_key(&mut self, cx: &mut Cx, key: u64, version: u64, dirty: Option<ClassId>) {
        if let Some(ev) = self.store.insert(key, version, cx.now, &mut self.rng) {
            self.stats(cx).evictions.inc();
            if let Some(class) = ev.dirty {
                self.write_back(cx, ev.key, class, ev.version);
            }
        }
        if let Some(class) = dirty {
            if self.store.set_dirty(key, class) {
                self.dirty.push(key);
            }
        }
    }

    /// The hit ratio since the last call (0 without reads), for the time series.
    pub fn take_hit_ratio(&mut self) -> f64 {
        let (h, m) = std::mem::take(&mut self.interval);
        if h + m > 0 {
            h as f64 / (h + m) as f64
        } else {
            0.0
        }
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    fn release_worker(&mut self, cx: &mut Cx) {
        self.station.release_worker(cx, self.id);
    }

    fn finish(&mut self, cx: &mut Cx, f: Key, ok: bool) {
        let fr = cx.leave(f);
        if fr.holds {
            self.release_worker(cx);
        }
        cx.reply(f, fr, ok);
    }

    fn stats<'a>(&self, cx: &'a mut Cx) -> &'a mut CacheStats {
        cx.k.nodes[self.id.index()]
            .cache
            .get_or_insert_with(CacheStats::default)
    }

    /// Free the worker and send the request on to the node behind.
    fn pass_on(&mut self, cx: &mut Cx, f: Key, node: NodeId, link: Option<LinkId>) {
        let fr = *cx.k.frames.get(f).expect("live");
        let child = cx.child(f, &fr, node, None, link);
        cx.k.frames.get_mut(f).expect("live").holds = false;
        self.release_worker(cx);
        cx.send(link, Ev::Enter(child, node));
    }
}

impl Component for CacheState {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        let now = cx.now;
        if self.station.busy < self.cores {
            self.station.take_worker(now);
            cx.k.nodes[self.id.index()].busy.add(now, 1);
            cx.accept(f);
            let fm = cx.k.frames.get_mut(f).expect("live");
            (fm.holds, fm.placed) = (true, true);
            let dt = self.hit.sample(&mut self.rng);
            cx.wake_at(now + dt, f, self.id, Wake::CpuDone);
        } else if self
            .queue_cap
            .is_some_and(|cap| self.station.queue.len() >= cap as usize)
        {
            cx.reject(f);
        } else {
            self.station.queue.push_back(f);
            cx.k.nodes[self.id.index()].queued.add(now, 1);
            cx.accept(f);
            cx.k.frames.get_mut(f).expect("live").placed = true;
        }
    }

    fn on_wake(&mut self, cx: &mut Cx, f: Key, why: Wake) {
        let Some(fr) = cx.k.frames.get(f).copied() else {
            return;
        };
        if why == Wake::Resume {
            // Got a worker from the queue: now the lookup.
            let dt = self.hit.sample(&mut self.rng);
            return cx.wake_at(cx.now + dt, f, self.id, Wake::CpuDone);
        }
        let Some(req) = cx.k.reqs.get(fr.req).copied() else {
            return self.finish(cx, f, false);
        };
        let key = req.key;
        if fr.pc == cache_call::FILL {
            // Cache-aside fill: store what the request read.
            if req.store.is_some() {
                self.origin = req.store;
            }
            self.store_key(cx, key, req.version, None);
            return self.finish(cx, f, true);
        }
        let op = if fr.pc == cache_call::LOOKUP {
            KeyOp::Read
        } else {
            self.ops[fr.class.index()]
        };
        match op {
            KeyOp::Read => match self.store.get(key, cx.now) {
                Lookup::Hit(version) => {
                    let stale = self.is_stale(cx, key, version);
                    self.interval.0 += 1;
                    let st = self.stats(cx);
                    st.hits.inc();
                    if stale {
                        st.stale_reads.inc();
                    }
                    cx.k.reqs.get_mut(fr.req).expect("live").version = version;
                    self.finish(cx, f, true);
                }
                miss => {
                    self.interval.1 += 1;
                    let st = self.stats(cx);
                    st.misses.inc();
                    if miss == Lookup::Expired {
                        st.expirations.inc();
                    }
                    if fr.pc == cache_call::LOOKUP {
                        // Cache-aside: the caller's program fetches and fills.
                        cx.k.reqs.get_mut(fr.req).expect("live").missed = true;
                        return self.finish(cx, f, true);
                    }
                    match self.read_through {
                        Some((node, link)) => {
                            if self.coalesce {
                                if let Some(first) = self.fetching.get_mut(&key) {
                                    // A fetch is under way: wait for it, without a worker.
                                    let w = self.waiters.insert((f, *first));
                                    *first = Some(w);
                                    self.stats(cx).coalesced.inc();
                                    cx.k.frames.get_mut(f).expect("live").holds = false;
                                    return self.release_worker(cx);
                                }
                                self.fetching.insert(key, None);
                            }
                            self.stats(cx).fetches.inc();
                            self.pass_on(cx, f, node, link)
                        }
                        None => self.finish(cx, f, true),
                    }
                }
            },
            KeyOp::Write => match (self.write, self.read_through) {
                (WritePolicy::Behind(_), _) => {
                    // Acknowledged here: this is the latest version from now on.
                    let v = match self.origin {
                        Some(o) => {
                            let v = cx.k.versions.new_version();
                            cx.k.versions.acknowledge(o, key, v);
                            v
                        }
                        None => 0,
                    };
                    self.store_key(cx, key, v, Some(fr.class));
                    self.finish(cx, f, true);
                }
                (WritePolicy::Through, Some((node, link))) => self.pass_on(cx, f, node, link),
                (_, rt) => {
                    if self.store.remove(key) {
                        self.stats(cx).invalidations.inc();
                    }
                    match rt {
                        Some((node, link)) => self.pass_on(cx, f, node, link),
                        None => self.finish(cx, f, true),
                    }
                }
            },
        }
    }

    fn begin(&mut self, q: &mut crate::kernel::Queue) {
        if let WritePolicy::Behind(every) = self.write {
            q.schedule(every, Ev::Tick(self.id));
        }
    }

    fn on_tick(&mut self, cx: &mut Cx) {
        let WritePolicy::Behind(every) = self.write else {
            return;
        };
        let mut dirty = std::mem::take(&mut self.dirty);
        for key in dirty.drain(..) {
            if let Some((class, version)) = self.store.take_dirty(key) {
                self.write_back(cx, key, class, version);
            }
        }
        self.dirty = dirty;
        cx.q.schedule(cx.now + every, Ev::Tick(self.id));
    }

    fn on_message_done(&mut self, _cx: &mut Cx, _msg: &crate::kernel::Req, _ok: bool) {}

    fn on_reply(&mut self, cx: &mut Cx, f: Key, ok: bool, _from: u16) {
        let Some(fr) = cx.k.frames.get(f).copied() else {
            return;
        };
        let Some(req) = cx.k.reqs.get(fr.req).copied() else {
            return self.finish(cx, f, false);
        };
        let key = req.key;
        if req.store.is_some() {
            self.origin = req.store;
        }
        let op = self.ops[fr.class.index()];
        if ok && op == KeyOp::Write && self.write == WritePolicy::Through {
            self.store_key(cx, key, req.version, None);
        }
        if op == KeyOp::Read {
            if ok {
                self.store_key(cx, key, req.version, None);
            }
            // Those waiting for this fetch get its answer.
            if let Some(mut next) = self.fetching.remove(&key).flatten() {
                loop {
                    let (w, after) = self.waiters.remove(next).expect("waiter is live");
                    if let Some(wf) = cx.k.frames.get(w) {
                        // Each waiter's request read what the fetch read.
                        if let Some(r) = cx.k.reqs.get_mut(wf.req) {
                            r.version = req.version;
                        }
                        self.finish(cx, w, ok);
                    }
                    match after {
                        Some(a) => next = a,
                        None => break,
                    }
                }
            }
        }
        self.finish(cx, f, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn che_approximation_matches_the_oracle() {
        // shared/anchors/analytic.py che --s 0.8 --N 100000 --C 1000: hit_ratio_lru 0.204334.
        let w: Vec<f64> = (1..=100_000).map(|k| (k as f64).powf(-0.8)).collect();
        let total: f64 = w.iter().sum();
        let p: Vec<f64> = w.iter().map(|x| x / total).collect();
        let h = che_hit_ratio(&p, 1000.0);
        assert!((h - 0.204_333_763).abs() < 1e-6, "{h}");
    }
}

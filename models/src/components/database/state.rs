//! A database at run time: its servers, shards, replication logs, connection pool, and
//! the verbs `fail_primary` and `promote`.

use super::super::station::{Instance, Life};
use super::super::Component;
use super::{Database, DbStats, ReadsFrom, Sharding, MAX_REPLICAS};
use crate::ids::{InstanceId, NodeId};
use crate::kernel::{Cx, Ev, Frame, Wake};
use crate::scenario::raw::KeyOp;
use sim_core::{mix64, Counter, Key, SimTime, Stream, TimeWeighted};
use std::collections::VecDeque;

/// `pc` of a frame waiting for a connection.
const WAIT_CONN: u32 = u32::MAX;
/// `pc` of a request frame at a station (queued or served).
const AT_STATION: u32 = u32::MAX - 1;
// A replication (apply) job is a frame without a request; its `pc` is the epoch of its
// replica when it was shipped (a job shipped before a failover is dropped on arrival).
// A sync write waiting for its replicas has `pc` = acknowledgements still due (≤ 100).

/// One server: a station plus its place in the replication log.
#[derive(Debug, Clone)]
struct Server {
    inst: Instance,
    shard: u32,
    /// Replicas: the highest log position applied.
    applied: u64,
    /// Replicas: positions shipped to it and not yet applied, in log order, with the time
    /// each arrives.
    log: VecDeque<(u64, SimTime)>,
    /// Replicas: the highest position received when the primary last failed.
    received: u64,
    /// Replicas: bumped when its log is cut (a failover), so jobs shipped before are dropped.
    epoch: u32,
    /// Replicas: a write is being applied (queued for or holding a worker).
    applying: bool,
    /// Replicas: writes arrived, waiting for the one being applied.
    apply_queue: VecDeque<Key>,
    /// Replicas: when the last shipped write arrives (writes arrive in log order).
    last_arrival: SimTime,
    /// Replicas: the jobs on their way, in arrival order, each with its arrival time and
    /// the queue's sequence number reserved when it was shipped. Only the first has its
    /// `Arrive` event in the queue (the next is scheduled when it arrives): the queue holds
    /// one event per replica instead of one per write in flight, in the same order.
    arriving: VecDeque<(SimTime, u64, Key)>,
}

#[derive(Debug, Clone)]
struct Shard {
    /// The server taking writes (none while failed over).
    primary: Option<u32>,
    replicas: Vec<u32>,
    /// Last log position committed.
    pos: u64,
    /// Round-robin cursor over the replicas.
    rr: u32,
}

/// A database at run time.
#[derive(Debug, Clone)]
pub struct DatabaseState {
    id: NodeId,
    rng: Stream,
    /// `Geo`: the shard of each zone id (0 for zones not listed).
    geo: Vec<u32>,
    cfg: Database,
    ops: Vec<KeyOp>,
    servers: Vec<Server>,
    shards: Vec<Shard>,
    /// Connections taken.
    in_use: u32,
    /// Frames waiting for a connection (stale keys are skipped).
    waiting: VecDeque<Key>,
    scratch: Vec<Key>,
}

/// The key under which a write to `key` on `shard` is versioned: the key itself, except
/// in `Geo` shards past the first, where the same key is another record.
fn vkey(geo: bool, shard: u32, key: u64) -> u64 {
    if geo && shard > 0 {
        key ^ mix64(shard as u64)
    } else {
        key
    }
}

impl DatabaseState {
    /// The state of database `id` configured by `cfg` at the start of a run.
    pub fn new(id: NodeId, cfg: &Database, sc: &crate::scenario::Scenario, rng: Stream) -> Self {
        let per = 1 + cfg.replicas;
        let shards = (0..cfg.sharding.count())
            .map(|s| Shard {
                primary: Some(s * per),
                replicas: (1..per).map(|r| s * per + r).collect(),
                pos: 0,
                rr: 0,
            })
            .collect();
        let mut geo = vec![0u32; sc.zones.len() + 1];
        if let Sharding::Geo(zones) = &cfg.sharding {
            for (shard, z) in zones.iter().enumerate() {
                geo[sc.zone_id(z) as usize] = shard as u32;
            }
        }
        DatabaseState {
            id,
            rng,
            geo,
            cfg: cfg.clone(),
            ops: sc.class_ops.clone(),
            servers: (0..cfg.servers())
                .map(|s| Server {
                    inst: Instance::new(Life::Ready, 0, SimTime::ZERO),
                    shard: s / per,
                    applied: 0,
                    log: VecDeque::new(),
                    received: 0,
                    epoch: 0,
                    applying: false,
                    apply_queue: VecDeque::new(),
                    last_arrival: SimTime::ZERO,
                    arriving: VecDeque::new(),
                })
                .collect(),
            shards,
            in_use: 0,
            waiting: VecDeque::new(),
            scratch: vec![],
        }
    }

    /// The shard a request from `zone` for `key` goes to.
    #[inline]
    fn shard_of(&self, zone: u16, key: u64) -> u32 {
        match self.cfg.sharding {
            Sharding::Geo(_) => self.geo[zone as usize],
            _ => self.cfg.sharding.of(key),
        }
    }

    /// See [`vkey`].
    #[inline]
    fn vkey(&self, shard: u32, key: u64) -> u64 {
        vkey(matches!(self.cfg.sharding, Sharding::Geo(_)), shard, key)
    }

    fn stats<'a>(&self, cx: &'a mut Cx) -> &'a mut DbStats {
        let (servers, shards) = (self.servers.len(), self.shards.len());
        cx.k.nodes[self.id.index()]
            .database
            .get_or_insert_with(|| DbStats {
                server_busy: vec![TimeWeighted::default(); servers],
                shard_requests: vec![Counter::default(); shards],
                ..Default::default()
            })
    }

    /// Shards whose primary has failed and has not been replaced yet.
    pub fn primaries_down(&self) -> u32 {
        self.shards.iter().filter(|s| s.primary.is_none()).count() as u32
    }

    /// The config.
    pub fn config(&self) -> &Database {
        &self.cfg
    }

    /// Servers taking writes or reads now.
    fn live_servers(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.replicas.len() as u64 + s.primary.is_some() as u64)
            .sum()
    }

    /// Take a worker of server `s` for frame `f` (or queue it). `false`: the queue is full.
    fn occupy(&mut self, cx: &mut Cx, f: Key, s: u32, bounded: bool) -> bool {
        let now = cx.now;
        let server = &mut self.servers[s as usize];
        if server.inst.busy < self.cfg.cores {
            server.inst.take_worker(now);
            cx.k.nodes[self.id.index()].busy.add(now, 1);
            self.stats(cx).server_busy[s as usize].add(now, 1);
            cx.k.frames.get_mut(f).expect("live").holds = true;
            self.serve(cx, f);
            true
        } else if bounded
            && self
                .cfg
                .queue
                .is_some_and(|cap| server.inst.queue.len() >= cap as usize)
        {
            false
        } else {
            server.inst.queue.push_back(f);
            cx.k.nodes[self.id.index()].queued.add(now, 1);
            true
        }
    }

    /// Frame `f` has a worker: schedule the end of its work.
    fn serve(&mut self, cx: &mut Cx, f: Key) {
        let fr = cx.k.frames.get(f).expect("live");
        let d = if fr.req.is_none() {
            self.cfg.apply
        } else {
            match self.ops[fr.class.index()] {
                KeyOp::Read => self.cfg.read,
                KeyOp::Write => self.cfg.write,
            }
        };
        let dt = d.sample(&mut self.rng);
        cx.wake_at(cx.now + dt, f, self.id, Wake::CpuDone);
    }

    /// A worker of server `s` is free.
    fn release_worker(&mut self, cx: &mut Cx, s: u32) {
        let server = &mut self.servers[s as usize];
        let before = server.inst.busy;
        server.inst.release_worker(cx, self.id);
        if server.inst.busy < before {
            let now = cx.now;
            self.stats(cx).server_busy[s as usize].add(now, -1);
        }
    }

    /// A connection is free: the next live waiter takes it.
    fn release_connection(&mut self, cx: &mut Cx) {
        if self.cfg.pool.is_none() {
            return;
        }
        self.in_use -= 1;
        while let Some(w) = self.waiting.pop_front() {
            if cx.k.frames.get(w).is_some_and(|fr| fr.pc == WAIT_CONN) {
                self.in_use += 1;
                self.route(cx, w);
                return;
            }
        }
    }

    /// The request leaves with `ok` (its connection is released).
    fn depart(&mut self, cx: &mut Cx, f: Key, ok: bool) {
        let fr = cx.leave(f);
        if fr.holds {
            self.release_worker(cx, fr.inst.expect("at a server").index() as u32);
        }
        if fr.pc != WAIT_CONN {
            self.release_connection(cx);
        }
        cx.reply(f, fr, ok);
    }

    /// Send a request that holds a connection to the server its shard and op pick.
    fn route(&mut self, cx: &mut Cx, f: Key) {
        let fr = *cx.k.frames.get(f).expect("live");
        let key = cx.k.reqs.get(fr.req).map_or(0, |r| r.key);
        let shard = self.shard_of(fr.zone, key);
        self.stats(cx).shard_requests[shard as usize].inc();
        let op = self.ops[fr.class.index()];
        let mut replica = None;
        let sh = &mut self.shards[shard as usize];
        if op == KeyOp::Read && self.cfg.reads_from != ReadsFrom::Primary && !sh.replicas.is_empty()
        {
            let r = sh.replicas[sh.rr as usize % sh.replicas.len()];
            sh.rr = sh.rr.wrapping_add(1);
            let applied = self.servers[r as usize].applied;
            let fresh =
                cx.k.versions
                    .get(self.id, self.vkey(shard, key))
                    .is_none_or(|e| e.committed == 0 || e.pos <= applied);
            if self.cfg.reads_from == ReadsFrom::Replicas || fresh {
                replica = Some(r);
            }
        }
        let target = replica.or(self.shards[shard as usize].primary);
        let Some(s) = target else {
            // No primary (failing over): fail fast.
            cx.k.nodes[self.id.index()].rejected.inc();
            return self.depart(cx, f, false);
        };
        if replica.is_some() {
            self.stats(cx).replica_reads.inc();
        }
        let fm = cx.k.frames.get_mut(f).expect("live");
        (fm.inst, fm.pc) = (Some(InstanceId::new(s as usize)), AT_STATION);
        if !self.occupy(cx, f, s, true) {
            cx.k.nodes[self.id.index()].rejected.inc();
            self.depart(cx, f, false);
        }
    }

    /// A request's work on server `s` is done.
    fn done(&mut self, cx: &mut Cx, f: Key, fr: Frame, s: u32) {
        let Some(req) = cx.k.reqs.get(fr.req).copied() else {
            return self.depart(cx, f, false);
        };
        let key = req.key;
        let shard = self.servers[s as usize].shard as usize;
        match self.ops[fr.class.index()] {
            KeyOp::Read => {
                let latest = req.version;
                let at_primary = self.shards[shard].primary == Some(s);
                let vkey = self.vkey(shard as u32, key);
                let served = match cx.k.versions.get(self.id, vkey) {
                    None => 0,
                    Some(e) if e.committed == 0 => 0,
                    Some(e) if at_primary || e.pos <= self.servers[s as usize].applied => {
                        e.committed
                    }
                    // An older version: which one does not matter, only that it is older.
                    Some(e) => e.committed - 1,
                };
                let st = self.stats(cx);
                st.reads.inc();
                if served < latest {
                    st.stale_reads.inc();
                }
                let r = cx.k.reqs.get_mut(fr.req).expect("live");
                (r.version, r.store) = (served, Some(self.id));
                self.depart(cx, f, true);
            }
            KeyOp::Write => {
                // A write-behind flush carries the version its cache acknowledged.
                let v = if req.version > 0 && req.message.is_some() {
                    req.version
                } else {
                    cx.k.versions.new_version()
                };
                let vkey = self.vkey(shard as u32, key);
                let sh = &mut self.shards[shard];
                sh.pos += 1;
                let pos = sh.pos;
                let e = cx.k.versions.entry(self.id, vkey);
                (e.committed, e.pos, e.shard) = (e.committed.max(v), pos, shard as u32);
                let sync = self.cfg.sync && !sh.replicas.is_empty();
                for i in 0..self.shards[shard].replicas.len() {
                    let r = self.shards[shard].replicas[i];
                    let lag = self.cfg.lag.sample(&mut self.rng);
                    let server = &mut self.servers[r as usize];
                    let arrive = server.last_arrival.max(cx.now + lag);
                    server.last_arrival = arrive;
                    server.log.push_back((pos, arrive));
                    let epoch = server.epoch;
                    let job = cx.k.frames.insert(Frame {
                        req: Key::NONE,
                        parent: if sync { f } else { Key::NONE },
                        entered: cx.now,
                        node: self.id,
                        inst: Some(InstanceId::new(r as usize)),
                        pc: epoch,
                        link: None,
                        class: fr.class,
                        holds: false,
                        placed: false,
                        zone: 0,
                    });
                    let seq = cx.q.reserve();
                    let server = &mut self.servers[r as usize];
                    if server.arriving.is_empty() {
                        cx.q.schedule_reserved(arrive, seq, Ev::Wake(job, self.id, Wake::Arrive));
                    }
                    server.arriving.push_back((arrive, seq, job));
                }
                if sync {
                    let due = self.shards[shard].replicas.len() as u32;
                    cx.k.frames.get_mut(f).expect("live").pc = due;
                    cx.k.reqs.get_mut(fr.req).expect("live").version = v;
                } else {
                    cx.k.versions.acknowledge(self.id, vkey, v);
                    let r = cx.k.reqs.get_mut(fr.req).expect("live");
                    (r.version, r.store) = (v, Some(self.id));
                    self.stats(cx).writes.inc();
                    self.depart(cx, f, true);
                }
            }
        }
    }

    /// Job `f` arrives at its replica: the replica's next job on its way gets its event.
    fn next_arrival(&mut self, cx: &mut Cx, f: Key) {
        // Nothing removes a job before it arrives (a failover drops only those arrived).
        let s =
            cx.k.frames
                .get(f)
                .and_then(|fr| fr.inst)
                .expect("a replica's job lives until it arrives")
                .index();
        let server = &mut self.servers[s];
        debug_assert_eq!(server.arriving.front().map(|a| a.2), Some(f));
        server.arriving.pop_front();
        if let Some(&(at, seq, job)) = server.arriving.front() {
            cx.q.schedule_reserved(at, seq, Ev::Wake(job, self.id, Wake::Arrive));
        }
    }

    /// A replica applied a write (job `f`, now finished).
    fn applied(&mut self, cx: &mut Cx, f: Key) {
        let job = cx.k.frames.remove(f).expect("live");
        let s = job.inst.expect("at a replica").index() as u32;
        let server = &mut self.servers[s as usize];
        if let Some((pos, _)) = server.log.pop_front() {
            server.applied = server.applied.max(pos);
        }
        self.stats(cx).applied.inc();
        if job.holds {
            self.release_worker(cx, s);
        }
        let server = &mut self.servers[s as usize];
        server.applying = false;
        if let Some(next) = server.apply_queue.pop_front() {
            server.applying = true;
            self.occupy(cx, next, s, false);
        }
        // A sync write waits for this acknowledgement (unless it failed meanwhile).
        if let Some(w) = cx.k.frames.get_mut(job.parent) {
            if w.node == self.id && !w.req.is_none() && (1..=MAX_REPLICAS).contains(&w.pc) {
                w.pc -= 1;
                if w.pc == 0 {
                    // The version this write committed (kept on its request meanwhile).
                    let (key, v) = cx.k.reqs.get(w.req).map_or((0, 0), |r| (r.key, r.version));
                    let primary = w.inst.expect("at a server").index();
                    let vkey = self.vkey(self.servers[primary].shard, key);
                    cx.k.versions.acknowledge(self.id, vkey, v);
                    if let Some(r) = cx.k.reqs.get_mut(w.req) {
                        r.store = Some(self.id);
                    }
                    self.stats(cx).writes.inc();
                    self.depart(cx, job.parent, true);
                }
            }
        }
    }

    /// Kill every shard's primary (verb `fail_primary`); the promotion is due after the
    /// `failover` time (the caller schedules it). Returns the requests that failed.
    pub fn fail_primary(&mut self, cx: &mut Cx) -> u64 {
        let now = cx.now;
        let mut failed = 0;
        for shard in 0..self.shards.len() {
            let Some(p) = self.shards[shard].primary.take() else {
                continue;
            };
            // What the replicas had not received yet never leaves the failed primary.
            for &r in &self.shards[shard].replicas {
                let server = &mut self.servers[r as usize];
                server.log.retain(|&(_, arrive)| arrive <= now);
                server.received = server.log.back().map_or(server.applied, |e| e.0);
                server.epoch = server.epoch.wrapping_add(1);
            }
            let mut victims = std::mem::take(&mut self.scratch);
            victims.clear();
            victims.extend(
                cx.k.frames
                    .iter()
                    .filter(|(_, fr)| {
                        fr.node == self.id
                            && fr.inst == Some(InstanceId::new(p as usize))
                            && !fr.req.is_none()
                            && fr.pc != WAIT_CONN
                    })
                    .map(|(k, _)| k),
            );
            let server = &mut self.servers[p as usize];
            let busy = server.inst.abort(cx, self.id);
            server.inst.life = Life::Stopped;
            self.stats(cx).server_busy[p as usize].add(now, -(busy as i64));
            for &k in &victims {
                cx.kill(k);
                failed += 1;
                self.release_connection(cx);
            }
            self.scratch = victims;
        }
        let workers = self.live_servers() * self.cfg.cores as u64;
        cx.k.nodes[self.id.index()].workers.set(now, workers);
        failed
    }

    /// The failover time is up: promote the replica with the most of the log in every
    /// shard without a primary (or restart the primary of a shard without replicas).
    /// Returns the acknowledged writes lost.
    pub fn promote(&mut self, cx: &mut Cx) -> u64 {
        let mut lost = 0;
        for shard in 0..self.shards.len() {
            let sh = &mut self.shards[shard];
            if sh.primary.is_some() {
                continue;
            }
            let best = sh
                .replicas
                .iter()
                .enumerate()
                .max_by_key(|(i, &r)| (self.servers[r as usize].received, std::cmp::Reverse(*i)))
                .map(|(i, _)| i);
            match best {
                Some(i) => {
                    // The promoted replica first applies all it received (its relay log);
                    // the others follow it from there.
                    let p = sh.replicas.remove(i);
                    let applied = self.servers[p as usize].received;
                    // Sync writes are acknowledged only once every replica has them: those
                    // missing were never acknowledged (they failed with the primary).
                    if !self.cfg.sync {
                        lost += sh.pos - applied;
                    }
                    for &r in sh.replicas.iter().chain([&p]) {
                        let server = &mut self.servers[r as usize];
                        server.log.clear();
                        server.applied = applied;
                        server.epoch = server.epoch.wrapping_add(1);
                        for job in server.apply_queue.drain(..) {
                            cx.k.frames.remove(job);
                        }
                    }
                    sh.primary = Some(p);
                    // The writes past the new primary's position are gone. Sync: none of
                    // them was acknowledged, so each such key holds its last acknowledged
                    // version (every replica had it). Async: acknowledged writes are lost
                    // and forgotten.
                    let sync = self.cfg.sync;
                    let shard = shard as u32;
                    cx.k.versions.retain(self.id, |_, e| {
                        if e.shard != shard || e.committed == 0 || e.pos <= applied {
                            return true;
                        }
                        (e.committed, e.pos) = (e.acked, 0);
                        sync && e.acked > 0
                    });
                }
                None => {
                    // No replica: the same server restarts from its log.
                    let p = (shard as u32) * (1 + self.cfg.replicas);
                    self.servers[p as usize].inst.life = Life::Ready;
                    sh.primary = Some(p);
                }
            }
        }
        let now = cx.now;
        let st = self.stats(cx);
        st.lost_writes.add(lost);
        st.failovers.inc();
        let workers = self.live_servers() * self.cfg.cores as u64;
        cx.k.nodes[self.id.index()].workers.set(now, workers);
        lost
    }
}

impl Component for DatabaseState {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        cx.accept(f);
        let fm = cx.k.frames.get_mut(f).expect("live");
        fm.placed = true;
        let (req, class, zone) = (fm.req, fm.class, fm.zone);
        if self.ops[class.index()] == KeyOp::Read {
            // What a fresh read must return: the latest write acknowledged before it began
            // (a write concurrent with the read may or may not be seen).
            if let Some(r) = cx.k.reqs.get(req) {
                let vkey = self.vkey(self.shard_of(zone, r.key), r.key);
                let latest = cx.k.versions.latest(self.id, vkey);
                cx.k.reqs.get_mut(req).expect("live").version = latest;
            }
        }
        if let Some(cap) = self.cfg.pool {
            if self.in_use >= cap {
                cx.k.frames.get_mut(f).expect("live").pc = WAIT_CONN;
                self.waiting.push_back(f);
                self.stats(cx).pool_waits.inc();
                let at = cx.now + self.cfg.pool_timeout;
                return cx.wake_at(at, f, self.id, Wake::Timeout);
            }
            self.in_use += 1;
        }
        self.route(cx, f);
    }

    fn on_reply(&mut self, _cx: &mut Cx, _f: Key, _ok: bool, _from: u16) {}

    fn on_wake(&mut self, cx: &mut Cx, f: Key, why: Wake) {
        if why == Wake::Arrive {
            self.next_arrival(cx, f);
        }
        let Some(fr) = cx.k.frames.get(f).copied() else {
            return;
        };
        match why {
            Wake::Timeout => {
                if fr.pc == WAIT_CONN {
                    self.stats(cx).pool_timeouts.inc();
                    self.depart(cx, f, false);
                }
            }
            Wake::Arrive => {
                let s = fr.inst.expect("at a replica").index() as u32;
                let shard = self.servers[s as usize].shard as usize;
                let server = &mut self.servers[s as usize];
                if self.shards[shard].replicas.contains(&s) && server.epoch == fr.pc {
                    // One write at a time, in log order.
                    if server.applying {
                        server.apply_queue.push_back(f);
                    } else {
                        server.applying = true;
                        self.occupy(cx, f, s, false);
                    }
                } else {
                    // Its replica was promoted or re-synced meanwhile.
                    cx.k.frames.remove(f);
                }
            }
            Wake::Resume => self.serve(cx, f),
            Wake::Retry | Wake::Hedge => {}
            Wake::CpuDone => {
                let s = fr.inst.expect("at a server").index() as u32;
                if fr.req.is_none() {
                    self.applied(cx, f)
                } else {
                    self.release_worker_of(cx, f, s);
                    self.done(cx, f, fr, s);
                }
            }
        }
    }
}

impl DatabaseState {
    /// Frame `f` is done with its worker at server `s`.
    fn release_worker_of(&mut self, cx: &mut Cx, f: Key, s: u32) {
        let fm = cx.k.frames.get_mut(f).expect("live");
        if fm.holds {
            fm.holds = false;
            self.release_worker(cx, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::NodeId;
    use crate::world::World;
    use sim_core::SimTime;
    use std::sync::Arc;

    #[test]
    fn a_failover_forgets_exactly_the_writes_each_shard_lost() {
        // Two range shards with one async replica each (lag 500 ms): shard 0 takes 3/4 of
        // 200 distinct writes a second, shard 1 a quarter. When every primary fails, each
        // shard loses the writes its replica had not received (~75 and ~25), and exactly
        // those keys are forgotten: a log position counts within its own shard, so shard
        // 1's position (~475) must not cut shard 0's keys (up to ~1 500).
        let sc = Arc::new(
            crate::load_str(
                "f.ron",
                r#"Scenario(name: "f", duration: "20s", seed: 5,
                    sources: [Source(name: "in", target: "db", rate: Constant(200),
                        arrivals: Deterministic,
                        mix: [Class(name: "put", weight: 1, op: Write,
                                    keys: Uniform(n: 1000000000000))])],
                    nodes: [Database(name: "db", cores: 8, write: Constant("1ms"),
                        read: Constant("1ms"), shards: Range(boundaries: [750000000000]),
                        replicas: 1, replication: Async(lag: Constant("500ms")),
                        failover: "1s")],
                    actions: [At("10.0005s", FailPrimary(node: "db"))])"#,
            )
            .unwrap(),
        );
        let db = NodeId::new(0);
        let mut sim = World::simulation(sc, 1);
        sim.run_until(SimTime::from_nanos(10_000_400_000));
        let before = sim.model().kernel().versions.keys(db);
        assert!((1990..=2000).contains(&before), "{before} keys written");
        // Promoted at 11.0005 s; the next write commits at 11.006 s.
        sim.run_until(SimTime::from_nanos(11_001_000_000));
        let k = sim.model().kernel();
        let lost = k.nodes[0].database.as_ref().unwrap().lost_writes.get() as usize;
        assert!((95..=105).contains(&lost), "lost {lost}");
        assert_eq!(before - k.versions.keys(db), lost);
    }
}

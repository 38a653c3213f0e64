//! Databases: a primary that takes writes, read replicas that apply them after a lag, a
//! connection pool in front, and shards that split the keys. Each primary and replica is a
//! station (`cores` workers, a FIFO queue of `queue`).
//!
//! A request reaching a database performs its class's operation (`op`) on its key:
//! - it first takes a **connection** from the pool (`pool`; default unlimited), waiting in
//!   FIFO order for one to free up, and failing after `pool_timeout` (default 30 s, as
//!   HikariCP's `connectionTimeout`); it holds the connection until it replies;
//! - the key picks the **shard**: `Hash(n)` (SplitMix64 of the key, modulo `n`) or
//!   `Range(boundaries)` (shard `i` holds the keys below `boundaries[i]`, the last shard the
//!   rest). A Zipf key distribution concentrates load on the shard of the hottest keys: the
//!   report names that **hot shard** and its share;
//! - a **write** runs on the shard's primary (`write` time) and is committed: it gets the
//!   next position in the shard's replication log. Each replica receives it after `lag`
//!   (in log order: a write never overtakes an earlier one) and applies it in log order,
//!   one at a time (one apply thread, as PostgreSQL's WAL replay or MySQL's classic
//!   replication: the usual source of growing replica lag under heavy writes), taking a
//!   worker for `apply` (default: the write time × 0.5 — a replica replays row changes
//!   without parsing, planning, locking or a client round trip). With
//!   `replication: Async` the write is acknowledged at commit; with `Sync` only when every
//!   replica of its shard has applied it (the worker is free meanwhile; the connection is
//!   not);
//! - a **read** runs on the primary (`reads_from: Primary`, the default), on a replica in
//!   turn (`Replicas`), or on a replica that has already applied the latest write to its
//!   key and otherwise on the primary (`ReadYourWrites`: what a driver does with a session's
//!   last-write position; kept per key here, so no read is stale). A read is **stale**
//!   (counted) when it returns an older version than the latest write acknowledged before
//!   it began (a write concurrent with the read may or may not be seen): a replica read
//!   whose replica has not yet applied that write. The version read travels back with the
//!   request, so a cache that stores it counts its own stale hits later.
//!
//! The verb `fail_primary` (action `FailPrimary`) kills every shard's primary: what runs or
//! waits on it fails, writes and primary reads fail fast, and after `failover` (default
//! 30 s) the replica with the most of the log is promoted. Writes it had not applied were
//! acknowledged (async) and are lost: counted as `lost_writes`, and forgotten. The other
//! replicas follow the new primary from its position. A shard without replicas has its
//! primary back after `failover` (a restart: its log is on disk, nothing is lost).

use super::{Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, NodeId};
use crate::scenario::dist::Dist;
use crate::scenario::raw::{Count, Dur, KeyOp, NonNeg, RawDist, MAX_PRICE};

mod state;
pub use state::DatabaseState;

use crate::scenario::{KeyDist, Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::{mix64, Counter, SimTime, Stream, TimeWeighted};

/// Most replicas per shard.
pub const MAX_REPLICAS: u32 = 100;
/// Most shards.
pub const MAX_SHARDS: u32 = 1024;
/// Most stations (primaries and replicas) of one database.
pub const MAX_STATIONS: u32 = 10_000;
/// The default apply time as a share of the write time.
pub const APPLY_SHARE: f64 = 0.5;

fn default_one() -> Count {
    Count(1)
}
fn default_30s() -> Dur {
    Dur(SimTime::from_secs(30))
}

/// A database as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Database")]
pub struct RawDatabase {
    /// Unique name.
    pub name: String,
    /// Workers per server (primary or replica). Default: 1.
    #[serde(default = "default_one")]
    pub cores: Count,
    /// Waiting room per server; full ⇒ the request fails. Default: unbounded.
    #[serde(default)]
    pub queue: Option<Count>,
    /// Time of a read.
    pub read: RawDist,
    /// Time of a write on the primary.
    pub write: RawDist,
    /// Replicas per shard. Default: 0.
    #[serde(default)]
    pub replicas: Count,
    /// How writes reach the replicas. Default: `Async(lag: Exp("10ms"))`.
    #[serde(default)]
    pub replication: RawReplication,
    /// Time a replica's worker takes to apply one write. Default: the write time × 0.5.
    #[serde(default)]
    pub apply: Option<RawDist>,
    /// Where reads go. Default: `Primary`.
    #[serde(default)]
    pub reads_from: ReadsFrom,
    /// Connections: requests in the database at once; more wait. Default: unlimited.
    #[serde(default)]
    pub pool: Option<Count>,
    /// Longest wait for a connection before the request fails. Default: `"30s"`.
    #[serde(default = "default_30s")]
    pub pool_timeout: Dur,
    /// How keys are split over shards. Default: one shard.
    #[serde(default)]
    pub shards: Option<RawShards>,
    /// Time from a primary's failure to a replica's promotion. Default: `"30s"`.
    #[serde(default = "default_30s")]
    pub failover: Dur,
    /// Price of one server (primary or replica) per hour. Default: 0.
    #[serde(default)]
    pub cost_per_hour: NonNeg,
}

/// How writes reach the replicas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawReplication {
    /// Acknowledged at commit; replicas apply after the lag.
    Async {
        /// Time for a committed write to reach a replica.
        lag: RawDist,
    },
    /// Acknowledged when every replica of the shard has applied it.
    Sync {
        /// Time for a committed write to reach a replica.
        lag: RawDist,
    },
}

impl Default for RawReplication {
    fn default() -> Self {
        RawReplication::Async {
            lag: RawDist::Exp(Dur(SimTime::from_nanos(10_000_000))),
        }
    }
}

/// Where reads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ReadsFrom {
    /// The shard's primary.
    #[default]
    Primary,
    /// The shard's replicas in turn.
    Replicas,
    /// A replica that has the key's latest write, else the primary.
    ReadYourWrites,
}

/// How keys are split over shards, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawShards {
    /// `n` shards by a hash of the key.
    Hash {
        /// Number of shards.
        n: Count,
    },
    /// Shard `i` holds keys below `boundaries[i]`; one more shard holds the rest.
    Range {
        /// Strictly increasing key boundaries.
        boundaries: Vec<u64>,
    },
    /// One shard per zone: a request goes to the shard of the zone of the service
    /// instance calling the database (data kept near its users); a caller in no listed
    /// zone goes to the first.
    Geo {
        /// Zones of services, one shard each.
        zones: Vec<String>,
    },
}

/// How keys are split, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Sharding {
    /// By hash, modulo `n`.
    Hash(u32),
    /// By range.
    Range(Vec<u64>),
    /// By the caller's zone: these zones, one shard each.
    Geo(Vec<String>),
}

impl Sharding {
    /// Number of shards.
    pub fn count(&self) -> u32 {
        match self {
            Sharding::Hash(n) => *n,
            Sharding::Range(b) => b.len() as u32 + 1,
            Sharding::Geo(z) => z.len() as u32,
        }
    }

    /// The shard holding `key` (0 for `Geo`, which goes by zone: see
    /// [`DatabaseState`]).
    #[inline]
    pub fn of(&self, key: u64) -> u32 {
        match self {
            Sharding::Hash(1) | Sharding::Geo(_) => 0,
            Sharding::Hash(n) => (mix64(key) % *n as u64) as u32,
            Sharding::Range(b) => b.partition_point(|&x| x <= key) as u32,
        }
    }

    /// Share of the requests of `class` each shard gets (exact for up to 2 000 000 keys,
    /// else even for `Hash` and by key ranges for uniform keys; even for `Geo`, as if the
    /// callers were spread evenly over the zones).
    pub fn shares(&self, class: ClassId, sc: &Scenario) -> Vec<f64> {
        let n = self.count() as usize;
        let mut share = vec![0.0; n];
        if n == 1 {
            share[0] = 1.0;
            return share;
        }
        if let Sharding::Geo(_) = self {
            return vec![1.0 / n as f64; n];
        }
        let keys = sc
            .sources
            .iter()
            .flat_map(|s| &s.mix)
            .find(|m| m.class == class)
            .map(|m| m.keys);
        match keys {
            Some(KeyDist::Uniform(k)) if k <= 2_000_000 => {
                for key in 0..k {
                    share[self.of(key) as usize] += 1.0 / k as f64;
                }
            }
            Some(KeyDist::Zipf { n: k, s, .. }) if k <= 2_000_000 => {
                let total: f64 = (1..=k).map(|r| (r as f64).powf(-s)).sum();
                for key in 0..k {
                    share[self.of(key) as usize] += ((key + 1) as f64).powf(-s) / total;
                }
            }
            Some(KeyDist::Uniform(k)) => {
                if let Sharding::Range(b) = self {
                    let mut lo = 0u64;
                    for (i, s) in share.iter_mut().enumerate() {
                        let hi = b.get(i).copied().unwrap_or(k).min(k);
                        *s = hi.saturating_sub(lo) as f64 / k as f64;
                        lo = lo.max(hi);
                    }
                } else {
                    share.iter_mut().for_each(|s| *s = 1.0 / n as f64);
                }
            }
            _ => share.iter_mut().for_each(|s| *s = 1.0 / n as f64),
        }
        share
    }
}

/// A validated database.
#[derive(Debug, Clone)]
pub struct Database {
    /// Workers per server.
    pub cores: u32,
    /// Queue per server.
    pub queue: Option<u32>,
    /// Read time.
    pub read: Dist,
    /// Write time.
    pub write: Dist,
    /// Replicas per shard.
    pub replicas: u32,
    /// Replication lag.
    pub lag: Dist,
    /// Acknowledge writes only when every replica applied them.
    pub sync: bool,
    /// Apply time on a replica.
    pub apply: Dist,
    /// Where reads go.
    pub reads_from: ReadsFrom,
    /// Connections.
    pub pool: Option<u32>,
    /// Longest wait for a connection.
    pub pool_timeout: SimTime,
    /// Shards.
    pub sharding: Sharding,
    /// Failure to promotion.
    pub failover: SimTime,
    /// Price per server-hour.
    pub price: f64,
}

impl Database {
    /// Servers (primaries and replicas) at the start.
    pub fn servers(&self) -> u32 {
        self.sharding.count() * (1 + self.replicas)
    }

    /// Label of server `s` at the start: `shard 2 primary`, `shard 0 replica 1`.
    pub fn server_label(&self, s: u32) -> String {
        let per = 1 + self.replicas;
        let (shard, r) = (s / per, s % per);
        let shard = match &self.sharding {
            Sharding::Geo(z) => format!("shard {} ", z[shard as usize]),
            _ if self.sharding.count() > 1 => format!("shard {shard} "),
            _ => String::new(),
        };
        if r == 0 {
            format!("{shard}primary")
        } else {
            format!("{shard}replica {r}")
        }
    }
}

impl RawConfig for RawDatabase {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let field = |r: &Resolver, f: &str| r.loc().field_in(name, f);
        if self.cores.0 == 0 || self.cores.0 > super::service::MAX_CORES {
            return Err(r
                .err(
                    field(r, "cores"),
                    format!("database `{name}`: cores must be 1 to 100000"),
                )
                .with_hint("workers per server (primary or replica)"));
        }
        if self.queue.is_some_and(|q| q.0 == 0) {
            return Err(r
                .err(
                    field(r, "queue"),
                    format!("database `{name}`: a queue of 0 turns away every request that waits"),
                )
                .with_hint("leave queue out for an unbounded queue, or give e.g. queue: 500"));
        }
        let dist = |r: &Resolver, f: &str, d: &RawDist| {
            Dist::from_raw(d).map_err(|m| r.err(field(r, f), format!("database `{name}`: {m}")))
        };
        let read = dist(r, "read", &self.read)?;
        let write = dist(r, "write", &self.write)?;
        let (lag, sync) = match &self.replication {
            RawReplication::Async { lag } => (dist(r, "lag", lag)?, false),
            RawReplication::Sync { lag } => (dist(r, "lag", lag)?, true),
        };
        let apply = match &self.apply {
            Some(d) => dist(r, "apply", d)?,
            None => write.scaled(APPLY_SHARE),
        };
        if self.replicas.0 > MAX_REPLICAS {
            return Err(r
                .err(
                    field(r, "replicas"),
                    format!(
                        "database `{name}`: {} replicas is more than {MAX_REPLICAS}",
                        self.replicas.0
                    ),
                )
                .with_hint("replicas per shard; for more read capacity add shards"));
        }
        if self.replicas.0 == 0 && self.reads_from != ReadsFrom::Primary {
            return Err(r
                .err(
                    field(r, "reads_from"),
                    format!(
                        "database `{name}`: reads_from: {:?} needs replicas, and it has none",
                        self.reads_from
                    ),
                )
                .with_hint("add replicas: 2, or read from the primary (reads_from: Primary)"));
        }
        if self.pool.is_some_and(|p| p.0 == 0) {
            return Err(r
                .err(
                    field(r, "pool"),
                    format!("database `{name}`: a pool of 0 connections lets nothing in"),
                )
                .with_hint("leave pool out for unlimited connections, or give e.g. pool: 100"));
        }
        if self.pool_timeout.0 == SimTime::ZERO {
            return Err(r
                .err(
                    field(r, "pool_timeout"),
                    format!("database `{name}`: pool_timeout must be above zero"),
                )
                .with_hint("e.g. pool_timeout: \"30s\""));
        }
        let sharding = match &self.shards {
            None => Sharding::Hash(1),
            Some(RawShards::Hash { n }) => {
                if n.0 == 0 || n.0 > MAX_SHARDS {
                    return Err(r
                        .err(
                            field(r, "n"),
                            format!("database `{name}`: shards must be 1 to {MAX_SHARDS}"),
                        )
                        .with_hint("e.g. shards: Hash(n: 8)"));
                }
                Sharding::Hash(n.0)
            }
            Some(RawShards::Range { boundaries }) => {
                if boundaries.is_empty() || boundaries.len() >= MAX_SHARDS as usize {
                    return Err(r
                        .err(
                            field(r, "boundaries"),
                            format!(
                                "database `{name}`: Range needs 1 to {} boundaries",
                                MAX_SHARDS - 1
                            ),
                        )
                        .with_hint(
                            "n boundaries make n + 1 shards, e.g. boundaries: [1000, 5000]",
                        ));
                }
                if let Some(w) = boundaries.windows(2).find(|w| w[0] >= w[1]) {
                    return Err(r
                        .err(
                            field(r, "boundaries"),
                            format!(
                                "database `{name}`: Range boundaries must increase, but {} comes before {}",
                                w[0], w[1]
                            ),
                        )
                        .with_hint("list them in increasing order, each once"));
                }
                Sharding::Range(boundaries.clone())
            }
            Some(RawShards::Geo { zones }) => {
                if zones.is_empty() || zones.len() > MAX_SHARDS as usize {
                    return Err(r
                        .err(
                            field(r, "zones"),
                            format!("database `{name}`: Geo needs 1 to {MAX_SHARDS} zones"),
                        )
                        .with_hint(
                            "one shard per zone, e.g. shards: Geo(zones: [\"eu\", \"us\"])",
                        ));
                }
                let raw = r.raw();
                let known: Vec<&str> = raw
                    .nodes
                    .iter()
                    .filter_map(|n| match n {
                        super::RawNode::Service(s) => s.zones.as_ref(),
                        _ => None,
                    })
                    .flatten()
                    .map(String::as_str)
                    .collect();
                for (i, z) in zones.iter().enumerate() {
                    if zones[..i].contains(z) {
                        return Err(r
                            .err(
                                field(r, "zones"),
                                format!("database `{name}`: zone `{z}` is listed twice"),
                            )
                            .with_hint("one shard per zone: each zone once"));
                    }
                    if !known.contains(&z.as_str()) {
                        return Err(r
                            .err(
                                r.loc().quoted(z, r.decl(name)),
                                format!("database `{name}`: no service runs in zone `{z}`"),
                            )
                            .with_hint(if known.is_empty() {
                                "Geo shards by the zone of the calling service's instance: give the services zones: [...]".to_string()
                            } else {
                                format!("zones of services: {}", known.join(", "))
                            }));
                    }
                }
                Sharding::Geo(zones.clone())
            }
        };
        let servers = sharding.count() as u64 * (1 + self.replicas.0 as u64);
        if servers > MAX_STATIONS as u64 {
            return Err(r
                .err(
                    field(r, "replicas"),
                    format!(
                        "database `{name}`: {servers} servers (shards × (1 + replicas)) is more than {MAX_STATIONS}"
                    ),
                )
                .with_hint("use fewer shards or replicas"));
        }
        if self.cost_per_hour.0 > MAX_PRICE {
            return Err(r
                .err(
                    field(r, "cost_per_hour"),
                    format!("database `{name}`: cost_per_hour above {MAX_PRICE}"),
                )
                .with_hint("the price of one server per hour, e.g. cost_per_hour: 1.2"));
        }
        Ok(NodeKind::Database(Database {
            cores: self.cores.0,
            queue: self.queue.map(|q| q.0),
            read,
            write,
            replicas: self.replicas.0,
            lag,
            sync,
            apply,
            reads_from: self.reads_from,
            pool: self.pool.map(|p| p.0),
            pool_timeout: self.pool_timeout.0,
            sharding,
            failover: self.failover.0,
            price: self.cost_per_hour.0,
        }))
    }
}

impl Config for Database {
    fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState {
        NodeState::Database(DatabaseState::new(id, self, sc, rng))
    }

    fn callees(&self, _class: ClassId, _out: &mut Vec<NodeId>) {}

    fn workers(&self) -> u64 {
        self.servers() as u64 * self.cores as u64
    }

    fn cost_per_hour(&self) -> f64 {
        self.servers() as f64 * self.price
    }

    fn visit(&self, id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        let per = (1 + self.replicas) as usize;
        flow.servers[id.index()].resize(self.servers() as usize, 0.0);
        let shares = self.sharding.shares(class, flow.sc);
        let shards = &mut flow.shards[id.index()];
        shards.resize(shares.len(), 0.0);
        for (l, share) in shards.iter_mut().zip(&shares) {
            *l += rate * share;
        }
        let servers = &mut flow.servers[id.index()];
        let mut total = 0.0;
        for (s, share) in shares.iter().enumerate() {
            let r = rate * share;
            let base = s * per;
            match flow.sc.class_ops[class.index()] {
                KeyOp::Write => {
                    servers[base] += r * self.write.mean_s();
                    for k in 1..per {
                        servers[base + k] += r * self.apply.mean_s();
                    }
                    total += r * (self.write.mean_s() + (per - 1) as f64 * self.apply.mean_s());
                }
                KeyOp::Read => {
                    if self.reads_from == ReadsFrom::Primary || per == 1 {
                        servers[base] += r * self.read.mean_s();
                    } else {
                        for k in 1..per {
                            servers[base + k] += r * self.read.mean_s() / (per - 1) as f64;
                        }
                    }
                    total += r * self.read.mean_s();
                }
            }
        }
        flow.demand[id.index()] += total;
    }

    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        match sc.class_ops[class.index()] {
            KeyOp::Read => self.read.mean_s(),
            KeyOp::Write if self.sync && self.replicas > 0 => {
                self.write.mean_s() + self.lag.mean_s() + self.apply.mean_s()
            }
            KeyOp::Write => self.write.mean_s(),
        }
    }
}

/// A database's counters over the measured window.
#[derive(Debug, Clone, Default)]
pub struct DbStats {
    /// Reads served.
    pub reads: Counter,
    /// Writes acknowledged.
    pub writes: Counter,
    /// Reads served by a replica.
    pub replica_reads: Counter,
    /// Reads that returned an older version than the latest acknowledged write.
    pub stale_reads: Counter,
    /// Requests that had to wait for a connection.
    pub pool_waits: Counter,
    /// Requests that gave up waiting for a connection.
    pub pool_timeouts: Counter,
    /// Acknowledged writes lost at a failover.
    pub lost_writes: Counter,
    /// Promotions (or restarts) after a primary failed.
    pub failovers: Counter,
    /// Writes applied by replicas.
    pub applied: Counter,
    /// Busy workers per server.
    pub server_busy: Vec<TimeWeighted>,
    /// Requests per shard.
    pub shard_requests: Vec<Counter>,
}

impl DbStats {
    /// The warm-up is over.
    pub fn reset(&mut self, now: SimTime) {
        let mut busy = std::mem::take(&mut self.server_busy);
        busy.iter_mut().for_each(|b| b.reset(now));
        let shards = self.shard_requests.len();
        *self = DbStats {
            server_busy: busy,
            shard_requests: vec![Counter::default(); shards],
            ..Default::default()
        };
    }
}

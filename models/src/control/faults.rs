//! The scenario's `faults`: things that break at a time, and, given an end, heal then.
//!
//! ```ron
//! faults: [
//!     At("45m", KillInstances(node: "web", count: 2)),          // for good
//!     Between("50m", "60m", ZoneOutage(zone: "a")),             // heals at 60m
//!     Between("1h", "2h", ChaosMonkey(node: "web", mtbf: "10m", mttr: "2m")),
//! ]
//! ```
//!
//! (`At(time, fault)` and `Between(start, end, fault)`: RON cannot mix a positional time
//! with a named `duration`, so the end is the second time.)
//!
//! Each fault becomes two [`Verb::Fault`] events (start, heal) on the same queue as
//! everything else; the world applies it and notes it on the timeline, and the report
//! gives its impact (requests that failed while it held).
//!
//! [`Verb::Fault`]: super::Verb::Fault

use crate::components::NodeKind;
use crate::ids::{LinkId, NodeId};
use crate::scenario::dist::Dist;
use crate::scenario::raw::{Dur, RawDist};
use crate::scenario::{Resolver, Scenario, ScenarioError, MAX_INSTANCES};
use serde::Deserialize;
use sim_core::SimTime;

/// Most faults in one scenario.
pub const MAX_FAULTS: usize = 10_000;

/// A fault with its time, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "fault")]
pub enum RawFaultTimed {
    /// Breaks at the time and stays broken.
    At(Dur, RawFault),
    /// Breaks at the first time and heals at the second.
    Between(Dur, Dur, RawFault),
}

/// What breaks, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "fault")]
pub enum RawFault {
    /// Kill `count` serving instances of a service (newest first); heals by starting as
    /// many (each serves after the pool's `startup`). On a cache: it restarts empty.
    KillInstances {
        /// A service or a cache.
        node: String,
        /// How many (a cache ignores it).
        count: u32,
    },
    /// Every instance of every service in the zone is killed, and none starts there until
    /// it heals; then as many start again.
    ZoneOutage {
        /// A zone some service runs in.
        zone: String,
    },
    /// A `ZoneOutage` of every zone of the region at once.
    RegionOutage {
        /// A declared region.
        region: String,
    },
    /// Noisy neighbour: the pool's CPU runs at `factor` of its speed; heals to full speed.
    Degrade {
        /// A service.
        node: String,
        /// Speed factor in (0, 1].
        factor: f64,
    },
    /// That share of the requests reaching the node fail at once.
    ErrorInjection {
        /// Any node.
        node: String,
        /// Share in [0, 1].
        fraction: f64,
    },
    /// Every request reaching the node waits `extra` first.
    NodeLatency {
        /// Any node.
        node: String,
        /// Extra delay.
        extra: RawDist,
    },
    /// Every message over the declared link takes `extra` longer (both ways).
    LinkLatency {
        /// The link's source or node.
        from: String,
        /// The link's node.
        to: String,
        /// Extra latency.
        extra: RawDist,
    },
    /// Zones (or regions) `a` and `b` cannot reach each other: a request from a service
    /// instance (or a source) in one to an instance in the other is lost on the way (the
    /// caller's timeout, or the client's, ends it).
    Partition {
        /// A zone or a region.
        a: String,
        /// Another zone or region (not overlapping `a`).
        b: String,
    },
    /// Empty a cache (writes not yet sent are lost).
    CacheFlush {
        /// A cache.
        node: String,
    },
    /// Fail a database's primary; a replica is promoted after its `failover` time.
    DatabaseFailover {
        /// A database.
        node: String,
    },
    /// Netflix's Chaos Monkey: each serving instance of the pool is killed after an
    /// exponential time of mean `mtbf` (from the stream `chaos/<node>`), and a killed one
    /// starts again `mttr` later (then serves after the pool's `startup`). While the fault
    /// holds.
    ChaosMonkey {
        /// A service.
        node: String,
        /// Mean time between failures of one instance.
        mtbf: Dur,
        /// Time from a kill to the restart.
        mttr: Dur,
    },
}

/// A validated fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Kill instances (or restart a cache empty).
    Kill {
        /// The node.
        node: NodeId,
        /// How many.
        count: u32,
    },
    /// A zone goes down.
    ZoneOutage {
        /// Zone id (see [`Scenario::zones`]).
        zone: u16,
    },
    /// Every zone of a region goes down.
    RegionOutage {
        /// Region id (see [`crate::scenario::zones::Regions`]).
        region: u16,
    },
    /// CPU at a fraction of its speed.
    Degrade {
        /// The pool.
        node: NodeId,
        /// Speed factor.
        factor: f64,
    },
    /// Requests fail at the node with a probability.
    ErrorInjection {
        /// The node.
        node: NodeId,
        /// Probability.
        fraction: f64,
    },
    /// Requests wait before the node.
    NodeLatency {
        /// The node.
        node: NodeId,
        /// Extra delay.
        extra: Dist,
    },
    /// A link is slower.
    LinkLatency {
        /// The link.
        link: LinkId,
        /// Extra latency.
        extra: Dist,
    },
    /// Two zones or regions cannot reach each other.
    Partition {
        /// A zone or region.
        a: Place,
        /// Another.
        b: Place,
    },
    /// A cache is emptied.
    CacheFlush {
        /// The cache.
        node: NodeId,
    },
    /// A database's primary fails.
    DatabaseFailover {
        /// The database.
        node: NodeId,
    },
    /// Random instance kills.
    ChaosMonkey {
        /// The pool.
        node: NodeId,
        /// Mean time between failures of one instance.
        mtbf: SimTime,
        /// Time to restart.
        mttr: SimTime,
    },
}

/// A zone or a region (ids 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A zone id.
    Zone(u16),
    /// A region id.
    Region(u16),
}

impl Place {
    /// The zone ids it covers.
    pub fn zones(self, sc: &Scenario) -> Vec<u16> {
        match self {
            Place::Zone(z) => vec![z],
            Place::Region(r) => sc.regions.zones(r).collect(),
        }
    }

    /// Its name.
    pub fn name(self, sc: &Scenario) -> String {
        match self {
            Place::Zone(z) => format!("zone {}", sc.zones[z as usize - 1]),
            Place::Region(r) => format!("region {}", sc.regions.names[r as usize - 1]),
        }
    }
}

/// A validated fault with its times.
#[derive(Debug, Clone)]
pub struct Fault {
    /// When it breaks.
    pub start: SimTime,
    /// When it heals, if it does.
    pub end: Option<SimTime>,
    /// What breaks.
    pub kind: FaultKind,
    /// In words, for the timeline and the report: `ZoneOutage(a)`.
    pub name: String,
}

impl Fault {
    /// Validate every fault of the file, in file order (ids are file positions).
    pub fn validate_all(
        raw: &[RawFaultTimed],
        sc: &Scenario,
        r: &Resolver,
    ) -> Result<Vec<Fault>, ScenarioError> {
        if raw.len() > MAX_FAULTS {
            return Err(r
                .err(
                    r.loc().field("faults", 0),
                    format!("{} faults, more than {MAX_FAULTS}", raw.len()),
                )
                .with_hint("for many random failures use one ChaosMonkey"));
        }
        let mut out = vec![];
        for (i, timed) in raw.iter().enumerate() {
            let from = r.loc().nth_entry("faults", i, &["At(", "Between("]);
            let here = Some((from, from + 2));
            let (start, end, fault) = match timed {
                RawFaultTimed::At(t, f) => (t.0, None, f),
                RawFaultTimed::Between(a, b, f) => (a.0, Some(b.0), f),
            };
            if start > sc.duration || end.is_some_and(|e| e > sc.duration) {
                return Err(r
                    .err(
                        here,
                        format!(
                            "fault at {} comes after the end of the run ({})",
                            end.unwrap_or(start).max(start),
                            sc.duration
                        ),
                    )
                    .with_hint("a fault must start (and heal) within the duration"));
            }
            if end.is_some_and(|e| e <= start) {
                return Err(r
                    .err(
                        here,
                        format!(
                            "fault healing at {} does not come after its start at {start}",
                            end.unwrap_or_default()
                        ),
                    )
                    .with_hint("Between(start, end, fault): the end after the start"));
            }
            let node = |name: &str| r.node(name, from);
            let kind_is = |id: NodeId, ok: fn(&NodeKind) -> bool, what: &str, name: &str| {
                if ok(&sc.nodes[id.index()].kind) {
                    Ok(id)
                } else {
                    Err(r
                        .err(
                            r.loc().quoted(name, from),
                            format!(
                                "`{name}` is a {}, not {what}",
                                sc.nodes[id.index()].kind.kind().label().replace('_', " ")
                            ),
                        )
                        .with_hint(format!("this fault acts on {what}")))
                }
            };
            let dist = |d: &RawDist| {
                Dist::from_raw(d).map_err(|m| {
                    r.err(r.loc().field("extra", from).or(here), format!("fault: {m}"))
                })
            };
            let (kind, name) = match fault {
                RawFault::KillInstances { node: n, count } => {
                    let id = kind_is(
                        node(n)?,
                        |k| matches!(k, NodeKind::Service(_) | NodeKind::Cache(_)),
                        "a service or a cache",
                        n,
                    )?;
                    if *count == 0 {
                        return Err(r
                            .err(here, "KillInstances: count must be at least 1")
                            .with_hint("drop the fault, or give a count of 1 or more"));
                    }
                    (
                        FaultKind::Kill {
                            node: id,
                            count: (*count).min(MAX_INSTANCES),
                        },
                        format!("KillInstances({n}, {count})"),
                    )
                }
                RawFault::ZoneOutage { zone } => {
                    let id = sc.zone_id(zone);
                    if id == 0 {
                        return Err(r
                            .err(
                                r.loc().quoted(zone, from),
                                format!("no service runs in zone `{zone}`"),
                            )
                            .with_hint(if sc.zones.is_empty() {
                                "give services zones: [...] first".to_string()
                            } else {
                                format!("zones of services: {}", sc.zones.join(", "))
                            }));
                    }
                    (
                        FaultKind::ZoneOutage { zone: id },
                        format!("ZoneOutage({zone})"),
                    )
                }
                RawFault::RegionOutage { region } => {
                    let Some(id) = sc.regions.id(region) else {
                        return Err(r
                            .err(
                                r.loc().quoted(region, from),
                                format!("no region `{region}`"),
                            )
                            .with_hint(if sc.regions.names.is_empty() {
                                "declare regions: [Region(name: \"us\", zones: [...])] first"
                                    .to_string()
                            } else {
                                format!("regions: {}", sc.regions.names.join(", "))
                            }));
                    };
                    (
                        FaultKind::RegionOutage { region: id },
                        format!("RegionOutage({region})"),
                    )
                }
                RawFault::Partition { a, b } => {
                    let place = |z: &String| {
                        let id = sc.zone_id(z);
                        if id != 0 {
                            Ok(Place::Zone(id))
                        } else if let Some(g) = sc.regions.id(z) {
                            Ok(Place::Region(g))
                        } else {
                            let mut known = sc.zones.clone();
                            known.extend(sc.regions.names.iter().cloned());
                            Err(r
                                .err(r.loc().quoted(z, from), format!("no zone or region `{z}`"))
                                .with_hint(format!("zones and regions: {}", known.join(", "))))
                        }
                    };
                    let (pa, pb) = (place(a)?, place(b)?);
                    let (za, zb) = (pa.zones(sc), pb.zones(sc));
                    if za.iter().any(|z| zb.contains(z)) {
                        return Err(r
                            .err(
                                r.loc().quoted(b, from).or(here),
                                if a == b {
                                    format!("Partition: `{a}` with itself")
                                } else {
                                    format!("Partition: `{a}` and `{b}` overlap")
                                },
                            )
                            .with_hint("a partition separates two different zones (or regions)"));
                    }
                    (
                        FaultKind::Partition { a: pa, b: pb },
                        format!("Partition({a}, {b})"),
                    )
                }
                RawFault::Degrade { node: n, factor } => {
                    let id = kind_is(
                        node(n)?,
                        |k| matches!(k, NodeKind::Service(_)),
                        "a service",
                        n,
                    )?;
                    if !(*factor > 0.0 && *factor <= 1.0) {
                        return Err(r
                            .err(
                                r.loc().field("factor", from).or(here),
                                format!("Degrade: factor {factor} is outside (0, 1]"),
                            )
                            .with_hint("0.5 runs the CPU at half speed"));
                    }
                    (
                        FaultKind::Degrade {
                            node: id,
                            factor: *factor,
                        },
                        format!("Degrade({n}, {factor})"),
                    )
                }
                RawFault::ErrorInjection { node: n, fraction } => {
                    let id = node(n)?;
                    if !(0.0..=1.0).contains(fraction) {
                        return Err(r
                            .err(
                                r.loc().field("fraction", from).or(here),
                                format!("ErrorInjection: fraction {fraction} is outside [0, 1]"),
                            )
                            .with_hint("the share of requests that fail, e.g. fraction: 0.2"));
                    }
                    (
                        FaultKind::ErrorInjection {
                            node: id,
                            fraction: *fraction,
                        },
                        format!("ErrorInjection({n}, {fraction})"),
                    )
                }
                RawFault::NodeLatency { node: n, extra } => (
                    FaultKind::NodeLatency {
                        node: node(n)?,
                        extra: dist(extra)?,
                    },
                    format!("NodeLatency({n})"),
                ),
                RawFault::LinkLatency {
                    from: a,
                    to: b,
                    extra,
                } => {
                    let Some(link) = r.find_link(a, b) else {
                        return Err(r
                            .err(here, format!("LinkLatency: no link from `{a}` to `{b}`"))
                            .with_hint(format!(
                                "declare it in links: [Link(from: \"{a}\", to: \"{b}\", latency: ...)]"
                            )));
                    };
                    (
                        FaultKind::LinkLatency {
                            link,
                            extra: dist(extra)?,
                        },
                        format!("LinkLatency({a} -> {b})"),
                    )
                }
                RawFault::CacheFlush { node: n } => (
                    FaultKind::CacheFlush {
                        node: kind_is(node(n)?, |k| matches!(k, NodeKind::Cache(_)), "a cache", n)?,
                    },
                    format!("CacheFlush({n})"),
                ),
                RawFault::DatabaseFailover { node: n } => (
                    FaultKind::DatabaseFailover {
                        node: kind_is(
                            node(n)?,
                            |k| matches!(k, NodeKind::Database(_)),
                            "a database",
                            n,
                        )?,
                    },
                    format!("DatabaseFailover({n})"),
                ),
                RawFault::ChaosMonkey {
                    node: n,
                    mtbf,
                    mttr,
                } => {
                    let id = kind_is(
                        node(n)?,
                        |k| matches!(k, NodeKind::Service(_)),
                        "a service",
                        n,
                    )?;
                    if mtbf.0 == SimTime::ZERO {
                        return Err(r
                            .err(
                                r.loc().field("mtbf", from).or(here),
                                "ChaosMonkey: mtbf must be above zero",
                            )
                            .with_hint(
                                "the mean time an instance serves before a kill, e.g. mtbf: \"1h\"",
                            ));
                    }
                    (
                        FaultKind::ChaosMonkey {
                            node: id,
                            mtbf: mtbf.0,
                            mttr: mttr.0,
                        },
                        format!("ChaosMonkey({n})"),
                    )
                }
            };
            out.push(Fault {
                start,
                end,
                kind,
                name,
            });
        }
        Ok(out)
    }

    /// A fault whose `start` is this is never scheduled: it is armed for a hand to break
    /// and heal it (the terminal UI's keys), by injecting `Verb::Fault`.
    pub const BY_HAND: SimTime = SimTime::MAX;

    /// An armed fault of `kind` (see [`Fault::BY_HAND`]) called `name`.
    pub fn by_hand(kind: FaultKind, name: String) -> Fault {
        Fault {
            start: Fault::BY_HAND,
            end: None,
            kind,
            name,
        }
    }

    /// Whether it changes something that a heal must undo (an instant fault does not).
    pub fn heals(&self) -> bool {
        !matches!(
            self.kind,
            FaultKind::CacheFlush { .. } | FaultKind::DatabaseFailover { .. }
        ) && self.end.is_some()
    }
}

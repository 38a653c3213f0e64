//! Control: changes to a running world. Every change is a [`Verb`] carried by an event on
//! the same queue as everything else, whether it comes from the scenario's `actions`, a
//! fault, an autoscaler or a key pressed in the terminal UI; so a run with changes is as
//! deterministic as one without, and a recorded run replays byte for byte.
//!
//! - [`actions`]: the scenario's scripted `actions`, validated into timed verbs.

pub mod actions;
pub mod autoscale;
pub mod chaos;
pub mod faults;
pub mod hpa;

use crate::ids::NodeId;

/// A change to the world, applied by the component it names (service pools today).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verb {
    /// Start or stop (with drain) instances until `instances` are starting or serving.
    SetInstances {
        /// The pool.
        node: NodeId,
        /// Target size.
        instances: u32,
    },
    /// Start `count` instances.
    StartInstances {
        /// The pool.
        node: NodeId,
        /// How many.
        count: u32,
    },
    /// Stop `count` instances, newest first, draining them or not.
    StopInstances {
        /// The pool.
        node: NodeId,
        /// How many.
        count: u32,
        /// Finish in-flight work first (up to the drain timeout).
        drain: bool,
    },
    /// Kill `count` serving instances, newest first.
    KillInstances {
        /// The pool.
        node: NodeId,
        /// How many.
        count: u32,
    },
    /// Set the CPU speed factor of every current instance.
    Degrade {
        /// The pool.
        node: NodeId,
        /// Speed factor in (0, 1].
        factor: f32,
    },
    /// Empty a cache.
    FlushCache {
        /// The cache.
        node: NodeId,
    },
    /// Fail every shard's primary of a database; promotion follows after `failover`.
    FailPrimary {
        /// The database.
        node: NodeId,
    },
    /// Promote a replica in every shard of a database that has no primary (scheduled by
    /// `FailPrimary`).
    Promote {
        /// The database.
        node: NodeId,
    },
    /// Fault `id` of the scenario breaks (`on`) or heals.
    Fault {
        /// Index in `Scenario::faults`.
        id: u32,
        /// Breaks (true) or heals.
        on: bool,
    },
    /// A Chaos Monkey's next kill (stale unless `epoch` is its current one).
    MonkeyKill {
        /// The ChaosMonkey fault.
        id: u32,
        /// Its epoch when this was scheduled.
        epoch: u32,
    },
    /// A Chaos Monkey's victim starts again.
    MonkeyRestart {
        /// The ChaosMonkey fault.
        id: u32,
    },
    /// A balancer's health probes are in (a timeout after they were sent).
    HealthVerdict {
        /// The balancer.
        node: NodeId,
    },
    /// Deployment `id` of the scenario (`Scenario::deploys`) begins.
    Deploy {
        /// Index in `Scenario::deploys`.
        id: u32,
    },
}

/// How a deployment replaces a pool's instances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// At most `surge` above the pool's size, at most `unavailable` below it.
    Rolling {
        /// Extra instances allowed.
        surge: u32,
        /// Serving instances that may be missing.
        unavailable: u32,
    },
    /// All new ones at once; the old stop when every new one serves.
    BlueGreen,
}

/// A deployment or resize of a pool, started by a `Verb::Deploy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deploy {
    /// The pool.
    pub node: NodeId,
    /// The new size (cores, price per hour); `None`: the same (a new version).
    pub size: Option<(u32, f64)>,
    /// How.
    pub strategy: Strategy,
    /// In words, for the timeline: "rolling update", "resize to 8 cores".
    pub what: String,
}

impl Deploy {
    /// A resize of `node` to `cores` at `price` per hour: one instance at a time
    /// (`rolling`: each stopped before its replacement starts), or all at once.
    pub fn resize(node: NodeId, cores: u32, price: f64, rolling: bool) -> Deploy {
        Deploy {
            node,
            size: Some((cores, price)),
            strategy: Strategy::Rolling {
                surge: 0,
                unavailable: if rolling {
                    1
                } else {
                    crate::scenario::MAX_INSTANCES
                },
            },
            what: format!(
                "resize to {cores} cores at {price}/h, {}",
                if rolling {
                    "one at a time"
                } else {
                    "all at once"
                }
            ),
        }
    }
}

impl Verb {
    /// What it does, in words (for `validate` and the terminal UI).
    pub fn describe(&self) -> String {
        match *self {
            Verb::SetInstances { instances, .. } => format!("set instances to {instances}"),
            Verb::StartInstances { count, .. } => format!("start {count}"),
            Verb::StopInstances { count, drain, .. } => {
                format!(
                    "stop {count}{}",
                    if drain { ", draining" } else { " at once" }
                )
            }
            Verb::KillInstances { count, .. } => format!("kill {count}"),
            Verb::Degrade { factor, .. } => format!("CPU speed × {factor}"),
            Verb::FlushCache { .. } => "flush the cache".into(),
            Verb::FailPrimary { .. } => "fail the primary".into(),
            Verb::Promote { .. } => "promote a replica".into(),
            Verb::Fault { on, .. } => (if on { "fault" } else { "heal" }).into(),
            Verb::MonkeyKill { .. } => "chaos monkey kill".into(),
            Verb::MonkeyRestart { .. } => "chaos monkey restart".into(),
            Verb::HealthVerdict { .. } => "health-check verdicts".into(),
            Verb::Deploy { .. } => "deploy".into(),
        }
    }

    /// The node the verb acts on (`None` for faults: see the fault).
    pub fn node(&self) -> Option<NodeId> {
        Some(match *self {
            Verb::SetInstances { node, .. }
            | Verb::StartInstances { node, .. }
            | Verb::StopInstances { node, .. }
            | Verb::KillInstances { node, .. }
            | Verb::Degrade { node, .. }
            | Verb::FlushCache { node }
            | Verb::FailPrimary { node }
            | Verb::Promote { node }
            | Verb::HealthVerdict { node } => node,
            Verb::Fault { .. }
            | Verb::MonkeyKill { .. }
            | Verb::MonkeyRestart { .. }
            | Verb::Deploy { .. } => return None,
        })
    }
}

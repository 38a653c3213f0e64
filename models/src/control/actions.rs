//! The scenario's `actions`: scripted changes at given times, validated into [`Verb`]s that
//! the world schedules as events at the start of a run.

use super::Verb;
use crate::components::NodeKind;
use crate::ids::NodeId;
use crate::scenario::raw::{RawAction, RawTimed};
use crate::scenario::{Resolver, Scenario, ScenarioError, MAX_INSTANCES};
use sim_core::SimTime;

/// A validated scripted change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Action {
    /// When.
    pub at: SimTime,
    /// What.
    pub verb: Verb,
}

impl Action {
    /// Validate every action of the file, in file order; the result is sorted by time
    /// (stable, so equal times keep file order).
    /// Deployments and resizes become `Verb::Deploy`s indexing the returned list.
    pub fn validate_all(
        raw: &[RawTimed],
        sc: &Scenario,
        r: &Resolver,
    ) -> Result<(Vec<Action>, Vec<super::Deploy>), ScenarioError> {
        let mut out = vec![];
        let mut deploys = vec![];
        for (i, RawTimed::At(at, action)) in raw.iter().enumerate() {
            let from = r.loc().nth_entry("actions", i, &["At("]);
            let here = Some((from, from + 2));
            if at.0 > sc.duration {
                return Err(r
                    .err(
                        here,
                        format!(
                            "action at {} comes after the end of the run ({})",
                            at.0, sc.duration
                        ),
                    )
                    .with_hint(
                        "an action must happen within the duration; move it earlier or run longer",
                    ));
            }
            let pool = |name: &str| -> Result<NodeId, ScenarioError> {
                let node = r.node(name, from)?;
                match &sc.nodes[node.index()].kind {
                    NodeKind::Service(_) => Ok(node),
                    other => Err(r
                        .err(
                            r.loc().quoted(name, from),
                            format!(
                                "`{name}` is a {}, which has no instances to start, stop or kill",
                                other.kind().label().replace('_', " ")
                            ),
                        )
                        .with_hint("actions on instances name a Service")),
                }
            };
            let count = |n: u32, what: &str| -> Result<u32, ScenarioError> {
                if n == 0 {
                    Err(r
                        .err(here, format!("{what}: count must be at least 1"))
                        .with_hint("drop the action, or give a count of 1 or more"))
                } else {
                    Ok(n.min(MAX_INSTANCES))
                }
            };
            let verb = match action {
                RawAction::FlushCache { node } => {
                    let id = r.node(node, from)?;
                    if !matches!(sc.nodes[id.index()].kind, NodeKind::Cache(_)) {
                        return Err(r
                            .err(
                                r.loc().quoted(node, from),
                                format!("`{node}` is not a cache"),
                            )
                            .with_hint("FlushCache names a Cache"));
                    }
                    Verb::FlushCache { node: id }
                }
                RawAction::FailPrimary { node } => {
                    let id = r.node(node, from)?;
                    if !matches!(sc.nodes[id.index()].kind, NodeKind::Database(_)) {
                        return Err(r
                            .err(
                                r.loc().quoted(node, from),
                                format!("`{node}` is not a database"),
                            )
                            .with_hint("FailPrimary names a Database"));
                    }
                    Verb::FailPrimary { node: id }
                }
                RawAction::SetInstances { node, instances } => {
                    let node = pool(node)?;
                    if !(0..=MAX_INSTANCES as i64).contains(instances) {
                        return Err(r
                            .err(
                                r.loc().field("instances", from).or(here),
                                format!(
                                    "SetInstances: {instances} instances is outside 0..={MAX_INSTANCES}"
                                ),
                            )
                            .with_hint(format!(
                                "a pool has between 0 and {MAX_INSTANCES} instances"
                            )));
                    }
                    Verb::SetInstances {
                        node,
                        instances: *instances as u32,
                    }
                }
                RawAction::StartInstances { node, count: n } => Verb::StartInstances {
                    node: pool(node)?,
                    count: count(*n, "StartInstances")?,
                },
                RawAction::StopInstances {
                    node,
                    count: n,
                    drain,
                } => Verb::StopInstances {
                    node: pool(node)?,
                    count: count(*n, "StopInstances")?,
                    drain: *drain,
                },
                RawAction::KillInstances { node, count: n } => {
                    // A cache is one server: killing it restarts it empty.
                    let id = r.node(node, from)?;
                    let node = if matches!(sc.nodes[id.index()].kind, NodeKind::Cache(_)) {
                        id
                    } else {
                        pool(node)?
                    };
                    Verb::KillInstances {
                        node,
                        count: count(*n, "KillInstances")?,
                    }
                }
                RawAction::Resize {
                    node,
                    cores,
                    cost_per_hour,
                    mode,
                } => {
                    let id = pool(node)?;
                    if *cores == 0 || *cores > crate::components::service::MAX_CORES {
                        return Err(r
                            .err(
                                r.loc().field("cores", from).or(here),
                                format!(
                                    "Resize: {cores} cores is outside 1..={}",
                                    crate::components::service::MAX_CORES
                                ),
                            )
                            .with_hint("the new size's workers per instance, e.g. cores: 8"));
                    }
                    if cost_per_hour.0 > crate::scenario::raw::MAX_PRICE {
                        return Err(r
                            .err(
                                r.loc().field("cost_per_hour", from).or(here),
                                format!(
                                    "Resize: cost_per_hour above {:e}",
                                    crate::scenario::raw::MAX_PRICE
                                ),
                            )
                            .with_hint("the price of one instance of the new size per hour"));
                    }
                    deploys.push(super::Deploy::resize(
                        id,
                        *cores,
                        cost_per_hour.0,
                        *mode == crate::scenario::raw::ResizeMode::Rolling,
                    ));
                    Verb::Deploy {
                        id: deploys.len() as u32 - 1,
                    }
                }
                RawAction::RollingUpdate {
                    node,
                    max_surge,
                    max_unavailable,
                } => {
                    let id = pool(node)?;
                    if *max_surge == 0 && *max_unavailable == 0 {
                        return Err(r
                            .err(
                                r.loc().field("max_surge", from).or(r.loc().field("max_unavailable", from)).or(here),
                                "RollingUpdate: max_surge and max_unavailable are both 0, so no instance could ever be replaced".to_string(),
                            )
                            .with_hint("allow one extra (max_surge: 1) or one missing (max_unavailable: 1)"));
                    }
                    deploys.push(super::Deploy {
                        node: id,
                        size: None,
                        strategy: super::Strategy::Rolling {
                            surge: (*max_surge).min(MAX_INSTANCES),
                            unavailable: (*max_unavailable).min(MAX_INSTANCES),
                        },
                        what: format!(
                            "rolling update (max surge {max_surge}, max unavailable {max_unavailable})"
                        ),
                    });
                    Verb::Deploy {
                        id: deploys.len() as u32 - 1,
                    }
                }
                RawAction::BlueGreen { node } => {
                    let id = pool(node)?;
                    deploys.push(super::Deploy {
                        node: id,
                        size: None,
                        strategy: super::Strategy::BlueGreen,
                        what: "blue/green deploy".into(),
                    });
                    Verb::Deploy {
                        id: deploys.len() as u32 - 1,
                    }
                }
                RawAction::Degrade { node, factor } => {
                    let node = pool(node)?;
                    if !(*factor > 0.0 && *factor <= 1.0) {
                        return Err(r
                            .err(
                                r.loc().field("factor", from).or(here),
                                format!("Degrade: factor {factor} is outside (0, 1]"),
                            )
                            .with_hint("0.5 runs the CPU at half speed; 1.0 restores full speed"));
                    }
                    Verb::Degrade {
                        node,
                        factor: *factor as f32,
                    }
                }
            };
            out.push(Action { at: at.0, verb });
        }
        out.sort_by_key(|a| a.at);
        Ok((out, deploys))
    }
}

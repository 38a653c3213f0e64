//! Handler programs: the steps a service runs per request class, resolved (names to ids)
//! and compiled into a flat list of ops that the engine executes with a program counter.
//!
//! Two forms on purpose: [`Step`] keeps the tree as written (for validation, the call
//! graph and the capacity estimate); [`Op`] is what runs (no recursion, no allocation).

use super::dist::Dist;
use super::raw::RawStep;
use super::resolve::Resolver;
use super::ScenarioError;
use crate::ids::{LinkId, NodeId};

/// A resolved handler step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Work on the worker.
    Cpu(Dist),
    /// Synchronous call.
    Call {
        /// Callee.
        node: NodeId,
        /// Link to it, if one is declared.
        link: Option<LinkId>,
    },
    /// Probabilistic branch.
    Branch {
        /// Probability of `then`.
        p: f64,
        /// Taken with probability `p`.
        then: Vec<Step>,
        /// Taken otherwise.
        otherwise: Vec<Step>,
    },
}

/// One instruction of a compiled handler program.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// Hold the worker for a sample of the distribution.
    Cpu(Dist),
    /// Call a node and wait.
    Call {
        /// Callee.
        node: NodeId,
        /// Link to it.
        link: Option<LinkId>,
    },
    /// Continue with probability `p`, else jump to `else_pc`.
    Branch {
        /// Probability of falling through.
        p: f64,
        /// Where the other arm starts.
        else_pc: u32,
    },
    /// Jump.
    Jump(u32),
    /// The handler is done: reply.
    End,
}

/// A compiled handler.
#[derive(Debug, Clone)]
pub struct Handler {
    /// Offset of its first op in [`crate::Scenario::ops`].
    pub start: u32,
    /// The steps as written (resolved), for analysis.
    pub steps: Vec<Step>,
}

/// Every node a program can call.
pub fn callees(steps: &[Step], out: &mut Vec<NodeId>) {
    for s in steps {
        match s {
            Step::Cpu(_) => {}
            Step::Call { node, .. } => out.push(*node),
            Step::Branch {
                then, otherwise, ..
            } => {
                callees(then, out);
                callees(otherwise, out);
            }
        }
    }
}

/// Resolve the steps of `owner`'s handler; `at` locates errors.
pub fn resolve(
    steps: &[RawStep],
    owner: &str,
    r: &mut Resolver,
    at: usize,
) -> Result<Vec<Step>, ScenarioError> {
    let mut out = vec![];
    for s in steps {
        out.push(match s {
            RawStep::Cpu(d) => Step::Cpu(Dist::from_raw(d).map_err(|m| {
                let span = r.loc().field(d_field(d), at).or(r.loc().decl(owner));
                r.err(span, format!("service `{owner}`: {m}"))
            })?),
            RawStep::Call(target) => {
                let node = r.node(target, at)?;
                Step::Call {
                    node,
                    link: r.link_of(owner, target),
                }
            }
            RawStep::Branch { p, then, otherwise } => Step::Branch {
                p: p.0,
                then: resolve(then, owner, r, at)?,
                otherwise: resolve(otherwise, owner, r, at)?,
            },
        });
    }
    Ok(out)
}

fn d_field(d: &super::raw::RawDist) -> &'static str {
    use super::raw::RawDist;
    match d {
        RawDist::LogNormal { .. } => "p99",
        RawDist::Erlang { .. } => "k",
        RawDist::Uniform { .. } => "max",
        _ => "Cpu",
    }
}

/// Append the ops of `steps` to `ops`.
pub fn compile(steps: &[Step], ops: &mut Vec<Op>) {
    for s in steps {
        match s {
            Step::Cpu(d) => ops.push(Op::Cpu(*d)),
            Step::Call { node, link } => ops.push(Op::Call {
                node: *node,
                link: *link,
            }),
            Step::Branch { p, then, otherwise } => {
                let at = ops.len();
                ops.push(Op::Branch { p: *p, else_pc: 0 });
                compile(then, ops);
                if otherwise.is_empty() {
                    let end = ops.len() as u32;
                    ops[at] = Op::Branch {
                        p: *p,
                        else_pc: end,
                    };
                } else {
                    let jump = ops.len();
                    ops.push(Op::Jump(0));
                    let else_pc = ops.len() as u32;
                    ops[at] = Op::Branch { p: *p, else_pc };
                    compile(otherwise, ops);
                    ops[jump] = Op::Jump(ops.len() as u32);
                }
            }
        }
    }
}

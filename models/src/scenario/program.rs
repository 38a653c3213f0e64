//! Handler programs: the steps a service runs per request class, resolved (names to ids)
//! and compiled into a flat list of ops that the engine executes with a program counter.
//!
//! Two forms on purpose: [`Step`] keeps the tree as written (for validation, the call
//! graph and the capacity estimate); [`Op`] is what runs (no recursion, no allocation).

use super::dist::Dist;
use super::raw::RawStep;
use super::resolve::Resolver;
use super::ScenarioError;
use crate::components::RawNode;
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
        /// Its timeout and retries (index into `Scenario::calls`).
        policy: Option<u16>,
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
    /// Cache-aside lookup.
    Lookup {
        /// The cache.
        node: NodeId,
        /// Link to it.
        link: Option<LinkId>,
        /// Run on a miss.
        on_miss: Vec<Step>,
    },
    /// Store the key in a cache.
    Fill {
        /// The cache.
        node: NodeId,
        /// Link to it.
        link: Option<LinkId>,
    },
}

/// Most calls with a policy in one scenario.
pub const MAX_CALL_POLICIES: usize = 10_000;

/// A call's timeout and retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallPolicy {
    /// The caller.
    pub from: NodeId,
    /// The callee.
    pub to: NodeId,
    /// Give up on a try after this long.
    pub timeout: Option<sim_core::SimTime>,
    /// Retries.
    pub retry: RetryPolicy,
    /// Circuit breaker.
    pub breaker: Option<Breaker>,
    /// Most tries out at once per calling instance.
    pub bulkhead: Option<u32>,
    /// Send a second try after this long without an answer.
    pub hedge: Option<sim_core::SimTime>,
}

/// A validated circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breaker {
    /// Failure share that opens it.
    pub threshold: f64,
    /// Measurement window.
    pub window: sim_core::SimTime,
    /// Fewest tries in the window to open.
    pub min_calls: u32,
    /// Time open.
    pub open_for: sim_core::SimTime,
    /// Trial calls when half-open.
    pub probes: u32,
}

/// A validated retry policy: a call's, or a source's (its clients retry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Wait before retries.
    pub backoff: super::raw::RawBackoff,
    /// Randomisation of the wait.
    pub jitter: super::raw::Jitter,
    /// Retries at most this share of the first tries.
    pub budget: Option<f64>,
}

impl RetryPolicy {
    /// One try, no retry.
    pub const ONCE: RetryPolicy = RetryPolicy {
        attempts: 1,
        backoff: super::raw::RawBackoff::None,
        jitter: super::raw::Jitter::None,
        budget: None,
    };

    /// Whether a retry may follow try number `tries`, with `(first tries, retries)` made
    /// so far under the budget.
    #[inline]
    pub fn allows(&self, tries: u32, (firsts, retries): (u64, u64)) -> bool {
        tries < self.attempts
            && self
                .budget
                .is_none_or(|b| (retries + 1) as f64 <= b * firsts as f64)
    }

    /// Validate `rt`, written for `who` (e.g. "service `web`").
    pub fn validate(
        rt: &super::raw::RawRetry,
        who: &str,
        r: &Resolver,
        at: usize,
        here: Option<(usize, usize)>,
    ) -> Result<RetryPolicy, ScenarioError> {
        if !(1..=100).contains(&rt.attempts) {
            return Err(r
                .err(
                    r.loc().field("attempts", at).or(here),
                    format!(
                        "{who}: Retry attempts must be 1 to 100, found {}",
                        rt.attempts
                    ),
                )
                .with_hint(
                    "attempts counts every try, the first included: attempts: 3 retries twice",
                ));
        }
        if rt.budget.is_some_and(|b| !(0.0..=1.0).contains(&b)) {
            return Err(r
                .err(
                    r.loc().field("budget", at).or(here),
                    format!(
                        "{who}: a retry budget must be in [0, 1], found {}",
                        rt.budget.unwrap_or_default()
                    ),
                )
                .with_hint("the share of calls that may be retried, e.g. budget: 0.1"));
        }
        if let super::raw::RawBackoff::Exponential { base, cap } = rt.backoff {
            if cap.0 < base.0 {
                return Err(r
                    .err(
                        r.loc().field("cap", at).or(here),
                        format!(
                            "{who}: backoff cap ({}) is below its base ({})",
                            cap.0, base.0
                        ),
                    )
                    .with_hint("e.g. Exponential(base: \"100ms\", cap: \"2s\")"));
            }
        }
        Ok(RetryPolicy {
            attempts: rt.attempts,
            backoff: rt.backoff,
            jitter: rt.jitter,
            budget: rt.budget,
        })
    }

    /// The wait before retry number `retry` (1 for the first retry), jittered from `rng`.
    pub fn backoff(&self, retry: u32, rng: &mut sim_core::Stream) -> sim_core::SimTime {
        use super::raw::{Jitter, RawBackoff};
        let wait = match self.backoff {
            RawBackoff::None => return sim_core::SimTime::ZERO,
            RawBackoff::Constant(d) => d.0.as_secs_f64(),
            RawBackoff::Exponential { base, cap } => (base.0.as_secs_f64()
                * 2f64.powi(retry.saturating_sub(1).min(60) as i32))
            .min(cap.0.as_secs_f64()),
        };
        let wait = match self.jitter {
            Jitter::None => wait,
            Jitter::Full => wait * rng.unit(),
            Jitter::Equal => wait / 2.0 + wait / 2.0 * rng.unit(),
        };
        sim_core::SimTime::from_secs_f64(wait)
    }
}

/// What a call asks of a cache, carried in the callee frame's `pc` (a cache runs no
/// program): the class's own operation, a cache-aside lookup, or a fill.
pub mod cache_call {
    /// The class's operation (`op`) on the key.
    pub const OP: u32 = 0;
    /// A cache-aside lookup: answer hit or miss, never fetch.
    pub const LOOKUP: u32 = 1;
    /// Store the key with the version the request last read.
    pub const FILL: u32 = 2;
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
        /// Its timeout and retries (index into `Scenario::calls`).
        policy: Option<u16>,
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
    /// Look up in a cache and wait; on a hit jump to `hit_pc`, on a miss fall through.
    Lookup {
        /// The cache.
        node: NodeId,
        /// Link to it.
        link: Option<LinkId>,
        /// Where a hit continues (after the miss steps).
        hit_pc: u32,
    },
    /// Store the key in a cache and wait.
    Fill {
        /// The cache.
        node: NodeId,
        /// Link to it.
        link: Option<LinkId>,
    },
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
            Step::Call { node, .. } | Step::Fill { node, .. } => out.push(*node),
            Step::Branch {
                then, otherwise, ..
            } => {
                callees(then, out);
                callees(otherwise, out);
            }
            Step::Lookup { node, on_miss, .. } => {
                out.push(*node);
                callees(on_miss, out);
            }
        }
    }
}

/// Whether any handler of any service looks `cache` up.
fn looked_up(steps: &[RawStep], cache: &str) -> bool {
    steps.iter().any(|s| match s {
        RawStep::Lookup { cache: c, on_miss } => c == cache || looked_up(on_miss, cache),
        RawStep::Branch {
            then, otherwise, ..
        } => looked_up(then, cache) || looked_up(otherwise, cache),
        _ => false,
    })
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
            RawStep::Call(call) => {
                let target = call.node();
                let node = r.node(target, at)?;
                let policy = match call {
                    super::raw::RawCall::Full(full)
                        if full.timeout.is_some()
                            || full.retry.is_some()
                            || full.breaker.is_some()
                            || full.bulkhead.is_some()
                            || full.hedge.is_some() =>
                    {
                        Some(call_policy(full, owner, node, r, at)?)
                    }
                    _ => None,
                };
                Step::Call {
                    node,
                    link: r.link_of(owner, target),
                    policy,
                }
            }
            RawStep::Enqueue(target) => {
                let node = r.node(target, at)?;
                if !matches!(r.raw_node(node), RawNode::Queue(_)) {
                    return Err(r
                        .err(
                            r.loc().quoted(target, at),
                            format!("service `{owner}`: Enqueue(\"{target}\") names a node that is not a queue"),
                        )
                        .with_hint(format!("Enqueue names a Queue; to wait for `{target}`'s answer use Call(\"{target}\")")));
                }
                Step::Call {
                    node,
                    link: r.link_of(owner, target),
                    policy: None,
                }
            }
            RawStep::Lookup { cache, on_miss } => {
                let node = r.node(cache, at)?;
                match r.raw_node(node) {
                    RawNode::Cache(c) if c.read_through.is_none() => {}
                    RawNode::Cache(c) => {
                        return Err(r
                            .err(
                                r.loc().quoted(cache, at),
                                format!(
                                    "service `{owner}`: Lookup is cache-aside, but cache `{cache}` reads through `{}` itself",
                                    c.read_through.as_deref().unwrap_or_default()
                                ),
                            )
                            .with_hint(format!("use Call(\"{cache}\") for a read-through cache, or drop its read_through")))
                    }
                    _ => {
                        return Err(r
                            .err(
                                r.loc().quoted(cache, at),
                                format!("service `{owner}`: Lookup names `{cache}`, which is not a cache"),
                            )
                            .with_hint("Lookup(cache: \"<a Cache>\", on_miss: [...])"))
                    }
                }
                Step::Lookup {
                    node,
                    link: r.link_of(owner, cache),
                    on_miss: resolve(on_miss, owner, r, at)?,
                }
            }
            RawStep::Fill(cache) => {
                let node = r.node(cache, at)?;
                let RawNode::Cache(c) = r.raw_node(node) else {
                    return Err(r
                        .err(
                            r.loc().quoted(cache, at),
                            format!("service `{owner}`: Fill names `{cache}`, which is not a cache"),
                        )
                        .with_hint("Fill(\"<a Cache>\") stores the key in that cache"));
                };
                if c.edge {
                    return Err(r
                        .err(
                            r.loc().quoted(cache, at),
                            format!("service `{owner}`: Fill of `{cache}`, a read-only CDN edge"),
                        )
                        .with_hint("an edge fills itself from its origin (read_through)"));
                }
                let raw = r.raw();
                let handlers = raw.nodes.iter().filter_map(|n| match n {
                    RawNode::Service(s) => Some(s.handlers.values()),
                    _ => None,
                });
                if !handlers.flatten().any(|h| looked_up(h, cache)) {
                    return Err(r
                        .err(
                            r.loc().quoted(cache, at),
                            format!("service `{owner}`: Fill(\"{cache}\"), but no handler ever looks `{cache}` up"),
                        )
                        .with_hint(format!("a filled key is only read by Lookup(cache: \"{cache}\", on_miss: [...]); add one, or drop the Fill")));
                }
                Step::Fill {
                    node,
                    link: r.link_of(owner, cache),
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

/// Validate a call's timeout and retries; returns its index in `Scenario::calls`.
fn call_policy(
    call: &super::raw::RawCallFull,
    owner: &str,
    to: NodeId,
    r: &mut Resolver,
    at: usize,
) -> Result<u16, ScenarioError> {
    let from = r.node(owner, at)?;
    let here = r.loc().quoted(&call.node, at);
    if call.timeout.is_some_and(|t| t.0 == sim_core::SimTime::ZERO) {
        return Err(r
            .err(
                r.loc().field("timeout", at).or(here),
                format!("service `{owner}`: a call timeout of 0 fails every call"),
            )
            .with_hint(
                "leave timeout out to wait for the answer, or give e.g. timeout: \"500ms\"",
            ));
    }
    let retry = match &call.retry {
        None => RetryPolicy::ONCE,
        Some(rt) => RetryPolicy::validate(rt, &format!("service `{owner}`"), r, at, here)?,
    };
    let breaker = match &call.breaker {
        None => None,
        Some(b) => {
            let at_field = |f: &str| r.loc().field(f, at).or(here);
            if !(0.0..=1.0).contains(&b.threshold) {
                return Err(r
                    .err(
                        at_field("threshold"),
                        format!(
                            "service `{owner}`: a breaker threshold must be in [0, 1], found {}",
                            b.threshold
                        ),
                    )
                    .with_hint("the failure share that opens it, e.g. threshold: 0.5"));
            }
            if b.window.0 == sim_core::SimTime::ZERO || b.open_for.0 == sim_core::SimTime::ZERO {
                return Err(r
                    .err(
                        at_field(if b.window.0 == sim_core::SimTime::ZERO {
                            "window"
                        } else {
                            "open_for"
                        }),
                        format!(
                            "service `{owner}`: a breaker's window and open_for must be above zero"
                        ),
                    )
                    .with_hint(
                        "e.g. Breaker(threshold: 0.5, window: \"10s\", open_for: \"30s\")",
                    ));
            }
            if b.probes == 0 || b.min_calls == 0 {
                return Err(r
                    .err(at_field(if b.probes == 0 { "probes" } else { "min_calls" }), format!("service `{owner}`: a breaker's probes and min_calls must be at least 1"))
                    .with_hint("e.g. min_calls: 20, probes: 3"));
            }
            Some(Breaker {
                threshold: b.threshold,
                window: b.window.0,
                min_calls: b.min_calls,
                open_for: b.open_for.0,
                probes: b.probes,
            })
        }
    };
    if call.bulkhead == Some(0) {
        return Err(r
            .err(
                r.loc().field("bulkhead", at).or(here),
                format!("service `{owner}`: a bulkhead of 0 fails every call"),
            )
            .with_hint("the most tries out at once per instance, e.g. bulkhead: 10"));
    }
    if let Some(h) = call.hedge {
        if h.0 == sim_core::SimTime::ZERO || call.timeout.is_some_and(|t| t.0 <= h.0) {
            return Err(r
                .err(
                    r.loc().field("hedge", at).or(here),
                    format!(
                        "service `{owner}`: a hedge ({}) must be above zero and before the timeout",
                        h.0
                    ),
                )
                .with_hint(
                    "hedge after about the callee's p95, e.g. hedge: \"50ms\", timeout: \"500ms\"",
                ));
        }
    }
    if r.calls.len() >= MAX_CALL_POLICIES {
        return Err(r
            .err(
                here,
                format!("more than {MAX_CALL_POLICIES} calls with a timeout or retries"),
            )
            .with_hint("share one service for many similar calls"));
    }
    r.calls.push(CallPolicy {
        from,
        to,
        timeout: call.timeout.map(|t| t.0),
        retry,
        breaker,
        bulkhead: call.bulkhead,
        hedge: call.hedge.map(|h| h.0),
    });
    Ok(r.calls.len() as u16 - 1)
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
            Step::Call { node, link, policy } => ops.push(Op::Call {
                node: *node,
                link: *link,
                policy: *policy,
            }),
            Step::Fill { node, link } => ops.push(Op::Fill {
                node: *node,
                link: *link,
            }),
            Step::Lookup {
                node,
                link,
                on_miss,
            } => {
                let at = ops.len();
                ops.push(Op::Lookup {
                    node: *node,
                    link: *link,
                    hit_pc: 0,
                });
                compile(on_miss, ops);
                let hit_pc = ops.len() as u32;
                ops[at] = Op::Lookup {
                    node: *node,
                    link: *link,
                    hit_pc,
                };
            }
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

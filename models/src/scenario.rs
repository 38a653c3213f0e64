//! Validation: a [`RawScenario`] becomes a [`Scenario`] the engine can run without further
//! checks — names resolved to indices, defaults filled, handler programs compiled to flat
//! op lists, the call graph proven acyclic, every class handled wherever it can go.

use crate::dist::Dist;
use crate::error::{did_you_mean, ErrorKind, Locator, ScenarioError};
use crate::profile::Profile;
use crate::schema::*;
use petgraph::graph::DiGraph;
use sim_core::SimTime;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most instances in one service pool.
pub const MAX_INSTANCES: u32 = 100_000;
/// Most workers per instance.
pub const MAX_CORES: u32 = 100_000;
/// Most time-series samples per run (`duration / sample_every`).
pub const MAX_SAMPLES: u64 = 1_000_000;

/// "No index": no link on this edge, no instance chosen yet.
pub const NONE: u32 = u32::MAX;

/// A validated scenario. Build it with [`Scenario::validate`] (or [`crate::load`]).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Seed of all random streams.
    pub seed: u64,
    /// Simulated run length.
    pub duration: SimTime,
    /// Statistics start here.
    pub warmup: SimTime,
    /// Time-series interval.
    pub sample_every: SimTime,
    /// Limit on live requests.
    pub max_in_flight: u64,
    /// Limit on events per run.
    pub max_events: Option<u64>,
    /// Every request class, across all sources (index = class id).
    pub classes: Vec<String>,
    /// Sources.
    pub sources: Vec<Source>,
    /// Nodes (index = node id).
    pub nodes: Vec<Node>,
    /// Links (index = link id).
    pub links: Vec<Link>,
    /// All handler programs, concatenated; handlers hold start offsets.
    pub ops: Vec<Op>,
}

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name.
    pub name: String,
    /// Receiving node.
    pub target: u32,
    /// Link from the source to its target, or [`NONE`].
    pub link: u32,
    /// Rate profile.
    pub profile: Profile,
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Classes with cumulative weights (the last is 1).
    pub mix: Vec<MixEntry>,
    /// Number of sessions.
    pub sessions: u64,
    /// Client timeout.
    pub timeout: Option<SimTime>,
}

/// One class in a source's mix.
#[derive(Debug, Clone)]
pub struct MixEntry {
    /// Class id.
    pub class: u16,
    /// Share of this source's requests.
    pub share: f64,
    /// Cumulative share up to and including this class.
    pub cum: f64,
    /// Key distribution.
    pub keys: KeyDist,
}

/// A validated key distribution.
#[derive(Debug, Clone, Copy)]
pub enum KeyDist {
    /// `0..n` uniformly.
    Uniform(u64),
    /// Zipf over `1..=n`, reported as `0..n`.
    Zipf(rand_distr::Zipf<f64>),
}

impl KeyDist {
    /// Draw a key in `0..n`. Never allocates.
    #[inline]
    pub fn sample(&self, rng: &mut sim_core::Stream) -> u64 {
        match *self {
            KeyDist::Uniform(n) => rng.below(n),
            KeyDist::Zipf(z) => {
                use rand_distr::Distribution;
                (z.sample(&mut **rng) as u64).saturating_sub(1)
            }
        }
    }
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
}

/// The kinds of node. A new component is a new variant and a new module.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A load balancer.
    LoadBalancer(LoadBalancer),
    /// A service pool.
    Service(Service),
}

impl NodeKind {
    /// The kind's name in reports (`"load_balancer"`, `"service"`).
    pub fn label(&self) -> &'static str {
        match self {
            NodeKind::LoadBalancer(_) => "load_balancer",
            NodeKind::Service(_) => "service",
        }
    }
}

/// A validated load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// Algorithm (weights validated).
    pub algorithm: Algorithm,
    /// Backend pools.
    pub backends: Vec<Backend>,
}

/// One backend pool of a load balancer.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// The service node.
    pub node: u32,
    /// Link from the balancer to it, or [`NONE`].
    pub link: u32,
    /// Weight (for `WeightedRoundRobin`; 1 otherwise).
    pub weight: f64,
}

/// A validated service pool.
#[derive(Debug, Clone)]
pub struct Service {
    /// Instances.
    pub instances: u32,
    /// Workers per instance.
    pub cores: u32,
    /// Queue capacity per instance (`None`: unbounded).
    pub queue: Option<u32>,
    /// Worker behaviour during calls.
    pub on_call: CallMode,
    /// Price per instance-hour.
    pub cost_per_hour: f64,
    /// Handler per class id (`None`: this class never reaches here).
    pub handlers: Vec<Option<Handler>>,
}

/// A compiled handler.
#[derive(Debug, Clone)]
pub struct Handler {
    /// Offset of its first op in [`Scenario::ops`].
    pub start: u32,
    /// The steps as written (resolved), for analysis.
    pub steps: Vec<Step>,
}

/// A resolved handler step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Work on the worker.
    Cpu(Dist),
    /// Synchronous call.
    Call {
        /// Callee.
        node: u32,
        /// Link, or [`NONE`].
        link: u32,
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
        node: u32,
        /// Link, or [`NONE`].
        link: u32,
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

/// A link with its latency distribution.
#[derive(Debug, Clone)]
pub struct Link {
    /// Source or node name.
    pub from: String,
    /// Node name.
    pub to: String,
    /// One-way latency.
    pub latency: Dist,
}

struct Ctx<'a> {
    file: &'a str,
    src: &'a Arc<str>,
}

impl Ctx<'_> {
    fn err(&self, span: Option<(usize, usize)>, msg: impl Into<String>) -> ScenarioError {
        let mut e = ScenarioError::new(ErrorKind::Invalid, self.file, msg);
        e.source = Some(self.src.clone());
        e.span = span;
        e
    }
    fn loc(&self) -> Locator<'_> {
        Locator { src: self.src }
    }
    /// "unknown node `x`" with a did-you-mean over `known`.
    fn unknown(&self, what: &str, name: &str, known: &[&str], from: usize) -> ScenarioError {
        let span = self
            .loc()
            .quoted(name, from)
            .or_else(|| self.loc().quoted(name, 0));
        let e = self.err(span, format!("unknown {what} `{name}`"));
        match did_you_mean(name, known.iter().copied()) {
            Some(s) => e.with_hint(format!("did you mean `{s}`?")),
            None => e.with_hint(format!(
                "known: {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

impl Scenario {
    /// Validate `raw`, read from `file` whose text is `src` (for error locations).
    pub fn validate(
        raw: &RawScenario,
        file: &str,
        src: &Arc<str>,
    ) -> Result<Scenario, ScenarioError> {
        let cx = Ctx { file, src };
        let loc = cx.loc();
        let duration = raw.duration.0;
        if duration == SimTime::ZERO {
            return Err(cx
                .err(loc.field("duration", 0), "duration must be above zero")
                .with_hint("e.g. duration: \"10m\""));
        }
        if raw.warmup.0 >= duration {
            return Err(cx
                .err(
                    loc.field("warmup", 0),
                    format!(
                        "warmup ({}) must be shorter than the duration ({duration})",
                        raw.warmup.0
                    ),
                )
                .with_hint("statistics are collected after the warm-up only"));
        }
        if raw.limits.max_in_flight == 0 {
            return Err(cx.err(
                loc.field("max_in_flight", 0),
                "limits.max_in_flight must be at least 1",
            ));
        }
        if raw.sources.is_empty() {
            return Err(cx
                .err(
                    loc.field("sources", 0),
                    "no sources: nothing sends requests",
                )
                .with_hint("add a Source(...)"));
        }
        if raw.nodes.is_empty() {
            return Err(cx
                .err(loc.field("nodes", 0), "no nodes: nothing to simulate")
                .with_hint("add a Service(...)"));
        }

        // Names: unique across sources and nodes.
        let node_names: Vec<&str> = raw.nodes.iter().map(node_name).collect();
        let mut seen = BTreeMap::new();
        for name in raw
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .chain(node_names.iter().copied())
        {
            if name.is_empty() {
                return Err(cx.err(loc.field("name", 0), "a name is empty"));
            }
            if seen.insert(name, ()).is_some() {
                let first = loc.decl(name).map_or(0, |s| s.1);
                let span = loc.quoted(name, first).or(loc.decl(name));
                return Err(cx
                    .err(span, format!("the name `{name}` is used twice"))
                    .with_hint("names of sources and nodes must be unique"));
            }
        }
        let node_index = |name: &str| node_names.iter().position(|n| *n == name).map(|i| i as u32);

        // Classes, in order of first appearance.
        let mut classes: Vec<String> = vec![];
        for s in &raw.sources {
            if s.mix.is_empty() && !classes.iter().any(|c| c == "default") {
                classes.push("default".into());
            }
            for c in &s.mix {
                if !classes.contains(&c.name) {
                    classes.push(c.name.clone());
                }
            }
        }
        let class_names: Vec<&str> = classes.iter().map(String::as_str).collect();

        // Links.
        let mut links = vec![];
        let mut link_index: BTreeMap<(String, String), u32> = BTreeMap::new();
        for l in &raw.links {
            let at = loc.quoted(&l.from, 0).map_or(0, |s| s.0);
            let known: Vec<&str> = raw
                .sources
                .iter()
                .map(|s| s.name.as_str())
                .chain(node_names.iter().copied())
                .collect();
            if !known.contains(&l.from.as_str()) {
                return Err(cx.unknown("source or node", &l.from, &known, at));
            }
            if node_index(&l.to).is_none() {
                return Err(cx.unknown("node", &l.to, &node_names, at));
            }
            let latency =
                Dist::from_raw(&l.latency).map_err(|m| cx.err(loc.field("latency", at), m))?;
            if link_index
                .insert((l.from.clone(), l.to.clone()), links.len() as u32)
                .is_some()
            {
                return Err(cx.err(
                    loc.quoted(&l.from, at),
                    format!("link `{}` -> `{}` is given twice", l.from, l.to),
                ));
            }
            links.push(Link {
                from: l.from.clone(),
                to: l.to.clone(),
                latency,
            });
        }
        let mut used_links = vec![false; links.len()];
        let mut link_of =
            |from: &str, to: &str| match link_index.get(&(from.to_string(), to.to_string())) {
                Some(&i) => {
                    used_links[i as usize] = true;
                    i
                }
                None => NONE,
            };

        // Sources.
        let horizon_s = duration.as_secs_f64();
        let mut sources = vec![];
        for s in &raw.sources {
            let decl = loc.decl(&s.name).map_or(0, |d| d.1);
            let target = node_index(&s.target)
                .ok_or_else(|| cx.unknown("node", &s.target, &node_names, decl))?;
            let profile = Profile::from_raw(&s.rate, horizon_s).map_err(|m| {
                cx.err(loc.field("rate", decl), format!("source `{}`: {m}", s.name))
                    .with_hint(
                        "rates are requests per second and must be above zero somewhere in the run",
                    )
            })?;
            let mut mix = vec![];
            if s.mix.is_empty() {
                let class = classes.iter().position(|c| c == "default").unwrap() as u16;
                mix.push(MixEntry {
                    class,
                    share: 1.0,
                    cum: 1.0,
                    keys: KeyDist::Uniform(1_000_000),
                });
            } else {
                let total: f64 = s.mix.iter().map(|c| c.weight.0).sum();
                if total <= 0.0 {
                    return Err(cx
                        .err(
                            loc.field("mix", decl),
                            format!("source `{}`: the class weights sum to 0", s.name),
                        )
                        .with_hint("give at least one class a weight above zero"));
                }
                let mut cum = 0.0;
                for c in &s.mix {
                    let at = loc.quoted(&c.name, decl).map_or(decl, |x| x.0);
                    let keys = match c.keys {
                        Keys::Uniform { n } if n >= 1 => KeyDist::Uniform(n),
                        Keys::Zipf { n, s: skew } if n >= 1 && skew > 0.0 && skew.is_finite() => {
                            KeyDist::Zipf(
                                rand_distr::Zipf::new(n as f64, skew).map_err(|e| {
                                    cx.err(loc.field("keys", at), format!("Zipf: {e}"))
                                })?,
                            )
                        }
                        _ => {
                            return Err(cx
                                .err(
                                    loc.field("keys", at),
                                    format!(
                                        "class `{}`: keys need n ≥ 1 (and s > 0 for Zipf)",
                                        c.name
                                    ),
                                )
                                .with_hint("e.g. keys: Zipf(n: 100000, s: 1.1)"))
                        }
                    };
                    cum += c.weight.0 / total;
                    let class = classes.iter().position(|x| *x == c.name).unwrap() as u16;
                    mix.push(MixEntry {
                        class,
                        share: c.weight.0 / total,
                        cum,
                        keys,
                    });
                }
                if let Some(last) = mix.last_mut() {
                    last.cum = 1.0;
                }
            }
            if s.sessions == 0 {
                return Err(cx.err(
                    loc.field("sessions", decl),
                    format!("source `{}`: sessions must be at least 1", s.name),
                ));
            }
            if let Some(t) = s.timeout {
                if t.0 == SimTime::ZERO {
                    return Err(cx.err(
                        loc.field("timeout", decl),
                        format!("source `{}`: timeout must be above zero", s.name),
                    ));
                }
            }
            sources.push(Source {
                name: s.name.clone(),
                target,
                link: link_of(&s.name, &s.target),
                profile,
                arrivals: s.arrivals,
                mix,
                sessions: s.sessions,
                timeout: s.timeout.map(|t| t.0),
            });
        }

        // Nodes.
        let mut ops = vec![];
        let mut nodes = vec![];
        for (i, n) in raw.nodes.iter().enumerate() {
            let name = node_names[i];
            let decl = loc.decl(name).map_or(0, |d| d.1);
            let kind = match n {
                RawNode::LoadBalancer {
                    algorithm,
                    backends,
                    ..
                } => {
                    if backends.is_empty() {
                        return Err(cx
                            .err(
                                loc.field_in(name, "backends"),
                                format!("load balancer `{name}` has no backends"),
                            )
                            .with_hint("e.g. backends: [\"web\"]"));
                    }
                    let weights: Vec<f64> = match algorithm {
                        Algorithm::WeightedRoundRobin { weights } => {
                            if weights.len() != backends.len() {
                                return Err(cx
                                    .err(
                                        loc.field_in(name, "weights"),
                                        format!(
                                            "load balancer `{name}`: {} weights for {} backends",
                                            weights.len(),
                                            backends.len()
                                        ),
                                    )
                                    .with_hint("give one weight per backend, in the same order"));
                            }
                            if weights.iter().all(|w| w.0 == 0.0) {
                                return Err(cx
                                    .err(
                                        loc.field_in(name, "weights"),
                                        format!("load balancer `{name}`: the weights sum to 0"),
                                    )
                                    .with_hint("give at least one backend a weight above zero"));
                            }
                            weights.iter().map(|w| w.0).collect()
                        }
                        _ => vec![1.0; backends.len()],
                    };
                    let mut bs = vec![];
                    for (b, w) in backends.iter().zip(weights) {
                        let node = node_index(b)
                            .ok_or_else(|| cx.unknown("node", b, &node_names, decl))?;
                        if !matches!(raw.nodes[node as usize], RawNode::Service { .. }) {
                            return Err(cx.err(loc.quoted(b, decl), format!("load balancer `{name}`: backend `{b}` is not a service")).with_hint("a load balancer spreads requests over the instances of service pools"));
                        }
                        bs.push(Backend {
                            node,
                            link: link_of(name, b),
                            weight: w,
                        });
                    }
                    NodeKind::LoadBalancer(LoadBalancer {
                        algorithm: algorithm.clone(),
                        backends: bs,
                    })
                }
                RawNode::Service {
                    instances,
                    cores,
                    queue,
                    on_call,
                    cost_per_hour,
                    handlers,
                    ..
                } => {
                    if *instances == 0 {
                        return Err(cx
                            .err(
                                loc.field_in(name, "instances"),
                                format!("service `{name}` has 0 instances"),
                            )
                            .with_hint("a pool needs at least 1 instance"));
                    }
                    if *instances > MAX_INSTANCES {
                        return Err(cx
                            .err(loc.field_in(name, "instances"), format!("service `{name}` has {instances} instances, more than the limit of {MAX_INSTANCES}"))
                            .with_hint("model a very large pool with fewer, bigger instances (more cores)"));
                    }
                    if *cores > MAX_CORES {
                        return Err(cx
                            .err(loc.field_in(name, "cores"), format!("service `{name}` has {cores} cores per instance, more than the limit of {MAX_CORES}"))
                            .with_hint("use more instances instead"));
                    }
                    if *cores == 0 {
                        return Err(cx
                            .err(
                                loc.field_in(name, "cores"),
                                format!("service `{name}` has 0 cores"),
                            )
                            .with_hint("each instance needs at least 1 worker"));
                    }
                    if handlers.is_empty() {
                        return Err(cx
                            .err(
                                loc.field_in(name, "handlers"),
                                format!("service `{name}` has no handlers"),
                            )
                            .with_hint("e.g. handlers: {\"*\": [Cpu(Exp(\"10ms\"))]}"));
                    }
                    let mut per_class: Vec<Option<Handler>> = vec![None; classes.len()];
                    let mut wildcard = None;
                    for (class, steps) in handlers {
                        let at = loc.quoted(class, decl).map_or(decl, |x| x.0);
                        let resolved = resolve_steps(
                            steps,
                            name,
                            &cx,
                            &node_index,
                            &node_names,
                            &mut link_of,
                            at,
                        )?;
                        let start = ops.len() as u32;
                        compile(&resolved, &mut ops);
                        ops.push(Op::End);
                        let h = Handler {
                            start,
                            steps: resolved,
                        };
                        if class == "*" {
                            wildcard = Some(h);
                        } else if let Some(c) = classes.iter().position(|x| x == class) {
                            per_class[c] = Some(h);
                        } else {
                            let e = cx.err(loc.quoted(class, decl), format!("service `{name}` has a handler for `{class}`, which no source sends"));
                            return Err(match did_you_mean(class, class_names.iter().copied()) {
                                Some(s) => e.with_hint(format!("did you mean `{s}`?")),
                                None => e.with_hint(format!(
                                    "classes: {}; use \"*\" for all",
                                    class_names.join(", ")
                                )),
                            });
                        }
                    }
                    if let Some(w) = wildcard {
                        for h in per_class.iter_mut().filter(|h| h.is_none()) {
                            *h = Some(w.clone());
                        }
                    }
                    NodeKind::Service(Service {
                        instances: *instances,
                        cores: *cores,
                        queue: *queue,
                        on_call: *on_call,
                        cost_per_hour: cost_per_hour.0,
                        handlers: per_class,
                    })
                }
            };
            nodes.push(Node {
                name: name.to_string(),
                kind,
            });
        }

        if let Some(i) = used_links.iter().position(|u| !u) {
            let l = &links[i];
            return Err(cx
                .err(
                    loc.quoted(&l.from, loc.field("links", 0).map_or(0, |s| s.0)),
                    format!("link `{}` -> `{}` matches no edge", l.from, l.to),
                )
                .with_hint(format!(
                    "nothing sends requests from `{}` to `{}`; remove the link or fix the names",
                    l.from, l.to
                )));
        }

        let scenario = Scenario {
            name: raw.name.clone(),
            description: raw.description.clone(),
            seed: raw.seed,
            duration,
            warmup: raw.warmup.0,
            sample_every: raw
                .sample_every
                .map_or(SimTime((duration.0 / 200).max(1_000_000)), |d| d.0),
            max_in_flight: raw.limits.max_in_flight,
            max_events: raw.limits.max_events,
            classes,
            sources,
            nodes,
            links,
            ops,
        };
        if scenario.sample_every == SimTime::ZERO
            || duration.0 / scenario.sample_every.0 > MAX_SAMPLES
        {
            return Err(cx
                .err(
                    loc.field("sample_every", 0),
                    format!(
                        "sample_every ({}) gives more than {MAX_SAMPLES} samples over {duration}",
                        scenario.sample_every
                    ),
                )
                .with_hint("sample less often, e.g. sample_every: \"1s\""));
        }
        scenario.check_cycles(&cx)?;
        scenario.check_coverage(&cx)?;
        Ok(scenario)
    }

    /// Successor node ids of `node` in the call graph (load-balancer backends, calls of
    /// any class).
    pub fn callees(&self, node: u32) -> Vec<u32> {
        let mut out = vec![];
        for c in 0..self.classes.len() {
            out.extend(self.class_callees(node, c));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Nodes a request of `class` can go to next from `node`.
    pub fn class_callees(&self, node: u32, class: usize) -> Vec<u32> {
        fn walk(steps: &[Step], out: &mut Vec<u32>) {
            for s in steps {
                match s {
                    Step::Cpu(_) => {}
                    Step::Call { node, .. } => out.push(*node),
                    Step::Branch {
                        then, otherwise, ..
                    } => {
                        walk(then, out);
                        walk(otherwise, out);
                    }
                }
            }
        }
        let mut out = vec![];
        match &self.nodes[node as usize].kind {
            NodeKind::LoadBalancer(lb) => out.extend(lb.backends.iter().map(|b| b.node)),
            NodeKind::Service(s) => {
                if let Some(h) = &s.handlers[class] {
                    walk(&h.steps, &mut out);
                }
            }
        }
        out
    }

    fn check_cycles(&self, cx: &Ctx) -> Result<(), ScenarioError> {
        let mut g = DiGraph::<u32, ()>::new();
        let ids: Vec<_> = (0..self.nodes.len() as u32)
            .map(|i| g.add_node(i))
            .collect();
        for i in 0..self.nodes.len() as u32 {
            for c in self.callees(i) {
                g.add_edge(ids[i as usize], ids[c as usize], ());
            }
        }
        for scc in petgraph::algo::kosaraju_scc(&g) {
            let self_loop = scc.len() == 1 && g.contains_edge(scc[0], scc[0]);
            if scc.len() > 1 || self_loop {
                // Walk the cycle in call order for the message.
                let members: Vec<u32> = scc.iter().map(|n| g[*n]).collect();
                let start = *members.iter().min().unwrap();
                let mut path = vec![start];
                let mut cur = start;
                loop {
                    let next = self
                        .callees(cur)
                        .into_iter()
                        .find(|c| members.contains(c))
                        .unwrap();
                    path.push(next);
                    if next == start || path.len() > members.len() + 1 {
                        break;
                    }
                    cur = next;
                }
                let names: Vec<&str> = path
                    .iter()
                    .map(|&i| self.nodes[i as usize].name.as_str())
                    .collect();
                let last = names[names.len() - 2];
                let span = cx
                    .loc()
                    .decl(last)
                    .and_then(|d| cx.loc().quoted(names[names.len() - 1], d.1));
                return Err(cx
                    .err(span, format!("calls form a cycle with no end: {}", names.join(" → ")))
                    .with_hint("a request would call round this loop for ever; calls must form a tree (DAG)"));
            }
        }
        Ok(())
    }

    fn check_coverage(&self, cx: &Ctx) -> Result<(), ScenarioError> {
        for s in &self.sources {
            for m in &s.mix {
                let mut stack = vec![(s.target, u32::MAX)];
                let mut seen = vec![false; self.nodes.len()];
                while let Some((n, from)) = stack.pop() {
                    if std::mem::replace(&mut seen[n as usize], true) {
                        continue;
                    }
                    let node = &self.nodes[n as usize];
                    if let NodeKind::Service(svc) = &node.kind {
                        if svc.handlers[m.class as usize].is_none() {
                            let class = &self.classes[m.class as usize];
                            let via = if from == u32::MAX {
                                String::new()
                            } else {
                                format!(" via `{}`", self.nodes[from as usize].name)
                            };
                            return Err(cx
                                .err(cx.loc().field_in(&node.name, "handlers"), format!(
                                    "service `{}` has no handler for class `{class}` (sent by source `{}`{via})", node.name, s.name
                                ))
                                .with_hint(format!("add \"{class}\": [...] or a \"*\" handler to `{}`", node.name)));
                        }
                    }
                    for c in self.class_callees(n, m.class as usize) {
                        stack.push((c, n));
                    }
                }
            }
        }
        Ok(())
    }

    /// Call depth of every node: 0 for nodes sources send to, 1 + the caller's depth
    /// otherwise (the longest path; the call graph is acyclic).
    pub fn depths(&self) -> Vec<u32> {
        let mut depth = vec![0u32; self.nodes.len()];
        // Relax edges until stable: at most |nodes| rounds in a DAG; graphs are small.
        for _ in 0..self.nodes.len() {
            let mut changed = false;
            for n in 0..self.nodes.len() as u32 {
                for c in self.callees(n) {
                    if depth[c as usize] < depth[n as usize] + 1 {
                        depth[c as usize] = depth[n as usize] + 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        depth
    }

    /// Replace the run length (from `--duration`); the warm-up must stay shorter.
    pub fn set_duration(&mut self, d: SimTime) -> Result<(), String> {
        if d == SimTime::ZERO {
            return Err("--duration must be above zero".into());
        }
        if self.warmup >= d {
            return Err(format!(
                "--duration {d} is not longer than the scenario's warmup ({})",
                self.warmup
            ));
        }
        self.duration = d;
        Ok(())
    }
}

fn node_name(n: &RawNode) -> &str {
    match n {
        RawNode::LoadBalancer { name, .. } | RawNode::Service { name, .. } => name,
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_steps(
    steps: &[RawStep],
    owner: &str,
    cx: &Ctx,
    node_index: &dyn Fn(&str) -> Option<u32>,
    node_names: &[&str],
    link_of: &mut dyn FnMut(&str, &str) -> u32,
    at: usize,
) -> Result<Vec<Step>, ScenarioError> {
    let mut out = vec![];
    for s in steps {
        out.push(match s {
            RawStep::Cpu(d) => Step::Cpu(Dist::from_raw(d).map_err(|m| {
                cx.err(
                    cx.loc().field(d_field(d), at).or(cx.loc().decl(owner)),
                    format!("service `{owner}`: {m}"),
                )
            })?),
            RawStep::Call(target) => {
                let node =
                    node_index(target).ok_or_else(|| cx.unknown("node", target, node_names, at))?;
                Step::Call {
                    node,
                    link: link_of(owner, target),
                }
            }
            RawStep::Branch { p, then, otherwise } => Step::Branch {
                p: p.0,
                then: resolve_steps(then, owner, cx, node_index, node_names, link_of, at)?,
                otherwise: resolve_steps(
                    otherwise, owner, cx, node_index, node_names, link_of, at,
                )?,
            },
        });
    }
    Ok(out)
}

fn d_field(d: &RawDist) -> &'static str {
    match d {
        RawDist::LogNormal { .. } => "p99",
        RawDist::Erlang { .. } => "k",
        RawDist::Uniform { .. } => "max",
        _ => "Cpu",
    }
}

fn compile(steps: &[Step], ops: &mut Vec<Op>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::RngStreams;

    #[test]
    fn key_distributions_match_their_laws() {
        let mut rng = RngStreams::new(5).get("keys");
        let draws = 200_000;
        // Zipf(n = 100, s = 1.1): P(key k) = (k+1)^-s / H(n, s).
        let (n, skew) = (100u64, 1.1);
        let z = KeyDist::Zipf(rand_distr::Zipf::new(n as f64, skew).unwrap());
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        let h: f64 = (1..=n).map(|k| (k as f64).powf(-skew)).sum();
        for k in [0usize, 1, 9, 99] {
            let p = ((k + 1) as f64).powf(-skew) / h;
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            let got = counts[k] as f64 / draws as f64;
            assert!(
                (got - p).abs() < 5.0 * sd,
                "Zipf key {k}: {got:.5} vs {p:.5}"
            );
        }
        let u = KeyDist::Uniform(10);
        let mut c = [0u64; 10];
        for _ in 0..draws {
            c[u.sample(&mut rng) as usize] += 1;
        }
        assert!(
            c.iter()
                .all(|&x| (x as f64 / draws as f64 - 0.1).abs() < 0.005),
            "{c:?}"
        );
    }
}

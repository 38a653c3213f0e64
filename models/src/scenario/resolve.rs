//! Validation: a [`RawScenario`] becomes a [`Scenario`] the engine can run without further
//! checks — names resolved to typed ids, defaults filled, handler programs compiled to
//! flat op lists, the call graph proven acyclic, every class handled wherever it can go.
//!
//! Each node validates itself ([`crate::components::RawConfig::validate`]) with the help
//! of a [`Resolver`]: name lookups with did-you-mean, links, classes, error locations.

use super::dist::Dist;
use super::error::{did_you_mean, ErrorKind, Locator, ScenarioError};
use super::profile::Profile;
use super::program::{compile, Handler, Op, Step};
use super::raw::{Keys, RawNode, RawScenario};
use super::{KeyDist, Link, MixEntry, Node, Scenario, Source, MAX_SAMPLES};
use crate::analysis::slo::Slo;
use crate::components::{dispatch, RawConfig};
use crate::control::actions::Action;
use crate::ids::{ClassId, LinkId, NodeId};
use sim_core::SimTime;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a component's validation may ask: where things are in the file, which names
/// exist, which links were declared. Also collects the compiled handler programs.
pub struct Resolver<'a> {
    file: &'a str,
    src: &'a Arc<str>,
    raw: &'a RawScenario,
    node_names: Vec<&'a str>,
    classes: Vec<String>,
    class_index: BTreeMap<String, usize>,
    link_index: BTreeMap<(String, String), usize>,
    used_links: Vec<bool>,
    ops: Vec<Op>,
    /// Calls with a timeout or retries, in the order met.
    pub(crate) calls: Vec<super::program::CallPolicy>,
}

impl<'a> Resolver<'a> {
    /// An error at `span` (byte range), with this file's text for the snippet.
    pub fn err(&self, span: Option<(usize, usize)>, msg: impl Into<String>) -> ScenarioError {
        let mut e = ScenarioError::new(ErrorKind::Invalid, self.file, msg);
        e.source = Some(self.src.clone());
        e.span = span;
        e
    }

    /// Finds spans in the file's text.
    pub fn loc(&self) -> Locator<'_> {
        Locator { src: self.src }
    }

    /// Byte offset just past the declaration `name: "<name>"` (0 if not found).
    pub fn decl(&self, name: &str) -> usize {
        self.loc().decl(name).map_or(0, |d| d.1)
    }

    /// "unknown node `x`" with a did-you-mean over `known`, located after `from`.
    pub fn unknown(&self, what: &str, name: &str, known: &[&str], from: usize) -> ScenarioError {
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

    /// The node called `name`, or a located "unknown node" error.
    pub fn node(&self, name: &str, from: usize) -> Result<NodeId, ScenarioError> {
        self.node_names
            .iter()
            .position(|n| *n == name)
            .map(NodeId::new)
            .ok_or_else(|| self.unknown("node", name, &self.node_names, from))
    }

    /// Whether node `id` is a service pool.
    pub fn is_service(&self, id: NodeId) -> bool {
        matches!(self.raw.nodes[id.index()], RawNode::Service(_))
    }

    /// The scenario as written.
    pub fn raw(&self) -> &'a RawScenario {
        self.raw
    }

    /// The raw node `id`.
    pub fn raw_node(&self, id: NodeId) -> &RawNode {
        &self.raw.nodes[id.index()]
    }

    /// Every class, in order of first appearance in the sources.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The file's name as given (errors, and finding files relative to it).
    pub fn file(&self) -> &str {
        self.file
    }

    /// Class `c`'s name.
    pub fn class_name(&self, c: ClassId) -> &str {
        &self.classes[c.index()]
    }

    /// The class called `name`.
    pub fn class(&self, name: &str) -> Option<ClassId> {
        self.class_index.get(name).map(|&i| ClassId::new(i))
    }

    /// "`message`" for an unknown class, located after `from`, with a did-you-mean.
    pub fn unknown_class(&self, name: &str, from: usize, message: String) -> ScenarioError {
        let e = self.err(self.loc().quoted(name, from), message);
        match did_you_mean(name, self.classes.iter().map(String::as_str)) {
            Some(s) => e.with_hint(format!("did you mean `{s}`?")),
            None => e.with_hint(format!(
                "classes: {}; use \"*\" for all",
                self.classes.join(", ")
            )),
        }
    }

    /// The link declared for the edge `from -> to`, if any (and mark it used).
    pub fn link_of(&mut self, from: &str, to: &str) -> Option<LinkId> {
        let &i = self.link_index.get(&(from.to_string(), to.to_string()))?;
        self.used_links[i] = true;
        Some(LinkId::new(i))
    }

    /// The declared link `from → to`, if any (without marking it used).
    pub fn find_link(&self, from: &str, to: &str) -> Option<LinkId> {
        let &i = self.link_index.get(&(from.to_string(), to.to_string()))?;
        Some(LinkId::new(i))
    }

    /// Compile a handler's resolved steps into the scenario's op list.
    pub fn compile(&mut self, steps: Vec<Step>) -> Handler {
        let start = self.ops.len() as u32;
        compile(&steps, &mut self.ops);
        self.ops.push(Op::End);
        Handler { start, steps }
    }
}

/// Most request classes in a scenario (each keeps a ~37 KB latency histogram per run).
pub const MAX_CLASSES: usize = 1_000;
/// Most sources in a scenario.
pub const MAX_SOURCES: usize = 10_000;
/// Most nodes in a scenario (each keeps a ~37 KB sojourn histogram per run).
pub const MAX_NODES: usize = 1_000;

/// Longest name (of a source, node, class or zone), in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// A name typed on a command line or read in a dotted path (a variant, an alert): one or
/// more letters, digits, `-` and `_`.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

impl Resolver<'_> {
    /// A name must be 1 to [`MAX_NAME_CHARS`] characters with no control characters (a
    /// newline or tab would break the report's tables and the JSON's readers).
    pub fn check_name(&self, what: &str, name: &str) -> Result<(), ScenarioError> {
        let bad = if name.is_empty() {
            Some(format!("a {what} name is empty"))
        } else if name.chars().count() > MAX_NAME_CHARS {
            Some(format!(
                "the {what} name `{}…` is longer than {MAX_NAME_CHARS} characters",
                name.chars().take(20).collect::<String>()
            ))
        } else if name.chars().any(char::is_control) {
            Some(format!("the {what} name {name:?} has a control character"))
        } else {
            None
        };
        match bad {
            None => Ok(()),
            Some(m) => {
                // Written with escapes (`"a\nb"`): look for the escaped form, preferring
                // its declaration `name: "..."`.
                let escaped = format!("{name:?}");
                let src = self.loc().src;
                let mut span = None;
                let mut from = 0;
                while let Some(i) = src.get(from..).and_then(|t| t.find(&escaped)) {
                    let at = (from + i, from + i + escaped.len());
                    let line_start = src[..at.0].rfind('\n').map_or(0, |k| k + 1);
                    if src[line_start..at.0].contains("//") {
                        from = at.1; // in a comment
                        continue;
                    }
                    span = span.or(Some(at));
                    if src[..at.0]
                        .trim_end()
                        .strip_suffix(':')
                        .is_some_and(|b| b.trim_end().ends_with("name"))
                    {
                        span = Some(at);
                        break;
                    }
                    from = at.1;
                }
                let span = span.or(self.loc().field("name", 0));
                Err(self.err(span, m).with_hint(
                    "names are 1 to 128 characters: letters, digits, spaces, - _ . / ...",
                ))
            }
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
        let mut r = Resolver {
            file,
            src,
            raw,
            node_names: raw.nodes.iter().map(RawNode::name).collect(),
            classes: vec![],
            class_index: BTreeMap::new(),
            link_index: BTreeMap::new(),
            used_links: vec![],
            ops: vec![],
            calls: vec![],
        };
        let loc = Locator { src };
        let duration = raw.duration.0;
        if duration == SimTime::ZERO {
            return Err(r
                .err(loc.field("duration", 0), "duration must be above zero")
                .with_hint("e.g. duration: \"10m\""));
        }
        if raw.warmup.0 >= duration {
            return Err(r
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
            return Err(r.err(
                loc.field("max_in_flight", 0),
                "limits.max_in_flight must be at least 1",
            ));
        }
        if raw.sources.is_empty() {
            return Err(r
                .err(
                    loc.field("sources", 0),
                    "no sources: nothing sends requests",
                )
                .with_hint("add a Source(...)"));
        }
        for (what, n, max) in [
            ("sources", raw.sources.len(), MAX_SOURCES),
            ("nodes", raw.nodes.len(), MAX_NODES),
        ] {
            if n > max {
                return Err(r
                    .err(
                        loc.field(what, 0),
                        format!("{n} {what}, more than the limit of {max}"),
                    )
                    .with_hint("model many similar things as one with a bigger rate or pool"));
            }
        }
        if raw.nodes.is_empty() {
            return Err(r
                .err(loc.field("nodes", 0), "no nodes: nothing to simulate")
                .with_hint("add a Service(...)"));
        }

        // Names: unique across sources and nodes.
        let mut seen = BTreeMap::new();
        for name in raw
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .chain(r.node_names.iter().copied())
        {
            r.check_name("source or node", name)?;
            if seen.insert(name, ()).is_some() {
                let first = loc.decl(name).map_or(0, |s| s.1);
                let span = loc.quoted(name, first).or(loc.decl(name));
                return Err(r
                    .err(span, format!("the name `{name}` is used twice"))
                    .with_hint("names of sources and nodes must be unique"));
            }
        }

        // Classes, in order of first appearance (a map for lookups: many classes stay fast).
        let mut class_index: BTreeMap<String, usize> = BTreeMap::new();
        for s in &raw.sources {
            let names = s.mix.iter().map(|c| c.name.as_str());
            let names: Vec<&str> = if s.mix.is_empty() {
                vec!["default"]
            } else {
                names.collect()
            };
            for name in names {
                if class_index.contains_key(name) {
                    continue;
                }
                r.check_name("class", name)?;
                let after = loc.field("sources", 0).map_or(0, |f| f.1);
                if name == "*" {
                    return Err(r
                        .err(loc.quoted(name, after), "a class cannot be called \"*\"")
                        .with_hint("\"*\" in handlers means every class not listed; name the class otherwise"));
                }
                if class_index.len() >= MAX_CLASSES {
                    return Err(r
                        .err(loc.quoted(name, after), format!("more than {MAX_CLASSES} request classes"))
                        .with_hint("classes are kinds of request (browse, checkout); keys and sessions model many users or items"));
                }
                class_index.insert(name.to_string(), r.classes.len());
                r.classes.push(name.to_string());
            }
        }
        r.class_index = class_index;

        // Links.
        let mut links = vec![];
        // Each link is located at its own `Link(`, counted from `links:` on.
        let mut link_at = loc.field("links", 0).map_or(0, |s| s.1);
        for l in &raw.links {
            link_at = src
                .get(link_at..)
                .and_then(|t| t.find("Link("))
                .map_or(link_at, |i| link_at + i + 1);
            let at = link_at - 1;
            let known: Vec<&str> = raw
                .sources
                .iter()
                .map(|s| s.name.as_str())
                .chain(r.node_names.iter().copied())
                .collect();
            if !known.contains(&l.from.as_str()) {
                return Err(r.unknown("source or node", &l.from, &known, at));
            }
            r.node(&l.to, at)?;
            let latency = Dist::from_raw(&l.latency)
                .map_err(|m| r.err(loc.field("latency", at), m.to_string()))?;
            if r.link_index
                .insert((l.from.clone(), l.to.clone()), links.len())
                .is_some()
            {
                return Err(r.err(
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
        r.used_links = vec![false; links.len()];

        // What each class does to its key: one op per class, wherever it is sent from.
        let mut class_ops = vec![None; r.classes.len()];
        for s in &raw.sources {
            for c in &s.mix {
                let i = r.class(&c.name).expect("collected above").index();
                match class_ops[i] {
                    None => class_ops[i] = Some(c.op),
                    Some(op) if op != c.op => {
                        return Err(r
                            .err(
                                loc.field("op", loc.quoted(&c.name, loc.decl(&s.name).map_or(0, |d| d.1)).map_or(0, |x| x.0)),
                                format!("class `{}` is a {op:?} in one source and a {:?} in another", c.name, c.op),
                            )
                            .with_hint("a class does one thing to its key; give the other a name of its own"));
                    }
                    Some(_) => {}
                }
            }
        }
        let class_ops: Vec<super::raw::KeyOp> = class_ops
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();

        // Sources.
        let horizon_s = duration.as_secs_f64();
        let mut sources = vec![];
        for s in &raw.sources {
            let decl = r.decl(&s.name);
            let target = r.node(&s.target, decl)?;
            let is_trace = matches!(s.rate, super::raw::RawProfile::Trace { .. });
            let mut profile = if is_trace {
                Profile::Linear(vec![(0.0, 0.0)]) // read below, once the mix is known
            } else {
                Profile::from_raw(&s.rate, horizon_s).map_err(|m| {
                    r.err(loc.field("rate", decl), format!("source `{}`: {m}", s.name))
                        .with_hint(
                            "rates are requests per second and must be above zero somewhere in the run",
                        )
                })?
            };
            let mut mix = vec![];
            if s.mix.is_empty() {
                mix.push(MixEntry {
                    class: r.class("default").expect("added above"),
                    share: 1.0,
                    cum: 1.0,
                    keys: KeyDist::Uniform(1_000_000),
                });
            } else {
                if let Some(c) = s.mix.iter().find(|c| c.weight.0 > super::raw::MAX_WEIGHT) {
                    return Err(r
                        .err(
                            loc.field("weight", loc.quoted(&c.name, decl).map_or(decl, |x| x.0)),
                            format!(
                                "class `{}`: weight {:e} is above {:e}",
                                c.name,
                                c.weight.0,
                                super::raw::MAX_WEIGHT
                            ),
                        )
                        .with_hint(
                            "weights are relative: 3 and 1 send three quarters to the first",
                        ));
                }
                let total: f64 = s.mix.iter().map(|c| c.weight.0).sum();
                if total <= 0.0 {
                    return Err(r
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
                            KeyDist::Zipf {
                                dist: rand_distr::Zipf::new(n as f64, skew).map_err(|e| {
                                    r.err(loc.field("keys", at), format!("Zipf: {e}"))
                                })?,
                                n,
                                s: skew,
                            }
                        }
                        _ => {
                            return Err(r
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
                    mix.push(MixEntry {
                        class: r.class(&c.name).expect("collected above"),
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
                return Err(r.err(
                    loc.field("sessions", decl),
                    format!("source `{}`: sessions must be at least 1", s.name),
                ));
            }
            if let Some(t) = s.timeout {
                if t.0 == SimTime::ZERO {
                    return Err(r.err(
                        loc.field("timeout", decl),
                        format!("source `{}`: timeout must be above zero", s.name),
                    ));
                }
            }
            let retry = match &s.retry {
                None => super::program::RetryPolicy::ONCE,
                Some(rt) => super::program::RetryPolicy::validate(
                    rt,
                    &format!("source `{}`", s.name),
                    &r,
                    decl,
                    loc.decl(&s.name),
                )?,
            };
            let mut trace = None;
            if let super::raw::RawProfile::Trace { file, speed } = &s.rate {
                let classes = mix
                    .iter()
                    .map(|m| (r.class_name(m.class).to_string(), m.class))
                    .collect();
                let at = loc.field("rate", decl);
                let t = super::trace::load(file, *speed, r.file(), classes, horizon_s).map_err(
                    |(m, hint)| {
                        r.err(at, format!("source `{}`: {m}", s.name))
                            .with_hint(hint)
                    },
                )?;
                profile = t
                    .profile
                    .check(horizon_s)
                    .map_err(|m| r.err(at, format!("source `{}`: trace `{file}`: {m}", s.name)))?;
                trace = t.requests;
            }
            let link = r.link_of(&s.name, &s.target);
            sources.push(Source {
                name: s.name.clone(),
                target,
                link,
                profile,
                arrivals: s.arrivals,
                mix,
                sessions: s.sessions,
                timeout: s.timeout.map(|t| t.0),
                zone: 0,
                retry,
                trace,
            });
        }

        // Nodes: each validates itself.
        let mut nodes = vec![];
        for n in &raw.nodes {
            let kind = dispatch!(n, RawNode, c => c.validate(&mut r))?;
            nodes.push(Node {
                name: n.name().to_string(),
                kind,
            });
        }

        let total: u64 = nodes
            .iter()
            .map(|n: &Node| n.kind.as_service().map_or(0, |s| s.instances as u64))
            .sum();
        let max_total = crate::components::service::MAX_TOTAL_INSTANCES;
        if total > max_total {
            return Err(r
                .err(
                    loc.field("nodes", 0),
                    format!("the pools have {total} instances together, more than the limit of {max_total}"),
                )
                .with_hint("model very large pools with fewer, bigger instances (more cores)"));
        }
        if let Some(i) = r.used_links.iter().position(|u| !u) {
            let l = &links[i];
            return Err(r
                .err(
                    loc.quoted(&l.from, loc.field("links", 0).map_or(0, |s| s.0)),
                    format!("link `{}` -> `{}` matches no edge", l.from, l.to),
                )
                .with_hint(format!(
                    "nothing sends requests from `{}` to `{}`; remove the link or fix the names",
                    l.from, l.to
                )));
        }

        let sample_every = raw
            .sample_every
            .map_or(SimTime((duration.0 / 200).max(1_000_000)), |d| d.0);
        if sample_every == SimTime::ZERO || duration.0 / sample_every.0 > MAX_SAMPLES {
            return Err(r
                .err(
                    loc.field("sample_every", 0),
                    format!(
                        "sample_every ({sample_every}) gives more than {MAX_SAMPLES} samples over {duration}"
                    ),
                )
                .with_hint("sample less often, e.g. sample_every: \"1s\""));
        }

        let mut scenario = Scenario {
            name: raw.name.clone(),
            description: raw.description.clone(),
            seed: raw.seed,
            duration,
            warmup: raw.warmup.0,
            sample_every,
            max_in_flight: raw.limits.max_in_flight,
            max_events: raw.limits.max_events,
            classes: r.classes.clone(),
            class_ops,
            sources,
            nodes,
            links,
            ops: std::mem::take(&mut r.ops),
            calls: std::mem::take(&mut r.calls),
            actions: vec![],
            deploys: vec![],
            slos: vec![],
            expect: vec![],
            alerts: vec![],
            topic: raw.topic.clone().unwrap_or_default(),
            lesson: raw.lesson.clone().unwrap_or_default(),
            breaks: vec![],
            variants: vec![],
            zones: vec![],
            faults: vec![],
            regions: Default::default(),
            crossing: None,
            chaos: None,
        };
        let mut zones: Vec<String> = scenario
            .nodes
            .iter()
            .filter_map(|n| n.kind.as_service())
            .flat_map(|s| s.zones.iter().cloned())
            .collect();
        zones.sort();
        zones.dedup();
        if zones.len() >= u16::MAX as usize {
            return Err(r
                .err(
                    loc.field("nodes", 0),
                    format!("{} zones, more than {}", zones.len(), u16::MAX - 1),
                )
                .with_hint("zones are places (availability zones, regions); model fewer"));
        }
        scenario.zones = zones;
        for (i, s) in raw.sources.iter().enumerate() {
            if let Some(zone) = &s.zone {
                let id = scenario.zone_id(zone);
                if id == 0 {
                    return Err(r
                        .err(
                            loc.field_in(&s.name, "zone"),
                            format!("source `{}`: no service runs in zone `{zone}`", s.name),
                        )
                        .with_hint(if scenario.zones.is_empty() {
                            "give services zones: [...] first".to_string()
                        } else {
                            format!("zones of services: {}", scenario.zones.join(", "))
                        }));
                }
                scenario.sources[i].zone = id;
            }
        }
        (scenario.regions, scenario.crossing) =
            super::zones::validate(&raw.regions, raw.crossing.as_ref(), &scenario, &r)?;
        let requests = scenario.expected_requests(duration);
        if requests > super::MAX_EXPECTED_REQUESTS && scenario.max_events.is_none() {
            return Err(r
                .err(
                    loc.field("duration", 0),
                    format!(
                        "this run would simulate about {requests:.1e} requests, more than {:e}",
                        super::MAX_EXPECTED_REQUESTS
                    ),
                )
                .with_hint("shorten the duration or lower the rates; or set limits: (max_events: N) to accept a run cut at N events"));
        }
        scenario.check_cycles(&r)?;
        scenario.check_coverage(&r)?;
        (scenario.actions, scenario.deploys) = Action::validate_all(&raw.actions, &scenario, &r)?;
        scenario.slos = Slo::validate_all(&raw.slos, &scenario, &r)?;
        scenario.expect = crate::analysis::expect::Expect::validate_all(&raw.expect, &r)?;
        scenario.alerts = crate::analysis::alerts::Alert::validate_all(&raw.alerts, &scenario, &r)?;
        scenario.breaks = super::variants::breaks(&raw.breaks, "breaks", &scenario, &r)?;
        scenario.variants = super::variants::validate(&raw.variants, &scenario, &r)?;
        scenario.faults = crate::control::faults::Fault::validate_all(&raw.faults, &scenario, &r)?;
        if let Some(c) = &raw.chaos {
            scenario.chaos = Some(crate::control::chaos::ChaosSpace::validate(
                c, &scenario, &r,
            )?);
        }
        Ok(scenario)
    }

    /// Add `extra` faults written in another file (`file`, text `src`): validated against
    /// this scenario (validated from `raw`), with errors pointing into that file. They
    /// come after the scenario's own.
    pub fn add_faults(
        &mut self,
        raw: &RawScenario,
        extra: &[crate::control::faults::RawFaultTimed],
        file: &str,
        src: &Arc<str>,
    ) -> Result<(), ScenarioError> {
        let r = Resolver {
            file,
            src,
            raw,
            node_names: raw.nodes.iter().map(RawNode::name).collect(),
            classes: self.classes.clone(),
            class_index: BTreeMap::new(),
            link_index: self
                .links
                .iter()
                .enumerate()
                .map(|(i, l)| ((l.from.clone(), l.to.clone()), i))
                .collect(),
            used_links: vec![],
            ops: vec![],
            calls: vec![],
        };
        let mut all = crate::control::faults::Fault::validate_all(extra, self, &r)?;
        if self.faults.len() + all.len() > crate::control::faults::MAX_FAULTS {
            return Err(r
                .err(
                    None,
                    format!(
                        "more than {} faults in all",
                        crate::control::faults::MAX_FAULTS
                    ),
                )
                .with_hint("for many random failures use one ChaosMonkey"));
        }
        self.faults.append(&mut all);
        Ok(())
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
        let z = KeyDist::Zipf {
            dist: rand_distr::Zipf::new(n as f64, skew).unwrap(),
            n,
            s: skew,
        };
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

//! The scenario's `chaos`: a space of fault schedules for `scalelab chaos` to draw from.
//!
//! ```ron
//! chaos: Chaos(
//!     faults: [KillInstances(count: 2), ZoneOutage, NodeLatency(extra: Exp("500ms"))],
//!     nodes: ["web", "orders-db"],        // the nodes node faults may hit
//!     window: ("10m", "50m"),             // faults start in here
//!     hold: ("1m", "5m"),                 // and hold this long (default 1m to 5m)
//!     at_once: 2,                         // faults per schedule (default 1)
//! )
//! ```
//!
//! A schedule is `at_once` faults, each a template drawn uniformly, on a node drawn
//! uniformly among the listed nodes it applies to (a zone, region or pair of zones for
//! the place faults), starting at a whole second drawn uniformly in the window and
//! holding a whole number of seconds drawn uniformly in `hold` (cut at the end of the
//! run). Schedules are written as the scenario's own `faults` list, so a schedule replays
//! with `scalelab run FILE --faults schedule.ron` exactly as it ran.

use super::faults::{RawFault, RawFaultTimed};
use crate::components::NodeKind;
use crate::ids::NodeId;
use crate::scenario::dist::Dist;
use crate::scenario::raw::{Dur, RawDist};
use crate::scenario::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::{SimTime, Stream};

/// Most faults per schedule.
pub const MAX_AT_ONCE: u32 = 100;

/// The chaos space as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Chaos")]
pub struct RawChaos {
    /// Fault templates (the node, zone or region is drawn).
    pub faults: Vec<RawTemplate>,
    /// Nodes the node faults may hit. Default: every node.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Faults start in this window: `("10m", "50m")`.
    pub window: (Dur, Dur),
    /// How long each holds: `("1m", "5m")` (the default).
    #[serde(default = "default_hold")]
    pub hold: (Dur, Dur),
    /// Faults per schedule. Default: 1.
    #[serde(default = "one")]
    pub at_once: u32,
}

fn default_hold() -> (Dur, Dur) {
    (Dur(SimTime::from_secs(60)), Dur(SimTime::from_secs(300)))
}
fn one() -> u32 {
    1
}

/// A fault with its target left to draw.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawTemplate {
    /// Kill `count` instances of a service (a cache restarts empty).
    KillInstances {
        /// How many.
        count: u32,
    },
    /// A zone goes down.
    ZoneOutage,
    /// A region goes down.
    RegionOutage,
    /// A service's CPU at `factor` of its speed.
    Degrade {
        /// Speed factor in (0, 1].
        factor: f64,
    },
    /// That share of a node's arrivals fail.
    ErrorInjection {
        /// Share in [0, 1].
        fraction: f64,
    },
    /// A node's arrivals wait `extra` first.
    NodeLatency {
        /// Extra delay.
        extra: RawDist,
    },
    /// A cache is emptied.
    CacheFlush,
    /// A database's primary fails.
    DatabaseFailover,
    /// Two zones cannot reach each other.
    Partition,
}

impl RawTemplate {
    /// Whether it hits a node of kind `k` (`None`: it hits a place, not a node).
    fn fits(&self, k: &NodeKind) -> Option<bool> {
        Some(match self {
            RawTemplate::KillInstances { .. } => {
                matches!(k, NodeKind::Service(_) | NodeKind::Cache(_))
            }
            RawTemplate::Degrade { .. } => matches!(k, NodeKind::Service(_)),
            RawTemplate::ErrorInjection { .. } | RawTemplate::NodeLatency { .. } => true,
            RawTemplate::CacheFlush => matches!(k, NodeKind::Cache(_)),
            RawTemplate::DatabaseFailover => matches!(k, NodeKind::Database(_)),
            RawTemplate::ZoneOutage | RawTemplate::RegionOutage | RawTemplate::Partition => {
                return None
            }
        })
    }

    fn label(&self) -> &'static str {
        match self {
            RawTemplate::KillInstances { .. } => "KillInstances",
            RawTemplate::ZoneOutage => "ZoneOutage",
            RawTemplate::RegionOutage => "RegionOutage",
            RawTemplate::Degrade { .. } => "Degrade",
            RawTemplate::ErrorInjection { .. } => "ErrorInjection",
            RawTemplate::NodeLatency { .. } => "NodeLatency",
            RawTemplate::CacheFlush => "CacheFlush",
            RawTemplate::DatabaseFailover => "DatabaseFailover",
            RawTemplate::Partition => "Partition",
        }
    }
}

/// A validated chaos space.
#[derive(Debug, Clone)]
pub struct ChaosSpace {
    /// Templates, each with the names of the nodes it may hit (empty for place faults).
    pub templates: Vec<(RawTemplate, Vec<String>)>,
    /// Start window.
    pub window: (SimTime, SimTime),
    /// Hold range.
    pub hold: (SimTime, SimTime),
    /// Faults per schedule.
    pub at_once: u32,
}

impl ChaosSpace {
    /// Validate the file's `chaos`.
    pub fn validate(
        raw: &RawChaos,
        sc: &Scenario,
        r: &Resolver,
    ) -> Result<ChaosSpace, ScenarioError> {
        let loc = r.loc();
        let at = loc.field("chaos", 0).map_or(0, |s| s.1);
        let field = |f: &str| loc.field(f, at).or(loc.field("chaos", 0));
        if raw.faults.is_empty() {
            return Err(r
                .err(field("faults"), "chaos: no fault templates")
                .with_hint("e.g. faults: [KillInstances(count: 1), ZoneOutage]"));
        }
        if !(1..=MAX_AT_ONCE).contains(&raw.at_once) {
            return Err(r
                .err(
                    field("at_once"),
                    format!(
                        "chaos: at_once must be 1 to {MAX_AT_ONCE}, found {}",
                        raw.at_once
                    ),
                )
                .with_hint("faults per drawn schedule, e.g. at_once: 2"));
        }
        let (w0, w1) = (raw.window.0 .0, raw.window.1 .0);
        if w1 < w0 || w1 >= sc.duration {
            return Err(r
                .err(
                    field("window"),
                    format!(
                        "chaos: window ({w0}, {w1}) must run forwards and end before the end of the run ({})",
                        sc.duration
                    ),
                )
                .with_hint("e.g. window: (\"10m\", \"50m\") in a 1h run"));
        }
        let (h0, h1) = (raw.hold.0 .0, raw.hold.1 .0);
        if h0 < SimTime::from_secs(1) || h1 < h0 {
            return Err(r
                .err(
                    field("hold"),
                    format!("chaos: hold ({h0}, {h1}) must be at least 1s and run forwards"),
                )
                .with_hint("e.g. hold: (\"1m\", \"5m\")"));
        }
        let mut nodes = vec![];
        for n in &raw.nodes {
            nodes.push(r.node(n, at)?);
        }
        if raw.nodes.is_empty() {
            nodes = (0..sc.nodes.len()).map(NodeId::new).collect();
        }
        let mut templates = vec![];
        for (i, t) in raw.faults.iter().enumerate() {
            let here = Some((
                loc.nth_entry("faults", i, &[t.label()]),
                loc.nth_entry("faults", i, &[t.label()]) + t.label().len(),
            ));
            let bad = |what: String, hint: &str| Err(r.err(here, what).with_hint(hint.to_string()));
            match t {
                RawTemplate::KillInstances { count } if *count == 0 => {
                    return bad(
                        "chaos: KillInstances with count 0 kills nothing".into(),
                        "count: 1 or more",
                    )
                }
                RawTemplate::Degrade { factor } if !(*factor > 0.0 && *factor <= 1.0) => {
                    return bad(
                        format!("chaos: Degrade factor must be in (0, 1], found {factor}"),
                        "e.g. factor: 0.5 (half speed)",
                    )
                }
                RawTemplate::ErrorInjection { fraction } if !(0.0..=1.0).contains(fraction) => {
                    return bad(
                        format!(
                            "chaos: ErrorInjection fraction must be in [0, 1], found {fraction}"
                        ),
                        "e.g. fraction: 0.2",
                    )
                }
                RawTemplate::NodeLatency { extra } => {
                    if let Err(m) = Dist::from_raw(extra) {
                        return bad(
                            format!("chaos: NodeLatency: {m}"),
                            "e.g. extra: Exp(\"500ms\")",
                        );
                    }
                }
                RawTemplate::ZoneOutage if sc.zones.is_empty() => {
                    // (A service without zones is in the zone "default".)
                    return bad(
                        "chaos: ZoneOutage, but no service has zones".into(),
                        "give services zones: [\"a\", \"b\"]",
                    );
                }
                RawTemplate::Partition if sc.zones.len() < 2 => {
                    return bad(
                        "chaos: Partition needs two zones".into(),
                        "give services zones: [\"a\", \"b\"]",
                    )
                }
                RawTemplate::RegionOutage if sc.regions.names.is_empty() => {
                    return bad(
                        "chaos: RegionOutage, but no regions are declared".into(),
                        "declare regions: [Region(name: \"us\", zones: [...])]",
                    )
                }
                _ => {}
            }
            let fit: Vec<String> = nodes
                .iter()
                .filter(|n| t.fits(&sc.nodes[n.index()].kind) == Some(true))
                .map(|n| sc.nodes[n.index()].name.clone())
                .collect();
            if t.fits(&sc.nodes[0].kind).is_some() && fit.is_empty() {
                return bad(
                    format!("chaos: no node in `nodes` that {} can hit", t.label()),
                    "KillInstances: services and caches; Degrade: services; CacheFlush: caches; DatabaseFailover: databases",
                );
            }
            templates.push((t.clone(), fit));
        }
        Ok(ChaosSpace {
            templates,
            window: (w0, w1),
            hold: (h0, h1),
            at_once: raw.at_once,
        })
    }

    /// Draw one schedule from `rng` for a run of `sc`.
    pub fn draw(&self, sc: &Scenario, rng: &mut Stream) -> Vec<RawFaultTimed> {
        let secs = |t: SimTime| t.0 / 1_000_000_000;
        let between = |rng: &mut Stream, a: u64, b: u64| a + rng.below(b - a + 1);
        (0..self.at_once)
            .map(|_| {
                let (t, nodes) = &self.templates[rng.below(self.templates.len() as u64) as usize];
                let pick = |rng: &mut Stream, xs: &[String]| {
                    xs[rng.below(xs.len() as u64) as usize].clone()
                };
                let fault = match t {
                    RawTemplate::KillInstances { count } => RawFault::KillInstances {
                        node: pick(rng, nodes),
                        count: *count,
                    },
                    RawTemplate::Degrade { factor } => RawFault::Degrade {
                        node: pick(rng, nodes),
                        factor: *factor,
                    },
                    RawTemplate::ErrorInjection { fraction } => RawFault::ErrorInjection {
                        node: pick(rng, nodes),
                        fraction: *fraction,
                    },
                    RawTemplate::NodeLatency { extra } => RawFault::NodeLatency {
                        node: pick(rng, nodes),
                        extra: extra.clone(),
                    },
                    RawTemplate::CacheFlush => RawFault::CacheFlush {
                        node: pick(rng, nodes),
                    },
                    RawTemplate::DatabaseFailover => RawFault::DatabaseFailover {
                        node: pick(rng, nodes),
                    },
                    RawTemplate::ZoneOutage => RawFault::ZoneOutage {
                        zone: pick(rng, &sc.zones),
                    },
                    RawTemplate::RegionOutage => RawFault::RegionOutage {
                        region: pick(rng, &sc.regions.names),
                    },
                    RawTemplate::Partition => {
                        let n = sc.zones.len() as u64;
                        let a = rng.below(n);
                        let b = (a + 1 + rng.below(n - 1)) % n;
                        RawFault::Partition {
                            a: sc.zones[a as usize].clone(),
                            b: sc.zones[b as usize].clone(),
                        }
                    }
                };
                let start = between(rng, secs(self.window.0), secs(self.window.1));
                let hold = between(rng, secs(self.hold.0), secs(self.hold.1));
                let end = (start + hold).min(secs(sc.duration));
                let at = |s: u64| Dur(SimTime::from_secs(s));
                if end > start {
                    RawFaultTimed::Between(at(start), at(end), fault)
                } else {
                    RawFaultTimed::At(at(start), fault)
                }
            })
            .collect()
    }
}

/// A schedule as the RON of a scenario's `faults` list, one fault per line.
pub fn to_ron(faults: &[RawFaultTimed]) -> String {
    let mut out = String::from("[\n");
    for f in faults {
        let line = match f {
            RawFaultTimed::At(t, x) => format!("At(\"{}\", {})", t.0, fault_ron(x)),
            RawFaultTimed::Between(a, b, x) => {
                format!("Between(\"{}\", \"{}\", {})", a.0, b.0, fault_ron(x))
            }
        };
        out += &format!("    {line},\n");
    }
    out + "]\n"
}

fn dist_ron(d: &RawDist) -> String {
    match d {
        RawDist::Exp(m) => format!("Exp(\"{}\")", m.0),
        RawDist::Constant(c) => format!("Constant(\"{}\")", c.0),
        RawDist::Uniform { min, max } => format!("Uniform(min: \"{}\", max: \"{}\")", min.0, max.0),
        RawDist::LogNormal { mean, p99 } => {
            format!("LogNormal(mean: \"{}\", p99: \"{}\")", mean.0, p99.0)
        }
        RawDist::Erlang { k, mean } => format!("Erlang(k: {k}, mean: \"{}\")", mean.0),
    }
}

fn fault_ron(f: &RawFault) -> String {
    match f {
        RawFault::KillInstances { node, count } => {
            format!("KillInstances(node: \"{node}\", count: {count})")
        }
        RawFault::ZoneOutage { zone } => format!("ZoneOutage(zone: \"{zone}\")"),
        RawFault::RegionOutage { region } => format!("RegionOutage(region: \"{region}\")"),
        RawFault::Degrade { node, factor } => {
            format!("Degrade(node: \"{node}\", factor: {factor:?})")
        }
        RawFault::ErrorInjection { node, fraction } => {
            format!("ErrorInjection(node: \"{node}\", fraction: {fraction:?})")
        }
        RawFault::NodeLatency { node, extra } => {
            format!("NodeLatency(node: \"{node}\", extra: {})", dist_ron(extra))
        }
        RawFault::LinkLatency { from, to, extra } => format!(
            "LinkLatency(from: \"{from}\", to: \"{to}\", extra: {})",
            dist_ron(extra)
        ),
        RawFault::Partition { a, b } => format!("Partition(a: \"{a}\", b: \"{b}\")"),
        RawFault::CacheFlush { node } => format!("CacheFlush(node: \"{node}\")"),
        RawFault::DatabaseFailover { node } => format!("DatabaseFailover(node: \"{node}\")"),
        RawFault::ChaosMonkey { node, mtbf, mttr } => format!(
            "ChaosMonkey(node: \"{node}\", mtbf: \"{}\", mttr: \"{}\")",
            mtbf.0, mttr.0
        ),
    }
}

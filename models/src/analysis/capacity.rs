//! Static capacity estimate: without simulating, how loaded is each node at the peak rate,
//! which node saturates first, and what throughput does it allow?
//!
//! Per node, offered load λ (visits per second at the sources' peak rates, following load
//! balancer shares, call multiplicities and branch probabilities) and the mean worker time
//! per visit E[S] give `ρ = λ·E[S] / (instances·cores)`. With `on_call: Hold` a worker is
//! also held for the callee's response time, estimated without queueing (a lower bound).
//! The node with the highest ρ is the predicted bottleneck; scaling all sources together,
//! throughput tops out at `peak_rate / ρ_max`.

use crate::ids::{ClassId, LinkId, NodeId};
use crate::scenario::program::Step;
use crate::scenario::Scenario;

/// The estimate for one node.
#[derive(Debug, Clone)]
pub struct NodeEstimate {
    /// Node name.
    pub name: String,
    /// Kind label.
    pub kind: &'static str,
    /// Visits per second at the peak.
    pub offered: f64,
    /// Mean worker time per visit, seconds.
    pub service_s: f64,
    /// Workers (instances × cores; 0 for load balancers).
    pub workers: u64,
    /// Utilisation at the peak (for nodes of several servers, the busiest server's).
    pub rho: f64,
    /// Per server (databases: primaries and replicas), its label and utilisation.
    pub servers: Vec<(String, f64)>,
    /// Findings in words: a hot shard, a queue's backlog growth, a cache's hit ratio.
    pub notes: Vec<String>,
}

/// The whole estimate.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// Per node, scenario order.
    pub nodes: Vec<NodeEstimate>,
    /// Sum of the sources' peak rates.
    pub peak_rate: f64,
    /// Sum of the sources' mean rates over the run.
    pub mean_rate: f64,
    /// Index of the predicted bottleneck.
    pub bottleneck: Option<usize>,
    /// Highest total source rate before the bottleneck saturates.
    pub max_throughput: f64,
}

impl Estimate {
    /// Estimate `sc`.
    pub fn of(sc: &Scenario) -> Estimate {
        let horizon = sc.duration.as_secs_f64();
        let mut flow = Flow {
            sc,
            offered: vec![0.0; sc.nodes.len()],
            demand: vec![0.0; sc.nodes.len()],
            servers: vec![vec![]; sc.nodes.len()],
            shards: vec![vec![]; sc.nodes.len()],
        };
        let mut peak_rate = 0.0;
        let mut mean_rate = 0.0;
        for s in &sc.sources {
            let peak = s.profile.max_rate(horizon);
            peak_rate += peak;
            mean_rate += s.profile.mean_rate(horizon);
            for m in &s.mix {
                flow.visit(s.target, m.class, peak * m.share);
            }
        }
        let nodes: Vec<NodeEstimate> = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let workers = n.kind.workers();
                let mut rho = if workers > 0 {
                    flow.demand[i] / workers as f64
                } else {
                    0.0
                };
                let mut servers = vec![];
                let mut notes = vec![];
                if let crate::components::NodeKind::Database(db) = &n.kind {
                    servers = flow.servers[i]
                        .iter()
                        .enumerate()
                        .map(|(s, d)| (db.server_label(s as u32), d / db.cores as f64))
                        .collect();
                    rho = servers.iter().map(|s| s.1).fold(rho, f64::max);
                    let load = &flow.shards[i];
                    let total: f64 = load.iter().sum();
                    if db.replicas > 0 {
                        let per = (1 + db.replicas) as usize;
                        // Writes per second on each shard's primary → its apply thread.
                        let apply = (0..load.len())
                            .map(|s| flow.servers[i][s * per] / db.write.mean_s() * db.apply.mean_s())
                            .fold(0.0, f64::max);
                        if apply >= 0.8 {
                            notes.push(format!(
                                "replicas apply writes one at a time: the apply thread runs at ρ {apply:.2}{}",
                                if apply >= 1.0 { ", so replica lag grows without bound" } else { ", so replica lag grows under bursts" }
                            ));
                        }
                    }
                    if load.len() > 1 && total > 0.0 {
                        let (hot, l) = load
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                            .expect("shards");
                        if l / total >= 1.5 / load.len() as f64 {
                            notes.push(format!(
                                "hot shard: shard {hot} takes {:.0}% of the requests (an even share is {:.0}%)",
                                100.0 * l / total,
                                100.0 / load.len() as f64
                            ));
                        }
                    }
                }
                if let crate::components::NodeKind::Queue(q) = &n.kind {
                    let c = q.consumer.0.index();
                    let cw = sc.nodes[c].kind.workers() as f64;
                    if cw > 0.0 && flow.offered[c] > 0.0 {
                        let consumer_rho = flow.demand[c] / cw;
                        let capacity = flow.offered[c] / consumer_rho;
                        if consumer_rho >= 1.0 {
                            notes.push(format!(
                                "consumer {} at ρ {consumer_rho:.2}: the backlog grows by about {:.0} messages/s at peak",
                                sc.nodes[c].name,
                                flow.offered[i] - capacity
                            ));
                        } else {
                            notes.push(format!(
                                "consumer {} at ρ {consumer_rho:.2}: keeps up at peak",
                                sc.nodes[c].name
                            ));
                        }
                    }
                }
                let service_s = if flow.offered[i] > 0.0 {
                    flow.demand[i] / flow.offered[i]
                } else {
                    0.0
                };
                NodeEstimate {
                    name: n.name.clone(),
                    kind: n.kind.kind().label(),
                    offered: flow.offered[i],
                    service_s,
                    workers,
                    rho,
                    servers,
                    notes,
                }
            })
            .collect();
        let bottleneck = (0..nodes.len())
            .filter(|&i| nodes[i].workers > 0)
            .max_by(|&a, &b| nodes[a].rho.total_cmp(&nodes[b].rho));
        let max_throughput = match bottleneck {
            Some(b) if nodes[b].rho > 0.0 => peak_rate / nodes[b].rho,
            _ => f64::INFINITY,
        };
        Estimate {
            nodes,
            peak_rate,
            mean_rate,
            bottleneck,
            max_throughput,
        }
    }
}

/// Visits and work flowing through the graph at the sources' peak rates. Components add
/// to it in [`crate::components::Config::visit`].
pub struct Flow<'a> {
    /// The scenario.
    pub sc: &'a Scenario,
    /// Visits per second per node.
    pub offered: Vec<f64>,
    /// Busy workers per node (visits × mean worker time).
    pub demand: Vec<f64>,
    /// Busy workers per server of nodes made of several (databases: primaries and
    /// replicas); empty for the others.
    pub servers: Vec<Vec<f64>>,
    /// Requests per second per shard (sharded databases); empty for the others.
    pub shards: Vec<Vec<f64>>,
}

impl Flow<'_> {
    /// `rate` visits of `class` arrive at `node`; the node passes on what they cause.
    pub fn visit(&mut self, node: NodeId, class: ClassId, rate: f64) {
        self.offered[node.index()] += rate;
        let sc = self.sc;
        sc.nodes[node.index()].kind.visit(node, class, rate, self);
    }
}

fn link_mean(sc: &Scenario, link: Option<LinkId>) -> f64 {
    link.map_or(0.0, |l| sc.links[l.index()].latency.mean_s())
}

/// Predicted share of lookups of `class` that miss at cache `node`.
fn lookup_miss_ratio(sc: &Scenario, node: crate::ids::NodeId, class: ClassId) -> f64 {
    match &sc.nodes[node.index()].kind {
        crate::components::NodeKind::Cache(c) => c.miss_ratio(class, sc),
        _ => 1.0,
    }
}

/// The calls a program makes, as visits (branch probabilities applied).
pub fn calls(steps: &[Step], class: ClassId, rate: f64, flow: &mut Flow) {
    for s in steps {
        match s {
            Step::Cpu(_) => {}
            Step::Call { node, .. } | Step::Fill { node, .. } => flow.visit(*node, class, rate),
            Step::Branch { p, then, otherwise } => {
                calls(then, class, rate * p, flow);
                calls(otherwise, class, rate * (1.0 - p), flow);
            }
            Step::Lookup { node, on_miss, .. } => {
                flow.visit(*node, class, rate);
                let miss = lookup_miss_ratio(flow.sc, *node, class);
                calls(on_miss, class, rate * miss, flow);
            }
        }
    }
}

/// Mean worker time of a program: CPU, plus callees' response times if the worker is held.
pub fn worker_time(sc: &Scenario, steps: &[Step], class: ClassId, hold: bool) -> f64 {
    steps
        .iter()
        .map(|s| match s {
            Step::Cpu(d) => d.mean_s(),
            Step::Call { node, link, .. } if hold => {
                2.0 * link_mean(sc, *link) + sc.nodes[node.index()].kind.response_time(class, sc)
            }
            Step::Fill { node, link } if hold => {
                2.0 * link_mean(sc, *link) + sc.nodes[node.index()].kind.response_time(class, sc)
            }
            Step::Call { .. } | Step::Fill { .. } => 0.0,
            Step::Lookup {
                node,
                link,
                on_miss,
            } => {
                let here = if hold {
                    2.0 * link_mean(sc, *link)
                        + sc.nodes[node.index()].kind.response_time(class, sc)
                } else {
                    0.0
                };
                here + lookup_miss_ratio(sc, *node, class) * worker_time(sc, on_miss, class, hold)
            }
            Step::Branch { p, then, otherwise } => {
                p * worker_time(sc, then, class, hold)
                    + (1.0 - p) * worker_time(sc, otherwise, class, hold)
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../../scenarios/default.ron");

    #[test]
    fn default_scenario_estimate_matches_a_hand_calculation() {
        let sc = crate::load_str("default.ron", DEFAULT).unwrap();
        let e = Estimate::of(&sc);
        let rho = |name: &str| e.nodes.iter().find(|n| n.name == name).unwrap().rho;
        // web at 1000/s: browse 800 × (6 ms + 0.2 × 3 ms held on catalog-db)
        //              + checkout 200 × (8 ms + 2 × 0.5 ms link + 9 ms held on orders-db)
        //              = 5.28 + 3.6 = 8.88 busy workers of 8.
        assert!((rho("web") - 8.88 / 8.0).abs() < 1e-9, "{}", rho("web"));
        assert!((rho("catalog-db") - 160.0 * 0.003 / 8.0).abs() < 1e-9);
        assert!((rho("orders-db") - 200.0 * 0.009 / 4.0).abs() < 1e-9);
        assert_eq!(e.nodes[e.bottleneck.unwrap()].name, "web");
        assert!((e.max_throughput - 1000.0 / 1.11).abs() < 1e-6);
    }

    #[test]
    fn estimate_agrees_with_simulated_utilisation_at_a_steady_rate() {
        // Same system at a constant 500/s: ρ(web) = 0.555 predicted; queueing downstream
        // holds web's workers a little longer than the no-queueing estimate, so allow 5%.
        let text = DEFAULT.replace(
            "Spike(base: 330, peak: 1000, at: \"2m\", rise: \"30s\", hold: \"2m\", fall: \"30s\")",
            "Constant(500)",
        );
        assert_ne!(text, DEFAULT);
        let sc = crate::load_str("steady.ron", &text).unwrap();
        let e = Estimate::of(&sc);
        let report = crate::batch::run_once(&std::sync::Arc::new(sc.clone()), 7);
        for (est, got) in e
            .nodes
            .iter()
            .zip(&report.nodes)
            .filter(|(n, _)| n.workers > 0)
        {
            let rel = (got.utilization - est.rho).abs() / est.rho;
            assert!(
                rel < 0.05,
                "{}: simulated {:.4} vs estimated {:.4}",
                est.name,
                got.utilization,
                est.rho
            );
        }
    }
}

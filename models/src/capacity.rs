//! Static capacity estimate: without simulating, how loaded is each node at the peak rate,
//! which node saturates first, and what throughput does it allow?
//!
//! Per node, offered load λ (visits per second at the sources' peak rates, following load
//! balancer shares, call multiplicities and branch probabilities) and the mean worker time
//! per visit E[S] give `ρ = λ·E[S] / (instances·cores)`. With `on_call: Hold` a worker is
//! also held for the callee's response time, estimated without queueing (a lower bound).
//! The node with the highest ρ is the predicted bottleneck; scaling all sources together,
//! throughput tops out at `peak_rate / ρ_max`.

use crate::scenario::{NodeKind, Scenario, Step, NONE};
use crate::schema::CallMode;

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
    /// Utilisation at the peak.
    pub rho: f64,
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
        let mut offered = vec![0.0; sc.nodes.len()];
        let mut demand = vec![0.0; sc.nodes.len()];
        let mut peak_rate = 0.0;
        let mut mean_rate = 0.0;
        for s in &sc.sources {
            let peak = s.profile.max_rate(horizon);
            peak_rate += peak;
            mean_rate += s.profile.mean_rate(horizon);
            for m in &s.mix {
                visit(
                    sc,
                    s.target,
                    m.class as usize,
                    peak * m.share,
                    &mut offered,
                    &mut demand,
                );
            }
        }
        let nodes: Vec<NodeEstimate> = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let workers = match &n.kind {
                    NodeKind::Service(s) => s.instances as u64 * s.cores as u64,
                    NodeKind::LoadBalancer(_) => 0,
                };
                let rho = if workers > 0 {
                    demand[i] / workers as f64
                } else {
                    0.0
                };
                let service_s = if offered[i] > 0.0 {
                    demand[i] / offered[i]
                } else {
                    0.0
                };
                NodeEstimate {
                    name: n.name.clone(),
                    kind: n.kind.label(),
                    offered: offered[i],
                    service_s,
                    workers,
                    rho,
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

fn link_mean(sc: &Scenario, link: u32) -> f64 {
    if link == NONE {
        0.0
    } else {
        sc.links[link as usize].latency.mean_s()
    }
}

/// Add `rate` visits of `class` at `node` (and everything they cause downstream).
fn visit(
    sc: &Scenario,
    node: u32,
    class: usize,
    rate: f64,
    offered: &mut [f64],
    demand: &mut [f64],
) {
    offered[node as usize] += rate;
    match &sc.nodes[node as usize].kind {
        NodeKind::LoadBalancer(lb) => {
            let share = |b: &crate::scenario::Backend| b.weight * pool_size(sc, b.node);
            let total: f64 = lb.backends.iter().map(share).sum();
            for b in &lb.backends {
                visit(sc, b.node, class, rate * share(b) / total, offered, demand);
            }
        }
        NodeKind::Service(svc) => {
            let h = svc.handlers[class].as_ref().expect("validated");
            let hold = svc.on_call == CallMode::Hold;
            demand[node as usize] += rate * worker_time(sc, &h.steps, class, hold);
            calls(sc, &h.steps, class, rate, offered, demand);
        }
    }
}

fn pool_size(sc: &Scenario, node: u32) -> f64 {
    match &sc.nodes[node as usize].kind {
        NodeKind::Service(s) => s.instances as f64,
        NodeKind::LoadBalancer(_) => 1.0,
    }
}

fn calls(
    sc: &Scenario,
    steps: &[Step],
    class: usize,
    rate: f64,
    offered: &mut [f64],
    demand: &mut [f64],
) {
    for s in steps {
        match s {
            Step::Cpu(_) => {}
            Step::Call { node, .. } => visit(sc, *node, class, rate, offered, demand),
            Step::Branch { p, then, otherwise } => {
                calls(sc, then, class, rate * p, offered, demand);
                calls(sc, otherwise, class, rate * (1.0 - p), offered, demand);
            }
        }
    }
}

/// Mean worker time of a program: CPU, plus callees' response times if the worker is held.
fn worker_time(sc: &Scenario, steps: &[Step], class: usize, hold: bool) -> f64 {
    steps
        .iter()
        .map(|s| match s {
            Step::Cpu(d) => d.mean_s(),
            Step::Call { node, link } if hold => {
                2.0 * link_mean(sc, *link) + response_time(sc, *node, class)
            }
            Step::Call { .. } => 0.0,
            Step::Branch { p, then, otherwise } => {
                p * worker_time(sc, then, class, hold)
                    + (1.0 - p) * worker_time(sc, otherwise, class, hold)
            }
        })
        .sum()
}

/// Mean response time of `node` for `class` with no queueing anywhere.
pub fn response_time(sc: &Scenario, node: u32, class: usize) -> f64 {
    match &sc.nodes[node as usize].kind {
        NodeKind::LoadBalancer(lb) => {
            let share = |b: &crate::scenario::Backend| b.weight * pool_size(sc, b.node);
            let total: f64 = lb.backends.iter().map(share).sum();
            lb.backends
                .iter()
                .map(|b| {
                    share(b) / total
                        * (2.0 * link_mean(sc, b.link) + response_time(sc, b.node, class))
                })
                .sum()
        }
        NodeKind::Service(svc) => worker_time(
            sc,
            &svc.handlers[class].as_ref().expect("validated").steps,
            class,
            true,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../scenarios/default.ron");

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
        let run = crate::world::simulate(&sc, 7);
        let report = crate::report::Report::from_run(&sc, &run);
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

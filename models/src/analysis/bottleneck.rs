//! The bottleneck: which node limits throughput, and why, in words.

use crate::report::{Bottleneck, Report, RunOutcome};
use std::fmt::Write as _;

/// Utilisation from which a service counts as saturated.
pub const SATURATED: f64 = 0.95;

/// The node that limits throughput: among saturated services the deepest in the call graph
/// (a pool whose workers are held waiting on a saturated callee is a symptom, not the
/// cause); if none is saturated, the busiest service. `depth[i]` is node i's call depth.
pub fn pick_bottleneck(utilization: &[Option<f64>], depth: &[u32]) -> Option<usize> {
    let services = || (0..utilization.len()).filter_map(|i| utilization[i].map(|u| (i, u)));
    let saturated = services()
        .filter(|&(_, u)| u >= SATURATED)
        .max_by(|a, b| depth[a.0].cmp(&depth[b.0]).then(a.1.total_cmp(&b.1)));
    saturated
        .or_else(|| services().max_by(|a, b| a.1.total_cmp(&b.1)))
        .map(|(i, _)| i)
}

/// The bottleneck of a report, with its reason.
pub fn find_bottleneck(r: &Report, depth: &[u32]) -> Bottleneck {
    let util: Vec<Option<f64>> = r
        .nodes
        .iter()
        .map(|n| n.kind.has_workers().then_some(n.utilization))
        .collect();
    let Some(i) = pick_bottleneck(&util, depth) else {
        return Bottleneck {
            node: String::new(),
            reason: "no service nodes".into(),
        };
    };
    let n = &r.nodes[i];
    let mut reason = format!("{}: utilisation {:.2}", n.name, n.utilization);
    let growing = r.outcome == RunOutcome::InFlightLimit
        || (n.utilization >= 0.9 && n.max_queue >= 50.0 && n.queue_end >= 0.5 * n.max_queue);
    if growing {
        reason += ", queue grows";
    } else if n.mean_queue >= 0.1 {
        let _ = write!(reason, ", mean queue {:.1}", n.mean_queue);
    }
    if n.errors > 0.0 {
        let _ = write!(reason, ", {} rejected (queue full)", n.errors.round());
    }
    if n.utilization < 0.5 && !growing {
        reason += " (no node is near saturation)";
    }
    Bottleneck {
        node: n.name.clone(),
        reason,
    }
}

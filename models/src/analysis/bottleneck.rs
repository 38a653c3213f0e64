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
    // A database is as loaded as its busiest server (a hot shard saturates while the
    // others idle).
    fn busiest(n: &crate::report::NodeReport) -> Option<&crate::report::ServerReport> {
        n.database.as_ref().and_then(|d| {
            d.servers
                .iter()
                .max_by(|a, b| a.utilization.total_cmp(&b.utilization))
                .filter(|_| d.servers.len() > 1)
        })
    }
    let util: Vec<Option<f64>> = r
        .nodes
        .iter()
        .map(|n| {
            n.kind
                .has_workers()
                .then(|| busiest(n).map_or(n.utilization, |s| s.utilization))
        })
        .collect();
    let Some(i) = pick_bottleneck(&util, depth) else {
        return Bottleneck {
            node: String::new(),
            reason: "no service nodes".into(),
        };
    };
    let n = &r.nodes[i];
    let u = util[i].unwrap_or(n.utilization);
    let mut reason = match busiest(n) {
        Some(s) => format!("{} {}: utilisation {u:.2}", n.name, s.name),
        None => format!("{}: utilisation {u:.2}", n.name),
    };
    if let Some(h) = n.database.as_ref().and_then(|d| d.hot_shard.as_ref()) {
        let _ = write!(
            reason,
            " (hot shard {:.0}: {:.0}% of the requests)",
            h.shard,
            h.share * 100.0
        );
    }
    let growing = r.outcome == RunOutcome::InFlightLimit
        || (u >= 0.9 && n.max_queue >= 50.0 && n.queue_end >= 0.5 * n.max_queue);
    if growing {
        reason += ", queue grows";
    } else if n.mean_queue >= 0.1 {
        let _ = write!(reason, ", mean queue {:.1}", n.mean_queue);
    }
    if n.errors > 0.0 {
        let _ = write!(reason, ", {} rejected (queue full)", n.errors.round());
    }
    if u < 0.5 && !growing {
        reason += " (no node is near saturation)";
    }
    Bottleneck {
        node: n.name.clone(),
        reason,
    }
}

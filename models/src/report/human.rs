//! The human report: tables for a terminal.

use super::{Report, RunOutcome, Stats};
use crate::components::Kind;
use std::fmt::Write as _;

/// Seconds as a short human duration (`850µs`, `12.30ms`, `1.50s`).
pub fn human_secs(s: f64) -> String {
    if s == 0.0 {
        "0".into()
    } else if s < 1e-3 {
        format!("{:.0}µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2}ms", s * 1e3)
    } else {
        format!("{s:.2}s")
    }
}

/// A figure named `name` for people: a latency (the name says so) as a duration, anything
/// else (rates, fractions, money) with four decimals.
pub fn human_figure(name: &str, v: f64) -> String {
    if name.contains("latency") {
        human_secs(v)
    } else {
        format!("{v:.4}")
    }
}

impl Report {
    /// The human report (tables on stdout).
    pub fn to_human(&self, ci: Option<&Report>) -> String {
        let mut o = String::new();
        let reps = if self.replications == 1 {
            "1 replication".to_string()
        } else {
            format!("{} replications", self.replications)
        };
        let _ = writeln!(
            o,
            "scalelab — {}  (seed {}, {reps}, {} simulated, {} events{})",
            self.scenario,
            self.seed,
            sim_core::SimTime::from_secs_f64(self.sim_seconds),
            self.events.round(),
            self.wall_seconds
                .map(|w| format!(", {w:.2}s wall"))
                .unwrap_or_default()
        );
        if self.outcome != RunOutcome::Completed {
            let _ = writeln!(o, "OUTCOME: {}", self.outcome.label());
        }
        let pm = |v: f64, c: Option<f64>, f: &dyn Fn(f64) -> String| match c {
            Some(c) => format!("{} ±{}", f(v), f(c)),
            None => f(v),
        };
        let _ = writeln!(o, "\nRequests  {:<12} {:>10} {:>10} {:>8} {:>7} {:>10} {:>18} {:>10} {:>10} {:>18} {:>10}",
            "class", "requests", "completed", "errors", "err%", "thru/s", "mean", "p50", "p95", "p99", "max");
        let mut rows: Vec<(&str, &Stats, Option<&Stats>)> =
            vec![("all", &self.summary, ci.map(|c| &c.summary))];
        for (i, c) in self.classes.iter().enumerate() {
            rows.push((&c.name, &c.stats, ci.map(|x| &x.classes[i].stats)));
        }
        for (name, s, c) in rows {
            let _ = writeln!(o, "          {:<12} {:>10.0} {:>10.0} {:>8.0} {:>6.2}% {:>10.1} {:>18} {:>10} {:>10} {:>18} {:>10}",
                name, s.requests, s.completed, s.errors, s.error_rate * 100.0, s.throughput,
                pm(s.latency.mean, c.map(|c| c.latency.mean), &human_secs),
                human_secs(s.latency.p50), human_secs(s.latency.p95),
                pm(s.latency.p99, c.map(|c| c.latency.p99), &human_secs),
                human_secs(s.latency.max));
        }
        let _ = writeln!(
            o,
            "\nNodes     {:<12} {:<13} {:>11} {:>6} {:>10} {:>9} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "node",
            "kind",
            "instances",
            "util",
            "queue avg",
            "max",
            "thru/s",
            "errors",
            "mean",
            "p95",
            "p99"
        );
        for n in &self.nodes {
            let util = if n.kind.has_workers() {
                format!("{:.2}", n.utilization)
            } else {
                "-".into()
            };
            let i = &n.instances;
            let inst = if n.kind != Kind::Service {
                "-".to_string()
            } else if i.min == i.max {
                format!("{:.0}", i.max)
            } else {
                format!("{:.0}-{:.0} ~{:.1}", i.min, i.max, i.mean)
            };
            let _ = writeln!(o, "          {:<12} {:<13} {:>11} {:>6} {:>10.2} {:>9.0} {:>10.1} {:>8.0} {:>10} {:>10} {:>10}",
                n.name, n.kind.label(), inst, util, n.mean_queue, n.max_queue, n.throughput, n.errors,
                human_secs(n.latency.mean), human_secs(n.latency.p95), human_secs(n.latency.p99));
        }
        let _ = writeln!(
            o,
            "\nBottleneck: {}",
            if self.bottleneck.node.is_empty() {
                "none"
            } else {
                &self.bottleneck.reason
            }
        );
        if self.cost.total > 0.0 {
            let parts: Vec<String> = self
                .cost
                .per_node
                .iter()
                .filter(|(_, c)| **c > 0.0)
                .map(|(n, c)| format!("{n} ${c:.2}"))
                .collect();
            let _ = writeln!(
                o,
                "Cost:       ${:.2} ({}); ${:.2} per million requests",
                self.cost.total,
                parts.join(", "),
                self.cost.per_million_requests
            );
        }
        for n in &self.nodes {
            if let Some(c) = &n.cache {
                let mut line = format!(
                    "Cache:      {} hit ratio {:.3} ({:.0} hits, {:.0} misses, {:.0} evictions, {:.0} expirations, {:.0} invalidations)",
                    n.name, c.hit_ratio, c.hits, c.misses, c.evictions, c.expirations, c.invalidations
                );
                if c.stale_reads > 0.0 {
                    line += &format!("; {:.0} stale hits", c.stale_reads);
                }
                if c.lost_writes > 0.0 {
                    line += &format!("; {:.0} writes lost", c.lost_writes);
                }
                let _ = writeln!(o, "{line}");
            }
        }
        for n in &self.nodes {
            let Some(m) = &n.messages else { continue };
            let mut line = format!(
                "Queue:      {} {:.0} enqueued, {:.0} processed (enqueue → done p95 {}), backlog max {:.0}, oldest message waited {}",
                n.name,
                m.enqueued,
                m.processed,
                human_secs(m.processing_latency.p95),
                n.max_queue,
                human_secs(m.oldest_age)
            );
            if m.failed > 0.0 {
                line += &format!(
                    "; {:.0} failed, {:.0} dead-lettered",
                    m.failed, m.dead_letters
                );
            }
            let _ = writeln!(o, "{line}");
        }
        for n in &self.nodes {
            let Some(d) = &n.database else { continue };
            let mut line = format!(
                "Database:   {} {:.0} reads ({:.0} on replicas, {:.0} stale = {:.2}%), {:.0} writes",
                n.name,
                d.reads,
                d.replica_reads,
                d.stale_reads,
                d.stale_ratio * 100.0,
                d.writes
            );
            if d.pool_waits > 0.0 {
                line += &format!(
                    "; {:.0} waited for a connection, {:.0} timed out",
                    d.pool_waits, d.pool_timeouts
                );
            }
            if d.failovers > 0.0 {
                line += &format!(
                    "; {:.0} failover(s), {:.0} acknowledged writes lost",
                    d.failovers, d.lost_writes
                );
            }
            let _ = writeln!(o, "{line}");
            if d.servers.len() > 1 {
                let parts: Vec<String> = d
                    .servers
                    .iter()
                    .map(|s| format!("{} {:.0}%", s.name, s.utilization * 100.0))
                    .collect();
                let _ = writeln!(o, "            busy: {}", parts.join(", "));
            }
            if let Some(h) = &d.hot_shard {
                let _ = writeln!(
                    o,
                    "Hot shard:  {} shard {:.0} takes {:.0}% of the requests (an even share is {:.0}%)",
                    n.name,
                    h.shard,
                    h.share * 100.0,
                    100.0 / d.shard_shares.len() as f64
                );
            }
        }
        let killed: f64 = self.nodes.iter().map(|n| n.killed).sum();
        if killed > 0.0 {
            let parts: Vec<String> = self
                .nodes
                .iter()
                .filter(|n| n.killed > 0.0)
                .map(|n| format!("{} {:.0}", n.name, n.killed))
                .collect();
            let what = if killed == 1.0 { "request" } else { "requests" };
            let _ = writeln!(
                o,
                "Killed:     {killed:.0} {what} failed with their instance ({})",
                parts.join(", ")
            );
        }
        for n in &self.nodes {
            let Some(s) = &n.sessions else { continue };
            let _ = writeln!(
                o,
                "Sessions:   {} (in instance memory): {:.0} started, {:.0} lost with their instance, {:.0} moved to an instance without them",
                n.name, s.created, s.lost, s.moved
            );
        }
        if self.summary.client_retries > 0.0 {
            let _ = writeln!(
                o,
                "Retries:    clients retried {:.0} times (amplification {:.3})",
                self.summary.client_retries, self.summary.client_amplification
            );
        }
        for c in &self.calls {
            let mut line = format!(
                "Calls:      {} → {} {:.0} calls, {:.0} tries (amplification {:.3}), {:.0} timed out, {:.0} failed",
                c.from, c.to, c.calls, c.attempts, c.amplification, c.timeouts, c.failed
            );
            if c.breaker_opened > 0.0 {
                line += &format!(
                    "; breaker opened {:.0}× ({} not closed), {:.0} tries failed at once",
                    c.breaker_opened,
                    super::human_secs(c.breaker_open_s),
                    c.short_circuited
                );
            }
            if c.bulkhead_rejected > 0.0 {
                line += &format!("; bulkhead full for {:.0} tries", c.bulkhead_rejected);
            }
            if c.hedged > 0.0 {
                line += &format!("; {:.0} hedged", c.hedged);
            }
            let _ = writeln!(o, "{line}");
        }
        if !self.faults.is_empty() {
            let _ = writeln!(o, "\nFaults");
            for f in &self.faults {
                let _ = writeln!(
                    o,
                    "  {:>10} – {:<10} {:<32} {:>8.0} failed ({:.2}% of answers){}{}",
                    human_secs(f.start),
                    human_secs(f.end),
                    f.name,
                    f.failed,
                    f.error_rate * 100.0,
                    if f.killed > 0.0 {
                        format!(", {:.0} killed at once", f.killed)
                    } else {
                        String::new()
                    },
                    if f.healed { "" } else { ", not healed" }
                );
                let mut impact = vec![format!("peak error rate {:.1}%", f.peak_error_rate * 100.0)];
                impact.push(if f.detected {
                    format!("detected after {}", human_secs(f.time_to_detect))
                } else {
                    "no defence reacted".to_string()
                });
                impact.push(match (f.recovered, f.time_to_recover > 0.0) {
                    (true, true) => format!(
                        "recovered (≤ {:.1}% errors) after {}",
                        f.recovery_threshold * 100.0,
                        human_secs(f.time_to_recover)
                    ),
                    (true, false) => {
                        format!("errors never above {:.1}%", f.recovery_threshold * 100.0)
                    }
                    (false, _) => format!(
                        "not recovered (≤ {:.1}% errors) by the end",
                        f.recovery_threshold * 100.0
                    ),
                });
                if f.writes_lost > 0.0 {
                    impact.push(format!("{:.0} writes lost", f.writes_lost));
                }
                let _ = writeln!(o, "  {:>23} {}", "", impact.join(" · "));
            }
        }
        if !self.slo.is_empty() {
            let _ = writeln!(o, "\nSLOs");
            for (k, x) in self.slo.iter().enumerate() {
                let ci = ci.and_then(|c| c.slo.get(k)).map(|c| c.value);
                let fmt = |v: f64| {
                    if x.name.contains("latency") {
                        human_secs(v)
                    } else if x.name.starts_with("cost") {
                        format!("${v:.2}")
                    } else {
                        format!("{:.4}%", v * 100.0)
                    }
                };
                let value = match ci {
                    Some(c) => format!("{} ±{}", fmt(x.value), fmt(c)),
                    None => fmt(x.value),
                };
                let mark = if x.pass { "✔ pass" } else { "✘ FAIL" };
                let _ = writeln!(o, "  {mark}  {:<40} measured {value}", x.name);
            }
        }
        if !self.alerts.is_empty() {
            let _ = writeln!(o, "\nAlerts");
            for a in &self.alerts {
                let what = match (a.fired, a.first_fired) {
                    (n, Some(t)) if n > 0.0 => format!(
                        "fired {n:.0}× from {}, firing {} in all",
                        human_secs(t),
                        human_secs(a.firing_s)
                    ),
                    (n, _) if n > 0.0 => format!("fired {n:.0}× (mean over replications)"),
                    _ => "never fired".into(),
                };
                let _ = writeln!(o, "  {:<16} {:<44} {what}", a.name, a.rule);
            }
        }
        if !self.timeline.is_empty() {
            let _ = writeln!(o, "\nTimeline");
            const SHOWN: usize = 20;
            for e in self.timeline.iter().take(SHOWN) {
                let _ = writeln!(
                    o,
                    "  {:>10}  {:<9} {:<12} {}",
                    human_secs(e.t),
                    e.kind.label(),
                    e.node,
                    e.text
                );
            }
            if self.timeline.len() > SHOWN {
                let _ = writeln!(o, "  ... {} more (see --json)", self.timeline.len() - SHOWN);
            }
        }
        for w in &self.warnings {
            let _ = writeln!(o, "WARNING:    {w}");
        }
        o
    }
}

//! Autoscalers at run time: one datapoint per period, read from the pool's statistics as
//! the average over that period; the policy's decision applied as a new pool size (new
//! instances serve after their `startup`, removed ones drain), and noted on the timeline
//! with the metric and the rule that triggered it.

use super::World;
use crate::control::autoscale::{Autoscale, Controller, Metric};
use crate::ids::NodeId;
use crate::kernel::{Cx, Ev};
use crate::report::TimelineKind;
use sim_core::{EventQueue, SimTime};

/// One autoscaled pool's state.
#[derive(Debug, Clone)]
pub struct AutoState {
    policy: Autoscale,
    ctl: Controller,
    /// At the last datapoint: (time, busy-worker area, worker area and their window
    /// start, departures).
    last: (SimTime, u128, u128, SimTime, u64),
    /// At the last datapoint: the queued-requests area, and the pool's response times
    /// (`LatencyP95` only).
    last_queued: u128,
    last_latency: Option<sim_core::Histogram>,
}

impl AutoState {
    /// The state of `policy`, before the run.
    pub fn new(policy: Autoscale) -> Self {
        AutoState {
            last_latency: (policy.metric() == Some(Metric::LatencyP95))
                .then(sim_core::Histogram::new),
            policy,
            ctl: Controller::default(),
            last: (SimTime::ZERO, 0, 0, SimTime::ZERO, 0),
            last_queued: 0,
        }
    }

    /// The latest datapoint (0 before the first; a schedule has none).
    pub fn latest(&self) -> f64 {
        self.ctl.latest().unwrap_or(0.0)
    }

    /// Schedule its first tick(s) for pool `node` in a run of `duration`.
    pub fn begin(&self, node: NodeId, duration: SimTime, q: &mut EventQueue<Ev>) {
        match &self.policy {
            Autoscale::Scheduled(entries) => {
                for &(at, _) in entries {
                    q.schedule(at, Ev::Tick(node));
                }
            }
            p => {
                let period = p.period().expect("a metric policy has a period");
                if period <= duration {
                    q.schedule(period, Ev::Tick(node));
                }
            }
        }
    }
}

impl World {
    /// Pool `node`'s autoscaler ticks at `now`.
    pub(super) fn autoscale_tick(&mut self, now: SimTime, node: NodeId, q: &mut EventQueue<Ev>) {
        let Some(st) = self.autoscale[node.index()].as_mut() else {
            return;
        };
        let Some(pool) = self.states[node.index()].as_pool() else {
            return;
        };
        let (serving, size) = (pool.ready(), pool.size());
        let decision = match &st.policy {
            Autoscale::Scheduled(entries) => entries
                .iter()
                .find(|e| e.0 == now)
                .map(|&(_, n)| (n, "scheduled".to_string())),
            policy => {
                let stats = &self.k.nodes[node.index()];
                let (busy, since) = stats.busy.area_at(now);
                let (workers, _) = stats.workers.area_at(now);
                let departed = stats.departed_total;
                let (queued, _) = stats.queued.area_at(now);
                let (t0, b0, w0, s0, d0) = st.last;
                st.last = (now, busy, workers, since, departed);
                let q0 = std::mem::replace(&mut st.last_queued, queued);
                let dq = if since != s0 { queued } else { queued - q0 };
                let p95 = st.last_latency.as_mut().map(|snap| {
                    let window = stats.sojourn.since(snap);
                    *snap = stats.sojourn.clone();
                    (window.count() > 0).then(|| window.quantile_s(0.95))
                });
                // The window restarts at the end of the warm-up: read from there.
                let (db, dw) = if since != s0 {
                    (busy, workers)
                } else {
                    (busy - b0, workers - w0)
                };
                let span = (now - t0.max(since)).as_secs_f64();
                let period = policy.period().expect("metric policy");
                let next = now + period;
                if next <= self.k.sc.duration {
                    q.schedule(next, Ev::Tick(node));
                }
                let metric = match policy {
                    Autoscale::QueueDriven { queue, .. } => Err(*queue),
                    p => Ok(p.metric().expect("metric policy")),
                };
                let value = match metric {
                    Err(queue) => match &self.states[queue.index()] {
                        crate::components::NodeState::Queue(q) => Some(q.backlog() as f64),
                        _ => None,
                    },
                    // No serving worker in the window: no datapoint (missing data).
                    Ok(Metric::Cpu) if dw == 0 => None,
                    Ok(Metric::Cpu) => Some(db as f64 / dw as f64),
                    Ok(Metric::RequestsPerInstance) if serving == 0 || span == 0.0 => None,
                    Ok(Metric::RequestsPerInstance) => {
                        Some((departed - d0) as f64 / span / serving as f64)
                    }
                    Ok(Metric::LatencyP95) => p95.flatten(),
                    Ok(Metric::QueueBacklogPerInstance) => {
                        let consumed: Option<usize> = self
                            .states
                            .iter()
                            .filter_map(|s| match s {
                                crate::components::NodeState::Queue(q) if q.consumer() == node => {
                                    Some(q.backlog())
                                }
                                _ => None,
                            })
                            .reduce(|a, b| a + b);
                        let waiting = match consumed {
                            Some(n) => n as f64,
                            None if span > 0.0 => dq as f64 / 1e9 / span,
                            None => 0.0,
                        };
                        Some(waiting / serving.max(1) as f64)
                    }
                };
                value.and_then(|v| st.ctl.decide(policy, now, v, serving, size))
            }
        };
        let Some((to, why)) = decision else {
            return;
        };
        if to == size {
            return;
        }
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        let pool = self.states[node.index()]
            .as_pool_mut()
            .expect("an autoscaled node is a pool");
        pool.set_instances(&mut cx, to);
        let text = format!("{size} → {} instances: {why}", pool.size());
        self.note(now, TimelineKind::Autoscale, node, text);
        self.apply_membership();
        self.kick_queues(now, node, q);
        self.after_pool_change(now, node, q);
    }
}

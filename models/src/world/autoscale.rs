//! Autoscalers at run time: one datapoint per period, read from the pool's statistics as
//! the average over that period; the policy's decision applied as a new pool size (new
//! instances serve after their `startup`, removed ones drain), and noted on the timeline
//! with the metric and the rule that triggered it.

use super::World;
use crate::control::autoscale::{Autoscale, Controller, Metric};
use crate::ids::NodeId;
use crate::kernel::{Cx, Ev, Queue};
use crate::report::TimelineKind;
use sim_core::SimTime;

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
    /// The HPA controller's memory (recommendations, scale events).
    hpa: crate::control::hpa::Hpa,
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
            hpa: Default::default(),
        }
    }

    /// The latest datapoint (0 before the first; a schedule has none).
    pub fn latest(&self) -> f64 {
        self.ctl.latest().unwrap_or(0.0)
    }

    /// Schedule its first tick(s) for pool `node` in a run of `duration`.
    pub fn begin(&self, node: NodeId, duration: SimTime, q: &mut Queue) {
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
    pub(super) fn autoscale_tick(&mut self, now: SimTime, node: NodeId, q: &mut Queue) {
        let Some(st) = self.autoscale[node.index()].as_mut() else {
            return;
        };
        let Some(pool) = self.states[node.index()].as_pool() else {
            return;
        };
        let (serving, size) = (pool.ready(), pool.size());
        let cores_now = pool.gens.last().map_or(0, |g| g.0);
        let is_hpa = matches!(st.policy, Autoscale::KubernetesHpa(_));
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
                    Ok(Metric::Cpu) => {
                        // AWS instance warm-up: instances launched less than `warmup` ago
                        // are not in the metric yet.
                        let (wb, ww) = match policy {
                            Autoscale::TargetTracking { warmup, .. } => {
                                warming(pool, now, t0.max(since), *warmup)
                            }
                            _ => (0, 0),
                        };
                        let (db, dw) = (db.saturating_sub(wb), dw.saturating_sub(ww));
                        (dw > 0).then(|| db as f64 / dw as f64)
                    }
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
                if let Autoscale::KubernetesHpa(spec) = policy {
                    let ready = serving;
                    let window = now - t0;
                    let per_pod_rate = (ready > 0 && span > 0.0)
                        .then(|| (departed - d0) as f64 / span / ready as f64);
                    let (proposal, shown) =
                        hpa_proposal(spec, pool, now, window, value, per_pod_rate, size, ready);
                    let to = st.hpa.reconcile(spec, now, size, proposal);
                    st.ctl.record(shown.as_ref().map_or(0.0, |x| x.0));
                    let why = match shown {
                        Some((_, text)) => text,
                        None => "no metrics".to_string(),
                    };
                    let bounds = if size > spec.max || size < spec.min {
                        format!(" (bounds {}..{})", spec.min, spec.max)
                    } else {
                        String::new()
                    };
                    mark(self.states[node.index()].as_pool_mut().expect("pool"), now);
                    to.map(|n| (n, format!("{why}{bounds} (HPA)")))
                } else {
                    mark(self.states[node.index()].as_pool_mut().expect("pool"), now);
                    if let Autoscale::Vertical { sizes, rolling, .. } = policy {
                        let at = sizes.iter().position(|s| s.0 == cores_now).unwrap_or(0);
                        let busy = self.rollouts[node.index()].is_some();
                        let choice = value.and_then(|v| st.ctl.vertical(policy, now, v, at));
                        let rolling = *rolling;
                        let (to, why) = match choice {
                            None => return,
                            Some(Err(ceiling)) => {
                                return self.note(now, TimelineKind::Autoscale, node, ceiling)
                            }
                            Some(Ok((to, why))) if !busy => (sizes[to], why),
                            Some(Ok(_)) => return,
                        };
                        return self.vertical_resize(now, node, cores_now, to, rolling, why, q);
                    }
                    value.and_then(|v| st.ctl.decide(policy, now, v, serving, size))
                }
            }
        };
        let Some((to, why)) = decision else {
            return;
        };
        if self.rollouts[node.index()].is_some() {
            return; // holds still during a deployment
        }
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
        let unit = if is_hpa { "replicas" } else { "instances" };
        let text = format!("{size} → {} {unit}: {why}", pool.size());
        self.note(now, TimelineKind::Autoscale, node, text);
        self.apply_membership();
        self.kick_queues(now, node, q);
        self.after_pool_change(now, node, q);
    }
}

impl World {
    /// A vertical autoscaler resizes `node` from `from` cores to `to` (cores, price).
    #[allow(clippy::too_many_arguments)]
    fn vertical_resize(
        &mut self,
        now: SimTime,
        node: NodeId,
        from: u32,
        to: (u32, f64),
        rolling: bool,
        why: String,
        q: &mut Queue,
    ) {
        let (c, price) = to;
        self.note(
            now,
            TimelineKind::Autoscale,
            node,
            format!("{from} → {c} cores: {why}"),
        );
        let deploy = crate::control::Deploy::resize(node, c, price, rolling);
        self.begin_deploy(now, deploy, q);
    }
}

/// Busy worker-time and worker-time over (`from`, `now`] of the working instances
/// launched after the start and less than `warmup` ago (AWS: not yet in the metric).
fn warming(
    pool: &crate::components::service::Pool,
    now: SimTime,
    from: SimTime,
    warmup: SimTime,
) -> (u128, u128) {
    let (mut busy, mut workers) = (0u128, 0u128);
    for inst in &pool.instances {
        if inst.is_working() && inst.started > SimTime::ZERO && inst.started + warmup > now {
            busy += inst.busy_since_mark(now) as u128;
            let t = (inst.started + pool.startup()).max(from);
            if now > t {
                workers += inst.cores as u128 * (now - t).as_nanos() as u128;
            }
        }
    }
    (busy, workers)
}

/// Every instance's busy time is read from here at the next datapoint.
fn mark(pool: &mut crate::components::service::Pool, now: SimTime) {
    for inst in &mut pool.instances {
        inst.mark = inst.busy_area_at(now);
    }
}

/// The HPA's replica calculation for its metric (`replica_calculator.go`): the proposal
/// (`None`: no metrics) and the reading with its words.
#[allow(clippy::too_many_arguments)]
fn hpa_proposal(
    spec: &crate::control::hpa::HpaSpec,
    pool: &crate::components::service::Pool,
    now: SimTime,
    window: SimTime,
    value: Option<f64>,
    per_pod_rate: Option<f64>,
    size: u32,
    ready: u32,
) -> (Option<u32>, Option<(f64, String)>) {
    use crate::components::station::Life;
    use crate::control::hpa::{self as k, Pod};
    let w = window.as_nanos().max(1) as u128;
    let pods = |metric: &dyn Fn(&crate::components::station::Instance) -> i64| -> Vec<Pod> {
        pool.instances
            .iter()
            .filter(|i| i.life != Life::Stopped)
            .map(|i| Pod {
                deleting: i.life == Life::Draining,
                ready: i.life == Life::Ready,
                started: i.started,
                transition: i.transition,
                // metrics-server has a reading once a whole window has passed.
                metric: (now - i.started >= window).then(|| metric(i)),
                request: i.cores as i64 * 1000,
            })
            .collect()
    };
    let target = spec.target;
    match spec.metric {
        Metric::Cpu => {
            // Millicores over the window (Quantity.MilliValue rounds up).
            let p = pods(&|i| (i.busy_since_mark(now) as u128 * 1000).div_ceil(w) as i64);
            match k::resource_replicas(&p, size, target, spec.tolerance, now, window) {
                Some((n, pct)) => (
                    Some(n),
                    Some((
                        pct as f64 / 100.0,
                        format!("cpu {pct}% vs target {target}%"),
                    )),
                ),
                None => (None, None),
            }
        }
        Metric::RequestsPerInstance => {
            let Some(rate) = per_pod_rate else {
                return (None, None);
            };
            let milli = (rate * 1000.0).round() as i64;
            let p = pods(&|i| if i.life == Life::Ready { milli } else { 0 });
            match k::plain_replicas(&p, size, target, spec.tolerance, now, window) {
                Some((n, avg)) => {
                    let v = avg as f64 / 1000.0;
                    let t = target as f64 / 1000.0;
                    (
                        Some(n),
                        Some((v, format!("{} vs target {t}", spec.metric.show(v)))),
                    )
                }
                None => (None, None),
            }
        }
        Metric::QueueBacklogPerInstance => {
            // An External metric (the backlog) with an AverageValue target per pod.
            let Some(per) = value else {
                return (None, None);
            };
            let total = per * ready.max(1) as f64;
            let n = k::external_per_pod(
                (total * 1000.0).round() as i64,
                target,
                size,
                spec.tolerance,
            );
            let t = target as f64 / 1000.0;
            (
                Some(n),
                Some((per, format!("backlog {total:.0} vs target {t} per replica"))),
            )
        }
        Metric::LatencyP95 => {
            // An Object metric with a Value target.
            let Some(v) = value else {
                return (None, None);
            };
            let n = k::usage_ratio_replicas(
                (v * 1000.0).round() as i64,
                target,
                size,
                ready,
                spec.tolerance,
            );
            let t = target as f64 / 1000.0;
            (
                Some(n),
                Some((
                    v,
                    format!("{} vs target {}", spec.metric.show(v), spec.metric.show(t)),
                )),
            )
        }
    }
}

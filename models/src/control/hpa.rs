//! The Kubernetes HorizontalPodAutoscaler, following the controller's code rather than a
//! paraphrase of it (kubernetes v1.30, `pkg/controller/podautoscaler/`). Each function
//! names the Go function it mirrors.
//!
//! ```ron
//! autoscale: KubernetesHpa(metric: Cpu, target: 0.6, min: 1, max: 20)
//! autoscale: KubernetesHpa(metric: Cpu, target: 0.6, min: 1, max: 20, behavior: Behavior(
//!     scale_down: Rules(stabilization: "60s", policies: [Percent(50, "15s")]),
//! ))
//! ```
//!
//! Every `sync` (the controller's `--horizontal-pod-autoscaler-sync-period`, 15 s) the
//! world reads each pod's metric over the last sync period (metrics-server's window:
//! the reading is an average, never instantaneous) and [`Hpa::reconcile`] computes:
//!
//! 1. the replicas the metric asks for (`replica_calculator.go`): for CPU,
//!    `GetResourceReplicas` — utilisation in whole percent (truncated), no change within
//!    `tolerance` (0.1) of the target, pods grouped by `groupPods` into ready, unready
//!    (starting, or ready for less than one metric window inside the CPU initialisation
//!    period of 300 s) and missing (no metrics yet); unready pods count as 0% on a
//!    scale-up, missing ones as 0% on a scale-up and `max(100%, target)` on a scale-down,
//!    and a change of direction after that correction means no change; for requests per
//!    pod, `calcPlainMetricReplicas` (a Pods metric); for a queue's backlog per pod,
//!    `GetExternalPerPodMetricReplicas` (an External metric with an AverageValue target);
//!    for p95 latency, `getUsageRatioReplicas` (an Object metric with a Value target);
//! 2. `reconcileAutoscaler` (`horizontal.go`): out-of-bounds sizes go straight to `min` or
//!    `max`; else the recommendation is normalised — without `behavior` by
//!    `normalizeDesiredReplicas` (the highest recommendation over the downscale
//!    stabilisation window of 300 s, then `convertDesiredReplicasWithRules`: at most
//!    `max(2 × current, 4)` per sync, then `[min, max]`); with `behavior` by
//!    `normalizeDesiredReplicasWithBehaviors` (up and down stabilisation windows, then
//!    the policies' rate limits over the scale events inside each policy's period,
//!    `selectPolicy` choosing among them, then `[min, max]`).
//!
//! Not modelled: the initial-readiness delay (30 s) decides only for pods that turned
//! unready after having been ready, which instances here never do (a failed health check
//! ejects an instance from a balancer, it does not flip readiness); the Pending phase
//! (an instance starting is a running-but-unready pod); several metrics on one HPA (the
//! highest recommendation would win); container-level resources; `scaleTargetRef`
//! indirection (the HPA scales its own service).

use sim_core::SimTime;

/// Metrics-server's CPU initialisation period
/// (`--horizontal-pod-autoscaler-cpu-initialization-period`).
pub const CPU_INITIALIZATION: SimTime = SimTime::from_secs(300);
/// `scaleUpLimitFactor` and `scaleUpLimitMinimum` of `horizontal.go` (legacy path).
const SCALE_UP_FACTOR: i64 = 2;
const SCALE_UP_MINIMUM: i64 = 4;

/// How one rule picks among its policies (`selectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
pub enum Select {
    /// The policy allowing the largest change (default).
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One scaling policy: `Pods(4, "15s")` or `Percent(100, "15s")`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    /// At most this many pods per period.
    Pods(u32, SimTime),
    /// At most this percent of the pods at the period's start per period.
    Percent(u32, SimTime),
}

impl Policy {
    fn period(self) -> SimTime {
        match self {
            Policy::Pods(_, p) | Policy::Percent(_, p) => p,
        }
    }
}

/// One direction's rules (`HPAScalingRules`), defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// `stabilizationWindowSeconds`.
    pub stabilization: SimTime,
    /// `selectPolicy`.
    pub select: Select,
    /// `policies`.
    pub policies: Vec<Policy>,
}

impl Rules {
    /// `GenerateHPAScaleUpRules` defaults: no stabilisation, max(4 pods, 100%) per 15 s.
    pub fn default_up() -> Rules {
        let p = SimTime::from_secs(15);
        Rules {
            stabilization: SimTime::ZERO,
            select: Select::Max,
            policies: vec![Policy::Pods(4, p), Policy::Percent(100, p)],
        }
    }

    /// `GenerateHPAScaleDownRules` defaults: 300 s stabilisation, 100% per 15 s.
    pub fn default_down() -> Rules {
        Rules {
            stabilization: SimTime::from_secs(300),
            select: Select::Max,
            policies: vec![Policy::Percent(100, SimTime::from_secs(15))],
        }
    }
}

/// A validated HPA.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// The metric.
    pub metric: super::autoscale::Metric,
    /// Target: whole percent for CPU, else milli-units per pod (or of the object).
    pub target: i64,
    /// `minReplicas`.
    pub min: u32,
    /// `maxReplicas`.
    pub max: u32,
    /// Sync period, also the metrics window.
    pub sync: SimTime,
    /// `--horizontal-pod-autoscaler-tolerance`.
    pub tolerance: f64,
    /// Legacy path's `--horizontal-pod-autoscaler-downscale-stabilization`.
    pub downscale_stabilization: SimTime,
    /// `spec.behavior` (scale up, scale down), or the legacy path.
    pub behavior: Option<(Rules, Rules)>,
}

/// What the world knows of one pod at a sync.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pod {
    /// Being deleted (a draining instance).
    pub deleting: bool,
    /// Its Ready condition.
    pub ready: bool,
    /// `status.startTime`.
    pub started: SimTime,
    /// The Ready condition's `lastTransitionTime`.
    pub transition: SimTime,
    /// Its metric over the window, milli-units (`None`: no metrics yet).
    pub metric: Option<i64>,
    /// CPU request, millicores.
    pub request: i64,
}

/// `groupPods` (replica_calculator.go): (ready count, unready, missing); deleted pods are
/// ignored. `now` is the metric's timestamp and `window` its window.
fn group_pods(
    pods: &[Pod],
    cpu: bool,
    now: SimTime,
    window: SimTime,
) -> (i64, Vec<usize>, Vec<usize>) {
    let (mut ready, mut unready, mut missing) = (0, vec![], vec![]);
    for (i, p) in pods.iter().enumerate() {
        if p.deleting {
            continue;
        }
        if p.metric.is_none() {
            missing.push(i);
            continue;
        }
        if cpu {
            let is_unready = if p.started + CPU_INITIALIZATION > now {
                // Within the initialisation period: unready, or one window of metric
                // not yet collected since the last transition.
                !p.ready || now < p.transition + window
            } else {
                // Unready and never been ready (initial-readiness delay 30 s).
                !p.ready && p.started + SimTime::from_secs(30) > p.transition
            };
            if is_unready {
                unready.push(i);
                continue;
            }
        }
        ready += 1;
    }
    (ready, unready, missing)
}

/// Pods' metrics as the calculator uses them: pod index → (metric, request).
type Metrics = Vec<(usize, i64, i64)>;

/// `GetResourceUtilizationRatio` (metrics/utilization.go): (usage ratio, utilisation in
/// whole percent).
fn utilization_ratio(m: &Metrics, target_pct: i64) -> Option<(f64, i64)> {
    let usage: i64 = m.iter().map(|x| x.1).sum();
    let requests: i64 = m.iter().map(|x| x.2).sum();
    if requests == 0 {
        return None;
    }
    let pct = usage * 100 / requests;
    Some((pct as f64 / target_pct as f64, pct))
}

/// `GetResourceReplicas` (replica_calculator.go) for CPU utilisation: (replicas,
/// utilisation %). `None`: no pod has metrics (the controller reports an error and keeps
/// the size).
pub fn resource_replicas(
    pods: &[Pod],
    current: u32,
    target_pct: i64,
    tolerance: f64,
    now: SimTime,
    window: SimTime,
) -> Option<(u32, i64)> {
    let (ready, unready, missing) = group_pods(pods, true, now, window);
    // removeMetricsForPods(ignored), (unready): what is left are the ready pods.
    let mut m: Metrics = pods
        .iter()
        .enumerate()
        .filter(|(i, p)| !p.deleting && p.metric.is_some() && !unready.contains(i))
        .map(|(i, p)| (i, p.metric.unwrap_or(0), p.request))
        .collect();
    if m.is_empty() {
        return None;
    }
    let (ratio, pct) = utilization_ratio(&m, target_pct)?;
    let current = current as i64;
    let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - ratio).abs() <= tolerance {
            return Some((current as u32, pct));
        }
        return Some(((ratio * ready as f64).ceil() as u32, pct));
    }
    if !missing.is_empty() {
        for &i in &missing {
            let req = pods[i].request;
            if ratio < 1.0 {
                // A scale-down: a missing pod uses max(100%, target) of its request.
                m.push((i, req.max(req * target_pct / 100), req));
            } else if ratio > 1.0 {
                m.push((i, 0, req));
            }
        }
    }
    if scale_up_with_unready {
        for &i in &unready {
            m.push((i, 0, pods[i].request));
        }
    }
    let (new_ratio, _) = utilization_ratio(&m, target_pct)?;
    if (1.0 - new_ratio).abs() <= tolerance
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Some((current as u32, pct));
    }
    let n = (new_ratio * m.len() as f64).ceil() as i64;
    if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
        return Some((current as u32, pct));
    }
    Some((n as u32, pct))
}

/// `calcPlainMetricReplicas` (replica_calculator.go) for a Pods metric with an average
/// target (milli-units): (replicas, average per pod, milli).
pub fn plain_replicas(
    pods: &[Pod],
    current: u32,
    target: i64,
    tolerance: f64,
    now: SimTime,
    window: SimTime,
) -> Option<(u32, i64)> {
    let (ready, unready, missing) = group_pods(pods, false, now, window);
    let mut m: Vec<i64> = pods
        .iter()
        .enumerate()
        .filter(|(i, p)| !p.deleting && p.metric.is_some() && !unready.contains(i))
        .map(|(_, p)| p.metric.unwrap_or(0))
        .collect();
    if m.is_empty() {
        return None;
    }
    // GetMetricUsageRatio: usage ratio and the average per pod.
    let ratio_of = |m: &[i64]| {
        let avg = m.iter().sum::<i64>() / m.len() as i64;
        (avg as f64 / target as f64, avg)
    };
    let (ratio, avg) = ratio_of(&m);
    let current = current as i64;
    let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - ratio).abs() <= tolerance {
            return Some((current as u32, avg));
        }
        return Some(((ratio * ready as f64).ceil() as u32, avg));
    }
    for _ in &missing {
        if ratio < 1.0 {
            m.push(target);
        } else {
            m.push(0);
        }
    }
    if scale_up_with_unready {
        m.extend(unready.iter().map(|_| 0));
    }
    let (new_ratio, _) = ratio_of(&m);
    if (1.0 - new_ratio).abs() <= tolerance
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Some((current as u32, avg));
    }
    let n = (new_ratio * m.len() as f64).ceil() as i64;
    if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
        return Some((current as u32, avg));
    }
    Some((n as u32, avg))
}

/// `GetExternalPerPodMetricReplicas`: a total (milli) against a target per pod.
pub fn external_per_pod(usage: i64, target: i64, status_replicas: u32, tolerance: f64) -> u32 {
    let mut replicas = status_replicas;
    let ratio = usage as f64 / (target as f64 * replicas as f64);
    if (1.0 - ratio).abs() > tolerance {
        replicas = (usage as f64 / target as f64).ceil() as u32;
    }
    replicas
}

/// `getUsageRatioReplicas` (an Object metric with a Value target).
pub fn usage_ratio_replicas(
    usage: i64,
    target: i64,
    current: u32,
    ready: u32,
    tolerance: f64,
) -> u32 {
    let ratio = usage as f64 / target as f64;
    if current != 0 {
        if (1.0 - ratio).abs() <= tolerance {
            return current;
        }
        (ratio * ready as f64).ceil() as u32
    } else {
        ratio.ceil() as u32
    }
}

/// The controller's memory for one HPA.
#[derive(Debug, Clone, Default)]
pub struct Hpa {
    /// `a.recommendations[key]`: (recommendation, time).
    recommendations: Vec<(i64, SimTime)>,
    /// `a.scaleUpEvents[key]`, `a.scaleDownEvents[key]`: (change, time).
    up_events: Vec<(i64, SimTime)>,
    down_events: Vec<(i64, SimTime)>,
}

impl Hpa {
    /// `reconcileAutoscaler` (horizontal.go) after the metric's recommendation
    /// `proposal` (`None`: metrics unavailable): the new size, or `None` to keep it.
    pub fn reconcile(
        &mut self,
        spec: &HpaSpec,
        now: SimTime,
        current: u32,
        proposal: Option<u32>,
    ) -> Option<u32> {
        let (cur, min, max) = (current as i64, spec.min as i64, spec.max as i64);
        let desired = if cur == 0 && min != 0 {
            return None; // autoscaling is disabled for a resource scaled to zero
        } else if cur > max {
            max
        } else if cur < min {
            min
        } else {
            let proposal = proposal? as i64;
            match &spec.behavior {
                None => self.normalize(spec, now, cur, proposal),
                Some((up, down)) => {
                    self.normalize_with_behaviors(spec, up, down, now, cur, proposal)
                }
            }
        };
        if desired == cur {
            return None;
        }
        if let Some((up, down)) = &spec.behavior {
            self.store_scale_event(up, down, now, cur, desired);
        }
        Some(desired as u32)
    }

    /// `normalizeDesiredReplicas`: `stabilizeRecommendation`, then
    /// `convertDesiredReplicasWithRules`.
    fn normalize(&mut self, spec: &HpaSpec, now: SimTime, cur: i64, proposal: i64) -> i64 {
        // stabilizeRecommendation: the highest recommendation inside the window; an old
        // sample's slot is reused.
        let mut max_rec = proposal;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.1 + spec.downscale_stabilization < now {
                old = Some(i);
            } else if r.0 > max_rec {
                max_rec = r.0;
            }
        }
        match old {
            Some(i) => self.recommendations[i] = (proposal, now),
            None => self.recommendations.push((proposal, now)),
        }
        // convertDesiredReplicasWithRules.
        let scale_up_limit = (SCALE_UP_FACTOR * cur).max(SCALE_UP_MINIMUM);
        let max_allowed = (spec.max as i64).min(scale_up_limit);
        max_rec.clamp(spec.min as i64, max_allowed.max(spec.min as i64))
    }

    /// `normalizeDesiredReplicasWithBehaviors`: `stabilizeRecommendationWithBehaviors`,
    /// then `convertDesiredReplicasWithBehaviorRate`.
    fn normalize_with_behaviors(
        &mut self,
        spec: &HpaSpec,
        up: &Rules,
        down: &Rules,
        now: SimTime,
        cur: i64,
        proposal: i64,
    ) -> i64 {
        let cutoff = |w: SimTime| SimTime::from_nanos(now.as_nanos().saturating_sub(w.as_nanos()));
        let (up_cut, down_cut) = (cutoff(up.stabilization), cutoff(down.stabilization));
        let (mut up_rec, mut down_rec) = (proposal, proposal);
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.1 > up_cut {
                up_rec = up_rec.min(r.0);
            }
            if r.1 > down_cut {
                down_rec = down_rec.max(r.0);
            }
            if r.1 < up_cut && r.1 < down_cut {
                old = Some(i);
            }
        }
        let rec = cur.max(up_rec).min(down_rec);
        match old {
            Some(i) => self.recommendations[i] = (proposal, now),
            None => self.recommendations.push((proposal, now)),
        }
        // convertDesiredReplicasWithBehaviorRate.
        let (min, max) = (spec.min as i64, spec.max as i64);
        if rec > cur {
            let limit = self.scale_up_limit(up, now, cur).max(cur);
            rec.min(max.min(limit))
        } else if rec < cur {
            let limit = self.scale_down_limit(down, now, cur).min(cur);
            rec.max(min.max(limit))
        } else {
            rec
        }
    }

    /// `getReplicasChangePerPeriod`.
    fn change_in(events: &[(i64, SimTime)], now: SimTime, period: SimTime) -> i64 {
        events
            .iter()
            .filter(|e| e.1 + period > now)
            .map(|e| e.0)
            .sum()
    }

    /// (replicas at the start of `p`'s period).
    fn period_start(&self, p: Policy, now: SimTime, cur: i64) -> i64 {
        cur - Self::change_in(&self.up_events, now, p.period())
            + Self::change_in(&self.down_events, now, p.period())
    }

    /// `calculateScaleUpLimitWithScalingRules`.
    fn scale_up_limit(&self, rules: &Rules, now: SimTime, cur: i64) -> i64 {
        let pick: fn(i64, i64) -> i64 = match rules.select {
            Select::Disabled => return cur,
            Select::Min => i64::min,
            Select::Max => i64::max,
        };
        let mut result = if rules.select == Select::Min {
            i64::from(i32::MAX)
        } else {
            i64::from(i32::MIN)
        };
        for &p in &rules.policies {
            let start = self.period_start(p, now, cur);
            let proposed = match p {
                Policy::Pods(v, _) => start + v as i64,
                Policy::Percent(v, _) => (start as f64 * (1.0 + v as f64 / 100.0)).ceil() as i64,
            };
            result = pick(result, proposed);
        }
        result
    }

    /// `calculateScaleDownLimitWithBehaviors`.
    fn scale_down_limit(&self, rules: &Rules, now: SimTime, cur: i64) -> i64 {
        let pick: fn(i64, i64) -> i64 = match rules.select {
            Select::Disabled => return cur,
            Select::Min => i64::max,
            Select::Max => i64::min,
        };
        let mut result = if rules.select == Select::Min {
            i64::from(i32::MIN)
        } else {
            i64::from(i32::MAX)
        };
        for &p in &rules.policies {
            let start = self.period_start(p, now, cur);
            let proposed = match p {
                Policy::Pods(v, _) => start - v as i64,
                Policy::Percent(v, _) => (start as f64 * (1.0 - v as f64 / 100.0)) as i64,
            };
            result = pick(result, proposed);
        }
        result
    }

    /// `storeScaleEvent`: outdated events (older than the longest policy period) are
    /// dropped (`markScaleEventsOutdated` / `getLongestPolicyPeriod`).
    fn store_scale_event(&mut self, up: &Rules, down: &Rules, now: SimTime, cur: i64, to: i64) {
        let longest = |r: &Rules| {
            r.policies
                .iter()
                .map(|p| p.period())
                .max()
                .unwrap_or(SimTime::ZERO)
        };
        if to > cur {
            let l = longest(up);
            self.up_events.retain(|e| e.1 + l > now);
            self.up_events.push((to - cur, now));
        } else {
            let l = longest(down);
            self.down_events.retain(|e| e.1 + l > now);
            self.down_events.push((cur - to, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(milli: Option<i64>, ready: bool, started: u64, transition: u64) -> Pod {
        Pod {
            deleting: false,
            ready,
            started: SimTime::from_secs(started),
            transition: SimTime::from_secs(transition),
            metric: milli,
            request: 1000,
        }
    }

    const W: SimTime = SimTime::from_secs(15);

    #[test]
    fn utilisation_is_truncated_to_whole_percent_and_the_tolerance_band_holds() {
        let now = SimTime::from_secs(1000);
        // 2 pods at 899 and 900 millicores: 1799 × 100 / 2000 = 89 (89.95 truncated).
        let pods = [pod(Some(899), true, 0, 10), pod(Some(900), true, 0, 10)];
        assert_eq!(resource_replicas(&pods, 2, 60, 0.1, now, W), Some((3, 89)));
        // 65% against 60: ratio 1.083, inside the band: no change.
        let pods = [pod(Some(650), true, 0, 10), pod(Some(650), true, 0, 10)];
        assert_eq!(resource_replicas(&pods, 2, 60, 0.1, now, W), Some((2, 65)));
        // 67% → ratio 1.1167: ceil(1.1167 × 2) = 3.
        let pods = [pod(Some(670), true, 0, 10), pod(Some(670), true, 0, 10)];
        assert_eq!(resource_replicas(&pods, 2, 60, 0.1, now, W), Some((3, 67)));
    }

    #[test]
    fn unready_pods_count_zero_on_a_scale_up_and_missing_ones_full_on_a_scale_down() {
        let now = SimTime::from_secs(1000);
        // Two ready pods at 100%, one starting (unready), target 50: counted at 0% the
        // unready pod makes 2000/3000 = 66% → 1.32 → ceil(1.32 × 3) = 4.
        let starting = pod(Some(0), false, 990, 990);
        let pods = [
            pod(Some(1000), true, 0, 10),
            pod(Some(1000), true, 0, 10),
            starting,
        ];
        assert_eq!(resource_replicas(&pods, 3, 50, 0.1, now, W), Some((4, 100)));
        // Two ready at 70% beside one starting and two being deleted (current 5): 1.4 on the
        // ready pods, but 1400/3000 = 46% → 0.92 with the starting one at 0: the direction
        // would change, so no change (the fast path would have gone down to ceil(2.8) = 3).
        let deleting = Pod {
            deleting: true,
            ..pod(Some(0), true, 0, 10)
        };
        let pods = [
            pod(Some(700), true, 0, 10),
            pod(Some(700), true, 0, 10),
            starting,
            deleting,
            deleting,
        ];
        assert_eq!(resource_replicas(&pods, 5, 50, 0.1, now, W), Some((5, 70)));
        // Ready for less than one window within the initialisation period: unready too.
        let p = pod(Some(1000), true, 900, 990);
        assert_eq!(group_pods(&[p], true, now, W).1, vec![0]);
        // ... but not after the initialisation period.
        let p = pod(Some(1000), true, 0, 990);
        assert_eq!(group_pods(&[p], true, now, W).0, 1);
        // Scale-down with a missing pod: 2 pods at 20%, one missing counted at
        // max(100%, 60%) = 100%: 1400/3000 = 46% → 0.7667 → ceil(2.3) = 3 = current: keep.
        let pods = [
            pod(Some(200), true, 0, 10),
            pod(Some(200), true, 0, 10),
            pod(None, true, 995, 995),
        ];
        assert_eq!(resource_replicas(&pods, 3, 60, 0.1, now, W), Some((3, 20)));
        // Without the missing pod it would go to ceil(20/60 × 2) = 1.
        assert_eq!(
            resource_replicas(&pods[..2], 2, 60, 0.1, now, W),
            Some((1, 20))
        );
    }

    fn spec(behavior: Option<(Rules, Rules)>) -> HpaSpec {
        HpaSpec {
            metric: super::super::autoscale::Metric::Cpu,
            target: 50,
            min: 1,
            max: 100,
            sync: W,
            tolerance: 0.1,
            downscale_stabilization: SimTime::from_secs(300),
            behavior,
        }
    }

    #[test]
    fn legacy_path_limits_a_scale_up_to_twice_and_holds_the_highest_for_300s() {
        let s = spec(None);
        let mut h = Hpa::default();
        let t = |k: u64| SimTime::from_secs(15 * k);
        // 2 → wants 10: at most max(2 × 2, 4) = 4.
        assert_eq!(h.reconcile(&s, t(1), 2, Some(10)), Some(4));
        // Then wants 1, but the 10 recorded at 15 s rules for 300 s: limited to 8, then 10.
        assert_eq!(h.reconcile(&s, t(2), 4, Some(1)), Some(8));
        assert_eq!(h.reconcile(&s, t(3), 8, Some(1)), Some(10));
        // At 315 s the 15 s sample is not yet older than the window (Before is strict);
        // at 330 s it is, and the highest left is 1.
        assert_eq!(h.reconcile(&s, t(21), 10, Some(1)), None);
        assert_eq!(h.reconcile(&s, t(22), 10, Some(1)), Some(1));
    }

    #[test]
    fn behaviour_policies_limit_the_rate_per_period() {
        let s = spec(Some((Rules::default_up(), Rules::default_down())));
        let mut h = Hpa::default();
        let t = |k: u64| SimTime::from_secs(15 * k);
        // Up: max(1 + 4, 2 × 1) = 5 per 15 s.
        assert_eq!(h.reconcile(&s, t(1), 1, Some(50)), Some(5));
        // 15 s later the event is exactly one period old: out of the period (After the
        // cutoff is strict): from 5, max(9, 10) = 10.
        assert_eq!(h.reconcile(&s, t(2), 5, Some(50)), Some(10));
        // A Pods(1, 60 s) scale-down with no stabilisation: one pod per minute.
        let down = Rules {
            stabilization: SimTime::ZERO,
            select: Select::Max,
            policies: vec![Policy::Pods(1, SimTime::from_secs(60))],
        };
        let s = spec(Some((Rules::default_up(), down)));
        let mut h = Hpa::default();
        assert_eq!(h.reconcile(&s, t(1), 10, Some(2)), Some(9));
        assert_eq!(h.reconcile(&s, t(2), 9, Some(2)), None);
        assert_eq!(h.reconcile(&s, t(5), 9, Some(2)), Some(8));
        // Disabled scale-down: never.
        let off = Rules {
            select: Select::Disabled,
            ..Rules::default_down()
        };
        let s = spec(Some((Rules::default_up(), off)));
        assert_eq!(Hpa::default().reconcile(&s, t(1), 10, Some(2)), None);
    }

    #[test]
    fn out_of_bounds_goes_straight_to_the_bound() {
        let s = spec(None);
        assert_eq!(Hpa::default().reconcile(&s, W, 200, Some(150)), Some(100));
        let s = HpaSpec {
            min: 3,
            ..spec(None)
        };
        assert_eq!(Hpa::default().reconcile(&s, W, 2, None), Some(3));
        // A resource scaled to zero is left alone.
        assert_eq!(Hpa::default().reconcile(&s, W, 0, Some(5)), None);
    }
}

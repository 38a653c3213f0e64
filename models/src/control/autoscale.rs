//! Autoscalers (`autoscale:` on a service): the policies as written, validated, and their
//! decision rules. The world feeds a policy one metric datapoint per `period` (the
//! metric's average over that period, never an instantaneous reading) and applies what it
//! decides as a change of the pool's size, noted on the timeline with the reason.
//!
//! ```ron
//! autoscale: TargetTracking(metric: Cpu, target: 0.6, min: 2, max: 40, warmup: "120s",
//!                           scale_in_cooldown: "300s")
//! autoscale: StepScaling(metric: Cpu, steps: [(above: 0.8, add: 2), (above: 0.9, add: 4),
//!                        (below: 0.4, add: -1)], cooldown: "300s", min: 2, max: 20)
//! autoscale: Scheduled([(at: "8h", instances: 10), (at: "20h", instances: 2)])
//! autoscale: QueueDriven(queue: "jobs", per_instance: 100, min: 0, max: 40)
//! autoscale: KubernetesHpa(metric: Cpu, target: 0.6, min: 1, max: 20)
//! autoscale: Vertical(metric: Cpu, above: 0.8, below: 0.3,
//!                     sizes: [(cores: 2, cost_per_hour: 0.1), (cores: 8, cost_per_hour: 0.5)])
//! ```
//!
//! **TargetTracking** follows AWS Application Auto Scaling's target tracking: two
//! CloudWatch alarms over 1-minute datapoints — scale out when the last 3 are all above
//! the target, scale in when the last 15 are all below 90% of it (AWS's own alarm
//! settings for target tracking policies) — to `ceil(serving × metric / target)`
//! instances, clamped to `[min, max]`. Instances still starting count in the pool's size
//! (a scale-out never asks again for capacity already launching). Instances launched
//! during the run count in a `Cpu` metric only from `warmup` after their launch (AWS's
//! instance warm-up: a fresh instance, with no backlog yet, would pull the average down
//! and stop a scale-out that is still needed). No scale-in within `warmup` of a
//! scale-out or `scale_in_cooldown` of a scale-in; a scale-out may come at any time and
//! ends a scale-in cooldown.
//!
//! **StepScaling**: each datapoint picks the step of the highest `above` bound the metric
//! exceeds, else of the lowest `below` bound it is under, and adds its `add` (negative to
//! remove), clamped to `[min, max]`; none within `cooldown` of the last change.
//!
//! **Scheduled**: at each time, the pool is set to that many instances.
//!
//! **QueueDriven** (KEDA-like): every `polling`, `ceil(backlog / per_instance)` clamped,
//! up at once (from zero too), down only to the highest size wanted over `cooldown`.
//!
//! **KubernetesHpa**: the HPA controller's own rules, in [`crate::control::hpa`].
//!
//! **Vertical**: `points` datapoints in a row above `above` (below `below`) resize the
//! pool to the next size up (down) of `sizes` — every instance replaced, one at a time or
//! all at once, each paying its start-up — with no change within `cooldown`; at the
//! largest size it notes the ceiling on the timeline once per stretch above it.

use crate::scenario::raw::Dur;
use crate::scenario::{Resolver, ScenarioError, MAX_INSTANCES};
use serde::Deserialize;
use sim_core::SimTime;

/// Datapoints above the target before a target-tracking scale-out (AWS: 3 of 1 minute).
pub const OUT_POINTS: usize = 3;
/// Datapoints below 90% of the target before a scale-in (AWS: 15 of 1 minute).
pub const IN_POINTS: usize = 15;
/// The scale-in alarm's threshold, as a share of the target (AWS: 0.9).
pub const IN_SHARE: f64 = 0.9;

/// What an autoscaler reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Metric {
    /// Busy workers / workers of the serving instances (a fraction).
    Cpu,
    /// Requests completed per second per serving instance.
    RequestsPerInstance,
    /// The 95th percentile of the pool's response time over the period, seconds.
    LatencyP95,
    /// Waiting work per serving instance: the backlog of the queues the pool consumes
    /// (read at the datapoint, as CloudWatch samples SQS), else the time-average of the
    /// requests waiting at its instances.
    QueueBacklogPerInstance,
}

impl Metric {
    fn label(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::RequestsPerInstance => "requests/s per instance",
            Metric::LatencyP95 => "p95",
            Metric::QueueBacklogPerInstance => "backlog per instance",
        }
    }

    /// `v` in words: `cpu 73%`, `requests/s per instance 41.2`.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::Cpu => format!("cpu {:.0}%", v * 100.0),
            Metric::LatencyP95 => format!("p95 {}", crate::report::human_secs(v)),
            Metric::RequestsPerInstance | Metric::QueueBacklogPerInstance => {
                format!("{} {v:.1}", self.label())
            }
        }
    }
}

/// One step of a step-scaling policy as written: `(above: 0.8, add: 2)` or
/// `(below: 0.4, add: -1)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// The metric above this.
    #[serde(default)]
    pub above: Option<f64>,
    /// The metric below this.
    #[serde(default)]
    pub below: Option<f64>,
    /// Instances to add (negative: remove).
    pub add: i32,
}

/// One entry of a schedule: `(at: "8h", instances: 10)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    /// When.
    pub at: Dur,
    /// The pool's size from then on.
    pub instances: u32,
}

fn sixty() -> Dur {
    Dur(SimTime::from_secs(60))
}
fn three_hundred() -> Dur {
    Dur(SimTime::from_secs(300))
}

/// An autoscaling policy as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum RawAutoscale {
    /// AWS-style target tracking.
    TargetTracking {
        /// What it reads.
        metric: Metric,
        /// The value it keeps the metric at.
        target: f64,
        /// Fewest instances.
        min: u32,
        /// Most instances.
        max: u32,
        /// No scale-in this long after a scale-out. Default: `"300s"`.
        #[serde(default = "three_hundred")]
        warmup: Dur,
        /// No scale-in this long after a scale-in. Default: `"300s"`.
        #[serde(default = "three_hundred")]
        scale_in_cooldown: Dur,
        /// Datapoint length (the metric averaged over it). Default: `"60s"`.
        #[serde(default = "sixty")]
        period: Dur,
    },
    /// Step scaling.
    StepScaling {
        /// What it reads.
        metric: Metric,
        /// The steps.
        steps: Vec<RawStep>,
        /// No change this long after a change. Default: `"300s"`.
        #[serde(default = "three_hundred")]
        cooldown: Dur,
        /// Fewest instances.
        min: u32,
        /// Most instances.
        max: u32,
        /// Datapoint length. Default: `"60s"`.
        #[serde(default = "sixty")]
        period: Dur,
    },
    /// Sizes at fixed times.
    Scheduled(Vec<RawScheduled>),
    /// KEDA-like: workers for a queue's backlog.
    QueueDriven {
        /// The queue this pool consumes.
        queue: String,
        /// Messages waiting per instance.
        per_instance: f64,
        /// Fewest instances (0: scale to zero).
        min: u32,
        /// Most instances.
        max: u32,
        /// Time between readings of the backlog. Default: `"30s"` (KEDA's
        /// `pollingInterval`).
        #[serde(default = "thirty")]
        polling: Dur,
        /// A scale-down goes only as low as the highest size wanted over this window.
        /// Default: `"300s"` (KEDA's `cooldownPeriod`, the HPA's stabilisation).
        #[serde(default = "three_hundred")]
        cooldown: Dur,
    },
    /// Vertical scaling: the pool is resized (each instance replaced by one of the next
    /// size, paying its start-up) when the metric stays above `above`, or below `below`,
    /// for `points` datapoints; no change within `cooldown` of the last.
    Vertical {
        /// What it reads.
        metric: Metric,
        /// Grow above this.
        above: f64,
        /// Shrink below this.
        below: f64,
        /// The sizes, smallest first; the pool's `cores` must be one of them.
        sizes: Vec<RawSize>,
        /// How instances are replaced. Default: `Rolling`.
        #[serde(default)]
        mode: crate::scenario::raw::ResizeMode,
        /// Datapoint length. Default: `"60s"`.
        #[serde(default = "sixty")]
        period: Dur,
        /// Datapoints in a row. Default: 3.
        #[serde(default = "three")]
        points: u32,
        /// No change this long after the last. Default: `"600s"`.
        #[serde(default = "six_hundred")]
        cooldown: Dur,
    },
    /// The Kubernetes HorizontalPodAutoscaler (see [`crate::control::hpa`]).
    KubernetesHpa {
        /// What it reads.
        metric: Metric,
        /// Target: a utilisation in (0, 1] (whole percent) for `Cpu`; else the value per
        /// pod (`RequestsPerInstance`, `QueueBacklogPerInstance`) or of the pool
        /// (`LatencyP95`, seconds).
        target: f64,
        /// `minReplicas`.
        min: u32,
        /// `maxReplicas`.
        max: u32,
        /// Sync period, also the metrics window. Default: `"15s"`.
        #[serde(default = "fifteen")]
        sync: Dur,
        /// No change while the usage ratio is within this of 1. Default: 0.1.
        #[serde(default = "tenth")]
        tolerance: f64,
        /// Without `behavior`: a scale-down goes only to the highest recommendation over
        /// this window. Default: `"300s"`.
        #[serde(default = "three_hundred")]
        downscale_stabilization: Dur,
        /// `spec.behavior`; unset: the legacy path.
        #[serde(default)]
        behavior: Option<RawBehavior>,
    },
}

fn thirty() -> Dur {
    Dur(SimTime::from_secs(30))
}
fn three() -> u32 {
    3
}
fn six_hundred() -> Dur {
    Dur(SimTime::from_secs(600))
}

/// One instance size of a vertical autoscaler: `(cores: 4, cost_per_hour: 0.2)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSize {
    /// Cores.
    pub cores: u32,
    /// Price per instance-hour.
    pub cost_per_hour: f64,
}

fn fifteen() -> Dur {
    Dur(SimTime::from_secs(15))
}
fn tenth() -> f64 {
    0.1
}

/// One HPA scaling policy as written: `Pods(4, "15s")`, `Percent(100, "15s")`.
#[derive(Debug, Clone, Deserialize)]
pub enum RawPolicy {
    /// At most this many pods per period.
    Pods(u32, Dur),
    /// At most this percent of the pods at the period's start per period.
    Percent(u32, Dur),
}

/// One direction of an HPA's `behavior` (`HPAScalingRules`); what is left out takes
/// Kubernetes' default for that direction.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rules")]
pub struct RawRules {
    /// `stabilizationWindowSeconds`.
    #[serde(default)]
    pub stabilization: Option<Dur>,
    /// `selectPolicy`: `Max` (default), `Min` or `Disabled`.
    #[serde(default)]
    pub select: Option<crate::control::hpa::Select>,
    /// `policies`.
    #[serde(default)]
    pub policies: Option<Vec<RawPolicy>>,
}

/// An HPA's `behavior`: `Behavior(scale_up: Rules(...), scale_down: Rules(...))`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "Behavior")]
pub struct RawBehavior {
    /// Scaling up (default: no stabilisation, max(4 pods, 100%) per 15 s).
    #[serde(default)]
    pub scale_up: Option<RawRules>,
    /// Scaling down (default: 300 s stabilisation, 100% per 15 s).
    #[serde(default)]
    pub scale_down: Option<RawRules>,
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Autoscale {
    /// Target tracking.
    TargetTracking {
        /// Metric.
        metric: Metric,
        /// Target.
        target: f64,
        /// Bounds.
        min: u32,
        /// Bounds.
        max: u32,
        /// Scale-in blocked after a scale-out.
        warmup: SimTime,
        /// Scale-in blocked after a scale-in.
        scale_in_cooldown: SimTime,
        /// Datapoint length.
        period: SimTime,
    },
    /// Step scaling; `up`: (above, add) by `above` ascending; `down`: (below, add) by
    /// `below` ascending.
    StepScaling {
        /// Metric.
        metric: Metric,
        /// Steps up.
        up: Vec<(f64, i32)>,
        /// Steps down.
        down: Vec<(f64, i32)>,
        /// After any change.
        cooldown: SimTime,
        /// Bounds.
        min: u32,
        /// Bounds.
        max: u32,
        /// Datapoint length.
        period: SimTime,
    },
    /// (time, instances), in time order.
    Scheduled(Vec<(SimTime, u32)>),
    /// Workers for a queue's backlog.
    QueueDriven {
        /// The queue.
        queue: crate::ids::NodeId,
        /// Messages per instance.
        per_instance: f64,
        /// Bounds.
        min: u32,
        /// Bounds.
        max: u32,
        /// Between readings.
        polling: SimTime,
        /// Scale-down window.
        cooldown: SimTime,
    },
    /// The Kubernetes HPA.
    KubernetesHpa(Box<crate::control::hpa::HpaSpec>),
    /// Vertical scaling.
    Vertical {
        /// Metric.
        metric: Metric,
        /// Grow above.
        above: f64,
        /// Shrink below.
        below: f64,
        /// (cores, price per hour), by cores ascending.
        sizes: Vec<(u32, f64)>,
        /// Replace one at a time (else all at once).
        rolling: bool,
        /// Datapoint length.
        period: SimTime,
        /// Datapoints in a row.
        points: usize,
        /// After a change.
        cooldown: SimTime,
    },
}

impl Autoscale {
    /// Validate service `owner`'s policy; `duration` is the run's.
    pub fn validate(
        raw: &RawAutoscale,
        owner: &str,
        duration: SimTime,
        r: &Resolver,
    ) -> Result<Autoscale, ScenarioError> {
        let decl = r.decl(owner);
        // Fields are looked for after `autoscale:` (a handler may have a `min:` too).
        let at = r.loc().field("autoscale", decl).map_or(decl, |s| s.1);
        let field = |f: &str| r.loc().field(f, at).or(r.loc().decl(owner));
        let bounds = |min: u32, max: u32| {
            if min > max || max > MAX_INSTANCES {
                Err(r
                    .err(
                        field("min"),
                        format!("service `{owner}`: autoscale min ({min}) must be at most max ({max}), and max at most {MAX_INSTANCES}"),
                    )
                    .with_hint("e.g. min: 2, max: 40"))
            } else {
                Ok(())
            }
        };
        let period_ok = |p: SimTime| {
            if p < SimTime::from_secs(1) {
                Err(r
                    .err(
                        field("period"),
                        format!("service `{owner}`: an autoscaler's period must be at least 1s"),
                    )
                    .with_hint("the metric's datapoint length, e.g. period: \"60s\""))
            } else {
                Ok(())
            }
        };
        Ok(match raw {
            RawAutoscale::TargetTracking {
                metric,
                target,
                min,
                max,
                warmup,
                scale_in_cooldown,
                period,
            } => {
                bounds(*min, *max)?;
                period_ok(period.0)?;
                let ok = match metric {
                    Metric::Cpu => *target > 0.0 && *target <= 1.0,
                    _ => *target > 0.0 && target.is_finite(),
                };
                if !ok {
                    return Err(r
                        .err(
                            field("target"),
                            format!(
                                "service `{owner}`: target {target} is outside {}",
                                if *metric == Metric::Cpu {
                                    "(0, 1] for a utilisation"
                                } else {
                                    "(0, ∞)"
                                }
                            ),
                        )
                        .with_hint("e.g. TargetTracking(metric: Cpu, target: 0.6, ...)"));
                }
                Autoscale::TargetTracking {
                    metric: *metric,
                    target: *target,
                    min: *min,
                    max: *max,
                    warmup: warmup.0,
                    scale_in_cooldown: scale_in_cooldown.0,
                    period: period.0,
                }
            }
            RawAutoscale::StepScaling {
                metric,
                steps,
                cooldown,
                min,
                max,
                period,
            } => {
                bounds(*min, *max)?;
                period_ok(period.0)?;
                let bad = |m: String| {
                    Err(r.err(field("steps"), m).with_hint(
                        "e.g. steps: [(above: 0.8, add: 2), (above: 0.9, add: 4), (below: 0.4, add: -1)]",
                    ))
                };
                let (mut up, mut down) = (vec![], vec![]);
                for s in steps {
                    match (s.above, s.below) {
                        (Some(a), None) if s.add > 0 && a.is_finite() => up.push((a, s.add)),
                        (None, Some(b)) if s.add < 0 && b.is_finite() => down.push((b, s.add)),
                        _ => {
                            return bad(format!(
                                "service `{owner}`: each step has one bound, `above` with a positive add or `below` with a negative add"
                            ))
                        }
                    }
                }
                if steps.is_empty() {
                    return bad(format!("service `{owner}`: StepScaling has no steps"));
                }
                up.sort_by(|a, b| a.0.total_cmp(&b.0));
                down.sort_by(|a, b| a.0.total_cmp(&b.0));
                let dup = |v: &[(f64, i32)]| v.windows(2).any(|w| w[0].0 == w[1].0);
                let overlap = match (up.first(), down.last()) {
                    (Some(u), Some(d)) => d.0 > u.0,
                    _ => false,
                };
                if dup(&up) || dup(&down) || overlap {
                    return bad(format!(
                        "service `{owner}`: step bounds overlap (a bound twice, or a `below` above an `above`)"
                    ));
                }
                Autoscale::StepScaling {
                    metric: *metric,
                    up,
                    down,
                    cooldown: cooldown.0,
                    min: *min,
                    max: *max,
                    period: period.0,
                }
            }
            RawAutoscale::Scheduled(entries) => {
                let mut out: Vec<(SimTime, u32)> = vec![];
                for e in entries {
                    if e.at.0 > duration {
                        return Err(r
                            .err(
                                r.loc().quoted(&e.at.0.to_string(), at).or(field("at")),
                                format!(
                                    "service `{owner}`: a schedule entry at {} comes after the end of the run ({duration})",
                                    e.at.0
                                ),
                            )
                            .with_hint("schedule within the duration"));
                    }
                    if e.instances > MAX_INSTANCES {
                        return Err(r.err(
                            field("instances"),
                            format!(
                                "service `{owner}`: {} instances is more than {MAX_INSTANCES}",
                                e.instances
                            ),
                        ));
                    }
                    out.push((e.at.0, e.instances));
                }
                out.sort_by_key(|e| e.0);
                if out.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(r
                        .err(
                            field("at"),
                            format!("service `{owner}`: two schedule entries at one time"),
                        )
                        .with_hint("one size per time"));
                }
                Autoscale::Scheduled(out)
            }
            RawAutoscale::QueueDriven {
                queue,
                per_instance,
                min,
                max,
                polling,
                cooldown,
            } => {
                bounds(*min, *max)?;
                period_ok(polling.0)?;
                let id = r.node(queue, at)?;
                let consumes = matches!(
                    r.raw_node(id),
                    crate::scenario::raw::RawNode::Queue(q) if q.consumer == owner
                );
                if !consumes {
                    return Err(r
                        .err(
                            r.loc().quoted(queue, at),
                            format!("service `{owner}`: `{queue}` is not a queue that `{owner}` consumes"),
                        )
                        .with_hint("QueueDriven scales the consumer of a queue: Queue(name: \"q\", consumer: \"workers\")"));
                }
                if !(*per_instance > 0.0 && per_instance.is_finite()) {
                    return Err(r
                        .err(
                            field("per_instance"),
                            format!("service `{owner}`: per_instance must be above 0"),
                        )
                        .with_hint("messages waiting per instance, e.g. per_instance: 100"));
                }
                Autoscale::QueueDriven {
                    queue: id,
                    per_instance: *per_instance,
                    min: *min,
                    max: *max,
                    polling: polling.0,
                    cooldown: cooldown.0,
                }
            }
            RawAutoscale::Vertical {
                metric,
                above,
                below,
                sizes,
                mode,
                period,
                points,
                cooldown,
            } => {
                period_ok(period.0)?;
                let bad = |f: &str, m: String, hint: &str| {
                    Err(r.err(field(f), m).with_hint(hint.to_string()))
                };
                let sz: Vec<(u32, f64)> =
                    sizes.iter().map(|x| (x.cores, x.cost_per_hour)).collect();
                let sorted = sz.windows(2).all(|w| w[0].0 < w[1].0);
                let sane = sz.iter().all(|x| {
                    x.0 >= 1
                        && x.0 <= crate::components::service::MAX_CORES
                        && x.1 >= 0.0
                        && x.1 <= crate::scenario::raw::MAX_PRICE
                });
                if sz.is_empty() || !sorted || !sane {
                    return bad(
                        "sizes",
                        format!("service `{owner}`: a vertical autoscaler needs sizes with cores growing from one to the next"),
                        "e.g. sizes: [(cores: 2, cost_per_hour: 0.1), (cores: 4, cost_per_hour: 0.22)]",
                    );
                }
                let own = match r.raw_node(r.node(owner, decl)?) {
                    crate::scenario::raw::RawNode::Service(s) => s.cores.0,
                    _ => 0,
                };
                if !sz.iter().any(|x| x.0 == own) {
                    return bad(
                        "sizes",
                        format!("service `{owner}` has {own} cores, which is not one of its vertical autoscaler's sizes"),
                        "list the pool's own size among `sizes`",
                    );
                }
                if !(*below >= 0.0 && below < above && above.is_finite())
                    || (*metric == Metric::Cpu && *above > 1.0)
                {
                    return bad(
                        "above",
                        format!("service `{owner}`: a vertical autoscaler needs 0 ≤ below < above (and above ≤ 1 for Cpu)"),
                        "e.g. above: 0.8, below: 0.3",
                    );
                }
                if *points == 0 || *points as usize > IN_POINTS {
                    return bad(
                        "points",
                        format!("service `{owner}`: points must be from 1 to {IN_POINTS}"),
                        "datapoints in a row before a resize, e.g. points: 3",
                    );
                }
                Autoscale::Vertical {
                    metric: *metric,
                    above: *above,
                    below: *below,
                    sizes: sz,
                    rolling: *mode == crate::scenario::raw::ResizeMode::Rolling,
                    period: period.0,
                    points: *points as usize,
                    cooldown: cooldown.0,
                }
            }
            RawAutoscale::KubernetesHpa {
                metric,
                target,
                min,
                max,
                sync,
                tolerance,
                downscale_stabilization,
                behavior,
            } => {
                use crate::control::hpa::{HpaSpec, Policy, Rules};
                bounds(*min, *max)?;
                if sync.0 < SimTime::from_secs(1) {
                    return Err(r
                        .err(
                            field("sync"),
                            format!("service `{owner}`: the HPA's sync period must be at least 1s"),
                        )
                        .with_hint("Kubernetes' default: sync: \"15s\""));
                }
                let target = match metric {
                    Metric::Cpu => {
                        let pct = (target * 100.0).round();
                        if !(*target > 0.0 && *target <= 1.0) || (pct - target * 100.0).abs() > 1e-6
                        {
                            return Err(r
                                .err(
                                    field("target"),
                                    format!("service `{owner}`: an HPA's CPU target {target} must be a whole percent in (0, 1]"),
                                )
                                .with_hint("targetAverageUtilization is an integer percent: e.g. target: 0.6"));
                        }
                        pct as i64
                    }
                    _ => {
                        let milli = (target * 1000.0).round();
                        if !(1.0..1e15).contains(&milli) {
                            return Err(r
                                .err(field("target"), format!("service `{owner}`: an HPA's target {target} must be at least 0.001"))
                                .with_hint("the metric's value per pod (or of the pool for LatencyP95, in seconds)"));
                        }
                        milli as i64
                    }
                };
                if !(*tolerance >= 0.0 && *tolerance < 1.0) {
                    return Err(r
                        .err(
                            field("tolerance"),
                            format!("service `{owner}`: tolerance {tolerance} is outside [0, 1)"),
                        )
                        .with_hint("Kubernetes' default: tolerance: 0.1"));
                }
                let rules = |raw: Option<&RawRules>, default: Rules, name: &str| {
                    let Some(raw) = raw else {
                        return Ok(default);
                    };
                    let mut policies = default.policies.clone();
                    if let Some(ps) = &raw.policies {
                        policies = ps
                            .iter()
                            .map(|p| match *p {
                                RawPolicy::Pods(v, d) => (v, d.0, Policy::Pods(v, d.0)),
                                RawPolicy::Percent(v, d) => (v, d.0, Policy::Percent(v, d.0)),
                            })
                            .map(|(v, d, p)| {
                                if v == 0 || d < SimTime::from_secs(1) || d > SimTime::from_secs(1800) {
                                    Err(r
                                        .err(
                                            r.loc().field(name, at).map_or(field("policies"), |s| r.loc().field("policies", s.1).or(Some(s))),
                                            format!("service `{owner}`: an HPA policy needs a value above 0 and a period from 1s to 1800s"),
                                        )
                                        .with_hint("e.g. policies: [Pods(4, \"15s\"), Percent(100, \"15s\")]"))
                                } else {
                                    Ok(p)
                                }
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        if policies.is_empty() {
                            return Err(r
                                .err(field("policies"), format!("service `{owner}`: `{name}` has no policies"))
                                .with_hint("give one, or leave `policies` out for the default, or select: Disabled"));
                        }
                    }
                    Ok(Rules {
                        stabilization: raw.stabilization.map_or(default.stabilization, |d| d.0),
                        select: raw.select.unwrap_or(default.select),
                        policies,
                    })
                };
                let behavior = match behavior {
                    None => None,
                    Some(b) => {
                        let down_default = Rules {
                            stabilization: downscale_stabilization.0,
                            ..Rules::default_down()
                        };
                        Some((
                            rules(b.scale_up.as_ref(), Rules::default_up(), "scale_up")?,
                            rules(b.scale_down.as_ref(), down_default, "scale_down")?,
                        ))
                    }
                };
                Autoscale::KubernetesHpa(Box::new(HpaSpec {
                    metric: *metric,
                    target,
                    min: *min,
                    max: *max,
                    sync: sync.0,
                    tolerance: *tolerance,
                    downscale_stabilization: downscale_stabilization.0,
                    behavior,
                }))
            }
        })
    }

    /// The datapoint length (`None` for a schedule).
    pub fn period(&self) -> Option<SimTime> {
        match self {
            Autoscale::TargetTracking { period, .. } | Autoscale::StepScaling { period, .. } => {
                Some(*period)
            }
            Autoscale::QueueDriven { polling, .. } => Some(*polling),
            Autoscale::KubernetesHpa(h) => Some(h.sync),
            Autoscale::Vertical { period, .. } => Some(*period),
            Autoscale::Scheduled(_) => None,
        }
    }

    /// A metric policy's bounds and metric (a queue-driven one clamps its own wish).
    fn bounds(&self) -> Option<(u32, u32, Metric)> {
        match *self {
            Autoscale::TargetTracking {
                min, max, metric, ..
            }
            | Autoscale::StepScaling {
                min, max, metric, ..
            } => Some((min, max, metric)),
            Autoscale::QueueDriven { .. }
            | Autoscale::Scheduled(_)
            | Autoscale::Vertical { .. }
            | Autoscale::KubernetesHpa(_) => None,
        }
    }

    /// What kind of autoscaler this is, in words.
    pub fn label(&self) -> &'static str {
        match self {
            Autoscale::TargetTracking { .. } => "target tracking",
            Autoscale::StepScaling { .. } => "step scaling",
            Autoscale::Scheduled(_) => "a schedule",
            Autoscale::QueueDriven { .. } => "queue-driven",
            Autoscale::KubernetesHpa(_) => "the Kubernetes HPA",
            Autoscale::Vertical { .. } => "vertical (resizes)",
        }
    }

    /// The metric read (`None` for a schedule).
    pub fn metric(&self) -> Option<Metric> {
        match self {
            Autoscale::TargetTracking { metric, .. } | Autoscale::StepScaling { metric, .. } => {
                Some(*metric)
            }
            Autoscale::KubernetesHpa(h) => Some(h.metric),
            Autoscale::Vertical { metric, .. } => Some(*metric),
            Autoscale::QueueDriven { .. } | Autoscale::Scheduled(_) => None,
        }
    }
}

mod rules;
pub use rules::Controller;

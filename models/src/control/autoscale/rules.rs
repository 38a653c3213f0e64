//! The policies' decision rules: a [`Controller`] per autoscaled pool keeps the
//! datapoints and the times of its last changes, and decides from each new datapoint.
//! Pure: the world feeds it and applies what it decides.

use super::{Autoscale, IN_POINTS, IN_SHARE, OUT_POINTS};
use sim_core::SimTime;

/// A policy's memory between datapoints.
#[derive(Debug, Clone, Default)]
pub struct Controller {
    /// The latest datapoints, newest last (at most `IN_POINTS`).
    points: Vec<f64>,
    /// Last scale-out and scale-in.
    last_out: Option<SimTime>,
    last_in: Option<SimTime>,
    /// Queue-driven: the sizes wanted over the cooldown window, oldest first.
    wanted: std::collections::VecDeque<(SimTime, u32)>,
}

impl Controller {
    /// Keep `v` as the latest datapoint (the last `IN_POINTS` are kept).
    pub fn record(&mut self, v: f64) {
        if self.points.len() == IN_POINTS {
            self.points.remove(0);
        }
        self.points.push(v);
    }

    /// A vertical autoscaler's datapoint `v` at `now` with the pool at size `at` (index
    /// into its sizes): the size to resize to and why; or, at the largest size and still
    /// above, `Err` with the words for the ceiling (once per stretch above it).
    pub fn vertical(
        &mut self,
        policy: &Autoscale,
        now: SimTime,
        v: f64,
        at: usize,
    ) -> Option<Result<(usize, String), String>> {
        let Autoscale::Vertical {
            metric,
            above,
            below,
            ref sizes,
            points,
            cooldown,
            ..
        } = *policy
        else {
            return None;
        };
        self.record(v);
        let n = self.points.len();
        let run = |f: &dyn Fn(f64) -> bool| {
            n >= points && self.points[n - points..].iter().all(|&x| f(x))
        };
        let (high, low) = (run(&|x| x > above), run(&|x| x < below));
        if !high {
            self.last_in = None; // (the ceiling is noted again on the next stretch above)
        }
        if self.last_out.is_some_and(|t| now < t + cooldown) {
            return None;
        }
        let why = |bound: &str, b: f64| {
            format!(
                "{} {bound} {} for {points} datapoints",
                metric.show(v),
                metric.show(b)
            )
        };
        if high && at + 1 < sizes.len() {
            self.last_out = Some(now);
            return Some(Ok((at + 1, why("above", above))));
        }
        if high && self.last_in.is_none() {
            self.last_in = Some(now);
            return Some(Err(format!(
                "{}: at the largest size ({} cores), it cannot grow",
                why("above", above),
                sizes[at].0
            )));
        }
        if low && at > 0 {
            self.last_out = Some(now);
            return Some(Ok((at - 1, why("below", below))));
        }
        None
    }

    /// The latest datapoint.
    pub fn latest(&self) -> Option<f64> {
        self.points.last().copied()
    }

    /// A datapoint `v` at `now`, with `serving` instances serving and `size` starting or
    /// serving: the new size and the reason, if the policy changes it.
    pub fn decide(
        &mut self,
        policy: &Autoscale,
        now: SimTime,
        v: f64,
        serving: u32,
        size: u32,
    ) -> Option<(u32, String)> {
        self.record(v);
        let since = |t: Option<SimTime>, d: SimTime| t.is_some_and(|t| now < t + d);
        if let Some((min, max, metric)) = policy.bounds() {
            // Outside its bounds (a scripted change moved it): back inside first.
            if size < min || size > max {
                let to = size.clamp(min, max);
                return Some((to, format!("{} (bounds {min}..{max})", metric.show(v))));
            }
        }
        match *policy {
            Autoscale::TargetTracking {
                metric,
                target,
                min,
                max,
                warmup,
                scale_in_cooldown,
                ..
            } => {
                let want = ((serving.max(1) as f64 * v / target).ceil() as u32).clamp(min, max);
                let n = self.points.len();
                let above =
                    n >= OUT_POINTS && self.points[n - OUT_POINTS..].iter().all(|&x| x > target);
                let below = n >= IN_POINTS && self.points.iter().all(|&x| x < IN_SHARE * target);
                if above && want > size {
                    self.last_out = Some(now);
                    self.last_in = None;
                    return Some((
                        want,
                        format!(
                            "{} vs target {} for {OUT_POINTS} datapoints",
                            metric.show(v),
                            metric.show(target)
                        ),
                    ));
                }
                if below
                    && want < size
                    && !since(self.last_out, warmup)
                    && !since(self.last_in, scale_in_cooldown)
                {
                    self.last_in = Some(now);
                    return Some((
                        want,
                        format!(
                            "{} under {:.0}% of target {} for {IN_POINTS} datapoints",
                            metric.show(v),
                            IN_SHARE * 100.0,
                            metric.show(target)
                        ),
                    ));
                }
                None
            }
            Autoscale::StepScaling {
                metric,
                ref up,
                ref down,
                cooldown,
                min,
                max,
                ..
            } => {
                if since(self.last_out.max(self.last_in), cooldown) {
                    return None;
                }
                let step = up
                    .iter()
                    .rev()
                    .find(|s| v > s.0)
                    .map(|s| (s.1, format!("above {}", metric.show(s.0))))
                    .or_else(|| {
                        down.iter()
                            .find(|s| v < s.0)
                            .map(|s| (s.1, format!("below {}", metric.show(s.0))))
                    })?;
                let to = (size as i64 + step.0 as i64).clamp(min as i64, max as i64) as u32;
                if to == size {
                    return None;
                }
                if to > size {
                    self.last_out = Some(now);
                } else {
                    self.last_in = Some(now);
                }
                Some((
                    to,
                    format!("{} {} (step {:+})", metric.show(v), step.1, step.0),
                ))
            }
            Autoscale::QueueDriven {
                per_instance,
                min,
                max,
                cooldown,
                ..
            } => {
                let want = ((v / per_instance).ceil() as u32).clamp(min, max);
                while self.wanted.front().is_some_and(|w| now >= w.0 + cooldown) {
                    self.wanted.pop_front();
                }
                self.wanted.push_back((now, want));
                // Up at once; down only to the highest size wanted over the window.
                let to = if want > size {
                    want
                } else {
                    self.wanted.iter().map(|w| w.1).max().unwrap_or(want)
                };
                (to != size).then(|| {
                    (
                        to,
                        format!("backlog {v:.0} messages, {per_instance} per instance"),
                    )
                })
            }
            // The world runs the HPA's own calculation (it needs each pod), and a vertical
            // autoscaler's choice (see `vertical`).
            Autoscale::Scheduled(_) | Autoscale::KubernetesHpa(_) | Autoscale::Vertical { .. } => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::autoscale::Metric;

    fn tt() -> Autoscale {
        Autoscale::TargetTracking {
            metric: Metric::Cpu,
            target: 0.5,
            min: 1,
            max: 10,
            warmup: SimTime::from_secs(300),
            scale_in_cooldown: SimTime::from_secs(300),
            period: SimTime::from_secs(60),
        }
    }

    #[test]
    fn target_tracking_needs_three_high_datapoints_and_fifteen_low_ones() {
        let p = tt();
        let mut c = Controller::default();
        let m = |k: u64| SimTime::from_secs(60 * k);
        // Two high points: nothing; the third: ceil(2 × 0.9 / 0.5) = 4.
        assert_eq!(c.decide(&p, m(1), 0.9, 2, 2), None);
        assert_eq!(c.decide(&p, m(2), 0.9, 2, 2), None);
        assert_eq!(c.decide(&p, m(3), 0.9, 2, 2).map(|d| d.0), Some(4));
        // Low for 15 points from 4 min (the 15 kept points are all low from 18 min; the
        // warm-up, 300 s after 3 min, is long over): ceil(4 × 0.2 / 0.5) = 2.
        let mut got = None;
        for k in 4..=18 {
            got = c.decide(&p, m(k), 0.2, 4, 4);
            if k < 18 {
                assert_eq!(got, None, "minute {k}");
            }
        }
        assert_eq!(got.map(|d| d.0), Some(2));
        // Still low (the alarm stays on): the scale-in cooldown holds it until 23 min.
        for k in 19..=22 {
            assert_eq!(c.decide(&p, m(k), 0.1, 2, 2), None, "minute {k}");
        }
        assert_eq!(c.decide(&p, m(23), 0.1, 2, 2).map(|d| d.0), Some(1));
        // A scale-out ends the cooldown: high for 3 points, out; then (warm-up) no scale-in.
        let mut c = Controller::default();
        for k in 1..=15 {
            c.decide(&p, m(k), 0.1, 4, 4);
        }
        assert!(c.last_in.is_some());
        for k in 16..=17 {
            assert_eq!(c.decide(&p, m(k), 0.9, 1, 1), None);
        }
        assert_eq!(c.decide(&p, m(18), 0.9, 1, 1).map(|d| d.0), Some(2));
        assert!(c.last_in.is_none());
    }

    #[test]
    fn a_pool_moved_outside_its_bounds_is_brought_back_at_the_next_datapoint() {
        // A scripted SetInstances put 12 in a pool whose target tracking allows 1..=10.
        let mut c = Controller::default();
        let d = c.decide(&tt(), SimTime::from_secs(60), 0.5, 12, 12);
        assert_eq!(d.map(|d| d.0), Some(10));
        let d = c.decide(&tt(), SimTime::from_secs(120), 0.5, 0, 0);
        assert_eq!(d.map(|d| d.0), Some(1));
    }

    #[test]
    fn step_scaling_takes_the_furthest_step_and_waits_its_cooldown() {
        let p = Autoscale::StepScaling {
            metric: Metric::Cpu,
            up: vec![(0.8, 2), (0.9, 4)],
            down: vec![(0.4, -1)],
            cooldown: SimTime::from_secs(300),
            min: 1,
            max: 20,
            period: SimTime::from_secs(60),
        };
        let mut c = Controller::default();
        let m = |k: u64| SimTime::from_secs(60 * k);
        assert_eq!(c.decide(&p, m(1), 0.95, 4, 4).map(|d| d.0), Some(8));
        assert_eq!(c.decide(&p, m(2), 0.95, 8, 8), None);
        assert_eq!(c.decide(&p, m(6), 0.85, 8, 8).map(|d| d.0), Some(10));
        assert_eq!(c.decide(&p, m(11), 0.6, 10, 10), None);
        assert_eq!(c.decide(&p, m(12), 0.3, 10, 10).map(|d| d.0), Some(9));
    }
}

//! Arrival-rate profiles and the arrival times they generate.
//!
//! Time-varying Poisson arrivals are generated exactly by inverting the cumulative rate
//! `Λ(t) = ∫ λ` (the time-rescaling theorem): from the last arrival `t0`, the next one is the
//! `t` where `Λ(t) − Λ(t0)` equals an Exp(1) draw. Deterministic arrivals use a mass of
//! exactly 1. For the piecewise-linear profiles (everything but `Diurnal`) the inversion is a
//! closed-form quadratic per segment; for `Diurnal` it is a safeguarded Newton solve. No
//! candidate is ever thrown away, unlike thinning, so a 10× spike costs nothing extra.

use super::raw::{Dur, RawProfile};
use sim_core::SimTime;

/// Highest rate of one source, requests per second: one per nanosecond, the clock's
/// resolution.
pub const MAX_RATE: f64 = 1e9;

/// Why a rate profile is refused.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// `Piecewise([])`: give at least one point.
    #[error("Piecewise needs at least one (time, rate) point")]
    PiecewiseEmpty,
    /// Piecewise points out of time order: sort them.
    #[error("Piecewise points must be in time order: {later} comes after {earlier}")]
    PiecewiseOrder {
        /// The point that comes too late in the list.
        later: SimTime,
        /// The point before it.
        earlier: SimTime,
    },
    /// `Diurnal` swinging below zero: lower the amplitude to at most the mean.
    #[error(
        "Diurnal amplitude ({amplitude}) is above the mean ({mean}): the rate would go negative"
    )]
    DiurnalNegative {
        /// Amplitude as written.
        amplitude: f64,
        /// Mean as written.
        mean: f64,
    },
    /// `Diurnal` with a zero period.
    #[error("Diurnal period must be above zero")]
    DiurnalPeriodZero,
    /// A rate the 1 ns clock cannot resolve.
    #[error("a rate of {0:e}/s is above {MAX_RATE:e}/s, one request per nanosecond (the clock's resolution)")]
    TooFast(f64),
    /// The rate is zero over the whole run.
    #[error("the rate is zero for the whole run, so this source sends nothing")]
    NothingSent,
    /// A trace is read by the resolver (it needs the scenario's folder), not here.
    #[error("a trace is read with its scenario")]
    Trace,
}

/// A validated rate profile (requests per second over simulated seconds).
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// Points `(t_s, rate)` joined by straight lines; constant outside. Sorted by time.
    Linear(Vec<(f64, f64)>),
    /// `mean + amp * cos(2π (t - peak) / period)`.
    Diurnal {
        /// Mean rate.
        mean: f64,
        /// Amplitude (≤ mean).
        amp: f64,
        /// Period, s.
        period_s: f64,
        /// Time of a peak, s.
        peak_s: f64,
    },
}

impl Profile {
    /// Validate a raw profile; `horizon_s` is the run length (a profile that is zero over
    /// the whole run is an error).
    pub fn from_raw(raw: &RawProfile, horizon_s: f64) -> Result<Profile, ProfileError> {
        let s = |d: Dur| d.0.as_secs_f64();
        let p = match raw {
            RawProfile::Constant(r) => Profile::Linear(vec![(0.0, r.0)]),
            RawProfile::Ramp {
                from,
                to,
                start,
                over,
            } => Profile::Linear(vec![(s(*start), from.0), (s(*start) + s(*over), to.0)]),
            RawProfile::Step { from, to, at } => {
                Profile::Linear(vec![(s(*at), from.0), (s(*at), to.0)])
            }
            RawProfile::Spike {
                base,
                peak,
                at,
                rise,
                hold,
                fall,
            } => {
                let t0 = s(*at);
                let t1 = t0 + s(*rise);
                let t2 = t1 + s(*hold);
                let t3 = t2 + s(*fall);
                Profile::Linear(vec![(t0, base.0), (t1, peak.0), (t2, peak.0), (t3, base.0)])
            }
            RawProfile::Piecewise(points) => {
                if points.is_empty() {
                    return Err(ProfileError::PiecewiseEmpty);
                }
                if let Some(w) = points.windows(2).find(|w| w[1].0 .0 < w[0].0 .0) {
                    return Err(ProfileError::PiecewiseOrder {
                        later: w[1].0 .0,
                        earlier: w[0].0 .0,
                    });
                }
                Profile::Linear(points.iter().map(|(t, r)| (s(*t), r.0)).collect())
            }
            RawProfile::Trace { .. } => return Err(ProfileError::Trace),
            RawProfile::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                if amplitude.0 > mean.0 {
                    return Err(ProfileError::DiurnalNegative {
                        amplitude: amplitude.0,
                        mean: mean.0,
                    });
                }
                if period.0.as_nanos() == 0 {
                    return Err(ProfileError::DiurnalPeriodZero);
                }
                Profile::Diurnal {
                    mean: mean.0,
                    amp: amplitude.0,
                    period_s: s(*period),
                    peak_s: s(*peak_at),
                }
            }
        };
        p.check(horizon_s)
    }

    /// Refuse a profile the clock cannot resolve or that sends nothing.
    pub fn check(self, horizon_s: f64) -> Result<Profile, ProfileError> {
        let peak = self.max_rate(horizon_s);
        if peak > MAX_RATE {
            return Err(ProfileError::TooFast(peak));
        }
        if peak <= 0.0 {
            return Err(ProfileError::NothingSent);
        }
        Ok(self)
    }

    /// The rate at `t` seconds.
    pub fn rate(&self, t: f64) -> f64 {
        match self {
            Profile::Linear(pts) => interpolate(pts, pts.partition_point(|p| p.0 <= t), t),
            &Profile::Diurnal {
                mean,
                amp,
                period_s,
                peak_s,
            } => mean + amp * (std::f64::consts::TAU * (t - peak_s) / period_s).cos(),
        }
    }

    /// The highest rate held over some time within `[0, horizon_s]`. A value touched only
    /// at an instant (a spike with zero rise, hold and fall; several points at one time)
    /// sends nothing and does not count, so `validate` and `run` agree.
    pub fn max_rate(&self, horizon_s: f64) -> f64 {
        match self {
            Profile::Linear(pts) => {
                let (first, last) = (pts[0], pts[pts.len() - 1]);
                let mut m: f64 = 0.0;
                if first.0 > 0.0 {
                    m = m.max(first.1); // constant from 0 to the first point
                }
                if last.0 < horizon_s {
                    m = m.max(last.1); // constant after the last point
                }
                for w in pts.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let (lo, hi) = (a.0.max(0.0), b.0.min(horizon_s));
                    if b.0 > a.0 && hi > lo {
                        let at = |t: f64| a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0);
                        m = m.max(at(lo)).max(at(hi));
                    }
                }
                m
            }
            Profile::Diurnal { .. } => (0..=1000)
                .map(|i| self.rate(horizon_s * i as f64 / 1000.0))
                .fold(0.0, f64::max),
        }
    }

    /// The mean rate over `[0, horizon_s]`.
    pub fn mean_rate(&self, horizon_s: f64) -> f64 {
        if horizon_s <= 0.0 {
            return self.rate(0.0);
        }
        self.cumulative(0.0, horizon_s) / horizon_s
    }

    /// `∫ λ` over `[t0, t1]`.
    pub fn cumulative(&self, t0: f64, t1: f64) -> f64 {
        match self {
            Profile::Linear(_) => {
                // Walk segment ends; within a segment the rate is linear (trapezoid exact).
                let mut t = t0;
                let mut acc = 0.0;
                while t < t1 {
                    let end = self.segment_end(t).min(t1);
                    acc += (self.rate(t) + self.rate_left_of(end)) / 2.0 * (end - t);
                    t = end;
                }
                acc
            }
            &Profile::Diurnal {
                mean,
                amp,
                period_s,
                peak_s,
            } => {
                let w = std::f64::consts::TAU / period_s;
                mean * (t1 - t0) + amp / w * ((w * (t1 - peak_s)).sin() - (w * (t0 - peak_s)).sin())
            }
        }
    }

    /// For `Linear`: the time the segment holding `t` ends (∞ after the last point).
    fn segment_end(&self, t: f64) -> f64 {
        match self {
            Profile::Linear(pts) => {
                let i = pts.partition_point(|p| p.0 <= t);
                pts.get(i).map_or(f64::INFINITY, |p| p.0)
            }
            Profile::Diurnal { .. } => f64::INFINITY,
        }
    }

    /// The limit of the rate approaching `t` from the left (differs from `rate` at a jump).
    fn rate_left_of(&self, t: f64) -> f64 {
        match self {
            Profile::Linear(pts) => interpolate(pts, pts.partition_point(|p| p.0 < t), t),
            Profile::Diurnal { .. } => self.rate(t),
        }
    }

    /// The first `t > t0` with `∫_{t0}^{t} λ = mass` (`mass > 0`), or `None` if the rate
    /// stays zero for ever after. Never allocates.
    ///
    /// A constant rate, the common case, is answered in closed form here, inlined into the
    /// source's arrival; other profiles are integrated out of line.
    #[inline]
    pub fn next_after(&self, t0: f64, mass: f64) -> Option<f64> {
        match self {
            Profile::Linear(pts) if pts.len() == 1 => {
                (pts[0].1 > 0.0).then(|| t0 + mass / pts[0].1)
            }
            _ => self.next_after_varying(t0, mass),
        }
    }

    /// [`Profile::next_after`] for a rate that changes over time.
    #[inline(never)]
    fn next_after_varying(&self, t0: f64, mass: f64) -> Option<f64> {
        match self {
            Profile::Linear(_) => {
                let mut t = t0;
                let mut rem = mass;
                loop {
                    if rem <= 0.0 {
                        return Some(t);
                    }
                    let end = self.segment_end(t);
                    let r0 = self.rate(t);
                    if end.is_infinite() {
                        return (r0 > 0.0).then(|| t + rem / r0);
                    }
                    let len = end - t;
                    let k = (self.rate_left_of(end) - r0) / len;
                    let seg = r0 * len + k * len * len / 2.0;
                    if rem <= seg {
                        // r0 x + k x²/2 = rem, in the form that is stable for either sign of k.
                        let disc = (r0 * r0 + 2.0 * k * rem).max(0.0);
                        let den = r0 + disc.sqrt();
                        let x = if den > 0.0 { 2.0 * rem / den } else { len };
                        return Some(t + x.min(len));
                    }
                    rem -= seg;
                    t = end;
                }
            }
            &Profile::Diurnal { mean, amp, .. } => {
                let g = |x: f64| self.cumulative(t0, t0 + x) - mass;
                let (mut lo, mut hi) = (
                    0.0,
                    (mass + amp * self.period() / std::f64::consts::PI) / mean,
                );
                let mut x = mass / mean;
                for _ in 0..100 {
                    let gx = g(x);
                    if gx.abs() <= 1e-12 * mass.max(1.0) {
                        break;
                    }
                    if gx > 0.0 {
                        hi = x;
                    } else {
                        lo = x;
                    }
                    let slope = self.rate(t0 + x);
                    let newton = x - gx / slope;
                    x = if slope > 0.0 && newton > lo && newton < hi {
                        newton
                    } else {
                        (lo + hi) / 2.0
                    };
                    if hi - lo < 1e-12 {
                        break;
                    }
                }
                Some(t0 + x)
            }
        }
    }

    fn period(&self) -> f64 {
        match self {
            Profile::Diurnal { period_s, .. } => *period_s,
            Profile::Linear(_) => f64::INFINITY,
        }
    }
}

/// The rate at `t` on the segment ending at point `i` (`i` = number of points before `t`):
/// constant before the first point and after the last, linear in between.
fn interpolate(pts: &[(f64, f64)], i: usize, t: f64) -> f64 {
    if i == 0 {
        pts[0].1
    } else if i == pts.len() {
        pts[i - 1].1
    } else {
        let (a, ra) = pts[i - 1];
        let (b, rb) = pts[i];
        ra + (rb - ra) * (t - a) / (b - a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::{Dur, NonNeg};
    use sim_core::{parse_duration, RngStreams};

    fn d(s: &str) -> Dur {
        Dur(parse_duration(s).unwrap())
    }
    fn n(v: f64) -> NonNeg {
        NonNeg(v)
    }

    fn profiles() -> Vec<RawProfile> {
        vec![
            RawProfile::Constant(n(50.0)),
            RawProfile::Ramp {
                from: n(10.0),
                to: n(200.0),
                start: d("100s"),
                over: d("300s"),
            },
            RawProfile::Step {
                from: n(100.0),
                to: n(20.0),
                at: d("250s"),
            },
            RawProfile::Diurnal {
                mean: n(80.0),
                amplitude: n(80.0),
                period: d("200s"),
                peak_at: d("30s"),
            },
            RawProfile::Spike {
                base: n(20.0),
                peak: n(300.0),
                at: d("100s"),
                rise: d("50s"),
                hold: d("100s"),
                fall: d("100s"),
            },
            RawProfile::Piecewise(vec![
                (d("0s"), n(0.0)),
                (d("100s"), n(100.0)),
                (d("100s"), n(10.0)),
                (d("400s"), n(60.0)),
            ]),
        ]
    }

    #[test]
    fn deterministic_inversion_walks_the_cumulative_rate_exactly() {
        for raw in profiles() {
            let p = Profile::from_raw(&raw, 500.0).unwrap();
            let mut t = 0.0;
            for _ in 0..200 {
                let next = p.next_after(t, 1.0).unwrap();
                assert!(next > t);
                let mass = p.cumulative(t, next);
                assert!(
                    (mass - 1.0).abs() < 1e-6,
                    "{raw:?}: mass {mass} from {t} to {next}"
                );
                t = next;
            }
        }
    }

    #[test]
    fn poisson_counts_per_window_match_the_integral() {
        // Count arrivals in 10 windows over many replications of the process; each count's
        // mean must match ∫λ over the window within 4 standard errors.
        for raw in profiles() {
            let p = Profile::from_raw(&raw, 500.0).unwrap();
            let mut rng = RngStreams::new(11).get("arrivals");
            let reps = 200;
            let mut counts = [0u64; 10];
            for _ in 0..reps {
                let mut t = 0.0;
                while let Some(next) = p.next_after(t, rng.exp1()) {
                    if next >= 500.0 {
                        break;
                    }
                    counts[(next / 50.0) as usize] += 1;
                    t = next;
                }
            }
            for (w, &c) in counts.iter().enumerate() {
                let expect = p.cumulative(w as f64 * 50.0, (w + 1) as f64 * 50.0) * reps as f64;
                let sd = expect.sqrt().max(1.0);
                assert!(
                    (c as f64 - expect).abs() < 4.0 * sd,
                    "{raw:?} window {w}: {c} vs {expect:.0}"
                );
            }
        }
    }

    #[test]
    fn spike_shape_and_rates() {
        let p = Profile::from_raw(&profiles()[4], 500.0).unwrap();
        assert_eq!(p.rate(50.0), 20.0);
        assert_eq!(p.rate(125.0), 160.0);
        assert_eq!(p.rate(200.0), 300.0);
        assert_eq!(p.rate(300.0), 160.0);
        assert_eq!(p.rate(400.0), 20.0);
        assert_eq!(p.max_rate(500.0), 300.0);
        assert_eq!(p.max_rate(50.0), 20.0);
        let step = Profile::from_raw(&profiles()[2], 500.0).unwrap();
        assert_eq!(step.rate(249.0), 100.0);
        assert_eq!(step.rate(250.0), 20.0);
        assert!((step.mean_rate(500.0) - 60.0).abs() < 1e-9);
    }

    #[test]
    fn a_peak_held_for_no_time_is_no_peak() {
        // Zero rise, hold and fall: the 1000/s is touched at an instant only.
        let spike = RawProfile::Spike {
            base: n(10.0),
            peak: n(1000.0),
            at: d("10s"),
            rise: d("0s"),
            hold: d("0s"),
            fall: d("0s"),
        };
        let p = Profile::from_raw(&spike, 100.0).unwrap();
        assert_eq!(p.max_rate(100.0), 10.0);
        assert!((p.cumulative(0.0, 100.0) - 1000.0).abs() < 1e-9);
        let three_at_once = RawProfile::Piecewise(vec![
            (d("5s"), n(0.0)),
            (d("5s"), n(900.0)),
            (d("5s"), n(0.0)),
        ]);
        assert_eq!(
            Profile::from_raw(&three_at_once, 100.0),
            Err(ProfileError::NothingSent)
        );
        // A held peak still counts, also when the run ends inside the ramp.
        let ramp = Profile::from_raw(
            &RawProfile::Ramp {
                from: n(0.0),
                to: n(100.0),
                start: d("0s"),
                over: d("100s"),
            },
            50.0,
        )
        .unwrap();
        assert!((ramp.max_rate(50.0) - 50.0).abs() < 1e-9);
        assert_eq!(
            Profile::from_raw(&RawProfile::Constant(n(2e9)), 10.0),
            Err(ProfileError::TooFast(2e9))
        );
    }

    #[test]
    fn rejects_impossible_profiles() {
        assert_eq!(
            Profile::from_raw(&RawProfile::Constant(n(0.0)), 10.0),
            Err(ProfileError::NothingSent)
        );
        let e = Profile::from_raw(
            &RawProfile::Diurnal {
                mean: n(1.0),
                amplitude: n(2.0),
                period: d("1h"),
                peak_at: d("0s"),
            },
            10.0,
        )
        .unwrap_err();
        assert!(matches!(e, ProfileError::DiurnalNegative { .. }), "{e}");
        assert!(e.to_string().contains("negative"), "{e}");
        let e = Profile::from_raw(
            &RawProfile::Piecewise(vec![(d("10s"), n(1.0)), (d("5s"), n(1.0))]),
            10.0,
        );
        assert!(matches!(e, Err(ProfileError::PiecewiseOrder { .. })));
    }
}

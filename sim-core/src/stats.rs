//! Statistics updated in place on the hot path: latency histograms, time-weighted averages,
//! counters and fixed-interval time series. None of them allocates per observation.

use crate::SimTime;

/// Highest latency the histogram resolves: one hour. Larger values are clamped to it (and
/// still counted, and still enter the exact mean and max).
pub const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

/// A mergeable latency histogram with ≤ 1% relative error from 1 µs to 1 h.
///
/// Backed by `hdrhistogram` with 2 significant digits over `[1 ns, 1 h]`; quantiles are
/// reported at the midpoint of their bucket (≤ 0.5% off). The mean and the maximum are kept
/// exactly on the side.
#[derive(Clone)]
pub struct Histogram {
    h: hdrhistogram::Histogram<u64>,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count())
            .field("mean_s", &self.mean_s())
            .finish()
    }
}

impl Histogram {
    /// An empty histogram (about 40 KB, allocated once).
    pub fn new() -> Self {
        Histogram {
            h: hdrhistogram::Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 2)
                .expect("static histogram bounds are valid"),
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Record one observation. Never allocates.
    #[inline]
    pub fn record(&mut self, value: SimTime) {
        let v = value.as_nanos();
        self.h.saturating_record(v.min(HISTOGRAM_MAX_NS));
        self.sum_ns += v as u128;
        self.max_ns = self.max_ns.max(v);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// What was recorded since `earlier` (a copy of this histogram taken then): for
    /// quantiles over a window (its mean is not kept; its maximum is the whole one's).
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let mut out = Histogram::new();
        out.add_since(self, earlier);
        out
    }

    /// Add to `self` what `now` recorded since `earlier` (as [`Histogram::since`]),
    /// without allocating.
    pub fn add_since(&mut self, now: &Histogram, earlier: &Histogram) {
        // Cleared in between (the end of a warm-up): everything since the clear.
        let cleared = earlier.count() > now.count();
        for v in now.h.iter_recorded() {
            let value = v.value_iterated_to();
            let before = if cleared {
                0
            } else {
                earlier.h.count_at(value)
            };
            let n = v.count_at_value().saturating_sub(before);
            if n > 0 {
                self.h
                    .record_n(value, n)
                    .expect("value within the histogram's range");
            }
        }
        // Quantiles are capped at the maximum: the window's is at most the whole one's.
        self.max_ns = self.max_ns.max(now.max_ns);
    }

    /// Become a copy of `other`, keeping this one's allocation.
    pub fn copy_from(&mut self, other: &Histogram) {
        self.clear();
        self.merge(other);
    }

    /// Exact mean in seconds (0 when empty).
    pub fn mean_s(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64 / 1e9,
        }
    }

    /// Exact maximum in seconds.
    pub fn max_s(&self) -> f64 {
        self.max_ns as f64 / 1e9
    }

    /// The `q`-quantile (`q` in `[0, 1]`) in seconds, ≤ 0.5% relative error (0 when empty).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.count() == 0 {
            return 0.0;
        }
        let v = self.h.value_at_quantile(q.clamp(0.0, 1.0));
        let mid = self.h.median_equivalent(v).min(self.max_ns);
        mid as f64 / 1e9
    }

    /// Add all of `other`'s observations to `self`.
    pub fn merge(&mut self, other: &Histogram) {
        self.h.add(&other.h).expect("histograms share bounds");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Forget every observation (keeps the allocation).
    pub fn clear(&mut self) {
        self.h.reset();
        self.sum_ns = 0;
        self.max_ns = 0;
    }
}

/// The time-average of an integer quantity (queue length, busy workers, requests present).
///
/// Exact: the area is an integer sum of `duration_ns × value`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeWeighted {
    start: u64,
    last: u64,
    value: u64,
    area: u128,
    max: u64,
}

impl TimeWeighted {
    /// Start observing at `t` with the current value `v`.
    pub fn new(t: SimTime, v: u64) -> Self {
        TimeWeighted {
            start: t.0,
            last: t.0,
            value: v,
            area: 0,
            max: v,
        }
    }

    /// The value changes to `v` at time `t` (t never goes backwards).
    #[inline]
    pub fn set(&mut self, t: SimTime, v: u64) {
        debug_assert!(t.0 >= self.last);
        self.area += (t.0 - self.last) as u128 * self.value as u128;
        self.last = t.0;
        self.value = v;
        if v > self.max {
            self.max = v;
        }
    }

    /// Add `d` (may be negative) to the current value at time `t`.
    #[inline]
    pub fn add(&mut self, t: SimTime, d: i64) {
        let v = self
            .value
            .checked_add_signed(d)
            .expect("time-weighted value went negative");
        self.set(t, v);
    }

    /// The current value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// The largest value seen since the last reset.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Forget the past: the average is taken from `t` on (end of a warm-up period).
    pub fn reset(&mut self, t: SimTime) {
        *self = TimeWeighted::new(t, self.value);
    }

    /// The area (value × nanoseconds) over `[start, t]`, and `start` (it moves at a
    /// reset): for averages over windows of one's own.
    pub fn area_at(&self, t: SimTime) -> (u128, SimTime) {
        let t = t.0.max(self.last);
        (
            self.area + (t - self.last) as u128 * self.value as u128,
            SimTime(self.start),
        )
    }

    /// The average over `[start, t]` (the current value if no time has passed).
    pub fn mean(&self, t: SimTime) -> f64 {
        let t = t.0.max(self.last);
        let area = self.area + (t - self.last) as u128 * self.value as u128;
        match t - self.start {
            0 => self.value as f64,
            span => area as f64 / span as f64,
        }
    }
}

/// A saturating event counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter(pub u64);

impl Counter {
    /// Count one.
    #[inline]
    pub fn inc(&mut self) {
        self.0 = self.0.saturating_add(1);
    }
    /// Count `n`.
    #[inline]
    pub fn add(&mut self, n: u64) {
        self.0 = self.0.saturating_add(n);
    }
    /// The count.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Values sampled at a fixed interval, for charts. Pre-sized from the horizon.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    /// Sampling interval.
    pub interval: SimTime,
    /// One value per interval, the first at `interval`.
    pub values: Vec<f64>,
}

impl TimeSeries {
    /// An empty series that will hold samples every `interval` up to `horizon`.
    pub fn new(interval: SimTime, horizon: SimTime) -> Self {
        let n = horizon
            .0
            .checked_div(interval.0)
            .map_or(0, |k| k as usize + 1);
        TimeSeries {
            interval,
            values: Vec::with_capacity(n),
        }
    }
    /// Append the next sample.
    #[inline]
    pub fn push(&mut self, v: f64) {
        self.values.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_a_histogram_holds_only_what_came_after_the_snapshot() {
        let mut h = Histogram::new();
        for _ in 0..1000 {
            h.record(SimTime::from_secs_f64(0.010));
        }
        let snap = h.clone();
        for k in 1..=100 {
            h.record(SimTime::from_secs_f64((100 + k) as f64 / 1000.0));
        }
        let w = h.since(&snap);
        assert_eq!(w.count(), 100);
        // The window's p5 is ~105 ms; over everything it would be 10 ms.
        assert!(
            (w.quantile_s(0.05) - 0.105).abs() < 0.002,
            "{}",
            w.quantile_s(0.05)
        );
        assert!(h.quantile_s(0.05) < 0.011);
        // Cleared since the snapshot: everything recorded since the clear.
        let mut c = Histogram::new();
        c.record(SimTime::from_secs_f64(0.007));
        assert_eq!(c.since(&snap).count(), 1);
    }

    #[test]
    fn histogram_relative_error_is_within_one_percent_over_the_range() {
        // A single value at many magnitudes: every quantile must land within 1%.
        let mut v = 1_000u64; // 1 µs
        while v <= HISTOGRAM_MAX_NS {
            let mut h = Histogram::new();
            h.record(SimTime(v));
            let got = h.quantile_s(0.5) * 1e9;
            let err = (got - v as f64).abs() / v as f64;
            assert!(err <= 0.01, "value {v} ns read back as {got} ({err:.4})");
            v = v * 37 / 10;
        }
    }

    #[test]
    fn histogram_quantiles_mean_and_merge() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        for i in 1..=1000u64 {
            let h = if i % 2 == 0 { &mut a } else { &mut b };
            h.record(SimTime(i * 1_000_000)); // 1..1000 ms
        }
        a.merge(&b);
        assert_eq!(a.count(), 1000);
        assert!((a.mean_s() - 0.5005).abs() < 1e-12);
        assert!((a.quantile_s(0.99) - 0.990).abs() / 0.990 < 0.01);
        assert!((a.quantile_s(0.5) - 0.500).abs() / 0.5 < 0.01);
        assert_eq!(a.max_s(), 1.0);
        a.clear();
        assert_eq!(a.count(), 0);
        assert_eq!(a.quantile_s(0.5), 0.0);
    }

    #[test]
    fn time_weighted_average_is_exact() {
        let mut tw = TimeWeighted::new(SimTime(0), 0);
        tw.set(SimTime(10), 2); // 0 for 10
        tw.set(SimTime(20), 1); // 2 for 10
        tw.add(SimTime(40), 3); // 1 for 20, then 4
        assert_eq!(tw.value(), 4);
        assert_eq!(tw.max(), 4);
        // (0*10 + 2*10 + 1*20 + 4*10) / 50
        assert!((tw.mean(SimTime(50)) - 80.0 / 50.0).abs() < 1e-12);
        tw.reset(SimTime(50));
        assert!((tw.mean(SimTime(60)) - 4.0).abs() < 1e-12);
    }
}

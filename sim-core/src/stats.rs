//! Statistics updated in place on the hot path: latency histograms, time-weighted averages,
//! counters and fixed-interval time series. None of them allocates per observation.

use crate::SimTime;

/// Highest latency the histogram resolves: one hour. Larger values are clamped to it (and
/// still counted, and still enter the exact mean and max).
pub const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

/// A mergeable latency histogram with ≤ 1% relative error from 1 µs to 1 h.
///
/// The buckets are those of an HDR histogram with 2 significant digits over `[1 ns, 1 h]`
/// (`hdrhistogram`'s layout: 256 sub-buckets, each power of two above the first split in
/// 128), and quantiles are reported at the midpoint of their bucket (≤ 0.5% off). The mean
/// and the maximum are kept exactly on the side.
///
/// The counts are kept here rather than in `hdrhistogram` itself: recording is on every
/// request's path twice, and the library's `record` also tracks a minimum, clamps and
/// checks for resizing, which cost a tenth of an M/M/1 run (see `benches/README.md`,
/// issue 13). `hdrhistogram` is the oracle in the tests: same buckets, same counts, same
/// quantiles.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

/// Sub-buckets per power of two, halved (`hdrhistogram`'s `sub_bucket_half_count`).
const HALF: usize = 128;
const HALF_BITS: u32 = 7;
/// `hdrhistogram`'s `leading_zero_count_base` for a unit of 1 and 256 sub-buckets.
const LZ_BASE: u32 = 64 - 8;

/// The bucket (the power of two above the first 256 values) of `v`.
#[inline(always)]
fn bucket_of(v: u64) -> u32 {
    LZ_BASE - (v | 255).leading_zeros()
}

/// The index of `v`'s count.
#[inline(always)]
fn index_of(v: u64) -> usize {
    let bucket = bucket_of(v);
    let sub = (v >> bucket) as usize;
    ((bucket as usize + 1) << HALF_BITS) + sub - HALF
}

/// The lowest value counted at `index`.
fn value_at_index(index: usize) -> u64 {
    let (bucket, sub) = match (index >> HALF_BITS).checked_sub(1) {
        Some(b) => (b, (index & (HALF - 1)) + HALF),
        None => (0, index & (HALF - 1)),
    };
    (sub as u64) << bucket
}

/// The lowest value in `v`'s bucket, and the bucket's width.
fn bucket_range(v: u64) -> (u64, u64) {
    let bucket = bucket_of(v);
    ((v >> bucket) << bucket, 1 << bucket)
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
    /// An empty histogram (about 37 KB, allocated once).
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; index_of(HISTOGRAM_MAX_NS) + 1].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Record one observation. Never allocates.
    #[inline]
    pub fn record(&mut self, value: SimTime) {
        let v = value.as_nanos();
        self.counts[index_of(v.min(HISTOGRAM_MAX_NS))] += 1;
        self.count += 1;
        self.sum_ns += v as u128;
        self.max_ns = self.max_ns.max(v);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
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
        for (i, &n) in now.counts.iter().enumerate() {
            let before = if cleared { 0 } else { earlier.counts[i] };
            let n = n.saturating_sub(before);
            self.counts[i] += n;
            self.count += n;
        }
        // Quantiles are capped at the maximum: the window's is at most the whole one's.
        self.max_ns = self.max_ns.max(now.max_ns);
    }

    /// Become a copy of `other`, keeping this one's allocation.
    pub fn copy_from(&mut self, other: &Histogram) {
        self.counts.copy_from_slice(&other.counts);
        self.count = other.count;
        self.sum_ns = other.sum_ns;
        self.max_ns = other.max_ns;
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
        let v = self.value_at_quantile(q.clamp(0.0, 1.0));
        let (low, width) = bucket_range(v);
        let mid = (low + (width >> 1)).min(self.max_ns);
        mid as f64 / 1e9
    }

    /// The value at quantile `q` as `hdrhistogram` gives it: the highest value of the
    /// bucket where the count reaches `ceil(q × count)` (the lowest, for `q = 0`).
    fn value_at_quantile(&self, q: f64) -> u64 {
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= target {
                let (low, width) = bucket_range(value_at_index(i));
                return if q == 0.0 { low } else { low + width - 1 };
            }
        }
        0 // not reached: the counts add up to the count
    }

    /// Add all of `other`'s observations to `self`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Forget every observation (keeps the allocation).
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.count = 0;
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

    /// The same observations in `hdrhistogram` (the oracle), as the histogram was before
    /// it kept its own counts.
    fn oracle(values: &[u64]) -> hdrhistogram::Histogram<u64> {
        let mut h = hdrhistogram::Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 2).unwrap();
        for &v in values {
            h.saturating_record(v.min(HISTOGRAM_MAX_NS));
        }
        h
    }

    fn oracle_quantile_s(h: &hdrhistogram::Histogram<u64>, max_ns: u64, q: f64) -> f64 {
        let v = h.value_at_quantile(q.clamp(0.0, 1.0));
        h.median_equivalent(v).min(max_ns) as f64 / 1e9
    }

    /// Values over the whole range: every power of two and its neighbours, and a random
    /// spread (log-uniform) from 0 to past the top.
    fn spread() -> Vec<u64> {
        let mut values = vec![0, 1, 2, 127, 128, 255, 256, 257, HISTOGRAM_MAX_NS];
        for b in 1..63 {
            values.extend([(1u64 << b) - 1, 1 << b, (1 << b) + 1]);
        }
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let x = next();
            values.push(x >> (x % 64));
        }
        values
    }

    #[test]
    fn buckets_are_hdrhistograms() {
        let h = oracle(&[]);
        for v in spread().into_iter().filter(|&v| v <= HISTOGRAM_MAX_NS) {
            let (low, width) = bucket_range(v);
            assert_eq!(low, h.lowest_equivalent(v), "lowest of {v}");
            assert_eq!(width, h.equivalent_range(v), "width of {v}");
            assert_eq!(value_at_index(index_of(v)), low, "index of {v}");
        }
        assert!(index_of(HISTOGRAM_MAX_NS) < h.distinct_values());
    }

    #[test]
    fn quantiles_are_hdrhistograms_after_record_window_and_merge() {
        let values = spread();
        let (first, second) = values.split_at(values.len() / 3);
        let qs = [
            0.0, 1e-6, 0.001, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0,
        ];
        let check = |h: &Histogram, o: &hdrhistogram::Histogram<u64>| {
            assert_eq!(h.count(), o.len());
            for q in qs {
                assert_eq!(h.quantile_s(q), oracle_quantile_s(o, h.max_ns, q), "q {q}");
            }
        };
        let mut h = Histogram::new();
        for &v in first {
            h.record(SimTime(v));
        }
        check(&h, &oracle(first));
        let snapshot = h.clone();
        for &v in second {
            h.record(SimTime(v));
        }
        check(&h, &oracle(&values));
        // The window since the snapshot, then merged with another.
        let window = h.since(&snapshot);
        check(&window, &oracle(second));
        let mut merged = window.clone();
        merged.merge(&snapshot);
        check(&merged, &oracle(&values));
        // A window across a clear is everything since the clear.
        let mut cleared = h.clone();
        cleared.clear();
        for &v in &first[..100] {
            cleared.record(SimTime(v));
        }
        check(&cleared.since(&h), &oracle(&first[..100]));
    }

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

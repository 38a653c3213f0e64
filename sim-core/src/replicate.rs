//! Replications: run one model many times with derived seeds, in parallel, and summarise.
//!
//! Results come back in replication order whatever the number of threads (rayon's indexed
//! `collect` keeps order), and each replication's seed depends only on the base seed and its
//! index, so the thread count cannot change a single number.

use crate::rng::mix64;
use rayon::prelude::*;

/// The seed of replication `rep`: the base seed itself for replication 0 (so `--seed 42`
/// reproduces the first replication of a multi-replication run), a hash of both otherwise.
pub fn replication_seed(base: u64, rep: u32) -> u64 {
    if rep == 0 {
        base
    } else {
        mix64(base ^ mix64(0x5EED_0000_0000_0000 | rep as u64))
    }
}

/// Run `f(rep, seed)` for `rep in 0..n`, on `threads` rayon threads (`None`: rayon's global
/// pool), and return the results in replication order.
pub fn replicate<R, F>(n: u32, base_seed: u64, threads: Option<usize>, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(u32, u64) -> R + Sync + Send,
{
    par_map(n as usize, threads, |rep| {
        f(rep as u32, replication_seed(base_seed, rep as u32))
    })
}

/// Run `f(i)` for `i in 0..n` on `threads` rayon threads (`None`: rayon's global pool) and
/// return the results in index order, whatever the thread count.
pub fn par_map<R, F>(n: usize, threads: Option<usize>, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(usize) -> R + Sync + Send,
{
    let work = || (0..n).into_par_iter().map(&f).collect::<Vec<R>>();
    match threads {
        None => work(),
        Some(k) => rayon::ThreadPoolBuilder::new()
            .num_threads(k.max(1))
            .build()
            .expect("thread pool")
            .install(work),
    }
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom (for 95% CIs).
/// Exact table for df ≤ 30, Cornish–Fisher expansion beyond (error < 1e-4).
pub fn student_t_975(df: u32) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
        2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
        2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z: f64 = 1.959_963_985;
            let v = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

/// Mean and 95% confidence half-width of replication values (Student-t over means).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub std_dev: f64,
    /// Half-width of the 95% confidence interval of the mean (infinite for n = 1).
    pub ci95: f64,
}

impl Summary {
    /// Summarise `xs` (must not be empty).
    pub fn of(xs: &[f64]) -> Summary {
        let n = xs.len();
        assert!(n > 0, "summary of nothing");
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Summary {
                n,
                mean,
                std_dev: 0.0,
                ci95: f64::INFINITY,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std_dev = var.sqrt();
        let ci95 = student_t_975((n - 1) as u32) * std_dev / (n as f64).sqrt();
        Summary {
            n,
            mean,
            std_dev,
            ci95,
        }
    }

    /// Whether `x` lies inside the 95% confidence interval.
    pub fn contains(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.ci95
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_ordered_and_thread_count_independent() {
        let f = |rep: u32, seed: u64| (rep, seed.wrapping_mul(3));
        let one = replicate(20, 9, Some(1), f);
        let two = replicate(20, 9, Some(2), f);
        assert_eq!(one, two);
        assert_eq!(one[0], (0, 27));
        assert!(one.iter().enumerate().all(|(i, r)| r.0 == i as u32));
        assert_ne!(replication_seed(9, 1), replication_seed(9, 2));
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert_eq!(student_t_975(1), 12.7062);
        assert!((student_t_975(40) - 2.0211).abs() < 2e-4);
        assert!((student_t_975(120) - 1.9799).abs() < 2e-4);
        assert!((student_t_975(100_000) - 1.95999).abs() < 1e-4);
    }

    #[test]
    fn summary_ci() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std_dev - 1.290_994).abs() < 1e-6);
        assert!((s.ci95 - 3.1824 * 1.290_994 / 2.0).abs() < 1e-4);
        assert!(s.contains(4.5) && !s.contains(4.6));
    }
}

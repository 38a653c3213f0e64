//! Distributions of durations (service times, network latency), validated and ready to sample.

use super::raw::RawDist;
use sim_core::{SimTime, Stream};

/// 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874_040_840_8;

/// Why a distribution's parameters are refused. Each says what to change.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DistError {
    /// `Uniform` with `max < min`: swap them.
    #[error("Uniform: max ({max}) is below min ({min})")]
    UniformBackwards {
        /// Lower end as written.
        min: SimTime,
        /// Upper end as written.
        max: SimTime,
    },
    /// `LogNormal` with a zero mean: give it a positive mean.
    #[error("LogNormal: mean must be above zero")]
    LogNormalZeroMean,
    /// `LogNormal` whose p99 is not above its mean: raise p99.
    #[error("LogNormal: p99 ({p99}) must be above the mean ({mean})")]
    LogNormalP99NotAboveMean {
        /// Mean as written.
        mean: SimTime,
        /// p99 as written.
        p99: SimTime,
    },
    /// `LogNormal` whose p99/mean ratio no log-normal reaches (~15×): lower p99.
    #[error("LogNormal: p99 ({p99}) is more than {max_ratio:.1}× the mean ({mean}), which no log-normal has")]
    LogNormalTooHeavy {
        /// Mean as written.
        mean: SimTime,
        /// p99 as written.
        p99: SimTime,
        /// The largest p99/mean ratio a log-normal has.
        max_ratio: f64,
    },
    /// `Erlang` with `k` outside 1..=1000.
    #[error("Erlang: k must be between 1 and 1000, found {0}")]
    ErlangPhases(u32),
}

/// A validated duration distribution. Parameters are in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Exponential with this mean.
    Exp {
        /// Mean, ns.
        mean_ns: f64,
    },
    /// Always the same.
    Constant {
        /// Value, ns.
        ns: u64,
    },
    /// Uniform on `[lo, lo + width]`.
    Uniform {
        /// Lower end, ns.
        lo_ns: f64,
        /// Width, ns.
        width_ns: f64,
    },
    /// `exp(mu + sigma * N(0, 1))` nanoseconds.
    LogNormal {
        /// Location of ln(ns).
        mu: f64,
        /// Scale of ln(ns).
        sigma: f64,
    },
    /// Sum of `k` exponentials with mean `phase_ns` each.
    Erlang {
        /// Phases.
        k: u32,
        /// Mean of one phase, ns.
        phase_ns: f64,
    },
}

impl Dist {
    /// Check the parameters and precompute. The error is one sentence for the user.
    pub fn from_raw(raw: &RawDist) -> Result<Dist, DistError> {
        Ok(match *raw {
            RawDist::Exp(m) => Dist::Exp {
                mean_ns: m.0.as_nanos() as f64,
            },
            RawDist::Constant(c) => Dist::Constant { ns: c.0.as_nanos() },
            RawDist::Uniform { min, max } => {
                if max.0 < min.0 {
                    return Err(DistError::UniformBackwards {
                        min: min.0,
                        max: max.0,
                    });
                }
                Dist::Uniform {
                    lo_ns: min.0.as_nanos() as f64,
                    width_ns: (max.0.as_nanos() - min.0.as_nanos()) as f64,
                }
            }
            RawDist::LogNormal { mean, p99 } => {
                let (m, p) = (mean.0.as_nanos() as f64, p99.0.as_nanos() as f64);
                if m <= 0.0 {
                    return Err(DistError::LogNormalZeroMean);
                }
                if p <= m {
                    return Err(DistError::LogNormalP99NotAboveMean {
                        mean: mean.0,
                        p99: p99.0,
                    });
                }
                // mean = exp(mu + s²/2), p99 = exp(mu + z s)  =>  s²/2 - z s + ln(p/m) = 0.
                let r = (p / m).ln();
                let disc = Z99 * Z99 - 2.0 * r;
                if disc < 0.0 {
                    return Err(DistError::LogNormalTooHeavy {
                        mean: mean.0,
                        p99: p99.0,
                        max_ratio: (Z99 * Z99 / 2.0).exp(),
                    });
                }
                let sigma = Z99 - disc.sqrt(); // the lighter-tailed of the two solutions
                Dist::LogNormal {
                    mu: m.ln() - sigma * sigma / 2.0,
                    sigma,
                }
            }
            RawDist::Erlang { k, mean } => {
                if !(1..=1000).contains(&k) {
                    return Err(DistError::ErlangPhases(k));
                }
                Dist::Erlang {
                    k,
                    phase_ns: mean.0.as_nanos() as f64 / k as f64,
                }
            }
        })
    }

    /// Draw one duration. Never allocates.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Stream) -> SimTime {
        let ns = match *self {
            Dist::Exp { mean_ns } => mean_ns * rng.exp1(),
            Dist::Constant { ns } => return SimTime(ns),
            Dist::Uniform { lo_ns, width_ns } => lo_ns + width_ns * rng.unit(),
            Dist::LogNormal { mu, sigma } => {
                use rand_distr::Distribution;
                let z: f64 = rand_distr::StandardNormal.sample(&mut **rng);
                (mu + sigma * z).exp()
            }
            Dist::Erlang { k, phase_ns } => {
                let mut s = 0.0;
                for _ in 0..k {
                    s += rng.exp1();
                }
                s * phase_ns
            }
        };
        // Round to the nearest nanosecond (`as` saturates: never negative, never wraps).
        SimTime((ns + 0.5) as u64)
    }

    /// The same shape with every duration multiplied by `f` (> 0).
    pub fn scaled(&self, f: f64) -> Dist {
        match *self {
            Dist::Exp { mean_ns } => Dist::Exp {
                mean_ns: mean_ns * f,
            },
            Dist::Constant { ns } => Dist::Constant {
                ns: (ns as f64 * f).round() as u64,
            },
            Dist::Uniform { lo_ns, width_ns } => Dist::Uniform {
                lo_ns: lo_ns * f,
                width_ns: width_ns * f,
            },
            Dist::LogNormal { mu, sigma } => Dist::LogNormal {
                mu: mu + f.ln(),
                sigma,
            },
            Dist::Erlang { k, phase_ns } => Dist::Erlang {
                k,
                phase_ns: phase_ns * f,
            },
        }
    }

    /// The mean, in seconds.
    pub fn mean_s(&self) -> f64 {
        1e-9 * match *self {
            Dist::Exp { mean_ns } => mean_ns,
            Dist::Constant { ns } => ns as f64,
            Dist::Uniform { lo_ns, width_ns } => lo_ns + width_ns / 2.0,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Erlang { k, phase_ns } => k as f64 * phase_ns,
        }
    }

    /// The squared coefficient of variation (variance / mean²).
    pub fn scv(&self) -> f64 {
        match *self {
            Dist::Exp { .. } => 1.0,
            Dist::Constant { .. } => 0.0,
            Dist::Uniform { lo_ns, width_ns } => {
                let m = lo_ns + width_ns / 2.0;
                if m == 0.0 {
                    0.0
                } else {
                    width_ns * width_ns / 12.0 / (m * m)
                }
            }
            Dist::LogNormal { sigma, .. } => (sigma * sigma).exp() - 1.0,
            Dist::Erlang { k, .. } => 1.0 / k as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::Dur;
    use sim_core::{parse_duration, RngStreams};

    fn d(s: &str) -> Dur {
        Dur(parse_duration(s).unwrap())
    }

    fn sample_mean_scv(dist: &Dist, n: usize) -> (f64, f64, Vec<f64>) {
        let mut rng = RngStreams::new(3).get("d");
        let xs: Vec<f64> = (0..n)
            .map(|_| dist.sample(&mut rng).as_secs_f64())
            .collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        (m, v / (m * m), xs)
    }

    #[test]
    fn sample_moments_match_the_parameters() {
        let cases = [
            RawDist::Exp(d("10ms")),
            RawDist::Constant(d("5ms")),
            RawDist::Uniform {
                min: d("2ms"),
                max: d("6ms"),
            },
            RawDist::LogNormal {
                mean: d("8ms"),
                p99: d("40ms"),
            },
            RawDist::Erlang {
                k: 4,
                mean: d("12ms"),
            },
        ];
        for raw in &cases {
            let dist = Dist::from_raw(raw).unwrap();
            let (m, scv, _) = sample_mean_scv(&dist, 400_000);
            assert!(
                (m - dist.mean_s()).abs() / dist.mean_s() < 0.01,
                "{raw:?}: mean {m}"
            );
            assert!(
                (scv - dist.scv()).abs() < 0.03 + 0.05 * dist.scv(),
                "{raw:?}: scv {scv}"
            );
        }
    }

    #[test]
    fn lognormal_hits_its_p99() {
        let dist = Dist::from_raw(&RawDist::LogNormal {
            mean: d("8ms"),
            p99: d("40ms"),
        })
        .unwrap();
        let (_, _, mut xs) = sample_mean_scv(&dist, 400_000);
        xs.sort_by(f64::total_cmp);
        let p99 = xs[(xs.len() as f64 * 0.99) as usize];
        assert!((p99 - 0.040).abs() / 0.040 < 0.02, "p99 {p99}");
    }

    #[test]
    fn rejects_impossible_parameters() {
        let e = Dist::from_raw(&RawDist::LogNormal {
            mean: d("8ms"),
            p99: d("4ms"),
        })
        .unwrap_err();
        assert!(
            matches!(e, DistError::LogNormalP99NotAboveMean { .. }),
            "{e}"
        );
        assert!(
            e.to_string().contains("must be above the mean (8ms)"),
            "{e}"
        );
        let e = Dist::from_raw(&RawDist::LogNormal {
            mean: d("1ms"),
            p99: d("1s"),
        })
        .unwrap_err();
        assert!(matches!(e, DistError::LogNormalTooHeavy { .. }), "{e}");
        assert!(e.to_string().contains("no log-normal"), "{e}");
        assert!(Dist::from_raw(&RawDist::Erlang {
            k: 0,
            mean: d("1ms")
        })
        .is_err());
        assert!(Dist::from_raw(&RawDist::Uniform {
            min: d("2ms"),
            max: d("1ms")
        })
        .is_err());
    }
}

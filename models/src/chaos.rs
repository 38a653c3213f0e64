//! Chaos search (`scalelab chaos`): draw fault schedules from the scenario's `chaos` space,
//! run each on the same seed (common random numbers: only the faults differ), rank them
//! by the harm they do to the SLOs, and shrink a breaking schedule to a smallest set of
//! faults that still breaks an SLO.
//!
//! Schedule `i` is drawn from the stream `chaos/<i>` of the search seed, and trials run on
//! rayon and come back in trial order: the ranking is the same for any thread count.
//!
//! **Harm** of a run: for each SLO its value over its limit (for `Availability`, the
//! unavailability over the allowed unavailability), the largest of them: above 1, an SLO
//! fails. Without SLOs, the error rate.

use crate::batch::run_once;
use crate::control::chaos::to_ron;
use crate::control::faults::RawFaultTimed;
use crate::report::Report;
use crate::scenario::raw::RawScenario;
use crate::scenario::{Scenario, ScenarioError};
use std::path::Path;
use std::sync::Arc;

/// A scenario loaded for chaos search (and for replaying schedules).
pub struct Chaos {
    raw: RawScenario,
    file: String,
    base: Scenario,
}

/// One drawn schedule and what it did.
#[derive(Debug, Clone)]
pub struct Trial {
    /// Its index (its stream is `chaos/<index>`).
    pub index: u32,
    /// The faults, as they would be written in the scenario.
    pub faults: Vec<RawFaultTimed>,
    /// What they did.
    pub harm: Harm,
}

/// How much a run hurt the SLOs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Harm {
    /// The largest SLO value over its limit (the error rate without SLOs); above 1 an SLO
    /// failed.
    pub score: f64,
    /// The SLOs that failed.
    pub failing: Vec<String>,
    /// The client error rate.
    pub error_rate: f64,
}

impl Harm {
    /// The harm of `report`.
    pub fn of(report: &Report) -> Harm {
        let score = if report.slo.is_empty() {
            report.summary.error_rate
        } else {
            report
                .slo
                .iter()
                .map(|s| {
                    if s.name.starts_with("availability") {
                        (1.0 - s.value) / (1.0 - s.limit).max(1e-12)
                    } else {
                        s.value / s.limit.max(1e-12)
                    }
                })
                .fold(0.0, f64::max)
        };
        Harm {
            score,
            failing: report
                .slo
                .iter()
                .filter(|s| !s.pass)
                .map(|s| s.name.clone())
                .collect(),
            error_rate: report.summary.error_rate,
        }
    }

    /// Whether an SLO failed.
    pub fn breaks(&self) -> bool {
        !self.failing.is_empty()
    }
}

/// What a chaos search runs: the first line of a shard's file (`scalelab chaos --shard
/// K/N --jsonl FILE`), the same in every shard.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchPlan {
    /// A fingerprint of the validated scenario (its chaos space included), the seed and
    /// the number of trials.
    pub chaos: String,
    /// The scenario file, as given (`scalelab merge` loads it again to draw the worst
    /// schedules and shrink one).
    pub file: String,
    /// The seed of the draws and of every run.
    pub seed: u64,
    /// Schedules in the search.
    pub trials: u32,
}

/// One trial's harm: a line of a shard's file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialLine {
    /// The search's fingerprint.
    pub chaos: String,
    /// The trial's index.
    pub trial: u32,
    /// What its schedule did.
    pub harm: Harm,
}

/// Put trials worst first (ties: lower index first).
pub fn rank(trials: &mut [Trial]) {
    trials.sort_by(|a, b| {
        b.harm
            .score
            .total_cmp(&a.harm.score)
            .then(a.index.cmp(&b.index))
    });
}

/// Load `path` with the faults of `faults_path` added after its own (`scalelab run
/// --faults`): errors in the faults file point into it.
pub fn load_with_faults(path: &Path, faults_path: &Path) -> Result<Scenario, ScenarioError> {
    let (raw, text) = crate::scenario::parse::read_file(path)?;
    let mut sc = Scenario::validate(&raw, &path.display().to_string(), &text)?;
    let (extra, ftext) = crate::scenario::parse::read_faults(faults_path)?;
    sc.add_faults(&raw, &extra, &faults_path.display().to_string(), &ftext)?;
    Ok(sc)
}

impl Chaos {
    /// Load `path` for chaos search: it must declare `chaos`.
    pub fn load(path: &Path) -> Result<Chaos, ScenarioError> {
        let (raw, text) = crate::scenario::parse::read_file(path)?;
        let file = path.display().to_string();
        let base = Scenario::validate(&raw, &file, &text)?;
        if base.chaos.is_none() {
            return Err(ScenarioError::new(
                crate::scenario::ErrorKind::Invalid,
                &file,
                "the scenario declares no chaos space",
            )
            .with_hint("add chaos: Chaos(faults: [KillInstances(count: 1)], window: (\"1m\", \"5m\")) to draw schedules from"));
        }
        Ok(Chaos { raw, file, base })
    }

    /// The scenario (without any drawn faults).
    pub fn scenario(&self) -> &Scenario {
        &self.base
    }

    /// The plan of a search of `trials` schedules with `seed`.
    pub fn plan(&self, trials: u32, seed: u64) -> SearchPlan {
        let (shape, s, n) = (
            format!("{:?}", self.base),
            seed.to_string(),
            trials.to_string(),
        );
        SearchPlan {
            chaos: crate::batch::fingerprint([shape.as_str(), &s, &n]),
            file: self.file.clone(),
            seed,
            trials,
        }
    }

    /// The scenario with `faults` added after its own.
    fn with(&self, faults: &[RawFaultTimed]) -> Result<Arc<Scenario>, ScenarioError> {
        let mut sc = self.base.clone();
        let text: Arc<str> = to_ron(faults).into();
        sc.add_faults(&self.raw, faults, &self.file, &text)?;
        Ok(Arc::new(sc))
    }

    /// Draw schedule `index` of the search with seed `seed`.
    pub fn draw(&self, index: u32, seed: u64) -> Vec<RawFaultTimed> {
        let space = self.base.chaos.as_ref().expect("checked at load");
        let mut rng = sim_core::RngStreams::new(seed).get(&format!("chaos/{index}"));
        space.draw(&self.base, &mut rng)
    }

    /// Run the scenario with `faults` on `seed`.
    pub fn run(&self, faults: &[RawFaultTimed], seed: u64) -> Result<Report, ScenarioError> {
        Ok(run_once(&self.with(faults)?, seed).without_series())
    }

    /// Draw and run `trials` schedules (rayon, `threads`), every run on `seed`; `tick` is
    /// called after each. Returns them worst first (ties: lower index first).
    pub fn search(
        &self,
        trials: u32,
        seed: u64,
        threads: Option<usize>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<Trial>, ScenarioError> {
        let all: Vec<u32> = (0..trials).collect();
        let mut out = self.trials(&all, seed, threads, tick)?;
        rank(&mut out);
        Ok(out)
    }

    /// Draw and run the schedules `indices` (rayon, `threads`), every run on `seed`; in
    /// the order of `indices`. `tick` is called after each.
    pub fn trials(
        &self,
        indices: &[u32],
        seed: u64,
        threads: Option<usize>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<Trial>, ScenarioError> {
        sim_core::par_map(indices.len(), threads, |i| {
            let index = indices[i];
            let faults = self.draw(index, seed);
            let harm = self.run(&faults, seed).map(|r| Harm::of(&r));
            tick();
            harm.map(|harm| Trial {
                index,
                faults,
                harm,
            })
        })
        .into_iter()
        .collect()
    }

    /// Shrink a breaking schedule: drop faults one at a time, keeping each drop after which
    /// an SLO still fails, until no single fault can go. Returns the smallest schedule
    /// found and its harm (the input and its harm when nothing could go).
    pub fn shrink(
        &self,
        faults: &[RawFaultTimed],
        seed: u64,
    ) -> Result<(Vec<RawFaultTimed>, Harm), ScenarioError> {
        let mut kept = faults.to_vec();
        let mut harm = Harm::of(&self.run(&kept, seed)?);
        let mut i = 0;
        while i < kept.len() && kept.len() > 1 {
            let mut fewer = kept.clone();
            fewer.remove(i);
            let h = Harm::of(&self.run(&fewer, seed)?);
            if h.breaks() {
                kept = fewer;
                harm = h;
            } else {
                i += 1;
            }
        }
        Ok((kept, harm))
    }
}

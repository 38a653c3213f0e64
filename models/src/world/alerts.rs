//! Alert rules at run time (see [`crate::analysis::alerts`]): each rule is an event every
//! `every`, which reads its figure over the interval since its last evaluation, and moves
//! the rule between ok, pending and firing.

use super::World;
use crate::analysis::alerts::{Alert, Figure};
use crate::kernel::{Ev, Queue};
use crate::report::TimelineKind;
use crate::scenario::Scenario;
use sim_core::{Histogram, SimTime};

/// One rule's state.
#[derive(Debug, Clone, Default)]
pub struct AlertState {
    /// Latency quantiles: each read class's histogram at the last evaluation, and the
    /// interval's (reused).
    marks: Vec<Histogram>,
    window: Histogram,
    /// Mean latency and error rate: per read class, (count, sum of seconds) or
    /// (completed, errors) at the last evaluation.
    counts: Vec<(u64, f64)>,
    /// Node figures: (area of the figure, area of workers, start of the areas) then.
    areas: (u128, u128, SimTime),
    /// The last evaluation.
    last: SimTime,
    /// The condition has held at every evaluation since.
    pending: Option<SimTime>,
    /// Firing since.
    firing: Option<SimTime>,
    /// What a run hands to its report.
    pub stats: AlertStats,
}

/// What one rule did over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlertStats {
    /// Times it fired.
    pub fired: u32,
    /// When it first fired.
    pub first_fired: Option<SimTime>,
    /// Time spent firing, to the end of the run.
    pub firing: SimTime,
}

impl World {
    /// Schedule every rule's first evaluation: one interval after the warm-up.
    pub(super) fn begin_alerts(&mut self, q: &mut Queue) {
        let sc = self.k.sc.clone();
        self.alerts = vec![AlertState::default(); sc.alerts.len()];
        for (i, a) in sc.alerts.iter().enumerate() {
            let first = sc.warmup + a.every;
            if first <= sc.duration {
                q.schedule(first, Ev::Alert(i as u16));
            }
            self.alerts[i].last = sc.warmup;
        }
    }

    /// Evaluate rule `i` at `now`, and schedule its next evaluation.
    pub(super) fn evaluate_alert(&mut self, i: usize, now: SimTime, q: &mut Queue) {
        let sc = self.k.sc.clone();
        let rule = &sc.alerts[i];
        let value = self.alert_figure(rule, i, now);
        let st = &mut self.alerts[i];
        st.last = now;
        let holds = value.is_some_and(|v| v > rule.over);
        let mut note = None;
        if holds {
            let since = *st.pending.get_or_insert(now);
            if st.firing.is_none() && now - since >= rule.hold {
                st.firing = Some(now);
                st.stats.fired += 1;
                st.stats.first_fired.get_or_insert(now);
                note = Some(format!(
                    "{} firing: {} (pending since {})",
                    rule.name,
                    reading(rule, &sc, value),
                    since
                ));
            }
        } else {
            st.pending = None;
            if let Some(from) = st.firing.take() {
                st.stats.firing = st.stats.firing + (now - from);
                note = Some(format!(
                    "{} resolved after {}: {}",
                    rule.name,
                    now - from,
                    reading(rule, &sc, value)
                ));
            }
        }
        if let Some(text) = note {
            let node = match rule.figure {
                Figure::Utilization(n) | Figure::Queue(n) => sc.nodes[n.index()].name.clone(),
                _ => String::new(),
            };
            self.note_named(now, TimelineKind::Alert, node, text);
        }
        let next = now + rule.every;
        if next <= sc.duration {
            q.schedule(next, Ev::Alert(i as u16));
        }
    }

    /// The run ended at `end`: firing time runs to it.
    pub(super) fn finish_alerts(&mut self, end: SimTime) -> Vec<AlertStats> {
        self.alerts
            .iter_mut()
            .map(|a| {
                if let Some(from) = a.firing {
                    a.stats.firing = a.stats.firing + (end.max(from) - from);
                }
                a.stats
            })
            .collect()
    }

    /// Rule `i`'s figure over the interval since its last evaluation (`None`: nothing to
    /// read), taking the marks for the next.
    fn alert_figure(&mut self, rule: &Alert, i: usize, now: SimTime) -> Option<f64> {
        let classes = &self.k.classes;
        let read: &[crate::world::stats::ClassStats] = match rule.class {
            Some(c) => std::slice::from_ref(&classes[c.index()]),
            None => classes,
        };
        let st = &mut self.alerts[i];
        match rule.figure {
            Figure::Latency(q) => {
                if st.marks.len() != read.len() {
                    st.marks = vec![Histogram::new(); read.len()];
                }
                st.window.clear();
                for (c, mark) in read.iter().zip(&mut st.marks) {
                    st.window.add_since(&c.latency, mark);
                    mark.copy_from(&c.latency);
                }
                (st.window.count() > 0).then(|| st.window.quantile_s(q))
            }
            Figure::MeanLatency | Figure::ErrorRate => {
                st.counts.resize(read.len(), (0, 0.0));
                let (mut a, mut b) = (0.0, 0.0);
                for (c, mark) in read.iter().zip(&mut st.counts) {
                    let now_ = match rule.figure {
                        Figure::MeanLatency => {
                            let n = c.latency.count();
                            (n, c.latency.mean_s() * n as f64)
                        }
                        _ => (c.completed.get(), c.errors.get() as f64),
                    };
                    a += now_.0.saturating_sub(mark.0) as f64;
                    b += now_.1 - mark.1;
                    *mark = now_;
                }
                match rule.figure {
                    // a: completed, b: seconds over them.
                    Figure::MeanLatency => (a > 0.0).then(|| b / a),
                    // a: completed, b: errors.
                    _ => (a + b > 0.0).then(|| b / (a + b)),
                }
            }
            Figure::Utilization(n) | Figure::Queue(n) => {
                let ns = &self.k.nodes[n.index()];
                let (fig, start) = match rule.figure {
                    Figure::Queue(_) => ns.queued.area_at(now),
                    _ => ns.busy.area_at(now),
                };
                let (workers, _) = ns.workers.area_at(now);
                let (f0, w0, s0) = st.areas;
                // The areas restarted (the warm-up's end): all of them are new.
                let (f0, w0, from) = if start != s0 {
                    (0, 0, start)
                } else {
                    (f0, w0, st.last.max(start))
                };
                st.areas = (fig, workers, start);
                let (df, dw) = (fig.saturating_sub(f0), workers.saturating_sub(w0));
                match rule.figure {
                    Figure::Queue(_) => {
                        let dt = (now - from).0;
                        (dt > 0).then(|| df as f64 / dt as f64)
                    }
                    _ => (dw > 0).then(|| df as f64 / dw as f64),
                }
            }
        }
    }
}

/// `p95_latency 0.62s > 0.5s`, or `error_rate 0 ≤ 0.01` (nothing read: `no data`).
fn reading(rule: &Alert, sc: &Scenario, value: Option<f64>) -> String {
    let (name, unit) = (rule.figure_name(sc), rule.unit());
    match value {
        None => format!("{name}: no data"),
        Some(v) => {
            let op = if v > rule.over { ">" } else { "≤" };
            format!("{name} {} {op} {}{unit}", fmt(v, unit), rule.over)
        }
    }
}

/// A figure with 3 significant digits (and its unit).
fn fmt(v: f64, unit: &str) -> String {
    let digits = if v == 0.0 {
        0
    } else {
        (2 - v.abs().log10().floor() as i32).clamp(0, 9) as usize
    };
    format!("{v:.digits$}{unit}")
}

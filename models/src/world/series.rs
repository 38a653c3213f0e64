//! The time series of a run (`--series`, plots, exports): at every `Sample` event, each
//! node's queue, utilisation, serving instances and throughput, a cache's hit ratio, an
//! autoscaler's view, and the end-to-end latency percentiles and rates of the interval.
//! `Sample` events run whether or not series are kept, so a run's event count does not
//! depend on it; without series only the faults' watch runs.

use super::World;
use crate::kernel::{Ev, Queue};
use sim_core::SimTime;

impl World {
    /// Fill the series at `now`, and schedule the next sample.
    pub(super) fn sample(&mut self, now: SimTime, q: &mut Queue) {
        self.watch_faults(now);
        let sc = &self.k.sc;
        let interval_s = sc.sample_every.as_secs_f64();
        let nodes = if self.series {
            &mut self.k.nodes[..]
        } else {
            &mut []
        };
        for ((n, state), auto) in nodes.iter_mut().zip(&mut self.states).zip(&self.autoscale) {
            if let Some(c) = state.as_cache_mut() {
                n.hit_series.push(c.take_hit_ratio());
            }
            if let (Some(a), Some(p)) = (auto, state.as_pool()) {
                n.desired_series.push(p.size() as f64);
                n.starting_series
                    .push((p.size() - p.ready().min(p.size())) as f64);
                n.metric_series.push(a.latest());
            }
            n.queue_series.push(n.queued.value() as f64);
            let workers = n.workers.value();
            n.util_series.push(if workers > 0 {
                n.busy.value() as f64 / workers as f64
            } else {
                0.0
            });
            n.instance_series
                .push(state.as_pool().map_or(0.0, |p| p.ready() as f64));
            let served = n.departed_total - n.departed_at_last_sample;
            n.departed_at_last_sample = n.departed_total;
            n.throughput_series.push(served as f64 / interval_s);
        }
        if self.series {
            let mut marks = std::mem::take(&mut self.latency_marks);
            let q = self.latency_window(&mut marks);
            self.latency_marks = marks;
            for (series, v) in self.latency_series.iter_mut().zip(q) {
                series.push(v);
            }
            let (done, failed) = self.client_totals();
            let (d0, f0) = std::mem::replace(&mut self.rate_mark, (done, failed));
            self.rate_series[0].push(done.saturating_sub(d0) as f64 / interval_s);
            self.rate_series[1].push(failed.saturating_sub(f0) as f64 / interval_s);
        }
        let next = now + sc.sample_every;
        if next <= sc.duration {
            q.schedule(next, Ev::Sample);
        }
    }
}

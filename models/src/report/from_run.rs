//! One run's statistics become a [`Report`].

use super::{
    Bottleneck, ClassReport, Cost, Instances, Latency, NodeReport, NodeSeries, Report, RunOutcome,
    Series, Stats, TimelineEntry, TimelineKind,
};
use crate::analysis::bottleneck::{find_bottleneck, pick_bottleneck};
use crate::analysis::slo;
use crate::components::service::sessions::SessionMode;
use crate::scenario::Scenario;
use crate::world::stats::{ClassStats, Outcome, RunStats};

fn stats_of(c: &ClassStats, window_s: f64) -> Stats {
    let (done, err) = (c.completed.get() as f64, c.errors.get() as f64);
    Stats {
        requests: c.requests.get() as f64,
        completed: done,
        errors: err,
        timeouts: c.timeouts.get() as f64,
        error_rate: if done + err > 0.0 {
            err / (done + err)
        } else {
            0.0
        },
        throughput: if window_s > 0.0 { done / window_s } else { 0.0 },
        latency: Latency::of(&c.latency),
        calls: c.calls.get() as f64,
        call_attempts: c.call_attempts.get() as f64,
        amplification: if c.calls.get() > 0 {
            c.call_attempts.get() as f64 / c.calls.get() as f64
        } else {
            0.0
        },
        client_retries: c.client_retries.get() as f64,
        client_amplification: if c.client_retries.get() > 0 && c.requests.get() > 0 {
            (c.requests.get() + c.client_retries.get()) as f64 / c.requests.get() as f64
        } else {
            0.0
        },
    }
}

impl Report {
    /// The report of one run.
    pub fn from_run(sc: &Scenario, run: &RunStats) -> Report {
        let window_s = (run.end - run.window_start).as_secs_f64();
        let run_h = run.end.as_secs_f64() / 3600.0;
        let window_h = window_s / 3600.0;
        let mut all = ClassStats::default();
        for c in &run.classes {
            all.requests.add(c.requests.get());
            all.completed.add(c.completed.get());
            all.errors.add(c.errors.get());
            all.timeouts.add(c.timeouts.get());
            all.calls.add(c.calls.get());
            all.call_attempts.add(c.call_attempts.get());
            all.client_retries.add(c.client_retries.get());
            all.latency.merge(&c.latency);
        }
        let mut cost = Cost::default();
        let mut window_cost = 0.0;
        let nodes: Vec<NodeReport> = sc
            .nodes
            .iter()
            .zip(&run.nodes)
            .map(|(n, st)| {
                let (price, billed, billed_window) = match &n.kind {
                    // Means over the run, exact integer areas: a constant pool of n gives n.
                    crate::components::NodeKind::Service(s) => (
                        s.cost_per_hour,
                        st.running.mean(run.end),
                        st.running_window.mean(run.end),
                    ),
                    // A database bills its servers from the start (a failed one is
                    // replaced, not unbilled).
                    crate::components::NodeKind::Database(db) => {
                        let n = db.servers() as f64;
                        (db.price, n, n)
                    }
                    _ => (0.0, 0.0, 0.0),
                };
                let mut node_cost = billed * price * run_h;
                let mut sizes = vec![];
                if !st.gen_running.is_empty() {
                    // Deployed or resized: each generation at its own price.
                    let (mut first, mut first_window) = (billed, billed_window);
                    let mut later = 0.0;
                    for g in &st.gen_running {
                        let (b, bw) = (g.run.mean(run.end), g.window.mean(run.end));
                        (first, first_window) = (first - b, first_window - bw);
                        later += b * g.price * run_h;
                        window_cost += bw * g.price * window_h;
                        sizes.push(super::SizeReport {
                            cores: g.cores as f64,
                            cost_per_hour: g.price,
                            instance_hours: b * run_h,
                            cost: b * g.price * run_h,
                        });
                    }
                    let cores = n.kind.as_service().map_or(0, |s| s.cores);
                    sizes.insert(
                        0,
                        super::SizeReport {
                            cores: cores as f64,
                            cost_per_hour: price,
                            instance_hours: first * run_h,
                            cost: first * price * run_h,
                        },
                    );
                    node_cost = first * price * run_h + later;
                    window_cost += first_window * price * window_h;
                } else {
                    window_cost += billed_window * price * window_h;
                }
                cost.total += node_cost;
                cost.per_node.insert(n.name.clone(), node_cost);
                let workers = st.workers.mean(run.end);
                NodeReport {
                    name: n.name.clone(),
                    kind: n.kind.kind(),
                    utilization: if workers > 0.0 {
                        st.busy.mean(run.end) / workers
                    } else {
                        0.0
                    },
                    mean_queue: st.queued.mean(run.end),
                    max_queue: st.queued.max() as f64,
                    queue_end: st.queued.value() as f64,
                    mean_present: st.present.mean(run.end),
                    throughput: if window_s > 0.0 {
                        st.departures.get() as f64 / window_s
                    } else {
                        0.0
                    },
                    errors: st.rejected.get() as f64,
                    latency: Latency::of(&st.sojourn),
                    instances: Instances {
                        min: st.serving_min as f64,
                        max: st.serving.max() as f64,
                        mean: st.serving.mean(run.end),
                    },
                    cost: node_cost,
                    instance_hours: billed * run_h,
                    sizes,
                    killed: st.killed.get() as f64,
                    messages: matches!(n.kind, crate::components::NodeKind::Queue(_)).then(|| {
                        let m = st.messages.clone().unwrap_or_default();
                        super::MessagesReport {
                            enqueued: m.enqueued.get() as f64,
                            processed: m.processed.get() as f64,
                            failed: m.failed.get() as f64,
                            retries: m.retries.get() as f64,
                            dead_letters: m.dead_letters.get() as f64,
                            processing_latency: Latency::of(&m.latency),
                            oldest_age: m.oldest_age,
                        }
                    }),
                    sessions: n
                        .kind
                        .as_service()
                        .filter(|s| s.sessions == SessionMode::InMemory)
                        .map(|_| {
                            let s = st.sessions.unwrap_or_default();
                            super::SessionsReport {
                                created: s.created.get() as f64,
                                lost: s.lost.get() as f64,
                                moved: s.moved.get() as f64,
                            }
                        }),
                    database: match &n.kind {
                        crate::components::NodeKind::Database(db) => {
                            Some(database_report(db, st, run))
                        }
                        _ => None,
                    },
                    cache: matches!(n.kind, crate::components::NodeKind::Cache(_)).then(|| {
                        let c = st.cache.clone().unwrap_or_default();
                        let (h, m) = (c.hits.get() as f64, c.misses.get() as f64);
                        super::CacheReport {
                            hits: h,
                            misses: m,
                            hit_ratio: if h + m > 0.0 { h / (h + m) } else { 0.0 },
                            evictions: c.evictions.get() as f64,
                            expirations: c.expirations.get() as f64,
                            invalidations: c.invalidations.get() as f64,
                            fetches: c.fetches.get() as f64,
                            coalesced: c.coalesced.get() as f64,
                            written_back: c.written_back.get() as f64,
                            lost_writes: c.lost_writes.get() as f64,
                            stale_reads: c.stale_reads.get() as f64,
                        }
                    }),
                }
            })
            .collect();
        let requests = all.requests.get() as f64;
        cost.per_million_requests = if requests > 0.0 {
            window_cost / requests * 1e6
        } else {
            0.0
        };
        let mut warnings = vec![];
        let late = sc.actions.iter().filter(|a| a.at > run.end).count();
        if late > 0 {
            warnings.push(format!(
                "{} scripted after the end of the run ({:.1}s) did not happen",
                crate::world::plural(late as u64, "action"),
                run.end.as_secs_f64()
            ));
        }
        let mut timeline = run.timeline.clone();
        let outcome = match run.outcome {
            Outcome::Completed => RunOutcome::Completed,
            Outcome::InFlightLimit { node, at } => {
                let util: Vec<Option<f64>> = nodes
                    .iter()
                    .map(|n| n.kind.has_workers().then_some(n.utilization))
                    .collect();
                let n = &nodes[pick_bottleneck(&util, &sc.depths()).unwrap_or(node.index())];
                let pile = &nodes[node.index()];
                let where_ = if pile.name == n.name {
                    format!("requests pile up in its queue ({})", pile.queue_end)
                } else {
                    format!(
                        "requests pile up behind it at `{}` (queue {})",
                        pile.name, pile.queue_end
                    )
                };
                let text = format!(
                    "run cut at {:.1}s: more than {} requests in flight (limits.max_in_flight). `{}` overflowed: \
                     utilisation {:.2}; {where_}. Add capacity to `{}`, bound queues (queue: N) or raise limits.max_in_flight",
                    at.as_secs_f64(), sc.max_in_flight, n.name, n.utilization, n.name
                );
                timeline.push(TimelineEntry {
                    t: at.as_secs_f64(),
                    kind: TimelineKind::Limit,
                    node: n.name.clone(),
                    text: text.clone(),
                });
                warnings.push(text);
                RunOutcome::InFlightLimit
            }
            Outcome::Stalled { at } => {
                warnings.push(format!(
                    "run cut at {:.6}s: simulated time stopped advancing (more than {} events at one instant); \
                     look for work that takes no time in a loop, or rates the 1 ns clock cannot resolve",
                    at.as_secs_f64(),
                    crate::world::MAX_EVENTS_AT_ONE_INSTANT
                ));
                RunOutcome::Stalled
            }
            Outcome::EventLimit { at } => {
                warnings.push(format!(
                    "run cut at {:.1}s: limits.max_events ({}) reached",
                    at.as_secs_f64(),
                    sc.max_events.unwrap_or(0)
                ));
                RunOutcome::EventLimit
            }
        };
        let [p50, p95, p99] = run.latency_series.clone();
        let [completed, errors] = run.rate_series.clone();
        let series = Series {
            interval: sc.sample_every.as_secs_f64(),
            p50,
            p95,
            p99,
            completed,
            errors,
            nodes: sc
                .nodes
                .iter()
                .zip(&run.nodes)
                .map(|(n, st)| NodeSeries {
                    name: n.name.clone(),
                    queue: st.queue_series.values.clone(),
                    utilization: st.util_series.values.clone(),
                    instances: st.instance_series.values.clone(),
                    throughput: st.throughput_series.values.clone(),
                    hit_ratio: st.hit_series.values.clone(),
                    desired: st.desired_series.values.clone(),
                    starting: st.starting_series.values.clone(),
                    metric: st.metric_series.values.clone(),
                })
                .collect(),
        };
        let mut report = Report {
            scenario: sc.name.clone(),
            seed: run.seed,
            replications: 1,
            sim_seconds: run.end.as_secs_f64(),
            wall_seconds: None,
            events: run.events as f64,
            outcome,
            in_flight_peak: run.in_flight_peak as f64,
            in_flight_end: run.in_flight_end as f64,
            summary: stats_of(&all, window_s),
            classes: sc
                .classes
                .iter()
                .zip(&run.classes)
                .map(|(name, c)| ClassReport {
                    name: name.clone(),
                    stats: stats_of(c, window_s),
                })
                .collect(),
            nodes,
            bottleneck: Bottleneck::default(),
            slo: vec![],
            expect: vec![],
            timeline,
            calls: sc
                .calls
                .iter()
                .zip(&run.calls)
                .map(|(p, c)| {
                    let (n, a) = (c.calls.get() as f64, c.attempts.get() as f64);
                    super::CallReport {
                        from: sc.nodes[p.from.index()].name.clone(),
                        to: sc.nodes[p.to.index()].name.clone(),
                        calls: n,
                        attempts: a,
                        amplification: if n > 0.0 { a / n } else { 0.0 },
                        timeouts: c.timeouts.get() as f64,
                        failed: c.failed.get() as f64,
                        short_circuited: c.short_circuited.get() as f64,
                        breaker_opened: c.opened.get() as f64,
                        breaker_open_s: c.open_time(sc.warmup, run.end).as_secs_f64(),
                        bulkhead_rejected: c.rejected.get() as f64,
                        hedged: c.hedged.get() as f64,
                    }
                })
                .collect(),
            alerts: sc
                .alerts
                .iter()
                .zip(&run.alerts)
                .map(|(a, s)| super::AlertReport {
                    name: a.name.clone(),
                    rule: a.rule(sc),
                    fired: s.fired as f64,
                    first_fired: s.first_fired.map(|t| t.as_secs_f64()),
                    firing_s: s.firing.as_secs_f64(),
                })
                .collect(),
            faults: run
                .faults
                .iter()
                .map(|f| {
                    let (c, e) = (f.completed as f64, f.failed as f64);
                    super::FaultReport {
                        name: f.name.clone(),
                        start: f.start.as_secs_f64(),
                        end: f.end.as_secs_f64(),
                        healed: f.healed,
                        completed: c,
                        failed: e,
                        error_rate: if c + e > 0.0 { e / (c + e) } else { 0.0 },
                        killed: f.killed as f64,
                        peak_error_rate: f.peak_error_rate,
                        detected: f.detected.is_some(),
                        time_to_detect: f.detected.map_or(0.0, |d| d.as_secs_f64()),
                        recovered: f.recovered.is_some(),
                        time_to_recover: f
                            .recovered
                            .unwrap_or(run.end.saturating_sub(f.start))
                            .as_secs_f64(),
                        recovery_threshold: f.threshold,
                        writes_lost: f.writes_lost as f64,
                    }
                })
                .collect(),
            cost,
            warnings,
            series: Some(series),
        };
        report.bottleneck = find_bottleneck(&report, &sc.depths());
        report.slo = slo::evaluate(&sc.slos, sc, &report);
        report.expect = crate::analysis::expect::evaluate(&sc.expect, &report);
        report
    }
}

fn database_report(
    db: &crate::components::database::Database,
    st: &crate::world::stats::NodeStats,
    run: &RunStats,
) -> super::DatabaseReport {
    let d = st.database.clone().unwrap_or_default();
    let reads = d.reads.get() as f64;
    let shards = db.sharding.count() as usize;
    let total: u64 = d.shard_requests.iter().map(|c| c.get()).sum();
    let shard_shares: Vec<f64> = (0..shards)
        .map(|i| match d.shard_requests.get(i) {
            Some(c) if total > 0 => c.get() as f64 / total as f64,
            _ => 0.0,
        })
        .collect();
    let hot_shard = (shards > 1)
        .then(|| {
            let (i, &share) = shard_shares
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))?;
            (share >= 1.5 / shards as f64).then_some(super::HotShard {
                shard: i as f64,
                share,
            })
        })
        .flatten();
    super::DatabaseReport {
        reads,
        writes: d.writes.get() as f64,
        replica_reads: d.replica_reads.get() as f64,
        stale_reads: d.stale_reads.get() as f64,
        stale_ratio: if reads > 0.0 {
            d.stale_reads.get() as f64 / reads
        } else {
            0.0
        },
        applied: d.applied.get() as f64,
        pool_waits: d.pool_waits.get() as f64,
        pool_timeouts: d.pool_timeouts.get() as f64,
        failovers: d.failovers.get() as f64,
        lost_writes: d.lost_writes.get() as f64,
        servers: (0..db.servers())
            .map(|s| super::ServerReport {
                name: db.server_label(s),
                utilization: d
                    .server_busy
                    .get(s as usize)
                    .map_or(0.0, |b| b.mean(run.end) / db.cores as f64),
            })
            .collect(),
        shard_shares,
        hot_shard,
    }
}

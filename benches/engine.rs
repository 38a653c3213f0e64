//! Criterion benches: the raw engine on M/M/1 (events per second, counting 2 events per
//! customer as `shared/anchors/heap_limit` does) and the default scenario (simulated
//! requests per wall second). Figures and commands: benches/README.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use models::world::simulate;
use sim_core::{EventQueue, SimTime};
use std::hint::black_box;

const MM1: &str = include_str!("mm1.ron");
const LB10K: &str = include_str!("lb10k.ron");
const DEFAULT: &str = include_str!("../scenarios/default.ron");
const DATA_TIER: &str = include_str!("data-tier.ron");

fn mm1(c: &mut Criterion) {
    let mut sc = models::load_str("mm1.ron", MM1).expect("bench scenario is valid");
    // 1 simulated second = 90 000 customers; 10 s keeps one iteration around 0.1 s.
    sc.set_duration(SimTime::from_secs(10)).unwrap();
    let sc = std::sync::Arc::new(sc);
    let customers = simulate(&sc, 1).classes[0].requests.get();
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    g.throughput(Throughput::Elements(2 * customers));
    g.bench_function("mm1_rho0.9_full_stats", |b| {
        b.iter(|| black_box(simulate(&sc, 1)).events)
    });
    g.finish();
}

fn default_scenario(c: &mut Criterion) {
    let mut sc = models::load_str("default.ron", DEFAULT).expect("default scenario is valid");
    sc.set_duration(SimTime::from_secs(360)).unwrap();
    let sc = std::sync::Arc::new(sc);
    let stats = simulate(&sc, 42);
    let requests: u64 = stats.classes.iter().map(|c| c.requests.get()).sum();
    let mut g = c.benchmark_group("scenario");
    g.sample_size(20);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("default_6m", |b| {
        b.iter(|| black_box(simulate(&sc, 42)).events)
    });
    g.finish();
}

/// The data tier: a 1 M-key cache (filling during the run), a database with two replicas,
/// a queue. Simulated requests per wall second over 2 simulated minutes.
fn data_tier(c: &mut Criterion) {
    let mut sc = models::load_str("data-tier.ron", DATA_TIER).expect("bench scenario is valid");
    sc.set_duration(SimTime::from_secs(120)).unwrap();
    sc.warmup = SimTime::ZERO; // count every request simulated
    let sc = std::sync::Arc::new(sc);
    let stats = simulate(&sc, 1);
    let requests: u64 = stats.classes.iter().map(|c| c.requests.get()).sum();
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.throughput(Throughput::Elements(requests));
    g.bench_function("data_tier_2m", |b| {
        b.iter(|| black_box(simulate(&sc, 1)).events)
    });
    g.finish();
}

/// One balancer over 10 000 instances at ρ = 0.9, per algorithm: simulated requests per
/// wall second. Every algorithm must reach at least half of round robin's figure.
fn balancers(c: &mut Criterion) {
    let mut g = c.benchmark_group("lb10k");
    g.sample_size(10);
    for alg in [
        "RoundRobin",
        "WeightedRoundRobin(weights: [1])",
        "Random",
        "LeastConnections",
        "PowerOfTwoChoices",
        "ConsistentHash",
    ] {
        let text = LB10K.replace("algorithm: RoundRobin", &format!("algorithm: {alg}"));
        let mut sc = models::load_str("lb10k.ron", &text).expect("bench scenario is valid");
        sc.set_duration(SimTime::from_secs(1)).unwrap();
        let sc = std::sync::Arc::new(sc);
        let requests = simulate(&sc, 1).classes[0].requests.get();
        g.throughput(Throughput::Elements(requests));
        let name = alg.split('(').next().unwrap_or(alg);
        g.bench_function(name, |b| b.iter(|| black_box(simulate(&sc, 1)).events));
    }
    g.finish();
}

fn hold(c: &mut Criterion) {
    // The hold model of heap_limit: 1 000 pending events, pop one, push one later.
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("hold_1k_pop_push", |b| {
        b.iter(|| {
            let mut q = EventQueue::<u32>::with_capacity(1024);
            let mut x: u64 = 88172645463325252;
            for i in 0..1000u32 {
                q.schedule(SimTime(i as u64 * 997), i);
            }
            for _ in 0..1_000_000 {
                let (t, e) = q.pop().unwrap();
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                q.schedule(SimTime(t.0 + 1 + (x % 2_000_000)), e);
            }
            black_box(q.len())
        })
    });
    g.finish();
}

/// Replications on 1 and on 2 threads: `run --replications 8` (and `compare`/`sweep`
/// seeds) should run at ≥ 1.8× the speed on this 2-core machine. Same work, same results
/// either way; criterion's throughput is replications per second.
fn replications(c: &mut Criterion) {
    let mut sc = models::load_str("default.ron", DEFAULT).expect("default scenario is valid");
    sc.set_duration(SimTime::from_secs(120)).unwrap();
    let sc = std::sync::Arc::new(sc);
    let mut g = c.benchmark_group("replications");
    g.sample_size(10);
    g.throughput(Throughput::Elements(8));
    for threads in [1, 2] {
        let opts = models::RunOptions {
            seed: Some(42),
            replications: 8,
            threads: Some(threads),
            ..Default::default()
        };
        g.bench_function(format!("default_2m_x8_threads{threads}"), |b| {
            b.iter(|| black_box(models::replicate(&sc, &opts)).mean.events)
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    mm1,
    default_scenario,
    data_tier,
    balancers,
    hold,
    replications
);
criterion_main!(benches);

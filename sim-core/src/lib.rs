//! sim-core: a small, deterministic discrete-event engine.
//!
//! It owns simulated time, the event queue, named random streams, statistics and the
//! replication runner. It knows nothing about servers, caches or load balancers: the world
//! lives in the `models` crate and plugs in through the [`Model`] trait; a [`Simulation`]
//! steps it.
//!
//! Promises:
//! - time is integer nanoseconds ([`SimTime`]); no floating-point clock;
//! - events run in `(time, insertion sequence)` order, so a run is a pure function of its
//!   inputs and seed;
//! - random numbers come only from [`RngStreams`], each stream derived from `(seed, name)`;
//! - [`EventQueue`], [`Slab`] and the statistics allocate nothing per event once they have
//!   grown to their peak size;
//! - [`replicate`] gives results in replication order whatever the number of threads.
#![warn(missing_docs)]

mod collections;
mod queue;
mod replicate;
mod rng;
mod sim;
mod slab;
mod stats;
mod time;

pub use collections::{DenseSet, MinTree};
pub use queue::EventQueue;
pub use replicate::{par_map, replicate, replication_seed, student_t_975, Summary};
pub use rng::{mix64, RngStreams, Stream};
pub use sim::{Model, Simulation, StopReason};
pub use slab::{Key, Slab};
pub use stats::{Counter, Histogram, TimeSeries, TimeWeighted};
pub use time::{parse_duration, DurationError, SimTime};

/// A xorshift64 generator: random test input without a dependency or a named stream.
#[cfg(test)]
pub(crate) fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

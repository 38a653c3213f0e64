//! sim-core: a small, deterministic discrete-event engine.
//!
//! It owns simulated time, the event queue, named random streams, statistics and the
//! replication runner. It knows nothing about servers, caches or load balancers: the world
//! lives in the `models` crate and plugs in through the [`Model`] trait.
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

mod queue;
mod replicate;
mod rng;
mod slab;
mod stats;
mod time;

pub use queue::EventQueue;
pub use replicate::{replicate, replication_seed, student_t_975, Summary};
pub use rng::{RngStreams, Stream};
pub use slab::{Key, Slab};
pub use stats::{Counter, Histogram, TimeSeries, TimeWeighted};
pub use time::{parse_duration, DurationError, SimTime};

/// A simulated world driven by the engine.
///
/// The engine owns time: it pops the next event and hands it to [`Model::handle`] together
/// with the queue, through which the model schedules more. Dispatch is static (generics),
/// so there is no dynamic call on the hot path.
pub trait Model {
    /// The event type: small and `Copy` (an enum of a few machine words).
    type Event: Copy;
    /// React to one event at time `now`.
    fn handle(&mut self, now: SimTime, event: Self::Event, queue: &mut EventQueue<Self::Event>);
    /// Whether the run must stop now (a limit was hit). Checked after every event.
    fn should_stop(&self) -> bool {
        false
    }
}

/// Why [`run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The horizon was reached (or no events were left).
    Horizon,
    /// The model asked to stop ([`Model::should_stop`]).
    Model,
    /// The event budget was spent.
    EventLimit,
}

/// Run `model` until simulated time `horizon` (events at exactly `horizon` still run),
/// until the model asks to stop, or until `max_events` events have been handled.
/// Returns the reason and the number of events handled.
pub fn run_until<M: Model>(
    model: &mut M,
    queue: &mut EventQueue<M::Event>,
    horizon: SimTime,
    max_events: u64,
) -> (StopReason, u64) {
    let mut handled: u64 = 0;
    while let Some(t) = queue.peek_time() {
        if t > horizon {
            break;
        }
        if handled >= max_events {
            return (StopReason::EventLimit, handled);
        }
        let (now, ev) = queue.pop().expect("peeked");
        model.handle(now, ev, queue);
        handled += 1;
        if model.should_stop() {
            return (StopReason::Model, handled);
        }
    }
    (StopReason::Horizon, handled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model: every event re-schedules itself `gap` later and counts.
    struct Ticker {
        gap: SimTime,
        seen: Vec<(u64, u32)>,
    }
    impl Model for Ticker {
        type Event = u32;
        fn handle(&mut self, now: SimTime, ev: u32, q: &mut EventQueue<u32>) {
            self.seen.push((now.as_nanos(), ev));
            q.schedule(now + self.gap, ev);
        }
    }

    #[test]
    fn run_until_stops_at_horizon_and_counts() {
        let mut m = Ticker {
            gap: SimTime::from_nanos(10),
            seen: vec![],
        };
        let mut q = EventQueue::new();
        q.schedule(SimTime::ZERO, 1);
        q.schedule(SimTime::ZERO, 2);
        let (why, n) = run_until(&mut m, &mut q, SimTime::from_nanos(20), u64::MAX);
        assert_eq!(why, StopReason::Horizon);
        assert_eq!(n, 6);
        assert_eq!(
            m.seen,
            vec![(0, 1), (0, 2), (10, 1), (10, 2), (20, 1), (20, 2)]
        );
        let (why, n) = run_until(&mut m, &mut q, SimTime::from_nanos(1000), 3);
        assert_eq!((why, n), (StopReason::EventLimit, 3));
    }
}

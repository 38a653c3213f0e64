//! [`Simulation`]: a model, its event queue and its clock, stepped from outside.
//!
//! The engine owns time. A caller drives it with [`Simulation::step`] (one event),
//! [`Simulation::run_until`] (every event up to and including a time, then the clock stands
//! at that time) or [`Simulation::run`] (to the end), and may [`Simulation::inject`] an event
//! at the current time between calls: it is ordered like any other event, after those
//! already scheduled for this instant. A terminal UI runs a simulation in slices with
//! `run_until`, and a key press becomes an injected event, so an interactive run and a
//! scripted one take the same code path.

use crate::{EventQueue, SimTime};

/// A simulated world driven by the engine.
///
/// The engine pops the next event and hands it to [`Model::handle`] together with the
/// queue, through which the model schedules more. Dispatch is static (generics), so there
/// is no dynamic call on the hot path.
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

/// Why a run call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The requested time was reached, or no events were left before it.
    Horizon,
    /// The model asked to stop ([`Model::should_stop`]); later calls do nothing.
    Model,
    /// The event budget was spent; later calls do nothing.
    EventLimit,
}

/// A model with its queue and clock. See the module docs.
pub struct Simulation<M: Model> {
    model: M,
    queue: EventQueue<M::Event>,
    handled: u64,
    max_events: u64,
    stopped: Option<StopReason>,
}

impl<M: Model> Simulation<M> {
    /// A simulation of `model` whose initial events are already in `queue`.
    pub fn new(model: M, queue: EventQueue<M::Event>) -> Self {
        Simulation {
            model,
            queue,
            handled: 0,
            max_events: u64::MAX,
            stopped: None,
        }
    }

    /// Stop after `n` events in all (a bound on runaway runs).
    pub fn with_event_limit(mut self, n: u64) -> Self {
        self.max_events = n;
        self
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Events handled so far.
    #[inline]
    pub fn events(&self) -> u64 {
        self.handled
    }

    /// Why the run stopped for good, if it did (a model stop or the event limit).
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped
    }

    /// The time of the next pending event.
    pub fn next_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// The model, to observe it.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, to change it directly (prefer [`Simulation::inject`]: an event is
    /// ordered and replayable, a direct change is not).
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Take the model back, with the number of events handled.
    pub fn into_model(self) -> (M, u64) {
        (self.model, self.handled)
    }

    /// Schedule `event` at the current time, after everything already scheduled for it.
    pub fn inject<T>(&mut self, event: T)
    where
        M::Event: From<T>,
    {
        let now = self.queue.now();
        self.queue.schedule(now, event);
    }

    /// Schedule `event` at `at` (clamped to now).
    pub fn schedule<T>(&mut self, at: SimTime, event: T)
    where
        M::Event: From<T>,
    {
        self.queue.schedule(at, event);
    }

    /// Handle the next event. Returns its time, or `None` when nothing is pending or the
    /// run has stopped.
    pub fn step(&mut self) -> Option<SimTime> {
        if self.stopped.is_some() {
            return None;
        }
        if self.handled >= self.max_events {
            self.stopped = Some(StopReason::EventLimit);
            return None;
        }
        let (now, ev) = self.queue.pop()?;
        self.model.handle(now, ev, &mut self.queue);
        self.handled += 1;
        if self.model.should_stop() {
            self.stopped = Some(StopReason::Model);
        }
        Some(now)
    }

    /// Handle every event up to and including `horizon`; then the clock stands at
    /// `horizon` (unless the run stopped earlier).
    pub fn run_until(&mut self, horizon: SimTime) -> StopReason {
        if let Some(r) = self.stopped {
            return r;
        }
        while let Some(t) = self.queue.peek_time() {
            if t > horizon {
                break;
            }
            if self.handled >= self.max_events {
                self.stopped = Some(StopReason::EventLimit);
                return StopReason::EventLimit;
            }
            let (now, ev) = self.queue.pop().expect("peeked");
            self.model.handle(now, ev, &mut self.queue);
            self.handled += 1;
            if self.model.should_stop() {
                self.stopped = Some(StopReason::Model);
                return StopReason::Model;
            }
        }
        self.queue.advance_to(horizon);
        StopReason::Horizon
    }

    /// Handle events until none is left (or the run stops).
    pub fn run(&mut self) -> StopReason {
        self.run_until(SimTime(u64::MAX))
    }
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
            if ev < 100 {
                q.schedule(now + self.gap, ev);
            }
        }
    }

    fn ticker() -> Simulation<Ticker> {
        let mut q = EventQueue::new();
        q.schedule(SimTime::ZERO, 1u32);
        q.schedule(SimTime::ZERO, 2u32);
        Simulation::new(
            Ticker {
                gap: SimTime::from_nanos(10),
                seen: vec![],
            },
            q,
        )
    }

    #[test]
    fn run_until_stops_at_horizon_and_leaves_the_clock_there() {
        let mut s = ticker();
        assert_eq!(s.run_until(SimTime::from_nanos(25)), StopReason::Horizon);
        assert_eq!(s.events(), 6);
        assert_eq!(s.now(), SimTime::from_nanos(25));
        assert_eq!(
            s.model().seen,
            vec![(0, 1), (0, 2), (10, 1), (10, 2), (20, 1), (20, 2)]
        );
        let mut s = s.with_event_limit(9);
        assert_eq!(
            s.run_until(SimTime::from_nanos(1000)),
            StopReason::EventLimit
        );
        assert_eq!(s.events(), 9);
        assert_eq!(s.step(), None, "a stopped run stays stopped");
    }

    #[test]
    fn slices_and_steps_give_the_same_run_as_one_call() {
        let mut whole = ticker();
        whole.run_until(SimTime::from_nanos(200));
        let mut sliced = ticker();
        for t in (0..200).step_by(7).chain([200]) {
            sliced.run_until(SimTime::from_nanos(t));
        }
        let mut stepped = ticker();
        while stepped
            .next_time()
            .is_some_and(|t| t <= SimTime::from_nanos(200))
        {
            stepped.step();
        }
        assert_eq!(whole.model().seen, sliced.model().seen);
        assert_eq!(whole.model().seen, stepped.model().seen);
    }

    #[test]
    fn injected_events_run_now_after_those_already_due() {
        let mut s = ticker();
        s.run_until(SimTime::from_nanos(15));
        s.inject(500u32); // at 15: before the ticks at 20
        s.run_until(SimTime::from_nanos(20));
        let seen = &s.model().seen;
        assert_eq!(&seen[4..], &[(15, 500), (20, 1), (20, 2)]);
        // Injected while events for the current instant are pending: after them.
        let mut s = ticker();
        s.inject(700u32);
        s.run_until(SimTime::ZERO);
        assert_eq!(s.model().seen, vec![(0, 1), (0, 2), (0, 700)]);
    }
}

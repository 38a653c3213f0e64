//! The event queue: a binary heap ordered by `(time, insertion sequence)`, with a FIFO lane
//! for events scheduled at the current instant.
//!
//! Many events in a queueing model are scheduled "now" (a zero-latency hop, a reply that
//! costs nothing). They go to a plain FIFO instead of the heap, which is much cheaper; the
//! total order is unchanged because [`EventQueue::pop`] compares the FIFO's front with the
//! heap's top on `(time, seq)` exactly as if both lived in one heap.
//!
//! The heap is sim-core's own binary heap rather than `std::collections::BinaryHeap`:
//! `std`'s `pop` swaps the last entry into the root through memory and reads it straight
//! back, which stalls the processor on every pop (see `benches/README.md`, issue 13).
//!
//! A model may keep its events in a compact form (`E`) and schedule them in a richer one
//! (any `T` with `E: From<T>`): the conversion is inlined at each call site.
//!
//! Cancelling a timer is done by the model without touching the queue: the event carries a
//! generational [`crate::Key`]; when the entity it names is gone (its slot freed or reused),
//! the event is stale and is dropped on pop. Nothing is ever scanned.

use crate::SimTime;

#[derive(Clone, Copy)]
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// Runs before `o`: earlier `(time, seq)`.
    #[inline(always)]
    fn before(&self, o: &Self) -> bool {
        (self.time, self.seq) < (o.time, o.seq)
    }
}

/// A binary min-heap of entries on `(time, seq)`. Unlike `std::collections::BinaryHeap`,
/// `pop` reads the top entry out before moving anything (std swaps the last entry into the
/// root through memory and reads it back, a store-forwarding stall on every pop).
struct Heap<E> {
    v: Vec<Entry<E>>,
}

impl<E: Copy> Heap<E> {
    fn with_capacity(n: usize) -> Self {
        Heap {
            v: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.v.len()
    }

    #[inline]
    fn peek(&self) -> Option<&Entry<E>> {
        self.v.first()
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        let hole = self.v.len();
        self.v.push(e);
        self.sift_up(hole, e);
    }

    /// Put `e` at `hole` or above it, moving later parents down.
    #[inline(always)]
    fn sift_up(&mut self, mut hole: usize, e: Entry<E>) {
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if !e.before(&self.v[parent]) {
                break;
            }
            self.v[hole] = self.v[parent];
            hole = parent;
        }
        self.v[hole] = e;
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        let last = self.v.pop()?;
        let n = self.v.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.v[0];
        // Move the earlier child up into the hole down to a leaf, then sift `last` up
        // from there (it came from the bottom, so it rarely climbs).
        let mut hole = 0;
        let mut child = 1;
        while child + 1 < n {
            child += self.v[child + 1].before(&self.v[child]) as usize;
            self.v[hole] = self.v[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if child + 1 == n {
            self.v[hole] = self.v[child];
            hole = child;
        }
        self.sift_up(hole, last);
        Some(top)
    }
}

/// Events at the current instant, in scheduling order. The clock moves only once the lane
/// is empty, so a `Vec` read from a cursor serves: no wrap-around arithmetic, and it is
/// emptied in one step when its last event is taken. A long chain of same-instant events
/// (each adding one as it is taken) never empties it; past [`Lane::COMPACT`] taken events it
/// drops them, so it holds no more than that beyond what is pending.
struct Lane<E> {
    v: Vec<(u64, E)>,
    head: usize,
}

impl<E: Copy> Lane<E> {
    const COMPACT: usize = 4096;

    #[inline]
    fn len(&self) -> usize {
        self.v.len() - self.head
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.head == self.v.len()
    }

    #[inline]
    fn push(&mut self, seq: u64, e: E) {
        self.v.push((seq, e));
    }

    #[inline]
    fn front(&self) -> Option<&(u64, E)> {
        self.v.get(self.head)
    }

    /// Take the front (there is one).
    #[inline]
    fn advance(&mut self) {
        self.head += 1;
        if self.head == self.v.len() {
            self.v.clear();
            self.head = 0;
        } else if self.head >= Self::COMPACT {
            self.v.drain(..self.head);
            self.head = 0;
        }
    }
}

/// A future-event list. `schedule` and `pop` allocate only when the queue grows beyond its
/// previous peak.
pub struct EventQueue<E> {
    heap: Heap<E>,
    now_lane: Lane<E>,
    now: u64,
    seq: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::with_capacity(1024)
    }

    /// An empty queue with room for `n` pending events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Heap::with_capacity(n),
            now_lane: Lane {
                v: Vec::with_capacity(256),
                head: 0,
            },
            now: 0,
            seq: 0,
        }
    }

    /// The time of the event being handled (the last one popped).
    #[inline]
    pub fn now(&self) -> SimTime {
        SimTime(self.now)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.now_lane.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedule `event` at `at`. Times in the past are clamped to now (an event never runs
    /// before the one that scheduled it). Events at equal times run in scheduling order.
    #[inline(always)]
    pub fn schedule<T>(&mut self, at: SimTime, event: T)
    where
        E: From<T>,
    {
        let event = E::from(event);
        let seq = self.seq;
        self.seq += 1;
        if at.0 <= self.now {
            self.now_lane.push(seq, event);
        } else {
            self.heap.push(Entry {
                time: at.0,
                seq,
                event,
            });
        }
    }

    /// Take the next sequence number now, for an event scheduled later with
    /// [`EventQueue::schedule_reserved`]: among events at the same time it keeps the place
    /// it would have had if scheduled now. A model that knows a stream of its events comes
    /// in time order (a FIFO of timers) keeps only the first in the queue, and the queue
    /// stays small — with exactly the order of scheduling them all.
    #[inline]
    pub fn reserve(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        seq
    }

    /// Schedule `event` at `at` (clamped to now) with sequence number `seq` from
    /// [`EventQueue::reserve`]. It runs in `(at, seq)` order among all events.
    #[inline(always)]
    pub fn schedule_reserved<T>(&mut self, at: SimTime, seq: u64, event: T)
    where
        E: From<T>,
    {
        let event = E::from(event);
        debug_assert!(seq < self.seq, "a sequence number from reserve");
        self.heap.push(Entry {
            time: at.0.max(self.now),
            seq,
            event,
        });
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.now_lane.is_empty() {
            return Some(SimTime(self.now));
        }
        self.heap.peek().map(|e| SimTime(e.time))
    }

    /// Move the clock forward to `t` when nothing is pending before it (after a
    /// `run_until(t)`, so that an event injected next happens at `t`).
    pub fn advance_to(&mut self, t: SimTime) {
        if self.now_lane.is_empty()
            && self.heap.peek().is_none_or(|e| e.time > t.0)
            && t.0 > self.now
        {
            self.now = t.0;
        }
    }

    /// Remove and return the next event in `(time, seq)` order, advancing the clock.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if let Some(&(lane_seq, ev)) = self.now_lane.front() {
            // A heap entry at the current time that was scheduled earlier goes first.
            let heap_first =
                matches!(self.heap.peek(), Some(top) if top.time == self.now && top.seq < lane_seq);
            if !heap_first {
                self.now_lane.advance();
                return Some((SimTime(self.now), ev));
            }
        }
        let e = self.heap.pop()?;
        debug_assert!(e.time >= self.now, "time went backwards");
        self.now = e.time;
        Some((SimTime(e.time), e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xorshift;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(30), 'c');
        q.schedule(SimTime(10), 'a');
        q.schedule(SimTime(30), 'd');
        q.schedule(SimTime(10), 'b');
        let got: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        assert_eq!(got, vec![(10, 'a'), (10, 'b'), (30, 'c'), (30, 'd')]);
    }

    #[test]
    fn now_lane_keeps_total_order() {
        // At t=10 the heap holds x (seq 1) and y (seq 2); while handling x we schedule
        // z at "now" (seq 3): order must be x, y, z — as if all were in one heap.
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), 'x');
        q.schedule(SimTime(10), 'y');
        assert_eq!(q.pop().unwrap(), (SimTime(10), 'x'));
        q.schedule(SimTime(10), 'z');
        q.schedule(SimTime(5), 'w'); // in the past: clamped to now, after z
        assert_eq!(q.pop().unwrap(), (SimTime(10), 'y'));
        assert_eq!(q.pop().unwrap(), (SimTime(10), 'z'));
        assert_eq!(q.pop().unwrap(), (SimTime(10), 'w'));
        assert!(q.pop().is_none());
        assert_eq!(q.now(), SimTime(10));
    }

    #[test]
    fn a_long_chain_at_one_instant_keeps_its_order_in_bounded_memory() {
        // Each event taken schedules the next one at the same instant (a zero-time loop),
        // so the lane is never empty until the chain ends; two links stay pending. A heap
        // event at the same instant, scheduled before the chain, goes first (the lane
        // waits); one at a later time comes after the whole chain.
        const EARLIER: u32 = u32::MAX - 1;
        const LATER: u32 = u32::MAX;
        let mut q = EventQueue::new();
        q.schedule(SimTime(7), 0u32);
        q.schedule(SimTime(7), EARLIER);
        q.schedule(SimTime(9), LATER);
        assert_eq!(q.pop().unwrap(), (SimTime(7), 0));
        q.schedule(SimTime(7), 1u32);
        q.schedule(SimTime(7), 2u32);
        let chain = 3 * Lane::<u32>::COMPACT as u32 + 5;
        let mut seen = vec![];
        while let Some((t, e)) = q.pop() {
            if e == LATER {
                assert_eq!(t, SimTime(9));
                break;
            }
            assert_eq!(t, SimTime(7));
            seen.push(e);
            if e != EARLIER && e + 2 < chain {
                q.schedule(SimTime(7), e + 2);
            }
            assert!(
                q.now_lane.v.len() <= Lane::<u32>::COMPACT + 2,
                "lane compacted"
            );
        }
        let want: Vec<u32> = std::iter::once(EARLIER).chain(1..chain).collect();
        assert_eq!(seen, want, "scheduling order");
        assert!(q.is_empty() && q.now_lane.v.is_empty() && q.now_lane.head == 0);
    }

    #[test]
    fn reserved_events_keep_the_order_of_their_reservation() {
        // Events reserved at 10 in the order a (for 20), b (for 20), c (now, at 10): a
        // reserved event scheduled later runs exactly where scheduling it at once would.
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), 'x');
        assert_eq!(q.pop().unwrap(), (SimTime(10), 'x'));
        let a = q.reserve();
        q.schedule(SimTime(20), 'b');
        let c = q.reserve();
        q.schedule(SimTime(10), 'd'); // in the lane, after c's place
        q.schedule_reserved(SimTime(10), c, 'c');
        q.schedule_reserved(SimTime(20), a, 'a');
        let got: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            got,
            vec![
                (SimTime(10), 'c'),
                (SimTime(10), 'd'),
                (SimTime(20), 'a'),
                (SimTime(20), 'b')
            ]
        );
    }

    #[test]
    fn a_deep_heap_pops_in_order() {
        // Thousands pending at once, spread times with ties, reserved events among them:
        // every path of the heap's sift-down and sift-up, against a sort by (time, seq).
        let mut q = EventQueue::new();
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let mut reference: Vec<(u64, u64)> = vec![];
        let mut popped = vec![];
        let mut seq = 0; // the queue's own sequence numbers, one per schedule or reserve
        let mut deepest = 0;
        for round in 0..40_000 {
            let now = q.now().0;
            // Grow for the first half, shrink for the second.
            let pushes = if round < 20_000 {
                1 + next() % 2
            } else {
                next() % 2
            };
            for _ in 0..pushes {
                let t = now + 1 + next() % 1000;
                if next() % 5 == 0 {
                    let r = q.reserve();
                    assert_eq!(r, seq);
                    q.schedule(SimTime(t + 7), seq + 1); // scheduled in between
                    reference.push((t + 7, seq + 1));
                    q.schedule_reserved(SimTime(t), r, r);
                    reference.push((t, r));
                    seq += 2;
                } else {
                    q.schedule(SimTime(t), seq);
                    reference.push((t, seq));
                    seq += 1;
                }
            }
            deepest = deepest.max(q.len());
            if let Some((t, e)) = q.pop() {
                popped.push((t.0, e));
            }
        }
        while let Some((t, e)) = q.pop() {
            popped.push((t.0, e));
        }
        assert!(deepest > 5_000, "the heap grew deep: {deepest}");
        reference.sort();
        assert_eq!(popped, reference);
    }

    #[test]
    fn matches_a_reference_sort_on_random_input() {
        // Random schedules, interleaved with pops, against a stable sort by (time, seq).
        let mut q = EventQueue::new();
        let mut next = xorshift(12345);
        let mut reference: Vec<(u64, u64)> = vec![];
        let mut popped = vec![];
        let mut seq = 0;
        for _ in 0..5000 {
            let now = q.now().0;
            for _ in 0..(next() % 3) {
                let t = now + next() % 4; // many equal times, many "now"
                q.schedule(SimTime(t), seq);
                reference.push((t, seq));
                seq += 1;
            }
            if let Some((t, e)) = q.pop() {
                popped.push((t.0, e));
            }
        }
        while let Some((t, e)) = q.pop() {
            popped.push((t.0, e));
        }
        reference.sort();
        assert_eq!(popped, reference);
    }
}

//! Request traces (`scalelab run --trace-out`): one in `every` requests born in the
//! measured window is followed, and each of its visits to a node becomes a span.
//!
//! - Sampling is by count (the 1st, the `every + 1`-th, ... request born after the
//!   warm-up), never by a random draw, so a traced run uses its streams exactly as an
//!   untraced one: its report is the same, byte for byte.
//! - A traced request's number lives in a map from its key, not in [`Req`], so requests
//!   and frames keep their size. A client's retry and a queue's message carry the number
//!   of the request they came from, so one trace shows them all.
//! - A span is recorded where a frame ends ([`crate::kernel::Cx::reply`]): served, failed,
//!   killed with its instance or refused on arrival. The client's span (the trace's root)
//!   ends at the final answer or when the client gives up. When tracing is off, each frame
//!   costs one predictable branch.
//! - At most [`MAX_SPANS`] spans are kept; past it no new trace starts (the traces begun
//!   are finished), and how many sampled requests were left out is counted.
//!

use crate::ids::{ClassId, InstanceId, NodeId, SourceId};
use crate::kernel::{FrameMap, Req};
use sim_core::{Key, SimTime};

/// Most spans one run keeps (13 MB of records, about 90 MB of JSON); then no new trace
/// starts.
pub const MAX_SPANS: usize = 200_000;

// A span record stays at 64 bytes.
const _: () = assert!(std::mem::size_of::<Span>() == 64);

/// How a span ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanEnd {
    /// Served, and answered with success.
    Ok,
    /// Served (or routed), and answered with a failure.
    Failed,
    /// Its instance (or server) was killed while it was there.
    Killed,
    /// Refused on arrival (queue full, nothing serving, limited).
    Rejected,
    /// The client gave up waiting (a root span only).
    TimedOut,
}

impl SpanEnd {
    /// The word for it in a trace's attributes.
    pub fn name(self) -> &'static str {
        match self {
            SpanEnd::Ok => "ok",
            SpanEnd::Failed => "failed",
            SpanEnd::Killed => "killed",
            SpanEnd::Rejected => "rejected",
            SpanEnd::TimedOut => "timed_out",
        }
    }
}

/// One span: a request's visit to a node, or (with `node: None`) the client's whole wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// The trace (1-based, in order of the sampled requests' births).
    pub trace: u32,
    /// Its id, unique in the run (never 0).
    pub id: u64,
    /// Its parent's id (0 for a root).
    pub parent: u64,
    /// The node visited, or `None` for the client's span.
    pub node: Option<NodeId>,
    /// The instance that served it, if any.
    pub inst: Option<InstanceId>,
    /// The source the request came from.
    pub source: SourceId,
    /// The request's class.
    pub class: ClassId,
    /// The zone it ran in (0: none).
    pub zone: u16,
    /// Which try of the client's request (1 for the first).
    pub attempt: u16,
    /// Start and end, simulated.
    pub start: SimTime,
    /// End, simulated.
    pub end: SimTime,
    /// How it ended.
    pub how: SpanEnd,
}

/// What a traced run recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceLog {
    /// One in how many requests was sampled.
    pub every: u64,
    /// Traces started.
    pub traces: u32,
    /// Spans, in the order they ended.
    pub spans: Vec<Span>,
    /// Sampled requests not traced because [`MAX_SPANS`] was reached.
    pub dropped: u64,
}

/// The tracer of one run (off unless [`Tracer::new`] got an `every`).
#[derive(Debug, Default)]
pub struct Tracer {
    every: u64,
    limit: usize,
    born: u64,
    log: TraceLog,
    /// Live traced requests' keys, to their trace.
    live: FrameMap<u32>,
    /// The trace of the request just answered, while its sender handles the answer (a
    /// queue re-delivering a failed message carries it on).
    answered: Option<u32>,
}

/// A span id from a frame's (or request's) key and a salt; never 0.
#[inline]
fn span_id(key: Key, salt: u64) -> u64 {
    sim_core::mix64(key.to_bits() ^ salt).max(1)
}

/// The root (client) span's id of trace `t`.
#[inline]
fn root_id(t: u32) -> u64 {
    sim_core::mix64(t as u64 ^ 0xC11E_7000_0000_0000).max(1)
}

const FRAME_SALT: u64 = 0x5CA1_E1AB_F0A4_E000;

impl Tracer {
    /// A tracer sampling one in `every` requests (0: off).
    pub fn new(every: u64) -> Self {
        Tracer {
            every,
            limit: MAX_SPANS,
            log: TraceLog {
                every,
                ..TraceLog::default()
            },
            ..Tracer::default()
        }
    }

    /// Whether it traces at all.
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.every > 0
    }

    /// Request `req` was born in the measured window: sample it or not.
    pub fn born(&mut self, req: Key) {
        self.born += 1;
        if (self.born - 1) % self.every != 0 {
            return;
        }
        if self.log.spans.len() >= self.limit {
            self.log.dropped += 1;
            return;
        }
        self.log.traces += 1;
        self.live.insert(req, self.log.traces);
    }

    /// Request `next` (a retry, a queue's message) carries on `from`'s trace, if traced.
    pub fn follow(&mut self, from: Key, next: Key) {
        if let Some(&t) = self.live.get(&from) {
            self.live.insert(next, t);
        }
    }

    /// Request `req` is answered and gone: its trace, if it had one, which is also kept
    /// for [`Tracer::carry_to`] while the answer is handled.
    pub fn answer(&mut self, req: Key) -> Option<u32> {
        self.answered = self.live.remove(&req);
        self.answered
    }

    /// Request `next` (a client's retry or a queue's re-delivery, born while the answer
    /// of the last [`Tracer::answer`] is handled) carries on that request's trace.
    pub fn carry_to(&mut self, next: Key) {
        if let Some(t) = self.answered {
            self.live.insert(next, t);
        }
    }

    /// The trace of live request `req`, if it is traced.
    #[inline]
    pub fn trace_of(&self, req: Key) -> Option<u32> {
        self.live.get(&req).copied()
    }

    /// Frame `f` of trace `trace`, called by `parent` (or by the client: [`Key::NONE`];
    /// an abandoned call's [`Key::VOID`] counts as the client too), ended.
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        trace: u32,
        f: Key,
        parent: Key,
        node: NodeId,
        inst: Option<InstanceId>,
        at: (SourceId, ClassId, u16, u16),
        span: (SimTime, SimTime),
        how: SpanEnd,
    ) {
        let parent = if parent.is_none() || parent == Key::VOID {
            root_id(trace)
        } else {
            span_id(parent, FRAME_SALT)
        };
        let (source, class, zone, attempt) = at;
        self.log.spans.push(Span {
            trace,
            id: span_id(f, FRAME_SALT),
            parent,
            node: Some(node),
            inst,
            source,
            class,
            zone,
            attempt,
            start: span.0,
            end: span.1,
            how,
        });
    }

    /// Frame `f`, whose span was recorded as served when it left its node, answered with
    /// a failure. Its span is among the last few (what its node did between the leaving
    /// and the reply, such as starting the next frame, may have ended a few more).
    pub fn failed(&mut self, f: Key) {
        let id = span_id(f, FRAME_SALT);
        if let Some(s) = self
            .log
            .spans
            .iter_mut()
            .rev()
            .take(64)
            .find(|s| s.id == id)
        {
            if s.how == SpanEnd::Ok {
                s.how = SpanEnd::Failed;
            }
        }
    }

    /// The client's wait for request `r` (of trace `trace`) ended at `end`, `how`: the
    /// trace's root span, from the first try's birth.
    pub fn client(&mut self, trace: u32, r: &Req, end: SimTime, how: SpanEnd) {
        self.log.spans.push(Span {
            trace,
            id: root_id(trace),
            parent: 0,
            node: None,
            inst: None,
            source: r.source,
            class: r.class,
            zone: 0,
            attempt: r.attempt,
            start: r.born,
            end,
            how,
        });
    }

    /// What was recorded (the tracer is left empty).
    pub fn take(&mut self) -> TraceLog {
        self.live.clear();
        std::mem::take(&mut self.log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_in_every_is_sampled_from_the_first() {
        let mut slab = sim_core::Slab::with_capacity(0);
        let keys: Vec<Key> = (0..25).map(|i| slab.insert(i)).collect();
        let mut t = Tracer::new(10);
        for &k in &keys {
            t.born(k);
        }
        let traced: Vec<usize> = (0..25).filter(|&i| t.trace_of(keys[i]).is_some()).collect();
        assert_eq!(traced, [0, 10, 20]);
        assert_eq!(t.trace_of(keys[20]), Some(3));
        t.follow(keys[10], keys[11]);
        assert_eq!(t.trace_of(keys[11]), Some(2));
        assert_eq!(t.answer(keys[10]), Some(2));
        assert_eq!(t.trace_of(keys[10]), None);
        t.carry_to(keys[12]);
        assert_eq!(t.trace_of(keys[12]), Some(2));
        assert_eq!(t.answer(keys[1]), None);
        t.carry_to(keys[13]);
        assert_eq!(t.trace_of(keys[13]), None);
        assert!(!Tracer::default().on());
    }

    #[test]
    fn past_the_span_limit_no_trace_starts_and_the_sampled_are_counted() {
        let mut slab = sim_core::Slab::with_capacity(0);
        let mut t = Tracer::new(1);
        t.limit = 2;
        let r = Req {
            born: SimTime::ZERO,
            deadline: None,
            source: SourceId::new(0),
            session: 0,
            key: 0,
            class: ClassId::new(0),
            attempt: 1,
            message: None,
            counted: true,
            timed_out: false,
            version: 0,
            missed: false,
            store: None,
        };
        for i in 0..5 {
            let k = slab.insert(i);
            t.born(k);
            if let Some(n) = t.trace_of(k) {
                t.client(n, &r, SimTime::from_secs(1), SpanEnd::Ok);
            }
        }
        let log = t.take();
        assert_eq!((log.traces, log.spans.len(), log.dropped), (2, 2, 3));
        assert_ne!(log.spans[0].id, log.spans[1].id);
    }
}

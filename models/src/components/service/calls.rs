//! A service's calls with a policy: per-call timeouts, retries (backoff, jitter, budget)
//! and circuit breakers, for the pool that makes them.
//!
//! - A try that times out is abandoned: the child frame's parent becomes `Key::VOID`, so
//!   its answer, whenever it comes, is dropped, while the callee still does the work.
//! - A failed or timed-out try is retried after the policy's backoff while tries and the
//!   retry budget last; then the calling frame fails.
//! - A breaker counts tries and failures over a sliding window of ten buckets; open, it
//!   fails tries at once without sending them; half-open, its trial calls decide.
//! - A bulkhead bounds the tries out at once per calling instance; a try beyond fails at
//!   once (and may be retried), so a slow callee holds at most that many workers.
//! - A hedge sends a second try when the first has had no answer for the hedge delay; the
//!   first success wins and the other try is abandoned (its callee still finishes the
//!   work: scalelab does not propagate cancellation). A failure waits for the other try.
//! - Each reply carries the [`Key::tag`] of the try it answers, so the reply of an
//!   abandoned try that was already on its way is recognised and dropped.

use super::Pool;
use crate::kernel::{Cx, Ev, Wake};
use crate::scenario::program::Op;
use sim_core::{Key, SimTime};

impl Pool {
    /// Open a try of frame `f`'s call (policy `p`): the breaker and the bulkhead may fail
    /// it at once (then the call's failure path runs, and `None` comes back); otherwise the
    /// child frame, counted and with its timeout (and hedge) armed, for the caller to send.
    pub(super) fn open_try(&mut self, cx: &mut Cx, f: Key, p: usize, first: bool) -> Option<Key> {
        if !self.breaker_allows(cx, p) {
            // Open: this try fails at once, never sent.
            self.count_try(cx, f, p, first);
            cx.k.calls[p].short_circuited.inc();
            self.call_failed(cx, f, p);
            return None;
        }
        let fr = *cx.k.frames.get(f).expect("calling frame is live");
        let inst = fr.inst.expect("placed").index();
        if !self.bulk_acquire(p, inst) {
            // The bulkhead is full: this try fails at once, never sent.
            self.count_try(cx, f, p, first);
            if cx.counted(f) {
                cx.k.calls[p].rejected.inc();
            }
            self.call_failed(cx, f, p);
            return None;
        }
        let Op::Call { node, link, .. } = self.ops[fr.pc as usize] else {
            unreachable!("a try is of a call");
        };
        let child = cx.child(f, &fr, node, None, link);
        self.count_try(cx, f, p, first);
        let policy = &self.policies[p];
        let (timeout, hedge) = (policy.timeout, policy.hedge);
        let state = self.calls.get_mut(&f).expect("call under way");
        state.out = [child, Key::NONE];
        state.deadline = match timeout {
            Some(t) => {
                cx.wake_at(cx.now + t, f, self.id, Wake::Timeout);
                cx.now + t
            }
            None => SimTime(u64::MAX),
        };
        state.hedge_at = match hedge {
            Some(h) => {
                cx.wake_at(cx.now + h, f, self.id, Wake::Hedge);
                cx.now + h
            }
            None => SimTime(u64::MAX),
        };
        Some(child)
    }

    /// Frame `f`'s call has had no answer for its hedge delay: send a second try (unless
    /// the breaker or the bulkhead says no). Stale if that try was answered or retried.
    pub(super) fn hedge(&mut self, cx: &mut Cx, f: Key) {
        let Some(state) = self.calls.get(&f) else {
            return;
        };
        if state.hedge_at != cx.now || state.out[0].is_none() || !state.out[1].is_none() {
            return;
        }
        let inst = state.inst as usize;
        let fr = *cx.k.frames.get(f).expect("calling frame is live");
        let Op::Call {
            node,
            link,
            policy: Some(p),
        } = self.ops[fr.pc as usize]
        else {
            unreachable!("a hedge is of a call with a policy");
        };
        let p = p as usize;
        if !self.breaker_allows(cx, p) || !self.bulk_acquire(p, inst) {
            return;
        }
        let child = cx.child(f, &fr, node, None, link);
        self.count_try(cx, f, p, false);
        if cx.counted(f) {
            cx.k.calls[p].hedged.inc();
        }
        self.calls.get_mut(&f).expect("call under way").out[1] = child;
        cx.send(link, Ev::Enter(child, node));
    }

    /// A reply from try `from` (a [`Key::tag`]) reaches frame `f`, waiting on its call
    /// with policy `p`. Returns whether the frame goes on (the call succeeded); otherwise
    /// the reply was from an abandoned try, or the failure path ran.
    pub(super) fn call_answered(
        &mut self,
        cx: &mut Cx,
        f: Key,
        p: usize,
        ok: bool,
        from: u16,
    ) -> bool {
        let Some(state) = self.calls.get_mut(&f) else {
            return false;
        };
        let Some(slot) = state
            .out
            .iter()
            .position(|k| !k.is_none() && k.tag() == from)
        else {
            return false;
        };
        state.out[slot] = Key::NONE;
        let other = state.out[1 - slot];
        let inst = state.inst as usize;
        self.bulk_release(p, inst);
        self.breaker_record(cx, p, ok);
        if !ok {
            if other.is_none() {
                self.call_failed(cx, f, p);
            }
            // Else the other try may still succeed.
            return false;
        }
        if !other.is_none() {
            // The first success wins; the other try is abandoned.
            self.abandon(cx, f, other);
            self.bulk_release(p, inst);
        }
        self.calls.remove(&f);
        true
    }

    /// Frame `f`'s call (policy `p`) timed out: every try out is abandoned.
    pub(super) fn call_timed_out(&mut self, cx: &mut Cx, f: Key, p: usize) {
        let state = self.calls.get_mut(&f).expect("call under way");
        let out = std::mem::replace(&mut state.out, [Key::NONE; 2]);
        let inst = state.inst as usize;
        for child in out.into_iter().filter(|k| !k.is_none()) {
            self.abandon(cx, f, child);
            self.bulk_release(p, inst);
        }
        if cx.counted(f) {
            cx.k.calls[p].timeouts.inc();
        }
        self.breaker_record(cx, p, false);
        self.call_failed(cx, f, p);
    }

    /// Frame `f` no longer waits for try `child`: if the try is still at work, its answer
    /// will go nowhere; if it has answered and the reply is on its way, that reply is
    /// dropped when it arrives.
    fn abandon(&mut self, cx: &mut Cx, f: Key, child: Key) {
        match cx.k.frames.get_mut(child) {
            Some(c) => c.parent = Key::VOID,
            None => self.strays.push((f, child.tag())),
        }
    }

    /// Whether a reply to `f` from `from` is one of an abandoned try (and forget it).
    #[cold]
    pub(super) fn take_stray(&mut self, f: Key, from: u16) -> bool {
        match self.strays.iter().position(|&s| s == (f, from)) {
            Some(i) => {
                self.strays.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Take a bulkhead slot of policy `p` at instance `inst`; false when it is full (always
    /// true without a bulkhead).
    fn bulk_acquire(&mut self, p: usize, inst: usize) -> bool {
        let Some(limit) = self.policies[p].bulkhead else {
            return true;
        };
        let b = &mut self.bulk[p];
        if b.len() <= inst {
            b.resize(inst + 1, 0);
        }
        if b[inst] >= limit {
            return false;
        }
        b[inst] += 1;
        true
    }

    fn bulk_release(&mut self, p: usize, inst: usize) {
        if self.policies[p].bulkhead.is_some() {
            self.bulk[p][inst] -= 1;
        }
    }

    /// Count a try of frame `f`'s call (policy `p`): for the report and the budget.
    pub(super) fn count_try(&mut self, cx: &mut Cx, f: Key, p: usize, first: bool) {
        let counted = cx.counted(f);
        if first {
            self.budget[p].0 += 1;
        } else {
            self.budget[p].1 += 1;
        }
        if counted {
            let st = &mut cx.k.calls[p];
            st.attempts.inc();
            if first {
                st.calls.inc();
            }
            let class = cx.k.frames.get(f).expect("calling frame is live").class;
            let c = &mut cx.k.classes[class.index()];
            c.call_attempts.inc();
            if first {
                c.calls.inc();
            }
        }
    }

    /// Whether policy `p`'s breaker lets a try through now (always without a breaker).
    pub(super) fn breaker_allows(&mut self, cx: &mut Cx, p: usize) -> bool {
        let (Some(b), Some(st)) = (self.policies[p].breaker, self.breakers[p].as_mut()) else {
            return true;
        };
        if let Breaking::Open { until } = st.state {
            if cx.now < until {
                return false;
            }
            st.state = Breaking::HalfOpen {
                left: b.probes,
                passed: 0,
            };
            self.breaker_note(cx, p, "half-open: trial calls");
        }
        let st = self.breakers[p].as_mut().expect("breaker");
        match &mut st.state {
            Breaking::HalfOpen { left, .. } if *left > 0 => {
                *left -= 1;
                true
            }
            Breaking::HalfOpen { .. } | Breaking::Open { .. } => false,
            Breaking::Closed => true,
        }
    }

    /// A try of policy `p`'s call ended, `ok` or not: the breaker counts it.
    pub(super) fn breaker_record(&mut self, cx: &mut Cx, p: usize, ok: bool) {
        let (Some(b), Some(st)) = (self.policies[p].breaker, self.breakers[p].as_mut()) else {
            return;
        };
        let now = cx.now;
        let change = match &mut st.state {
            Breaking::Closed => {
                st.window.record(now, b.window, ok);
                let (total, failed) = st.window.totals();
                (total >= b.min_calls as u64 && failed as f64 >= b.threshold * total as f64)
                    .then_some(true)
            }
            Breaking::HalfOpen { passed, .. } => {
                if ok {
                    *passed += 1;
                    (*passed >= b.probes).then_some(false)
                } else {
                    Some(true)
                }
            }
            Breaking::Open { .. } => None,
        };
        match change {
            Some(true) => {
                st.state = Breaking::Open {
                    until: now + b.open_for,
                };
                cx.k.calls[p].opened.inc();
                cx.k.defended = true;
                let warmup = cx.k.sc.warmup;
                cx.k.calls[p].breaker_closed(now, false, warmup);
                let text = format!("opened: calls fail at once for {}", b.open_for);
                self.breaker_note(cx, p, &text);
            }
            Some(false) => {
                st.state = Breaking::Closed;
                st.window = Window::default();
                let warmup = cx.k.sc.warmup;
                cx.k.calls[p].breaker_closed(now, true, warmup);
                self.breaker_note(cx, p, "closed");
            }
            None => {}
        }
    }

    fn breaker_note(&self, cx: &mut Cx, p: usize, what: &str) {
        let to = &cx.k.sc.nodes[self.policies[p].to.index()].name;
        let text = format!("breaker → {to} {what}");
        cx.k.notes
            .push((self.id, crate::report::TimelineKind::Breaker, text));
    }

    /// Frame `f`'s call (policy `p`) failed or timed out: try again after the backoff if
    /// tries and budget remain, else the frame fails.
    pub(super) fn call_failed(&mut self, cx: &mut Cx, f: Key, p: usize) {
        let policy = self.policies[p];
        let state = self.calls.get_mut(&f).expect("call under way");
        if policy.retry.allows(state.tries, self.budget[p]) {
            state.tries += 1;
            state.deadline = SimTime(u64::MAX);
            state.hedge_at = SimTime(u64::MAX);
            let wait = policy.retry.backoff(state.tries - 1, &mut self.rng);
            if wait == SimTime::ZERO {
                self.retry(cx, f);
            } else {
                cx.wake_at(cx.now + wait, f, self.id, Wake::Retry);
            }
        } else {
            self.calls.remove(&f);
            let counted = cx.counted(f);
            if counted {
                cx.k.calls[p].failed.inc();
            }
            self.depart(cx, f, false);
        }
    }

    /// Send frame `f`'s call again (its op is at its pc).
    pub(super) fn retry(&mut self, cx: &mut Cx, f: Key) {
        let pc = cx.k.frames.get(f).expect("retrying frame is live").pc;
        let Op::Call {
            node,
            link,
            policy: Some(p),
        } = self.ops[pc as usize]
        else {
            unreachable!("a retry is of a call with a policy");
        };
        if let Some(child) = self.open_try(cx, f, p as usize, false) {
            cx.send(link, Ev::Enter(child, node));
        }
    }
}

/// A call with a policy under way.
#[derive(Debug, Clone, Copy)]
pub(super) struct CallState {
    /// The tries out now (`Key::NONE`: none): the try, and its hedge.
    pub(super) out: [Key; 2],
    /// Tries so far (hedges not included).
    pub(super) tries: u32,
    /// When the current try times out (`u64::MAX`: not armed).
    pub(super) deadline: SimTime,
    /// When the current try's hedge is due (`u64::MAX`: none).
    pub(super) hedge_at: SimTime,
    /// The calling instance (for the bulkhead).
    pub(super) inst: u32,
}

impl CallState {
    /// A call about to make its first try, from instance `inst`.
    pub(super) fn new(inst: u32) -> Self {
        CallState {
            out: [Key::NONE; 2],
            tries: 1,
            deadline: SimTime(u64::MAX),
            hedge_at: SimTime(u64::MAX),
            inst,
        }
    }
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Breaking {
    /// Calls go through; failures are counted.
    #[default]
    Closed,
    /// Calls fail at once until `until`.
    Open { until: SimTime },
    /// `left` trial calls may go; `passed` have succeeded.
    HalfOpen { left: u32, passed: u32 },
}

/// Tries and failures over a sliding window, in ten buckets.
#[derive(Debug, Clone, Default)]
struct Window {
    buckets: [(u64, u64); 10],
    /// Start of the current bucket.
    start: SimTime,
    current: usize,
}

impl Window {
    /// Count a try at `now` (`window` long in all).
    fn record(&mut self, now: SimTime, window: SimTime, ok: bool) {
        let width = (window.0 / 10).max(1);
        if now.0 >= self.start.0 + window.0 + width {
            // Everything in the window is older than it: start afresh.
            self.buckets = Default::default();
            self.start = SimTime(now.0 - now.0 % width);
        }
        while now.0 >= self.start.0 + width {
            self.current = (self.current + 1) % 10;
            self.buckets[self.current] = (0, 0);
            self.start = SimTime(self.start.0 + width);
        }
        let b = &mut self.buckets[self.current];
        b.0 += 1;
        b.1 += u64::from(!ok);
    }

    /// (tries, failures) in the window.
    fn totals(&self) -> (u64, u64) {
        self.buckets
            .iter()
            .fold((0, 0), |(t, f), b| (t + b.0, f + b.1))
    }
}

/// A breaker of one call site.
#[derive(Debug, Clone, Default)]
pub(super) struct BreakerState {
    state: Breaking,
    window: Window,
}

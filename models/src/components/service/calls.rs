//! A service's calls with a policy: per-call timeouts, retries (backoff, jitter, budget)
//! and circuit breakers, for the pool that makes them.
//!
//! - A try that times out is abandoned: the child frame's parent becomes `Key::VOID`, so
//!   its answer, whenever it comes, is dropped, while the callee still does the work.
//! - A failed or timed-out try is retried after the policy's backoff while tries and the
//!   retry budget last; then the calling frame fails.
//! - A breaker counts tries and failures over a sliding window of ten buckets; open, it
//!   fails tries at once without sending them; half-open, its trial calls decide.

use super::Pool;
use crate::kernel::{Cx, Ev, Wake};
use crate::scenario::program::Op;
use sim_core::{Key, SimTime};

impl Pool {
    /// A try of frame `f`'s call (child `child`, policy `p`) leaves: count it, arm its
    /// timeout.
    pub(super) fn start_try(&mut self, cx: &mut Cx, f: Key, child: Key, p: usize, first: bool) {
        self.count_try(cx, f, p, first);
        let state = self.calls.get_mut(&f).expect("call under way");
        state.child = child;
        if let Some(t) = self.policies[p].timeout {
            state.deadline = cx.now + t;
            cx.wake_at(cx.now + t, f, self.id, Wake::Timeout);
        } else {
            state.deadline = SimTime(u64::MAX);
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
                let text = format!("opened: calls fail at once for {}", b.open_for);
                self.breaker_note(cx, p, &text);
            }
            Some(false) => {
                st.state = Breaking::Closed;
                st.window = Window::default();
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
        let (calls, retries) = self.budget[p];
        let budget_ok = policy
            .budget
            .is_none_or(|b| (retries + 1) as f64 <= b * calls as f64);
        if state.tries < policy.attempts && budget_ok {
            state.tries += 1;
            state.deadline = SimTime(u64::MAX);
            let wait = policy.backoff(state.tries - 1, &mut self.rng);
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
        let fr = *cx.k.frames.get(f).expect("retrying frame is live");
        let Op::Call {
            node,
            link,
            policy: Some(p),
        } = self.ops[fr.pc as usize]
        else {
            unreachable!("a retry is of a call with a policy");
        };
        if !self.breaker_allows(cx, p as usize) {
            self.count_try(cx, f, p as usize, false);
            cx.k.calls[p as usize].short_circuited.inc();
            return self.call_failed(cx, f, p as usize);
        }
        let child = cx.child(f, &fr, node, None, link);
        self.start_try(cx, f, child, p as usize, false);
        cx.send(link, Ev::Enter(child, node));
    }
}

/// A call with a timeout or retries under way.
#[derive(Debug, Clone, Copy)]
pub(super) struct CallState {
    /// The current try's frame.
    pub(super) child: Key,
    /// Tries so far.
    pub(super) tries: u32,
    /// When the current try times out (`u64::MAX`: not armed).
    pub(super) deadline: SimTime,
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

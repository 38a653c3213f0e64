//! Sources at run time: each draws its arrival times from its rate profile and, per
//! arrival, the request's class, key and session, then sends it to its target.
//!
//! Streams: `source/<name>/arrivals` (inter-arrival masses) and `source/<name>/mix`
//! (class, key, session, in that order), so adding a node changes no source's numbers.
//! A source with one class in a scenario where no node reads keys or sessions
//! ([`crate::components::Config::reads_key_or_session`]) draws none of the three: its
//! requests get its one class, key 0 and session 0, and its `mix` stream, which serves
//! nothing else, is left alone. Every figure of the run is the same either way; an M/M/1 runs
//! ~5% fewer instructions a request.
//!
//! Client retries (`retry`): a try that fails, or times out at the client, is followed
//! (while the policy's tries and budget last, after its backoff from the stream
//! `source/<name>/retry`) by a new request with the first one's birth, class, key and
//! session: latency counts from the first try, and only the last try's outcome counts.
//! A timed-out try is abandoned: its answer, whenever it comes, is ignored.
//!
//! Client timeouts: a source's requests all wait the same `timeout`, so their deadlines come
//! in birth order. Each source keeps them in a FIFO with one timer for the front, instead of
//! one event per request; answered requests leave stale entries that the timer skips, and
//! the FIFO is compacted when stale entries outnumber live ones. So what a run holds for
//! timeouts is bounded by the requests in flight (`limits.max_in_flight`), whatever the
//! timeout: a 1 h timeout at 200 000 req/s no longer keeps 720 M pending events.

use crate::ids::{ClassId, SourceId};
use crate::kernel::{Cx, Ev, Queue, Req};
use crate::scenario::raw::Arrivals;
use crate::scenario::{Scenario, Source};
use crate::world::stats::ClassStats;
use crate::world::trace::{SpanEnd, Tracer};
use sim_core::{Key, RngStreams, SimTime, Slab, Stream};
use std::collections::VecDeque;

/// A source's run-time state.
#[derive(Debug, Clone)]
pub struct SourceState {
    id: SourceId,
    /// A copy of the source's config (one indirection less per arrival).
    src: Source,
    /// End of the run: no arrival is scheduled after it.
    end: SimTime,
    arrival_rng: Stream,
    mix_rng: Stream,
    /// Something reads what `mix_rng` draws (see the module docs).
    draws_mix: bool,
    next_arrival_s: f64,
    /// Requests waiting on a client timeout, in deadline order; some are stale (answered).
    deadlines: VecDeque<(SimTime, Key)>,
    /// Entries of `deadlines` still waiting (alive and not timed out).
    waiting: usize,
    /// A `SourceTimer` event is scheduled.
    timer_set: bool,
    /// Backoff jitter of the clients' retries.
    retry_rng: Stream,
    /// (requests born, retries sent), for the retry budget.
    budget: (u64, u64),
    /// A request trace being replayed, and its row for the next arrival.
    trace: Option<crate::scenario::trace::TraceReader>,
    row: Option<crate::scenario::trace::Row>,
}

impl SourceState {
    /// The state of source `id` of scenario `sc` for a run whose streams are `streams`.
    pub fn new(id: SourceId, src: &Source, sc: &Scenario, streams: &RngStreams) -> Self {
        SourceState {
            id,
            src: src.clone(),
            end: sc.duration,
            arrival_rng: streams.get(&format!("source/{}/arrivals", src.name)),
            mix_rng: streams.get(&format!("source/{}/mix", src.name)),
            draws_mix: src.mix.len() > 1
                || src.trace.is_some()
                || sc.nodes.iter().any(|n| n.kind.reads_key_or_session()),
            next_arrival_s: 0.0,
            deadlines: VecDeque::new(),
            waiting: 0,
            timer_set: false,
            retry_rng: streams.get(&format!("source/{}/retry", src.name)),
            budget: (0, 0),
            trace: src
                .trace
                .as_ref()
                .map(crate::scenario::trace::TraceReader::open),
            row: None,
        }
    }

    /// Schedule the next arrival, if it falls within the run.
    pub fn schedule_next(&mut self, q: &mut Queue) {
        if let Some(trace) = self.trace.as_mut() {
            // A request trace: the next row's time.
            self.row = trace.next_row();
            if let Some(row) = self.row {
                let at = SimTime::from_secs_f64(row.t);
                if at <= self.end {
                    q.schedule(at, Ev::Arrival(self.id));
                }
            }
            return;
        }
        let src = &self.src;
        let mass = match src.arrivals {
            Arrivals::Poisson => self.arrival_rng.exp1(),
            Arrivals::Deterministic => 1.0,
        };
        if let Some(t) = src.profile.next_after(self.next_arrival_s, mass) {
            self.next_arrival_s = t;
            let at = SimTime::from_secs_f64(t);
            if at <= self.end {
                q.schedule(at, Ev::Arrival(self.id));
            }
        }
    }

    /// A request is born: draw it, count it, send it to the target and schedule the next
    /// arrival. Returns `false` (and sends nothing) when this request is one more than
    /// `limits.max_in_flight`: the run must be cut.
    pub fn arrive(&mut self, cx: &mut Cx) -> bool {
        let src = &self.src;
        if !self.draws_mix {
            return self.born(cx, src.mix[0].class, 0, 0);
        }
        let rng = &mut self.mix_rng;
        // What a trace row says is taken; the rest is drawn (in the same order).
        let row = self.row.take();
        let m = match row.and_then(|r| r.class) {
            Some(c) => src.mix.iter().find(|m| m.class == c).unwrap_or(&src.mix[0]),
            None => {
                let u = rng.unit();
                src.mix
                    .iter()
                    .find(|m| u < m.cum)
                    .unwrap_or(&src.mix[src.mix.len() - 1])
            }
        };
        let key = match row.and_then(|r| r.key) {
            Some(k) => k,
            None => m.keys.sample(rng),
        };
        let session = match row.and_then(|r| r.session) {
            Some(s) => s,
            None => rng.below(src.sessions),
        };
        self.born(cx, m.class, key, session)
    }

    /// The rest of [`SourceState::arrive`], once the request's class, key and session are
    /// known.
    #[inline(always)]
    fn born(&mut self, cx: &mut Cx, class: ClassId, key: u64, session: u64) -> bool {
        let src = &self.src;
        let now = cx.now;
        let counted = now >= cx.k.sc.warmup;
        let timeout = src.timeout;
        let max_in_flight = cx.k.sc.max_in_flight;
        let req = cx.k.reqs.insert(Req {
            born: now,
            deadline: timeout.map(|t| now + t),
            source: self.id,
            session,
            key,
            class,
            attempt: 1,
            message: None,
            counted,
            timed_out: false,
            version: 0,
            missed: false,
            store: None,
        });
        if counted {
            cx.k.classes[class.index()].requests.inc();
            if let Some(t) = cx.k.tracer.as_deref_mut() {
                t.born(req);
            }
        }
        self.budget.0 += 1;
        if cx.k.reqs.len() as u64 > max_in_flight {
            return false;
        }
        self.send(cx, req, class);
        self.schedule_next(cx.q);
        true
    }

    /// Send request `req` of `class` (new, or a retry; its deadline set): arm its client
    /// timeout, then off to the target.
    #[inline]
    fn send(&mut self, cx: &mut Cx, req: Key, class: ClassId) {
        let src = &self.src;
        let (timeout, target, link, zone) = (src.timeout, src.target, src.link, src.zone);
        let now = cx.now;
        if let Some(t) = timeout {
            if self.deadlines.len() >= 2 * self.waiting + 1024 {
                // Mostly answered requests: keep only those still waiting.
                let reqs = &cx.k.reqs;
                self.deadlines
                    .retain(|&(_, k)| reqs.get(k).is_some_and(|r| !r.timed_out));
            }
            self.deadlines.push_back((now + t, req));
            self.waiting += 1;
            if !self.timer_set {
                self.timer_set = true;
                cx.q.schedule(now + t, Ev::SourceTimer(self.id));
            }
        }
        cx.send_root(req, target, link, class, zone);
    }

    /// Try `failed` (failed, or timed out at the client) may be retried: if the policy
    /// allows, a new request follows after the backoff (`Ev::Resend`). Returns its key.
    pub fn retry(
        &mut self,
        now: SimTime,
        failed: &Req,
        reqs: &mut Slab<Req>,
        q: &mut Queue,
    ) -> Option<Key> {
        let policy = self.src.retry;
        if !policy.allows(failed.attempt as u32, self.budget) {
            return None;
        }
        self.budget.1 += 1;
        let wait = policy.backoff(failed.attempt as u32, &mut self.retry_rng);
        let next = reqs.insert(Req {
            attempt: failed.attempt + 1,
            deadline: None,
            timed_out: false,
            version: 0,
            missed: false,
            store: None,
            ..*failed
        });
        q.schedule(now + wait, Ev::Resend(next));
        Some(next)
    }

    /// A retry's backoff is over: send it.
    pub fn resend(&mut self, cx: &mut Cx, req: Key) {
        let timeout = self.src.timeout;
        let r = cx.k.reqs.get_mut(req).expect("a retry is live until sent");
        r.deadline = timeout.map(|t| cx.now + t);
        let class = r.class;
        self.send(cx, req, class);
    }

    /// One of this source's requests with a deadline was answered before it.
    #[inline]
    pub fn answered(&mut self) {
        self.waiting -= 1;
    }

    /// The timer fired at `now`: every waiting request whose deadline has come times out
    /// (counted as an error and a timeout at the client; the servers still finish it).
    /// Then the timer is set for the next waiting request's deadline.
    pub fn on_timer(
        &mut self,
        now: SimTime,
        reqs: &mut Slab<Req>,
        classes: &mut [ClassStats],
        mut tracer: Option<&mut Tracer>,
        q: &mut Queue,
    ) {
        self.timer_set = false;
        while let Some(&(deadline, k)) = self.deadlines.front() {
            match reqs.get_mut(k) {
                Some(r) if !r.timed_out => {
                    if deadline > now {
                        self.timer_set = true;
                        q.schedule(deadline, Ev::SourceTimer(self.id));
                        return;
                    }
                    r.timed_out = true;
                    self.waiting -= 1;
                    let r = *r;
                    let c = &mut classes[r.class.index()];
                    if let Some(next) = self.retry(now, &r, reqs, q) {
                        if r.counted {
                            c.client_retries.inc();
                        }
                        if let Some(t) = tracer.as_deref_mut() {
                            t.follow(k, next);
                        }
                    } else {
                        if r.counted {
                            c.errors.inc();
                            c.timeouts.inc();
                        }
                        if let Some(tr) = tracer.as_deref_mut() {
                            if let Some(t) = tr.trace_of(k) {
                                tr.client(t, &r, now, SpanEnd::TimedOut);
                            }
                        }
                    }
                }
                // Answered (or timed out) already: a stale entry.
                _ => {}
            }
            self.deadlines.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the first source of a scenario with `nodes` and `mix` draws its mix.
    fn draws(mix: &str, nodes: &str) -> bool {
        let text = format!(
            r#"Scenario(name: "t", duration: "1s",
                sources: [Source(name: "in", target: "front", rate: Constant(10), mix: [{mix}])],
                nodes: [{nodes}])"#
        );
        let sc = crate::load_str("t.ron", &text).unwrap();
        let streams = RngStreams::new(sc.seed);
        SourceState::new(SourceId::new(0), &sc.sources[0], &sc, &streams).draws_mix
    }

    const SERVICE: &str = r#"Service(name: "front", handlers: {"*": [Cpu(Exp("1ms"))]})"#;

    #[test]
    fn a_source_draws_its_mix_only_when_something_reads_it() {
        // Nothing reads a key or a session, one class: nothing to draw.
        assert!(!draws("", SERVICE));
        assert!(!draws(r#"Class(name: "a", weight: 1)"#, SERVICE));
        // Two classes: the class is drawn (and so the key and the session after it).
        assert!(draws(
            r#"Class(name: "a", weight: 1), Class(name: "b", weight: 1)"#,
            SERVICE
        ));
        // A node that reads sessions.
        let hash = r#"LoadBalancer(name: "front", algorithm: ConsistentHash, backends: ["s"]),
                      Service(name: "s", handlers: {"*": [Cpu(Exp("1ms"))]})"#;
        assert!(draws("", hash));
        let rr = hash.replace("ConsistentHash", "RoundRobin");
        assert!(!draws("", &rr));
        let sticky =
            r#"Service(name: "front", sessions: InMemory, handlers: {"*": [Cpu(Exp("1ms"))]})"#;
        assert!(draws("", sticky));
    }
}

//! Message queues (asynchronous processing): the producer's call returns as soon as the
//! message is enqueued, so the user-facing latency excludes the work; a consumer node (a
//! service pool) takes messages while it has free workers.
//!
//! - A message is a request of its own (same class and key as the one that sent it), so
//!   the consumer runs its usual handler for that class. It counts toward
//!   `limits.max_in_flight`, which bounds an unbounded queue.
//! - The queue hands a message over when the consumer has a worker free (its serving and
//!   draining instances' cores, read at every hand-over and completion), in FIFO order: a
//!   consumer of one instance with `c` cores behind a queue is an M/M/c system.
//! - `capacity` bounds the backlog: an enqueue finding it full fails (the producer's call
//!   gets an error).
//! - A message whose processing fails is enqueued again (at the back) until it has been
//!   tried `max_attempts` times; then it is dead-lettered. Its processing latency counts
//!   from the first enqueue.
//!
//! Metrics: the node's queue figures are the backlog (`mean_queue`, `max_queue`,
//! `queue_end`, and the `queue` time series); `nodes[].messages` has enqueued, processed,
//! failed and the processing latency (enqueue to done).

use super::{Component, Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, LinkId, NodeId};
use crate::kernel::{Cx, Req};
use crate::scenario::raw::Count;
use crate::scenario::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::{Counter, Histogram, Key, Stream};
use std::collections::VecDeque;

/// A queue as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Queue")]
pub struct RawQueue {
    /// Unique name.
    pub name: String,
    /// The node that processes the messages (a service pool).
    pub consumer: String,
    /// Most messages waiting; full ⇒ the enqueue fails. Default: unbounded (then bounded
    /// by `limits.max_in_flight`).
    #[serde(default)]
    pub capacity: Option<Count>,
    /// Tries per message before it is dead-lettered (1 to 100). Default: 1 (no retry).
    #[serde(default = "one")]
    pub max_attempts: Count,
}

fn one() -> Count {
    Count(1)
}

/// A validated queue.
#[derive(Debug, Clone)]
pub struct Queue {
    /// The consumer and the link to it.
    pub consumer: (NodeId, Option<LinkId>),
    /// Backlog bound.
    pub capacity: Option<u32>,
    /// Tries per message.
    pub max_attempts: u16,
}

impl RawConfig for RawQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let decl = r.decl(name);
        let node = r.node(&self.consumer, decl)?;
        if !r.is_service(node) {
            return Err(r
                .err(
                    r.loc().quoted(&self.consumer, decl),
                    format!(
                        "queue `{name}`: consumer `{}` is not a service",
                        self.consumer
                    ),
                )
                .with_hint("a queue's messages are processed by the workers of a service pool"));
        }
        if self.capacity.is_some_and(|c| c.0 == 0) {
            return Err(r
                .err(
                    r.loc().field_in(name, "capacity"),
                    format!("queue `{name}`: a capacity of 0 takes no message"),
                )
                .with_hint("leave capacity out for an unbounded queue"));
        }
        if !(1..=100).contains(&self.max_attempts.0) {
            return Err(r
                .err(
                    r.loc().field_in(name, "max_attempts"),
                    format!(
                        "queue `{name}`: max_attempts {} is outside 1..=100",
                        self.max_attempts.0
                    ),
                )
                .with_hint("tries per message, the first included: 3 retries twice"));
        }
        Ok(NodeKind::Queue(Queue {
            consumer: (node, r.link_of(name, &self.consumer)),
            capacity: self.capacity.map(|c| c.0),
            max_attempts: self.max_attempts.0 as u16,
        }))
    }
}

impl Config for Queue {
    fn build(&self, id: NodeId, _sc: &Scenario, _rng: Stream) -> NodeState {
        NodeState::Queue(QueueState {
            id,
            consumer: self.consumer,
            capacity: self.capacity,
            max_attempts: self.max_attempts,
            backlog: VecDeque::new(),
            outstanding: 0,
        })
    }

    fn callees(&self, _class: ClassId, out: &mut Vec<NodeId>) {
        out.push(self.consumer.0);
    }

    fn visit(&self, _id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        // Decoupled, but every message is processed: the consumer sees the same rate.
        flow.visit(self.consumer.0, class, rate);
    }

    fn response_time(&self, _class: ClassId, _sc: &Scenario) -> f64 {
        0.0 // the producer waits for the enqueue only
    }

    fn reads_key_or_session(&self) -> bool {
        false // a message carries its request's key on to the consumer, unread
    }
}

/// A queue's message figures over the measured window.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Messages accepted.
    pub enqueued: Counter,
    /// Messages processed successfully.
    pub processed: Counter,
    /// Messages whose processing failed.
    pub failed: Counter,
    /// Failed tries sent back to the queue.
    pub retries: Counter,
    /// Messages given up after `max_attempts` failed tries.
    pub dead_letters: Counter,
    /// Enqueue to done, for processed messages.
    pub latency: Histogram,
    /// Longest any message waited in the backlog (first enqueue to hand-over), seconds.
    pub oldest_age: f64,
}

/// A queue at run time.
#[derive(Debug, Clone)]
pub struct QueueState {
    id: NodeId,
    consumer: (NodeId, Option<LinkId>),
    capacity: Option<u32>,
    max_attempts: u16,
    /// Messages waiting, oldest first.
    backlog: VecDeque<Key>,
    /// Messages handed to the consumer and not done.
    outstanding: u64,
}

impl QueueState {
    fn stats<'a>(&self, cx: &'a mut Cx) -> &'a mut QueueStats {
        cx.k.nodes[self.id.index()]
            .messages
            .get_or_insert_with(QueueStats::default)
    }

    /// Messages waiting now (not yet handed to the consumer).
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// The consuming pool (its id).
    pub fn consumer(&self) -> NodeId {
        self.consumer.0
    }

    /// Age of the oldest message waiting now (zero when none waits).
    pub fn oldest_age(&self, reqs: &sim_core::Slab<Req>, now: sim_core::SimTime) -> f64 {
        self.backlog
            .front()
            .and_then(|&m| reqs.get(m))
            .map_or(0.0, |r| (now - r.born).as_secs_f64())
    }

    /// Hand messages to the consumer while it has workers free (also called when the
    /// consumer grows).
    pub fn dispatch(&mut self, cx: &mut Cx) {
        let (node, link) = self.consumer;
        while self.outstanding < cx.k.nodes[node.index()].workers.value() {
            let Some(msg) = self.backlog.pop_front() else {
                return;
            };
            cx.k.nodes[self.id.index()].queued.add(cx.now, -1);
            self.outstanding += 1;
            let r = *cx.k.reqs.get(msg).expect("message is live");
            if r.counted {
                let age = (cx.now - r.born).as_secs_f64();
                let st = self.stats(cx);
                st.oldest_age = st.oldest_age.max(age);
            }
            cx.send_root(msg, node, link, r.class, 0);
        }
    }

    /// A message's processing ended (`ok` or failed) and its request is gone: count it,
    /// or try it again, or dead-letter it.
    fn done(&mut self, cx: &mut Cx, msg: &Req, ok: bool) {
        self.outstanding -= 1;
        let now = cx.now;
        if !ok && msg.attempt < self.max_attempts {
            let again = cx.k.reqs.insert(Req {
                attempt: msg.attempt + 1,
                ..*msg
            });
            if let Some(t) = cx.k.tracer.as_deref_mut() {
                t.carry_to(again);
            }
            self.backlog.push_back(again);
            cx.k.nodes[self.id.index()].queued.add(now, 1);
            if msg.counted {
                self.stats(cx).retries.inc();
            }
        } else if msg.counted {
            let st = self.stats(cx);
            if ok {
                st.processed.inc();
                st.latency.record(now - msg.born);
            } else {
                st.failed.inc();
                if self.max_attempts > 1 {
                    st.dead_letters.inc();
                }
            }
        }
        self.dispatch(cx);
    }
}

impl Component for QueueState {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        if self
            .capacity
            .is_some_and(|cap| self.backlog.len() >= cap as usize)
        {
            return cx.reject(f);
        }
        let now = cx.now;
        let fr = *cx.k.frames.get(f).expect("entering frame is live");
        let Some(&from) = cx.k.reqs.get(fr.req) else {
            return cx.reject(f);
        };
        let msg = cx.k.reqs.insert(Req {
            born: now,
            deadline: None,
            timed_out: false,
            version: 0,
            missed: false,
            store: None,
            counted: now >= cx.k.sc.warmup,
            attempt: 1,
            message: Some(self.id),
            ..from
        });
        if now >= cx.k.sc.warmup {
            self.stats(cx).enqueued.inc();
        }
        if let Some(t) = cx.k.tracer.as_deref_mut() {
            t.follow(fr.req, msg);
        }
        self.backlog.push_back(msg);
        cx.k.nodes[self.id.index()].queued.add(now, 1);
        // The producer's call is done: acknowledged at enqueue.
        cx.accept(f);
        let fr = cx.leave(f);
        cx.reply(f, fr, true);
        self.dispatch(cx);
    }

    fn on_reply(&mut self, _cx: &mut Cx, _f: Key, _ok: bool, _from: u16) {}

    fn on_message_done(&mut self, cx: &mut Cx, msg: &Req, ok: bool) {
        self.done(cx, msg, ok);
    }
}

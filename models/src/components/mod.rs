//! Components: one file per kind of node, each the whole story of that kind.
//!
//! A component file holds, for its kind:
//! - the raw config as written in RON (`RawX`, serde) and `validate` into the checked
//!   config (`X`), with located errors ([`crate::scenario::Resolver`] helps);
//! - the runtime state (one per node of that kind, built from the config);
//! - the event handlers: [`Component::on_enter`] (a request frame arrives),
//!   [`Component::on_reply`] (a call it made came back), [`Component::on_wake`] (its own
//!   timer: CPU done, a worker handed over);
//! - the verbs faults, autoscalers and the terminal UI call (service pools: `start`,
//!   `stop`, `kill`, `degrade`);
//! - its metrics (it updates its `NodeStats` in place) and its capacity contribution
//!   ([`Config::visit`], [`Config::response_time`]).
//!
//! # Adding a component kind
//!
//! **A new component kind is one new file in `components/` plus one line in the
//! [`components!`] list below.** That line generates an arm in each of the three enums —
//! [`RawNode`] (the file format), [`NodeKind`] (the validated config) and [`NodeState`]
//! (the runtime state) — plus the report's [`Kind`] label and the one dispatch `match`
//! ([`dispatch!`]). The rest of the crate reaches a component only through that match, so
//! nothing else changes, and the hot loop stays a static `match` on an enum.
//!
//! A worked example: a `Delay` node that holds each request for a fixed time and replies.
//!
//! ```text
//! // components/delay.rs
//! #[derive(Debug, Clone, Deserialize)]
//! #[serde(deny_unknown_fields, rename = "Delay")]
//! pub struct RawDelay { pub name: String, pub delay: Dur }          // the RON fields
//! pub struct Delay { pub delay: SimTime }                           // validated config
//! impl RawConfig for RawDelay {
//!     fn name(&self) -> &str { &self.name }
//!     fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
//!         Ok(NodeKind::Delay(Delay { delay: self.delay.0 }))
//!     }
//! }
//! impl Config for Delay {
//!     fn build(&self, id: NodeId, _: &Scenario, _: Stream) -> NodeState {
//!         NodeState::Delay(DelayState { id, delay: self.delay })
//!     }
//!     fn callees(&self, _: ClassId, _: &mut Vec<NodeId>) {}
//!     fn visit(&self, ..) {}  fn response_time(&self, ..) -> f64 { self.delay.as_secs_f64() }
//! }
//! pub struct DelayState { id: NodeId, delay: SimTime }
//! impl Component for DelayState {
//!     fn on_enter(&mut self, cx: &mut Cx, f: Key) {
//!         cx.accept(f);                                      // counts it present
//!         cx.wake_at(cx.now + self.delay, f, self.id, Wake::CpuDone);
//!     }
//!     fn on_wake(&mut self, cx: &mut Cx, f: Key, _: Wake) { let fr = cx.leave(f); cx.reply(f, fr, true); }
//!     fn on_reply(&mut self, _: &mut Cx, _: Key, _: bool, _: u16) {}
//! }
//!
//! // components/mod.rs, in the list:
//!     Delay(delay::RawDelay, delay::Delay, delay::DelayState) = "delay",
//! ```
//!
//! (`visit` and `response_time` are written short here; the full signatures are in
//! [`Config`].) With that, `Delay(name: "d", delay: "5ms")` parses, validates, runs, reports
//! (as kind `"delay"`) and shows in `scalelab validate` — this example was built exactly so,
//! run, and removed again. Then add its bad-input cases to `tests/bad/`, a behaviour test
//! that could fail, and its own `//!` docs.

pub mod balancer;
pub mod cache;
pub mod database;
pub mod limiter;
pub mod queue;
pub mod service;
pub mod source;
pub mod station;

use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, NodeId};
use crate::kernel::{Cx, Wake};
use crate::scenario::{Resolver, Scenario, ScenarioError};
use sim_core::{Key, Stream};

/// What every raw node config does: name itself and validate into a [`NodeKind`].
pub trait RawConfig {
    /// The node's unique name.
    fn name(&self) -> &str;
    /// Check the config and resolve names; errors are located in the file.
    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError>;
}

/// What every validated node config does.
pub trait Config {
    /// The runtime state of node `id` at the start of a run; `rng` is the node's own
    /// random stream (`node/<name>`).
    fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState;
    /// The nodes a request of `class` can go to next from here.
    fn callees(&self, class: ClassId, out: &mut Vec<NodeId>);
    /// Workers (instances × cores) at the start; 0 for nodes that do no work themselves.
    fn workers(&self) -> u64 {
        0
    }
    /// Price of the node per hour at the start (instances × price).
    fn cost_per_hour(&self) -> f64 {
        0.0
    }
    /// Whether a request of `class` reaching this node has somewhere to go.
    fn handles(&self, _class: ClassId) -> bool {
        true
    }
    /// Capacity estimate: `rate` visits of `class` arrive here; add the work they cause
    /// here (`flow.demand`) and pass the visits on (`flow.visit`).
    fn visit(&self, id: NodeId, class: ClassId, rate: f64, flow: &mut Flow);
    /// Mean response time of one visit with no queueing anywhere (capacity estimate).
    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64;
    /// Whether this node reads a request's key or its session (user). When no node does,
    /// and a source has one class, the source draws none of the three (they would not be
    /// read, and its `mix` stream serves nothing else). Default: `true`, so that a new
    /// kind that forgets to say keeps its requests' keys and sessions drawn.
    fn reads_key_or_session(&self) -> bool {
        true
    }
}

/// What every component's runtime state does. Handlers are handed a [`Cx`]: the shared
/// kernel (frames, requests, random streams, statistics) and the event queue.
pub trait Component {
    /// A request frame arrives at this node.
    fn on_enter(&mut self, cx: &mut Cx, f: Key);
    /// A call this node made for frame `f` came back.
    fn on_reply(&mut self, cx: &mut Cx, f: Key, ok: bool, from: u16);
    /// One of this node's own timers for frame `f` fired.
    fn on_wake(&mut self, _cx: &mut Cx, _f: Key, _why: Wake) {}
    /// The run begins: schedule the node's own periodic work, if any (`Ev::Tick`).
    fn begin(&mut self, _q: &mut crate::kernel::Queue) {}
    /// The node's periodic timer fired (`Ev::Tick`).
    fn on_tick(&mut self, _cx: &mut Cx) {}
    /// A background request this node sent (a queue's message, a write-behind flush) is
    /// done; it has already left the request slab.
    fn on_message_done(&mut self, _cx: &mut Cx, _msg: &crate::kernel::Req, _ok: bool) {}
}

/// The list of component kinds. One line per kind:
/// `Variant(raw config, validated config, runtime state) = "report label",`.
macro_rules! components {
    ($d:tt $( $(#[$doc:meta])* $variant:ident($raw:ty, $cfg:ty, $state:ty) = $label:literal, )*) => {
        /// A node as written in the scenario file.
        #[derive(Debug, Clone, serde::Deserialize)]
        pub enum RawNode { $( $(#[$doc])* $variant($raw), )* }

        /// A validated node config.
        #[derive(Debug, Clone)]
        pub enum NodeKind { $( $(#[$doc])* $variant($cfg), )* }

        /// A node's runtime state.
        // One per node (at most 1 000): the padding of small variants costs little, and a
        // box would add an indirection to every event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum NodeState { $( $(#[$doc])* $variant($state), )* }

        /// A node's kind as the report names it (snake_case in JSON).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
        pub enum Kind {
            /// No node (a default).
            #[default]
            #[serde(rename = "none")]
            None,
            $( $(#[$doc])* #[serde(rename = $label)] $variant, )*
        }

        impl Kind {
            /// The label in reports.
            pub fn label(self) -> &'static str {
                match self { Kind::None => "none", $( Kind::$variant => $label, )* }
            }
        }

        impl NodeKind {
            /// This config's kind.
            pub fn kind(&self) -> Kind {
                match self { $( NodeKind::$variant(_) => Kind::$variant, )* }
            }
        }

        /// The one dispatch `match`: run `$body` with `$c` bound to the component inside
        /// `$value`, a [`RawNode`], [`NodeKind`] or [`NodeState`] (by value or reference).
        macro_rules! dispatch {
            ($d value:expr, $d enum_:ident, $d c:ident => $d body:expr) => {
                match $d value { $( $d enum_::$variant($d c) => $d body, )* }
            };
        }
    };
}

components! {$
    /// Spreads requests over the instances of its backend service pools. Takes no time.
    LoadBalancer(balancer::RawBalancer, balancer::LoadBalancer, balancer::Balancer) = "load_balancer",
    /// A pool of identical instances, each with `cores` workers and its own FIFO queue.
    Service(service::RawService, service::Service, service::Pool) = "service",
    /// A key store of bounded capacity with its own workers, read-through to a node behind.
    Cache(cache::RawCache, cache::Cache, cache::CacheState) = "cache",
    /// A message queue: the producer returns at enqueue; a consumer pool processes them.
    Queue(queue::RawQueue, queue::Queue, queue::QueueState) = "queue",
    /// A primary with read replicas, a connection pool and shards.
    Database(database::RawDatabase, database::Database, database::DatabaseState) = "database",
    /// A token bucket in front of a node: requests past the rate are refused at once.
    RateLimiter(limiter::RawLimiter, limiter::Limiter, limiter::LimiterState) = "rate_limiter",
}

pub(crate) use dispatch;

impl Kind {
    /// Whether nodes of this kind have workers of their own: a utilisation in the report
    /// and a place in the bottleneck rule. A new kind with workers adds itself here.
    pub fn has_workers(self) -> bool {
        matches!(self, Kind::Service | Kind::Cache | Kind::Database)
    }
}

impl RawNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        dispatch!(self, RawNode, c => c.name())
    }
}

impl NodeKind {
    /// See [`Config::callees`].
    pub fn callees(&self, class: ClassId, out: &mut Vec<NodeId>) {
        dispatch!(self, NodeKind, c => c.callees(class, out))
    }
    /// See [`Config::workers`].
    pub fn workers(&self) -> u64 {
        dispatch!(self, NodeKind, c => c.workers())
    }
    /// See [`Config::handles`].
    pub fn handles(&self, class: ClassId) -> bool {
        dispatch!(self, NodeKind, c => c.handles(class))
    }
    /// See [`Config::build`].
    pub fn build(&self, id: NodeId, sc: &Scenario, rng: Stream) -> NodeState {
        dispatch!(self, NodeKind, c => c.build(id, sc, rng))
    }
    /// See [`Config::visit`].
    pub fn visit(&self, id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        dispatch!(self, NodeKind, c => c.visit(id, class, rate, flow))
    }
    /// See [`Config::response_time`].
    pub fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        dispatch!(self, NodeKind, c => c.response_time(class, sc))
    }
    /// See [`Config::reads_key_or_session`].
    pub fn reads_key_or_session(&self) -> bool {
        dispatch!(self, NodeKind, c => c.reads_key_or_session())
    }
    /// The service pool config, if this is one.
    pub fn as_service(&self) -> Option<&service::Service> {
        match self {
            NodeKind::Service(s) => Some(s),
            _ => None,
        }
    }
}

impl NodeState {
    /// See [`Component::on_enter`].
    #[inline]
    pub fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        dispatch!(self, NodeState, c => c.on_enter(cx, f))
    }
    /// See [`Component::on_reply`].
    #[inline]
    pub fn on_reply(&mut self, cx: &mut Cx, f: Key, ok: bool, from: u16) {
        dispatch!(self, NodeState, c => c.on_reply(cx, f, ok, from))
    }
    /// See [`Component::on_wake`].
    #[inline]
    pub fn on_wake(&mut self, cx: &mut Cx, f: Key, why: Wake) {
        dispatch!(self, NodeState, c => c.on_wake(cx, f, why))
    }
    /// See [`Component::begin`].
    pub fn begin(&mut self, q: &mut crate::kernel::Queue) {
        dispatch!(self, NodeState, c => Component::begin(c, q))
    }
    /// See [`Component::on_tick`].
    pub fn on_tick(&mut self, cx: &mut Cx) {
        dispatch!(self, NodeState, c => c.on_tick(cx))
    }
    /// See [`Component::on_message_done`].
    pub fn on_message_done(&mut self, cx: &mut Cx, msg: &crate::kernel::Req, ok: bool) {
        dispatch!(self, NodeState, c => c.on_message_done(cx, msg, ok))
    }
    /// The service pool, if this is one.
    pub fn as_pool_mut(&mut self) -> Option<&mut service::Pool> {
        match self {
            NodeState::Service(p) => Some(p),
            _ => None,
        }
    }
    /// The service pool, if this is one.
    pub fn as_pool(&self) -> Option<&service::Pool> {
        match self {
            NodeState::Service(p) => Some(p),
            _ => None,
        }
    }
    /// The queue, if this is one.
    pub fn as_queue_mut(&mut self) -> Option<&mut queue::QueueState> {
        match self {
            NodeState::Queue(q) => Some(q),
            _ => None,
        }
    }
    /// The cache, if this is one.
    pub fn as_cache_mut(&mut self) -> Option<&mut cache::CacheState> {
        match self {
            NodeState::Cache(c) => Some(c),
            _ => None,
        }
    }
    /// The database, if this is one.
    pub fn as_database_mut(&mut self) -> Option<&mut database::DatabaseState> {
        match self {
            NodeState::Database(d) => Some(d),
            _ => None,
        }
    }
    /// The load balancer, if this is one.
    pub fn as_balancer(&self) -> Option<&balancer::Balancer> {
        match self {
            NodeState::LoadBalancer(b) => Some(b),
            _ => None,
        }
    }
    /// The load balancer, if this is one.
    pub fn as_balancer_mut(&mut self) -> Option<&mut balancer::Balancer> {
        match self {
            NodeState::LoadBalancer(b) => Some(b),
            _ => None,
        }
    }
}

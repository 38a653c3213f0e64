//! Rate limiters: a token bucket in front of a node. A request that finds a token passes
//! on to `target` (taking no time); one that finds none is refused at once (an HTTP 429),
//! counted in the limiter's `errors`.
//!
//! The bucket holds at most `burst` tokens and refills at `rate` per second, continuously:
//! over a long stretch at most `rate` requests/s pass, and `burst` may pass at once after
//! a quiet spell. `per: Global` is one bucket for everyone; `per: Session` one bucket per
//! user (source and session), so an abusive client is held to the rate while the others,
//! each under it, pass untouched.

use super::{Component, Config, NodeKind, NodeState, RawConfig};
use crate::analysis::capacity::Flow;
use crate::ids::{ClassId, LinkId, NodeId};
use crate::kernel::{Cx, Ev, KeyMap};
use crate::scenario::raw::NonNeg;
use crate::scenario::{Resolver, Scenario, ScenarioError};
use serde::Deserialize;
use sim_core::{Key, SimTime, Stream};

/// A rate limiter as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "RateLimiter")]
pub struct RawLimiter {
    /// Unique name.
    pub name: String,
    /// The node that accepted requests go to.
    pub target: String,
    /// Tokens per second.
    pub rate: NonNeg,
    /// Bucket size. Default: `rate` (one second's worth).
    #[serde(default)]
    pub burst: Option<NonNeg>,
    /// One bucket for all, or one per user. Default: `Global`.
    #[serde(default)]
    pub per: Per,
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Per {
    /// One bucket.
    #[default]
    Global,
    /// One bucket per user (source and session).
    Session,
}

/// A validated rate limiter.
#[derive(Debug, Clone)]
pub struct Limiter {
    /// Where accepted requests go, and the link.
    pub target: (NodeId, Option<LinkId>),
    /// Tokens per second.
    pub rate: f64,
    /// Bucket size.
    pub burst: f64,
    /// Bucket scope.
    pub per: Per,
}

impl RawConfig for RawLimiter {
    fn name(&self) -> &str {
        &self.name
    }

    fn validate(&self, r: &mut Resolver) -> Result<NodeKind, ScenarioError> {
        let name = self.name.as_str();
        let decl = r.decl(name);
        let field = |r: &Resolver, f: &str| r.loc().field_in(name, f);
        let target = r.node(&self.target, decl)?;
        if self.target == name {
            return Err(r
                .err(
                    r.loc().quoted(&self.target, decl),
                    format!("rate limiter `{name}` sends to itself"),
                )
                .with_hint("name the node the accepted requests go to"));
        }
        if !(self.rate.0 > 0.0 && self.rate.0 <= 1e9) {
            return Err(r
                .err(
                    field(r, "rate"),
                    format!(
                        "rate limiter `{name}`: rate must be above 0 and at most 1e9 per second"
                    ),
                )
                .with_hint("tokens per second, e.g. rate: 100"));
        }
        let burst = self.burst.map_or(self.rate.0, |b| b.0);
        if !(1.0..=1e12).contains(&burst) {
            return Err(r
                .err(
                    field(r, "burst"),
                    format!("rate limiter `{name}`: burst must be 1 to 1e12, found {burst}"),
                )
                .with_hint("the most requests that may pass at once, e.g. burst: 50"));
        }
        Ok(NodeKind::RateLimiter(Limiter {
            target: (target, r.link_of(name, &self.target)),
            rate: self.rate.0,
            burst,
            per: self.per,
        }))
    }
}

impl Config for Limiter {
    fn build(&self, _id: NodeId, _sc: &Scenario, _rng: Stream) -> NodeState {
        NodeState::RateLimiter(LimiterState {
            cfg: self.clone(),
            global: Bucket {
                tokens: self.burst,
                at: SimTime::ZERO,
            },
            buckets: KeyMap::default(),
        })
    }

    fn callees(&self, _class: ClassId, out: &mut Vec<NodeId>) {
        out.push(self.target.0);
    }

    fn visit(&self, _id: NodeId, class: ClassId, rate: f64, flow: &mut Flow) {
        // At most `rate` pass globally (an estimate: per session it depends on the users).
        let passed = match self.per {
            Per::Global => rate.min(self.rate),
            Per::Session => rate,
        };
        flow.visit(self.target.0, class, passed);
    }

    fn response_time(&self, class: ClassId, sc: &Scenario) -> f64 {
        let link = self
            .target
            .1
            .map_or(0.0, |l| sc.links[l.index()].latency.mean_s());
        2.0 * link
            + sc.nodes[self.target.0.index()]
                .kind
                .response_time(class, sc)
    }

    fn reads_key_or_session(&self) -> bool {
        self.per == Per::Session
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: SimTime,
}

impl Bucket {
    /// Refill to `now` and take a token if there is one.
    fn take(&mut self, now: SimTime, rate: f64, burst: f64) -> bool {
        let dt = (now - self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * rate).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A rate limiter at run time.
#[derive(Debug, Clone)]
pub struct LimiterState {
    cfg: Limiter,
    global: Bucket,
    /// Per user (source, session), created full at a user's first request.
    buckets: KeyMap<Bucket>,
}

impl Component for LimiterState {
    fn on_enter(&mut self, cx: &mut Cx, f: Key) {
        let fr = *cx.k.frames.get(f).expect("entering frame is live");
        let (rate, burst) = (self.cfg.rate, self.cfg.burst);
        let ok = match self.cfg.per {
            Per::Global => self.global.take(cx.now, rate, burst),
            Per::Session => {
                let user = cx.k.reqs.get(fr.req).map_or(0, |r| r.user());
                let now = cx.now;
                self.buckets
                    .entry(user)
                    .or_insert(Bucket {
                        tokens: burst,
                        at: now,
                    })
                    .take(now, rate, burst)
            }
        };
        if !ok {
            return cx.reject(f);
        }
        cx.accept(f);
        let (node, link) = self.cfg.target;
        let child = cx.child(f, &fr, node, None, link);
        cx.send(link, Ev::Enter(child, node));
    }

    fn on_reply(&mut self, cx: &mut Cx, to: Key, ok: bool, _from: u16) {
        let fr = cx.leave(to);
        cx.reply(to, fr, ok);
    }
}

//! An event as the queue holds it: two plain words.
//!
//! Components write and match [`Ev`], an enum. The queue holds [`PackedEv`] instead: a
//! struct of two `u64`, with no enum tag and no niche. An enum is copied field by field —
//! its one-byte tag, then the rest, in overlapping moves — and reading a value back in
//! other widths than it was just written in stalls the processor (a store-forwarding
//! stall) at every hand-off between the queue and the dispatch. Two words are copied as
//! two words. [`Ev::pack`] and [`PackedEv::unpack`] inline to a few shifts at each end.
//!
//! The head word holds the kind (bits 0–7), a byte (8–15), a half-word (16–31) and a
//! word (32–63); the second word holds a slab key or two more words.

use super::{Ev, Wake};
use crate::control::Verb;
use crate::ids::{InstanceId, NodeId, SourceId};
use sim_core::Key;

/// An event as the event queue holds it (see the module docs). 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedEv {
    head: u64,
    word: u64,
}

const ARRIVAL: u8 = 0;
const ENTER: u8 = 1;
const DELAYED: u8 = 2;
const WAKE: u8 = 3;
const RESEND: u8 = 4;
const REPLY: u8 = 5;
const CLIENT_DONE: u8 = 6;
const SOURCE_TIMER: u8 = 7;
const INSTANCE_READY: u8 = 8;
const DRAIN_TIMEOUT: u8 = 9;
const CONTROL: u8 = 10;
const TICK: u8 = 11;
const SAMPLE: u8 = 12;
const ALERT: u8 = 13;
const WARMUP_END: u8 = 14;

#[inline(always)]
fn head(kind: u8, byte: u8, half: u16, x: u32) -> u64 {
    kind as u64 | (byte as u64) << 8 | (half as u64) << 16 | (x as u64) << 32
}

#[inline(always)]
fn pair(a: u32, b: u32) -> u64 {
    (a as u64) << 32 | b as u64
}

impl PackedEv {
    #[inline(always)]
    fn new(kind: u8, byte: u8, half: u16, x: u32, word: u64) -> Self {
        PackedEv {
            head: head(kind, byte, half, x),
            word,
        }
    }

    /// The event it holds.
    #[inline(always)]
    pub fn unpack(self) -> Ev {
        let kind = self.head as u8;
        let byte = (self.head >> 8) as u8;
        let half = (self.head >> 16) as u16;
        let x = (self.head >> 32) as u32;
        let key = Key::from_bits(self.word);
        let (a, b) = ((self.word >> 32) as u32, self.word as u32);
        match kind {
            ARRIVAL => Ev::Arrival(SourceId::from_raw(x)),
            ENTER => Ev::Enter(key, NodeId::from_raw(x)),
            DELAYED => Ev::Delayed(key, NodeId::from_raw(x)),
            WAKE => Ev::Wake(key, NodeId::from_raw(x), Wake::from_byte(byte)),
            RESEND => Ev::Resend(key),
            REPLY => Ev::Reply {
                to: key,
                ok: byte != 0,
                from: half,
            },
            CLIENT_DONE => Ev::ClientDone {
                req: key,
                ok: byte != 0,
            },
            SOURCE_TIMER => Ev::SourceTimer(SourceId::from_raw(x)),
            INSTANCE_READY => Ev::InstanceReady(NodeId::from_raw(x), InstanceId::from_raw(a), b),
            DRAIN_TIMEOUT => Ev::DrainTimeout(NodeId::from_raw(x), InstanceId::from_raw(a), b),
            CONTROL => Ev::Control(unpack_verb(byte, half, x, self.word)),
            TICK => Ev::Tick(NodeId::from_raw(x)),
            SAMPLE => Ev::Sample,
            ALERT => Ev::Alert(half),
            WARMUP_END => Ev::WarmupEnd,
            _ => unreachable!("event kind {kind} is never packed"),
        }
    }
}

impl Ev {
    /// The event as the queue holds it.
    #[inline(always)]
    pub fn pack(self) -> PackedEv {
        let p = PackedEv::new;
        match self {
            Ev::Arrival(s) => p(ARRIVAL, 0, 0, s.raw(), 0),
            Ev::Enter(f, n) => p(ENTER, 0, 0, n.raw(), f.to_bits()),
            Ev::Delayed(f, n) => p(DELAYED, 0, 0, n.raw(), f.to_bits()),
            Ev::Wake(f, n, why) => p(WAKE, why as u8, 0, n.raw(), f.to_bits()),
            Ev::Resend(r) => p(RESEND, 0, 0, 0, r.to_bits()),
            Ev::Reply { to, ok, from } => p(REPLY, ok as u8, from, 0, to.to_bits()),
            Ev::ClientDone { req, ok } => p(CLIENT_DONE, ok as u8, 0, 0, req.to_bits()),
            Ev::SourceTimer(s) => p(SOURCE_TIMER, 0, 0, s.raw(), 0),
            Ev::InstanceReady(n, i, e) => p(INSTANCE_READY, 0, 0, n.raw(), pair(i.raw(), e)),
            Ev::DrainTimeout(n, i, e) => p(DRAIN_TIMEOUT, 0, 0, n.raw(), pair(i.raw(), e)),
            Ev::Control(v) => {
                let (byte, half, x, word) = pack_verb(v);
                p(CONTROL, byte, half, x, word)
            }
            Ev::Tick(n) => p(TICK, 0, 0, n.raw(), 0),
            Ev::Sample => p(SAMPLE, 0, 0, 0, 0),
            Ev::Alert(i) => p(ALERT, 0, i, 0, 0),
            Ev::WarmupEnd => p(WARMUP_END, 0, 0, 0, 0),
        }
    }
}

impl From<Ev> for PackedEv {
    #[inline(always)]
    fn from(ev: Ev) -> Self {
        ev.pack()
    }
}

impl Wake {
    /// The wake from its discriminant (`as u8`).
    #[inline(always)]
    fn from_byte(b: u8) -> Wake {
        const CPU_DONE: u8 = Wake::CpuDone as u8;
        const RESUME: u8 = Wake::Resume as u8;
        const ARRIVE: u8 = Wake::Arrive as u8;
        const TIMEOUT: u8 = Wake::Timeout as u8;
        const RETRY: u8 = Wake::Retry as u8;
        const HEDGE: u8 = Wake::Hedge as u8;
        match b {
            CPU_DONE => Wake::CpuDone,
            RESUME => Wake::Resume,
            ARRIVE => Wake::Arrive,
            TIMEOUT => Wake::Timeout,
            RETRY => Wake::Retry,
            HEDGE => Wake::Hedge,
            _ => unreachable!("wake {b} is never packed"),
        }
    }
}

/// A verb as (its kind, a flag, a word, a second word).
fn pack_verb(v: Verb) -> (u8, u16, u32, u64) {
    let n = |n: NodeId| n.raw();
    match v {
        Verb::SetInstances { node, instances } => (0, 0, n(node), instances as u64),
        Verb::StartInstances { node, count } => (1, 0, n(node), count as u64),
        Verb::StopInstances { node, count, drain } => (2, drain as u16, n(node), count as u64),
        Verb::KillInstances { node, count } => (3, 0, n(node), count as u64),
        Verb::Degrade { node, factor } => (4, 0, n(node), factor.to_bits() as u64),
        Verb::FlushCache { node } => (5, 0, n(node), 0),
        Verb::FailPrimary { node } => (6, 0, n(node), 0),
        Verb::Promote { node } => (7, 0, n(node), 0),
        Verb::Fault { id, on } => (8, on as u16, id, 0),
        Verb::MonkeyKill { id, epoch } => (9, 0, id, epoch as u64),
        Verb::MonkeyRestart { id } => (10, 0, id, 0),
        Verb::HealthVerdict { node } => (11, 0, n(node), 0),
        Verb::Deploy { id } => (12, 0, id, 0),
    }
}

/// The verb [`pack_verb`] packed.
fn unpack_verb(kind: u8, flag: u16, x: u32, word: u64) -> Verb {
    let node = || NodeId::from_raw(x);
    let w = word as u32;
    match kind {
        0 => Verb::SetInstances {
            node: node(),
            instances: w,
        },
        1 => Verb::StartInstances {
            node: node(),
            count: w,
        },
        2 => Verb::StopInstances {
            node: node(),
            count: w,
            drain: flag != 0,
        },
        3 => Verb::KillInstances {
            node: node(),
            count: w,
        },
        4 => Verb::Degrade {
            node: node(),
            factor: f32::from_bits(w),
        },
        5 => Verb::FlushCache { node: node() },
        6 => Verb::FailPrimary { node: node() },
        7 => Verb::Promote { node: node() },
        8 => Verb::Fault {
            id: x,
            on: flag != 0,
        },
        9 => Verb::MonkeyKill { id: x, epoch: w },
        10 => Verb::MonkeyRestart { id: x },
        11 => Verb::HealthVerdict { node: node() },
        12 => Verb::Deploy { id: x },
        _ => unreachable!("verb kind {kind} is never packed"),
    }
}

const _: () = assert!(std::mem::size_of::<PackedEv>() == 16);

#[cfg(test)]
mod tests {
    use super::*;

    fn all_verbs() -> Vec<Verb> {
        let node = NodeId::new(7);
        vec![
            Verb::SetInstances {
                node,
                instances: u32::MAX,
            },
            Verb::StartInstances { node, count: 3 },
            Verb::StopInstances {
                node,
                count: 2,
                drain: true,
            },
            Verb::StopInstances {
                node,
                count: 2,
                drain: false,
            },
            Verb::KillInstances { node, count: 1 },
            Verb::Degrade { node, factor: 0.25 },
            Verb::FlushCache { node },
            Verb::FailPrimary { node },
            Verb::Promote { node },
            Verb::Fault { id: 0, on: true },
            Verb::Fault { id: 4, on: false },
            Verb::MonkeyKill { id: 0, epoch: 9 },
            Verb::MonkeyRestart { id: 0 },
            Verb::HealthVerdict { node },
            Verb::Deploy { id: 0 },
        ]
    }

    #[test]
    fn every_event_comes_out_of_its_packing_as_it_went_in() {
        let keys = [
            Key::from_bits(0x0000_0003_0000_0001),
            Key::from_bits(u64::MAX - 1),
            Key::NONE,
            Key::VOID,
        ];
        let (node, last) = (NodeId::new(0), NodeId::new(u32::MAX as usize - 1));
        let inst = InstanceId::new(99_999);
        let mut events = vec![
            Ev::Arrival(SourceId::new(0)),
            Ev::Arrival(SourceId::new(12)),
            Ev::SourceTimer(SourceId::new(3)),
            Ev::InstanceReady(node, inst, u32::MAX),
            Ev::DrainTimeout(last, InstanceId::new(0), 0),
            Ev::Tick(last),
            Ev::Sample,
            Ev::Alert(0),
            Ev::Alert(u16::MAX),
            Ev::WarmupEnd,
        ];
        for &k in &keys {
            events.extend([Ev::Enter(k, node), Ev::Delayed(k, last), Ev::Resend(k)]);
            for why in [
                Wake::CpuDone,
                Wake::Resume,
                Wake::Arrive,
                Wake::Timeout,
                Wake::Retry,
                Wake::Hedge,
            ] {
                events.push(Ev::Wake(k, last, why));
            }
            for ok in [true, false] {
                events.push(Ev::ClientDone { req: k, ok });
                events.push(Ev::Reply {
                    to: k,
                    ok,
                    from: k.tag(),
                });
            }
        }
        events.extend(all_verbs().into_iter().map(Ev::Control));
        for ev in events {
            assert_eq!(ev.pack().unpack(), ev);
        }
    }
}

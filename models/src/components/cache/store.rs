//! The cache's key store: entries in a dense array, a map from key to position, a list from
//! most recently used (or inserted) to least, and for `Lfu` an ordered set of
//! (uses, tick, key). O(1) per operation (O(log n) for `Lfu`); nothing is allocated once
//! the store is full.

use super::Eviction;
use crate::ids::ClassId;
use sim_core::{SimTime, Stream};
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

/// The result of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    /// Found, holding this data version.
    Hit(u64),
    Miss,
    Expired,
}

pub(crate) use crate::kernel::KeyHasher;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    expires: SimTime,
    /// Towards the most recent (`NIL` at the head).
    prev: u32,
    /// Towards the oldest (`NIL` at the tail).
    next: u32,
    /// `Lfu`: uses, and the insertion tick that breaks ties.
    uses: u32,
    tick: u64,
    /// Write-behind: written and not yet sent, by this class.
    dirty: Option<ClassId>,
    /// The data version it holds (0: unknown or never written).
    version: u64,
}

/// A key pushed out to make room.
#[derive(Debug, Clone, Copy)]
pub(super) struct Evicted {
    pub key: u64,
    /// It was dirty (write-behind), written by this class.
    pub dirty: Option<ClassId>,
    /// The version it held.
    pub version: u64,
}

/// The key store: entries in a dense array, a map from key to position, a list from most
/// recently used (or inserted) to least, and for `Lfu` an ordered set of (uses, tick, key).
#[derive(Debug, Clone)]
pub(super) struct Store {
    cap: usize,
    eviction: Eviction,
    ttl: Option<SimTime>,
    entries: Vec<Entry>,
    index: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    head: u32,
    tail: u32,
    lfu: BTreeSet<(u32, u64, u64)>,
    tick: u64,
}

impl Store {
    pub(super) fn new(cap: usize, eviction: Eviction, ttl: Option<SimTime>) -> Self {
        Store {
            cap,
            eviction,
            ttl,
            entries: Vec::new(),
            index: HashMap::default(),
            head: NIL,
            tail: NIL,
            lfu: BTreeSet::new(),
            tick: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
        self.lfu.clear();
        (self.head, self.tail) = (NIL, NIL);
    }

    fn unlink(&mut self, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        (e.prev, e.next) = (NIL, self.head);
        if self.head != NIL {
            self.entries[self.head as usize].prev = i;
        } else {
            self.tail = i;
        }
        self.head = i;
    }

    pub(super) fn get(&mut self, key: u64, now: SimTime) -> Lookup {
        let Some(&i) = self.index.get(&key) else {
            return Lookup::Miss;
        };
        let e = self.entries[i as usize];
        if e.expires <= now {
            self.remove_at(i);
            return Lookup::Expired;
        }
        match self.eviction {
            Eviction::Lru => {
                self.unlink(i);
                self.push_front(i);
            }
            Eviction::Lfu => {
                self.lfu.remove(&(e.uses, e.tick, key));
                self.lfu.insert((e.uses + 1, e.tick, key));
                self.entries[i as usize].uses += 1;
            }
            Eviction::Fifo | Eviction::Random => {}
        }
        Lookup::Hit(e.version)
    }

    /// Mark `key` (held) dirty; returns whether it was clean.
    pub(super) fn set_dirty(&mut self, key: u64, class: ClassId) -> bool {
        match self.index.get(&key) {
            Some(&i) => self.entries[i as usize].dirty.replace(class).is_none(),
            None => false,
        }
    }

    /// Clear `key`'s dirty mark, returning the class that wrote it and the version it
    /// holds, if it was dirty.
    pub(super) fn take_dirty(&mut self, key: u64) -> Option<(ClassId, u64)> {
        let &i = self.index.get(&key)?;
        let e = &mut self.entries[i as usize];
        e.dirty.take().map(|c| (c, e.version))
    }

    /// Store `key` holding data `version`; returns the key evicted for it, if any.
    pub(super) fn insert(
        &mut self,
        key: u64,
        version: u64,
        now: SimTime,
        rng: &mut Stream,
    ) -> Option<Evicted> {
        let expires = self.ttl.map_or(SimTime(u64::MAX), |t| now + t);
        if let Some(&i) = self.index.get(&key) {
            // Filled or written again: refresh it (with what the filler has, even if older).
            self.entries[i as usize].expires = expires;
            self.entries[i as usize].version = version;
            if self.eviction == Eviction::Lru {
                self.unlink(i);
                self.push_front(i);
            }
            return None;
        }
        let mut evicted = None;
        if self.entries.len() >= self.cap {
            let victim = match self.eviction {
                Eviction::Lru | Eviction::Fifo => self.tail,
                Eviction::Random => rng.below(self.entries.len() as u64) as u32,
                Eviction::Lfu => {
                    let &(_, _, k) = self.lfu.first().expect("a full store has entries");
                    self.index[&k]
                }
            };
            let e = self.entries[victim as usize];
            evicted = Some(Evicted {
                key: e.key,
                dirty: e.dirty,
                version: e.version,
            });
            self.remove_at(victim);
        }
        self.tick += 1;
        let i = self.entries.len() as u32;
        self.entries.push(Entry {
            key,
            expires,
            prev: NIL,
            next: NIL,
            uses: 1,
            tick: self.tick,
            dirty: None,
            version,
        });
        self.index.insert(key, i);
        self.push_front(i);
        if self.eviction == Eviction::Lfu {
            self.lfu.insert((1, self.tick, key));
        }
        evicted
    }

    pub(super) fn remove(&mut self, key: u64) -> bool {
        match self.index.get(&key) {
            Some(&i) => {
                self.remove_at(i);
                true
            }
            None => false,
        }
    }

    /// Remove the entry at `i`; the last entry moves into its place.
    fn remove_at(&mut self, i: u32) {
        let e = self.entries[i as usize];
        self.unlink(i);
        self.index.remove(&e.key);
        if self.eviction == Eviction::Lfu {
            self.lfu.remove(&(e.uses, e.tick, e.key));
        }
        let last = self.entries.len() as u32 - 1;
        self.entries.swap_remove(i as usize);
        if i != last {
            // The moved entry's neighbours and the map point at its new place.
            let m = self.entries[i as usize];
            if m.prev == NIL {
                self.head = i;
            } else {
                self.entries[m.prev as usize].next = i;
            }
            if m.next == NIL {
                self.tail = i;
            } else {
                self.entries[m.next as usize].prev = i;
            }
            self.index.insert(m.key, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::RngStreams;

    fn keys_in_order(s: &Store) -> Vec<u64> {
        let mut out = vec![];
        let mut i = s.head;
        while i != NIL {
            out.push(s.entries[i as usize].key);
            i = s.entries[i as usize].next;
        }
        out
    }

    #[test]
    fn lru_fifo_lfu_evict_the_right_key_and_ttl_expires() {
        let mut rng = RngStreams::new(1).get("c");
        let t = SimTime::ZERO;
        let mut lru = Store::new(3, Eviction::Lru, None);
        let mut fifo = Store::new(3, Eviction::Fifo, None);
        let mut lfu = Store::new(3, Eviction::Lfu, None);
        for s in [&mut lru, &mut fifo, &mut lfu] {
            for k in [1, 2, 3] {
                assert!(s.insert(k, 0, t, &mut rng).is_none());
            }
            assert_eq!(s.get(1, t), Lookup::Hit(0)); // 1 is now the most recent / used twice
            assert_eq!(s.get(1, t), Lookup::Hit(0));
            assert_eq!(s.get(3, t), Lookup::Hit(0));
            assert!(s.insert(4, 0, t, &mut rng).is_some());
        }
        assert_eq!(keys_in_order(&lru), vec![4, 3, 1], "LRU evicts 2");
        assert_eq!(keys_in_order(&fifo), vec![4, 3, 2], "FIFO evicts 1");
        assert_eq!(
            lfu.get(2, t),
            Lookup::Miss,
            "LFU evicts 2 (one use, the oldest such)"
        );
        assert_eq!(lfu.get(1, t), Lookup::Hit(0));
        let mut ttl = Store::new(3, Eviction::Lru, Some(SimTime::from_secs(10)));
        ttl.insert(7, 0, t, &mut rng);
        assert_eq!(ttl.get(7, SimTime::from_secs(9)), Lookup::Hit(0));
        assert_eq!(ttl.get(7, SimTime::from_secs(10)), Lookup::Expired);
        assert_eq!(ttl.get(7, SimTime::from_secs(11)), Lookup::Miss);
    }

    #[test]
    fn the_store_stays_consistent_under_random_operations() {
        let mut rng = RngStreams::new(2).get("c");
        for eviction in [
            Eviction::Lru,
            Eviction::Lfu,
            Eviction::Fifo,
            Eviction::Random,
        ] {
            let mut s = Store::new(50, eviction, Some(SimTime::from_nanos(500)));
            let mut x: u64 = 3;
            for step in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = x % 120;
                let now = SimTime::from_nanos(step);
                match x % 5 {
                    0 => {
                        s.remove(key);
                    }
                    1 | 2 => {
                        s.get(key, now);
                    }
                    _ => {
                        s.insert(key, 0, now, &mut rng);
                    }
                }
                assert!(s.len() <= 50);
                assert_eq!(s.index.len(), s.len());
                assert_eq!(keys_in_order(&s).len(), s.len(), "{eviction:?} list");
                for (i, e) in s.entries.iter().enumerate() {
                    assert_eq!(s.index[&e.key], i as u32);
                }
                if eviction == Eviction::Lfu {
                    assert_eq!(s.lfu.len(), s.len());
                }
            }
        }
    }
}

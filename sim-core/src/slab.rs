//! A slab of entities addressed by generational `u32` keys.
//!
//! Requests in flight live here: a `Vec` plus a free list, so nothing is allocated per
//! request once the slab has grown to the in-flight peak. A [`Key`] carries the slot's
//! generation; after the slot is freed (and possibly reused) the old key no longer resolves.
//! This is how timers are cancelled for free: a timeout event carries the request's key, and
//! if the request has finished by the time the event pops, `get` returns `None`.

/// A generational handle into a [`Slab`]. 8 bytes, `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    idx: u32,
    gen: u32,
}

impl Key {
    /// A key that never resolves.
    pub const NONE: Key = Key {
        idx: u32::MAX,
        gen: 0,
    };
    /// Another key that never resolves, distinct from [`Key::NONE`] (a call abandoned by
    /// its caller replies to it, and the reply is dropped).
    pub const VOID: Key = Key {
        idx: u32::MAX - 1,
        gen: 0,
    };
    /// Whether this is [`Key::NONE`].
    #[inline]
    pub fn is_none(self) -> bool {
        self.idx == u32::MAX
    }
    /// The slot index (stable while the entity lives).
    #[inline]
    pub fn index(self) -> u32 {
        self.idx
    }
    /// The key as one number, unique over a slab's life (slot index, then generation):
    /// for naming an entity outside the slab (a trace's span id).
    #[inline]
    pub fn to_bits(self) -> u64 {
        (self.idx as u64) << 32 | self.gen as u64
    }
    /// The key named by [`Key::to_bits`] (for packing a key into an event word).
    #[inline]
    pub fn from_bits(bits: u64) -> Key {
        Key {
            idx: (bits >> 32) as u32,
            gen: bits as u32,
        }
    }
    /// A 16-bit digest of the key: keys of one slot differ in it from one generation to the
    /// next, and live keys of different slots almost always do. For telling apart replies
    /// from different tries of one call without widening an event.
    #[inline]
    pub fn tag(self) -> u16 {
        (self.idx as u16) ^ (self.gen as u16).rotate_left(7)
    }
}

#[derive(Debug, Clone)]
struct Slot<T> {
    gen: u32,
    value: Option<T>,
}

/// Generational slab. See the module docs.
#[derive(Debug, Clone)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<T> Slab<T> {
    /// An empty slab with room for `n` entities.
    pub fn with_capacity(n: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            len: 0,
        }
    }

    /// Number of live entities.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entity is live.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The highest number of slots ever used (the in-flight peak).
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }

    /// Store `value`, reusing a free slot if there is one. Allocates only past the peak.
    #[inline]
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            debug_assert!(slot.value.is_none());
            slot.value = Some(value);
            Key { idx, gen: slot.gen }
        } else {
            let idx = u32::try_from(self.slots.len()).expect("slab holds at most 2^32-1 entities");
            assert!(idx != u32::MAX, "slab full");
            self.slots.push(Slot {
                gen: 0,
                value: Some(value),
            });
            Key { idx, gen: 0 }
        }
    }

    /// The entity behind `key`, if it is still live.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.idx as usize) {
            Some(s) if s.gen == key.gen => s.value.as_ref(),
            _ => None,
        }
    }

    /// Mutable access to the entity behind `key`, if it is still live.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.idx as usize) {
            Some(s) if s.gen == key.gen => s.value.as_mut(),
            _ => None,
        }
    }

    /// Every live entity with its key, in slot order (deterministic). O(slots): for rare
    /// whole-population work (an instance killed), never per event.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.value.as_ref().map(|v| {
                (
                    Key {
                        idx: i as u32,
                        gen: s.gen,
                    },
                    v,
                )
            })
        })
    }

    /// Remove and return the entity; its key (and every copy of it) goes stale.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.idx as usize)?;
        if slot.gen != key.gen {
            return None;
        }
        let v = slot.value.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(key.idx);
        self.len -= 1;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_do_not_resolve_after_reuse() {
        let mut s = Slab::with_capacity(2);
        let a = s.insert("a");
        assert_eq!(s.get(a), Some(&"a"));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!(s.get(a), None);
        let b = s.insert("b");
        assert_eq!(b.index(), a.index(), "slot reused");
        assert_eq!(s.get(a), None, "old key is stale");
        assert_eq!(s.remove(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
        assert_eq!(s.capacity_used(), 1);
        assert!(s.get(Key::NONE).is_none());
    }
}

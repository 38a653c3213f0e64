//! Two small index structures for sets whose members come and go while a run goes on.
//!
//! Both address members by a dense `u32` id (an index into some `Vec` the caller owns) and
//! allocate only when an id beyond the largest seen so far arrives: nothing per operation.

/// A set of `u32` ids with O(1) insert, remove and membership, and the members in a dense
/// array (for picking the k-th, or a uniformly random one).
///
/// Order: members keep their insertion order until one is removed; removal moves the last
/// member into the hole (swap-remove). So a set built by inserting `0..n` lists `0..n`.
#[derive(Debug, Clone, Default)]
pub struct DenseSet {
    items: Vec<u32>,
    /// `slot[id]` is the position of `id` in `items`, or `u32::MAX` when absent.
    slot: Vec<u32>,
}

impl DenseSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of members.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The members, densely.
    #[inline]
    pub fn as_slice(&self) -> &[u32] {
        &self.items
    }

    /// The member at position `k` (`k < len`).
    #[inline]
    pub fn get(&self, k: usize) -> u32 {
        self.items[k]
    }

    /// Whether `id` is a member.
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        self.slot.get(id as usize).is_some_and(|&s| s != u32::MAX)
    }

    /// Add `id`; returns false if it was already there.
    pub fn insert(&mut self, id: u32) -> bool {
        if self.contains(id) {
            return false;
        }
        if self.slot.len() <= id as usize {
            self.slot.resize(id as usize + 1, u32::MAX);
        }
        self.slot[id as usize] = self.items.len() as u32;
        self.items.push(id);
        true
    }

    /// Remove `id`; returns false if it was not there.
    pub fn remove(&mut self, id: u32) -> bool {
        if !self.contains(id) {
            return false;
        }
        let at = self.slot[id as usize] as usize;
        self.items.swap_remove(at);
        if let Some(&moved) = self.items.get(at) {
            self.slot[moved as usize] = at as u32;
        }
        self.slot[id as usize] = u32::MAX;
        true
    }
}

/// A value per id (absent ids count as `u32::MAX`) with O(log n) update and "the first id,
/// in cyclic order from a start, whose value is the smallest": a least-loaded pick with a
/// rotating tie-break.
#[derive(Debug, Clone, Default)]
pub struct MinTree {
    /// Leaves at `cap..2cap`; node `i` holds the minimum of its children.
    tree: Vec<u32>,
    cap: usize,
}

impl MinTree {
    /// An empty tree.
    pub fn new() -> Self {
        MinTree {
            tree: vec![u32::MAX; 2],
            cap: 1,
        }
    }

    fn grow(&mut self, id: usize) {
        let mut cap = self.cap;
        while cap <= id {
            cap *= 2;
        }
        let mut tree = vec![u32::MAX; 2 * cap];
        tree[cap..cap + self.cap].copy_from_slice(&self.tree[self.cap..]);
        for i in (1..cap).rev() {
            tree[i] = tree[2 * i].min(tree[2 * i + 1]);
        }
        self.tree = tree;
        self.cap = cap;
    }

    /// Set the value of `id` (`u32::MAX` makes it absent).
    pub fn set(&mut self, id: u32, value: u32) {
        let id = id as usize;
        if id >= self.cap {
            if value == u32::MAX {
                return;
            }
            self.grow(id);
        }
        let mut i = self.cap + id;
        self.tree[i] = value;
        while i > 1 {
            i /= 2;
            let m = self.tree[2 * i].min(self.tree[2 * i + 1]);
            if self.tree[i] == m {
                break;
            }
            self.tree[i] = m;
        }
    }

    /// The value of `id` (`u32::MAX` when absent).
    #[inline]
    pub fn value(&self, id: u32) -> u32 {
        self.tree
            .get(self.cap + id as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// The smallest value, `u32::MAX` when the tree is empty.
    #[inline]
    pub fn min(&self) -> u32 {
        self.tree[1]
    }

    /// The first id `>= start` whose value is `<= bound`, if any.
    fn first_at_most(&self, start: usize, bound: u32) -> Option<u32> {
        if start >= self.cap {
            return None;
        }
        // Walk up from the leaf; at each left child, try the right sibling's subtree.
        let mut i = self.cap + start;
        if self.tree[i] <= bound {
            return Some(start as u32);
        }
        loop {
            if i == 1 {
                return None;
            }
            if i % 2 == 0 && self.tree[i + 1] <= bound {
                i += 1;
                break;
            }
            i /= 2;
        }
        while i < self.cap {
            i = if self.tree[2 * i] <= bound {
                2 * i
            } else {
                2 * i + 1
            };
        }
        Some((i - self.cap) as u32)
    }

    /// The first id in the cyclic order `start, start+1, ..., wrap, ..., start-1` whose value
    /// is the minimum; `None` when every id is absent. O(log n).
    pub fn first_min_from(&self, start: u32) -> Option<u32> {
        let m = self.min();
        if m == u32::MAX {
            return None;
        }
        self.first_at_most(start as usize, m)
            .or_else(|| self.first_at_most(0, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_set_insert_remove_keep_positions_right() {
        let mut s = DenseSet::new();
        for i in 0..5 {
            assert!(s.insert(i));
        }
        assert!(!s.insert(3));
        assert_eq!(s.as_slice(), &[0, 1, 2, 3, 4]);
        assert!(s.remove(1));
        assert!(!s.remove(1));
        assert_eq!(s.as_slice(), &[0, 4, 2, 3]);
        assert!(s.contains(4) && !s.contains(1) && !s.contains(99));
        assert!(s.remove(3));
        assert!(s.insert(10));
        assert_eq!(s.as_slice(), &[0, 4, 2, 10]);
        for &x in s.as_slice() {
            assert!(s.contains(x));
        }
    }

    #[test]
    fn min_tree_matches_a_linear_scan() {
        // Random values and absences against the obvious O(n) cyclic scan.
        let mut next = crate::xorshift(7);
        let mut rnd = |m: u64| next() % m;
        let mut t = MinTree::new();
        let mut vals = vec![u32::MAX; 37];
        for _ in 0..5000 {
            let id = rnd(37) as usize;
            let v = if rnd(5) == 0 { u32::MAX } else { rnd(4) as u32 };
            t.set(id as u32, v);
            vals[id] = v;
            // Ids past the last are absent, so a start beyond them wraps to 0.
            let start = rnd(40) as u32;
            let from = if start as usize >= vals.len() {
                0
            } else {
                start as usize
            };
            let m = *vals.iter().min().unwrap();
            let want = (0..vals.len())
                .map(|k| (from + k) % vals.len())
                .find(|&i| m != u32::MAX && vals[i] == m)
                .map(|i| i as u32);
            let got = t.first_min_from(start);
            assert_eq!(got, want, "start {start}, values {vals:?}");
            assert_eq!(t.value(id as u32), v);
        }
    }
}

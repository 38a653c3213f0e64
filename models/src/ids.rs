//! Typed ids: a `u32` index per kind of thing, so a node id cannot be used as an instance
//! id by mistake. Each is stored as index + 1 in a `NonZeroU32`, so `Option<NodeId>` is
//! still four bytes (no sentinel values such as `u32::MAX`).

use std::fmt;
use std::num::NonZeroU32;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(NonZeroU32);

        impl $name {
            /// The id of the `i`-th item. Panics past `u32::MAX - 1` items, which the
            /// scenario bounds rule out.
            #[inline]
            pub fn new(i: usize) -> Self {
                let v = u32::try_from(i + 1).ok().and_then(NonZeroU32::new);
                $name(v.expect(concat!(stringify!($name), " out of range")))
            }
            /// The index this id names.
            #[inline]
            pub fn index(self) -> usize {
                (self.0.get() - 1) as usize
            }
            /// The id as a nonzero word (index + 1), for packing into an event.
            #[inline(always)]
            pub fn raw(self) -> u32 {
                self.0.get()
            }
            /// The id from [`Self::raw`]. Panics on 0, which `raw` never gives.
            #[inline(always)]
            pub fn from_raw(raw: u32) -> Self {
                $name(NonZeroU32::new(raw).expect(concat!(stringify!($name), " from raw 0")))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.index())
            }
        }
    };
}

id!(
    /// A node of the scenario (index into `Scenario::nodes`).
    NodeId
);
id!(
    /// An instance of a service pool (index into the pool's instances).
    InstanceId
);
id!(
    /// A link (index into `Scenario::links`).
    LinkId
);
id!(
    /// A request class (index into `Scenario::classes`).
    ClassId
);
id!(
    /// A source (index into `Scenario::sources`).
    SourceId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_options_stay_small() {
        assert_eq!(NodeId::new(0).index(), 0);
        assert_eq!(LinkId::new(41).index(), 41);
        assert_eq!(std::mem::size_of::<Option<NodeId>>(), 4);
        assert_eq!(format!("{:?}", ClassId::new(3)), "ClassId(3)");
    }
}

//! [`SmallSet`]: an ordered set kept as one sorted slice, for the few items a user holds.
//!
//! A `BTreeSet` allocates a whole node of eleven slots for its first item: 544 bytes (jemalloc
//! rounds them to 640) for one role assignment, more than the rest of a user together. A tenant
//! of 100,000 users, each with one role, held 64 MB of such nodes. A sorted boxed slice holds
//! exactly its items (and is 16 bytes inline, not a vector's 24); lookups are a binary search,
//! and a change reallocates the few items, which for a user's roles and memberships is cheap.
//! BENCHMARKS.md, "A user's sets as sorted slices", has the measurement.
//!
//! It iterates in order, compares and serializes as a `BTreeSet` does (a sequence in order),
//! so stored snapshots read the same either way; what it reads is sorted and deduplicated, as
//! a `BTreeSet` would be.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ordered set of a few items, stored as a sorted slice without duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SmallSet<T>(Box<[T]>);

impl<T> SmallSet<T> {
    /// The empty set (allocates nothing).
    pub fn new() -> Self {
        Self(Box::default())
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// Changes the items as a vector, then holds exactly what is left.
    fn change<R>(&mut self, change: impl FnOnce(&mut Vec<T>) -> R) -> R {
        let mut items = std::mem::take(&mut self.0).into_vec();
        let result = change(&mut items);
        self.0 = items.into_boxed_slice();
        result
    }
}

impl<T: Ord> SmallSet<T> {
    /// Adds `item`; false when it was already there.
    pub fn insert(&mut self, item: T) -> bool {
        match self.0.binary_search(&item) {
            Ok(_) => false,
            Err(at) => self.change(|items| {
                // Exactly one more slot, so that boxing the vector again does not reallocate.
                items.reserve_exact(1);
                items.insert(at, item);
                true
            }),
        }
    }

    /// Removes `item`; false when it was not there.
    pub fn remove(&mut self, item: &T) -> bool {
        match self.0.binary_search(item) {
            Ok(at) => self.change(|items| {
                items.remove(at);
                true
            }),
            Err(_) => false,
        }
    }

    /// Whether `item` is in the set.
    pub fn contains(&self, item: &T) -> bool {
        self.0.binary_search(item).is_ok()
    }
}

impl<T> Default for SmallSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Ord> FromIterator<T> for SmallSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut items: Vec<T> = items.into_iter().collect();
        items.sort_unstable();
        items.dedup();
        Self(items.into_boxed_slice())
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for SmallSet<T> {
    fn from(items: [T; N]) -> Self {
        Self::from_iter(items)
    }
}

impl<'a, T> IntoIterator for &'a SmallSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> IntoIterator for SmallSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_vec().into_iter()
    }
}

impl<T: Serialize> Serialize for SmallSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Ord + Deserialize<'de>> Deserialize<'de> for SmallSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Self::from_iter)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::SmallSet;

    #[test]
    fn insert_keeps_order_and_refuses_duplicates() {
        let mut set = SmallSet::new();
        assert!(set.insert(3));
        assert!(set.insert(1));
        assert!(!set.insert(3));
        assert!(set.insert(2));
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(set.remove(&2));
        assert!(!set.remove(&2));
        assert!(set.contains(&1) && !set.contains(&2));
    }

    #[test]
    fn it_is_smaller_inline_than_a_vector_or_a_btree_set() {
        assert_eq!(size_of::<SmallSet<u64>>(), 16);
        assert!(size_of::<SmallSet<u64>>() < size_of::<Vec<u64>>());
        assert!(size_of::<SmallSet<u64>>() < size_of::<BTreeSet<u64>>());
    }

    #[test]
    fn it_reads_what_a_btree_set_wrote_and_normalizes_what_it_reads() {
        let tree: BTreeSet<u32> = [5, 1, 3].into();
        let bytes = bincode::serde::encode_to_vec(&tree, bincode::config::standard()).unwrap();
        let (set, _): (SmallSet<u32>, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [1, 3, 5]);
        let set: SmallSet<u32> = serde_json::from_str("[4, 2, 4, 1]").unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), "[1,2,4]");
    }

    proptest! {
        /// Any sequence of inserts and removes leaves what a `BTreeSet` would hold, in its order.
        #[test]
        fn it_behaves_as_a_btree_set(ops in prop::collection::vec((any::<bool>(), 0u8..16), 0..64)) {
            let mut set = SmallSet::new();
            let mut tree = BTreeSet::new();
            for (add, item) in ops {
                if add {
                    prop_assert_eq!(set.insert(item), tree.insert(item));
                } else {
                    prop_assert_eq!(set.remove(&item), tree.remove(&item));
                }
                prop_assert_eq!(set.contains(&item), tree.contains(&item));
            }
            prop_assert_eq!(set.len(), tree.len());
            prop_assert!(set.iter().eq(tree.iter()));
            let bytes = serde_json::to_vec(&set).unwrap();
            prop_assert_eq!(bytes, serde_json::to_vec(&tree).unwrap());
        }
    }
}

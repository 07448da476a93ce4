//! Id lists and the keyed table that every exact-match family uses.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use crate::indicator::IndicatorId;

/// The indicators that share one key. Almost every key has exactly one,
/// so that case needs no allocation.
#[derive(Clone, Debug)]
pub(crate) enum IdList {
    One(IndicatorId),
    Many(Box<[IndicatorId]>),
}

impl IdList {
    pub(crate) fn as_slice(&self) -> &[IndicatorId] {
        match self {
            IdList::One(id) => std::slice::from_ref(id),
            IdList::Many(ids) => ids,
        }
    }

    /// Adds an id; ids arrive in increasing order, so lists stay sorted.
    pub(crate) fn push(&mut self, id: IndicatorId) {
        let mut v = self.as_slice().to_vec();
        v.push(id);
        *self = IdList::Many(v.into_boxed_slice());
    }
}

type Hasher = foldhash::fast::RandomState;

/// An exact-match table: key to ids.
///
/// The map's value is one id (4 bytes, for almost every key) or, with the
/// top bit set, the index of a list in `many`. With an enum of either
/// (24 bytes) the tables of a million indicators were ~25 MB larger.
#[derive(Clone, Debug)]
pub(crate) struct KeyedTable<K> {
    map: HashMap<K, IndicatorId, Hasher>,
    many: Vec<Vec<IndicatorId>>,
}

/// Marks a map value that indexes `many`. Ids stay below it (the builder
/// refuses sets that large).
pub(crate) const MANY: u32 = 1 << 31;

impl<K> Default for KeyedTable<K> {
    fn default() -> Self {
        KeyedTable { map: HashMap::default(), many: Vec::new() }
    }
}

impl<K: Hash + Eq> KeyedTable<K> {
    pub(crate) fn insert(&mut self, key: K, id: IndicatorId) {
        debug_assert!(id.0 < MANY);
        match self.map.entry(key) {
            Entry::Vacant(e) => {
                e.insert(id);
            }
            Entry::Occupied(mut e) => {
                let v = e.get_mut();
                if v.0 & MANY == 0 {
                    let at = self.many.len() as u32;
                    self.many.push(vec![*v, id]);
                    *v = IndicatorId(at | MANY);
                } else {
                    self.many[(v.0 & !MANY) as usize].push(id);
                }
            }
        }
    }

    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> &[IndicatorId]
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.map.get(key) {
            None => &[],
            Some(id) if id.0 & MANY == 0 => std::slice::from_ref(id),
            Some(id) => &self.many[(id.0 & !MANY) as usize],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// A table sized for `n` keys, so building it never rehashes.
    pub(crate) fn with_capacity(n: usize) -> Self {
        KeyedTable {
            map: HashMap::with_capacity_and_hasher(n, Hasher::default()),
            many: Vec::new(),
        }
    }
}

//! Id lists and the keyed table that every exact-match family uses.

use std::borrow::Borrow;
use std::collections::HashMap;
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
#[derive(Clone, Debug)]
pub(crate) struct KeyedTable<K> {
    map: HashMap<K, IdList, Hasher>,
}

impl<K> Default for KeyedTable<K> {
    fn default() -> Self {
        KeyedTable { map: HashMap::default() }
    }
}

impl<K: Hash + Eq> KeyedTable<K> {
    pub(crate) fn insert(&mut self, key: K, id: IndicatorId) {
        match self.map.get_mut(&key) {
            Some(list) => list.push(id),
            None => {
                self.map.insert(key, IdList::One(id));
            }
        }
    }

    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> &[IndicatorId]
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map_or(&[], IdList::as_slice)
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// A table sized for `n` keys, so building it never rehashes.
    pub(crate) fn with_capacity(n: usize) -> Self {
        KeyedTable {
            map: HashMap::with_capacity_and_hasher(n, Hasher::default()),
        }
    }
}

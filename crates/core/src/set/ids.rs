//! Id lists and the keyed table that every exact-match family uses.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

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

/// An exact-match table keyed by the indicators' own values: it stores
/// ids only and compares through the values the set already holds. For
/// domains that saves a copy of every name and 12 bytes a slot (~16 MB at
/// 250k domains) over a [`KeyedTable`] of strings.
#[derive(Clone, Debug, Default)]
pub(crate) struct ValueTable {
    /// An id, or one whose top bit is set: an index into `many`.
    index: HashTable<IndicatorId>,
    many: Vec<Vec<IndicatorId>>,
    hasher: Hasher,
}

/// The first id under a slot.
fn first_id(many: &[Vec<IndicatorId>], slot: IndicatorId) -> IndicatorId {
    if slot.0 & MANY == 0 { slot } else { many[(slot.0 & !MANY) as usize][0] }
}

impl ValueTable {
    pub(crate) fn with_capacity(n: usize) -> Self {
        ValueTable { index: HashTable::with_capacity(n), ..Self::default() }
    }

    /// Adds `id`, whose value is `value`; `value_of` gives the value of
    /// any id added before.
    pub(crate) fn insert<'v>(
        &mut self,
        id: IndicatorId,
        value: &str,
        value_of: impl Fn(IndicatorId) -> &'v str,
    ) {
        debug_assert!(id.0 < MANY);
        let h = self.hasher.hash_one(value);
        let ValueTable { index, many, hasher } = self;
        let same = |s: &IndicatorId| value_of(first_id(many, *s)) == value;
        match index.find_mut(h, same) {
            Some(slot) if slot.0 & MANY != 0 => {
                many[(slot.0 & !MANY) as usize].push(id);
            }
            Some(slot) => {
                let at = many.len() as u32;
                many.push(vec![*slot, id]);
                *slot = IndicatorId(at | MANY);
            }
            None => {
                index.insert_unique(h, id, |s| {
                    hasher.hash_one(value_of(first_id(many, *s)))
                });
            }
        }
    }

    /// The ids whose value is `key`.
    #[inline]
    pub(crate) fn get<'v>(
        &self,
        key: &str,
        value_of: impl Fn(IndicatorId) -> &'v str,
    ) -> &[IndicatorId] {
        let h = self.hasher.hash_one(key);
        let same = |s: &IndicatorId| value_of(first_id(&self.many, *s)) == key;
        match self.index.find(h, same) {
            None => &[],
            Some(s) if s.0 & MANY == 0 => std::slice::from_ref(s),
            Some(s) => &self.many[(s.0 & !MANY) as usize],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

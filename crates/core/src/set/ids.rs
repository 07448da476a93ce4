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

/// A bitmap of digest prefixes in front of a hash table. Almost every
/// digest replay looks up is not listed; for those the bitmap answers
/// from its first few hex digits, without decoding the rest, hashing or
/// probing the table (those were most of the cost of a lookup). It may
/// say "maybe" for a digest that is not listed, never "no" for one that
/// is.
#[derive(Clone, Debug)]
pub(crate) struct DigestFilter {
    words: Box<[u64]>,
    /// log2 of the number of bits: about 16 per digest, so one in ~16
    /// unlisted digests gets past it.
    bits: u32,
}

impl DigestFilter {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let size = (n.max(1) * 16).next_power_of_two().clamp(1 << 12, 1 << 24);
        DigestFilter {
            words: vec![0; size / 64].into_boxed_slice(),
            bits: size.trailing_zeros(),
        }
    }

    /// Marks a digest (at least 8 bytes).
    pub(crate) fn insert(&mut self, digest: &[u8]) {
        let top = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let i = (top >> (64 - self.bits)) as usize;
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// False only when no digest with this hex text's prefix was marked.
    /// Text that is not hex gets "maybe": the full lookup refuses it.
    #[inline]
    pub(crate) fn may_contain_hex(&self, hex: &[u8]) -> bool {
        let digits = self.bits.div_ceil(4) as usize;
        let Some(prefix) = hex.get(..digits) else { return true };
        let (mut v, mut bad) = (0u64, 0u8);
        for &c in prefix {
            let n = crate::value::hex::nibble(c);
            bad |= n;
            v = (v << 4) | u64::from(n & 0x0f);
        }
        if bad & 0x10 != 0 {
            return true;
        }
        let i = (v >> (4 * digits as u32 - self.bits)) as usize;
        self.words[i / 64] & (1 << (i % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::hex;

    #[test]
    fn digest_filter_never_says_no_to_a_marked_digest() {
        let mut f = DigestFilter::with_capacity(3);
        let marked = [
            "00112233445566778899aabbccddeeff",
            "FFEEDDCCBBAA99887766554433221100",
        ];
        for m in marked {
            f.insert(&hex::decode::<16>(m.as_bytes()).unwrap());
            assert!(f.may_contain_hex(m.as_bytes()));
            assert!(f.may_contain_hex(m.to_ascii_lowercase().as_bytes()));
        }
        // Not hex, or too short: the full lookup decides.
        assert!(f.may_contain_hex(b"zz112233445566778899aabbccddeeff"));
        assert!(f.may_contain_hex(b"0"));
        // An unmarked prefix is turned away.
        let refused = (0..256u32)
            .filter(|i| {
                !f.may_contain_hex(
                    format!("{i:02x}{}", "0".repeat(30)).as_bytes(),
                )
            })
            .count();
        assert!(refused >= 250, "{refused}");
    }
}

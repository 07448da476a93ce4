//! URL indicators: found by exact host, then by the path prefixes of the
//! observed path that end at a segment boundary.
//!
//! One flat table holds every (host, path) and (host, path and query)
//! key. A nested map per host cost ~300 bytes a URL (a map per host, a
//! vector per path, a copy of the scheme per entry); this costs ~100.
//! Keys are probed piecewise, so a lookup allocates nothing, and a set of
//! host hashes turns away the hosts no URL indicator names before any
//! path is probed.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher as _};

use hashbrown::HashTable;

use crate::indicator::IndicatorId;
use crate::value::url::{Url, default_port};

type Hasher = foldhash::fast::RandomState;

/// Separates host and path in a stored key; host names never hold it.
const SEP: char = '\0';

/// One URL indicator under its key.
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: IndicatorId,
    /// Explicit port, else the scheme's default.
    port: Option<u16>,
    /// 0 for none, else 1 + an index into [`UrlTable::schemes`].
    scheme: u32,
}

/// A key and the indicators listed under it (almost always one).
#[derive(Clone, Debug)]
struct Keyed {
    /// `host SEP path`, or `host SEP path ? query`.
    key: Box<str>,
    entries: Entries,
}

#[derive(Clone, Debug)]
enum Entries {
    One(Entry),
    Many(Vec<Entry>),
}

impl Entries {
    fn as_slice(&self) -> &[Entry] {
        match self {
            Entries::One(e) => std::slice::from_ref(e),
            Entries::Many(v) => v,
        }
    }

    fn push(&mut self, e: Entry) {
        match self {
            Entries::One(first) => *self = Entries::Many(vec![*first, e]),
            Entries::Many(v) => v.push(e),
        }
    }
}

/// The compiled URL family.
#[derive(Clone, Debug, Default)]
pub(crate) struct UrlTable {
    keyed: Vec<Keyed>,
    /// Positions in `keyed`, by key hash.
    index: HashTable<u32>,
    /// Hashes of every host with a URL indicator.
    hosts: HashSet<u64, foldhash::fast::FixedState>,
    /// Distinct schemes (a handful), so entries need no string each.
    schemes: Vec<Box<str>>,
    hasher: Hasher,
    len: usize,
}

/// The parts of a key.
#[derive(Clone, Copy)]
struct Parts<'a> {
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn of(key: &'a str) -> Parts<'a> {
        let (host, rest) = key.split_once(SEP).expect("stored keys have SEP");
        // Paths hold no '?' (a URL's query starts at its first one).
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        Parts { host, path, query }
    }

    fn matches(&self, key: &str) -> bool {
        let Some(rest) = key.strip_prefix(self.host) else { return false };
        let Some(rest) = rest.strip_prefix(SEP) else { return false };
        let Some(rest) = rest.strip_prefix(self.path) else { return false };
        match self.query {
            None => rest.is_empty(),
            Some(q) => rest.strip_prefix('?') == Some(q),
        }
    }
}

/// The hash of a key, fed piece by piece so that probing needs no joined
/// copy of host and path.
fn key_hash(hasher: &Hasher, p: Parts<'_>) -> u64 {
    let mut h = hasher.build_hasher();
    h.write(p.host.as_bytes());
    h.write_u8(0);
    h.write(p.path.as_bytes());
    if let Some(q) = p.query {
        h.write_u8(b'?');
        h.write(q.as_bytes());
    }
    h.finish()
}

impl UrlTable {
    fn host_hash(host: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0).hash_one(host)
    }

    fn scheme_index(&mut self, scheme: Option<&str>) -> u32 {
        let Some(s) = scheme else { return 0 };
        let at = match self.schemes.iter().position(|k| **k == *s) {
            Some(at) => at,
            None => {
                self.schemes.push(s.into());
                self.schemes.len() - 1
            }
        };
        at as u32 + 1
    }

    /// Adds a normalised URL indicator.
    pub(crate) fn insert(&mut self, url: &Url<'_>, id: IndicatorId) {
        let host = url.host_text();
        let entry = Entry {
            id,
            scheme: self.scheme_index(url.scheme.as_deref()),
            port: url
                .port
                .or_else(|| url.scheme.as_deref().and_then(default_port)),
        };
        let parts = Parts {
            host: &host,
            path: url.match_path(),
            query: url.query.as_deref(),
        };
        let h = key_hash(&self.hasher, parts);
        self.hosts.insert(Self::host_hash(&host));
        self.len += 1;
        let keyed = &self.keyed;
        if let Some(&at) =
            self.index.find(h, |&i| parts.matches(&keyed[i as usize].key))
        {
            self.keyed[at as usize].entries.push(entry);
            return;
        }
        let mut key = String::with_capacity(host.len() + 1 + parts.path.len());
        key.push_str(&host);
        key.push(SEP);
        key.push_str(parts.path);
        if let Some(q) = parts.query {
            key.push('?');
            key.push_str(q);
        }
        let at = self.keyed.len() as u32;
        self.keyed.push(Keyed {
            key: key.into_boxed_str(),
            entries: Entries::One(entry),
        });
        let (keyed, hasher) = (&self.keyed, &self.hasher);
        self.index.insert_unique(h, at, |&i| {
            key_hash(hasher, Parts::of(&keyed[i as usize].key))
        });
    }

    fn get(&self, parts: Parts<'_>) -> &[Entry] {
        let h = key_hash(&self.hasher, parts);
        match self
            .index
            .find(h, |&i| parts.matches(&self.keyed[i as usize].key))
        {
            Some(&i) => self.keyed[i as usize].entries.as_slice(),
            None => &[],
        }
    }

    /// Same scheme when both have one; same port when both know it.
    fn accepts(&self, e: &Entry, url: &Url<'_>, port: Option<u16>) -> bool {
        let scheme_ok = match (e.scheme, &url.scheme) {
            (0, _) | (_, None) => true,
            (i, Some(b)) => *self.schemes[i as usize - 1] == **b,
        };
        let port_ok = match (e.port, port) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        scheme_ok && port_ok
    }

    /// Appends the ids of every URL indicator that matches `url`.
    pub(crate) fn find(
        &self,
        url: &Url<'_>,
        host: &str,
        out: &mut Vec<IndicatorId>,
    ) {
        if !self.hosts.contains(&Self::host_hash(host)) {
            return;
        }
        let port = url.effective_port();
        let mut take = |path: &str, query: Option<&str>| {
            for e in self.get(Parts { host, path, query }) {
                if self.accepts(e, url, port) {
                    out.push(e.id);
                }
            }
        };
        let path = url.match_path();
        if let Some(q) = &url.query {
            take(path, Some(q));
        }
        for (i, _) in path.match_indices('/') {
            if i > 0 {
                take(&path[..i], None);
            }
            take(&path[..=i], None);
        }
        if !path.ends_with('/') {
            take(path, None);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

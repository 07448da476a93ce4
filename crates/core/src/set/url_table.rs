//! URL indicators: found by exact host, then by the path prefixes of the
//! observed path that end at a segment boundary.

use std::collections::HashMap;

use crate::indicator::IndicatorId;
use crate::value::url::{Url, default_port};

type Hasher = foldhash::fast::RandomState;

/// One URL indicator under its host and path.
#[derive(Clone, Debug)]
struct Entry {
    id: IndicatorId,
    scheme: Option<Box<str>>,
    /// Explicit port, else the scheme's default.
    port: Option<u16>,
}

impl Entry {
    /// Same scheme when both have one; same port when both know it.
    fn accepts(&self, url: &Url<'_>, port: Option<u16>) -> bool {
        let scheme_ok = match (&self.scheme, &url.scheme) {
            (Some(a), Some(b)) => **a == **b,
            _ => true,
        };
        let port_ok = match (self.port, port) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        scheme_ok && port_ok
    }
}

#[derive(Clone, Debug, Default)]
struct HostUrls {
    /// Indicators without a query, by path.
    by_path: HashMap<Box<str>, Vec<Entry>, Hasher>,
    /// Indicators with a query, by `path?query`; they match only exactly.
    by_path_query: HashMap<Box<str>, Vec<Entry>, Hasher>,
}

/// The compiled URL family.
#[derive(Clone, Debug, Default)]
pub(crate) struct UrlTable {
    hosts: HashMap<Box<str>, HostUrls, Hasher>,
    len: usize,
}

impl UrlTable {
    /// Adds a normalised URL indicator.
    pub(crate) fn insert(&mut self, url: &Url<'_>, id: IndicatorId) {
        let host = self.hosts.entry(url.host_text().into()).or_default();
        let entry = Entry {
            id,
            scheme: url.scheme.as_deref().map(Into::into),
            port: url
                .port
                .or_else(|| url.scheme.as_deref().and_then(default_port)),
        };
        let (map, key) = match &url.query {
            Some(q) => (
                &mut host.by_path_query,
                format!("{}?{}", url.match_path(), q),
            ),
            None => (&mut host.by_path, url.match_path().to_owned()),
        };
        map.entry(key.into()).or_default().push(entry);
        self.len += 1;
    }

    /// Appends the ids of every URL indicator that matches `url`.
    pub(crate) fn find(
        &self,
        url: &Url<'_>,
        host: &str,
        out: &mut Vec<IndicatorId>,
    ) {
        let Some(h) = self.hosts.get(host) else { return };
        let port = url.effective_port();
        let mut take = |entries: Option<&Vec<Entry>>| {
            for e in entries.into_iter().flatten() {
                if e.accepts(url, port) {
                    out.push(e.id);
                }
            }
        };
        let path = url.match_path();
        if let Some(q) = &url.query
            && !h.by_path_query.is_empty()
        {
            take(h.by_path_query.get(format!("{path}?{q}").as_str()));
        }
        if h.by_path.is_empty() {
            return;
        }
        for (i, _) in path.match_indices('/') {
            if i > 0 {
                take(h.by_path.get(&path[..i]));
            }
            take(h.by_path.get(&path[..=i]));
        }
        if !path.ends_with('/') {
            take(h.by_path.get(path));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

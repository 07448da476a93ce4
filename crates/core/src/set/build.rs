//! Compiling indicators into an [`IndicatorSet`].

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use std::net::IpAddr;

use super::{
    IndicatorSet,
    cidr::CidrTable,
    ids::{DigestFilter, KeyedTable, ValueTable},
    precedence,
    url_table::UrlTable,
};
use crate::indicator::{Indicator, IndicatorId, Source};
use crate::kind::{Action, IndicatorType};
use crate::value::{hex, ip::Cidr, url::Url};

/// Ids must stay below the flag bit of the keyed tables.
const MAX_INDICATORS: usize = super::ids::MANY as usize;

/// An exact duplicate (same type, value and action) merged into the
/// indicator listed first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The indicator that was kept.
    pub kept: IndicatorId,
    /// Where the dropped copy was listed.
    pub source: Source,
}

/// One value listed with different actions. All of them are kept;
/// precedence decides which is effective.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The type.
    pub indicator_type: IndicatorType,
    /// The normalised value.
    pub value: Box<str>,
    /// The indicators, in set order.
    pub ids: Vec<IndicatorId>,
    /// Their actions, in the same order.
    pub actions: Vec<Action>,
}

/// Why a set could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum BuildErrorKind {
    TooMany(usize),
    BadValue { source: Source, value: Box<str> },
}

impl BuildError {
    /// Where the offending indicator came from, if one is to blame.
    pub fn source(&self) -> Option<&Source> {
        match &self.kind {
            BuildErrorKind::BadValue { source, .. } => Some(source),
            BuildErrorKind::TooMany(_) => None,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::TooMany(n) => {
                write!(
                    f,
                    "{n} indicators is more than a set can hold ({})",
                    MAX_INDICATORS - 1
                )
            }
            BuildErrorKind::BadValue { source, value } => write!(
                f,
                "{source}: '{value}' is not in normal form (build indicators through a loader or IndicatorDraft)"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds [`IndicatorSet`]s. Reusable: `build` takes `&self`.
#[derive(Clone, Debug, Default)]
pub struct IndicatorSetBuilder {
    merge_duplicates: Option<bool>,
}

impl IndicatorSetBuilder {
    /// A builder with the defaults (duplicates merged).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether exact duplicates merge into the first (default true).
    pub fn merge_duplicates(&mut self, yes: bool) -> &mut Self {
        self.merge_duplicates = Some(yes);
        self
    }

    /// Compiles the indicators. Ids follow the input order, after exact
    /// duplicates are merged.
    ///
    /// # Errors
    ///
    /// When there are more than 2^31 - 1 indicators, or a value is not
    /// in the normal form the loaders produce.
    pub fn build(
        &self,
        indicators: Vec<Indicator>,
    ) -> Result<IndicatorSet, BuildError> {
        if indicators.len() >= MAX_INDICATORS {
            return Err(BuildError {
                kind: BuildErrorKind::TooMany(indicators.len()),
            });
        }
        let (indicators, merged, conflicts) =
            if self.merge_duplicates.unwrap_or(true) {
                dedupe(indicators)
            } else {
                (indicators, Vec::new(), Vec::new())
            };
        let mut counts = [0usize; IndicatorType::ALL.len()];
        for i in &indicators {
            counts[i.indicator_type() as usize] += 1;
        }
        // The two families share nothing but the (read-only) indicators,
        // so they are built side by side.
        let (files, networks) = rayon::join(
            || FileTables::build(&indicators, &counts),
            || NetworkTables::build(&indicators, &counts),
        );
        let bad = match (files, networks) {
            (Ok(f), Ok(n)) => {
                return Ok(IndicatorSet {
                    rank: indicators.iter().map(precedence::rank).collect(),
                    indicators,
                    files: f,
                    networks: n,
                    merged,
                    conflicts,
                });
            }
            (Err(a), Err(b)) => a.min(b),
            (Err(a), _) | (_, Err(a)) => a,
        };
        let ind = &indicators[bad];
        Err(BuildError {
            kind: BuildErrorKind::BadValue {
                source: ind.source().clone(),
                value: ind.value().into(),
            },
        })
    }
}

/// The hash families: file digests and certificate thumbprints.
#[derive(Clone, Debug)]
pub(crate) struct FileTables {
    pub(crate) md5: KeyedTable<[u8; 16]>,
    pub(crate) sha1: KeyedTable<[u8; 20]>,
    pub(crate) sha256: KeyedTable<[u8; 32]>,
    /// Prefilters of the three file hash tables, in that order.
    pub(crate) filters: [DigestFilter; 3],
    pub(crate) cert_sha1: KeyedTable<[u8; 20]>,
    pub(crate) cert_sha256: KeyedTable<[u8; 32]>,
}

/// The network families: addresses, networks, domains and URLs.
#[derive(Clone, Debug)]
pub(crate) struct NetworkTables {
    pub(crate) exact_v4: KeyedTable<u32>,
    pub(crate) exact_v6: KeyedTable<u128>,
    pub(crate) cidr_v4: CidrTable<u32>,
    pub(crate) cidr_v6: CidrTable<u128>,
    pub(crate) domains: ValueTable,
    pub(crate) urls: UrlTable,
}

/// Indicators of `ty`, with their ids.
fn of_type(
    all: &[Indicator],
    ty: impl Fn(IndicatorType) -> bool,
) -> impl Iterator<Item = (IndicatorId, &Indicator)> {
    all.iter()
        .enumerate()
        .filter(move |(_, i)| ty(i.indicator_type()))
        .map(|(n, i)| (IndicatorId(n as u32), i))
}

impl FileTables {
    /// Files every digest; `Err` names the first indicator whose value is
    /// not in normal form.
    fn build(all: &[Indicator], counts: &[usize]) -> Result<Self, usize> {
        let n = |t: IndicatorType| counts[t as usize];
        let mut t = FileTables {
            md5: KeyedTable::with_capacity(n(IndicatorType::FileMd5)),
            sha1: KeyedTable::with_capacity(n(IndicatorType::FileSha1)),
            sha256: KeyedTable::with_capacity(n(IndicatorType::FileSha256)),
            filters: [
                IndicatorType::FileMd5,
                IndicatorType::FileSha1,
                IndicatorType::FileSha256,
            ]
            .map(|ty| DigestFilter::with_capacity(n(ty))),
            cert_sha1: KeyedTable::default(),
            cert_sha256: KeyedTable::default(),
        };
        for (id, ind) in of_type(all, |t| !t.is_network()) {
            let v = ind.value().as_bytes();
            let bad = || id.index();
            match ind.indicator_type() {
                IndicatorType::FileMd5 => {
                    let d: [u8; 16] = hex::decode(v).ok_or_else(bad)?;
                    t.filters[0].insert(&d);
                    t.md5.insert(d, id)
                }
                IndicatorType::FileSha1 => {
                    let d: [u8; 20] = hex::decode(v).ok_or_else(bad)?;
                    t.filters[1].insert(&d);
                    t.sha1.insert(d, id)
                }
                IndicatorType::FileSha256 => {
                    let d: [u8; 32] = hex::decode(v).ok_or_else(bad)?;
                    t.filters[2].insert(&d);
                    t.sha256.insert(d, id)
                }
                IndicatorType::CertificateThumbprint if v.len() == 40 => {
                    t.cert_sha1.insert(hex::decode(v).ok_or_else(bad)?, id)
                }
                _ => t.cert_sha256.insert(hex::decode(v).ok_or_else(bad)?, id),
            }
        }
        Ok(t)
    }
}

impl NetworkTables {
    /// Files every network indicator; `Err` as [`FileTables::build`].
    fn build(all: &[Indicator], counts: &[usize]) -> Result<Self, usize> {
        let n = |t: IndicatorType| counts[t as usize];
        let mut t = NetworkTables {
            exact_v4: KeyedTable::with_capacity(n(IndicatorType::IpAddress)),
            exact_v6: KeyedTable::default(),
            cidr_v4: CidrTable::build(Vec::new()),
            cidr_v6: CidrTable::build(Vec::new()),
            domains: ValueTable::with_capacity(n(IndicatorType::DomainName)),
            urls: UrlTable::default(),
        };
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (id, ind) in of_type(all, IndicatorType::is_network) {
            let at = id.index();
            match ind.indicator_type() {
                IndicatorType::IpAddress if ind.value().contains('/') => {
                    let c = Cidr::parse(ind.value()).map_err(|_| at)?;
                    match c.addr {
                        IpAddr::V4(a) => v4.push((u32::from(a), c.prefix, id)),
                        IpAddr::V6(a) => {
                            v6.push((u128::from(a), c.prefix, id))
                        }
                    }
                }
                IndicatorType::IpAddress => {
                    match ind.value().parse::<IpAddr>().map_err(|_| at)? {
                        IpAddr::V4(a) => t.exact_v4.insert(u32::from(a), id),
                        IpAddr::V6(a) => t.exact_v6.insert(u128::from(a), id),
                    }
                }
                IndicatorType::DomainName => {
                    let value_of = |id: IndicatorId| all[id.index()].value();
                    t.domains.insert(id, ind.value(), value_of)
                }
                _ => t
                    .urls
                    .insert(&Url::parse(ind.value()).map_err(|_| at)?, id),
            }
        }
        t.cidr_v4 = CidrTable::build(v4);
        t.cidr_v6 = CidrTable::build(v6);
        Ok(t)
    }
}

/// Drops exact duplicates (type, value, action), keeping the first, and
/// finds values listed with different actions, in one pass.
///
/// The table holds only the position of each value's first listing (4
/// bytes a slot, the value itself is read from `indicators`): at a
/// million indicators a map keyed by the values took ~80 MB, the
/// largest thing alive while the set was built.
fn dedupe(
    mut indicators: Vec<Indicator>,
) -> (Vec<Indicator>, Vec<Merged>, Vec<Conflict>) {
    let hasher = foldhash::fast::RandomState::default();
    let hash =
        |i: &Indicator| hasher.hash_one((i.indicator_type(), i.value()));
    let mut first: HashTable<u32> = HashTable::with_capacity(indicators.len());
    // Values listed more than once (rare): their first listing, then one
    // (action, position) per distinct action, in order.
    let mut listed: HashMap<u32, Vec<(Action, u32)>> = HashMap::new();
    let mut keep = vec![true; indicators.len()];
    let mut merged_at = Vec::new();
    for (i, ind) in indicators.iter().enumerate() {
        let h = hash(ind);
        let same = |&j: &u32| {
            let other = &indicators[j as usize];
            other.indicator_type() == ind.indicator_type()
                && other.value() == ind.value()
        };
        let Some(&j) = first.find(h, same) else {
            first.insert_unique(h, i as u32, |&j| {
                hash(&indicators[j as usize])
            });
            continue;
        };
        let entries = listed
            .entry(j)
            .or_insert_with(|| vec![(indicators[j as usize].action(), j)]);
        match entries.iter().find(|(a, _)| *a == ind.action()) {
            Some(&(_, kept)) => {
                keep[i] = false;
                merged_at.push((kept, i));
            }
            None => entries.push((ind.action(), i as u32)),
        }
    }
    drop(first);
    // New ids: positions among the indicators kept.
    let mut new_id = Vec::with_capacity(indicators.len());
    let mut next = 0u32;
    for &k in &keep {
        new_id.push(next);
        next += u32::from(k);
    }
    let id = |pos: u32| IndicatorId(new_id[pos as usize]);
    let mut conflicts: Vec<Conflict> = listed
        .into_values()
        .filter(|v| v.len() > 1)
        .map(|v| {
            let at = &indicators[v[0].1 as usize];
            Conflict {
                indicator_type: at.indicator_type(),
                value: at.value().into(),
                actions: v.iter().map(|e| e.0).collect(),
                ids: v.iter().map(|e| id(e.1)).collect(),
            }
        })
        .collect();
    conflicts.sort_by_key(|c| c.ids[0]);
    let merged = merged_at
        .into_iter()
        .map(|(k, i)| Merged {
            kept: id(k),
            source: indicators[i].source().clone(),
        })
        .collect();
    // In place: a second vector would hold the whole set twice.
    let mut at = 0;
    indicators.retain(|_| {
        at += 1;
        keep[at - 1]
    });
    (indicators, merged, conflicts)
}

//! The compiled indicator set: one structure per family, ids into a side
//! table of metadata, and precedence decided once for every caller.

mod build;
mod cidr;
mod ids;
mod precedence;
mod url_table;

use std::net::IpAddr;

pub use build::{BuildError, Conflict, IndicatorSetBuilder, Merged};

use crate::indicator::{Indicator, IndicatorId};
use crate::kind::IndicatorType;
use crate::value::hex;
use crate::value::url::{Host, Url};
use build::{FileTables, NetworkTables};

/// The kind of a file hash column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// MD5 (32 hex digits).
    Md5,
    /// SHA-1 (40 hex digits).
    Sha1,
    /// SHA-256 (64 hex digits).
    Sha256,
}

/// A compiled, immutable set of indicators.
///
/// Lookups never allocate (but for the caller's output vector) and do not
/// slow down as the set grows: hash tables keyed by digest bytes, a CIDR
/// segment table, label-suffix probes for domains and host-then-path
/// probes for URLs.
///
/// ```
/// use iocmatch_core::{IndicatorSet, load::{load_bytes, Format, LoadOptions}};
/// use std::sync::Arc;
///
/// let text = b"evil.com\n203.0.113.0/24\n";
/// let loaded = load_bytes(&Arc::from("list.txt"), text, Format::Text,
///     &LoadOptions::default())?;
/// let set = IndicatorSet::new(loaded.indicators)?;
/// let mut hits = Vec::new();
/// set.match_network_text("https://a.evil.com/x", &mut hits)?;
/// assert_eq!(hits.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IndicatorSet {
    indicators: Vec<Indicator>,
    /// Precedence rank per id; see `precedence.rs`.
    rank: Vec<u32>,
    files: FileTables,
    networks: NetworkTables,
    merged: Vec<Merged>,
    conflicts: Vec<Conflict>,
}

/// Sizes of the compiled structures, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilySizes {
    /// Distinct file hashes (all kinds).
    pub hashes: usize,
    /// Distinct certificate thumbprints.
    pub certificates: usize,
    /// Distinct exact IP addresses.
    pub addresses: usize,
    /// Distinct CIDR networks.
    pub networks: usize,
    /// Distinct domains.
    pub domains: usize,
    /// URL indicators.
    pub urls: usize,
}

impl IndicatorSet {
    /// Compiles indicators with the default builder.
    ///
    /// # Errors
    ///
    /// See [`IndicatorSetBuilder::build`].
    pub fn new(
        indicators: Vec<Indicator>,
    ) -> Result<IndicatorSet, BuildError> {
        IndicatorSetBuilder::new().build(indicators)
    }

    /// A builder.
    pub fn builder() -> IndicatorSetBuilder {
        IndicatorSetBuilder::new()
    }

    /// The number of indicators (after duplicates merged).
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// True when the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// The indicator with this id.
    ///
    /// # Panics
    ///
    /// When the id does not come from this set.
    pub fn get(&self, id: IndicatorId) -> &Indicator {
        &self.indicators[id.index()]
    }

    /// Every indicator with its id, in set order.
    pub fn iter(&self) -> impl Iterator<Item = (IndicatorId, &Indicator)> {
        self.indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (IndicatorId(i as u32), ind))
    }

    /// Exact duplicates that were merged into an earlier indicator.
    pub fn merged(&self) -> &[Merged] {
        &self.merged
    }

    /// Values listed with more than one action.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Sizes of the compiled structures.
    pub fn family_sizes(&self) -> FamilySizes {
        FamilySizes {
            hashes: self.files.md5.len()
                + self.files.sha1.len()
                + self.files.sha256.len(),
            certificates: self.files.cert_sha1.len()
                + self.files.cert_sha256.len(),
            addresses: self.networks.exact_v4.len()
                + self.networks.exact_v6.len(),
            networks: self.networks.cidr_v4.len()
                + self.networks.cidr_v6.len(),
            domains: self.networks.domains.len(),
            urls: self.networks.urls.len(),
        }
    }

    /// File hash indicators equal to `hex` (either case) of this kind.
    /// A value that is not hex of the right length matches nothing.
    #[inline]
    pub fn match_hash(&self, kind: HashKind, hex: &[u8]) -> &[IndicatorId] {
        if !self.files.filters[kind as usize].may_contain_hex(hex) {
            return &[];
        }
        match kind {
            HashKind::Md5 => {
                hex::decode::<16>(hex).map_or(&[], |k| self.files.md5.get(&k))
            }
            HashKind::Sha1 => {
                hex::decode::<20>(hex).map_or(&[], |k| self.files.sha1.get(&k))
            }
            HashKind::Sha256 => hex::decode::<32>(hex)
                .map_or(&[], |k| self.files.sha256.get(&k)),
        }
    }

    /// Certificate indicators equal to a `SignerHash` value.
    #[inline]
    pub fn match_certificate(&self, hex: &[u8]) -> &[IndicatorId] {
        match hex.len() {
            40 => hex::decode::<20>(hex)
                .map_or(&[], |k| self.files.cert_sha1.get(&k)),
            64 => hex::decode::<32>(hex)
                .map_or(&[], |k| self.files.cert_sha256.get(&k)),
            _ => &[],
        }
    }

    /// Appends IP indicators matching `ip`: the exact address, then every
    /// enclosing network, innermost first.
    pub fn match_ip(&self, ip: IpAddr, out: &mut Vec<IndicatorId>) {
        match crate::value::ip::unmap(ip) {
            IpAddr::V4(a) => {
                let n = u32::from(a);
                out.extend_from_slice(self.networks.exact_v4.get(&n));
                self.networks.cidr_v4.for_each_containing(n, |ids, _| {
                    out.extend_from_slice(ids)
                });
            }
            IpAddr::V6(a) => {
                let n = u128::from(a);
                out.extend_from_slice(self.networks.exact_v6.get(&n));
                self.networks.cidr_v6.for_each_containing(n, |ids, _| {
                    out.extend_from_slice(ids)
                });
            }
        }
    }

    /// Appends domain indicators matching a normalised host: the host
    /// itself and each parent domain of at least two labels.
    pub fn match_domain(&self, host: &str, out: &mut Vec<IndicatorId>) {
        let mut suffix = host;
        loop {
            let value_of =
                |id: IndicatorId| self.indicators[id.index()].value();
            out.extend_from_slice(self.networks.domains.get(suffix, value_of));
            match suffix.split_once('.') {
                Some((_, rest)) if rest.contains('.') => suffix = rest,
                _ => break,
            }
        }
    }

    /// Appends every network indicator matching a parsed host or URL:
    /// URL indicators on its host, and domain indicators (for a name) or
    /// IP indicators (for an IP literal).
    pub fn match_url(&self, url: &Url<'_>, out: &mut Vec<IndicatorId>) {
        match &url.host {
            Host::Name(name) => {
                if self.networks.urls.len() > 0 {
                    self.networks.urls.find(url, name, out);
                }
                self.match_domain(name, out);
            }
            Host::Ip(ip) => {
                if self.networks.urls.len() > 0 {
                    self.networks.urls.find(url, &ip.to_string(), out);
                }
                self.match_ip(*ip, out);
            }
        }
    }

    /// Parses a host/URL column value (`evil.com`, `evil.com:443`,
    /// `evil.com/x`, a full URL) and matches it.
    ///
    /// # Errors
    ///
    /// The reason when the value is not a host or URL at all.
    pub fn match_network_text(
        &self,
        text: &str,
        out: &mut Vec<IndicatorId>,
    ) -> Result<(), &'static str> {
        let url = Url::parse(text)?;
        self.match_url(&url, out);
        Ok(())
    }

    /// The effective indicator among those matching one observable
    /// (contract §4). All candidates must be of one family: network
    /// (IP, domain, URL), file hashes of one file, or certificates.
    pub fn effective(
        &self,
        candidates: &[IndicatorId],
    ) -> Option<IndicatorId> {
        candidates.iter().copied().max_by(|&a, &b| {
            let ra = self.rank[a.index()];
            let rb = self.rank[b.index()];
            // Higher rank wins; on a tie the indicator listed first.
            ra.cmp(&rb).then(b.cmp(&a))
        })
    }

    /// The type of every indicator, by id; a convenience for callers that
    /// group candidates by family.
    pub fn indicator_type(&self, id: IndicatorId) -> IndicatorType {
        self.indicators[id.index()].indicator_type()
    }
}

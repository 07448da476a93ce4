//! MISP warninglists: lists of values that are known to be benign or
//! otherwise wrong as indicators (public DNS resolvers, cloud ranges, top
//! sites, hashes of empty files). An indicator found on one usually
//! means an alert storm or a blocked business service.
//!
//! The full format is read: `string` (exact), `substring`, `hostname`
//! (the entry and its subdomains), `cidr` and `regex` lists, each with
//! its `matching_attributes` (the MISP attribute types it applies to).
//! The lists of `../warninglists/` are bundled (CC0, from
//! MISP/misp-warninglists; see its SOURCES.md); [`Warninglists::add_dir`]
//! reads a checkout of misp-warninglists, or any folder of list files.
//!
//! ```
//! use iocmatch_core::{Action, Indicator, IndicatorType};
//! use iocmatch_core::warninglist::Warninglists;
//!
//! let lists = Warninglists::bundled();
//! let aws = Indicator::new(IndicatorType::IpAddress, "52.95.110.1", Action::Block)?;
//! let hits = lists.check(&aws);
//! assert!(hits.iter().any(|h| h.list.contains("Amazon AWS")), "{hits:?}");
//! # Ok::<(), iocmatch_core::IndicatorError>(())
//! ```

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::indicator::Indicator;
use crate::kind::IndicatorType;
use crate::value::{self, ip::Cidr};

/// The bundled lists, by file name.
const BUNDLED: &[(&str, &[u8])] = &[
    ("akamai", include_bytes!("../warninglists/akamai.json")),
    ("amazon-aws", include_bytes!("../warninglists/amazon-aws.json")),
    ("cloudflare", include_bytes!("../warninglists/cloudflare.json")),
    (
        "common-ioc-false-positive",
        include_bytes!("../warninglists/common-ioc-false-positive.json"),
    ),
    ("crl-hostname", include_bytes!("../warninglists/crl-hostname.json")),
    ("dynamic-dns", include_bytes!("../warninglists/dynamic-dns.json")),
    ("empty-hashes", include_bytes!("../warninglists/empty-hashes.json")),
    ("google-gcp", include_bytes!("../warninglists/google-gcp.json")),
    ("ipv6-linklocal", include_bytes!("../warninglists/ipv6-linklocal.json")),
    ("microsoft", include_bytes!("../warninglists/microsoft.json")),
    (
        "microsoft-azure",
        include_bytes!("../warninglists/microsoft-azure.json"),
    ),
    (
        "microsoft-office365",
        include_bytes!("../warninglists/microsoft-office365.json"),
    ),
    (
        "microsoft-win10-connection-endpoints",
        include_bytes!(
            "../warninglists/microsoft-win10-connection-endpoints.json"
        ),
    ),
    ("multicast", include_bytes!("../warninglists/multicast.json")),
    (
        "public-dns-hostname",
        include_bytes!("../warninglists/public-dns-hostname.json"),
    ),
    ("public-dns-v6", include_bytes!("../warninglists/public-dns-v6.json")),
    ("rfc1918", include_bytes!("../warninglists/rfc1918.json")),
    ("rfc3849", include_bytes!("../warninglists/rfc3849.json")),
    ("rfc5735", include_bytes!("../warninglists/rfc5735.json")),
    ("rfc6598", include_bytes!("../warninglists/rfc6598.json")),
    (
        "second-level-tlds",
        include_bytes!("../warninglists/second-level-tlds.json"),
    ),
    ("sinkholes", include_bytes!("../warninglists/sinkholes.json")),
    (
        "ti-falsepositives",
        include_bytes!("../warninglists/ti-falsepositives.json"),
    ),
    ("tlds", include_bytes!("../warninglists/tlds.json")),
    ("tranco10k", include_bytes!("../warninglists/tranco10k.json")),
    ("url-shortener", include_bytes!("../warninglists/url-shortener.json")),
    ("whats-my-ip", include_bytes!("../warninglists/whats-my-ip.json")),
];

/// The entries of the bundled list `name` (its file name), as written.
pub(crate) fn bundled_list(name: &str) -> Vec<String> {
    let Some((_, bytes)) = BUNDLED.iter().find(|(n, _)| *n == name) else {
        return Vec::new();
    };
    serde_json::from_slice::<ListFile>(bytes)
        .map(|f| {
            f.list
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// How a list's entries match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// The whole value, exactly (case-insensitively).
    String,
    /// The entry anywhere in the value.
    Substring,
    /// The host and its subdomains.
    Hostname,
    /// Addresses in a network.
    Cidr,
    /// A regular expression.
    Regex,
}

#[derive(Deserialize)]
struct ListFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    matching_attributes: Vec<String>,
    list: Vec<serde_json::Value>,
}

/// One warninglist, compiled.
#[derive(Debug)]
pub struct Warninglist {
    /// Its name (`List of known Amazon AWS IP address ranges`).
    pub name: String,
    /// Its description.
    pub description: String,
    /// How it matches.
    pub kind: ListKind,
    /// The MISP attribute types it applies to.
    pub attributes: Vec<String>,
    exact: HashSet<String>,
    substrings: Vec<String>,
    /// (start, end, prefix maximum of end), sorted by start.
    ranges: Vec<(u128, u128, u128)>,
    regexes: Vec<regex_lite::Regex>,
}

/// A value found on a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListHit<'a> {
    /// The list's name.
    pub list: &'a str,
    /// How the list matches.
    pub kind: ListKind,
}

/// Why a list could not be read.
#[derive(Debug)]
pub struct ListError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ListError {}

/// IPv4 as IPv4-mapped IPv6, so both live on one line of numbers.
fn ip_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn cidr_range(c: &Cidr) -> (u128, u128) {
    range(c.addr, c.prefix)
}

/// The numbers `addr/len` covers (host bits ignored).
fn range(addr: IpAddr, len: u8) -> (u128, u128) {
    let (n, bits) = match addr {
        IpAddr::V4(_) => (ip_number(addr), u32::from(len) + 96),
        IpAddr::V6(_) => (ip_number(addr), u32::from(len)),
    };
    let host = if bits >= 128 { 0 } else { u128::MAX >> bits };
    (n & !host, n | host)
}

/// A MISP regex entry (`/…/i` or bare) as a regex.
fn compile_regex(entry: &str) -> Option<regex_lite::Regex> {
    let (body, flags) =
        match entry.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
            Some((body, flags)) => (body, flags),
            None => (entry, ""),
        };
    let prefix = if flags.contains('i') { "(?i)" } else { "" };
    regex_lite::Regex::new(&format!("{prefix}{body}")).ok()
}

impl Warninglist {
    fn parse(bytes: &[u8]) -> Result<Warninglist, String> {
        let f: ListFile = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a MISP warninglist: {e}"))?;
        let kind = match f.kind.as_str() {
            "string" => ListKind::String,
            "substring" => ListKind::Substring,
            "hostname" => ListKind::Hostname,
            "cidr" => ListKind::Cidr,
            "regex" => ListKind::Regex,
            other => return Err(format!("unknown list type '{other}'")),
        };
        let mut l = Warninglist {
            name: f.name,
            description: f.description,
            kind,
            attributes: f.matching_attributes,
            exact: HashSet::new(),
            substrings: Vec::new(),
            ranges: Vec::new(),
            regexes: Vec::new(),
        };
        let entries = f
            .list
            .iter()
            .filter_map(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        for e in entries {
            match kind {
                ListKind::String => {
                    l.exact.insert(e.to_lowercase());
                }
                ListKind::Hostname => {
                    l.exact.insert(
                        e.trim_start_matches('.')
                            .trim_end_matches('.')
                            .to_lowercase(),
                    );
                }
                ListKind::Substring => l.substrings.push(e.to_lowercase()),
                ListKind::Cidr => {
                    // Lenient: lists sometimes set host bits.
                    let (addr, len) = e.split_once('/').unwrap_or((e, ""));
                    let Some(addr) = value::ip::parse_addr(addr) else {
                        continue;
                    };
                    let max = if addr.is_ipv4() { 32 } else { 128 };
                    let len = if len.is_empty() {
                        max
                    } else {
                        len.parse::<u8>().unwrap_or(u8::MAX)
                    };
                    if len <= max {
                        let (s, end) = range(addr, len);
                        l.ranges.push((s, end, 0));
                    }
                }
                ListKind::Regex => l.regexes.extend(compile_regex(e)),
            }
        }
        l.ranges.sort_unstable();
        let mut max = 0;
        for r in &mut l.ranges {
            max = max.max(r.1);
            r.2 = max;
        }
        Ok(l)
    }

    /// Whether the list applies to indicators of type `ty` (by its MISP
    /// attribute types; a list that names none applies to all).
    pub fn applies_to(&self, ty: IndicatorType) -> bool {
        let wanted: &[&str] = match ty {
            IndicatorType::FileMd5 => &["md5"],
            IndicatorType::FileSha1 => &["sha1"],
            IndicatorType::FileSha256 => &["sha256"],
            IndicatorType::CertificateThumbprint => {
                &["x509-fingerprint-sha1", "x509-fingerprint-sha256"]
            }
            IndicatorType::IpAddress => &["ip-dst", "ip-src"],
            IndicatorType::DomainName => &["domain", "hostname"],
            IndicatorType::Url => {
                &["url", "uri", "link", "domain", "hostname"]
            }
        };
        self.attributes.is_empty()
            || self.attributes.iter().any(|a| wanted.contains(&a.as_str()))
    }

    /// Whether `value` (an indicator's normal form) is on the list.
    pub fn contains(&self, ty: IndicatorType, value: &str) -> bool {
        self.matches(ty, value, &value.to_lowercase())
    }

    /// [`contains`](Warninglist::contains), with the value's lower case
    /// made once by the caller for every list.
    fn matches(&self, ty: IndicatorType, value: &str, v: &str) -> bool {
        match self.kind {
            ListKind::String => {
                self.exact.contains(v)
                    || host_of(ty, v).is_some_and(|h| self.exact.contains(h))
            }
            ListKind::Hostname => {
                host_of(ty, v).is_some_and(|h| self.host_listed(h))
            }
            ListKind::Substring => {
                self.substrings.iter().any(|s| v.contains(s.as_str()))
            }
            ListKind::Regex => self.regexes.iter().any(|r| r.is_match(value)),
            ListKind::Cidr => self.ip_listed(ty, value),
        }
    }

    fn host_listed(&self, host: &str) -> bool {
        let mut h = host;
        loop {
            if self.exact.contains(h) {
                return true;
            }
            match h.split_once('.') {
                Some((_, rest)) if !rest.is_empty() => h = rest,
                _ => return false,
            }
        }
    }

    fn ip_listed(&self, ty: IndicatorType, value: &str) -> bool {
        if ty != IndicatorType::IpAddress && ty != IndicatorType::Url {
            return false;
        }
        let host = if ty == IndicatorType::Url {
            host_of(ty, value).unwrap_or("")
        } else {
            value
        };
        let (lo, hi) = if let Ok(c) = Cidr::parse(host) {
            cidr_range(&c)
        } else if let Some(a) = value::ip::parse_addr(
            host.trim_start_matches('[').trim_end_matches(']'),
        ) {
            let n = ip_number(a);
            (n, n)
        } else {
            return false;
        };
        // The last range starting at or before `lo`; ranges before it
        // can contain [lo, hi] only if the prefix maximum reaches `hi`.
        let i = self.ranges.partition_point(|r| r.0 <= lo);
        self.ranges[..i]
            .iter()
            .rev()
            .take_while(|r| r.2 >= hi)
            .any(|r| r.1 >= hi)
    }
}

/// The host an indicator names: the domain, or a URL's host.
fn host_of(ty: IndicatorType, v: &str) -> Option<&str> {
    match ty {
        IndicatorType::DomainName => Some(v),
        IndicatorType::Url => {
            let rest = v.split_once("://").map_or(v, |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next()?;
            let host =
                authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            Some(if host.starts_with('[') {
                host.split(']').next().map_or(host, |h| &h[1..])
            } else {
                host.split(':').next()?
            })
        }
        _ => None,
    }
}

/// A set of warninglists.
#[derive(Debug, Default)]
pub struct Warninglists {
    lists: Vec<Warninglist>,
}

impl Warninglists {
    /// The lists bundled with iocmatch.
    pub fn bundled() -> Warninglists {
        let lists = BUNDLED
            .iter()
            .map(|(name, bytes)| {
                Warninglist::parse(bytes)
                    .unwrap_or_else(|e| panic!("bundled list {name}: {e}"))
            })
            .collect();
        Warninglists { lists }
    }

    /// No lists.
    pub fn empty() -> Warninglists {
        Warninglists::default()
    }

    /// Adds the lists of `dir`: a checkout of misp-warninglists
    /// (`lists/*/list.json`), or a folder of list files (`*.json`).
    ///
    /// # Errors
    ///
    /// A [`ListError`] naming the file that is not a warninglist, or a
    /// folder that holds none.
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize, ListError> {
        let err = |path: &Path, message: String| ListError {
            path: path.to_owned(),
            message,
        };
        let root = if dir.join("lists").is_dir() {
            dir.join("lists")
        } else {
            dir.to_owned()
        };
        let mut files = Vec::new();
        let entries =
            std::fs::read_dir(&root).map_err(|e| err(&root, e.to_string()))?;
        for entry in entries {
            let p = entry.map_err(|e| err(&root, e.to_string()))?.path();
            if p.is_dir() && p.join("list.json").is_file() {
                files.push(p.join("list.json"));
            } else if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(err(
                &root,
                "no warninglists here (expected lists/*/list.json or *.json)"
                    .into(),
            ));
        }
        for f in &files {
            let bytes = std::fs::read(f).map_err(|e| err(f, e.to_string()))?;
            self.lists
                .push(Warninglist::parse(&bytes).map_err(|m| err(f, m))?);
        }
        Ok(files.len())
    }

    /// The bundled lists and those of `dirs`.
    ///
    /// # Errors
    ///
    /// As [`Warninglists::add_dir`].
    pub fn from_dirs(
        bundled: bool,
        dirs: &[PathBuf],
    ) -> Result<Warninglists, ListError> {
        let mut w = if bundled {
            Warninglists::bundled()
        } else {
            Warninglists::empty()
        };
        for d in dirs {
            w.add_dir(d)?;
        }
        Ok(w)
    }

    /// Every list.
    pub fn lists(&self) -> &[Warninglist] {
        &self.lists
    }

    /// The lists `indicator` is on.
    pub fn check(&self, indicator: &Indicator) -> Vec<ListHit<'_>> {
        let (ty, v) = (indicator.indicator_type(), indicator.value());
        let lower = v.to_lowercase();
        self.lists
            .iter()
            .filter(|l| l.applies_to(ty) && l.matches(ty, v, &lower))
            .map(|l| ListHit { list: &l.name, kind: l.kind })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Action;

    fn ind(t: IndicatorType, v: &str) -> Indicator {
        Indicator::new(t, v, Action::Block).unwrap()
    }

    fn lists(json: &str) -> Warninglists {
        Warninglists {
            lists: vec![Warninglist::parse(json.as_bytes()).unwrap()],
        }
    }

    #[test]
    fn every_list_type_matches_as_misp_means_it() {
        let host = lists(
            r#"{"name":"h","type":"hostname","matching_attributes":["domain","url"],"list":[".example.com"]}"#,
        );
        assert_eq!(
            host.check(&ind(IndicatorType::DomainName, "a.b.example.com"))
                .len(),
            1
        );
        assert_eq!(
            host.check(&ind(
                IndicatorType::Url,
                "https://x.example.com:8443/p"
            ))
            .len(),
            1
        );
        assert!(
            host.check(&ind(IndicatorType::DomainName, "notexample.com"))
                .is_empty()
        );
        let exact = lists(
            r#"{"name":"s","type":"string","matching_attributes":["domain"],"list":["Example.org"]}"#,
        );
        assert_eq!(
            exact.check(&ind(IndicatorType::DomainName, "example.org")).len(),
            1
        );
        assert!(
            exact
                .check(&ind(IndicatorType::DomainName, "a.example.org"))
                .is_empty()
        );
        let sub = lists(
            r#"{"name":"u","type":"substring","matching_attributes":["url"],"list":["/wp-admin"]}"#,
        );
        assert_eq!(
            sub.check(&ind(IndicatorType::Url, "http://evil.com/wp-admin/x"))
                .len(),
            1
        );
        let re = lists(
            r#"{"name":"r","type":"regex","matching_attributes":["domain"],"list":["/^cdn[0-9]+\\.example\\.net$/i"]}"#,
        );
        assert_eq!(
            re.check(&ind(IndicatorType::DomainName, "CDN12.example.net"))
                .len(),
            1
        );
        assert!(
            re.check(&ind(IndicatorType::DomainName, "cdnx.example.net"))
                .is_empty()
        );
        let cidr = lists(
            r#"{"name":"c","type":"cidr","matching_attributes":["ip-dst"],"list":["8.8.0.0/16","2001:db8::/32","9.9.9.9"]}"#,
        );
        assert_eq!(
            cidr.check(&ind(IndicatorType::IpAddress, "8.8.4.4")).len(),
            1
        );
        assert_eq!(
            cidr.check(&ind(IndicatorType::IpAddress, "9.9.9.9")).len(),
            1
        );
        assert_eq!(
            cidr.check(&ind(IndicatorType::IpAddress, "8.8.128.0/17")).len(),
            1,
            "a network inside"
        );
        assert!(
            cidr.check(&ind(IndicatorType::IpAddress, "8.0.0.0/8")).is_empty(),
            "a network around"
        );
        assert!(
            cidr.check(&ind(IndicatorType::IpAddress, "9.9.9.10")).is_empty()
        );
        assert!(
            cidr.check(&ind(IndicatorType::DomainName, "dns.google"))
                .is_empty(),
            "by attribute type"
        );
    }

    proptest::proptest! {
        /// The range search against a linear scan of the networks, on
        /// small pools so that nesting and overlap are common.
        #[test]
        fn cidr_lists_agree_with_a_linear_scan(
            nets in proptest::collection::vec((0u32..64, 22u8..=32), 0..40),
            probes in proptest::collection::vec((0u32..64, 0u32..1024, 24u8..=32), 1..40),
        ) {
            let ip = |hi: u32, lo: u32| std::net::Ipv4Addr::from(0x2d00_0000 | (hi << 10) | lo);
            let entries: Vec<String> = nets.iter().map(|&(hi, len)| format!("{}/{len}", ip(hi, 0))).collect();
            let json = serde_json::json!({"name": "p", "type": "cidr", "list": entries}).to_string();
            let list = Warninglist::parse(json.as_bytes()).unwrap();
            for &(hi, lo, len) in &probes {
                let probe = format!("{}/{len}", ip(hi, lo & !((1u32 << (32 - len)) - 1).min(1023)));
                let Ok(c) = Cidr::parse(&probe) else { continue };
                let (plo, phi) = cidr_range(&c);
                let naive = nets.iter().any(|&(h, l)| {
                    let (a, b) = range(IpAddr::V4(ip(h, 0)), l);
                    a <= plo && phi <= b
                });
                proptest::prop_assert_eq!(list.contains(IndicatorType::IpAddress, &probe), naive, "{}", probe);
            }
        }
    }

    #[test]
    fn nested_ranges_are_found_past_a_narrower_one() {
        let cidr = lists(
            r#"{"name":"c","type":"cidr","list":["10.0.0.0/8","10.1.0.0/16","11.0.0.0/8"]}"#,
        );
        assert_eq!(
            cidr.check(&ind(IndicatorType::IpAddress, "10.200.0.0/16")).len(),
            1
        );
    }

    #[test]
    fn the_bundled_lists_load_and_know_the_usual_suspects() {
        let w = Warninglists::bundled();
        assert_eq!(w.lists().len(), BUNDLED.len());
        let on = |t, v: &str| {
            w.check(&ind(t, v))
                .iter()
                .map(|h| h.list.to_owned())
                .collect::<Vec<_>>()
        };
        assert!(
            !on(IndicatorType::FileMd5, "d41d8cd98f00b204e9800998ecf8427e")
                .is_empty(),
            "the empty file"
        );
        assert!(
            !on(IndicatorType::DomainName, "google.com").is_empty(),
            "a top site"
        );
        assert!(
            !on(IndicatorType::IpAddress, "2001:4860:4860::8888").is_empty(),
            "a public resolver"
        );
        assert!(
            !on(IndicatorType::DomainName, "dns.google").is_empty(),
            "a public resolver's name"
        );
        assert!(
            !on(IndicatorType::IpAddress, "52.95.110.1").is_empty(),
            "an AWS range"
        );
        assert!(
            on(IndicatorType::DomainName, "qzx-unlisted-7f3a.example")
                .is_empty()
        );
    }
}

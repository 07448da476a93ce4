//! Property tests: every matcher family against a naive linear oracle, on
//! random sets and probes drawn from small pools so that near-misses,
//! nesting and conflicts are common.

use std::net::IpAddr;
use std::sync::Arc;

use iocmatch_core::value::ip::Cidr;
use iocmatch_core::value::url::{Url, default_port};
use iocmatch_core::{
    Action, HashKind, Indicator, IndicatorId, IndicatorSet, IndicatorType,
    Source,
};
use proptest::prelude::*;

fn indicator(ty: IndicatorType, value: &str, action: Action) -> Indicator {
    let file: Arc<str> = Arc::from("prop");
    Indicator::new(ty, value, action)
        .unwrap_or_else(|e| panic!("{value}: {e}"))
        .with_source(Source::line(&file, 1))
}

fn compile(inds: &[Indicator]) -> IndicatorSet {
    // Keep duplicates so that ids equal positions in `inds`.
    IndicatorSet::builder()
        .merge_duplicates(false)
        .build(inds.to_vec())
        .unwrap()
}

fn sorted(mut v: Vec<IndicatorId>) -> Vec<u32> {
    v.sort();
    v.into_iter().map(|i| i.0).collect()
}

fn oracle(inds: &[Indicator], f: impl Fn(&Indicator) -> bool) -> Vec<u32> {
    (0..inds.len() as u32).filter(|&i| f(&inds[i as usize])).collect()
}

fn network_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Allowed),
        Just(Action::Audit),
        Just(Action::Warn),
        Just(Action::Block)
    ]
}

// ---- hashes ------------------------------------------------------------

fn hex_of(len: usize) -> impl Strategy<Value = String> {
    // A tiny alphabet makes equal values likely.
    proptest::collection::vec(
        prop_oneof![Just('a'), Just('B'), Just('0')],
        len..=len,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn hash_kind() -> impl Strategy<Value = (IndicatorType, HashKind, usize)> {
    prop_oneof![
        Just((IndicatorType::FileMd5, HashKind::Md5, 32)),
        Just((IndicatorType::FileSha1, HashKind::Sha1, 40)),
        Just((IndicatorType::FileSha256, HashKind::Sha256, 64)),
    ]
}

fn hash_entry() -> impl Strategy<Value = (IndicatorType, HashKind, String)> {
    hash_kind().prop_flat_map(|(t, k, n)| {
        // Mostly one fixed-prefix value per kind to force collisions.
        (Just(t), Just(k), prop_oneof![Just("a".repeat(n)), hex_of(n)])
    })
}

proptest! {
    #[test]
    fn hashes_match_like_a_linear_scan(
        set in proptest::collection::vec((hash_entry(), network_action()), 0..20),
        probes in proptest::collection::vec(hash_entry(), 1..20),
    ) {
        let inds: Vec<Indicator> =
            set.iter().map(|((t, _, v), a)| indicator(*t, v, *a)).collect();
        let compiled = compile(&inds);
        for (t, kind, v) in &probes {
            let got = sorted(compiled.match_hash(*kind, v.as_bytes()).to_vec());
            let want = oracle(&inds, |i| i.indicator_type() == *t && i.value().eq_ignore_ascii_case(v));
            prop_assert_eq!(got, want, "probe {}", v);
        }
    }
}

// ---- IP addresses and CIDR networks -----------------------------------

/// IPv4 addresses in a small public region so that networks nest.
fn v4() -> impl Strategy<Value = u32> {
    (0u32..4, 0u32..4, 0u32..256)
        .prop_map(|(a, b, c)| (1 << 24) | (a << 14) | (b << 8) | c)
}

fn v6() -> impl Strategy<Value = u128> {
    (0u128..4, 0u128..4, 0u128..16)
        .prop_map(|(a, b, c)| (0x2a00u128 << 112) | (a << 100) | (b << 64) | c)
}

#[derive(Debug, Clone)]
enum IpEntry {
    Exact(IpAddr),
    Net(Cidr),
}

fn ip_entry() -> impl Strategy<Value = IpEntry> {
    let net4 = (v4(), 0u8..=32).prop_map(|(a, p)| {
        let m = iocmatch_core::value::ip::mask32(p);
        IpEntry::Net(Cidr { addr: IpAddr::V4((a & m).into()), prefix: p })
    });
    let net6 = (v6(), 0u8..=128).prop_map(|(a, p)| {
        let m = iocmatch_core::value::ip::mask128(p);
        IpEntry::Net(Cidr { addr: IpAddr::V6((a & m).into()), prefix: p })
    });
    prop_oneof![
        v4().prop_map(|a| IpEntry::Exact(IpAddr::V4(a.into()))),
        v6().prop_map(|a| IpEntry::Exact(IpAddr::V6(a.into()))),
        net4,
        net6,
    ]
}

fn ip_probe() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4().prop_map(|a| IpAddr::V4(a.into())),
        v6().prop_map(|a| IpAddr::V6(a.into()))
    ]
}

proptest! {
    #[test]
    fn ips_match_like_a_linear_scan(
        set in proptest::collection::vec((ip_entry(), network_action()), 0..30),
        probes in proptest::collection::vec(ip_probe(), 1..30),
    ) {
        let inds: Vec<Indicator> = set.iter().map(|(e, a)| {
            let text = match e { IpEntry::Exact(ip) => ip.to_string(), IpEntry::Net(c) => c.to_string() };
            indicator(IndicatorType::IpAddress, &text, *a)
        }).collect();
        let compiled = compile(&inds);
        for ip in &probes {
            let mut got = Vec::new();
            compiled.match_ip(*ip, &mut got);
            let eff = compiled.effective(&got);
            let got = sorted(got);
            let want = oracle(&inds, |i| match Cidr::parse(i.value()) {
                Ok(c) => c.contains(*ip),
                Err(_) => i.value().parse::<IpAddr>().ok() == Some(*ip),
            });
            prop_assert_eq!(&got, &want, "probe {}", ip);
            prop_assert_eq!(eff.map(|e| e.0), naive_effective(&inds, &want));
        }
    }
}

// ---- domains and URLs --------------------------------------------------

fn label() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("a"),
        Just("b"),
        Just("evil"),
        Just("notevil"),
        Just("ab")
    ]
}

fn domain() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(label(), 1..4),
        prop_oneof![Just("com"), Just("net")],
    )
        .prop_map(|(ls, tld)| format!("{}.{tld}", ls.join(".")))
}

#[derive(Debug, Clone)]
struct UrlParts {
    scheme: Option<&'static str>,
    host: String,
    port: Option<u16>,
    path: String,
    query: Option<&'static str>,
}

impl UrlParts {
    fn text(&self) -> String {
        let mut s = String::new();
        if let Some(sc) = self.scheme {
            s.push_str(sc);
            s.push_str("://");
        }
        s.push_str(&self.host);
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s.push_str(&self.path);
        if let Some(q) = self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }
}

fn url_parts() -> impl Strategy<Value = UrlParts> {
    let scheme =
        prop_oneof![Just(None), Just(Some("http")), Just(Some("https"))];
    let host = prop_oneof![
        Just("evil.com".to_owned()),
        Just("a.evil.com".to_owned()),
        domain()
    ];
    let port = prop_oneof![3 => Just(None), 1 => Just(Some(80u16)), 1 => Just(Some(443u16)), 1 => Just(Some(8080u16))];
    let seg = prop_oneof![Just("a"), Just("b"), Just("ab"), Just("A")];
    let path = (proptest::collection::vec(seg, 0..3), any::<bool>()).prop_map(
        |(segs, slash)| {
            let mut p: String = segs.iter().map(|s| format!("/{s}")).collect();
            if slash {
                p.push('/');
            }
            p
        },
    );
    let query = prop_oneof![4 => Just(None), 1 => Just(Some("x=1")), 1 => Just(Some("y"))];
    (scheme, host, port, path, query).prop_map(
        |(scheme, host, port, path, query)| UrlParts {
            scheme,
            host,
            port,
            path,
            query,
        },
    )
}

/// The URL rule of the contract, written out plainly.
fn naive_url_match(ind: &UrlParts, obs: &UrlParts) -> bool {
    if ind.host != obs.host {
        return false;
    }
    if let (Some(a), Some(b)) = (ind.scheme, obs.scheme)
        && a != b
    {
        return false;
    }
    let port =
        |u: &UrlParts| u.port.or_else(|| u.scheme.and_then(default_port));
    if let (Some(a), Some(b)) = (port(ind), port(obs))
        && a != b
    {
        return false;
    }
    let root =
        |p: &str| if p.is_empty() { "/".to_owned() } else { p.to_owned() };
    let (ip, op) = (root(&ind.path), root(&obs.path));
    if ind.query.is_some() {
        return ip == op && ind.query == obs.query;
    }
    op == ip
        || (op.starts_with(&ip)
            && (ip.ends_with('/') || op.as_bytes()[ip.len()] == b'/'))
}

fn naive_domain_match(d: &str, host: &str) -> bool {
    host == d || host.ends_with(&format!(".{d}"))
}

#[derive(Debug, Clone)]
enum NetEntry {
    Domain(String),
    Url(UrlParts),
}

proptest! {
    #[test]
    fn domains_and_urls_match_like_a_linear_scan(
        set in proptest::collection::vec((prop_oneof![
            domain().prop_map(NetEntry::Domain),
            url_parts().prop_map(NetEntry::Url),
        ], network_action()), 0..25),
        probes in proptest::collection::vec(url_parts(), 1..25),
    ) {
        let inds: Vec<Indicator> = set.iter().map(|(e, a)| match e {
            NetEntry::Domain(d) => indicator(IndicatorType::DomainName, d, *a),
            NetEntry::Url(u) => indicator(IndicatorType::Url, &u.text(), *a),
        }).collect();
        let compiled = compile(&inds);
        for obs in &probes {
            let mut got = Vec::new();
            compiled.match_url(&Url::parse(&obs.text()).unwrap(), &mut got);
            let eff = compiled.effective(&got);
            let got = sorted(got);
            let want: Vec<u32> = (0..set.len() as u32).filter(|&i| match &set[i as usize].0 {
                NetEntry::Domain(d) => naive_domain_match(d, &obs.host),
                NetEntry::Url(u) => naive_url_match(u, obs),
            }).collect();
            prop_assert_eq!(&got, &want, "probe {}", obs.text());
            prop_assert_eq!(eff.map(|e| e.0), naive_effective(&inds, &want));
        }
    }
}

/// Contract §4 for network indicators, spelled out: compare specificity
/// (URL path length, then domain labels, then exact address, then CIDR
/// prefix), then the action order, then the listing order.
fn naive_effective(inds: &[Indicator], ids: &[u32]) -> Option<u32> {
    let specificity = |i: &Indicator| -> (u8, usize) {
        match i.indicator_type() {
            IndicatorType::Url => {
                let rest =
                    i.value().split_once("://").map_or(i.value(), |(_, r)| r);
                (3, rest.find(['/', '?']).map_or(0, |p| rest.len() - p))
            }
            IndicatorType::DomainName => (2, i.value().split('.').count()),
            _ => match i.value().split_once('/') {
                None => (1, 1000),
                Some((_, p)) => (1, p.parse().unwrap()),
            },
        }
    };
    let action = |a: Action| {
        [Action::Audit, Action::Block, Action::Warn, Action::Allowed]
            .iter()
            .position(|x| *x == a)
            .unwrap()
    };
    let mut best: Option<u32> = None;
    for &id in ids {
        let better = match best {
            None => true,
            Some(b) => {
                let (x, y) = (&inds[id as usize], &inds[b as usize]);
                (specificity(x), action(x.action()))
                    > (specificity(y), action(y.action()))
            }
        };
        if better {
            best = Some(id);
        }
    }
    best
}

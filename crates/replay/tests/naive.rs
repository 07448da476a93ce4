//! Replay against a naive reference evaluator: every record parsed with
//! serde_json into a `Value`, every observable checked against every
//! indicator by the contract's rules written out plainly, precedence by
//! sorting. Run on generated exports with extra indicators for scope,
//! expiry, conflicts and nesting.

use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;

use iocmatch_core::value::ip::{Cidr, parse_addr};
use iocmatch_core::value::url::{Host, Url, default_port};
use iocmatch_core::{Action, Indicator, IndicatorSet, IndicatorType};
use iocmatch_gen::Layout;
use iocmatch_replay::ReplayOptions;
use serde_json::Value;

use crate::common::{generate, load_set, replay};

type Found = (u64, &'static str, u32, u32);

#[test]
fn replay_equals_the_naive_evaluator() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), Layout::Jsonl, false, 3_000_000, 21);
    let csv = dir.path().join("indicators.csv");
    add_tricky_indicators(&csv, &dir.path().join("truth.jsonl"));
    let set = load_set(&csv);
    let (hits, _, _) =
        replay(&set, std::slice::from_ref(&export), ReplayOptions::default());
    let got: BTreeSet<Found> = hits
        .iter()
        .map(|h| {
            (
                h.line(),
                h.column(),
                h.indicator().0,
                h.suppressed_by().unwrap_or(h.indicator()).0,
            )
        })
        .collect();
    let want = naive(
        &set,
        &std::fs::read_to_string(export.join("events.jsonl")).unwrap(),
    );
    assert!(want.len() > 50, "the fixture should hit: {}", want.len());
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert!(got.iter().any(|f| f.2 != f.3), "some hits should be suppressed");
}

/// Conflicting, nested, scoped and expiring indicators on planted values.
fn add_tricky_indicators(csv: &std::path::Path, truth: &std::path::Path) {
    let mut extra = String::new();
    let text = std::fs::read_to_string(truth).unwrap();
    let mut done = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let t: Value = serde_json::from_str(line).unwrap();
        let (ty, v) = (
            t["type"].as_str().unwrap(),
            t["indicator"].as_str().unwrap().to_owned(),
        );
        if !done.insert(v.clone()) || ty == "CertificateThumbprint" {
            continue;
        }
        let row = |action: &str, exp: &str, groups: &str| {
            format!("{ty},{v},{exp},{action},High,tricky,,,\"{groups}\",,,\n")
        };
        match i % 5 {
            0 => extra.push_str(&row("Allowed", "", "")),
            1 => extra.push_str(&row("Block", "", "Servers")),
            2 => extra.push_str(&row("Warn", "2026-07-18T01:30:00Z", "")),
            3 if ty == "DomainName" => extra.push_str(&format!(
                "DomainName,{},,Audit,Low,parent,,,,,,\n",
                v.split_once('.').map_or(&*v, |p| p.1)
            )),
            3 if ty == "IpAddress" && !v.contains('/') => {
                let o: Vec<&str> = v.split('.').collect();
                extra.push_str(&format!(
                    "IpAddress,{}.{}.0.0/16,,Allowed,Low,wide,,,,,,\n",
                    o[0], o[1]
                ));
            }
            3 if ty == "Url" => extra.push_str(&format!(
                "Url,{},,Audit,Low,shorter,,,,,,\n",
                &v[..v.rfind('/').unwrap()]
            )),
            _ => {}
        }
    }
    let mut body = std::fs::read_to_string(csv).unwrap();
    body.push_str(&extra);
    std::fs::write(csv, body).unwrap();
}

fn naive(set: &IndicatorSet, text: &str) -> BTreeSet<Found> {
    let inds: Vec<&Indicator> = set.iter().map(|(_, i)| i).collect();
    let mut out = BTreeSet::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let Ok(rec) = serde_json::from_str::<Value>(line) else { continue };
        let Some(p) = rec.get("properties").filter(|p| p.is_object()) else {
            continue;
        };
        let Some(table) = rec["category"]
            .as_str()
            .and_then(|c| c.strip_prefix("AdvancedHunting-"))
        else {
            continue;
        };
        let table = iocmatch_replay::table::modern_name(table);
        let found = naive_record(&inds, table, p);
        if found.is_empty() {
            continue;
        }
        let s = |k: &str, alt: &str| {
            p.get(k)
                .or_else(|| p.get(alt))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let key = (
            table.to_owned(),
            s("DeviceId", "MachineId"),
            s("ReportId", ""),
            s("Timestamp", "EventTime"),
        );
        if seen.insert(key) {
            out.extend(
                found.into_iter().map(|(c, i, e)| (n as u64 + 1, c, i, e)),
            );
        }
    }
    out
}

fn text<'v>(p: &'v Value, k: &str) -> Option<&'v str> {
    p.get(k)?.as_str().filter(|s| !s.is_empty())
}

fn naive_record(
    inds: &[&Indicator],
    table: &str,
    p: &Value,
) -> Vec<(&'static str, u32, u32)> {
    let time = text(p, "Timestamp")
        .or(text(p, "EventTime"))
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let group = text(p, "MachineGroup");
    let applies = |i: &Indicator| i.applies(time, group);
    let mut out = Vec::new();
    let mut observable =
        |cands: Vec<(&'static str, u32)>,
         rank: &dyn Fn(&Indicator) -> (u32, u32)| {
            let cands: Vec<_> = cands
                .into_iter()
                .filter(|&(_, id)| applies(inds[id as usize]))
                .collect();
            let best = cands.iter().map(|&(_, id)| id).max_by(|&a, &b| {
                rank(inds[a as usize])
                    .cmp(&rank(inds[b as usize]))
                    .then(b.cmp(&a))
            });
            for (col, id) in cands {
                out.push((col, id, best.unwrap()));
            }
        };
    for cols in [
        ["SHA1", "SHA256", "MD5"],
        [
            "InitiatingProcessSHA1",
            "InitiatingProcessSHA256",
            "InitiatingProcessMD5",
        ],
    ] {
        let mut c = Vec::new();
        for (col, ty) in cols.iter().zip([
            IndicatorType::FileSha1,
            IndicatorType::FileSha256,
            IndicatorType::FileMd5,
        ]) {
            if let Some(v) = text(p, col) {
                c.extend(
                    matching(inds, |i| {
                        i.indicator_type() == ty
                            && i.value().eq_ignore_ascii_case(v)
                    })
                    .map(|id| (*col, id)),
                );
            }
        }
        observable(c, &file_rank);
    }
    if let Some(v) = text(p, "SignerHash") {
        let c = matching(inds, |i| {
            i.indicator_type() == IndicatorType::CertificateThumbprint
                && i.value().eq_ignore_ascii_case(v)
        });
        observable(c.map(|id| ("SignerHash", id)).collect(), &|i| {
            (cert_rank(i.action()), 0)
        });
    }
    for col in [
        "RemoteIP",
        "FileOriginIP",
        "RequestSourceIP",
        "InitiatingProcessRemoteSessionIP",
        "PublicIP",
    ] {
        if let Some(ip) = text(p, col).and_then(parse_addr) {
            observable(
                matching(inds, |i| ip_matches(i, ip))
                    .map(|id| (col, id))
                    .collect(),
                &network_rank,
            );
        }
    }
    let mut hosts: Vec<(&'static str, String)> =
        ["RemoteUrl", "FileOriginUrl", "FileOriginReferrerUrl", "Url"]
            .iter()
            .filter_map(|c| text(p, c).map(|v| (*c, v.to_owned())))
            .collect();
    hosts.extend(inspected(table, p));
    for (col, v) in hosts {
        let Ok(url) = Url::parse(&v) else { continue };
        observable(
            matching(inds, |i| url_matches(i, &url))
                .map(|id| (col, id))
                .collect(),
            &network_rank,
        );
    }
    out
}

fn matching<'a>(
    inds: &'a [&Indicator],
    f: impl Fn(&Indicator) -> bool + 'a,
) -> impl Iterator<Item = u32> + 'a {
    (0..inds.len() as u32).filter(move |&i| f(inds[i as usize]))
}

fn inspected(table: &str, p: &Value) -> Vec<(&'static str, String)> {
    let action = text(p, "ActionType").unwrap_or("");
    if table != "DeviceNetworkEvents" {
        return Vec::new();
    }
    let af = match p.get("AdditionalFields") {
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s).unwrap_or(Value::Null)
        }
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let get = |k: &str| {
        af.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match action {
        "DnsConnectionInspected" => {
            get("query").map(|v| vec![("AdditionalFields.query", v)])
        }
        "SslConnectionInspected" => get("server_name")
            .map(|v| vec![("AdditionalFields.server_name", v)]),
        "HttpConnectionInspected" => get("host").map(|h| {
            vec![(
                "AdditionalFields.host",
                format!("http://{h}{}", get("uri").unwrap_or_default()),
            )]
        }),
        _ => None,
    }
    .unwrap_or_default()
}

fn ip_matches(i: &Indicator, ip: IpAddr) -> bool {
    i.indicator_type() == IndicatorType::IpAddress
        && match Cidr::parse(i.value()) {
            Ok(c) => c.contains(ip),
            Err(_) => i.value().parse::<IpAddr>().ok() == Some(ip),
        }
}

fn url_matches(i: &Indicator, obs: &Url<'_>) -> bool {
    match (i.indicator_type(), &obs.host) {
        (IndicatorType::DomainName, Host::Name(h)) => {
            **h == *i.value() || h.ends_with(&format!(".{}", i.value()))
        }
        (IndicatorType::IpAddress, Host::Ip(ip)) => ip_matches(i, *ip),
        (IndicatorType::Url, _) => {
            let u = Url::parse(i.value()).unwrap();
            if u.host != obs.host {
                return false;
            }
            if let (Some(a), Some(b)) = (&u.scheme, &obs.scheme)
                && a != b
            {
                return false;
            }
            let port = |x: &Url<'_>| {
                x.port.or_else(|| x.scheme.as_deref().and_then(default_port))
            };
            if let (Some(a), Some(b)) = (port(&u), port(obs))
                && a != b
            {
                return false;
            }
            let (ip, op) = (u.match_path(), obs.match_path());
            if u.query.is_some() {
                return ip == op && u.query == obs.query;
            }
            op == ip
                || (op.starts_with(ip)
                    && (ip.ends_with('/') || op.as_bytes()[ip.len()] == b'/'))
        }
        _ => false,
    }
}

fn network_rank(i: &Indicator) -> (u32, u32) {
    let spec = match i.indicator_type() {
        IndicatorType::Url => {
            let rest =
                i.value().split_once("://").map_or(i.value(), |(_, r)| r);
            3_000_000
                + rest.find(['/', '?']).map_or(0, |p| rest.len() - p) as u32
        }
        IndicatorType::DomainName => {
            2_000_000 + i.value().split('.').count() as u32
        }
        _ => match i.value().split_once('/') {
            None => 1_000_200,
            Some((_, p)) => 1_000_000 + p.parse::<u32>().unwrap(),
        },
    };
    let action = [Action::Audit, Action::Block, Action::Warn, Action::Allowed]
        .iter()
        .position(|a| *a == i.action())
        .unwrap() as u32;
    (spec, action)
}

fn file_rank(i: &Indicator) -> (u32, u32) {
    let action = [
        Action::Audit,
        Action::Allowed,
        Action::Warn,
        Action::Block,
        Action::BlockAndRemediate,
    ]
    .iter()
    .position(|a| *a == i.action())
    .unwrap() as u32;
    let strength = match i.indicator_type() {
        IndicatorType::FileSha256 => 3,
        IndicatorType::FileSha1 => 2,
        _ => 1,
    };
    (action, strength)
}

fn cert_rank(a: Action) -> u32 {
    u32::from(a == Action::BlockAndRemediate)
}

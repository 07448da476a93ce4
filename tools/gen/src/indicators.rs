//! The indicator set that goes with an export: every planted value, then
//! filler values that occur nowhere, up to the requested size.

use std::io::Write;

use crate::json::Obj;
use crate::rng::Rng;
use crate::world::{HashChoice, World};

/// One indicator row.
pub struct Row {
    pub ty: &'static str,
    pub value: String,
    pub action: &'static str,
    pub severity: &'static str,
    pub title: String,
}

/// The planted indicators first (they hit), then filler (it never does).
pub fn rows(world: &World, total: usize, seed: u64) -> Vec<Row> {
    let mut r = Rng::new(seed ^ 0x1d1c);
    let mut rows = Vec::with_capacity(total);
    let actions = ["Audit", "Block", "Warn", "Audit", "Allowed"];
    let push =
        |rows: &mut Vec<Row>, ty, value: String, i: usize, what: &str| {
            let action = if ty == "CertificateThumbprint" {
                "BlockAndRemediate"
            } else {
                actions[i % actions.len()]
            };
            let severity = ["High", "Medium", "Low", "Informational"][i % 4];
            rows.push(Row {
                ty,
                value,
                action,
                severity,
                title: format!("{what} {i}"),
            });
        };
    for (i, (b, c)) in world.bad_binaries.iter().enumerate() {
        let (ty, v) = match c {
            HashChoice::Sha1 => ("FileSha1", &b.sha1),
            HashChoice::Sha256 => ("FileSha256", &b.sha256),
            HashChoice::Md5 => ("FileMd5", &b.md5),
        };
        push(&mut rows, ty, v.clone(), i, "Malware");
    }
    for (i, d) in world.bad_domains.iter().enumerate() {
        push(&mut rows, "DomainName", d.clone(), i, "C2 domain");
    }
    for (i, b) in world
        .bad_ips
        .iter()
        .enumerate()
        .filter(|(_, b)| !b.indicator.contains('/'))
    {
        push(&mut rows, "IpAddress", b.indicator.clone(), i, "C2 address");
    }
    for (i, n) in world.bad_networks.iter().enumerate() {
        push(&mut rows, "IpAddress", n.clone(), i, "Hostile network");
    }
    for (i, u) in world.bad_urls.iter().enumerate() {
        push(&mut rows, "Url", u.indicator(), i, "Payload URL");
    }
    for (i, s) in world.bad_signers.iter().enumerate() {
        push(
            &mut rows,
            "CertificateThumbprint",
            s.clone(),
            i,
            "Stolen certificate",
        );
    }
    let mut i = 0;
    while rows.len() < total {
        let (ty, v) = filler(&mut r, i);
        push(&mut rows, ty, v, i, "Feed entry");
        i += 1;
    }
    rows
}

/// A value of a mixed feed that no record contains: hashes are random,
/// addresses come from blocks the records never use, domains have random
/// labels.
fn filler(r: &mut Rng, i: usize) -> (&'static str, String) {
    match i % 20 {
        0..=3 => ("FileSha256", r.hex(64)),
        4..=6 => ("FileSha1", r.hex(40)),
        7..=8 => ("FileMd5", r.hex(32)),
        9..=11 => {
            let a = [45, 62, 80, 93, 95][r.index(5)];
            (
                "IpAddress",
                format!(
                    "{a}.{}.{}.{}",
                    r.below(256),
                    r.below(256),
                    1 + r.below(254)
                ),
            )
        }
        12 => {
            let a = [45, 62, 80, 93, 95][r.index(5)];
            (
                "IpAddress",
                format!("{a}.{}.{}.0/24", r.below(256), r.below(256)),
            )
        }
        13..=17 => (
            "DomainName",
            format!(
                "f{}.{}",
                r.hex(10),
                ["com", "net", "ru", "xyz"][r.index(4)]
            ),
        ),
        _ => ("Url", format!("http://f{}.top/{}", r.hex(8), r.hex(6))),
    }
}

/// Defender portal CSV.
pub fn write_csv(rows: &[Row], w: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        w,
        "IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert"
    )?;
    for r in rows {
        writeln!(
            w,
            "{},{},,{},{},{},,,,,,",
            r.ty, r.value, r.action, r.severity, r.title
        )?;
    }
    Ok(())
}

/// A MISP event holding the same values (Audit by default when loaded).
pub fn write_misp(rows: &[Row], w: &mut impl Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    buf.extend_from_slice(b"{\"Event\":{\"info\":\"iocmatch-gen synthetic feed\",\"threat_level_id\":\"2\",\"Attribute\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b",\n");
        }
        let ty = match r.ty {
            "FileSha1" => "sha1",
            "FileSha256" => "sha256",
            "FileMd5" => "md5",
            "IpAddress" => "ip-dst",
            "DomainName" => "domain",
            "Url" => "url",
            _ => "x509-fingerprint-sha1",
        };
        let mut o = Obj::open(&mut buf);
        o.str("type", ty)
            .str("value", &r.value)
            .bool("to_ids", true)
            .str("comment", &r.title);
        o.close();
    }
    buf.extend_from_slice(b"]}}\n");
    w.write_all(&buf)
}

/// A STIX 2.1 bundle holding the same values.
pub fn write_stix(rows: &[Row], w: &mut impl Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    buf.extend_from_slice(b"{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\",\"objects\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b",\n");
        }
        let path = match r.ty {
            "FileSha1" => "file:hashes.'SHA-1'",
            "FileSha256" => "file:hashes.'SHA-256'",
            "FileMd5" => "file:hashes.MD5",
            "IpAddress" => "ipv4-addr:value",
            "DomainName" => "domain-name:value",
            "Url" => "url:value",
            _ => "x509-certificate:hashes.'SHA-1'",
        };
        let mut o = Obj::open(&mut buf);
        o.str("type", "indicator").str("spec_version", "2.1");
        o.str("id", &format!("indicator--00000000-0000-4000-8000-{i:012}"));
        o.str("name", &r.title).str("pattern_type", "stix");
        o.str("pattern", &format!("[{path} = '{}']", r.value));
        o.str("valid_from", "2026-01-01T00:00:00Z");
        o.close();
    }
    buf.extend_from_slice(b"]}\n");
    w.write_all(&buf)
}

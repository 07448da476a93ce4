//! CSV feeds with a header, as vendors and researchers publish them
//! (`Indicator,Type,…`, `ioc_value,ioc_type`, `url,threat`, `dst_ip`):
//! the value column and the type column are found by name, type names
//! are mapped case-insensitively (`domainname`, `IP`, `sha256`, …), and
//! a column that names its own type (`url`, `dst_ip`, `sha256`) types
//! its values. Comma, semicolon and tab separate; `#` comment lines
//! before the header are skipped (abuse.ch writes its header as the last
//! of them).

use std::borrow::Cow;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{IndicatorError, unreadable};
use crate::indicator::Source;
use crate::kind::IndicatorType;

use super::Context;

/// A header cell, compared without case, spaces, `_`, `-` or `.`.
fn norm(cell: &str) -> String {
    cell.trim()
        .trim_start_matches('#')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '"' | ':'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Value columns, most specific first, with the type they imply.
const VALUE_COLUMNS: [(&str, Option<IndicatorType>); 27] = [
    ("indicator", None),
    ("indicatorvalue", None),
    ("ioc", None),
    ("iocvalue", None),
    ("observable", None),
    ("observablevalue", None),
    ("value", None),
    ("url", Some(IndicatorType::Url)),
    ("uri", Some(IndicatorType::Url)),
    ("domain", Some(IndicatorType::DomainName)),
    ("domainname", Some(IndicatorType::DomainName)),
    ("hostname", Some(IndicatorType::DomainName)),
    ("host", Some(IndicatorType::DomainName)),
    ("fqdn", Some(IndicatorType::DomainName)),
    ("ip", Some(IndicatorType::IpAddress)),
    ("ipaddress", Some(IndicatorType::IpAddress)),
    ("dstip", Some(IndicatorType::IpAddress)),
    ("srcip", Some(IndicatorType::IpAddress)),
    ("ipv4", Some(IndicatorType::IpAddress)),
    ("ipv6", Some(IndicatorType::IpAddress)),
    ("sha256", Some(IndicatorType::FileSha256)),
    ("sha256hash", Some(IndicatorType::FileSha256)),
    ("sha1", Some(IndicatorType::FileSha1)),
    ("sha1hash", Some(IndicatorType::FileSha1)),
    ("md5", Some(IndicatorType::FileMd5)),
    ("md5hash", Some(IndicatorType::FileMd5)),
    ("hash", None),
];

const TYPE_COLUMNS: [&str; 7] = [
    "type",
    "ioctype",
    "indicatortype",
    "observabletype",
    "datatype",
    "kind",
    "attributetype",
];
const TITLE_COLUMNS: [&str; 7] = [
    "title",
    "name",
    "threat",
    "malware",
    "malwarefamily",
    "family",
    "signature",
];
const DESCRIPTION_COLUMNS: [&str; 4] =
    ["description", "comment", "comments", "notes"];

/// A feed's type name as an indicator type.
pub(super) fn type_named(name: &str) -> Option<IndicatorType> {
    use IndicatorType as T;
    let t = match norm(name).as_str() {
        "domain" | "domainname" | "hostname" | "host" | "fqdn" => {
            T::DomainName
        }
        "ip" | "ipaddress" | "ipv4" | "ipv6" | "ipv4addr" | "ipv6addr"
        | "ipdst" | "ipsrc" | "dstip" | "srcip" | "ipaddr" => T::IpAddress,
        "url" | "uri" | "link" => T::Url,
        "ipport" => T::IpAddress,
        "sha256" | "filehashsha256" | "hashsha256" | "filesha256"
        | "sha256hash" => T::FileSha256,
        "sha1" | "filehashsha1" | "hashsha1" | "filesha1" | "sha1hash" => {
            T::FileSha1
        }
        "md5" | "filehashmd5" | "hashmd5" | "filemd5" | "md5hash" => {
            T::FileMd5
        }
        "certificatethumbprint"
        | "certificate"
        | "x509fingerprintsha1"
        | "thumbprint" => T::CertificateThumbprint,
        _ => return None,
    };
    Some(t)
}

/// The separator of `line`: the most frequent of `,`, `;` and tab.
fn delimiter(line: &str) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| line.bytes().filter(|&b| b == d).count())
        .unwrap_or(b',')
}

/// The columns of a header.
struct Columns {
    value: usize,
    implied: Option<IndicatorType>,
    ty: Option<usize>,
    title: Option<usize>,
    description: Option<usize>,
}

fn columns(
    cells: &[String],
    value: Option<&str>,
    ty: Option<&str>,
) -> Result<Columns, String> {
    let find = |names: &[&str]| {
        names.iter().find_map(|n| cells.iter().position(|c| c == n))
    };
    let (value, implied) = match value {
        Some(v) => {
            let want = norm(v);
            let i =
                cells.iter().position(|c| *c == want).ok_or_else(|| {
                    format!(
                        "no column '{v}' in the header (columns: {})",
                        cells.join(", ")
                    )
                })?;
            (
                i,
                VALUE_COLUMNS
                    .iter()
                    .find(|(n, _)| *n == want)
                    .and_then(|(_, t)| *t),
            )
        }
        None => VALUE_COLUMNS
            .iter()
            .find_map(|(n, t)| {
                cells.iter().position(|c| c == n).map(|i| (i, *t))
            })
            .ok_or("no value column in the header (name one with --column)")?,
    };
    let ty = match ty {
        Some(t) => Some(cells.iter().position(|c| *c == norm(t)).ok_or_else(
            || {
                format!(
                    "no column '{t}' in the header (columns: {})",
                    cells.join(", ")
                )
            },
        )?),
        None => find(&TYPE_COLUMNS),
    };
    Ok(Columns {
        value,
        implied,
        ty,
        title: find(&TITLE_COLUMNS),
        description: find(&DESCRIPTION_COLUMNS),
    })
}

/// True when `header` (a first line, comment marks allowed) names a
/// value column: a CSV feed rather than a plain list.
pub(super) fn looks_like(header: &str) -> bool {
    let d = delimiter(header) as char;
    let cells: Vec<String> = header.split(d).map(norm).collect();
    cells.len() >= 2
        && VALUE_COLUMNS.iter().any(|(n, _)| cells.iter().any(|c| c == n))
}

/// The header line of `text` and where the body starts (byte offset and
/// 1-based line): the first line that is not a comment, or the last
/// comment line when it reads as a header and the next does not.
fn header<'t>(
    text: &'t str,
    column: Option<&str>,
) -> Option<(&'t str, usize, u64)> {
    // A column named by the caller makes a header of the line that has it.
    let named = |t: &str| {
        column.is_some_and(|c| {
            let d = delimiter(t) as char;
            t.split(d).map(norm).any(|cell| cell == norm(c))
        })
    };
    let looks_like = |t: &str| looks_like(t) || named(t);
    let mut offset = 0;
    let mut last_comment: Option<(&str, usize, u64)> = None;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let next = offset + raw.len();
        let t = line.trim();
        if t.is_empty() {
            offset = next;
            continue;
        }
        if t.starts_with('#') {
            if looks_like(t) {
                last_comment = Some((t, next, n as u64 + 2));
            }
            offset = next;
            continue;
        }
        if looks_like(t) {
            return Some((t, next, n as u64 + 2));
        }
        return last_comment;
    }
    last_comment
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text: {e}"))?;
    let column = ctx.opts.value_column.as_deref();
    let (head, body_at, first_line) =
        header(text, column).ok_or_else(|| match column {
            Some(c) => {
                let first = text
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .unwrap_or("");
                format!("no column '{c}' in the header (the first line is: {first})")
            }
            None => {
                "not a CSV feed: no header naming a value column".to_owned()
            }
        })?;
    let d = delimiter(head);
    let cells: Vec<String> = csv::ReaderBuilder::new()
        .delimiter(d)
        .has_headers(false)
        .from_reader(head.trim_start_matches('#').trim().as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(norm).collect())
        .unwrap_or_default();
    let cols = columns(
        &cells,
        ctx.opts.value_column.as_deref(),
        ctx.opts.type_column.as_deref(),
    )?;
    let body = &bytes[body_at..];
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(d)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut lines = super::RecordLines::new(body, first_line);
    let mut rec = csv::StringRecord::new();
    let mut line = first_line;
    let base = ctx.default_meta();
    loop {
        let read = rdr.read_record(&mut rec);
        if !matches!(read, Ok(false)) {
            line = lines.next().unwrap_or(line);
        }
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                ctx.reject(
                    Source::line(&ctx.file, line),
                    "",
                    unreadable(super::csv_row_error(&e)),
                );
                continue;
            }
        }
        // A comment line is a record to both readers: skipped here, so
        // the line count stays right.
        if rec.get(0).is_some_and(|c| c.trim_start().starts_with('#')) {
            continue;
        }
        let cell = |c: Option<usize>| {
            c.and_then(|i| rec.get(i)).map(str::trim).unwrap_or("")
        };
        let value = cell(Some(cols.value));
        if value.is_empty() {
            continue;
        }
        let source = Source::line(&ctx.file, line);
        let named = cols.ty.map(|c| cell(Some(c)));
        // ThreatFox's `ip:port` type: the address is the indicator.
        let value = match named.map(norm).as_deref() {
            Some("ipport") => value.rsplit_once(':').map_or(value, |(a, _)| a),
            _ => value,
        };
        let ty = match (named, cols.implied) {
            (Some(name), _) if !name.is_empty() => match type_named(name) {
                Some(t) => Some(t),
                None => {
                    let why = if norm(name).starts_with("email") {
                        format!(
                            "type '{name}': Defender has no email indicators (a DomainName for the sender's domain may do)"
                        )
                    } else {
                        format!(
                            "unknown indicator type '{name}' (expected a domain, IP, URL, SHA-256, SHA-1, MD5 or certificate type)"
                        )
                    };
                    ctx.reject(
                        source,
                        value,
                        IndicatorError::new(
                            crate::ErrorKind::UnknownType,
                            why,
                        ),
                    );
                    continue;
                }
            },
            (_, implied) => implied.or(ctx.opts.text_type),
        };
        let mut meta = MetaDraft {
            title: base.title.clone(),
            severity: base.severity.clone(),
            ..MetaDraft::default()
        };
        if !cell(cols.title).is_empty() {
            meta.title = Some(Cow::Owned(cell(cols.title).to_owned()));
        }
        meta.description =
            Some(cell(cols.description).to_owned()).filter(|s| !s.is_empty());
        let (meta, title) = match ctx.interner.finish(meta) {
            Ok(m) => m,
            Err(e) => {
                ctx.reject(source, value, e);
                continue;
            }
        };
        let action = ctx.default_action(ty);
        ctx.push(IndicatorDraft {
            indicator_type: ty.map_or(TypeSpec::Infer, TypeSpec::Known),
            value: Cow::Owned(value.to_owned()),
            action: Some(Cow::Owned(action)),
            meta,
            title,
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_under_comments() {
        let t = "# URLhaus\n# id,dateadded,url,threat\n1,2026,http://e.com/x,malware_download\n";
        let (h, _, line) = header(t, None).unwrap();
        assert_eq!((h, line), ("# id,dateadded,url,threat", 3));
        assert!(looks_like("ioc_value;ioc_type"));
        assert!(looks_like("Indicator\tType\tFirst seen"));
        assert!(!looks_like("evil.com"));
        assert!(!looks_like("evil.com,1.2.3.4"));
        assert_eq!(type_named("DomainName"), Some(IndicatorType::DomainName));
        assert_eq!(
            type_named("FileHash-SHA256"),
            Some(IndicatorType::FileSha256)
        );
        assert_eq!(type_named("IP"), Some(IndicatorType::IpAddress));
        assert_eq!(type_named("email"), None);
    }
}

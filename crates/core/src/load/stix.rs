//! STIX 2.1 bundles: `indicator` objects with STIX patterns.
//!
//! Only patterns that are a disjunction of equality comparisons on the
//! observables Defender can hold are supported (`[file:hashes.'SHA-256' =
//! '…' OR url:value = '…']`). Anything else (AND, FOLLOWEDBY, other
//! operators, qualifiers, other object paths) is reported as unsupported
//! with the object's id: never dropped silently.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

use crate::draft::{IndicatorDraft, TypeSpec};
use crate::error::{unreadable, unsupported};
use crate::indicator::Source;
use crate::kind::IndicatorType;

use super::{Context, LineCounter};

#[derive(Deserialize)]
struct Bundle<'a> {
    #[serde(borrow)]
    objects: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct StixObject {
    #[serde(rename = "type")]
    ty: String,
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    pattern: Option<String>,
    pattern_type: Option<String>,
    valid_until: Option<String>,
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let bundle: Bundle<'_> = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a STIX bundle: {e}"))?;
    let mut lines = LineCounter::new(bytes);
    for (i, raw) in bundle.objects.iter().enumerate() {
        let source = Source::json(
            &ctx.file,
            format!("$.objects[{i}]"),
            lines.line_of(raw.get()),
        );
        object(ctx, raw, source);
    }
    Ok(())
}

fn object(ctx: &mut Context<'_>, raw: &RawValue, source: Source) {
    let obj: StixObject = match serde_json::from_str(raw.get()) {
        Ok(o) => o,
        Err(e) => {
            return ctx.reject(
                source,
                "",
                unreadable(format!("not a STIX object: {e}")),
            );
        }
    };
    if obj.ty != "indicator" {
        return ctx.out.skip(format!("STIX object of type '{}'", obj.ty));
    }
    let id = obj.id.clone().unwrap_or_default();
    let pattern = obj.pattern.clone().unwrap_or_default();
    if obj.pattern_type.as_deref().unwrap_or("stix") != "stix" {
        let why = format!(
            "unsupported pattern_type '{}' in {id}",
            obj.pattern_type.unwrap_or_default()
        );
        return ctx.reject(source, &pattern, unsupported(why));
    }
    let comparisons = match parse_pattern(&pattern) {
        Ok(c) => c,
        Err(why) => {
            return ctx.reject(
                source,
                &pattern,
                unsupported(format!(
                    "unsupported STIX pattern in {id}: {why}"
                )),
            );
        }
    };
    let mut meta = ctx.default_meta();
    meta.title = obj.name.map(Cow::Owned).or(meta.title);
    meta.description = obj.description;
    meta.expiration = obj.valid_until;
    meta.external_id = obj.id;
    let (meta, title) = match ctx.interner.finish(meta) {
        Ok(m) => m,
        Err(reason) => return ctx.reject(source, &pattern, reason),
    };
    for (ty, value) in comparisons {
        ctx.push(IndicatorDraft {
            indicator_type: TypeSpec::Known(ty),
            value: value.into(),
            action: Some(ctx.default_action(Some(ty)).into()),
            meta: meta.clone(),
            title: title.clone(),
            source: source.clone(),
        });
    }
}

/// Parses `[a = 'x' OR b = 'y'] OR [c = 'z']` into typed values.
fn parse_pattern(p: &str) -> Result<Vec<(IndicatorType, String)>, String> {
    let mut lx = Lexer { s: p, pos: 0 };
    let mut out = Vec::new();
    loop {
        lx.expect("[")?;
        loop {
            let path = lx.path()?;
            lx.expect("=")?;
            let value = lx.quoted()?;
            out.push((object_path_type(&path)?, value));
            if lx.keyword("AND") {
                return Err("AND is not supported: Defender indicators are single values".into());
            }
            if !lx.keyword("OR") {
                break;
            }
        }
        lx.expect("]")?;
        if lx.at_end() {
            return Ok(out);
        }
        if !lx.keyword("OR") {
            return Err(format!(
                "only OR may join observations (offset {})",
                lx.pos
            ));
        }
    }
}

/// The indicator type for a STIX object path.
fn object_path_type(path: &str) -> Result<IndicatorType, String> {
    let norm: String =
        path.chars().filter(|c| *c != '\'' && *c != '"').collect();
    let norm = norm.to_ascii_lowercase();
    let t = match norm.as_str() {
        "file:hashes.md5" => IndicatorType::FileMd5,
        "file:hashes.sha-1" | "file:hashes.sha1" => IndicatorType::FileSha1,
        "file:hashes.sha-256" | "file:hashes.sha256" => {
            IndicatorType::FileSha256
        }
        "ipv4-addr:value" | "ipv6-addr:value" => IndicatorType::IpAddress,
        "domain-name:value" => IndicatorType::DomainName,
        "url:value" => IndicatorType::Url,
        "x509-certificate:hashes.sha-1"
        | "x509-certificate:hashes.sha1"
        | "x509-certificate:hashes.sha-256"
        | "x509-certificate:hashes.sha256" => {
            IndicatorType::CertificateThumbprint
        }
        _ => {
            return Err(format!(
                "object path '{path}' has no Defender indicator type"
            ));
        }
    };
    Ok(t)
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.s.len()
    }

    fn expect(&mut self, tok: &str) -> Result<(), String> {
        self.skip_ws();
        if self.s[self.pos..].starts_with(tok) {
            self.pos += tok.len();
            Ok(())
        } else {
            Err(format!("expected '{tok}' at offset {}", self.pos))
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        // Compared as bytes: the text may go on with any character, and
        // slicing it `kw.len()` bytes in could split one.
        let rest = &self.s.as_bytes()[self.pos..];
        let hit = rest
            .get(..kw.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(kw.as_bytes()))
            && !rest.get(kw.len()).is_some_and(u8::is_ascii_alphanumeric);
        if hit {
            self.pos += kw.len();
        }
        hit
    }

    /// An object path: everything up to the operator, quotes included.
    fn path(&mut self) -> Result<String, String> {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '=' | '!' | '<' | '>' | ']')
            })
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(format!(
                "expected an object path at offset {}",
                self.pos
            ));
        }
        self.pos += end;
        Ok(rest[..end].to_owned())
    }

    /// A single-quoted string with `\'` and `\\` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        self.expect("'").map_err(|_| {
            format!(
                "only '=' with a quoted string is supported (offset {})",
                self.pos
            )
        })?;
        let mut out = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = parse_pattern(
            "[file:hashes.'SHA-256' = 'ab' OR url:value = 'http://x/\\'q']",
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                (IndicatorType::FileSha256, "ab".to_owned()),
                (IndicatorType::Url, "http://x/'q".to_owned()),
            ]
        );
        let p = parse_pattern(
            "[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'e.com']",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert!(
            parse_pattern(
                "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'e.com']"
            )
            .is_err()
        );
        assert!(
            parse_pattern("[ipv4-addr:value ISSUBSET '1.2.3.0/24']").is_err()
        );
        assert!(
            parse_pattern("[process:name = 'x']")
                .unwrap_err()
                .contains("process:name")
        );
        assert!(
            parse_pattern("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS")
                .is_err()
        );
        assert!(parse_pattern("[url:value = 'unterminated]").is_err());
    }

    /// Found by the `load_stix` fuzz target: a keyword check sliced the
    /// pattern by the keyword's length, inside a multi-byte character.
    #[test]
    fn keywords_next_to_multibyte_characters() {
        for pattern in [
            "[ipv4-addr:value = '1.2.3.4'] \u{feff}",
            "[ipv4-addr:value = '1.2.3.4'] O\u{e9}",
            "[ipv4-addr:value = '1.2.3.4'] \u{1F600}R [url:value = 'x']",
            "[ipv4-addr:value = '1.2.3.4' \u{feff}]",
        ] {
            let got = parse_pattern(pattern);
            assert!(got.is_err(), "{pattern:?}: {got:?}");
        }
        assert_eq!(
            parse_pattern(
                "[domain-name:value = '\u{e9}.example'] or [url:value = 'x']"
            )
            .unwrap()
            .len(),
            2
        );
    }
}

//! Indicators pulled out of prose: threat reports in plain text,
//! Markdown, AsciiDoc or HTML (`--ioc-format extract`), as iocextract and
//! ioc-finder do. The text is refanged first (`hxxps[://]evil[.]com`);
//! HTML loses its tags, scripts and styles, and its entities are decoded.
//! URLs, IPv4 and IPv6 addresses, SHA-256, SHA-1 and MD5 hashes, and
//! domains are found; a domain must end in a real top-level domain (the
//! IANA list bundled with the warninglists), so `chrome99[.]exe` or
//! `config.json` is not one. Hosts already inside a URL, and e-mail
//! addresses (Defender has none), are not extracted again.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use regex_lite::Regex;

use crate::draft::{IndicatorDraft, TypeSpec};
use crate::indicator::Source;
use crate::kind::IndicatorType;

use super::Context;

struct Patterns {
    url: Regex,
    email: Regex,
    hash: Regex,
    ipv4: Regex,
    ipv6: Regex,
    domain: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        url: Regex::new(r"(?i)\b(?:https?|ftp)://[^\s<>\x22'`\]\[{}|\\^]+").expect("valid"),
        email: Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").expect("valid"),
        hash: Regex::new(r"\b(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b").expect("valid"),
        ipv4: Regex::new(r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b").expect("valid"),
        ipv6: Regex::new(r"(?i)(?:^|[^0-9a-f:])((?:[0-9a-f]{1,4}:){2,7}:?(?:[0-9a-f]{1,4})?(?::[0-9a-f]{1,4})*)").expect("valid"),
        domain: Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b").expect("valid"),
    })
}

/// IANA's top-level domains, upper case (from the bundled warninglist).
fn tlds() -> &'static HashSet<String> {
    static T: OnceLock<HashSet<String>> = OnceLock::new();
    T.get_or_init(|| {
        crate::warninglist::bundled_list("tlds")
            .into_iter()
            .map(|s| s.to_ascii_uppercase())
            .collect()
    })
}

/// Refangs running text: the bracketed forms anywhere, then `hxxp`
/// schemes (brackets first: `hxxps[://]` is a scheme only once restored).
fn refang_text(text: &str) -> String {
    let unbracketed = crate::value::unbracket(text);
    let mut out = String::with_capacity(unbracketed.len());
    let mut rest = unbracketed.as_str();
    while let Some(at) = find_ignore_case(rest, "hxxp") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 4..];
        if after.starts_with("s://")
            || after.starts_with("S://")
            || after.starts_with("://")
        {
            out.push_str("http");
        } else {
            out.push_str(&rest[at..at + 4]);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// HTML as text: tags out (scripts and styles with their content),
/// entities decoded. Line breaks are kept, so lines still count.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        let lower: String =
            after.chars().take(8).collect::<String>().to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            after.to_ascii_lowercase().find("</script>").map(|e| e + 9)
        } else if lower.starts_with("<style") {
            after.to_ascii_lowercase().find("</style>").map(|e| e + 8)
        } else {
            after.find('>').map(|e| e + 1)
        };
        let end = skip_to.unwrap_or(after.len());
        // Keep the tag's line breaks, and a space so words stay apart.
        out.extend(after[..end].chars().filter(|&c| c == '\n'));
        out.push(' ');
        rest = &after[end..];
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after[..after.len().min(12)].find(';') else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let name = &after[1..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            n if n.starts_with("#x") || n.starts_with("#X") => {
                u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
            }
            n if n.starts_with('#') => {
                n[1..].parse().ok().and_then(char::from_u32)
            }
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn looks_like_html(text: &str) -> bool {
    let head: String =
        text.chars().take(2048).collect::<String>().to_ascii_lowercase();
    head.contains("<html")
        || head.contains("<!doctype html")
        || head.contains("<body")
        || head.contains("<p>")
        || head.contains("<div")
}

/// A URL's end: trailing punctuation and unbalanced closing brackets
/// belong to the sentence.
fn trim_url(u: &str) -> &str {
    let mut u = u
        .trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '*', '_']);
    while let Some(stripped) = u.strip_suffix(')') {
        if u.matches('(').count() >= u.matches(')').count() {
            break;
        }
        u = stripped;
    }
    u
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let raw = String::from_utf8_lossy(bytes);
    let text =
        if looks_like_html(&raw) { Cow::Owned(html_text(&raw)) } else { raw };
    let text = refang_text(&text);
    let p = patterns();
    let (meta, title) =
        ctx.interner.finish(ctx.default_meta()).map_err(|e| e.to_string())?;
    let mut found: Vec<(usize, IndicatorType, String)> = Vec::new();
    // Bytes already part of an indicator (a URL's host is not a domain
    // of its own): a mark per byte keeps each check linear in the match.
    let mut taken = vec![false; text.len()];
    let free =
        |taken: &[bool], s: usize, e: usize| !taken[s..e].iter().any(|&t| t);
    let take = |taken: &mut [bool], s: usize, e: usize| {
        taken[s..e].iter_mut().for_each(|t| *t = true)
    };
    for m in p.url.find_iter(&text) {
        let u = trim_url(m.as_str());
        found.push((m.start(), IndicatorType::Url, u.to_owned()));
        take(&mut taken, m.start(), m.start() + u.len());
    }
    for m in p.email.find_iter(&text) {
        if free(&taken, m.start(), m.end()) {
            ctx.out.skip("e-mail address in the text (Defender has no e-mail indicators)");
            take(&mut taken, m.start(), m.end());
        }
    }
    for m in p.hash.find_iter(&text) {
        if free(&taken, m.start(), m.end()) {
            let ty = match m.as_str().len() {
                64 => IndicatorType::FileSha256,
                40 => IndicatorType::FileSha1,
                _ => IndicatorType::FileMd5,
            };
            found.push((m.start(), ty, m.as_str().to_owned()));
            take(&mut taken, m.start(), m.end());
        }
    }
    for m in p.ipv4.find_iter(&text) {
        // Not a part of a version number or a longer dotted run.
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let dotted = |c: Option<char>| {
            c.is_some_and(|c| c == '.' || c.is_ascii_digit())
        };
        if free(&taken, m.start(), m.end())
            && !dotted(before)
            && !(dotted(after)
                && text[m.end()..]
                    .chars()
                    .nth(1)
                    .is_some_and(|c| c.is_ascii_digit()))
        {
            found.push((
                m.start(),
                IndicatorType::IpAddress,
                m.as_str().to_owned(),
            ));
            take(&mut taken, m.start(), m.end());
        }
    }
    for c in p.ipv6.captures_iter(&text) {
        let m = c.get(1).expect("group 1");
        if free(&taken, m.start(), m.end())
            && m.as_str().parse::<std::net::Ipv6Addr>().is_ok()
        {
            found.push((
                m.start(),
                IndicatorType::IpAddress,
                m.as_str().to_owned(),
            ));
            take(&mut taken, m.start(), m.end());
        }
    }
    for m in p.domain.find_iter(&text) {
        let d = m.as_str().trim_end_matches('.');
        let tld = d.rsplit('.').next().unwrap_or("").to_ascii_uppercase();
        if free(&taken, m.start(), m.end())
            && tlds().contains(&tld)
            && !d.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            found.push((m.start(), IndicatorType::DomainName, d.to_owned()));
            take(&mut taken, m.start(), m.end());
        }
    }
    found.sort_by_key(|f| f.0);
    let mut lines = super::LineCounter::new(text.as_bytes());
    let mut seen = HashSet::new();
    for (at, ty, value) in found {
        if !seen.insert((ty, value.to_ascii_lowercase())) {
            continue;
        }
        let line = lines.line_of(&text[at..]);
        ctx.push(IndicatorDraft {
            indicator_type: TypeSpec::Known(ty),
            value: Cow::Owned(value),
            action: Some(Cow::Owned(ctx.default_action(Some(ty)))),
            meta: meta.clone(),
            title: title.clone(),
            source: Source::line(&ctx.file, line),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_end_where_sentences_do_and_html_becomes_text() {
        assert_eq!(trim_url("http://e.com/a."), "http://e.com/a");
        assert_eq!(
            trim_url("http://e.com/wiki/X_(y))."),
            "http://e.com/wiki/X_(y)"
        );
        let t = html_text(
            "<p>C2 at <b>evil[.]com</b> &amp; <script>var x='1.2.3.4'</script>5.6.7.8&#46;</p>",
        );
        assert!(
            t.contains("evil[.]com")
                && !t.contains("1.2.3.4")
                && t.contains("5.6.7.8."),
            "{t}"
        );
        assert_eq!(
            refang_text("see hxxps[://]bad[.]example/x and HXXP://a(.)b"),
            "see https://bad.example/x and http://a.b"
        );
    }
}

//! URLs, as indicators and as observed in event columns.
//!
//! One parser serves both, so an indicator and an observable that mean the
//! same resource always compare equal. It does not rewrite paths the way a
//! browser would (no dot-segment removal, no re-encoding): Defender matches
//! the path as written, and so do we.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::host::normalize_host;
use super::ip::{may_be_addr, parse_addr};

/// The host of a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    /// A normalised DNS name.
    Name(Cow<'a, str>),
    /// An IP literal.
    Ip(IpAddr),
}

/// A parsed, normalised URL: scheme and host lowercased, fragment dropped,
/// path and query as written with percent-escapes in uppercase hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme, lowercase; `None` for `evil.com/path`.
    pub scheme: Option<Cow<'a, str>>,
    /// The host.
    pub host: Host<'a>,
    /// The port as written, if any.
    pub port: Option<u16>,
    /// The path as written (may be empty).
    pub path: Cow<'a, str>,
    /// The query without its `?`, if any.
    pub query: Option<Cow<'a, str>>,
}

impl<'a> Url<'a> {
    /// Parses a full URL (`https://h:8443/p?q#f`), a scheme-less one
    /// (`h/p`), `host:port` or a bare host.
    pub fn parse(s: &'a str) -> Result<Url<'a>, &'static str> {
        // Without an early exit the compiler vectorises this check.
        let bad =
            s.bytes().fold(false, |bad, b| bad | (b <= b' ' || b == 0x7f));
        if bad {
            return Err("URL contains white space or control characters");
        }
        // The searches below are memchr's: `str::split_once` with a char
        // pattern cost more than the rest of the parse.
        let s = memchr::memchr(b'#', s.as_bytes()).map_or(s, |i| &s[..i]);
        let (scheme, rest) = split_scheme(s)?;
        let auth_end =
            memchr::memchr2(b'/', b'?', rest.as_bytes()).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        let (host, port) = split_authority(authority)?;
        let (path, query) = match memchr::memchr(b'?', tail.as_bytes()) {
            Some(i) => (&tail[..i], Some(&tail[i + 1..])),
            None => (tail, None),
        };
        Ok(Url {
            scheme,
            host,
            port,
            path: upper_percent_hex(path),
            query: query.map(upper_percent_hex),
        })
    }

    /// The explicit port, else the default port of the scheme, else `None`
    /// (no scheme, or one without a well-known port).
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme.as_deref()?))
    }

    /// The path used for prefix matching: an empty path means `/`.
    pub fn match_path(&self) -> &str {
        if self.path.is_empty() { "/" } else { &self.path }
    }

    /// The host as text: a DNS name, or the canonical IP literal.
    pub fn host_text(&self) -> Cow<'_, str> {
        match &self.host {
            Host::Name(n) => Cow::Borrowed(n),
            Host::Ip(ip) => Cow::Owned(ip.to_string()),
        }
    }

    /// The normalised text: the default port dropped, IPv6 hosts in
    /// brackets.
    pub fn to_normal_string(&self) -> String {
        // Sized once: growing it piece by piece reallocated several
        // times per URL.
        let size = self.scheme.as_ref().map_or(0, |s| s.len() + 3)
            + match &self.host {
                Host::Name(n) => n.len(),
                Host::Ip(_) => 41,
            }
            + 6
            + self.path.len()
            + self.query.as_ref().map_or(0, |q| q.len() + 1);
        let mut out = String::with_capacity(size);
        if let Some(scheme) = &self.scheme {
            out.push_str(scheme);
            out.push_str("://");
        }
        match &self.host {
            Host::Name(n) => out.push_str(n),
            Host::Ip(IpAddr::V6(v6)) => write!(out, "[{v6}]").unwrap(),
            Host::Ip(ip) => write!(out, "{ip}").unwrap(),
        }
        let default = self.scheme.as_deref().and_then(default_port);
        if let Some(port) = self.port.filter(|p| Some(*p) != default) {
            write!(out, ":{port}").unwrap();
        }
        out.push_str(&self.path);
        if let Some(q) = &self.query {
            out.push('?');
            out.push_str(q);
        }
        out
    }
}

/// The well-known port of a scheme.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Splits off `scheme://`. A `://` counts only before the first `/` or `?`,
/// so `evil.com/r?u=http://x` has no scheme.
fn split_scheme(
    s: &str,
) -> Result<(Option<Cow<'_, str>>, &str), &'static str> {
    // The first `:` followed by `//`, before any `/` or `?` (a substring
    // search would cost more than the rest of the parse).
    let b = s.as_bytes();
    let mut from = 0;
    let i = loop {
        match memchr::memchr3(b':', b'/', b'?', &b[from..]) {
            Some(j) if b[from + j] == b':' => {
                if b[from + j..].starts_with(b"://") {
                    break from + j;
                }
                from += j + 1;
            }
            _ => return Ok((None, s)),
        }
    };
    let scheme = &s[..i];
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let ok =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    if !first_ok || !bytes.all(ok) {
        return Err("invalid URL scheme");
    }
    let scheme = if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(scheme.to_ascii_lowercase())
    } else {
        Cow::Borrowed(scheme)
    };
    Ok((Some(scheme), &s[i + 3..]))
}

/// Splits `userinfo@host:port` into a normalised host and a port. The
/// user info is dropped: it does not take part in matching.
fn split_authority(a: &str) -> Result<(Host<'_>, Option<u16>), &'static str> {
    let a = memchr::memrchr(b'@', a.as_bytes()).map_or(a, |i| &a[i + 1..]);
    if a.is_empty() {
        return Err("URL has no host");
    }
    // A bare IPv6 address (as some tables log it) has colons but no port.
    let has_double_colon = memchr::memchr(b':', a.as_bytes()).is_some()
        && a.as_bytes().windows(2).any(|w| w == b"::");
    if let Some(ip) = has_double_colon.then(|| parse_addr(a)).flatten() {
        return Ok((Host::Ip(ip), None));
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (v6, after) =
            rest.split_once(']').ok_or("unclosed '[' in host")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("junk after ']' in host")?),
        };
        (&a[..v6.len() + 2], port)
    } else {
        match memchr::memrchr(b':', a.as_bytes()) {
            Some(i) => (&a[..i], Some(&a[i + 1..])),
            None => (a, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| "invalid port")?),
        None => None,
    };
    // Only hex digits, dots, colons and brackets can spell an address;
    // most hosts are names and skip the attempt.
    if let Some(ip) = may_be_addr(host).then(|| parse_addr(host)).flatten() {
        return Ok((Host::Ip(ip), port));
    }
    if host.starts_with('[') {
        return Err("invalid IPv6 literal in host");
    }
    Ok((Host::Name(normalize_host(host)?), port))
}

/// Rewrites `%2f` as `%2F`, leaving everything else as written.
fn upper_percent_hex(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if memchr::memchr(b'%', b).is_none() {
        return Cow::Borrowed(s);
    }
    let needs = (0..b.len()).any(|i| {
        b[i] == b'%'
            && b.get(i + 1..i + 3).is_some_and(|h| {
                h.iter().all(u8::is_ascii_hexdigit)
                    && h.iter().any(u8::is_ascii_lowercase)
            })
    });
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = b.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'%'
            && out
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            out[i + 1].make_ascii_uppercase();
            out[i + 2].make_ascii_uppercase();
            i += 3;
        } else {
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8(out).expect("only ASCII bytes changed"))
}

/// Whether an observed path falls under an indicator's path at a segment
/// boundary: `/a` covers `/a`, `/a/` and `/a/b` but not `/ab`; `/a/`
/// covers `/a/b` but not `/a`.
pub fn path_covers(indicator_path: &str, observed_path: &str) -> bool {
    let Some(rest) = observed_path.strip_prefix(indicator_path) else {
        return false;
    };
    rest.is_empty() || indicator_path.ends_with('/') || rest.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Url::parse(s).unwrap().to_normal_string()
    }

    #[test]
    fn normal_forms() {
        assert_eq!(
            norm("HTTPS://Evil.COM:443/A/b?X=%2f#frag"),
            "https://evil.com/A/b?X=%2F"
        );
        assert_eq!(norm("http://evil.com:8080"), "http://evil.com:8080");
        assert_eq!(norm("evil.com/path"), "evil.com/path");
        assert_eq!(norm("http://user:pw@evil.com/"), "http://evil.com/");
        assert_eq!(
            norm("http://[2001:4860::1]:80/x"),
            "http://[2001:4860::1]/x"
        );
        assert_eq!(norm("evil.com/r?u=http://x"), "evil.com/r?u=http://x");
        assert_eq!(
            norm("http://bücher.example/"),
            "http://xn--bcher-kva.example/"
        );
    }

    #[test]
    fn observables() {
        let u = Url::parse("evil.com:443").unwrap();
        assert_eq!(u.port, Some(443));
        assert_eq!(u.match_path(), "/");
        let u = Url::parse("2001:4860::8888").unwrap();
        assert!(matches!(u.host, Host::Ip(_)));
        let u = Url::parse("::ffff:1.2.3.4").unwrap();
        assert_eq!(u.host, Host::Ip("1.2.3.4".parse().unwrap()));
        assert!(Url::parse("http://").is_err());
        assert!(Url::parse("http://a b.com/").is_err());
        assert!(Url::parse("http://evil.com:99999/").is_err());
        assert!(Url::parse("1http://evil.com/").is_err());
    }

    #[test]
    fn scheme_only_before_the_first_slash_or_query() {
        let scheme =
            |s: &str| Url::parse(s).map(|u| u.scheme.map(Cow::into_owned));
        assert_eq!(scheme("HTTP://x.com"), Ok(Some("http".into())));
        assert_eq!(scheme("x.com:80/a://b"), Ok(None));
        assert_eq!(scheme("x.com?u=a://b"), Ok(None));
        assert_eq!(scheme("x.com:80"), Ok(None));
        // A colon before the scheme's own is not a scheme character.
        assert!(scheme("a:b://x.com").is_err());
        assert_eq!(scheme("svn+ssh://x.com/r"), Ok(Some("svn+ssh".into())));
        // Hosts that look like hex are names unless they parse as IPs.
        assert_eq!(
            Url::parse("http://dead.beef/").unwrap().host,
            Host::Name("dead.beef".into())
        );
        assert_eq!(
            Url::parse("http://1.2.3.4/").unwrap().host,
            Host::Ip("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn segment_boundaries() {
        assert!(path_covers("/a", "/a"));
        assert!(path_covers("/a", "/a/"));
        assert!(path_covers("/a", "/a/b"));
        assert!(!path_covers("/a", "/ab"));
        assert!(path_covers("/a/", "/a/b"));
        assert!(!path_covers("/a/", "/a"));
        assert!(path_covers("/", "/anything"));
    }
}

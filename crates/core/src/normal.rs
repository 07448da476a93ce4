//! The normal form of an indicator value of a known type, and the type
//! of a bare value: where [`value`](crate::value)'s canonical forms meet
//! Defender's indicator types and its rules for them (contract §1).

use std::net::IpAddr;

use crate::error::{ErrorKind, IndicatorError};
use crate::kind::IndicatorType;
use crate::value::{self, hex, host, ip, url};

fn err(kind: ErrorKind, message: impl Into<Box<str>>) -> IndicatorError {
    IndicatorError::new(kind, message)
}

/// Normalises a raw indicator value of a known type, refanging it first.
///
/// # Errors
///
/// An [`IndicatorError`] whose message names what was expected
/// (`expected 64 hex digits, found 63`).
pub fn normalize(
    ty: IndicatorType,
    raw: &str,
) -> Result<String, IndicatorError> {
    let v = value::refang(raw);
    if v.is_empty() {
        return Err(err(ErrorKind::EmptyValue, "empty value"));
    }
    match ty {
        IndicatorType::FileMd5 => hash(&v, 32),
        IndicatorType::FileSha1 => hash(&v, 40),
        IndicatorType::FileSha256 => hash(&v, 64),
        IndicatorType::CertificateThumbprint => thumbprint(&v),
        IndicatorType::IpAddress => ip_value(&v),
        IndicatorType::DomainName => domain(&v),
        IndicatorType::Url => url_value(&v),
    }
}

fn hash(v: &str, digits: usize) -> Result<String, IndicatorError> {
    if !hex::is_hex(v) {
        return Err(err(
            ErrorKind::InvalidHash,
            format!("expected {digits} hex digits, found non-hex characters"),
        ));
    }
    if v.len() != digits {
        return Err(err(
            ErrorKind::InvalidHash,
            format!("expected {digits} hex digits, found {}", v.len()),
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// Certificate thumbprints are often copied as `AB:CD:…` or in spaced
/// groups from certificate viewers; the separators carry no meaning.
fn thumbprint(v: &str) -> Result<String, IndicatorError> {
    let digits: String =
        v.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    match digits.len() {
        40 | 64 if hex::is_hex(&digits) => Ok(digits.to_ascii_lowercase()),
        _ if !hex::is_hex(&digits) => Err(err(
            ErrorKind::InvalidThumbprint,
            "expected 40 hex digits (SHA-1 thumbprint), found non-hex characters",
        )),
        n => Err(err(
            ErrorKind::InvalidThumbprint,
            format!("expected 40 hex digits (SHA-1 thumbprint), found {n}"),
        )),
    }
}

fn ip_value(v: &str) -> Result<String, IndicatorError> {
    if v.contains('/') {
        return ip::Cidr::parse(v).map(|c| c.to_normal_string()).map_err(
            |why| {
                err(
                    ErrorKind::InvalidCidr,
                    format!("invalid CIDR network: {why}"),
                )
            },
        );
    }
    let addr = ip::parse_addr(v)
        .ok_or_else(|| err(ErrorKind::InvalidIp, "not an IP address"))?;
    if let Some(why) = ip::non_public_reason(addr) {
        return Err(err(
            ErrorKind::NonPublicIp,
            format!("Defender accepts only public addresses; this is {why}"),
        ));
    }
    Ok(match addr {
        IpAddr::V4(a) => ip::format_v4(a),
        IpAddr::V6(_) => addr.to_string(),
    })
}

fn domain(v: &str) -> Result<String, IndicatorError> {
    if ip::may_be_addr(v) && ip::parse_addr(v).is_some() {
        return Err(err(
            ErrorKind::WrongType,
            "an IP address, not a domain name (use IpAddress)",
        ));
    }
    if v.bytes().any(|b| matches!(b, b'/' | b':' | b'@' | b'?')) {
        return Err(err(
            ErrorKind::WrongType,
            "a domain name has no scheme, port or path (use Url)",
        ));
    }
    let host = host::normalize_host(v)
        .map_err(|m| err(ErrorKind::InvalidDomain, m))?;
    if host::label_count(&host) < 2 {
        return Err(err(
            ErrorKind::InvalidDomain,
            "a domain name needs at least two labels",
        ));
    }
    Ok(host.into_owned())
}

fn url_value(v: &str) -> Result<String, IndicatorError> {
    let url = url::Url::parse(v).map_err(|m| err(ErrorKind::InvalidUrl, m))?;
    if let url::Host::Name(name) = &url.host
        && host::label_count(name) < 2
        && url.scheme.is_none()
    {
        return Err(err(
            ErrorKind::InvalidUrl,
            "not a URL: a single label with no scheme",
        ));
    }
    Ok(url.to_normal_string())
}

/// Guesses the type of a bare value from a plain list: hashes by length,
/// IP addresses and CIDR networks, URLs (a scheme or a path), domains.
/// The value must already be refanged.
pub fn infer_type(v: &str) -> Option<IndicatorType> {
    if hex::is_hex(v) {
        return match v.len() {
            32 => Some(IndicatorType::FileMd5),
            40 => Some(IndicatorType::FileSha1),
            64 => Some(IndicatorType::FileSha256),
            _ => None,
        };
    }
    if ip::parse_addr(v).is_some() || ip::Cidr::parse(v).is_ok() {
        return Some(IndicatorType::IpAddress);
    }
    if v.contains("://") || v.contains(['/', '?']) {
        return Some(IndicatorType::Url);
    }
    if v.contains('.') {
        return Some(IndicatorType::DomainName);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorType::*;

    #[test]
    fn normalises_each_type() {
        let ok = |t, i: &str, o: &str| {
            assert_eq!(normalize(t, i).as_deref(), Ok(o), "{i}")
        };
        ok(
            FileMd5,
            " D41D8CD98F00B204E9800998ECF8427E ",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        ok(
            CertificateThumbprint,
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
            "abcdef0123456789abcdef0123456789abcdef01",
        );
        ok(IpAddress, "8.8.8[.]8", "8.8.8.8");
        ok(IpAddress, "2001:4860:4860:0:0:0:0:8888", "2001:4860:4860::8888");
        ok(IpAddress, "10.0.0.0/8", "10.0.0.0/8");
        ok(DomainName, "Evil[.]COM.", "evil.com");
        ok(Url, "hxxps://Evil[.]com:443/Path", "https://evil.com/Path");
        ok(Url, "evil.com/x", "evil.com/x");
    }

    #[test]
    fn refuses_with_reasons() {
        let err = |t, i: &str, kind: ErrorKind, text: &str| {
            let e = normalize(t, i).unwrap_err();
            assert_eq!(e.kind(), kind, "{i}: {e}");
            assert!(e.message().contains(text), "{i}: {e}");
        };
        use ErrorKind as K;
        err(
            FileSha256,
            "abc",
            K::InvalidHash,
            "expected 64 hex digits, found 3",
        );
        err(FileSha1, "zz", K::InvalidHash, "non-hex");
        err(IpAddress, "192.168.1.1", K::NonPublicIp, "private");
        err(IpAddress, "not-an-ip", K::InvalidIp, "not an IP");
        err(IpAddress, "1.2.3.0/33", K::InvalidCidr, "CIDR");
        err(DomainName, "localhost", K::InvalidDomain, "two labels");
        err(DomainName, "1.2.3.4", K::WrongType, "IP address");
        err(DomainName, "evil.com/x", K::WrongType, "Url");
        err(Url, "http://", K::InvalidUrl, "no host");
        err(FileMd5, "  ", K::EmptyValue, "empty");
        err(CertificateThumbprint, "abc", K::InvalidThumbprint, "40 hex");
    }

    #[test]
    fn infers_types() {
        assert_eq!(
            infer_type("d41d8cd98f00b204e9800998ecf8427e"),
            Some(FileMd5)
        );
        assert_eq!(infer_type(&"a".repeat(40)), Some(FileSha1));
        assert_eq!(infer_type(&"a".repeat(64)), Some(FileSha256));
        assert_eq!(infer_type("1.2.3.4"), Some(IpAddress));
        assert_eq!(infer_type("1.2.0.0/16"), Some(IpAddress));
        assert_eq!(infer_type("evil.com/a"), Some(Url));
        assert_eq!(infer_type("http://evil.com"), Some(Url));
        assert_eq!(infer_type("evil.com"), Some(DomainName));
        assert_eq!(infer_type("abc"), None);
    }
}

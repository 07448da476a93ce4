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
    if let Some(why) = misfit(v) {
        return Err(why);
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
    if let Some(why) = misfit(v) {
        return Err(why);
    }
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
    infer(v).ok()
}

/// [`infer_type`], with a reason when the value is none of the types,
/// naming what it looks like and what to write instead.
///
/// # Errors
///
/// An [`IndicatorError`] of kind [`ErrorKind::UnknownValueType`] or
/// [`ErrorKind::WrongType`].
pub fn infer(v: &str) -> Result<IndicatorType, IndicatorError> {
    if let Some(why) = misfit(v) {
        return Err(why);
    }
    if is_colon_thumbprint(v) {
        return Ok(IndicatorType::CertificateThumbprint);
    }
    // `8.8.8.0/33` is a broken network, not a URL path.
    if let Some((addr, len)) = v.split_once('/')
        && !len.is_empty()
        && len.bytes().all(|b| b.is_ascii_digit())
        && ip::parse_addr(addr).is_some()
    {
        return Ok(IndicatorType::IpAddress);
    }
    guess(v).ok_or_else(|| {
        err(
            ErrorKind::UnknownValueType,
            "cannot tell the type of this value (hash, IP, domain or URL)",
        )
    })
}

/// Shapes that look like an indicator but are not one Defender takes:
/// an address with a port, an email address, a wildcard domain.
fn misfit(v: &str) -> Option<IndicatorError> {
    if v.contains("://") {
        return None;
    }
    if let Some((addr, port)) = v.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && ip::parse_addr(addr.trim_start_matches('[').trim_end_matches(']'))
            .is_some()
        && (addr.contains('.') || addr.starts_with('['))
    {
        let a = addr.trim_start_matches('[').trim_end_matches(']');
        return Some(err(
            ErrorKind::WrongType,
            format!(
                "an address with a port: write the address alone ({a}, an IpAddress), or a URL such as http://{addr}:{port}/"
            ),
        ));
    }
    if let Some((user, domain)) = v.split_once('@')
        && !user.is_empty()
        && domain.contains('.')
        && !domain.contains(['/', '@'])
    {
        return Some(err(
            ErrorKind::WrongType,
            format!(
                "an email address: Defender has no email indicators; write the domain ({domain}, a DomainName), which also matches its subdomains"
            ),
        ));
    }
    if let Some(rest) = v.strip_prefix("*.") {
        return Some(err(
            ErrorKind::WrongType,
            format!(
                "a wildcard: write {rest} (a DomainName), which matches it and all its subdomains"
            ),
        ));
    }
    None
}

/// `AB:CD:…` (20 colon-separated hex pairs): a SHA-1 thumbprint copied
/// from a certificate viewer.
fn is_colon_thumbprint(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    parts.len() == 20 && parts.iter().all(|p| p.len() == 2 && hex::is_hex(p))
}

fn guess(v: &str) -> Option<IndicatorType> {
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
    fn wrong_shapes_say_what_to_write() {
        let e = |v: &str| infer(v).unwrap_err();
        let m = e("8.8.8.8:443");
        assert_eq!(m.kind(), ErrorKind::WrongType);
        assert!(
            m.message().contains("address with a port")
                && m.message().contains("8.8.8.8, an IpAddress"),
            "{m}"
        );
        assert!(
            e("[2001:db8::1]:8443").message().contains("2001:db8::1"),
            "v6 with a port"
        );
        assert!(
            e("user@evil.com")
                .message()
                .contains("write the domain (evil.com")
        );
        assert!(e("*.evil.com").message().contains("write evil.com"));
        assert_eq!(
            infer("8.8.8.0/33"),
            Ok(IpAddress),
            "a broken network, not a URL"
        );
        assert_eq!(
            normalize(IpAddress, "8.8.8.0/33").unwrap_err().kind(),
            ErrorKind::InvalidCidr
        );
        let thumb =
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";
        assert_eq!(infer(thumb), Ok(CertificateThumbprint));
        assert_eq!(
            normalize(DomainName, "user@evil.com").unwrap_err().kind(),
            ErrorKind::WrongType
        );
        assert!(
            normalize(IpAddress, "1.2.3.4:80")
                .unwrap_err()
                .message()
                .contains("port")
        );
        assert_eq!(
            infer("http://user@evil.com/x"),
            Ok(Url),
            "a URL may carry a user"
        );
        assert_eq!(
            infer("2001:db8::1"),
            Ok(IpAddress),
            "not an address with a port"
        );
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

//! Host names: lowercase ASCII, IDN to punycode, no trailing dot.

use std::borrow::Cow;

/// Normalises a host name the way domain indicators are stored: lowercase
/// ASCII, internationalised names as punycode (`xn--…`), one trailing dot
/// removed. The result is borrowed when the input is already normal, which
/// is the common case on the replay hot path.
///
/// Letters, digits, `-` and `_` are accepted in labels (`_` occurs in real
/// DNS names such as `_dmarc`); empty labels, labels over 63 bytes and
/// names over 253 bytes are refused.
pub fn normalize_host(s: &str) -> Result<Cow<'_, str>, &'static str> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err("empty host name");
    }
    if !s.is_ascii() {
        return idn_to_ascii(s).map(Cow::Owned);
    }
    check_ascii(s)?;
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Cow::Owned(s.to_ascii_lowercase()))
    } else {
        Ok(Cow::Borrowed(s))
    }
}

fn idn_to_ascii(s: &str) -> Result<String, &'static str> {
    let ascii = idna::domain_to_ascii(s)
        .map_err(|_| "invalid internationalised host name")?;
    let ascii = ascii.strip_suffix('.').map(str::to_owned).unwrap_or(ascii);
    check_ascii(&ascii)?;
    Ok(ascii)
}

fn check_ascii(s: &str) -> Result<(), &'static str> {
    if s.len() > 253 {
        return Err("host name longer than 253 characters");
    }
    // One pass over the bytes (a `split('.')` per name cost more than
    // the checks themselves).
    let mut label = 0usize;
    for b in s.bytes() {
        if b == b'.' {
            if label == 0 {
                return Err("host name has an empty label");
            }
            label = 0;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err("host name has a character not allowed in DNS");
        }
        label += 1;
        if label > 63 {
            return Err("host name label longer than 63 characters");
        }
    }
    if label == 0 {
        return Err("host name has an empty label");
    }
    Ok(())
}

/// The number of labels of a normalised host (`a.b.c` has 3).
pub fn label_count(host: &str) -> usize {
    host.bytes().filter(|&b| b == b'.').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        let n = |s: &str| normalize_host(s).map(|c| c.into_owned());
        assert_eq!(n("Evil.COM."), Ok("evil.com".into()));
        assert_eq!(n("bücher.example"), Ok("xn--bcher-kva.example".into()));
        assert_eq!(n("_dmarc.example.com"), Ok("_dmarc.example.com".into()));
        assert!(n("a..b").is_err());
        assert!(n("a b.com").is_err());
        assert!(n("*.evil.com").is_err());
        assert!(n(".").is_err());
        assert!(matches!(normalize_host("ok.com"), Ok(Cow::Borrowed(_))));
    }
}

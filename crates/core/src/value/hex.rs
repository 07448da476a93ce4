//! Hex digests: parsing into fixed-size byte arrays and back.

/// Decodes exactly `2 * N` hex digits, in either case, into bytes.
///
/// Returns `None` for any other length or any non-hex byte. This is the
/// lookup key of the hash tables, so it must not allocate.
pub fn decode<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[inline]
fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex text of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// True when every byte is an ASCII hex digit.
pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_cases_and_rejects_the_rest() {
        assert_eq!(decode::<2>(b"aBcD"), Some([0xab, 0xcd]));
        assert_eq!(decode::<2>(b"abc"), None);
        assert_eq!(decode::<2>(b"abcg"), None);
        assert_eq!(encode(&[0xab, 0x01]), "ab01");
    }
}

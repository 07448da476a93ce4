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
    // OR-ing every nibble lets one check at the end catch a non-hex byte
    // (0x10 in the table) without a branch per byte.
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let hi = NIBBLE[usize::from(pair[0])];
        let lo = NIBBLE[usize::from(pair[1])];
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0x10 == 0).then_some(out)
}

/// The value of one hex digit (either case), or 0x10 for any other byte.
#[inline]
pub fn nibble(b: u8) -> u8 {
    NIBBLE[usize::from(b)]
}

/// Hex digit values; 0x10 marks a byte that is not a hex digit.
static NIBBLE: [u8; 256] = {
    let mut t = [0x10u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

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
    // A fold, not `all`: without the early exit the loop vectorises, and
    // digests are short enough that exiting early saves nothing.
    !s.is_empty() && s.bytes().fold(true, |ok, b| ok & b.is_ascii_hexdigit())
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

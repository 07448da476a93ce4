//! Where a line's strings begin and end, found 64 bytes at a time.
//!
//! The fast path spends most of its time inside strings (hashes, paths,
//! command lines, `AdditionalFields`). Instead of walking each string
//! byte by byte to its closing quote, this pass marks every quote that
//! is not escaped in a bitmap, as simdjson's first stage does: the byte
//! classes of a 64-byte block become 64-bit masks (quotes, backslashes,
//! control bytes, high bytes), and a few integer operations on the
//! backslash mask tell which bytes are escaped. Finding the end of a
//! string is then a shift and a trailing-zero count.
//!
//! The same pass checks what would otherwise need a look at every byte:
//! no control bytes (they are invalid inside strings and, as white
//! space, off the fast path), only valid escapes (`\u` included), and
//! whether the line is plain ASCII (then UTF-8 validation is skipped).
//!
//! The byte classes come from AVX-512 or AVX2, whichever the CPU has
//! (checked at run time), and from a plain loop elsewhere; all three give
//! the same masks, and a property test holds them to it.

/// A line's unescaped quotes and backslashes, as bitmaps (bit `i % 64`
/// of word `i / 64` stands for byte `i`). Reused from line to line.
#[derive(Debug, Default)]
pub(crate) struct Quotes {
    /// Per 64-byte block: unescaped quotes, then backslashes.
    words: Vec<[u64; 2]>,
}

/// What the pass learned about a line it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Every byte is below 0x80, so the line is valid UTF-8.
    pub ascii: bool,
}

/// The classes of one block's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    control: u64,
    high: u64,
}

impl Quotes {
    /// Indexes `line`, or returns `None` when it holds a control byte or
    /// an escape JSON does not allow (or a `\u` escape of a surrogate,
    /// which is the full parser's call).
    pub fn index(&mut self, line: &[u8]) -> Option<Verdict> {
        #[cfg(target_arch = "x86_64")]
        match simd() {
            // SAFETY: the CPU has the features (checked at run time).
            Simd::Avx512 => return unsafe { self.index_avx512(line) },
            Simd::Avx2 => return unsafe { self.index_avx2(line) },
            Simd::None => {}
        }
        self.index_with(line, classify_plain)
    }

    /// [`Self::index`] with AVX-512: one compare per class gives the
    /// 64-bit mask directly.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw")]
    fn index_avx512(&mut self, line: &[u8]) -> Option<Verdict> {
        self.index_with(line, |b| x86::classify_avx512(b))
    }

    /// [`Self::index`] compiled for AVX2 as a whole, so that the block
    /// classifier inlines into the loop.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn index_avx2(&mut self, line: &[u8]) -> Option<Verdict> {
        self.index_with(line, |b| x86::classify_avx2(b))
    }

    #[inline(always)]
    fn index_with(
        &mut self,
        line: &[u8],
        classify: impl Fn(&[u8; 64]) -> Masks,
    ) -> Option<Verdict> {
        self.words.clear();
        self.words.reserve(line.len() / 64 + 1);
        let mut prev_escaped = 0u64;
        let mut high = 0u64;
        let mut blocks = line.chunks_exact(64);
        let mut at = 0;
        for block in &mut blocks {
            prefetch_ahead(block);
            let block: &[u8; 64] = block.try_into().expect("64 bytes");
            let m = classify(block);
            self.push(line, at, m, &mut prev_escaped, &mut high)?;
            at += 64;
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            // Pad with spaces: not a quote, backslash or control byte.
            let mut block = [b' '; 64];
            block[..rest.len()].copy_from_slice(rest);
            let m = classify(&block);
            self.push(line, at, m, &mut prev_escaped, &mut high)?;
        }
        if prev_escaped != 0 {
            // A final backslash escapes nothing: not JSON.
            return None;
        }
        Some(Verdict { ascii: high == 0 })
    }

    #[inline(always)]
    fn push(
        &mut self,
        line: &[u8],
        at: usize,
        m: Masks,
        prev_escaped: &mut u64,
        high: &mut u64,
    ) -> Option<()> {
        if m.control != 0 {
            return None;
        }
        *high |= m.high;
        let escaped = escaped_bytes(m.backslash, prev_escaped);
        if escaped != 0 {
            check_escapes(line, at, escaped)?;
        }
        self.words.push([m.quote & !escaped, m.backslash]);
        Some(())
    }

    /// The end of the string whose content starts at `start`: the
    /// position of its closing quote (the first unescaped quote from
    /// `start` on), and whether a backslash lies between. `None` when
    /// the line ends first.
    #[inline]
    pub fn string_end(&self, start: usize) -> Option<(usize, bool)> {
        let mut word = start / 64;
        let shift = start % 64;
        let [quote, backslash] = *self.words.get(word)?;
        let (quotes, backslashes) = (quote >> shift, backslash >> shift);
        if quotes != 0 {
            let len = quotes.trailing_zeros();
            let escaped = backslashes & below(len) != 0;
            return Some((start + len as usize, escaped));
        }
        // The string goes on into the following blocks.
        let mut escaped = backslashes != 0;
        loop {
            word += 1;
            let [quote, backslash] = *self.words.get(word)?;
            if quote != 0 {
                let len = quote.trailing_zeros();
                escaped |= backslash & below(len) != 0;
                return Some((word * 64 + len as usize, escaped));
            }
            escaped |= backslash != 0;
        }
    }
}

/// The bits below bit `n` (`n` < 64).
#[inline]
fn below(n: u32) -> u64 {
    (1u64 << n) - 1
}

/// How far ahead of the block being indexed the CPU is asked to fetch:
/// a line or two, so that the next lines come from the cache.
const PREFETCH_AHEAD: usize = 4 << 10;

/// Asks the CPU to fetch the memory `PREFETCH_AHEAD` bytes past `block`.
/// Finding the next newline was otherwise the first touch of each line
/// (a bare pass over mapped memory runs at ~8 GB/s on the development
/// VM). One request per block indexed spreads them out: a burst of them
/// per line stalled on the CPU's fill buffers when both cores read.
#[inline(always)]
fn prefetch_ahead(block: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let ahead = block.as_ptr().wrapping_add(PREFETCH_AHEAD);
        // SAFETY: a prefetch is a hint: it reads nothing and cannot
        // fault, whatever the address (past the end of the input, it is
        // dropped).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = block;
}

/// Bytes preceded by an odd run of backslashes, i.e. escaped ones
/// (simdjson's branch-free method). `prev_escaped` carries a run that
/// crosses into the next block.
fn escaped_bytes(backslash: u64, prev_escaped: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*prev_escaped;
    let follows_escape = (backslash << 1) | *prev_escaped;
    // Runs of backslashes that start on an odd bit; adding the run to
    // its start carries past its end, which tells the run's parity.
    let odd_starts = backslash & !EVEN & !follows_escape;
    let (even_runs, overflow) = odd_starts.overflowing_add(backslash);
    *prev_escaped = u64::from(overflow);
    let invert = even_runs << 1;
    (EVEN ^ invert) & follows_escape
}

/// Every escaped byte must start a JSON escape; `\u` needs four hex
/// digits and no surrogate (whether a pair is valid is the full parser's
/// call).
fn check_escapes(line: &[u8], at: usize, mut escaped: u64) -> Option<()> {
    while escaped != 0 {
        let i = at + escaped.trailing_zeros() as usize;
        escaped &= escaped - 1;
        match *line.get(i)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
            b'u' => {
                let hex = line.get(i + 1..i + 5)?;
                let surrogate = matches!(hex[0], b'd' | b'D')
                    && matches!(hex[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F');
                if surrogate || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(())
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Simd {
    Avx512,
    Avx2,
    None,
}

/// The widest classifier this CPU runs (detection is cached by std).
#[cfg(target_arch = "x86_64")]
fn simd() -> Simd {
    if std::arch::is_x86_feature_detected!("avx512bw") {
        Simd::Avx512
    } else if std::arch::is_x86_feature_detected!("avx2") {
        Simd::Avx2
    } else {
        Simd::None
    }
}

/// The portable classifier, and the reference the SIMD one must equal.
fn classify_plain(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        m.quote |= u64::from(b == b'"') * bit;
        m.backslash |= u64::from(b == b'\\') * bit;
        m.control |= u64::from(b < 0x20) * bit;
        m.high |= u64::from(b >= 0x80) * bit;
    }
    m
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8,
        _mm256_movemask_epi8, _mm256_set1_epi8,
    };

    use super::Masks;

    /// The CPU must support AVX-512BW.
    #[target_feature(enable = "avx512bw")]
    #[inline]
    pub(super) fn classify_avx512(block: &[u8; 64]) -> Masks {
        use std::arch::x86_64::{
            _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask,
            _mm512_loadu_si512, _mm512_movepi8_mask, _mm512_set1_epi8,
        };
        // SAFETY: the load reads the 64 bytes of the block.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
        Masks {
            quote: eq(b'"'),
            backslash: eq(b'\\'),
            control: _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
            high: _mm512_movepi8_mask(v),
        }
    }

    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn classify_avx2(block: &[u8; 64]) -> Masks {
        let half = |v: __m256i| {
            let eq = |c: u8| {
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(
                    v,
                    _mm256_set1_epi8(c as i8),
                )) as u32
            };
            // Unsigned `b < 0x20` is `max(b, 0x1f) == 0x1f`.
            let control = _mm256_movemask_epi8(_mm256_cmpeq_epi8(
                _mm256_max_epu8(v, _mm256_set1_epi8(0x1f)),
                _mm256_set1_epi8(0x1f),
            )) as u32;
            let high = _mm256_movemask_epi8(v) as u32;
            (eq(b'"'), eq(b'\\'), control, high)
        };
        // SAFETY: both loads read 32 bytes inside the 64-byte block.
        let (lo, hi) = unsafe {
            let p = block.as_ptr().cast::<__m256i>();
            (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
        };
        let (a, b) = (half(lo), half(hi));
        let join = |x: u32, y: u32| u64::from(x) | (u64::from(y) << 32);
        Masks {
            quote: join(a.0, b.0),
            backslash: join(a.1, b.1),
            control: join(a.2, b.2),
            high: join(a.3, b.3),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Escaped bytes, the slow way: after an odd run of backslashes.
    fn naive_escaped(line: &[u8]) -> Vec<bool> {
        let mut out = vec![false; line.len() + 1];
        let mut pending = false;
        for (i, &b) in line.iter().enumerate() {
            out[i] = pending;
            pending = !pending && b == b'\\';
        }
        out[line.len()] = pending;
        out
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Mostly quotes, backslashes and letters, so runs and escapes of
        // every parity occur, with some control and high bytes.
        let byte = prop_oneof![
            4 => Just(b'\\'),
            3 => Just(b'"'),
            4 => prop::sample::select(b"abnu/0fF".to_vec()),
            1 => any::<u8>(),
        ];
        prop::collection::vec(byte, 0..300)
    }

    proptest! {
        #[test]
        fn simd_classes_equal_the_plain_ones(v in prop::collection::vec(any::<u8>(), 64)) {
            let block: &[u8; 64] = v.as_slice().try_into().unwrap();
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512bw") {
                prop_assert_eq!(unsafe { x86::classify_avx512(block) }, classify_plain(block));
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                prop_assert_eq!(unsafe { x86::classify_avx2(block) }, classify_plain(block));
            }
        }

        #[test]
        fn quotes_and_escapes_match_a_byte_walk(line in bytes()) {
            let escaped = naive_escaped(&line);
            let mut q = Quotes::default();
            let got = q.index(&line);
            let control = line.iter().any(|&b| b < 0x20);
            let bad_escape = escaped[line.len()] || line.iter().enumerate().any(|(i, &b)| {
                escaped[i] && !matches!(b, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u')
                    || escaped[i] && b == b'u' && {
                        let hex = line.get(i + 1..i + 5);
                        hex.is_none_or(|h| !h.iter().all(u8::is_ascii_hexdigit)
                            || (matches!(h[0], b'd' | b'D') && matches!(h[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')))
                    }
            });
            // A backslash at the very end escapes nothing: refused.
            prop_assert_eq!(got.is_none(), control || bad_escape, "{:?}", String::from_utf8_lossy(&line));
            if let Some(v) = got {
                prop_assert_eq!(v.ascii, line.is_ascii());
                let want: Vec<usize> = (0..line.len()).filter(|&i| line[i] == b'"' && !escaped[i]).collect();
                let mut have = Vec::new();
                let mut from = 0;
                while let Some((i, _)) = q.string_end(from) {
                    have.push(i);
                    from = i + 1;
                }
                prop_assert_eq!(have, want.clone());
                for start in 0..=line.len() {
                    let end = want.iter().copied().find(|&i| i >= start);
                    let got = q.string_end(start);
                    prop_assert_eq!(got.map(|g| g.0), end);
                    if let Some((end, escaped)) = got {
                        prop_assert_eq!(escaped, line[start..end].contains(&b'\\'), "{}..{}", start, end);
                    }
                }
            }
        }
    }

    #[test]
    fn backslash_runs_across_blocks() {
        // A run of backslashes ending on the block boundary escapes the
        // first byte of the next block when the run is odd.
        for run in 1..6 {
            let mut line = vec![b'a'; 64 - run];
            line.extend(std::iter::repeat_n(b'\\', run));
            line.extend_from_slice(b"\"x\"");
            let mut q = Quotes::default();
            q.index(&line).unwrap();
            let first = q.string_end(0).unwrap().0;
            assert_eq!(first, if run % 2 == 1 { 66 } else { 64 }, "run {run}");
        }
    }
}

//! Where a line ends and where its strings begin and end, found 64 bytes
//! at a time.
//!
//! The fast path spends most of its time inside strings (hashes, paths,
//! command lines, `AdditionalFields`). Instead of walking each string
//! byte by byte to its closing quote, this pass marks every quote that
//! is not escaped in a bitmap, as simdjson's first stage does: the byte
//! classes of a 64-byte block become 64-bit masks (quotes, backslashes,
//! control bytes, high bytes, newlines), and a few integer operations on
//! the backslash mask tell which bytes are escaped. Finding the end of a
//! string is then a shift and a trailing-zero count; the line ends at
//! the first newline.
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
    newline: u64,
}

/// A line found and indexed by [`Quotes::index_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    /// The line's length, without its ending (`\n` or `\r\n`).
    pub len: usize,
    /// Where the next line starts: past the newline, or at the end.
    pub next: usize,
    /// What the pass learned, or `None` when it refused the line (then
    /// the index holds nothing useful).
    pub verdict: Option<Verdict>,
}

impl Quotes {
    /// Indexes `line`, or returns `None` when it holds a control byte
    /// (a newline included) or an escape JSON does not allow (or a `\u`
    /// escape of a surrogate, which is the full parser's call).
    pub fn index(&mut self, line: &[u8]) -> Option<Verdict> {
        let split = self.index_line(line);
        (split.len == line.len()).then_some(split.verdict)?
    }

    /// Finds the first line of `rest` (up to its first newline, or all of
    /// it) and indexes it, in one pass: the newline search is the same
    /// 64-byte classification, so each line is read once, and only the
    /// last line of a chunk needs a padded copy of its final block.
    pub fn index_line(&mut self, rest: &[u8]) -> Split {
        #[cfg(target_arch = "x86_64")]
        match simd() {
            // SAFETY: the CPU has the features (checked at run time).
            Simd::Avx512 => return unsafe { self.index_avx512(rest) },
            Simd::Avx2 => return unsafe { self.index_avx2(rest) },
            Simd::None => {}
        }
        self.index_with(rest, classify_plain)
    }

    /// [`Self::index_line`] with AVX-512: one compare per class gives the
    /// 64-bit mask directly.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw")]
    fn index_avx512(&mut self, rest: &[u8]) -> Split {
        self.index_with(rest, |b| x86::classify_avx512(b))
    }

    /// [`Self::index_line`] compiled for AVX2 as a whole, so that the
    /// block classifier inlines into the loop.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn index_avx2(&mut self, rest: &[u8]) -> Split {
        self.index_with(rest, |b| x86::classify_avx2(b))
    }

    #[inline(always)]
    fn index_with(
        &mut self,
        rest: &[u8],
        classify: impl Fn(&[u8; 64]) -> Masks,
    ) -> Split {
        self.words.clear();
        let mut prev_escaped = 0u64;
        let mut high = 0u64;
        let mut at = 0;
        // Whole blocks of the line: no newline, no control byte.
        let mut m = loop {
            let Some(block) = rest.get(at..at + 64) else {
                break last_block(&rest[at..], &classify);
            };
            prefetch_ahead(block);
            let m = classify(block.try_into().expect("64 bytes"));
            if m.newline | m.control != 0 {
                break m;
            }
            high |= m.high;
            let escaped = escaped_bytes(m.backslash, &mut prev_escaped);
            // A backslash ending the block escapes the next block's
            // first byte: at the line's end, its newline or end, which
            // check_escapes refuses, as JSON does.
            if escaped != 0 && check_escapes(rest, at, escaped).is_none() {
                return split_unindexed(rest, at);
            }
            self.words.push([m.quote & !escaped, m.backslash]);
            at += 64;
        };
        // The block where the line ends (or a control byte refuses it).
        let mut len = match m.newline {
            0 => 64,
            nl => nl.trailing_zeros() as usize,
        };
        m.control &= below_or_all(len);
        if m.control != 0 {
            // Only a carriage return before the newline (or the input's
            // end) may end the line; any other control byte is off the
            // fast path.
            let c = at + m.control.trailing_zeros() as usize;
            if rest[c] != b'\r'
                || !matches!(rest.get(c + 1), None | Some(b'\n'))
            {
                return split_unindexed(rest, at);
            }
            len = c - at;
        }
        let keep = below_or_all(len);
        high |= m.high & keep;
        let backslash = m.backslash & keep;
        let escaped = escaped_bytes(backslash, &mut prev_escaped);
        if escaped != 0 && check_escapes(rest, at, escaped).is_none() {
            return split_unindexed(rest, at);
        }
        self.words.push([m.quote & keep & !escaped, backslash]);
        let end = at + len;
        let ending = match rest.get(end) {
            // `\r\n`, or a `\r` that ends the input (then capped below).
            Some(b'\r') => 2,
            Some(_) => 1,
            None => 0,
        };
        let next = (end + ending).min(rest.len());
        Split { len: end, next, verdict: Some(Verdict { ascii: high == 0 }) }
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

/// The classes of the input's last bytes (under 64 of them), padded with
/// spaces (not a class of their own), the input's end marked as a
/// newline.
#[inline(always)]
fn last_block(tail: &[u8], classify: &impl Fn(&[u8; 64]) -> Masks) -> Masks {
    let mut block = [b' '; 64];
    block[..tail.len()].copy_from_slice(tail);
    let mut m = classify(&block);
    m.newline |= 1 << tail.len();
    m
}

/// The bits below bit `n`, all of them from 64 on.
#[inline]
fn below_or_all(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// The first line of `rest` found by a newline search from `from` on,
/// without an index: for lines the pass refuses, and for callers that
/// only split. Cold: on the fast path only refused lines come here.
#[cold]
pub(crate) fn split_unindexed(rest: &[u8], from: usize) -> Split {
    let end =
        memchr::memchr(b'\n', &rest[from..]).map_or(rest.len(), |i| from + i);
    let next = (end + 1).min(rest.len());
    let len = if rest[..end].ends_with(b"\r") { end - 1 } else { end };
    Split { len, next, verdict: None }
}

/// The bits below bit `n` (`n` < 64).
#[inline]
fn below(n: u32) -> u64 {
    (1u64 << n) - 1
}

/// How far ahead of the block being indexed the CPU is asked to fetch:
/// a line or two, so that the next lines come from the cache.
const PREFETCH_AHEAD: usize = 4 << 10;

/// Asks the CPU to fetch the memory `PREFETCH_AHEAD` bytes past `block`:
/// the index is the first touch of each line, and a bare pass over mapped
/// memory runs at only ~8 GB/s on the development VM. One request per
/// block indexed spreads them out: a burst of them per line stalled on
/// the CPU's fill buffers when both cores read.
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
        m.newline |= u64::from(b == b'\n') * bit;
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
            newline: eq(b'\n'),
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
            (eq(b'"'), eq(b'\\'), control, high, eq(b'\n'))
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
            newline: join(a.4, b.4),
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

    /// Like [`bytes`], with line endings: short lines with newlines and
    /// carriage returns among their bytes, or a long line (across
    /// blocks) ended in any way, then more.
    fn lines() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            4 => Just(b'\\'),
            3 => Just(b'"'),
            4 => prop::sample::select(b"abnu/0fF".to_vec()),
            1 => Just(b'\n'),
            1 => Just(b'\r'),
            1 => any::<u8>(),
        ];
        let ending: [&[u8]; 4] = [b"", b"\n", b"\r\n", b"\r"];
        prop_oneof![
            prop::collection::vec(byte, 0..300),
            (bytes(), prop::sample::select(ending.to_vec()), bytes())
                .prop_map(|(a, e, b)| [&a[..], e, &b[..]].concat()),
        ]
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
            let mut q = Quotes::default();
            let got = q.index(&line);
            agrees_with_a_byte_walk(&q, got, &line)?;
        }

        /// Several lines, as in a chunk: the first is split off where a
        /// newline search ends it, then indexed as if it were alone.
        #[test]
        fn lines_split_where_a_newline_search_does(rest in lines()) {
            let mut q = Quotes::default();
            let split = q.index_line(&rest);
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let len = if rest[..end].ends_with(b"\r") { end - 1 } else { end };
            prop_assert_eq!(split.len, len);
            prop_assert_eq!(split.next, (end + 1).min(rest.len()));
            agrees_with_a_byte_walk(&q, split.verdict, &rest[..len])?;
        }
    }

    /// Whether the index of `line` (`got`, then `q`) is what a byte walk
    /// finds: refused for control bytes and bad escapes, else every
    /// unescaped quote where `string_end` says.
    fn agrees_with_a_byte_walk(
        q: &Quotes,
        got: Option<Verdict>,
        line: &[u8],
    ) -> Result<(), TestCaseError> {
        let escaped = naive_escaped(line);
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
        prop_assert_eq!(
            got.is_none(),
            control || bad_escape,
            "{:?}",
            String::from_utf8_lossy(line)
        );
        if let Some(v) = got {
            prop_assert_eq!(v.ascii, line.is_ascii());
            let want: Vec<usize> = (0..line.len())
                .filter(|&i| line[i] == b'"' && !escaped[i])
                .collect();
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
                    prop_assert_eq!(
                        escaped,
                        line[start..end].contains(&b'\\'),
                        "{}..{}",
                        start,
                        end
                    );
                }
            }
        }
        Ok(())
    }

    /// Found by CI's run of `lines_split_where_a_newline_search_does`:
    /// a carriage return that ends the input ends the line as `\r\n`
    /// does, as the workers have always split lines.
    #[test]
    fn a_final_carriage_return_ends_the_line() {
        for (rest, len) in [(&b"\r"[..], 0), (b"{}\r", 2), (b"\"a\"\r\n{}", 3)]
        {
            let mut q = Quotes::default();
            let split = q.index_line(rest);
            assert_eq!(split.len, len, "{rest:?}");
            assert_eq!(split.next, rest.len().min(len + 2), "{rest:?}");
            assert!(split.verdict.is_some(), "{rest:?}");
        }
        // Anywhere else it is a control byte: refused.
        for rest in [&b"\r{}"[..], b"{}\r\r", b"{}\rx\n"] {
            assert_eq!(Quotes::default().index_line(rest).verdict, None);
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

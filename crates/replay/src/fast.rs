//! The fast path: reads the flat record shape the export writes (compact
//! JSON, one object, scalar columns) without a general parser.
//!
//! It validates the whole line as JSON (UTF-8, string escapes, numbers,
//! literals, nesting of the values it skips) and returns `None` wherever
//! its answer might differ from the full parser's: any white space or
//! control byte, a nested value in a column replay reads, a duplicate
//! column, an Event Hub body, a `\u` escape of a surrogate, an integer
//! that does not fit. The caller then uses the full parser, so the fast
//! path changes speed, never results; a property test holds it to that.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::quotes::{Quotes, Verdict};
use crate::record::{Extra, Inspected, Line, Properties, Text};
use crate::schema::{Col, column};

/// Nesting deeper than this goes to the full parser.
const MAX_DEPTH: usize = 64;

/// Reads one line, or `None` to ask for the full parser.
pub fn scan(line: &[u8]) -> Option<Line<'_>> {
    let mut out = Line::default();
    scan_into(line, &mut out).map(|()| out)
}

/// [`scan`] into a caller's `Line` (a `Line` is ~1 KB: moving it out of
/// each call showed up as a tenth of the fast path's time). On `None`,
/// `out` holds a partial result.
pub fn scan_into<'a>(line: &'a [u8], out: &mut Line<'a>) -> Option<()> {
    read_whole(line, |s| s.top(out))
}

/// Reads the host fields of an inspected network event's
/// `AdditionalFields` (a flat JSON object), or `None` to ask for the full
/// parser, on the same terms as [`scan`].
pub fn scan_inspected(text: &str) -> Option<Inspected<'_>> {
    read_whole(text.as_bytes(), |s| {
        let mut out = Inspected::default();
        s.inspected(&mut out)?;
        Some(out)
    })
}

thread_local! {
    /// The quote index, reused from line to line.
    static QUOTES: RefCell<Quotes> = RefCell::default();
}

/// The first line of a chunk's remaining bytes, as [`scan_line`] left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextLine {
    /// The line's length, without its ending (`\n` or `\r\n`).
    pub len: usize,
    /// Where the line after it starts.
    pub next: usize,
    /// Whether the fast path read the line into the caller's `Line`;
    /// if not, the full parser must.
    pub read: bool,
}

/// Finds the first line of `rest` (a chunk from where a line starts)
/// and reads it, in one pass over its bytes: the quote index that the
/// reader needs also finds the newline.
pub fn scan_line<'a>(rest: &'a [u8], out: &mut Line<'a>) -> NextLine {
    QUOTES.with(|q| {
        let Ok(quotes) = &mut q.try_borrow_mut() else {
            // Busy (a reader called from inside another): split only.
            return split_line(rest);
        };
        let split = quotes.index_line(rest);
        let line = &rest[..split.len];
        let read = split.verdict.is_some_and(|verdict| {
            read_indexed(line, verdict, quotes, |s| s.top(out)).is_some()
        });
        NextLine { len: split.len, next: split.next, read }
    })
}

/// The first line of `rest`, split without being read (for the full
/// parsers, which take whole lines).
pub(crate) fn split_line(rest: &[u8]) -> NextLine {
    let split = crate::quotes::split_unindexed(rest, 0);
    NextLine { len: split.len, next: split.next, read: false }
}

/// Indexes `line` and runs `read` over it: `None` when the index refuses
/// the line (control bytes, bad escapes, bad UTF-8), when `read` does,
/// or when it leaves bytes unread.
fn read_whole<'a, R>(
    line: &'a [u8],
    read: impl FnOnce(&mut Scanner<'a, '_>) -> Option<R>,
) -> Option<R> {
    QUOTES.with(|q| {
        // Busy only if a reader were called from inside another: then
        // the full parser takes the line.
        let quotes = &mut q.try_borrow_mut().ok()?;
        let verdict = quotes.index(line)?;
        read_indexed(line, verdict, quotes, read)
    })
}

/// Runs `read` over a line `quotes` has just indexed.
fn read_indexed<'a, R>(
    line: &'a [u8],
    verdict: Verdict,
    quotes: &Quotes,
    read: impl FnOnce(&mut Scanner<'a, '_>) -> Option<R>,
) -> Option<R> {
    let text = if verdict.ascii {
        // SAFETY: every byte is below 0x80, so this is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(line) }
    } else {
        std::str::from_utf8(line).ok()?
    };
    let mut s = Scanner { s: text, b: line, i: 0, quotes };
    let out = read(&mut s)?;
    (s.i == line.len()).then_some(out)
}

struct Scanner<'a, 'q> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Where the line's strings end.
    quotes: &'q Quotes,
}

impl<'a> Scanner<'a, '_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// After a member of an object or array: `,` (another follows:
    /// true) or `close` (it ends: false); anything else is `None`.
    fn next_member(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            b',' => Some(true),
            c if c == close => Some(false),
            _ => None,
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// An object at `self.i`: for each member, `value` is called with
    /// the key's span and `self.i` at the value, which it must read.
    /// Keys with escapes go to the full parser.
    #[inline]
    fn object(
        &mut self,
        mut value: impl FnMut(&mut Self, usize, usize) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let (ks, ke) = self.key()?;
            self.eat(b':')?;
            value(self, ks, ke)?;
            if !self.next_member(b'}')? {
                return Some(());
            }
        }
    }

    /// The top-level object: `category` and `properties`; an Event Hub
    /// body (`records`) goes to the full parser.
    fn top(&mut self, line: &mut Line<'a>) -> Option<()> {
        let (mut seen_cat, mut seen_props) = (false, false);
        self.object(|s, ks, ke| {
            match &s.b[ks..ke] {
                b"category" if !seen_cat => {
                    seen_cat = true;
                    line.category = s.text()?;
                }
                b"properties" if !seen_props => {
                    seen_props = true;
                    s.properties(&mut line.properties)?;
                }
                b"records" | b"category" | b"properties" => return None,
                _ => s.skip_value()?,
            }
            Some(())
        })
    }

    /// `properties`: an object of columns, or `null`.
    fn properties(&mut self, out: &mut Option<Properties<'a>>) -> Option<()> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(());
        }
        let p = out.insert(Properties::default());
        let mut seen = 0u32;
        self.object(|s, ks, ke| match column(s.b, ks, ke) {
            Some(col) => {
                let bit = 1u32 << col as u32;
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                s.column(p, col)
            }
            None => s.skip_value(),
        })
    }

    /// An inspected event's fields: `query`, `host`, `uri` and
    /// `server_name` are read, anything else is skipped.
    fn inspected(&mut self, out: &mut Inspected<'a>) -> Option<()> {
        let mut seen = 0u8;
        self.object(|s, ks, ke| {
            let (bit, slot) = match &s.b[ks..ke] {
                b"query" => (0, &mut out.query),
                b"host" => (1, &mut out.host),
                b"uri" => (2, &mut out.uri),
                b"server_name" => (3, &mut out.server_name),
                _ => return s.skip(0),
            };
            if seen & (1 << bit) != 0 {
                // A duplicate field: the full parser refuses it.
                return None;
            }
            seen |= 1 << bit;
            s.text_into(slot)
        })
    }

    fn column(&mut self, p: &mut Properties<'a>, col: Col) -> Option<()> {
        match p.text_slot(col) {
            // Written in place: returning the value through the stack
            // cost a store-forwarding stall per column.
            Some(slot) => self.text_into(slot),
            None => {
                p.additional_fields = self.extra()?;
                Some(())
            }
        }
    }

    /// A scalar as [`Text`]: strings, integers; floats, booleans and
    /// `null` are no value. Nested values go to the full parser.
    fn text(&mut self) -> Option<Text<'a>> {
        let mut t = Text::None;
        self.text_into(&mut t)?;
        Some(t)
    }

    /// [`Self::text`] into `slot`.
    #[inline]
    fn text_into(&mut self, slot: &mut Text<'a>) -> Option<()> {
        match self.peek()? {
            b'"' => {
                let (start, end, escaped) = self.string()?;
                *slot = if escaped {
                    let owned: String =
                        serde_json::from_str(&self.s[start - 1..=end]).ok()?;
                    Text::Str(Cow::Owned(owned))
                } else {
                    Text::Str(Cow::Borrowed(&self.s[start..end]))
                };
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => *slot = self.number()?,
            _ => return None,
        }
        Some(())
    }

    /// `AdditionalFields`: kept escaped until a record needs it.
    fn extra(&mut self) -> Option<Extra<'a>> {
        match self.peek()? {
            b'"' => {
                let (start, end, escaped) = self.string()?;
                Some(if escaped {
                    Extra::Quoted(&self.s[start - 1..=end])
                } else {
                    Extra::Json(Cow::Borrowed(&self.s[start..end]))
                })
            }
            b'{' | b'[' => None,
            _ => self.text().map(|_| Extra::None),
        }
    }

    /// A key: a string without escapes (else the full parser decides).
    fn key(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'"' {
            return None;
        }
        let (start, end, escaped) = self.string()?;
        (!escaped).then_some((start, end))
    }

    /// A string at `self.i` (the opening quote): the content's span and
    /// whether it holds escapes (already checked by [`Quotes::index`]).
    #[inline]
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.i + 1;
        let (end, escaped) = self.quotes.string_end(start)?;
        self.i = end + 1;
        Some((start, end, escaped))
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A JSON number; integers that fit are kept, anything else is no
    /// value (as the full parser's visitor does with floats).
    fn number(&mut self) -> Option<Text<'a>> {
        let start = self.i;
        if !self.number_span()? {
            return Some(Text::None);
        }
        let n = &self.s[start..self.i];
        if let Some(magnitude) = n.strip_prefix('-') {
            // Both full parsers read "-0" as a float (negative zero), and
            // a float is no value.
            if magnitude == "0" {
                return Some(Text::None);
            }
            return n.parse().ok().map(Text::I64);
        }
        n.parse::<u64>().ok().map(Text::U64)
    }

    /// Checks a JSON number's grammar and moves past it; true when it is
    /// an integer. Numbers with an exponent, or very long ones, go to the
    /// full parser, which refuses those that overflow a float.
    fn number_span(&mut self) -> Option<bool> {
        let start = self.i;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits1()?;
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            // Whether an exponent overflows is the full parser's call.
            return None;
        }
        // So is whether a long mantissa fits in a float.
        (self.i - start <= 64).then_some(integer)
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn digits1(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// [`Self::skip`] with the common values inline: strings (most
    /// unread values), `null` and numbers are skipped without the
    /// general, recursive `skip`, which is not inlined.
    #[inline(always)]
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number_span().map(|_| ()),
            _ => self.skip(0),
        }
    }

    /// Skips (and validates) any value.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(|s, _, _| s.skip(depth + 1)),
            b'[' => {
                self.i += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if !self.next_member(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number_span().map(|_| ()),
        }
    }
}

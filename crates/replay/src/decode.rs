//! From an input's raw bytes to JSON Lines: gzip is inflated (by its
//! magic bytes, whatever the name), then the content is recognised —
//! streaming JSON Lines, an Event Hubs Capture Avro file, or an Advanced
//! Hunting / Log Analytics export (CSV or JSON) — and, where it is not
//! JSON Lines already, turned into one line per event.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hit::RejectReason;

/// The first two bytes of every gzip member.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How inputs are read, shared by all of a run's readers.
#[derive(Clone, Debug, Default)]
pub struct Decoding {
    /// The table of export rows that do not name theirs.
    pub(crate) table: Option<String>,
    /// Export timestamps that carried no time zone, read as UTC.
    pub(crate) assumed_utc: Arc<AtomicU64>,
}

impl Decoding {
    /// Export timestamps read as UTC because they named no zone.
    pub fn assumed_utc(&self) -> u64 {
        self.assumed_utc.load(Ordering::Relaxed)
    }
}

/// A file that cannot be read on from some point: its rest is one
/// counted rejection, and the run goes on with the next input.
#[derive(Debug)]
pub(crate) struct Damaged {
    pub reason: RejectReason,
    pub detail: String,
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.as_str(), self.detail)
    }
}

impl std::error::Error for Damaged {}

/// An I/O error that says the data is damaged, for [`damage_of`].
pub(crate) fn damaged(
    reason: RejectReason,
    detail: impl Into<String>,
) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        Damaged { reason, detail: detail.into() },
    )
}

/// The rejection an error stands for, when it is damage in the data
/// rather than a failure to read it. flate2 says "not gzip" or "cut
/// short" with these kinds and no payload of ours.
pub(crate) fn damage_of(e: &io::Error, gzip: bool) -> Option<RejectReason> {
    if let Some(d) =
        e.get_ref().and_then(|inner| inner.downcast_ref::<Damaged>())
    {
        return Some(d.reason);
    }
    let data = matches!(
        e.kind(),
        io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::UnexpectedEof
    );
    (gzip && data).then_some(RejectReason::DamagedGzip)
}

/// Decodes `data` as replay decodes an input (gzip, Avro, exports) and
/// returns the JSON Lines replay would read: for tools and fuzzing.
///
/// # Errors
///
/// Damage (as an error whose message says what), as replay would count
/// it.
pub fn decode_bytes(data: &[u8], how: &Decoding) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    json_lines(Box::new(io::Cursor::new(data.to_vec())), false, how)?
        .read_to_end(&mut out)?;
    Ok(out)
}

/// What an error says of the damage, without its kind's boilerplate.
pub(crate) fn detail_of(e: &io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Damaged>()) {
        Some(d) => d.detail.clone(),
        None => e.to_string(),
    }
}

/// Compressed bytes read at once.
const GZIP_BUFFER: usize = 256 << 10;

/// Bytes looked at to tell formats apart: enough for a CSV header.
const PEEK: usize = 64 << 10;

/// Reads up to `n` bytes of `r` and gives them back with a reader of the
/// whole stream (the bytes read, then the rest): no buffering layer is
/// added for the gigabytes that follow.
fn peek(
    mut r: Box<dyn Read + Send>,
    n: usize,
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(n);
    (&mut r).take(n as u64).read_to_end(&mut head)?;
    let whole = io::Cursor::new(head.clone()).chain(r);
    Ok((head, Box::new(whole)))
}

/// The JSON Lines in `raw`, decoded. `gzip_by_name` (a `.gz` name) makes
/// a file that is not gzip damaged rather than text.
pub(crate) fn json_lines(
    raw: Box<dyn Read + Send>,
    gzip_by_name: bool,
    how: &Decoding,
) -> io::Result<Box<dyn Read + Send>> {
    let (head, raw) = peek(raw, GZIP_MAGIC.len())?;
    if head.starts_with(&GZIP_MAGIC) || gzip_by_name {
        // A large input buffer: fewer, longer inflate calls (flate2's own
        // is 32 KiB).
        let buffered = std::io::BufReader::with_capacity(GZIP_BUFFER, raw);
        return content(
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            how,
        );
    }
    content(raw, how)
}

/// What an input holds, told by its first bytes (after gzip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Streaming records or Event Hub bodies, a JSON document per line
    /// (and anything that is not one of the others: its lines are
    /// rejected one by one).
    Lines,
    /// An Event Hubs Capture file.
    Avro,
    /// A CSV export of a query's results.
    Csv,
    /// A JSON export of a query's results.
    Json,
}

/// Tells the content apart by its first bytes.
pub(crate) fn content_of(head: &[u8]) -> Content {
    if head.starts_with(crate::avro::MAGIC) {
        return Content::Avro;
    }
    let text = head.strip_prefix(crate::ahead::BOM).unwrap_or(head);
    if crate::export::is_json_export(text) {
        Content::Json
    } else if crate::export::is_csv_export(text) {
        Content::Csv
    } else {
        Content::Lines
    }
}

/// The first bytes of a file (enough to tell its content apart).
pub(crate) fn head_of(path: &std::path::Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(PEEK);
    std::fs::File::open(path)?.take(PEEK as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Decodes the (inflated) content.
fn content(
    r: Box<dyn Read + Send>,
    how: &Decoding,
) -> io::Result<Box<dyn Read + Send>> {
    let (head, r) = peek(r, PEEK)?;
    Ok(match content_of(&head) {
        Content::Lines => r,
        Content::Avro => {
            let buffered = std::io::BufReader::with_capacity(1 << 16, r);
            Box::new(crate::avro::Bodies::new(buffered)?)
        }
        Content::Csv => Box::new(crate::export::CsvLines::new(r, how)?),
        Content::Json => Box::new(crate::export::json_lines(r, how)?),
    })
}

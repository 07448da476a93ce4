//! Loaders: indicator files in every common format, read into
//! [`Indicator`]s with every refusal accounted for.
//!
//! The format is chosen by [`Format::detect`] (from the content)
//! unless the caller names one. Each loader fills
//! indicator drafts and lets them validate
//! themselves, so the rules live in one place.

mod csv_feed;
mod defender_csv;
mod defender_json;
mod detect;
mod extract;
mod legacy_ti;
mod misp;
mod set_file;
mod stix;
mod text;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::draft::{IndicatorDraft, MetaDraft, MetaInterner, Rejection};
use crate::error::IndicatorError;
use crate::indicator::Indicator;
use crate::kind::{IndicatorType, Severity};

/// An indicator file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Defender portal CSV import.
    DefenderCsv,
    /// Defender API JSON: an array, JSON Lines, or a `{"value":[…]}` list.
    DefenderJson,
    /// One value per line, `#` comments.
    Text,
    /// A MISP event (or a search response holding events).
    MispJson,
    /// A MISP feed folder (`manifest.json` and `<uuid>.json` events).
    MispFeed,
    /// A MISP attribute CSV export.
    MispCsv,
    /// A STIX 2.1 bundle.
    Stix,
    /// An iocmatch set file (TOML): alert definitions with the
    /// indicators they cover.
    Set,
    /// The deprecated custom TI API's AlertDefinitions and
    /// IndicatorsOfCompromise JSON.
    LegacyTi,
    /// A CSV feed with a header naming a value column (and maybe a
    /// type column).
    CsvFeed,
    /// Indicators pulled out of prose (text, Markdown, AsciiDoc, HTML);
    /// never detected, only asked for.
    Extract,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::DefenderCsv => "defender-csv",
            Format::DefenderJson => "defender-json",
            Format::Text => "txt",
            Format::MispJson => "misp",
            Format::MispFeed => "misp-feed",
            Format::MispCsv => "misp-csv",
            Format::Stix => "stix",
            Format::Set => "set",
            Format::LegacyTi => "legacy-ti",
            Format::CsvFeed => "csv",
            Format::Extract => "extract",
        }
    }

    /// Every format, for help texts.
    pub const ALL: [Format; 11] = [
        Format::DefenderCsv,
        Format::DefenderJson,
        Format::Text,
        Format::MispJson,
        Format::MispFeed,
        Format::MispCsv,
        Format::Stix,
        Format::Set,
        Format::LegacyTi,
        Format::CsvFeed,
        Format::Extract,
    ];

    /// Chooses the format of `path`: a folder is a MISP feed; otherwise
    /// the first 64 KiB decide. The extension is not consulted: exports
    /// are renamed `.txt` or `.json` at random.
    ///
    /// # Errors
    ///
    /// When the path cannot be read.
    pub fn detect(path: &Path) -> Result<Format, LoadError> {
        detect::detect(path)
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.name() == wanted).ok_or_else(|| {
            let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
            format!(
                "unknown format '{s}' (expected one of {})",
                names.join(", ")
            )
        })
    }
}

/// As its command-line name.
impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a loader needs beyond the file itself.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Use this format instead of detecting one.
    pub format: Option<Format>,
    /// Action for formats that carry none (plain lists, MISP, STIX).
    pub default_action: String,
    /// Action for certificate thumbprints in those formats: Defender
    /// accepts only `Allowed` and `BlockAndRemediate` on certificates, so
    /// one default rarely suits both. `None` uses `default_action`.
    pub default_cert_action: Option<String>,
    /// Severity for formats that carry none.
    pub default_severity: Option<Severity>,
    /// Title for formats that carry none.
    pub default_title: Option<String>,
    /// Force the type of plain-list values instead of inferring it.
    pub text_type: Option<IndicatorType>,
    /// Load MISP attributes whose `to_ids` is false too.
    pub misp_all_attributes: bool,
    /// The value column of a CSV feed, by header name (found by name
    /// when not given).
    pub value_column: Option<String>,
    /// The type column of a CSV feed, by header name.
    pub type_column: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: None,
            default_action: "Audit".into(),
            default_cert_action: None,
            default_severity: None,
            default_title: None,
            text_type: None,
            misp_all_attributes: false,
            value_column: None,
            type_column: None,
        }
    }
}

/// The result of loading one or more files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Valid indicators, in file order.
    pub indicators: Vec<Indicator>,
    /// Invalid indicators, with reasons.
    pub rejected: Vec<Rejection>,
    /// Entries left out on purpose (MISP attributes not marked `to_ids`,
    /// types with no Defender counterpart), counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// What each file was read as (by [`load_path`]).
    pub files: Vec<FileSummary>,
}

/// One file as loaded: its format and counts.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct FileSummary {
    /// The file as named.
    pub file: String,
    /// The format it was read as.
    pub format: Format,
    /// Indicators loaded from it.
    pub indicators: u64,
    /// Entries rejected.
    pub rejected: u64,
}

impl Loaded {
    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Appends another file's result.
    pub fn extend(&mut self, other: Loaded) {
        if self.indicators.is_empty() {
            // Taken, not copied: a copy would hold the set twice.
            self.indicators = other.indicators;
        } else {
            self.indicators.extend(other.indicators);
        }
        self.rejected.extend(other.rejected);
        self.files.extend(other.files);
        for (k, v) in other.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
    }
}

/// A file that could not be read at all.
#[derive(Debug)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: LoadErrorKind,
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum LoadErrorKind {
    /// An I/O error.
    Io(std::io::Error),
    /// The file is not in the expected format at all (as opposed to single
    /// bad entries, which are rejections).
    Syntax(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LoadErrorKind::Io(e) => write!(f, "{}: {e}", self.path.display()),
            LoadErrorKind::Syntax(m) => {
                write!(f, "{}: {m}", self.path.display())
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            LoadErrorKind::Io(e) => Some(e),
            LoadErrorKind::Syntax(_) => None,
        }
    }
}

impl LoadError {
    fn io(path: &Path, e: std::io::Error) -> LoadError {
        LoadError { path: path.to_owned(), kind: LoadErrorKind::Io(e) }
    }

    fn syntax(path: &Path, m: impl Into<String>) -> LoadError {
        LoadError {
            path: path.to_owned(),
            kind: LoadErrorKind::Syntax(m.into()),
        }
    }
}

/// Loads one file (or MISP feed folder).
///
/// # Errors
///
/// A [`LoadError`] when the file cannot be read or is not in the format at
/// all. Bad entries inside a readable file are not errors: they are
/// returned in [`Loaded::rejected`].
pub fn load_path(
    path: &Path,
    opts: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let (format, mut loaded) = load_path_as(path, opts)?;
    loaded.files = vec![FileSummary {
        file: path.display().to_string(),
        format,
        indicators: loaded.indicators.len() as u64,
        rejected: loaded.rejected.len() as u64,
    }];
    Ok(loaded)
}

/// [`load_path`], and the format it read.
fn load_path_as(
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Format, Loaded), LoadError> {
    // Standard input, pipes (`<(…)`, `/dev/stdin`) and other files that
    // are not regular can be read only once: whole, then sniffed.
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| LoadError::io(path, e))?;
        return load_read(path, bytes, opts);
    }
    let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
    if !meta.is_file() && !meta.is_dir() {
        let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
        return load_read(path, bytes, opts);
    }
    // A feed's manifest named as a file: the feed it describes.
    if path.file_name().is_some_and(|n| n == "manifest.json")
        && opts.format.is_none()
        && let Some(dir) =
            path.parent().filter(|d| misp::is_manifest(path) && d.is_dir())
    {
        let dir =
            if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        return misp::load_feed(dir, opts).map(|l| (Format::MispFeed, l));
    }
    let format = match opts.format {
        Some(f) => f,
        // A column named on the command line makes a CSV feed of what
        // would be read as a list.
        None => match Format::detect(path)? {
            Format::Text if opts.value_column.is_some() => Format::CsvFeed,
            f => f,
        },
    };
    if format == Format::MispFeed {
        return misp::load_feed(path, opts).map(|l| (format, l));
    }
    let name: Arc<str> = Arc::from(path.display().to_string());
    if format == Format::DefenderCsv && !starts_utf16(path) {
        // Streamed: large CSVs are never held whole.
        let file =
            std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
        let mut ctx = Context::new(&name, opts);
        defender_csv::load_stream(&mut ctx, file)
            .map_err(|m| LoadError::syntax(path, m))?;
        return Ok((format, ctx.out));
    }
    let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
    let bytes =
        decode_utf16(&bytes).map_err(|m| LoadError::syntax(path, m))?;
    if format == Format::Set {
        // Its `files` are read relative to it.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let mut ctx = Context::new(&name, opts);
        set_file::load(&mut ctx, bytes, path.parent())
            .map_err(|m| LoadError::syntax(path, m))?;
        return Ok((format, ctx.out));
    }
    load_bytes(&name, &bytes, format, opts).map(|l| (format, l))
}

/// True when the file starts with a UTF-16 byte order mark.
fn starts_utf16(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| matches!(head, [0xFF, 0xFE] | [0xFE, 0xFF]))
}

/// UTF-16 with a byte order mark (what PowerShell's `Out-File` and
/// Excel's "Unicode text" write) as UTF-8; anything else as it is.
pub(super) fn decode_utf16(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let le = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return Ok(Cow::Borrowed(bytes)),
    };
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| match (c, le) {
            ([a, b], true) => u16::from_le_bytes([*a, *b]),
            ([a, b], false) => u16::from_be_bytes([*a, *b]),
            _ => 0xFFFD,
        })
        .collect();
    String::from_utf16(&units)
        .map(|s| Cow::Owned(s.into_bytes()))
        .map_err(|_| "invalid UTF-16 text".into())
}

/// Loads a file read whole (standard input, a pipe), its format sniffed
/// from the bytes.
fn load_read(
    path: &Path,
    bytes: Vec<u8>,
    opts: &LoadOptions,
) -> Result<(Format, Loaded), LoadError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let decoded =
        decode_utf16(&bytes).map_err(|m| LoadError::syntax(path, m))?;
    let format = opts.format.unwrap_or_else(|| detect::sniff(&decoded));
    if format == Format::MispFeed {
        return Err(LoadError::syntax(
            path,
            "a MISP feed is a folder, not a stream",
        ));
    }
    load_bytes(&name, &decoded, format, opts).map(|l| (format, l))
}

/// Loads indicators from bytes already in memory, named `name` in
/// messages. `format` must not be [`Format::MispFeed`] (a folder).
///
/// # Errors
///
/// A [`LoadError`] (of kind [`LoadErrorKind::Syntax`], naming `name`)
/// when the bytes are not in the format at all.
pub fn load_bytes(
    name: &Arc<str>,
    bytes: &[u8],
    format: Format,
    opts: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let decoded = decode_utf16(bytes)
        .map_err(|m| LoadError::syntax(Path::new(&**name), m))?;
    let bytes = decoded.as_ref();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut ctx = Context::new(name, opts);
    let read = match format {
        Format::DefenderCsv => defender_csv::load(&mut ctx, bytes),
        Format::DefenderJson => defender_json::load(&mut ctx, bytes),
        Format::Text => text::load(&mut ctx, bytes),
        Format::MispJson => misp::load_event_file(&mut ctx, bytes),
        Format::MispCsv => misp::load_csv(&mut ctx, bytes),
        Format::Stix => stix::load(&mut ctx, bytes),
        Format::Set => set_file::load(&mut ctx, bytes, None),
        Format::LegacyTi => legacy_ti::load(&mut ctx, bytes),
        Format::CsvFeed => csv_feed::load(&mut ctx, bytes),
        Format::Extract => extract::load(&mut ctx, bytes),
        Format::MispFeed => Err("a MISP feed is a folder".into()),
    };
    read.map_err(|m| LoadError::syntax(Path::new(&**name), m))?;
    Ok(ctx.out)
}

/// State shared by the loaders while reading one file.
struct Context<'o> {
    file: Arc<str>,
    opts: &'o LoadOptions,
    interner: MetaInterner,
    out: Loaded,
}

impl<'o> Context<'o> {
    fn new(file: &Arc<str>, opts: &'o LoadOptions) -> Self {
        Context {
            file: Arc::clone(file),
            opts,
            interner: MetaInterner::default(),
            out: Loaded::default(),
        }
    }

    /// Validates a draft and files it as loaded or rejected.
    fn push(&mut self, draft: IndicatorDraft<'_>) {
        match draft.finish() {
            Ok(i) => self.out.indicators.push(i),
            Err(r) => self.out.rejected.push(r),
        }
    }

    fn reject(
        &mut self,
        source: crate::Source,
        value: &str,
        error: IndicatorError,
    ) {
        self.out.rejected.push(Rejection::new(source, value, error));
    }

    /// The action for formats that carry none, by (known or guessed)
    /// type.
    fn default_action(&self, ty: Option<IndicatorType>) -> String {
        match (&self.opts.default_cert_action, ty) {
            (Some(a), Some(IndicatorType::CertificateThumbprint)) => a.clone(),
            _ => self.opts.default_action.clone(),
        }
    }

    /// Metadata defaults for formats that carry no alert fields.
    fn default_meta(&self) -> MetaDraft<'o> {
        let opts: &'o LoadOptions = self.opts;
        MetaDraft {
            severity: self.opts.default_severity.map(|s| s.as_str().into()),
            title: opts.default_title.as_deref().map(Cow::Borrowed),
            ..MetaDraft::default()
        }
    }
}

/// Reads JSON lines: one value per non-blank line, with its 1-based line
/// number, or the line's error.
fn json_lines(
    bytes: &[u8],
) -> impl Iterator<Item = (u64, Result<&serde_json::value::RawValue, String>)>
{
    bytes.split(|&b| b == b'\n').enumerate().filter_map(|(i, line)| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let parsed = serde_json::from_slice(line).map_err(|e| e.to_string());
        Some((i as u64 + 1, parsed))
    })
}

/// Finds the line of slices of one document, visited in order, in linear
/// time overall.
struct LineCounter<'a> {
    whole: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(whole: &'a [u8]) -> Self {
        LineCounter { whole, offset: 0, line: 1 }
    }

    /// The 1-based line where `part`, a slice of the document, starts.
    /// Parts must come in document order; an earlier one restarts the
    /// count.
    fn line_of(&mut self, part: &str) -> u64 {
        let at = (part.as_ptr() as usize)
            .saturating_sub(self.whole.as_ptr() as usize)
            .min(self.whole.len());
        if at < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let skipped = &self.whole[self.offset..at];
        self.line += memchr_count(skipped);
        self.offset = at;
        self.line
    }
}

fn memchr_count(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Below this size a file is read by one thread.
const PARALLEL_BYTES: usize = 256 << 10;

/// Cuts the body of a CSV file into pieces of whole rows to read in
/// parallel, each with the file line it starts on. A quoted field may
/// hold a newline; then a cut could fall inside a row, so a file with a
/// line of odd quote count is read in one piece.
fn split_rows(body: &[u8], first_line: u64) -> Vec<(u64, &[u8])> {
    let threads = rayon::current_num_threads().max(1);
    if body.len() < PARALLEL_BYTES || threads == 1 || !rows_are_lines(body) {
        return vec![(first_line, body)];
    }
    let target = body.len().div_ceil(threads * 4).max(PARALLEL_BYTES / 16);
    let mut pieces = Vec::new();
    let (mut start, mut line) = (0, first_line);
    while start < body.len() {
        let want = (start + target).min(body.len());
        let end = match memchr::memchr(b'\n', &body[want..]) {
            Some(i) => want + i + 1,
            None => body.len(),
        };
        let piece = &body[start..end];
        pieces.push((line, piece));
        line += line_breaks(piece);
        start = end;
    }
    pieces
}

/// Line breaks in `bytes` as the csv crate (and editors) see them:
/// `\n`, `\r\n`, and a `\r` on its own (old Mac files).
fn line_breaks(bytes: &[u8]) -> u64 {
    let lf = memchr::memchr_iter(b'\n', bytes).count();
    let lone_cr = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .count();
    (lf + lone_cr) as u64
}

/// The line on which each record starts, in order: every line that
/// starts outside a quoted field and is not empty (the csv crate skips
/// empty lines). Lines end as in [`line_breaks`]. The csv crate's own
/// record positions are off in files with CRLF line ends, which is how
/// the portal saves them.
pub(super) struct RecordLines<'a> {
    rest: &'a [u8],
    line: u64,
    quoted: bool,
}

impl<'a> RecordLines<'a> {
    /// The record lines of `bytes`, whose first line is `first_line`.
    pub(super) fn new(bytes: &'a [u8], first_line: u64) -> Self {
        RecordLines { rest: bytes, line: first_line, quoted: false }
    }
}

impl Iterator for RecordLines<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while !self.rest.is_empty() {
            let end = memchr::memchr2(b'\n', b'\r', self.rest)
                .unwrap_or(self.rest.len());
            let text = &self.rest[..end];
            // `\r\n` is one break.
            let skip = match self.rest.get(end..end + 2) {
                Some(b"\r\n") => 2,
                _ => 1,
            };
            self.rest = self.rest.get(end + skip..).unwrap_or_default();
            let n = self.line;
            self.line += 1;
            let starts = !self.quoted && !text.is_empty();
            // An escaped quote is two, so parity tells whether a quoted
            // field goes on past the end of the line.
            if memchr::memchr_iter(b'"', text).count() % 2 == 1 {
                self.quoted = !self.quoted;
            }
            if starts {
                return Some(n);
            }
        }
        None
    }
}

/// Why a CSV row could not be read, without the csv crate's own record
/// and byte counts (relative to the piece it read, and off after CRLF
/// line ends; the rejection already names the file's line).
fn csv_row_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "unreadable CSV row: invalid UTF-8 in field {}",
            err.field() + 1
        ),
        _ => format!("unreadable CSV row: {e}"),
    }
}

/// True when no quoted field spans lines: every line has an even number
/// of quotes (an escaped quote is two).
fn rows_are_lines(body: &[u8]) -> bool {
    if memchr::memchr(b'"', body).is_none() {
        return true;
    }
    body.split(|&b| b == b'\n')
        .all(|l| l.iter().filter(|&&b| b == b'"').count() % 2 == 0)
}

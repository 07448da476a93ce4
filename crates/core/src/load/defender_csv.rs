//! The Defender portal's CSV import format.
//!
//! Header: `IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,
//! Title,Description,RecommendedActions,RbacGroups,Category,
//! MitreTechniques,GenerateAlert`. Columns are found by name (any case,
//! any order), so hand-edited files with reordered columns still load.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{IndicatorError, invalid_field, unreadable};
use crate::indicator::Meta;
use crate::indicator::Source;
use crate::kind::{Action, IndicatorType, Severity};
use crate::value;

use rayon::prelude::*;

use super::{Context, Loaded, RecordLines};

/// Column positions by name.
#[derive(Default)]
struct Columns {
    ty: Option<usize>,
    value: Option<usize>,
    expiration: Option<usize>,
    action: Option<usize>,
    severity: Option<usize>,
    title: Option<usize>,
    description: Option<usize>,
    recommended: Option<usize>,
    rbac: Option<usize>,
    category: Option<usize>,
    mitre: Option<usize>,
    generate_alert: Option<usize>,
    application: Option<usize>,
    external_id: Option<usize>,
    educate_url: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Columns {
        let mut c = Columns::default();
        for (i, name) in header.iter().enumerate() {
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "indicatortype" => &mut c.ty,
                "indicatorvalue" => &mut c.value,
                "expirationtime" => &mut c.expiration,
                "action" => &mut c.action,
                "severity" => &mut c.severity,
                "title" => &mut c.title,
                "description" => &mut c.description,
                "recommendedactions" => &mut c.recommended,
                "rbacgroups" | "rbacgroupnames" => &mut c.rbac,
                "category" => &mut c.category,
                "mitretechniques" => &mut c.mitre,
                "generatealert" => &mut c.generate_alert,
                "application" => &mut c.application,
                "externalid" => &mut c.external_id,
                "educateurl" => &mut c.educate_url,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }
}

/// Bytes read at a time. A million-row file is ~90 MB; holding it whole
/// while its indicators are built was the peak of loading.
const BLOCK: usize = 16 << 20;

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() > BLOCK {
        return load_stream(ctx, bytes);
    }
    // Already in memory and one block: read in place, without a copy.
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let (cols, body) = header(bytes)?;
    if super::rows_are_lines(&bytes[body..]) {
        block(ctx, &cols, &bytes[body..], 2);
    } else {
        rows(ctx, &cols, &bytes[body..], 2);
    }
    Ok(())
}

/// Reads a CSV a block at a time; the whole rows of each block are read
/// in parallel. A block with a quoted field that spans lines (rare, and
/// not splittable at newlines) is read serially with the rest of the
/// file.
pub(super) fn load_stream(
    ctx: &mut Context<'_>,
    input: impl Read,
) -> Result<(), String> {
    load_blocks(ctx, input, BLOCK)
}

fn load_blocks(
    ctx: &mut Context<'_>,
    mut input: impl Read,
    block_size: usize,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("read error: {e}");
    let mut buf = Vec::new();
    let mut eof = fill(&mut input, &mut buf, block_size).map_err(io)?;
    // The header line whole (and the byte order mark) before reading it.
    // (A `\r` last in the buffer may be half of a `\r\n`.)
    let header_whole = |buf: &[u8]| match memchr::memchr2(b'\n', b'\r', buf) {
        Some(i) => buf[i] == b'\n' || i + 1 < buf.len(),
        None => false,
    };
    while !eof && !header_whole(&buf) {
        let want = buf.len() + block_size;
        eof = fill(&mut input, &mut buf, want).map_err(io)?;
    }
    if buf.starts_with(BOM) {
        buf.drain(..BOM.len());
    }
    let (cols, body) = header(&buf)?;
    let (mut at, mut line) = (body, 2);
    loop {
        let end = match memchr::memrchr(b'\n', &buf[at..]) {
            _ if eof => buf.len(),
            Some(i) => at + i + 1,
            // A row longer than a block: read on until it ends.
            None => {
                let want = buf.len() + block_size;
                eof = fill(&mut input, &mut buf, want).map_err(io)?;
                continue;
            }
        };
        if !super::rows_are_lines(&buf[at..end]) {
            input.read_to_end(&mut buf).map_err(io)?;
            rows(ctx, &cols, &buf[at..], line);
            return Ok(());
        }
        block(ctx, &cols, &buf[at..end], line);
        if eof {
            return Ok(());
        }
        line += super::line_breaks(&buf[at..end]);
        buf.drain(..end);
        at = 0;
        let want = buf.len() + block_size;
        eof = fill(&mut input, &mut buf, want).map_err(io)?;
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The column positions, from the first line, and where the body
/// starts (the byte after that line; the body's first line is line 2).
fn header(buf: &[u8]) -> Result<(Columns, usize), String> {
    let end = match memchr::memchr2(b'\n', b'\r', buf) {
        Some(i) if buf[i..].starts_with(b"\r\n") => i + 2,
        Some(i) => i + 1,
        None => buf.len(),
    };
    let mut rdr =
        csv::ReaderBuilder::new().flexible(true).from_reader(&buf[..end]);
    let header =
        rdr.headers().map_err(|e| format!("unreadable CSV header: {e}"))?;
    let cols = Columns::from_header(header);
    if cols.ty.is_none() || cols.value.is_none() {
        return Err("not a Defender CSV: the header needs IndicatorType and IndicatorValue".into());
    }
    Ok((cols, end))
}

/// Reads whole rows, in parallel pieces, appending in file order.
fn block(ctx: &mut Context<'_>, cols: &Columns, body: &[u8], line: u64) {
    let pieces = super::split_rows(body, line);
    let outs: Vec<Loaded> = pieces
        .par_iter()
        .map(|&(first_line, piece)| {
            // Its own copy of the file name: every row's source holds a
            // reference, and one counter shared by both threads would
            // bounce between their caches on every row.
            let file: Arc<str> = Arc::from(&*ctx.file);
            let mut c = Context::new(&file, ctx.opts);
            simple_rows(&mut c, cols, piece, first_line);
            c.out
        })
        .collect();
    let total = outs.iter().map(|o| o.indicators.len()).sum::<usize>();
    ctx.out.indicators.reserve(total);
    for o in outs {
        ctx.out.extend(o);
    }
}

/// Reads until `buf` holds `want` bytes; true at the end of the input.
fn fill(
    r: &mut impl Read,
    buf: &mut Vec<u8>,
    want: usize,
) -> std::io::Result<bool> {
    let need = want.saturating_sub(buf.len());
    let got = r.take(need as u64).read_to_end(buf)?;
    Ok(got < need)
}

/// Reads a piece whose rows are whole lines. Without quotes, a line is
/// split at its commas, as the csv crate would split it, for a fifth of
/// the cost (a stray carriage return or bad UTF-8 sends that line to the
/// csv crate); a piece with quotes is the csv crate's.
fn simple_rows(
    ctx: &mut Context<'_>,
    cols: &Columns,
    piece: &[u8],
    first_line: u64,
) {
    if memchr::memchr(b'"', piece).is_some() {
        return rows(ctx, cols, piece, first_line);
    }
    ctx.out.indicators.reserve(memchr::memchr_iter(b'\n', piece).count() + 1);
    // UTF-8 is checked once for the piece (a line break is ASCII, so
    // each line of valid text is valid text); per line, the call cost
    // more than the check.
    let whole = std::str::from_utf8(piece).ok();
    // Likewise, carriage returns are looked for in a line only when the
    // piece has any.
    let any_cr = memchr::memchr(b'\r', piece).is_some();
    let mut fields: Vec<&str> = Vec::with_capacity(16);
    let mut line = first_line;
    // Lines found with memchr (a `split` on a closure tests every byte).
    let mut start = 0;
    let ends =
        memchr::memchr_iter(b'\n', piece).chain(std::iter::once(piece.len()));
    for end in ends {
        let Some(raw) = piece.get(start..end) else { break };
        let text = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text_range = start..start + text.len();
        start = end + 1;
        let at = line;
        let plain = !any_cr || memchr::memchr(b'\r', text).is_none();
        line += if plain { 1 } else { 1 + super::line_breaks(text) };
        if text.is_empty() {
            continue; // as the csv crate skips empty lines
        }
        // A line of valid text, cut at ASCII bytes, is valid text.
        let text = match whole.and_then(|w| w.get(text_range)) {
            Some(s) => Ok(s),
            None => std::str::from_utf8(text),
        };
        match text {
            Ok(s) if plain => {
                split_commas(s, &mut fields);
                row(ctx, cols, &fields, at);
            }
            // Odd line ends or bad UTF-8 (rare): the csv crate decides.
            _ => rows(ctx, cols, raw, at),
        }
    }
}

/// `s.split(',')` into `out`. Rows are short and hold a dozen commas:
/// a search call per comma (`str::split`, or memchr) cost more than the
/// rest of reading the row, so the commas of each 64 bytes are found
/// at once as a bitmask.
fn split_commas<'s>(s: &'s str, out: &mut Vec<&'s str>) {
    out.clear();
    let bytes = s.as_bytes();
    let mut start = 0;
    for (n, block) in bytes.chunks(64).enumerate() {
        let mut commas = 0u64;
        for (i, &b) in block.iter().enumerate() {
            commas |= u64::from(b == b',') << i;
        }
        while commas != 0 {
            let i = n * 64 + commas.trailing_zeros() as usize;
            commas &= commas - 1;
            // Commas are ASCII, so both cuts fall on char boundaries.
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
}

/// Reads the rows of one piece of the body, whose first line is
/// `first_line` of the file.
fn rows(ctx: &mut Context<'_>, cols: &Columns, piece: &[u8], first_line: u64) {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(piece);
    let mut record = csv::StringRecord::new();
    ctx.out.indicators.reserve(memchr::memchr_iter(b'\n', piece).count() + 1);
    let mut lines =
        RecordLines { rest: piece, line: first_line, quoted: false };
    let mut at = first_line;
    loop {
        let read = rdr.read_record(&mut record);
        if !matches!(read, Ok(false)) {
            at = lines.next().unwrap_or(at);
        }
        match read {
            Ok(false) => break,
            Ok(true) => {
                let fields: Vec<&str> = record.iter().collect();
                row(ctx, cols, &fields, at);
            }
            Err(e) => ctx.reject(
                Source::line(&ctx.file, at),
                "",
                unreadable(super::csv_row_error(&e)),
            ),
        }
    }
}

fn row(ctx: &mut Context<'_>, cols: &Columns, rec: &[&str], line: u64) {
    let source = Source::line(&ctx.file, line);
    if rec.iter().all(|f| value::trim(f).is_empty()) {
        return;
    }
    // Cells are borrowed; only what an indicator keeps is copied.
    let cell = |c: Option<usize>| {
        c.and_then(|i| rec.get(i).copied()).map(value::trim).unwrap_or("")
    };
    let value =
        rec.get(cols.value.unwrap_or(usize::MAX)).copied().unwrap_or("");
    // Rows of a file mostly repeat a recent row's metadata cells; those
    // skip validation and interning (a third of the cost of a row).
    let cells = [
        cols.severity,
        cols.generate_alert,
        cols.expiration,
        cols.rbac,
        cols.description,
        cols.recommended,
        cols.category,
        cols.mitre,
        cols.application,
        cols.external_id,
        cols.educate_url,
    ]
    .map(cell);
    let (meta, title) = match ctx.interner.by_cells(&cells) {
        Some(meta) => {
            let title = Some(cell(cols.title)).filter(|t| !t.is_empty());
            (meta, title.map(|t| ctx.interner.title(Cow::Borrowed(t))))
        }
        None => match meta(ctx, cols, &cell) {
            Ok((meta, title)) => {
                ctx.interner.remember_cells(&cells, &meta);
                (meta, title)
            }
            Err(reason) => return ctx.reject(source, value, reason),
        },
    };
    let ty = cell(cols.ty);
    ctx.push(IndicatorDraft {
        indicator_type: match ty.parse::<IndicatorType>() {
            Ok(t) => TypeSpec::Known(t),
            Err(_) => TypeSpec::Named(ty.to_owned()),
        },
        value: value.into(),
        action: canonical(cell(cols.action), |a| {
            Action::parse_alias(a).map(|(a, _)| a.as_str())
        }),
        meta,
        title,
        source,
    });
}

/// Validates and interns a row's metadata.
fn meta<'c>(
    ctx: &mut Context<'_>,
    cols: &Columns,
    cell: &impl Fn(Option<usize>) -> &'c str,
) -> Result<(Arc<Meta>, Option<Arc<str>>), IndicatorError> {
    let owned = |c: Option<usize>| {
        Some(cell(c)).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let generate_alert = match cell(cols.generate_alert) {
        "" => None,
        v if ["true", "1", "yes"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t)) =>
        {
            Some(true)
        }
        v if ["false", "0", "no"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t)) =>
        {
            Some(false)
        }
        v => {
            let why =
                format!("GenerateAlert must be True or False, not '{v}'");
            return Err(invalid_field(why));
        }
    };
    let meta = MetaDraft {
        severity: canonical(cell(cols.severity), |s| {
            s.parse::<Severity>().ok().map(Severity::as_str)
        }),
        generate_alert,
        expiration: owned(cols.expiration),
        rbac_group_names: split_list(cell(cols.rbac)),
        title: Some(cell(cols.title))
            .filter(|t| !t.is_empty())
            .map(Cow::Borrowed),
        description: owned(cols.description),
        recommended_actions: owned(cols.recommended),
        category: owned(cols.category),
        mitre_techniques: split_list(cell(cols.mitre)),
        application: owned(cols.application),
        external_id: owned(cols.external_id),
        educate_url: owned(cols.educate_url),
    };
    ctx.interner.finish(meta)
}

/// A cell as its canonical `'static` name when it has one (no copy), as
/// written otherwise (for the error message), `None` when empty.
fn canonical(
    cell: &str,
    name: impl Fn(&str) -> Option<&'static str>,
) -> Option<Cow<'static, str>> {
    if cell.is_empty() {
        return None;
    }
    Some(name(cell).map_or_else(|| Cow::Owned(cell.to_owned()), Cow::Borrowed))
}

/// Lists inside one CSV cell are comma-separated.
fn split_list(cell: &str) -> Vec<String> {
    if cell.is_empty() {
        return Vec::new();
    }
    cell.split(',')
        .map(value::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::load::LoadOptions;

    fn load_with(bytes: &[u8], block: usize) -> Loaded {
        let name: Arc<str> = Arc::from("t.csv");
        let opts = LoadOptions::default();
        let mut ctx = Context::new(&name, &opts);
        load_blocks(&mut ctx, bytes, block).unwrap();
        ctx.out
    }

    fn summary(l: &Loaded) -> Vec<String> {
        let ok = l
            .indicators
            .iter()
            .map(|i| format!("{} {}", i.source(), i.value()));
        let bad = l.rejected.iter().map(|r| r.to_string());
        ok.chain(bad).collect()
    }

    #[test]
    fn any_block_size_reads_the_same() {
        let mut csv = String::from(
            "\u{feff}IndicatorType,IndicatorValue,Action,Title\r\n",
        );
        for i in 0..40 {
            csv.push_str(&format!(
                "DomainName,d{i}.example.com,Audit,t{i}\r\n"
            ));
            if i % 7 == 0 {
                csv.push_str("\r\n");
                csv.push_str(&format!(
                    "Url,http://x{i}.example.com/{},Block,long\n",
                    "p".repeat(90)
                ));
                csv.push_str("FileSha1,nothex,Audit,bad\n");
            }
        }
        csv.push_str("IpAddress,8.8.8.8,Audit,last without newline");
        let whole = summary(&load_with(csv.as_bytes(), 1 << 20));
        assert_eq!(whole.len(), 40 + 6 * 3 - 6 + 1);
        // Lines as an editor numbers them, CRLF or not (the csv crate's
        // own positions drift after each CRLF).
        for want in [
            "t.csv:2 d0.example.com",
            "t.csv:4 http://x0",
            "t.csv:5: 'nothex'",
            "t.csv:6 d1.",
            "t.csv:7 d2.",
            "t.csv:60 8.8.8.8",
        ] {
            assert!(
                whole.iter().any(|l| l.starts_with(want)),
                "{want} in {whole:#?}"
            );
        }
        for block in [1, 7, 64, 100, 333] {
            assert_eq!(
                summary(&load_with(csv.as_bytes(), block)),
                whole,
                "block {block}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn splitting_at_commas_reads_as_the_csv_crate(
            lines in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(
                    b"DomainName,a.example.com,Audit, \r\xc3\xa9\xffxT".to_vec()), 0..40),
                0..12),
        ) {
            let mut body = Vec::new();
            for l in &lines {
                body.extend_from_slice(l);
                body.push(b'\n');
            }
            let name: Arc<str> = Arc::from("t.csv");
            let opts = LoadOptions::default();
            let cols = header(b"IndicatorType,IndicatorValue,Action,Title\n").unwrap().0;
            let (mut fast, mut full) = (Context::new(&name, &opts), Context::new(&name, &opts));
            simple_rows(&mut fast, &cols, &body, 2);
            rows(&mut full, &cols, &body, 2);
            proptest::prop_assert_eq!(summary(&fast.out), summary(&full.out));
        }
    }

    #[test]
    fn a_field_spanning_lines_is_read_serially() {
        let csv = "IndicatorType,IndicatorValue,Action,Title\n\
                   DomainName,a.example.com,Audit,one\n\
                   DomainName,b.example.com,Audit,\"two\nlines\"\n\
                   DomainName,c.example.com,Audit,three\n";
        let crlf = csv.replace('\n', "\r\n");
        for (csv, block) in [
            (csv, 10),
            (csv, 50),
            (csv, 1 << 20),
            (&*crlf, 50),
            (&*crlf, 1 << 20),
        ] {
            let l = load_with(csv.as_bytes(), block);
            let got: Vec<_> = l
                .indicators
                .iter()
                .map(|i| {
                    (
                        i.source().line_number(),
                        i.title().unwrap().replace('\r', ""),
                    )
                })
                .collect();
            assert_eq!(
                got,
                [
                    (2, "one".into()),
                    (3, "two\nlines".into()),
                    (5, "three".into())
                ],
                "block {block}"
            );
        }
    }
}

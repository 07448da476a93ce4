//! Query results exported from the Defender portal's Advanced Hunting,
//! Log Analytics or Microsoft Sentinel — CSV, or JSON — turned into the
//! streaming format, one line per row, so that line N of the result is
//! data row N of the export.
//!
//! - Columns are the record's properties, by their names. A column suffix
//!   such as `TimeGenerated [UTC]` names the time zone of its values.
//! - The table comes from a `Type` or `Table` column (Log Analytics and
//!   Sentinel add `Type`); else from the replay's `--table`; else the
//!   export cannot be read (a counted rejection saying why).
//! - The event time is `Timestamp`, else `TimeGenerated`, in any of the
//!   forms the exports write (ISO 8601, `1/15/2026, 10:23:45.123 AM`,
//!   `Jan 15, 2026 10:23:45 AM`). A time without a zone, in a column that
//!   names none, is read as UTC and counted, and the report says so.
//! - JSON exports are an array of row objects, the Advanced Hunting
//!   API's `{"Schema", "Results"}`, or the Log Analytics API's
//!   `{"tables": [{"columns", "rows"}]}`. They are read whole.

use std::io::{self, Read};
use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::decode::{Decoding, damaged};
use crate::hit::RejectReason;

/// Columns that name a row's table.
const TABLE_COLUMNS: [&str; 4] = ["Type", "Table", "$table", "TableName"];

/// Columns that hold the event time, preferred first.
const TIME_COLUMNS: [&str; 3] = ["Timestamp", "TimeGenerated", "EventTime"];

fn unreadable(detail: impl Into<String>) -> io::Error {
    damaged(RejectReason::UnreadableExport, detail)
}

/// Whether `text` starts a JSON export (not a streaming line).
pub(crate) fn is_json_export(text: &[u8]) -> bool {
    let t = text.trim_ascii_start();
    match t.first() {
        Some(b'[') => true,
        Some(b'{') => {
            let key = t[1..].trim_ascii_start();
            ["\"tables\"", "\"Tables\"", "\"Schema\"", "\"Results\""]
                .iter()
                .any(|k| key.starts_with(k.as_bytes()))
        }
        _ => false,
    }
}

/// Whether `text` starts a CSV export: a header line with a time column.
pub(crate) fn is_csv_export(text: &[u8]) -> bool {
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    if first.trim_ascii_start().starts_with(b"{") {
        return false;
    }
    let Ok(line) = std::str::from_utf8(first) else { return false };
    let delim = delimiter(line);
    line.split(delim as char).any(|h| {
        time_rank(&Header::new(h.trim().trim_matches('"')).name).is_some()
    })
}

fn delimiter(header: &str) -> u8 {
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn time_rank(name: &str) -> Option<usize> {
    TIME_COLUMNS.iter().position(|t| t.eq_ignore_ascii_case(name))
}

/// What a column header says of its values' time zone.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Zone {
    /// `[UTC]`.
    Utc,
    /// `[UTC+02:00]`: the offset in seconds.
    Offset(i32),
    /// Nothing, or `[Local Time]`: the values say, or UTC is assumed.
    Unknown,
}

struct Header {
    name: String,
    zone: Zone,
}

impl Header {
    fn new(raw: &str) -> Header {
        let raw = raw.trim();
        if let Some(open) = raw.rfind(" [")
            && raw.ends_with(']')
        {
            let zone = &raw[open + 2..raw.len() - 1];
            return Header {
                name: raw[..open].trim().to_owned(),
                zone: zone_named(zone),
            };
        }
        Header { name: raw.to_owned(), zone: Zone::Unknown }
    }
}

fn zone_named(z: &str) -> Zone {
    if z.eq_ignore_ascii_case("utc") {
        return Zone::Utc;
    }
    let Some(off) = z.strip_prefix("UTC").or_else(|| z.strip_prefix("utc"))
    else {
        return Zone::Unknown;
    };
    offset(off).map_or(Zone::Unknown, Zone::Offset)
}

/// `+02:00`, `-0530`, `+2` as seconds east of UTC.
fn offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The columns of an export, understood once.
struct Columns {
    headers: Vec<Header>,
    table: Option<usize>,
    /// The time columns, preferred first: a row's time is the first
    /// that has a value (2019 rows have `EventTime`, later ones
    /// `Timestamp`).
    times: Vec<usize>,
}

impl Columns {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Columns {
        let headers: Vec<Header> = names.map(Header::new).collect();
        let table = headers.iter().position(|h| {
            TABLE_COLUMNS.iter().any(|t| t.eq_ignore_ascii_case(&h.name))
        });
        let mut ranked: Vec<(usize, usize)> = headers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| time_rank(&h.name).map(|r| (r, i)))
            .collect();
        ranked.sort_unstable();
        let times = ranked.into_iter().map(|(_, i)| i).collect();
        Columns { headers, table, times }
    }

    /// Refuses an export replay could not read a record of.
    fn check(&self, how: &Decoding) -> io::Result<()> {
        if self.table.is_none() && how.table.is_none() {
            return Err(unreadable(
                "the export names no table (no Type or Table column): give it with --table",
            ));
        }
        if self.times.is_empty() {
            return Err(unreadable(
                "the export has no Timestamp or TimeGenerated column",
            ));
        }
        Ok(())
    }
}

/// One cell, as the export holds it.
enum Cell<'a> {
    Text(&'a str),
    Json(&'a Value),
}

/// Writes one row as a streaming record.
fn write_row<'a>(
    out: &mut Vec<u8>,
    cols: &Columns,
    cells: impl Iterator<Item = Cell<'a>> + Clone,
    how: &Decoding,
) -> io::Result<()> {
    let text_at = |i: usize| {
        cells.clone().nth(i).and_then(|c| match c {
            Cell::Text(s) => Some(s.to_owned()),
            Cell::Json(Value::String(s)) => Some(s.clone()),
            Cell::Json(_) => None,
        })
    };
    let table = cols
        .table
        .and_then(text_at)
        .filter(|t| !t.is_empty())
        .or_else(|| how.table.clone());
    let Some(table) = table else {
        return Err(unreadable(
            "a row names no table and none was given with --table",
        ));
    };
    let table = crate::table::known(&table).map_or(table, str::to_owned);
    let time = cols.times.iter().find_map(|&i| {
        let raw = text_at(i).filter(|t| !t.trim().is_empty())?;
        let zone = cols.headers[i].zone;
        Some(match normalize_time(&raw, zone) {
            Some((t, assumed)) => {
                if assumed {
                    how.assumed_utc.fetch_add(1, Ordering::Relaxed);
                }
                t
            }
            // Kept as written: the record's time is then unreadable.
            None => raw,
        })
    });
    out.extend_from_slice(b"{\"time\":");
    json_str(out, time.as_deref().unwrap_or(""));
    out.extend_from_slice(b",\"category\":");
    json_str(out, &format!("{}{table}", crate::table::PREFIX));
    out.extend_from_slice(b",\"properties\":{");
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, name: &str| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        json_str(out, name);
        out.push(b':');
    };
    if let Some(t) = &time {
        key(out, "Timestamp");
        json_str(out, t);
    }
    for (i, cell) in cells.enumerate() {
        let Some(h) = cols.headers.get(i) else { break };
        if cols.times.contains(&i) || Some(i) == cols.table {
            continue;
        }
        match cell {
            Cell::Text("") | Cell::Json(Value::Null) => {}
            Cell::Text(s) if h.name == "ReportId" && is_integer(s) => {
                key(out, &h.name);
                out.extend_from_slice(s.as_bytes());
            }
            Cell::Text(s) => {
                key(out, &h.name);
                json_str(out, s);
            }
            Cell::Json(v) => {
                key(out, &h.name);
                serde_json::to_writer(&mut *out, v)
                    .map_err(io::Error::other)?;
            }
        }
    }
    out.extend_from_slice(b"}}\n");
    Ok(())
}

/// A whole number JSON can carry as written: digits, no leading zero
/// (`0506` stays a string; as a number it would not be JSON).
fn is_integer(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 19
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A CSV export, read row by row as streaming lines.
pub(crate) struct CsvLines {
    rows: csv::Reader<Box<dyn Read + Send>>,
    cols: Columns,
    how: Decoding,
    record: csv::StringRecord,
    out: Vec<u8>,
    pos: usize,
}

impl CsvLines {
    /// Reads the header.
    ///
    /// # Errors
    ///
    /// A header replay cannot work with (see the module), or a failure
    /// to read.
    pub fn new(
        r: Box<dyn Read + Send>,
        how: &Decoding,
    ) -> io::Result<CsvLines> {
        let mut r = r;
        // The delimiter, from the header line.
        let mut head = Vec::new();
        (&mut r).take(64 << 10).read_to_end(&mut head)?;
        let text = head.strip_prefix(crate::ahead::BOM).unwrap_or(&head);
        let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
        let delim = delimiter(&String::from_utf8_lossy(first));
        let whole: Box<dyn Read + Send> =
            Box::new(io::Cursor::new(text.to_vec()).chain(r));
        let mut rows = csv::ReaderBuilder::new()
            .delimiter(delim)
            .flexible(true)
            .from_reader(whole);
        let names = rows
            .headers()
            .map_err(|e| unreadable(format!("the CSV header: {e}")))?
            .clone();
        let cols = Columns::new(names.iter());
        cols.check(how)?;
        Ok(CsvLines {
            rows,
            cols,
            how: how.clone(),
            record: csv::StringRecord::new(),
            out: Vec::new(),
            pos: 0,
        })
    }

    /// Converts the next rows, about 64 KiB of lines; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        while self.out.len() < 64 << 10 {
            match self.rows.read_record(&mut self.record) {
                Ok(true) => {
                    let cells = self.record.iter().map(Cell::Text);
                    write_row(&mut self.out, &self.cols, cells, &self.how)?;
                }
                Ok(false) => break,
                // A row that is not UTF-8 or not CSV: a line that is not
                // JSON, rejected where it stands, and the rest is read.
                Err(e) if !matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    self.out.extend_from_slice(b"not CSV\n")
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        Ok(!self.out.is_empty())
    }
}

impl Read for CsvLines {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.out.len() && !self.fill()? {
            return Ok(0);
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A JSON export, read whole, as streaming lines.
///
/// # Errors
///
/// An export replay cannot work with (see the module), or a failure to
/// read.
pub(crate) fn json_lines(
    mut r: Box<dyn Read + Send>,
    how: &Decoding,
) -> io::Result<io::Cursor<Vec<u8>>> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    let text = bytes.strip_prefix(crate::ahead::BOM).unwrap_or(&bytes);
    let doc: Value = serde_json::from_slice(text)
        .map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let mut out = Vec::new();
    match &doc {
        Value::Array(rows) => objects(rows, how, &mut out)?,
        Value::Object(o) if o.contains_key("Results") => {
            let rows = o["Results"]
                .as_array()
                .ok_or_else(|| unreadable("Results is not an array"))?;
            objects(rows, how, &mut out)?;
        }
        Value::Object(o) => {
            let tables = o
                .get("tables")
                .or_else(|| o.get("Tables"))
                .and_then(Value::as_array);
            let tables = tables.ok_or_else(|| {
                unreadable("neither rows, Results nor tables")
            })?;
            for t in tables {
                analytics_table(t, how, &mut out)?;
            }
        }
        _ => return Err(unreadable("neither rows, Results nor tables")),
    }
    Ok(io::Cursor::new(out))
}

/// Rows as objects of column name to value; rows may differ in their
/// columns (a union of tables).
fn objects(
    rows: &[Value],
    how: &Decoding,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    // Rows of one query share their columns: understood once per change.
    let mut last: Option<(Vec<&str>, Columns)> = None;
    for row in rows {
        let Some(o) = row.as_object() else {
            out.extend_from_slice(b"not a row\n");
            continue;
        };
        let same = last.as_ref().is_some_and(|(names, _)| {
            names.iter().copied().eq(o.keys().map(String::as_str))
        });
        if !same {
            let cols = Columns::new(o.keys().map(String::as_str));
            cols.check(how)?;
            last = Some((o.keys().map(String::as_str).collect(), cols));
        }
        let (_, cols) = last.as_ref().expect("set above");
        write_row(out, cols, o.values().map(Cell::Json), how)?;
    }
    Ok(())
}

/// One table of the Log Analytics query API: columns, then rows of
/// values in column order.
fn analytics_table(
    t: &Value,
    how: &Decoding,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let columns = t
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| unreadable("a table has no columns"))?;
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let cols = Columns::new(names.iter().copied());
    cols.check(how)?;
    for row in t.get("rows").and_then(Value::as_array).into_iter().flatten() {
        let Some(values) = row.as_array() else {
            out.extend_from_slice(b"not a row\n");
            continue;
        };
        write_row(out, &cols, values.iter().map(Cell::Json), how)?;
    }
    Ok(())
}

/// A time as Defender writes it (`2026-01-15T10:23:45.123Z`), and
/// whether UTC was assumed; `None` when the text is no time.
fn normalize_time(s: &str, zone: Zone) -> Option<(String, bool)> {
    let s = s.trim();
    let (civil, written) =
        iso(s).or_else(|| us(s)).or_else(|| month_name(s))?;
    let (off, assumed) = match (written, zone) {
        (Some(off), _) => (off, false),
        (None, Zone::Utc) => (0, false),
        (None, Zone::Offset(o)) => (o, false),
        (None, Zone::Unknown) => (0, true),
    };
    let offset = jiff::tz::Offset::from_seconds(off).ok()?;
    let utc =
        jiff::tz::Offset::UTC.to_datetime(offset.to_timestamp(civil).ok()?);
    let mut t = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        utc.year(),
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    // As Defender writes it: up to 7 digits, trailing zeros left out.
    let frac = format!("{:07}", utc.subsec_nanosecond() / 100);
    let frac = frac.trim_end_matches('0');
    if !frac.is_empty() {
        t.push('.');
        t.push_str(frac);
    }
    t.push('Z');
    Some((t, assumed))
}

type Civil = (jiff::civil::DateTime, Option<i32>);

fn datetime(
    y: i16,
    mo: i8,
    d: i8,
    h: i8,
    mi: i8,
    sec: i8,
    nanos: i32,
) -> Option<jiff::civil::DateTime> {
    jiff::civil::DateTime::new(y, mo, d, h, mi, sec, nanos).ok()
}

/// `2026-01-15T10:23:45.123Z`, `2026-01-15 10:23:45`, `…+02:00`.
fn iso(s: &str) -> Option<Civil> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
    {
        return None;
    }
    let (y, mo, d) =
        (s[0..4].parse().ok()?, s[5..7].parse().ok()?, s[8..10].parse().ok()?);
    let (h, mi, sec, nanos, rest) = clock(&s[11..])?;
    let zone = match rest.trim() {
        "" => None,
        "Z" | "z" => Some(0),
        z => Some(offset(z)?),
    };
    Some((datetime(y, mo, d, h, mi, sec, nanos)?, zone))
}

/// `1/15/2026, 10:23:45.123 AM` (Log Analytics) or `1/15/2026 22:23:45`.
fn us(s: &str) -> Option<Civil> {
    let (date, time) = s.split_once(' ')?;
    let mut parts = date.trim_end_matches(',').split('/');
    let mo = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    let y = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let (h, mi, sec, nanos) = twelve_hour(time.trim())?;
    Some((datetime(y, mo, d, h, mi, sec, nanos)?, None))
}

/// `Jan 15, 2026 10:23:45 AM` (the portal's display form).
fn month_name(s: &str) -> Option<Civil> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
        "nov", "dec",
    ];
    let mut words = s.splitn(4, ' ');
    let month = words.next()?.get(..3)?.to_ascii_lowercase();
    let mo = MONTHS.iter().position(|m| *m == month)? as i8 + 1;
    let d = words.next()?.trim_end_matches(',').parse().ok()?;
    let y = words.next()?.parse().ok()?;
    let (h, mi, sec, nanos) = twelve_hour(words.next()?.trim())?;
    Some((datetime(y, mo, d, h, mi, sec, nanos)?, None))
}

/// `10:23:45.123 AM`, or a 24-hour `22:23:45`.
fn twelve_hour(t: &str) -> Option<(i8, i8, i8, i32)> {
    let (clock_part, meridiem) = match t.rsplit_once(' ') {
        Some((c, m)) => (c, Some(m.to_ascii_uppercase())),
        None => (t, None),
    };
    let (h, mi, sec, nanos, rest) = clock(clock_part)?;
    if !rest.is_empty() {
        return None;
    }
    let h = match meridiem.as_deref() {
        None => h,
        Some("AM") if (1..=12).contains(&h) => h % 12,
        Some("PM") if (1..=12).contains(&h) => h % 12 + 12,
        _ => return None,
    };
    Some((h, mi, sec, nanos))
}

/// `H:MM:SS[.fffffff]` and what follows it.
fn clock(s: &str) -> Option<(i8, i8, i8, i32, &str)> {
    let (h, rest) = s.split_once(':')?;
    let h = h.parse().ok()?;
    let mi = rest.get(0..2)?.parse().ok()?;
    let rest = rest.get(2..)?.strip_prefix(':')?;
    let sec = rest.get(0..2)?.parse().ok()?;
    let mut rest = rest.get(2..)?;
    let mut nanos = 0i32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let scale = 10i32.pow(9 - digits as u32);
        nanos = frac[..digits].parse::<i32>().ok()? * scale;
        rest = &frac[digits..];
    }
    Some((h, mi, sec, nanos, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<(String, bool)> {
        normalize_time(s, Zone::Unknown)
    }

    #[test]
    fn times_in_every_export_form() {
        let t = |s| utc(s).map(|(t, _)| t);
        assert_eq!(
            t("2026-01-15T10:23:45.1234567Z").as_deref(),
            Some("2026-01-15T10:23:45.1234567Z")
        );
        assert_eq!(
            t("2026-01-15T12:23:45+02:00").as_deref(),
            Some("2026-01-15T10:23:45Z")
        );
        assert_eq!(
            t("1/15/2026, 10:23:45.123 PM").as_deref(),
            Some("2026-01-15T22:23:45.123Z")
        );
        assert_eq!(
            t("1/15/2026 12:05:00 AM").as_deref(),
            Some("2026-01-15T00:05:00Z")
        );
        assert_eq!(
            t("Jan 15, 2026 10:23:45 AM").as_deref(),
            Some("2026-01-15T10:23:45Z")
        );
        assert_eq!(
            t("2026-01-15 10:23:45").as_deref(),
            Some("2026-01-15T10:23:45Z")
        );
        for bad in [
            "",
            "yesterday",
            "13/45/2026 10:00:00 AM",
            "1/15/2026 13:00:00 PM",
            "2026-02-30T00:00:00Z",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn utc_is_assumed_only_when_nothing_names_a_zone() {
        assert_eq!(utc("2026-01-15T10:00:00Z").map(|t| t.1), Some(false));
        assert_eq!(utc("1/15/2026, 10:00:00 AM").map(|t| t.1), Some(true));
        let named =
            normalize_time("1/15/2026, 10:00:00 AM", Zone::Utc).unwrap();
        assert_eq!(named, ("2026-01-15T10:00:00Z".into(), false));
        let east =
            normalize_time("1/15/2026, 10:00:00 AM", Zone::Offset(3600))
                .unwrap();
        assert_eq!(east.0, "2026-01-15T09:00:00Z");
    }

    #[test]
    fn report_ids_become_numbers_only_when_json_allows() {
        assert!(
            is_integer("506")
                && is_integer("0")
                && is_integer("1234567890123456789")
        );
        for s in ["0506", "", "-5", "5.0", "12345678901234567890", "1e3"] {
            assert!(!is_integer(s), "{s}");
        }
    }

    #[test]
    fn headers_name_their_zone() {
        let h = Header::new("TimeGenerated [UTC]");
        assert_eq!((h.name.as_str(), h.zone), ("TimeGenerated", Zone::Utc));
        assert_eq!(
            Header::new("Timestamp [UTC+02:00]").zone,
            Zone::Offset(7200)
        );
        assert_eq!(Header::new("Timestamp [Local Time]").zone, Zone::Unknown);
        assert_eq!(Header::new("DeviceName").name, "DeviceName");
    }

    #[test]
    fn exports_are_told_from_streaming_lines() {
        assert!(is_csv_export(
            b"Timestamp,DeviceId,RemoteUrl\r\n2026-01-01,a,b\r\n"
        ));
        assert!(is_csv_export(b"\"TimeGenerated [UTC]\"\t\"Type\"\n"));
        assert!(!is_csv_export(b"{\"time\":\"2026\",\"category\":\"x\"}\n"));
        assert!(!is_csv_export(b"DeviceId,RemoteUrl\n"));
        assert!(is_json_export(b"[{\"Timestamp\":\"x\"}]"));
        assert!(is_json_export(b"{\n  \"Schema\": []"));
        assert!(is_json_export(b"{\"tables\":[]}"));
        assert!(!is_json_export(b"{\"records\":[]}"));
        assert!(!is_json_export(b"{\"time\":\"x\"}"));
    }
}

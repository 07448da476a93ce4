//! One chunk of whole lines, evaluated on a worker thread. Results carry
//! line numbers relative to the chunk; the merger makes them absolute.

use std::collections::HashMap;

use iocmatch_core::IndicatorSet;

use crate::evaluate::{self, Context, Malformed, RecordHit, Scratch};
use crate::hit::{Event, RejectReason, ReportId};
use crate::record::{Line, LineError, Parser, Properties, Text};
use crate::table;
use crate::time::{self, Nanos};

/// Settings every worker reads.
pub(crate) struct Filters {
    pub parser: Parser,
    pub from: Option<Nanos>,
    pub to: Option<Nanos>,
    /// Today's names of the tables to keep (compared in any case);
    /// `None` keeps all.
    pub tables: Option<Vec<String>>,
}

/// A record that hit something.
pub(crate) struct HitRecord {
    pub line: u64,
    pub record: u32,
    pub event: Event,
    pub hits: Vec<RecordHit>,
}

/// What a worker found in one chunk.
#[derive(Default)]
pub(crate) struct ChunkOut {
    /// Non-blank lines.
    pub lines: u64,
    /// Physical lines, blank ones included (to number the next chunk).
    pub physical_lines: u64,
    pub records: u64,
    pub bodies: u64,
    pub filtered: u64,
    pub rejected: Vec<(u64, u32, RejectReason)>,
    pub hits: Vec<HitRecord>,
    /// Records per table (foldhash: SipHash on every record showed up
    /// at ~2% of replay).
    pub tables: HashMap<Box<str>, u64, foldhash::fast::RandomState>,
    pub malformed: Malformed,
}

/// Per-thread state.
#[derive(Default)]
pub(crate) struct Worker {
    scratch: Scratch,
    hits: Vec<RecordHit>,
}

impl Worker {
    pub fn run(
        &mut self,
        set: &IndicatorSet,
        f: &Filters,
        chunk: &[u8],
    ) -> ChunkOut {
        let mut out = ChunkOut::default();
        let mut index = 0u64;
        let mut start = 0;
        // Every newline ends a line; so does the end of a chunk that has
        // no final newline (the last line of a file).
        let tail = (!chunk.ends_with(b"\n") && !chunk.is_empty())
            .then_some(chunk.len());
        for end in memchr::memchr_iter(b'\n', chunk).chain(tail) {
            let line = &chunk[start..end];
            start = end + 1;
            index += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.lines += 1;
            self.line(set, f, line, index, &mut out);
        }
        out.physical_lines = index;
        out
    }

    fn line(
        &mut self,
        set: &IndicatorSet,
        f: &Filters,
        bytes: &[u8],
        n: u64,
        out: &mut ChunkOut,
    ) {
        let mut parsed = Line::default();
        match f.parser.parse_into(bytes, &mut parsed) {
            Ok(()) => {}
            Err(LineError::Truncated) => {
                return out.rejected.push((n, 0, RejectReason::Truncated));
            }
            Err(LineError::NotJson) => {
                return out.rejected.push((n, 0, RejectReason::NotJson));
            }
        };
        if let Some(records) = &parsed.records {
            out.bodies += 1;
            for (k, env) in records.iter().enumerate() {
                self.record(
                    set,
                    f,
                    &env.category,
                    env.properties.as_ref(),
                    n,
                    k as u32 + 1,
                    out,
                );
            }
            return;
        }
        self.record(
            set,
            f,
            &parsed.category,
            parsed.properties.as_ref(),
            n,
            0,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        set: &IndicatorSet,
        f: &Filters,
        category: &Text<'_>,
        props: Option<&Properties<'_>>,
        line: u64,
        record: u32,
        out: &mut ChunkOut,
    ) {
        let Some(table) = category.as_str().and_then(table::from_category)
        else {
            return out.rejected.push((
                line,
                record,
                RejectReason::UnknownEnvelope,
            ));
        };
        let Some(p) = props else {
            return out.rejected.push((
                line,
                record,
                RejectReason::NoProperties,
            ));
        };
        if let Some(keep) = &f.tables
            && !keep.iter().any(|t| t.eq_ignore_ascii_case(table))
        {
            out.filtered += 1;
            return;
        }
        let mut time = None;
        if f.from.is_some() || f.to.is_some() {
            let t = p.timestamp.as_str().and_then(time::parse);
            let inside = t.is_some_and(|t| {
                f.from.is_none_or(|a| t >= a) && f.to.is_none_or(|b| t < b)
            });
            if !inside {
                out.filtered += 1;
                return;
            }
            time = Some(t);
        }
        out.records += 1;
        match out.tables.get_mut(table) {
            Some(n) => *n += 1,
            None => {
                out.tables.insert(table.into(), 1);
            }
        }
        self.hits.clear();
        let mut ctx = Context::new(table, time);
        evaluate::evaluate(
            set,
            p,
            &mut ctx,
            &mut self.scratch,
            &mut out.malformed,
            &mut self.hits,
        );
        if !self.hits.is_empty() {
            let time = ctx.time(p.timestamp.as_str());
            out.hits.push(hit_record(
                table,
                p,
                time,
                line,
                record,
                std::mem::take(&mut self.hits),
            ));
        }
    }
}

fn hit_record(
    table: &str,
    p: &Properties<'_>,
    time: Option<Nanos>,
    line: u64,
    record: u32,
    hits: Vec<RecordHit>,
) -> HitRecord {
    let ts = p.timestamp.as_str().unwrap_or("");
    let event = Event {
        table: table.into(),
        timestamp: ts.into(),
        time,
        device_id: p.device_id.to_text().into(),
        device_name: p.device_name.to_text().into(),
        report_id: match &p.report_id {
            Text::None => ReportId::None,
            Text::U64(n) => ReportId::Number(*n),
            other => ReportId::Text(other.to_text().into()),
        },
    };
    HitRecord { line, record, event, hits }
}

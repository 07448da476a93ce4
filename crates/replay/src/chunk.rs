//! One chunk of whole lines, evaluated on a worker thread. Results carry
//! line numbers relative to the chunk; the merger makes them absolute.

use std::collections::{HashMap, HashSet};

use iocmatch_core::IndicatorSet;

use crate::evaluate::{self, Context, Malformed, RecordHit, Scratch};
use crate::fast;
use crate::hit::{Event, RejectReason, ReportId};
use crate::parse::Parser;
use crate::record::{Line, LineError, Properties, Text};
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
    /// Collect the distinct `DeviceId`s of the records evaluated.
    pub count_devices: bool,
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
    /// Distinct `DeviceId`s, when counted.
    pub devices: HashSet<Box<str>, foldhash::fast::RandomState>,
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
        while start < chunk.len() {
            let rest = &chunk[start..];
            index += 1;
            let mut parsed = Line::default();
            let next = match f.parser {
                // The fast path finds the line's end in the pass that
                // indexes it.
                Parser::Fast => fast::scan_line(rest, &mut parsed),
                _ => fast::split_line(rest),
            };
            start += next.next;
            let line = &rest[..next.len];
            if !next.read && line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.lines += 1;
            if !next.read {
                // The full parser: the one chosen, or the one behind
                // the fast path.
                let full = match f.parser {
                    Parser::Fast => Parser::Sonic,
                    p => p,
                };
                if let Err(e) = full.parse_into(line, &mut parsed) {
                    let reason = match e {
                        LineError::Truncated => RejectReason::Truncated,
                        LineError::NotJson => RejectReason::NotJson,
                    };
                    out.rejected.push((index, 0, reason));
                    continue;
                }
            }
            self.line(set, f, &parsed, index, &mut out);
        }
        out.physical_lines = index;
        out
    }

    fn line(
        &mut self,
        set: &IndicatorSet,
        f: &Filters,
        parsed: &Line<'_>,
        n: u64,
        out: &mut ChunkOut,
    ) {
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
        if f.count_devices
            && let Some(d) = p.device_id.as_str()
            && !out.devices.contains(d)
        {
            out.devices.insert(d.into());
        }
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

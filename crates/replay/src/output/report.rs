//! The JSON run report (`--report`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};

use iocmatch_core::{IndicatorId, IndicatorSet};
use serde::{Deserialize, Serialize};

use crate::report::Report;

/// The run report. `I` is how the per-indicator list is held: written
/// from a [`Report`] it is [`StreamedIndicators`], serialised entry by
/// entry (a million-indicator set never needs a million objects in
/// memory); read back it is a `Vec` of [`IndicatorStatsRecord`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord<'a, I = Vec<IndicatorStatsRecord<'a>>> {
    /// The totals.
    #[serde(borrow)]
    pub totals: TotalsRecord<'a>,
    /// Every indicator of the set, with its counts.
    pub indicators: I,
    /// Records per table.
    pub tables: BTreeMap<String, u64>,
}

/// The totals of a run (fields in name order, as the report has always
/// listed them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TotalsRecord<'a> {
    pub alerts: u64,
    /// Export timestamps without a time zone, read as UTC (absent when
    /// none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub assumed_utc: u64,
    pub bytes: u64,
    pub duplicates: u64,
    pub effective_hits: u64,
    /// Wall-clock seconds.
    pub elapsed: f64,
    pub event_hub_bodies: u64,
    pub files: u64,
    pub filtered: u64,
    pub hits: u64,
    pub lines: u64,
    pub malformed_hosts: u64,
    pub malformed_ips: u64,
    pub mb_per_s: f64,
    pub records: u64,
    /// Files not read because their storage path puts them outside the
    /// window or the tables (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_files: u64,
    /// Indicators refused while loading.
    pub rejected_indicators: u64,
    #[serde(borrow)]
    pub rejected_lines: RejectedLinesRecord<'a>,
}

/// Rejected input lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedLinesRecord<'a> {
    /// Counts by reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The first ones.
    #[serde(borrow)]
    pub examples: Vec<RejectionRecord<'a>>,
    /// All of them.
    pub total: u64,
}

/// One rejected line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionRecord<'a> {
    /// The 1-based line.
    pub line: u64,
    /// Why (`not JSON`, `truncated`, …).
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
    /// The index inside an Event Hub body, else 0.
    pub record: u32,
    /// The input file.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// What exactly, for a file rejected from some point on.
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub detail: Option<Cow<'a, str>>,
}

/// One indicator's counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorStatsRecord<'a> {
    /// Its position in the set.
    pub id: u32,
    /// `FileSha1`, …, `Url`.
    #[serde(rename = "type", borrow)]
    pub indicator_type: Cow<'a, str>,
    /// The value.
    #[serde(borrow)]
    pub value: Cow<'a, str>,
    /// The action.
    #[serde(borrow)]
    pub action: Cow<'a, str>,
    /// Hits.
    pub hits: u64,
    /// Records.
    pub records: u64,
    /// Distinct devices.
    pub devices: u64,
    /// The earliest event time, as written.
    #[serde(borrow)]
    pub first_seen: Option<Cow<'a, str>>,
    /// The latest event time, as written.
    #[serde(borrow)]
    pub last_seen: Option<Cow<'a, str>>,
}

/// Every indicator's counts, serialised one by one from the report.
#[derive(Clone, Copy, Debug)]
pub struct StreamedIndicators<'a> {
    set: &'a IndicatorSet,
    report: &'a Report,
}

impl Serialize for StreamedIndicators<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.report.indicators.len).map(|i| {
            let id = IndicatorId(i as u32);
            let ind = self.set.get(id);
            let st = self.report.indicators.hit.get(&id);
            IndicatorStatsRecord {
                id: id.0,
                indicator_type: Cow::Borrowed(ind.indicator_type().as_str()),
                value: Cow::Borrowed(ind.value()),
                action: Cow::Borrowed(ind.action().as_str()),
                hits: st.map_or(0, |s| s.hits),
                records: st.map_or(0, |s| s.records),
                devices: st.map_or(0, |s| s.devices),
                first_seen: st.and_then(|s| seen(s.first_seen.as_ref())),
                last_seen: st.and_then(|s| seen(s.last_seen.as_ref())),
            }
        }))
    }
}

/// An event time's text, as written.
fn seen<T>(t: Option<&(std::sync::Arc<str>, T)>) -> Option<Cow<'_, str>> {
    t.map(|(text, _)| Cow::Borrowed(&**text))
}

impl<'a> ReportRecord<'a, StreamedIndicators<'a>> {
    /// The report of a run of `set`, with `rejected_indicators`
    /// indicators refused while loading.
    pub fn new(
        set: &'a IndicatorSet,
        report: &'a Report,
        rejected_indicators: u64,
    ) -> Self {
        let t = &report.totals;
        let rejected_lines = RejectedLinesRecord {
            by_reason: t
                .rejected
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), *v))
                .collect(),
            examples: t
                .rejection_examples
                .iter()
                .map(|e| RejectionRecord {
                    line: e.line,
                    reason: Cow::Borrowed(e.reason.as_str()),
                    record: e.record,
                    source: Cow::Borrowed(&e.source),
                    detail: e.detail.as_deref().map(Cow::Borrowed),
                })
                .collect(),
            total: t.rejected_total(),
        };
        let totals = TotalsRecord {
            alerts: t.alerts,
            assumed_utc: t.assumed_utc,
            bytes: t.bytes,
            duplicates: t.duplicates,
            effective_hits: t.effective_hits,
            elapsed: t.elapsed,
            event_hub_bodies: t.bodies,
            files: t.files,
            filtered: t.filtered,
            hits: t.hits,
            lines: t.lines,
            malformed_hosts: t.malformed_hosts,
            malformed_ips: t.malformed_ips,
            mb_per_s: t.mb_per_s(),
            records: t.records,
            skipped_files: t.skipped_files,
            rejected_indicators,
            rejected_lines,
        };
        ReportRecord {
            totals,
            indicators: StreamedIndicators { set, report },
            tables: report.tables.clone(),
        }
    }
}

/// Writes the report of a run as pretty-printed JSON and a newline.
///
/// # Errors
///
/// When `w` fails.
pub fn write_report(
    set: &IndicatorSet,
    report: &Report,
    rejected_indicators: u64,
    w: &mut dyn Write,
) -> io::Result<()> {
    let record = ReportRecord::new(set, report, rejected_indicators);
    serde_json::to_writer_pretty(&mut *w, &record)?;
    writeln!(w)?;
    w.flush()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

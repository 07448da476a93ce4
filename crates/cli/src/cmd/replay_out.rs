//! Writing hits, alerts and the run report: JSON Lines or CSV, field
//! names as documented in docs/replay.md (a contract: keep them).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use iocmatch_core::{IndicatorId, IndicatorSet};
use iocmatch_replay::{Alert, Hit, Rejected, Report, ReportId, Sink};
use serde::Serialize;
use serde_json::{Value, json};

use crate::flags::OutputFormat;

/// An output file, or stdout for `-`.
pub fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(io::stdout())));
    }
    let f = File::create(path)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
}

fn report_id_text(r: &ReportId) -> String {
    match r {
        ReportId::None => String::new(),
        ReportId::Number(n) => n.to_string(),
        ReportId::Text(t) => t.to_string(),
    }
}

/// The indicator object hits and alerts carry.
#[derive(Serialize)]
struct IndicatorOut<'a> {
    id: u32,
    #[serde(rename = "type")]
    ty: &'static str,
    value: &'a str,
    action: &'static str,
    severity: &'static str,
    title: Option<&'a str>,
    source: String,
}

fn indicator_out(set: &IndicatorSet, id: IndicatorId) -> IndicatorOut<'_> {
    let i = set.get(id);
    IndicatorOut {
        id: id.0,
        ty: i.indicator_type().as_str(),
        value: &i.value(),
        action: i.action().as_str(),
        severity: i.severity().as_str(),
        title: i.title(),
        source: i.source().to_string(),
    }
}

/// A `ReportId` as JSON: a number when it is one, else a string.
#[derive(Serialize)]
#[serde(untagged)]
enum ReportIdOut<'a> {
    Number(u64),
    Text(&'a str),
    None(Option<()>),
}

fn report_id_out(r: &ReportId) -> ReportIdOut<'_> {
    match r {
        ReportId::None => ReportIdOut::None(None),
        ReportId::Number(n) => ReportIdOut::Number(*n),
        ReportId::Text(t) => ReportIdOut::Text(t),
    }
}

#[derive(Serialize)]
struct HitOut<'a> {
    source: &'a str,
    line: u64,
    record: u32,
    table: &'a str,
    timestamp: &'a str,
    device_id: &'a str,
    device_name: &'a str,
    report_id: ReportIdOut<'a>,
    column: &'a str,
    observed: &'a str,
    indicator: IndicatorOut<'a>,
    effective: bool,
    suppressed_by: Option<u32>,
    alert: bool,
}

#[derive(Serialize)]
struct EvidenceOut<'a> {
    source: &'a str,
    line: u64,
    record: u32,
    report_id: ReportIdOut<'a>,
    timestamp: &'a str,
}

#[derive(Serialize)]
struct AlertOut<'a> {
    indicator: IndicatorOut<'a>,
    device_id: &'a str,
    device_name: &'a str,
    first_seen: &'a str,
    last_seen: &'a str,
    records: u64,
    tables: Vec<&'a str>,
    columns: Vec<&'a str>,
    evidence: Vec<EvidenceOut<'a>>,
}

/// Streams hits as they are found.
pub struct HitWriter<'s> {
    pub set: &'s IndicatorSet,
    pub out: Option<Box<dyn Write>>,
    pub format: OutputFormat,
    pub progress: Option<indicatif::ProgressBar>,
    header_done: bool,
}

/// The indicator columns hits and alerts share in CSV.
const INDICATOR_COLUMNS: [&str; 6] = [
    "indicator_id",
    "indicator_type",
    "indicator_value",
    "action",
    "severity",
    "title",
];

fn indicator_cells(set: &IndicatorSet, id: IndicatorId) -> [String; 6] {
    let i = set.get(id);
    [
        id.0.to_string(),
        i.indicator_type().as_str().into(),
        i.value().to_string(),
        i.action().as_str().into(),
        i.severity().as_str().into(),
        i.title().unwrap_or("").into(),
    ]
}

/// A CSV header: leading columns, the indicator's, trailing columns.
fn csv_header<'a>(lead: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    lead.iter().chain(&INDICATOR_COLUMNS).chain(tail).copied().collect()
}

impl<'s> HitWriter<'s> {
    pub fn new(
        set: &'s IndicatorSet,
        out: Option<Box<dyn Write>>,
        format: OutputFormat,
    ) -> Self {
        HitWriter { set, out, format, progress: None, header_done: false }
    }

    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
        match &mut self.out {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Sink for HitWriter<'_> {
    type Error = io::Error;

    fn hit(&mut self, h: &Hit) -> io::Result<()> {
        let Some(w) = &mut self.out else { return Ok(()) };
        match self.format {
            OutputFormat::Jsonl => {
                let v = HitOut {
                    source: &h.source,
                    line: h.line,
                    record: h.record,
                    table: &h.event.table,
                    timestamp: &h.event.timestamp,
                    device_id: &h.event.device_id,
                    device_name: &h.event.device_name,
                    report_id: report_id_out(&h.event.report_id),
                    column: h.column,
                    observed: &h.observed,
                    indicator: indicator_out(self.set, h.indicator),
                    effective: h.effective,
                    suppressed_by: h.suppressed_by.map(|i| i.0),
                    alert: h.alert,
                };
                serde_json::to_writer(&mut *w, &v)?;
                w.write_all(b"\n")
            }
            OutputFormat::Csv => {
                let mut c = csv::WriterBuilder::new().from_writer(&mut *w);
                if !self.header_done {
                    c.write_record(csv_header(
                        &[
                            "source",
                            "line",
                            "record",
                            "table",
                            "timestamp",
                            "device_id",
                            "device_name",
                            "report_id",
                            "column",
                            "observed",
                        ],
                        &[
                            "indicator_source",
                            "effective",
                            "suppressed_by",
                            "alert",
                        ],
                    ))?;
                    self.header_done = true;
                }
                let e = &h.event;
                let lead = [
                    h.source.to_string(),
                    h.line.to_string(),
                    h.record.to_string(),
                    e.table.to_string(),
                    e.timestamp.to_string(),
                    e.device_id.to_string(),
                    e.device_name.to_string(),
                    report_id_text(&e.report_id),
                    h.column.to_owned(),
                    h.observed.to_string(),
                ];
                let tail = [
                    self.set.get(h.indicator).source().to_string(),
                    h.effective.to_string(),
                    h.suppressed_by
                        .map(|s| s.0.to_string())
                        .unwrap_or_default(),
                    h.alert.to_string(),
                ];
                let cells = indicator_cells(self.set, h.indicator);
                c.write_record(lead.iter().chain(&cells).chain(&tail))?;
                c.flush()
            }
        }
    }

    fn rejected(&mut self, _r: &Rejected) -> io::Result<()> {
        Ok(())
    }

    fn progress(&mut self, done: u64, _total: u64, records: u64) {
        if let Some(p) = &self.progress {
            p.set_position(done);
            let secs = p.elapsed().as_secs_f64().max(1e-3);
            p.set_message(format!(
                "{records} records, {:.0}/s",
                records as f64 / secs
            ));
        }
    }
}

fn alert_out<'a>(set: &'a IndicatorSet, a: &'a Alert) -> AlertOut<'a> {
    AlertOut {
        indicator: indicator_out(set, a.indicator),
        device_id: &a.device_id,
        device_name: &a.device_name,
        first_seen: &a.first_seen.0,
        last_seen: &a.last_seen.0,
        records: a.records,
        tables: a.tables.iter().map(|t| &**t).collect(),
        columns: a.columns.iter().copied().collect(),
        evidence: a
            .evidence
            .iter()
            .map(|e| EvidenceOut {
                source: &e.source,
                line: e.line,
                record: e.record,
                report_id: report_id_out(&e.report_id),
                timestamp: &e.timestamp,
            })
            .collect(),
    }
}

/// Writes every alert.
pub fn write_alerts(
    set: &IndicatorSet,
    alerts: &[Alert],
    format: OutputFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Jsonl => {
            for a in alerts {
                serde_json::to_writer(&mut *w, &alert_out(set, a))?;
                w.write_all(b"\n")?;
            }
        }
        OutputFormat::Csv => {
            let mut c = csv::WriterBuilder::new().from_writer(&mut *w);
            c.write_record(csv_header(
                &[],
                &[
                    "device_id",
                    "device_name",
                    "first_seen",
                    "last_seen",
                    "records",
                    "tables",
                    "columns",
                    "evidence",
                ],
            ))?;
            for a in alerts {
                let tables: Vec<&str> =
                    a.tables.iter().map(|t| &**t).collect();
                let cols: Vec<&str> = a.columns.iter().copied().collect();
                let ev: Vec<String> = a
                    .evidence
                    .iter()
                    .map(|e| format!("{}:{}", e.source, e.line))
                    .collect();
                let tail = [
                    a.device_id.to_string(),
                    a.device_name.to_string(),
                    a.first_seen.0.to_string(),
                    a.last_seen.0.to_string(),
                    a.records.to_string(),
                    tables.join(";"),
                    cols.join(";"),
                    ev.join(";"),
                ];
                c.write_record(
                    indicator_cells(set, a.indicator).iter().chain(&tail),
                )?;
            }
            c.flush()?;
        }
    }
    w.flush()
}

/// The run report. Per-indicator entries are serialised as they are
/// written, never collected: a million-indicator set must not need a
/// million JSON objects in memory.
#[derive(Serialize)]
pub struct ReportOut<'a> {
    totals: Value,
    indicators: IndicatorsOut<'a>,
    tables: &'a std::collections::BTreeMap<String, u64>,
}

struct IndicatorsOut<'a> {
    set: &'a IndicatorSet,
    report: &'a Report,
}

#[derive(Serialize)]
struct IndicatorStatsOut<'a> {
    id: usize,
    #[serde(rename = "type")]
    ty: &'static str,
    value: &'a str,
    action: &'static str,
    hits: u64,
    records: u64,
    devices: u64,
    first_seen: Option<std::sync::Arc<str>>,
    last_seen: Option<std::sync::Arc<str>>,
}

impl Serialize for IndicatorsOut<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.report.indicators.len).map(|i| {
            let id = IndicatorId(i as u32);
            let ind = self.set.get(id);
            let st = self
                .report
                .indicators
                .hit
                .get(&id)
                .cloned()
                .unwrap_or_default();
            IndicatorStatsOut {
                id: i,
                ty: ind.indicator_type().as_str(),
                value: &ind.value(),
                action: ind.action().as_str(),
                hits: st.hits,
                records: st.records,
                devices: st.devices,
                first_seen: st.first_seen.map(|f| f.0),
                last_seen: st.last_seen.map(|l| l.0),
            }
        }))
    }
}

/// The run report, ready to serialise.
pub fn report_json<'a>(
    set: &'a IndicatorSet,
    r: &'a Report,
    indicator_rejections: usize,
) -> ReportOut<'a> {
    let t = &r.totals;
    let by_reason: serde_json::Map<String, Value> = t
        .rejected
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
        .collect();
    let examples: Vec<Value> = t
        .rejection_examples
        .iter()
        .map(|e| json!({"source": &*e.source, "line": e.line, "record": e.record, "reason": e.reason.as_str()}))
        .collect();
    let totals = json!({
        "files": t.files, "bytes": t.bytes, "lines": t.lines, "records": t.records,
        "event_hub_bodies": t.bodies, "filtered": t.filtered,
        "rejected_lines": {"total": t.rejected_total(), "by_reason": by_reason, "examples": examples},
        "rejected_indicators": indicator_rejections,
        "duplicates": t.duplicates, "hits": t.hits, "effective_hits": t.effective_hits,
        "alerts": t.alerts, "malformed_ips": t.malformed_ips, "malformed_hosts": t.malformed_hosts,
        "elapsed": t.elapsed, "mb_per_s": t.mb_per_s(),
    });
    ReportOut {
        totals,
        indicators: IndicatorsOut { set, report: r },
        tables: &r.tables,
    }
}

//! One serde type per output record: hits, alerts and the indicator
//! they name.

use std::borrow::Cow;

use iocmatch_core::{IndicatorId, IndicatorSet};
use serde::{Deserialize, Serialize};

use crate::hit::{Hit, ReportId};
use crate::report::{Alert, Evidence};

/// The indicator a hit or an alert names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorRecord<'a> {
    /// Its position in the set.
    pub id: u32,
    /// `FileSha1`, …, `Url`.
    #[serde(rename = "type", borrow)]
    pub indicator_type: Cow<'a, str>,
    /// The normalised value.
    #[serde(borrow)]
    pub value: Cow<'a, str>,
    /// The action.
    #[serde(borrow)]
    pub action: Cow<'a, str>,
    /// The severity an alert carries.
    #[serde(borrow)]
    pub severity: Cow<'a, str>,
    /// The alert title.
    #[serde(borrow)]
    pub title: Option<Cow<'a, str>>,
    /// Where it was read (`file:line`).
    #[serde(borrow)]
    pub source: Cow<'a, str>,
}

impl<'a> IndicatorRecord<'a> {
    /// The record of indicator `id` of `set`.
    pub fn new(set: &'a IndicatorSet, id: IndicatorId) -> Self {
        let i = set.get(id);
        IndicatorRecord {
            id: id.0,
            indicator_type: Cow::Borrowed(i.indicator_type().as_str()),
            value: Cow::Borrowed(i.value()),
            action: Cow::Borrowed(i.action().as_str()),
            severity: Cow::Borrowed(i.severity().as_str()),
            title: i.title().map(Cow::Borrowed),
            source: Cow::Owned(i.source().to_string()),
        }
    }

    /// The CSV cells hits and alerts share, in [`Self::CSV_COLUMNS`]
    /// order.
    pub(crate) fn cells(&self) -> [String; 6] {
        [
            self.id.to_string(),
            self.indicator_type.to_string(),
            self.value.to_string(),
            self.action.to_string(),
            self.severity.to_string(),
            self.title.as_deref().unwrap_or("").to_owned(),
        ]
    }

    /// The indicator's CSV columns.
    pub(crate) const CSV_COLUMNS: [&'static str; 6] = [
        "indicator_id",
        "indicator_type",
        "indicator_value",
        "action",
        "severity",
        "title",
    ];
}

/// A record's `ReportId`: a number when it is one, else a string; `null`
/// when absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReportIdRecord<'a> {
    /// An integer.
    Number(u64),
    /// Anything else, as written.
    Text(#[serde(borrow)] Cow<'a, str>),
}

impl<'a> ReportIdRecord<'a> {
    fn new(r: &'a ReportId) -> Option<Self> {
        match r {
            ReportId::None => None,
            ReportId::Number(n) => Some(ReportIdRecord::Number(*n)),
            ReportId::Text(t) => Some(ReportIdRecord::Text(Cow::Borrowed(t))),
        }
    }

    fn text(r: Option<&Self>) -> String {
        match r {
            None => String::new(),
            Some(ReportIdRecord::Number(n)) => n.to_string(),
            Some(ReportIdRecord::Text(t)) => t.to_string(),
        }
    }
}

/// One hit: a line of `--hits`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitRecord<'a> {
    /// The input file.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The 1-based line.
    pub line: u64,
    /// The 1-based index inside an Event Hub body, else 0.
    pub record: u32,
    /// Today's table name.
    #[serde(borrow)]
    pub table: Cow<'a, str>,
    /// `Timestamp` as written.
    #[serde(borrow)]
    pub timestamp: Cow<'a, str>,
    /// `DeviceId`.
    #[serde(borrow)]
    pub device_id: Cow<'a, str>,
    /// `DeviceName`.
    #[serde(borrow)]
    pub device_name: Cow<'a, str>,
    /// `ReportId`.
    #[serde(borrow)]
    pub report_id: Option<ReportIdRecord<'a>>,
    /// Today's column name.
    #[serde(borrow)]
    pub column: Cow<'a, str>,
    /// The observed value.
    #[serde(borrow)]
    pub observed: Cow<'a, str>,
    /// The matching indicator.
    #[serde(borrow)]
    pub indicator: IndicatorRecord<'a>,
    /// Whether the indicator is the effective one for the observable.
    pub effective: bool,
    /// The effective indicator's id when this one is suppressed.
    pub suppressed_by: Option<u32>,
    /// Whether the hit raises an alert.
    pub alert: bool,
    /// A hit outside what Defender enforces (a non-`Device*` table, or
    /// no `DeviceId`): for hunting, never an alert. Written only when
    /// true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hunt_only: bool,
}

impl<'a> HitRecord<'a> {
    /// The record of `hit`, whose indicator is in `set`.
    pub fn new(set: &'a IndicatorSet, hit: &'a Hit) -> Self {
        let e = hit.event();
        HitRecord {
            source: Cow::Borrowed(hit.source()),
            line: hit.line(),
            record: hit.record(),
            table: Cow::Borrowed(&e.table),
            timestamp: Cow::Borrowed(&e.timestamp),
            device_id: Cow::Borrowed(&e.device_id),
            device_name: Cow::Borrowed(&e.device_name),
            report_id: ReportIdRecord::new(&e.report_id),
            column: Cow::Borrowed(hit.column()),
            observed: Cow::Borrowed(hit.observed()),
            indicator: IndicatorRecord::new(set, hit.indicator()),
            effective: hit.is_effective(),
            suppressed_by: hit.suppressed_by().map(|i| i.0),
            alert: hit.raises_alert(),
            hunt_only: hit.is_hunt_only(),
        }
    }

    /// The CSV header of hits.
    pub(crate) fn csv_header() -> Vec<&'static str> {
        let lead = [
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
        ];
        let tail = [
            "indicator_source",
            "effective",
            "suppressed_by",
            "alert",
            "hunt_only",
        ];
        lead.into_iter()
            .chain(IndicatorRecord::CSV_COLUMNS)
            .chain(tail)
            .collect()
    }

    /// The CSV cells, in [`Self::csv_header`] order.
    pub(crate) fn csv_cells(&self) -> Vec<String> {
        let lead = [
            self.source.to_string(),
            self.line.to_string(),
            self.record.to_string(),
            self.table.to_string(),
            self.timestamp.to_string(),
            self.device_id.to_string(),
            self.device_name.to_string(),
            ReportIdRecord::text(self.report_id.as_ref()),
            self.column.to_string(),
            self.observed.to_string(),
        ];
        let tail = [
            self.indicator.source.to_string(),
            self.effective.to_string(),
            self.suppressed_by.map(|s| s.to_string()).unwrap_or_default(),
            self.alert.to_string(),
            self.hunt_only.to_string(),
        ];
        lead.into_iter().chain(self.indicator.cells()).chain(tail).collect()
    }
}

/// One record an alert rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord<'a> {
    /// The input file.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// The 1-based line.
    pub line: u64,
    /// The index inside an Event Hub body, else 0.
    pub record: u32,
    /// `ReportId`.
    #[serde(borrow)]
    pub report_id: Option<ReportIdRecord<'a>>,
    /// `Timestamp` as written.
    #[serde(borrow)]
    pub timestamp: Cow<'a, str>,
}

impl<'a> EvidenceRecord<'a> {
    fn new(e: &'a Evidence) -> Self {
        EvidenceRecord {
            source: Cow::Borrowed(&e.source),
            line: e.line,
            record: e.record,
            report_id: ReportIdRecord::new(&e.report_id),
            timestamp: Cow::Borrowed(&e.timestamp),
        }
    }
}

/// One alert (indicator, device): a line of `--alerts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord<'a> {
    /// The indicator.
    #[serde(borrow)]
    pub indicator: IndicatorRecord<'a>,
    /// `DeviceId`.
    #[serde(borrow)]
    pub device_id: Cow<'a, str>,
    /// `DeviceName` of the first record.
    #[serde(borrow)]
    pub device_name: Cow<'a, str>,
    /// The earliest event time, as written.
    #[serde(borrow)]
    pub first_seen: Cow<'a, str>,
    /// The latest event time, as written.
    #[serde(borrow)]
    pub last_seen: Cow<'a, str>,
    /// Records behind the alert.
    pub records: u64,
    /// Tables that matched.
    #[serde(borrow)]
    pub tables: Vec<Cow<'a, str>>,
    /// Columns that matched.
    #[serde(borrow)]
    pub columns: Vec<Cow<'a, str>>,
    /// The first records, in input order.
    #[serde(borrow)]
    pub evidence: Vec<EvidenceRecord<'a>>,
}

impl<'a> AlertRecord<'a> {
    /// The record of `alert`, whose indicator is in `set`.
    pub fn new(set: &'a IndicatorSet, alert: &'a Alert) -> Self {
        AlertRecord {
            indicator: IndicatorRecord::new(set, alert.indicator),
            device_id: Cow::Borrowed(&alert.device_id),
            device_name: Cow::Borrowed(&alert.device_name),
            first_seen: Cow::Borrowed(&alert.first_seen.0),
            last_seen: Cow::Borrowed(&alert.last_seen.0),
            records: alert.records,
            tables: alert.tables.iter().map(|t| Cow::Borrowed(&**t)).collect(),
            columns: alert.columns.iter().map(|&c| Cow::Borrowed(c)).collect(),
            evidence: alert.evidence.iter().map(EvidenceRecord::new).collect(),
        }
    }

    /// The CSV header of alerts.
    pub(crate) fn csv_header() -> Vec<&'static str> {
        let tail = [
            "device_id",
            "device_name",
            "first_seen",
            "last_seen",
            "records",
            "tables",
            "columns",
            "evidence",
        ];
        IndicatorRecord::CSV_COLUMNS.into_iter().chain(tail).collect()
    }

    /// The CSV cells, in [`Self::csv_header`] order; lists are joined
    /// with `;`, evidence as `file:line`.
    pub(crate) fn csv_cells(&self) -> Vec<String> {
        let join = |v: &[Cow<'_, str>]| {
            v.iter().map(|s| &**s).collect::<Vec<_>>().join(";")
        };
        let evidence: Vec<String> = self
            .evidence
            .iter()
            .map(|e| format!("{}:{}", e.source, e.line))
            .collect();
        let tail = [
            self.device_id.to_string(),
            self.device_name.to_string(),
            self.first_seen.to_string(),
            self.last_seen.to_string(),
            self.records.to_string(),
            join(&self.tables),
            join(&self.columns),
            evidence.join(";"),
        ];
        self.indicator.cells().into_iter().chain(tail).collect()
    }
}

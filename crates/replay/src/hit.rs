//! Hits as replay reports them, and the sink that receives them.

use std::sync::Arc;

use iocmatch_core::IndicatorId;

use crate::time::Nanos;

/// A record's `ReportId`: an integer in device tables (possibly above
/// 2^53), a string elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportId {
    /// Absent.
    None,
    /// An integer.
    Number(u64),
    /// A string (or a negative number, kept as written).
    Text(Box<str>),
}

/// What identifies a record: its table, time, device and `ReportId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Today's table name.
    pub table: Arc<str>,
    /// `Timestamp` as written.
    pub timestamp: Arc<str>,
    /// `Timestamp` parsed.
    pub time: Option<Nanos>,
    /// `DeviceId`.
    pub device_id: Arc<str>,
    /// `DeviceName`.
    pub device_name: Arc<str>,
    /// `ReportId`.
    pub report_id: ReportId,
}

impl Event {
    /// The parts that identify a delivery: copies of one record share
    /// them (the envelope `time` differs, and is not part of it).
    pub fn delivery_key(&self) -> (&str, &str, &ReportId, &str) {
        (&self.table, &self.device_id, &self.report_id, &self.timestamp)
    }
}

/// One (record, observable, indicator) match. Replay makes them; its
/// fields are read through accessors so that the effective/suppressed
/// pair and the alert flag always agree with precedence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub(crate) source: Arc<str>,
    pub(crate) line: u64,
    pub(crate) record: u32,
    pub(crate) event: Arc<Event>,
    pub(crate) column: &'static str,
    pub(crate) observed: Box<str>,
    pub(crate) indicator: IndicatorId,
    pub(crate) effective: bool,
    pub(crate) suppressed_by: Option<IndicatorId>,
    pub(crate) alert: bool,
    pub(crate) hunt_only: bool,
}

impl Hit {
    /// The file, as given or as found under a given folder.
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }

    /// The 1-based line.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The 1-based index inside an Event Hub body, else 0.
    pub fn record(&self) -> u32 {
        self.record
    }

    /// The record the hit is in.
    pub fn event(&self) -> &Arc<Event> {
        &self.event
    }

    /// Today's name of the column the observable was in.
    pub fn column(&self) -> &'static str {
        self.column
    }

    /// The observed value, as written in the record.
    pub fn observed(&self) -> &str {
        &self.observed
    }

    /// The matching indicator.
    pub fn indicator(&self) -> IndicatorId {
        self.indicator
    }

    /// Whether this indicator is the effective one for the observable.
    pub fn is_effective(&self) -> bool {
        self.effective
    }

    /// The effective indicator, when this one is suppressed by it.
    pub fn suppressed_by(&self) -> Option<IndicatorId> {
        self.suppressed_by
    }

    /// Whether this hit raises an alert.
    pub fn raises_alert(&self) -> bool {
        self.alert
    }

    /// Whether the record is outside what Defender enforces indicators
    /// on (a table other than `Device*`, or no `DeviceId`): a hit for
    /// hunting, never an alert.
    pub fn is_hunt_only(&self) -> bool {
        self.hunt_only
    }
}

/// Why a line (or a record inside an Event Hub body) was not evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// Not JSON.
    NotJson,
    /// JSON cut short.
    Truncated,
    /// A record without `properties`.
    NoProperties,
    /// JSON, but neither a record nor an Event Hub body (no
    /// `AdvancedHunting-` category).
    UnknownEnvelope,
    /// A gzip file that is not gzip, or damaged: the rest of the file is
    /// not read (its records up to the damage are).
    DamagedGzip,
    /// An Event Hubs Capture (Avro) file that is damaged or uses what
    /// replay cannot read (a codec other than null and deflate): the rest
    /// of the file is not read.
    DamagedAvro,
    /// An Advanced Hunting / Log Analytics export (CSV or JSON) that
    /// cannot be read: no table named and none given, no time column, or
    /// broken CSV or JSON.
    UnreadableExport,
}

impl RejectReason {
    /// The reason as reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotJson => "not JSON",
            RejectReason::Truncated => "truncated",
            RejectReason::NoProperties => "no properties",
            RejectReason::UnknownEnvelope => "unknown envelope",
            RejectReason::DamagedGzip => "damaged gzip",
            RejectReason::DamagedAvro => "damaged avro",
            RejectReason::UnreadableExport => "unreadable export",
        }
    }
}

/// A rejected line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The file.
    pub source: Arc<str>,
    /// 1-based line.
    pub line: u64,
    /// 1-based index inside an Event Hub body, else 0.
    pub record: u32,
    /// Why.
    pub reason: RejectReason,
    /// What exactly, for a file rejected from some point on (a codec
    /// replay does not read, an export without a table, …).
    pub detail: Option<Arc<str>>,
}

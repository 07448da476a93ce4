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

/// One (record, observable, indicator) match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The file, as given or as found under a given folder.
    pub source: Arc<str>,
    /// 1-based line.
    pub line: u64,
    /// 1-based index inside an Event Hub body, else 0.
    pub record: u32,
    /// The record the hit is in.
    pub event: Arc<Event>,
    /// Today's column name.
    pub column: &'static str,
    /// The observed value.
    pub observed: Box<str>,
    /// The matching indicator.
    pub indicator: IndicatorId,
    /// Whether this indicator is the effective one for the observable.
    pub effective: bool,
    /// The effective indicator when this one is suppressed.
    pub suppressed_by: Option<IndicatorId>,
    /// Whether this hit raises an alert.
    pub alert: bool,
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
}

impl RejectReason {
    /// The reason as reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotJson => "not JSON",
            RejectReason::Truncated => "truncated",
            RejectReason::NoProperties => "no properties",
            RejectReason::UnknownEnvelope => "unknown envelope",
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
}

/// Receives hits and rejections in input order, as replay finds them.
pub trait Sink {
    /// The sink's error.
    type Error;

    /// A hit (suppressed ones included).
    ///
    /// # Errors
    ///
    /// Stops the replay with this error.
    fn hit(&mut self, hit: &Hit) -> Result<(), Self::Error>;

    /// A rejected line.
    ///
    /// # Errors
    ///
    /// Stops the replay with this error.
    fn rejected(&mut self, _r: &Rejected) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Progress: input bytes read so far of `total` (0 when unknown), and
    /// records read so far.
    fn progress(&mut self, _done: u64, _total: u64, _records: u64) {}
}

/// A sink that keeps everything, for tests and small runs.
#[derive(Debug, Default)]
pub struct Collect {
    /// Every hit.
    pub hits: Vec<Hit>,
    /// Every rejection.
    pub rejected: Vec<Rejected>,
}

impl Sink for Collect {
    type Error = std::convert::Infallible;

    fn hit(&mut self, hit: &Hit) -> Result<(), Self::Error> {
        self.hits.push(hit.clone());
        Ok(())
    }

    fn rejected(&mut self, r: &Rejected) -> Result<(), Self::Error> {
        self.rejected.push(r.clone());
        Ok(())
    }
}

//! What a replay found, in aggregate: totals, alerts, per-indicator and
//! per-table counts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use iocmatch_core::{IndicatorId, IndicatorSet};

use crate::hit::{Hit, RejectReason, Rejected, ReportId};
use crate::time::Nanos;

/// The most rejection examples a report keeps.
pub const REJECTION_EXAMPLES: usize = 100;

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Input files read.
    pub files: u64,
    /// Input bytes (decompressed).
    pub bytes: u64,
    /// Non-blank lines.
    pub lines: u64,
    /// Records evaluated.
    pub records: u64,
    /// Event Hub bodies among the lines.
    pub bodies: u64,
    /// Records left out by `--from`, `--to` or `--tables`.
    pub filtered: u64,
    /// Rejected lines (or body records) by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// The first rejections, as examples.
    pub rejection_examples: Vec<Rejected>,
    /// Later deliveries of records that hit, skipped.
    pub duplicates: u64,
    /// Hits, suppressed ones included.
    pub hits: u64,
    /// Effective hits.
    pub effective_hits: u64,
    /// Alerts (indicator, device).
    pub alerts: u64,
    /// IP column values that were not addresses.
    pub malformed_ips: u64,
    /// Host/URL column values that were neither.
    pub malformed_hosts: u64,
    /// Wall-clock seconds.
    pub elapsed: f64,
    /// Distinct `DeviceId`s among the records evaluated; counted only
    /// when [`count_devices`](crate::ReplayOptionsBuilder::count_devices)
    /// is set, else 0.
    pub devices: u64,
    /// Timestamps of CSV or JSON exports that named no time zone, read
    /// as UTC (the report states it).
    pub assumed_utc: u64,
    /// Files not read because their path (Defender's storage layout)
    /// puts them outside `--from`/`--to`/`--tables`.
    pub skipped_files: u64,
}

impl Totals {
    /// All rejections.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Input megabytes (10^6) per second.
    pub fn mb_per_s(&self) -> f64 {
        if self.elapsed > 0.0 {
            self.bytes as f64 / 1e6 / self.elapsed
        } else {
            0.0
        }
    }
}

/// A reference to one record an alert rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The file.
    pub source: Arc<str>,
    /// 1-based line.
    pub line: u64,
    /// Index inside an Event Hub body, else 0.
    pub record: u32,
    /// `ReportId`.
    pub report_id: ReportId,
    /// `Timestamp` as written.
    pub timestamp: Arc<str>,
}

/// What Defender would raise: effective alerting hits of one indicator on
/// one device.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The indicator.
    pub indicator: IndicatorId,
    /// `DeviceId`.
    pub device_id: Arc<str>,
    /// `DeviceName` of the first record.
    pub device_name: Arc<str>,
    /// Earliest event time (text as written, and parsed).
    pub first_seen: (Arc<str>, Option<Nanos>),
    /// Latest event time.
    pub last_seen: (Arc<str>, Option<Nanos>),
    /// Records (not hits) behind the alert.
    pub records: u64,
    /// Tables that matched.
    pub tables: BTreeSet<Arc<str>>,
    /// Columns that matched.
    pub columns: BTreeSet<&'static str>,
    /// Up to N records, in input order.
    pub evidence: Vec<Evidence>,
}

/// Hits of one indicator.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndicatorStats {
    /// Hits.
    pub hits: u64,
    /// Records.
    pub records: u64,
    /// Distinct devices.
    pub devices: u64,
    /// Earliest event time.
    pub first_seen: Option<(Arc<str>, Nanos)>,
    /// Latest event time.
    pub last_seen: Option<(Arc<str>, Nanos)>,
}

/// The whole result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Totals.
    pub totals: Totals,
    /// Alerts, in the order their first record was read.
    pub alerts: Vec<Alert>,
    /// Per indicator: see [`Report::stats`].
    pub indicators: IndicatorCounts,
    /// Records per table.
    pub tables: BTreeMap<String, u64>,
    /// The sink stopped the run before the end of the input.
    pub stopped_early: bool,
}

/// Counts per indicator. Only indicators that hit have an entry, so a
/// million-indicator set costs nothing here until it hits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndicatorCounts {
    /// The set's size.
    pub len: usize,
    /// The indicators that hit, by id.
    pub hit: BTreeMap<IndicatorId, IndicatorStats>,
}

impl Report {
    /// The counts of one indicator (zero for one that never hit).
    pub fn stats(&self, id: IndicatorId) -> IndicatorStats {
        self.indicators.hit.get(&id).cloned().unwrap_or_default()
    }

    /// How many indicators never hit.
    pub fn never_hit(&self) -> usize {
        self.indicators.len - self.indicators.hit.len()
    }
}

/// One indicator's counts while the run is going.
#[derive(Default)]
struct Counting {
    stats: IndicatorStats,
    devices: HashSet<Arc<str>, foldhash::fast::RandomState>,
    /// The record (input sequence number) last counted.
    last_record: Option<u64>,
}

/// Accumulates alerts and per-indicator counts from hits in input order.
pub(crate) struct Book {
    evidence_limit: usize,
    alerts: Vec<Alert>,
    alert_index:
        HashMap<(IndicatorId, Arc<str>), usize, foldhash::fast::RandomState>,
    len: usize,
    stats: HashMap<IndicatorId, Counting, foldhash::fast::RandomState>,
    /// The record each alert was last counted for.
    last_alert_record: Vec<u64>,
}

impl Book {
    pub fn new(set: &IndicatorSet, evidence_limit: usize) -> Book {
        Book {
            evidence_limit,
            alerts: Vec::new(),
            alert_index: HashMap::default(),
            len: set.len(),
            stats: HashMap::default(),
            last_alert_record: Vec::new(),
        }
    }

    /// Counts one hit of the record numbered `seq` (input order); returns
    /// the alert this hit opened, if it opened one.
    pub fn add(&mut self, hit: &Hit, seq: u64) -> Option<usize> {
        let id = hit.indicator;
        let c = self.stats.entry(id).or_default();
        let s = &mut c.stats;
        s.hits += 1;
        // Several hits of one indicator in one record count one record.
        if c.last_record.replace(seq) != Some(seq) {
            s.records += 1;
        }
        if c.devices.insert(Arc::clone(&hit.event.device_id)) {
            s.devices += 1;
        }
        if let Some(t) = hit.event.time {
            if s.first_seen.as_ref().is_none_or(|f| t < f.1) {
                s.first_seen = Some((Arc::clone(&hit.event.timestamp), t));
            }
            if s.last_seen.as_ref().is_none_or(|l| t > l.1) {
                s.last_seen = Some((Arc::clone(&hit.event.timestamp), t));
            }
        }
        if hit.alert {
            let before = self.alerts.len();
            self.count_alert(hit, seq);
            return (self.alerts.len() > before).then_some(before);
        }
        None
    }

    /// The alert numbered `i` (in opening order), as it stands.
    pub fn alert(&self, i: usize) -> &Alert {
        &self.alerts[i]
    }

    fn count_alert(&mut self, hit: &Hit, seq: u64) {
        let key = (hit.indicator, Arc::clone(&hit.event.device_id));
        let i = *self.alert_index.entry(key).or_insert_with(|| {
            self.alerts.push(Alert {
                indicator: hit.indicator,
                device_id: Arc::clone(&hit.event.device_id),
                device_name: Arc::clone(&hit.event.device_name),
                first_seen: (Arc::clone(&hit.event.timestamp), hit.event.time),
                last_seen: (Arc::clone(&hit.event.timestamp), hit.event.time),
                records: 0,
                tables: BTreeSet::new(),
                columns: BTreeSet::new(),
                evidence: Vec::new(),
            });
            self.last_alert_record.push(u64::MAX);
            self.alerts.len() - 1
        });
        let a = &mut self.alerts[i];
        a.tables.insert(Arc::clone(&hit.event.table));
        a.columns.insert(hit.column);
        if let Some(t) = hit.event.time {
            if a.first_seen.1.is_none_or(|f| t < f) {
                a.first_seen = (Arc::clone(&hit.event.timestamp), Some(t));
            }
            if a.last_seen.1.is_none_or(|l| t > l) {
                a.last_seen = (Arc::clone(&hit.event.timestamp), Some(t));
            }
        }
        if self.last_alert_record[i] != seq {
            self.last_alert_record[i] = seq;
            a.records += 1;
            if a.evidence.len() < self.evidence_limit {
                a.evidence.push(Evidence {
                    source: Arc::clone(&hit.source),
                    line: hit.line,
                    record: hit.record,
                    report_id: hit.event.report_id.clone(),
                    timestamp: Arc::clone(&hit.event.timestamp),
                });
            }
        }
    }

    pub fn finish(self) -> (Vec<Alert>, IndicatorCounts) {
        let hit =
            self.stats.into_iter().map(|(id, c)| (id, c.stats)).collect();
        (self.alerts, IndicatorCounts { len: self.len, hit })
    }
}

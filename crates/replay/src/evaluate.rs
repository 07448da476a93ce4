//! Deciding the hits of one record (contract §2–§4): the observables of
//! its columns, the indicators that match each, device-group scope and
//! expiry, and which indicator is effective per observable.

use iocmatch_core::value::{ip, url::Url};
use iocmatch_core::{HashKind, IndicatorId, IndicatorSet};

use crate::record::{Properties, Text};
use crate::time::{self, Nanos};

/// One hit inside a record, before it is placed in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHit {
    /// Today's column name (`AdditionalFields.query` for nested ones).
    pub column: &'static str,
    /// The value as observed.
    pub observed: Box<str>,
    /// The matching indicator.
    pub indicator: IndicatorId,
    /// The effective indicator of this observable.
    pub effective: IndicatorId,
}

/// Per-thread scratch space, reused from record to record.
#[derive(Debug, Default)]
pub struct Scratch {
    candidates: Vec<IndicatorId>,
    /// Hash hits of one file: (column index, indicator).
    file: Vec<(usize, IndicatorId)>,
}

/// What a record needs beyond its columns.
pub struct Context<'r> {
    /// Today's table name.
    pub table: &'r str,
    /// Event time, parsed lazily (only expiring indicators need it).
    time: Option<Option<Nanos>>,
}

impl<'r> Context<'r> {
    /// A context for a record of `table`; `time` when already parsed.
    pub fn new(table: &'r str, time: Option<Option<Nanos>>) -> Self {
        Context { table, time }
    }

    /// The event time, parsing `timestamp` unless done already.
    pub fn time(&mut self, timestamp: Option<&str>) -> Option<Nanos> {
        *self.time.get_or_insert_with(|| timestamp.and_then(time::parse))
    }
}

/// Counters of values that are not observables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Malformed {
    /// IP columns that held no address.
    pub ips: u64,
    /// Host/URL columns that held no host or URL.
    pub hosts: u64,
}

/// Evaluates one record, appending its hits (in column order).
pub fn evaluate(
    set: &IndicatorSet,
    p: &Properties<'_>,
    ctx: &mut Context<'_>,
    scratch: &mut Scratch,
    malformed: &mut Malformed,
    out: &mut Vec<RecordHit>,
) {
    let group = p.machine_group.as_str();
    let mut e = Eval { set, p, ctx, scratch, group, out };
    e.file([
        ("SHA1", HashKind::Sha1, &p.sha1),
        ("SHA256", HashKind::Sha256, &p.sha256),
        ("MD5", HashKind::Md5, &p.md5),
    ]);
    e.file([
        ("InitiatingProcessSHA1", HashKind::Sha1, &p.initiating_sha1),
        ("InitiatingProcessSHA256", HashKind::Sha256, &p.initiating_sha256),
        ("InitiatingProcessMD5", HashKind::Md5, &p.initiating_md5),
    ]);
    e.certificate();
    for (col, v) in [
        ("RemoteIP", &p.remote_ip),
        ("FileOriginIP", &p.file_origin_ip),
        ("RequestSourceIP", &p.request_source_ip),
        ("InitiatingProcessRemoteSessionIP", &p.remote_session_ip),
        ("PublicIP", &p.public_ip),
    ] {
        if let Some(s) = v.as_str()
            && !e.ip(col, s)
        {
            malformed.ips += 1;
        }
    }
    for (col, v) in [
        ("RemoteUrl", &p.remote_url),
        ("FileOriginUrl", &p.file_origin_url),
        ("FileOriginReferrerUrl", &p.file_origin_referrer_url),
        ("Url", &p.url),
    ] {
        if let Some(s) = v.as_str()
            && !e.network(col, s)
        {
            malformed.hosts += 1;
        }
    }
    e.inspected(malformed);
}

struct Eval<'e, 'p, 'r> {
    set: &'e IndicatorSet,
    p: &'e Properties<'p>,
    ctx: &'e mut Context<'r>,
    scratch: &'e mut Scratch,
    group: Option<&'e str>,
    out: &'e mut Vec<RecordHit>,
}

impl Eval<'_, '_, '_> {
    /// Drops candidates out of scope or expired at the event time.
    fn applies(&mut self, id: IndicatorId) -> bool {
        let ind = self.set.get(id);
        if ind.meta().expiration.is_none()
            && ind.meta().rbac_group_names.is_empty()
        {
            return true;
        }
        let time = self.ctx.time(self.p.timestamp.as_str());
        let t = time.and_then(|n| jiff::Timestamp::from_nanosecond(n).ok());
        ind.applies(t, self.group)
    }

    /// One file: the hashes of its columns are one observable.
    fn file(&mut self, cols: [(&'static str, HashKind, &Text<'_>); 3]) {
        self.scratch.file.clear();
        for (at, (_, kind, v)) in cols.iter().enumerate() {
            let Some(s) = v.as_str() else { continue };
            for &id in self.set.match_hash(*kind, s.as_bytes()) {
                self.scratch.file.push((at, id));
            }
        }
        if self.scratch.file.is_empty() {
            return;
        }
        let mut found = std::mem::take(&mut self.scratch.file);
        found.retain(|&(_, id)| self.applies(id));
        let ids: Vec<IndicatorId> = found.iter().map(|&(_, id)| id).collect();
        if let Some(eff) = self.set.effective(&ids) {
            for &(at, id) in &found {
                let (column, _, v) = cols[at];
                self.out.push(RecordHit {
                    column,
                    observed: v.to_text().into(),
                    indicator: id,
                    effective: eff,
                });
            }
        }
        self.scratch.file = found;
    }

    fn certificate(&mut self) {
        let Some(s) = self.p.signer_hash.as_str() else { return };
        let ids = self.set.match_certificate(s.as_bytes());
        if ids.is_empty() {
            return;
        }
        self.scratch.candidates.clear();
        self.scratch.candidates.extend_from_slice(ids);
        self.finish("SignerHash", s);
    }

    /// An IP column; false when the value is not an address.
    fn ip(&mut self, col: &'static str, s: &str) -> bool {
        let Some(addr) = ip::parse_addr(s) else { return false };
        self.scratch.candidates.clear();
        self.set.match_ip(addr, &mut self.scratch.candidates);
        self.finish(col, s);
        true
    }

    /// A host/URL column; false when the value is neither.
    fn network(&mut self, col: &'static str, s: &str) -> bool {
        let Ok(url) = Url::parse(s) else { return false };
        self.scratch.candidates.clear();
        self.set.match_url(&url, &mut self.scratch.candidates);
        self.finish(col, s);
        true
    }

    /// Filters the candidates of one observable and records the hits.
    fn finish(&mut self, col: &'static str, observed: &str) {
        if self.scratch.candidates.is_empty() {
            return;
        }
        let mut c = std::mem::take(&mut self.scratch.candidates);
        c.retain(|&id| self.applies(id));
        if let Some(eff) = self.set.effective(&c) {
            for &id in &c {
                self.out.push(RecordHit {
                    column: col,
                    observed: observed.into(),
                    indicator: id,
                    effective: eff,
                });
            }
        }
        self.scratch.candidates = c;
    }

    /// The host fields of inspected network events.
    fn inspected(&mut self, malformed: &mut Malformed) {
        if self.ctx.table != "DeviceNetworkEvents" {
            return;
        }
        let action = self.p.action_type.as_str().unwrap_or("");
        if !matches!(
            action,
            "DnsConnectionInspected"
                | "HttpConnectionInspected"
                | "SslConnectionInspected"
        ) {
            return;
        }
        let value = self.p.additional_fields.with_inspected(|f| {
            let f = f?;
            Some(match action {
                "DnsConnectionInspected" => {
                    ("AdditionalFields.query", f.query.as_str()?.to_owned())
                }
                "SslConnectionInspected" => (
                    "AdditionalFields.server_name",
                    f.server_name.as_str()?.to_owned(),
                ),
                _ => (
                    "AdditionalFields.host",
                    format!(
                        "http://{}{}",
                        f.host.as_str()?,
                        f.uri.as_str().unwrap_or("")
                    ),
                ),
            })
        });
        if let Some((col, v)) = value
            && !self.network(col, &v)
        {
            malformed.hosts += 1;
        }
    }
}

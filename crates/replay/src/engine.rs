//! The replay engine: inputs are cut into chunks of whole lines,
//! evaluated in parallel in bounded batches, and merged strictly in input
//! order, so output is identical whatever the thread count and memory
//! stays bounded whatever the input size.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use iocmatch_core::IndicatorSet;
use rayon::prelude::*;

use crate::ahead::{Ahead, BOM, InOrder, Msg, Reader};
use crate::chunk::{ChunkOut, Filters, Worker};
use crate::decode::{Decoding, damage_of, detail_of};
use crate::hit::{Event, Hit, RejectReason, Rejected};
use crate::input::{Input, MmapChoice};
use crate::parse::Parser;
use crate::report::{Book, REJECTION_EXAMPLES, Report, Totals};
use crate::sink::Sink;
use crate::time::Nanos;

/// Validated replay settings, made by [`ReplayOptions::builder`]; the
/// default replays everything with one thread per core.
///
/// ```
/// use iocmatch_replay::{OptionsError, ReplayOptions};
///
/// let opts = ReplayOptions::builder().threads(2).chunk_size(1 << 20).build()?;
/// assert_eq!(opts.chunk_size(), 1 << 20);
/// assert!(matches!(
///     ReplayOptions::builder().chunk_size(0).build(),
///     Err(OptionsError::ChunkSize { .. })
/// ));
/// # Ok::<(), OptionsError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    threads: Option<usize>,
    pool: Option<Arc<rayon::ThreadPool>>,
    from: Option<Nanos>,
    to: Option<Nanos>,
    tables: Option<Vec<String>>,
    mmap: MmapChoice,
    chunk_size: usize,
    evidence_limit: usize,
    parser: Parser,
    count_devices: bool,
    lookahead: Option<usize>,
    decoding: Decoding,
    late_by: Nanos,
}

/// Records reach storage late; a file written more than this after `to`
/// is not read (see [`ReplayOptionsBuilder::late_by`]).
pub const DEFAULT_LATE_BY: Nanos = 24 * 3_600_000_000_000;

/// The smallest chunk: below it, per-chunk costs dominate, and a stream
/// whose lines are longer than a chunk regrows its buffer line by line.
pub const MIN_CHUNK_SIZE: usize = 4 << 10;

/// The largest chunk: a stream holds two per thread in memory.
pub const MAX_CHUNK_SIZE: usize = 1 << 30;

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            threads: None,
            pool: None,
            from: None,
            to: None,
            tables: None,
            mmap: MmapChoice::never(),
            chunk_size: 4 << 20,
            evidence_limit: 10,
            parser: Parser::Fast,
            count_devices: false,
            lookahead: None,
            decoding: Decoding::default(),
            late_by: DEFAULT_LATE_BY,
        }
    }
}

impl ReplayOptions {
    /// A builder, starting from the defaults.
    pub fn builder() -> ReplayOptionsBuilder {
        ReplayOptionsBuilder { opts: ReplayOptions::default() }
    }

    /// Worker threads (`None`: one per core, or the shared pool's).
    pub fn threads(&self) -> Option<usize> {
        self.threads
    }

    /// Only events at or after this time.
    pub fn from(&self) -> Option<Nanos> {
        self.from
    }

    /// Only events before this time.
    pub fn to(&self) -> Option<Nanos> {
        self.to
    }

    /// Only these tables (today's names).
    pub fn tables(&self) -> Option<&[String]> {
        self.tables.as_deref()
    }

    /// Target chunk size in bytes.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Evidence references kept per alert.
    pub fn evidence_limit(&self) -> usize {
        self.evidence_limit
    }

    /// The JSON parser.
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// How inputs are decoded (for [`Input::reader_with`]).
    pub fn decoding(&self) -> &Decoding {
        &self.decoding
    }
}

/// Builds [`ReplayOptions`]; [`build`](ReplayOptionsBuilder::build)
/// checks them.
#[derive(Clone, Debug)]
pub struct ReplayOptionsBuilder {
    opts: ReplayOptions,
}

impl ReplayOptionsBuilder {
    /// Worker threads; at least 1.
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.opts.threads = Some(n);
        self
    }

    /// Runs on the caller's thread pool (a service replaying many sets
    /// shares one) instead of starting one per run. Overrides
    /// [`threads`](ReplayOptionsBuilder::threads).
    pub fn pool(&mut self, pool: Arc<rayon::ThreadPool>) -> &mut Self {
        self.opts.pool = Some(pool);
        self
    }

    /// Only events at or after this time.
    pub fn from(&mut self, t: Nanos) -> &mut Self {
        self.opts.from = Some(t);
        self
    }

    /// Only events before this time.
    pub fn to(&mut self, t: Nanos) -> &mut Self {
        self.opts.to = Some(t);
        self
    }

    /// Only these tables, by today's or their 2019 names, in any case.
    /// A name that is no known table is an error of
    /// [`build`](ReplayOptionsBuilder::build) (a typo would filter out
    /// everything).
    pub fn tables<S: AsRef<str>>(
        &mut self,
        names: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        let names =
            names.into_iter().map(|t| crate::table::user_name(t.as_ref()));
        self.opts.tables = Some(names.collect());
        self
    }

    /// Whether plain files may be memory-mapped.
    pub fn mmap(&mut self, choice: MmapChoice) -> &mut Self {
        self.opts.mmap = choice;
        self
    }

    /// Target chunk size in bytes, from [`MIN_CHUNK_SIZE`] to
    /// [`MAX_CHUNK_SIZE`].
    pub fn chunk_size(&mut self, bytes: usize) -> &mut Self {
        self.opts.chunk_size = bytes;
        self
    }

    /// Evidence references kept per alert.
    pub fn evidence_limit(&mut self, n: usize) -> &mut Self {
        self.opts.evidence_limit = n;
        self
    }

    /// The JSON parser.
    pub fn parser(&mut self, parser: Parser) -> &mut Self {
        self.opts.parser = parser;
        self
    }

    /// Counts the distinct devices of the records evaluated
    /// ([`Totals::devices`](crate::Totals::devices)), for shares of the
    /// fleet; off by default, as it costs a lookup per record.
    pub fn count_devices(&mut self, yes: bool) -> &mut Self {
        self.opts.count_devices = yes;
        self
    }

    /// How late records may reach storage. Files in Defender's storage
    /// layout (`…/y=/m=/d=/h=/…`) are skipped unread when their path puts
    /// them outside `from`/`to`: before `from` when written over an hour
    /// before it, after `to` when written more than this after it.
    /// Default: [`DEFAULT_LATE_BY`] (a day).
    pub fn late_by(&mut self, nanos: Nanos) -> &mut Self {
        self.opts.late_by = nanos;
        self
    }

    /// Streamed inputs (gzip, Avro, exports, blobs) read at once, each
    /// on a thread of its own: gzip inflates on one core per file, and
    /// blobs download while earlier ones are evaluated. Default: one per
    /// worker thread, and at least 4 when any input is a blob; at least
    /// 1. Each costs about 32 MiB while it is read.
    pub fn lookahead(&mut self, inputs: usize) -> &mut Self {
        self.opts.lookahead = Some(inputs);
        self
    }

    /// The table of export rows (CSV or JSON from Advanced Hunting, Log
    /// Analytics or Sentinel) that name none in a `Type` or `Table`
    /// column; checked like [`tables`](ReplayOptionsBuilder::tables).
    pub fn export_table(&mut self, name: &str) -> &mut Self {
        self.opts.decoding.table = Some(crate::table::user_name(name));
        self
    }

    /// The checked options.
    ///
    /// # Errors
    ///
    /// An [`OptionsError`] naming the setting that cannot work.
    pub fn build(&self) -> Result<ReplayOptions, OptionsError> {
        let o = &self.opts;
        if o.threads == Some(0) && o.pool.is_none() {
            return Err(OptionsError::ZeroThreads);
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&o.chunk_size) {
            return Err(OptionsError::ChunkSize { given: o.chunk_size });
        }
        if let (Some(from), Some(to)) = (o.from, o.to)
            && from >= to
        {
            return Err(OptionsError::EmptyWindow { from, to });
        }
        if o.lookahead == Some(0) {
            return Err(OptionsError::ZeroLookahead);
        }
        let mut opts = o.clone();
        // A fresh count per build: runs of one options value add up.
        opts.decoding.assumed_utc = Default::default();
        if let Some(t) = &opts.decoding.table {
            match crate::table::known(t) {
                Some(k) => opts.decoding.table = Some(k.to_owned()),
                None => {
                    return Err(OptionsError::UnknownTable {
                        name: t.clone(),
                    });
                }
            }
        }
        if let Some(tables) = &mut opts.tables {
            for t in tables.iter_mut() {
                match crate::table::known(t) {
                    Some(k) => *t = k.to_owned(),
                    None => {
                        return Err(OptionsError::UnknownTable {
                            name: t.clone(),
                        });
                    }
                }
            }
        }
        Ok(opts)
    }
}

/// Replay options that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    /// No worker threads.
    ZeroThreads,
    /// No input may be read.
    ZeroLookahead,
    /// A chunk size outside [`MIN_CHUNK_SIZE`]..=[`MAX_CHUNK_SIZE`].
    ChunkSize {
        /// The size asked for.
        given: usize,
    },
    /// A table name that is no known table.
    UnknownTable {
        /// The name given.
        name: String,
    },
    /// `from` is not before `to`: nothing could be replayed.
    EmptyWindow {
        /// The start.
        from: Nanos,
        /// The end.
        to: Nanos,
    },
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionsError::ZeroThreads => {
                f.write_str("the thread count must be at least 1")
            }
            OptionsError::ZeroLookahead => {
                f.write_str("the inputs read at once must be at least 1")
            }
            OptionsError::ChunkSize { given } => write!(
                f,
                "chunk size {given} is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE} bytes"
            ),
            OptionsError::EmptyWindow { .. } => {
                f.write_str("the start time is not before the end time")
            }
            OptionsError::UnknownTable { name } => write!(
                f,
                "no table is called '{name}' (known: {})",
                crate::table::KNOWN.join(", ")
            ),
        }
    }
}

impl std::error::Error for OptionsError {}

/// Why a replay could not complete.
#[derive(Debug)]
pub enum ReplayError<E> {
    /// An input could not be read.
    Io {
        /// The input.
        input: String,
        /// The error.
        error: std::io::Error,
    },
    /// The thread pool could not start.
    Threads(String),
    /// The sink failed.
    Sink(E),
}

impl<E> std::fmt::Display for ReplayError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Io { input, .. } => write!(f, "cannot read {input}"),
            ReplayError::Threads(m) => {
                write!(f, "cannot start worker threads: {m}")
            }
            ReplayError::Sink(_) => f.write_str("the sink failed"),
        }
    }
}

/// The I/O error or the sink's is the [`source`](std::error::Error::source).
impl<E: std::error::Error + 'static> std::error::Error for ReplayError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplayError::Io { error, .. } => Some(error),
            ReplayError::Threads(_) => None,
            ReplayError::Sink(e) => Some(e),
        }
    }
}

/// Replays inputs against a set.
pub struct Replayer<'s> {
    set: &'s IndicatorSet,
    opts: ReplayOptions,
}

impl<'s> Replayer<'s> {
    /// A replayer for `set`.
    pub fn new(set: &'s IndicatorSet, opts: ReplayOptions) -> Self {
        Replayer { set, opts }
    }

    /// Reads every input in order, sends hits, opened alerts and
    /// rejections to `sink` as they are found, and returns the report
    /// (which the sink also gets, in [`Sink::finish`]). A sink that
    /// answers `false` stops the run early; the report then covers what
    /// was read and says so ([`Report::stopped_early`]).
    ///
    /// # Errors
    ///
    /// When an input cannot be read, the thread pool cannot start, or the
    /// sink fails.
    pub fn run<S: Sink>(
        &self,
        inputs: &[Input],
        sink: &mut S,
    ) -> Result<Report, ReplayError<S::Error>> {
        let start = Instant::now();
        let pool = match &self.opts.pool {
            Some(shared) => Arc::clone(shared),
            None => Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(self.opts.threads.unwrap_or(0))
                    .build()
                    .map_err(|e| ReplayError::Threads(e.to_string()))?,
            ),
        };
        let threads = pool.current_num_threads().max(1);
        sink.begin(inputs).map_err(ReplayError::Sink)?;
        let filters = Filters {
            parser: self.opts.parser,
            from: self.opts.from,
            to: self.opts.to,
            tables: self.opts.tables.clone(),
            count_devices: self.opts.count_devices,
        };
        let window = crate::layout::Window {
            from: self.opts.from,
            to: self.opts.to,
            tables: self.opts.tables.as_deref(),
            late_by: self.opts.late_by,
        };
        let ruled_out: Vec<bool> =
            inputs.iter().map(|i| window.rules_out(&i.name)).collect();
        let total: u64 = inputs
            .iter()
            .zip(&ruled_out)
            .filter(|(_, out)| !**out)
            .filter_map(|(i, _)| i.size())
            .sum();
        let mut m =
            Merger::new(self.set, sink, self.opts.evidence_limit, total);
        let run = Run {
            set: self.set,
            filters: &filters,
            pool: &pool,
            threads,
            chunk: self.opts.chunk_size,
        };
        let cancel = AtomicBool::new(false);
        let spare = Mutex::new(Vec::new());
        let active = AtomicUsize::new(0);
        let reader = Reader {
            set: self.set,
            filters: &filters,
            pool: &pool,
            decoding: &self.opts.decoding,
            chunk: self.opts.chunk_size,
            inflight: threads * 2,
            cancel: &cancel,
            spare: &spare,
            active: &active,
            threads,
        };
        let streamed: Vec<bool> = inputs
            .iter()
            .zip(&ruled_out)
            .map(|(i, &out)| {
                let mapped = self.opts.mmap.allowed() && i.mappable();
                !out && !mapped
            })
            .collect();
        let network = inputs.iter().any(Input::is_blob);
        let lookahead = self.opts.lookahead.unwrap_or(if network {
            threads.max(4)
        } else {
            threads
        });
        std::thread::scope(|scope| {
            // Readers still running stop when the merger leaves, for
            // whatever reason.
            let _stop = CancelOnDrop(&cancel);
            let mut ahead =
                Ahead::new(scope, &reader, inputs, &streamed, lookahead);
            for (i, input) in inputs.iter().enumerate() {
                if ruled_out[i] {
                    m.totals.skipped_files += 1;
                    continue;
                }
                m.start_file(input);
                // Decided once above: sniffing reads the file's head.
                let map = match input.path() {
                    Some(p) if !streamed[i] => self.opts.mmap.open(p),
                    _ => None,
                };
                match map {
                    Some(map) => run.slice(&map, Some(&map), &mut m)?,
                    None => merge_stream(input, ahead.take(i), &mut m)?,
                }
                if m.stopped {
                    break;
                }
            }
            Ok::<(), ReplayError<S::Error>>(())
        })?;
        m.totals.assumed_utc = self.opts.decoding.assumed_utc();
        let report = m.finish(start);
        sink.finish(&report).map_err(ReplayError::Sink)?;
        Ok(report)
    }
}

struct Run<'a> {
    set: &'a IndicatorSet,
    filters: &'a Filters,
    pool: &'a rayon::ThreadPool,
    threads: usize,
    chunk: usize,
}

impl Run<'_> {
    /// Evaluates chunks in parallel; results come back in chunk order.
    fn batch(
        &self,
        chunks: &[&[u8]],
        map: Option<&memmap2::Mmap>,
    ) -> Vec<ChunkOut> {
        self.pool.install(|| {
            chunks
                .par_iter()
                .map_init(Worker::default, |w, c| {
                    if let Some(map) = map {
                        crate::input::prefault(map, c);
                    }
                    w.run(self.set, self.filters, c)
                })
                .collect()
        })
    }

    /// A whole file in memory (mapped).
    fn slice<S: Sink>(
        &self,
        bytes: &[u8],
        map: Option<&memmap2::Mmap>,
        m: &mut Merger<'_, S>,
    ) -> Result<(), ReplayError<S::Error>> {
        let bytes = strip_bom(bytes);
        let chunks = split(bytes, self.chunk);
        // Large batches: a mapped file costs no memory per chunk, and each
        // batch ends with a barrier where a thread may idle.
        for group in chunks.chunks(self.threads * 32) {
            let outs = self.batch(group, map);
            for (c, out) in group.iter().zip(outs) {
                m.merge(c.len() as u64, out)?;
                if m.stopped {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Merges a streamed input's chunks as its reader sends them. A damaged
/// file (gzip, Avro, an export) is a rejection of its rest, and the run
/// goes on with the next input.
fn merge_stream<S: Sink>(
    input: &Input,
    rx: std::sync::mpsc::Receiver<Msg>,
    m: &mut Merger<'_, S>,
) -> Result<(), ReplayError<S::Error>> {
    let mut chunks = InOrder::new(rx);
    loop {
        match chunks.next() {
            Ok(Some((len, out))) => {
                m.merge(len, out)?;
                if m.stopped {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(error) => {
                return match damage_of(&error, input.is_gzip()) {
                    Some(reason) => m.reject_rest(reason, detail_of(&error)),
                    None => Err(ReplayError::Io {
                        input: input.name.clone(),
                        error,
                    }),
                };
            }
        }
    }
}

/// Tells the readers to stop when dropped.
struct CancelOnDrop<'a>(&'a AtomicBool);

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Cuts `bytes` into chunks of about `size` bytes that end at a newline.
fn split(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() <= size {
            out.push(rest);
            break;
        }
        let end = match memchr::memchr(b'\n', &rest[size..]) {
            Some(i) => size + i + 1,
            None => rest.len(),
        };
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

/// A record that hit, compared by its delivery key (table, `DeviceId`,
/// `ReportId`, `Timestamp` as written): copies of one record are equal.
struct Delivery(Arc<Event>);

impl PartialEq for Delivery {
    fn eq(&self, other: &Self) -> bool {
        self.0.delivery_key() == other.0.delivery_key()
    }
}

impl Eq for Delivery {}

impl std::hash::Hash for Delivery {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.delivery_key().hash(h);
    }
}

/// Merges chunk results in input order: numbers lines, drops later
/// deliveries of records that hit, sends hits to the sink and counts.
struct Merger<'a, S: Sink> {
    set: &'a IndicatorSet,
    sink: &'a mut S,
    totals: Totals,
    tables: BTreeMap<String, u64>,
    book: Book,
    /// Records that hit, by delivery key.
    seen: HashSet<Delivery, foldhash::fast::RandomState>,
    source: Arc<str>,
    base_line: u64,
    seq: u64,
    done: u64,
    total: u64,
    /// The sink asked to stop.
    stopped: bool,
    /// Distinct devices, when counted.
    devices: HashSet<Box<str>, foldhash::fast::RandomState>,
}

impl<'a, S: Sink> Merger<'a, S> {
    fn new(
        set: &'a IndicatorSet,
        sink: &'a mut S,
        evidence: usize,
        total: u64,
    ) -> Self {
        Merger {
            set,
            sink,
            totals: Totals::default(),
            tables: BTreeMap::new(),
            book: Book::new(set, evidence),
            seen: HashSet::default(),
            source: Arc::from(""),
            base_line: 0,
            seq: 0,
            done: 0,
            total,
            stopped: false,
            devices: HashSet::default(),
        }
    }

    /// Notes the sink's answer: `false` stops the run.
    fn go_on(
        &mut self,
        more: Result<bool, S::Error>,
    ) -> Result<bool, ReplayError<S::Error>> {
        let more = more.map_err(ReplayError::Sink)?;
        self.stopped |= !more;
        Ok(more)
    }

    fn start_file(&mut self, input: &Input) {
        self.totals.files += 1;
        self.source = Arc::from(input.name.as_str());
        self.base_line = 0;
    }

    fn merge(
        &mut self,
        bytes: u64,
        out: ChunkOut,
    ) -> Result<(), ReplayError<S::Error>> {
        let t = &mut self.totals;
        t.bytes += bytes;
        t.lines += out.lines;
        t.records += out.records;
        t.bodies += out.bodies;
        t.filtered += out.filtered;
        t.malformed_ips += out.malformed.ips;
        t.malformed_hosts += out.malformed.hosts;
        for (name, n) in out.tables {
            *self.tables.entry(name.into()).or_default() += n;
        }
        if self.devices.is_empty() {
            self.devices = out.devices;
        } else {
            self.devices.extend(out.devices);
        }
        for (line, record, reason) in out.rejected {
            let r = Rejected {
                source: Arc::clone(&self.source),
                line: self.base_line + line,
                record,
                reason,
                detail: None,
            };
            *self.totals.rejected.entry(reason).or_default() += 1;
            if self.totals.rejection_examples.len() < REJECTION_EXAMPLES {
                self.totals.rejection_examples.push(r.clone());
            }
            let more = self.sink.rejected(&r);
            if !self.go_on(more)? {
                return Ok(());
            }
        }
        for rec in out.hits {
            self.record(rec)?;
            if self.stopped {
                return Ok(());
            }
        }
        self.base_line += out.physical_lines;
        self.done += bytes;
        self.sink.progress(self.done, self.total, self.totals.records);
        Ok(())
    }

    /// Rejects the rest of the current file, from the line after the
    /// last one read.
    fn reject_rest(
        &mut self,
        reason: RejectReason,
        detail: String,
    ) -> Result<(), ReplayError<S::Error>> {
        let r = Rejected {
            source: Arc::clone(&self.source),
            line: self.base_line + 1,
            record: 0,
            reason,
            detail: Some(detail.into()),
        };
        *self.totals.rejected.entry(reason).or_default() += 1;
        if self.totals.rejection_examples.len() < REJECTION_EXAMPLES {
            self.totals.rejection_examples.push(r.clone());
        }
        let more = self.sink.rejected(&r);
        self.go_on(more).map(|_| ())
    }

    fn record(
        &mut self,
        rec: crate::chunk::HitRecord,
    ) -> Result<(), ReplayError<S::Error>> {
        let event = Arc::new(rec.event);
        if !self.seen.insert(Delivery(Arc::clone(&event))) {
            self.totals.duplicates += 1;
            return Ok(());
        }
        self.seq += 1;
        for h in &rec.hits {
            let effective = h.indicator == h.effective;
            // Contract v2: indicators are enforced on devices only.
            let hunt_only = !crate::table::is_device_table(&event.table)
                || event.device_id.is_empty();
            let alert =
                effective && !hunt_only && self.set.get(h.indicator).alerts();
            let hit = Hit {
                source: Arc::clone(&self.source),
                line: self.base_line + rec.line,
                record: rec.record,
                event: Arc::clone(&event),
                column: h.column,
                observed: h.observed.clone(),
                indicator: h.indicator,
                effective,
                suppressed_by: (!effective).then_some(h.effective),
                alert,
                hunt_only,
            };
            self.totals.hits += 1;
            self.totals.effective_hits += u64::from(effective);
            let opened = self.book.add(&hit, self.seq);
            // The alert a hit opens is sent with it, even when the sink
            // stops at that hit: the report holds the alert either way.
            let more = self.sink.hit(&hit);
            let mut go_on = self.go_on(more)?;
            if let Some(alert) = opened {
                let more = self.sink.alert_opened(self.book.alert(alert));
                go_on &= self.go_on(more)?;
            }
            if !go_on {
                return Ok(());
            }
        }
        Ok(())
    }

    fn finish(self, start: Instant) -> Report {
        let (alerts, indicators) = self.book.finish();
        let mut totals = self.totals;
        totals.alerts = alerts.len() as u64;
        totals.devices = self.devices.len() as u64;
        totals.elapsed = start.elapsed().as_secs_f64();
        Report {
            totals,
            alerts,
            indicators,
            tables: self.tables,
            stopped_early: self.stopped,
        }
    }
}

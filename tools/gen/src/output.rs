//! Streaming the records out in the layouts Defender exports use, with
//! duplicate deliveries, damaged lines and the ground truth.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::avro::CaptureWriter;
use crate::json::{self, Obj};
use crate::records::{Nanos, RecordGen, Written, civil_from_days, timestamp};
use crate::rng::Rng;
use crate::world::World;

/// How the export is laid out on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One JSON Lines file, LF.
    Jsonl,
    /// Azure Storage: a container per table, an hourly `PT1H.json` blob,
    /// CRLF lines.
    Storage,
    /// Event Hub message bodies `{"records":[…]}`, one per line.
    EventHub,
    /// The same bodies as Event Hubs Capture writes them: one Avro
    /// file, an event per body (deflate codec with `gzip`).
    Capture,
}

impl Layout {
    /// Whether records go out in Event Hub bodies.
    fn bodies(self) -> bool {
        matches!(self, Layout::EventHub | Layout::Capture)
    }
}

/// Generation settings.
#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    pub layout: Layout,
    pub gzip: bool,
    /// Stop once this many bytes of records were written.
    pub size: u64,
    pub seed: u64,
    /// Chance that an IOC-bearing column carries a planted value.
    pub hit_rate: f64,
    pub duplicate_rate: f64,
    pub damage_rate: f64,
    /// First event time (ns since the epoch) and the span covered.
    pub start: Nanos,
    pub hours: u64,
    /// Entries in each bad pool (planted indicators per family).
    pub bad: usize,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: u64,
    pub bytes: u64,
    pub files: u64,
    pub duplicates: u64,
    pub damaged: u64,
    pub planted: u64,
}

type Sink = Box<dyn Write>;

struct OpenFile {
    rel: String,
    w: Sink,
    line: u64,
}

/// Writes every output file and the truth.
pub struct Writer {
    opts: Options,
    files: HashMap<&'static str, OpenFile>,
    truth: BufWriter<File>,
    summary: Summary,
    /// Event Hub: the body being filled, its record count, and the file.
    body: Vec<u8>,
    body_records: u64,
    body_truth: Vec<(u64, Written)>,
    body_damaged: bool,
    /// Capture: the Avro file and the events written to it.
    capture: Option<(CaptureWriter<Sink>, u64)>,
}

impl Writer {
    pub fn new(opts: Options) -> std::io::Result<Writer> {
        std::fs::create_dir_all(export_dir(&opts.out))?;
        let truth =
            BufWriter::new(File::create(opts.out.join("truth.jsonl"))?);
        Ok(Writer {
            opts,
            files: HashMap::new(),
            truth,
            summary: Summary::default(),
            body: Vec::new(),
            body_records: 0,
            body_truth: Vec::new(),
            body_damaged: false,
            capture: None,
        })
    }

    fn open(&mut self, rel: &str) -> std::io::Result<Sink> {
        let path = export_dir(&self.opts.out).join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        self.summary.files += 1;
        let f = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        Ok(if self.opts.gzip {
            Box::new(GzEncoder::new(f, Compression::fast()))
        } else {
            Box::new(f)
        })
    }

    /// The file a record of `table` at `time` goes to, relative to the
    /// output folder, and the key under which it stays open.
    fn target(
        &self,
        table: &'static str,
        time: Nanos,
    ) -> (&'static str, String) {
        let gz = if self.opts.gzip { ".gz" } else { "" };
        match self.opts.layout {
            Layout::Jsonl => ("all", format!("events.jsonl{gz}")),
            Layout::EventHub | Layout::Capture => {
                ("all", format!("eventhub/bodies.json{gz}"))
            }
            Layout::Storage => {
                let secs = time / 1_000_000_000;
                let (y, m, d) = civil_from_days((secs / 86_400) as i64);
                let h = secs % 86_400 / 3600;
                let container = format!(
                    "insights-logs-advancedhunting-{}",
                    table.to_ascii_lowercase()
                );
                let rel = format!(
                    "{container}/tenantId=4b8c18bd-2f9f-4227-af55-9f1061cf9c32/y={y:04}/m={m:02}/d={d:02}/h={h:02}/m=00/PT1H.json{gz}"
                );
                (table, rel)
            }
        }
    }

    fn eol(&self) -> &'static [u8] {
        if self.opts.layout == Layout::Storage { b"\r\n" } else { b"\n" }
    }

    /// Writes one line to the file for (`table`, `time`) and returns the
    /// file and the line's number.
    fn line(
        &mut self,
        table: &'static str,
        time: Nanos,
        bytes: &[u8],
    ) -> std::io::Result<(String, u64)> {
        let (key, rel) = self.target(table, time);
        let reopen = self.files.get(key).is_none_or(|f| f.rel != rel);
        if reopen {
            if let Some(mut old) = self.files.remove(key) {
                old.w.flush()?;
            }
            let w = self.open(&rel)?;
            self.files.insert(key, OpenFile { rel: rel.clone(), w, line: 0 });
        }
        let eol = self.eol();
        let f = self.files.get_mut(key).expect("opened above");
        f.w.write_all(bytes)?;
        f.w.write_all(eol)?;
        f.line += 1;
        self.summary.bytes += (bytes.len() + eol.len()) as u64;
        Ok((f.rel.clone(), f.line))
    }

    fn truth(
        &mut self,
        rel: &str,
        line: u64,
        record: u64,
        w: &Written,
    ) -> std::io::Result<()> {
        for p in &w.planted {
            let mut buf = Vec::new();
            let mut o = Obj::open(&mut buf);
            o.str("source", rel)
                .num("line", line as i64)
                .num("record", record as i64);
            o.str("table", w.table)
                .str("column", p.column)
                .str("type", p.indicator_type);
            o.str("indicator", &p.indicator);
            o.close();
            buf.push(b'\n');
            self.truth.write_all(&buf)?;
            self.summary.planted += 1;
        }
        Ok(())
    }

    /// Emits one evaluated record (with truth).
    pub fn record(
        &mut self,
        table: &'static str,
        time: Nanos,
        bytes: &[u8],
        w: Written,
    ) -> std::io::Result<()> {
        self.summary.records += 1;
        if self.opts.layout.bodies() {
            return self.body_push(bytes, Some(w));
        }
        let (rel, line) = self.line(table, time, bytes)?;
        self.truth(&rel, line, 0, &w)
    }

    /// Emits a copy of a record, or a damaged line (no truth).
    pub fn extra(
        &mut self,
        table: &'static str,
        time: Nanos,
        bytes: &[u8],
        damaged: bool,
    ) -> std::io::Result<()> {
        if self.opts.layout.bodies() {
            // A damaged record spoils its whole body: the body is cut
            // short when written, as a partial delivery would be.
            if damaged {
                self.body_damaged = true;
                return Ok(());
            }
            return self.body_push(bytes, None);
        }
        self.line(table, time, bytes).map(|_| ())
    }

    fn body_push(
        &mut self,
        bytes: &[u8],
        w: Option<Written>,
    ) -> std::io::Result<()> {
        if self.body_records == 0 {
            self.body.extend_from_slice(b"{\"records\":[");
        } else {
            self.body.push(b',');
        }
        self.body.extend_from_slice(bytes);
        if let Some(w) = w {
            self.body_truth.push((self.body_records, w));
        }
        self.body_records += 1;
        if self.body_records == 100 {
            self.body_flush()?;
        }
        Ok(())
    }

    fn body_flush(&mut self) -> std::io::Result<()> {
        if self.body_records == 0 {
            return Ok(());
        }
        self.body.extend_from_slice(b"]}");
        let mut body = std::mem::take(&mut self.body);
        if std::mem::take(&mut self.body_damaged) {
            body.truncate(body.len() / 2);
            self.body_truth.clear();
        }
        let (rel, line) = if self.opts.layout == Layout::Capture {
            self.capture_event(&body)?
        } else {
            self.line("all", 0, &body)?
        };
        for (i, w) in std::mem::take(&mut self.body_truth) {
            self.truth(&rel, line, i + 1, &w)?;
        }
        self.body_records = 0;
        Ok(())
    }

    /// Writes one body as a capture event; its "line" is its number.
    fn capture_event(
        &mut self,
        body: &[u8],
    ) -> std::io::Result<(String, u64)> {
        if self.capture.is_none() {
            self.summary.files += 1;
            let path = export_dir(&self.opts.out).join(CAPTURE_FILE);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let f: Sink = Box::new(BufWriter::with_capacity(
                1 << 20,
                File::create(&path)?,
            ));
            self.capture = Some((
                CaptureWriter::new(f, self.opts.gzip, self.opts.seed)?,
                0,
            ));
        }
        let (w, n) = self.capture.as_mut().expect("opened above");
        // As .NET writes it, which is how capture files carry it.
        w.event("7/18/2026 12:00:00 AM", Some(body))?;
        *n += 1;
        self.summary.bytes += body.len() as u64 + 1;
        Ok((CAPTURE_FILE.to_owned(), *n))
    }

    pub fn finish(mut self) -> std::io::Result<Summary> {
        self.body_flush()?;
        if let Some((w, _)) = self.capture.take() {
            w.finish()?;
        }
        for (_, mut f) in self.files.drain() {
            f.w.flush()?;
        }
        self.truth.flush()?;
        Ok(self.summary)
    }
}

/// Where the capture layout writes, as Event Hubs Capture names files:
/// namespace, hub, partition, then the window's time.
const CAPTURE_FILE: &str = "iocmatch-ns/defender/0/2026/07/18/00/00/00.avro";

/// Generates the export described by `opts`.
pub fn generate(
    opts: &Options,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Summary> {
    let world = World::new(opts.seed, opts.bad);
    let mut root = Rng::new(opts.seed);
    let mut records = RecordGen::new(&world, root.fork(1), opts.hit_rate);
    let mut chaos = root.fork(2);
    let mut out = Writer::new(opts.clone())?;
    let expected = (opts.size / 2400).max(1);
    let step = opts.hours * 3_600_000_000_000 / expected;
    let mut time = opts.start;
    let mut pending: Vec<(u64, &'static str, Nanos, Vec<u8>)> = Vec::new();
    let (mut dups, mut damaged) = (0u64, 0u64);
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    while out.summary.bytes < opts.size {
        n += 1;
        time += 1 + chaos.below(2 * step.max(1));
        buf.clear();
        let w = records.record(&mut buf, time);
        let table = w.table;
        if chaos.chance(opts.damage_rate) {
            damage(&mut chaos, &mut buf);
            damaged += 1;
            out.extra(table, time, &buf, true)?;
        } else {
            if chaos.chance(opts.duplicate_rate) {
                pending.push((
                    n + 1 + chaos.below(50),
                    table,
                    time,
                    buf.clone(),
                ));
            }
            out.record(table, time, &buf, w)?;
        }
        // Re-deliver due copies with a later envelope time.
        while let Some(i) = pending.iter().position(|p| p.0 <= n) {
            let (_, t, tm, mut copy) = pending.swap_remove(i);
            retime(&mut copy, time);
            out.extra(t, tm.max(time), &copy, false)?;
            dups += 1;
        }
        if n.is_multiple_of(65_536) {
            progress(out.summary.bytes);
        }
    }
    let mut s = out.finish()?;
    s.duplicates = dups;
    s.damaged = damaged;
    Ok(s)
}

/// Replaces the envelope `time` (always first, 7 fractional digits).
fn retime(record: &mut [u8], now: Nanos) {
    let t = timestamp(now + 900_000_000_000, 7);
    let at = b"{\"time\":\"".len();
    if record.len() > at + t.len() {
        record[at..at + t.len()].copy_from_slice(t.as_bytes());
    }
}

/// Truncates a line (as a blob read mid-append) or garbles it.
fn damage(r: &mut Rng, buf: &mut Vec<u8>) {
    if r.chance(0.5) {
        let keep = 10 + r.index(buf.len() - 10);
        buf.truncate(keep);
    } else {
        let mut junk = Vec::new();
        json::string(&mut junk, "not a record");
        buf.clear();
        buf.extend_from_slice(
            b"{\"time\":\"2026-07-18T00:00:00Z\",\"category\":",
        );
        buf.extend_from_slice(&junk);
        buf.extend_from_slice(b",\"properties\":{\"Timestamp\": }");
    }
}

/// Where the export itself goes: a folder of its own, so that replaying
/// it does not read the indicator set and `truth.jsonl` beside it (whose
/// `source` fields are relative to this folder).
pub fn export_dir(out: &Path) -> PathBuf {
    out.join("export")
}

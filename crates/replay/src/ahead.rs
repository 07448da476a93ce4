//! Streamed inputs (gzip, Avro, exports, blobs, standard input) read
//! ahead: each input has a reader thread that decodes it into chunks of
//! whole lines and hands every chunk to the worker pool as soon as it is
//! read, or evaluates it itself when enough readers run to keep every
//! worker busy. Up to `lookahead` inputs are read at once, so several
//! gzip files inflate in parallel (inflating is single-threaded per file)
//! and blobs download while earlier ones are evaluated. Only results wait
//! for their turn to be merged, in input order; raw bytes in flight are
//! bounded per reader ([`Reader::inflight`]), so memory stays bounded too.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Condvar, Mutex};

use iocmatch_core::IndicatorSet;

use crate::chunk::{ChunkOut, Filters, Worker};
use crate::decode::Decoding;
use crate::input::Input;

thread_local! {
    /// Each pool thread's worker state, reused across chunks and inputs.
    static WORKER: RefCell<Worker> = RefCell::default();
}

/// The largest chunk of an inflated gzip stream.
const GZIP_CHUNK: usize = 1 << 20;

/// What a reader sends the merger.
pub(crate) enum Msg {
    /// One evaluated chunk: its place in the input, its length in bytes.
    Chunk { seq: u64, len: u64, out: ChunkOut },
    /// The input is done (every chunk was sent before this), or failed.
    End(io::Result<()>),
}

/// The parts of a run every reader shares.
pub(crate) struct Reader<'a> {
    pub set: &'a IndicatorSet,
    pub filters: &'a Filters,
    pub pool: &'a rayon::ThreadPool,
    pub decoding: &'a Decoding,
    pub chunk: usize,
    /// Chunks of one input being evaluated at once: enough to keep every
    /// worker busy, few enough to bound memory (`inflight × chunk`).
    pub inflight: usize,
    /// Set when the run stops (the sink said so, or an error): readers
    /// stop at their next chunk.
    pub cancel: &'a AtomicBool,
    /// Buffers of evaluated chunks, reused: fresh 4 MiB buffers would cost
    /// a page fault and a zeroed page every 4 KiB.
    pub spare: &'a Mutex<Vec<Vec<u8>>>,
    /// Readers running now, and the pool's threads: see
    /// [`Reader::inline`].
    pub active: &'a AtomicUsize,
    pub threads: usize,
}

/// Counts a reader in [`Reader::active`] while it runs.
struct Active<'a>(&'a AtomicUsize);

impl<'a> Active<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Active(count)
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Reader<'_> {
    /// Reads `input` to its end, sending each evaluated chunk, then `End`.
    pub fn read(&self, input: &Input, tx: &Sender<Msg>) {
        let _active = Active::enter(self.active);
        let gate = Gate::new(self.inflight);
        let result = self.pool.in_place_scope(|scope| -> io::Result<()> {
            let reader = input.reader_with(self.decoding)?;
            // Inflated data is evaluated best in smaller chunks (measured:
            // 1 MiB +4 % over 4 MiB for gzip; plain streams lose 4 %).
            let chunk = if input.is_gzip() {
                self.chunk.min(GZIP_CHUNK)
            } else {
                self.chunk
            };
            let mut chunks = Chunks::new(reader, chunk);
            let mut seq = 0u64;
            while !self.cancel.load(Ordering::Relaxed) {
                let mut buf = self
                    .spare
                    .lock()
                    .map(|mut s| s.pop())
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let end = chunks.next_into(&mut buf)?;
                if end == 0 {
                    break;
                }
                let start = if seq == 0 && buf[..end].starts_with(BOM) {
                    BOM.len()
                } else {
                    0
                };
                if self.inline(input) {
                    self.evaluate(seq, buf, start..end, tx);
                } else {
                    gate.enter();
                    let (gate, tx) = (&gate, tx.clone());
                    scope.spawn(move |_| {
                        self.evaluate(seq, buf, start..end, &tx);
                        gate.leave();
                    });
                }
                seq += 1;
            }
            Ok(())
        });
        let _ = tx.send(Msg::End(result));
    }

    /// Whether to evaluate a chunk on the reader's own thread rather
    /// than the pool's: when there are readers enough to keep every
    /// worker busy, as several gzip files are. The chunk is then still in
    /// this core's cache and no thread waits on another (measured: four
    /// .gz files +7 %). A lone reader always hands its chunks over, even
    /// with one worker, so that one core inflates while another
    /// evaluates; so does a blob's, which waits on the network.
    fn inline(&self, input: &Input) -> bool {
        !input.is_blob()
            && self.active.load(Ordering::Relaxed) >= self.threads.max(2)
    }

    /// Evaluates one chunk (`buf[range]`), sends it, and keeps the
    /// buffer for reuse.
    fn evaluate(
        &self,
        seq: u64,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
        tx: &Sender<Msg>,
    ) {
        let bytes = &buf[range];
        let out =
            WORKER.with_borrow_mut(|w| w.run(self.set, self.filters, bytes));
        let len = bytes.len() as u64;
        // The merger may be gone (the run stopped): fine.
        let _ = tx.send(Msg::Chunk { seq, len, out });
        if let Ok(mut spare) = self.spare.lock()
            && spare.len() < 4 * self.inflight
        {
            spare.push(buf);
        }
    }
}

/// Starts readers for the streamed inputs, at most `lookahead` at once,
/// in input order, and hands out their channels as the merger reaches
/// each input.
pub(crate) struct Ahead<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    reader: &'env Reader<'env>,
    inputs: &'env [Input],
    /// Which inputs are streamed (the others are mapped by the merger).
    streamed: &'env [bool],
    lookahead: usize,
    started: HashMap<usize, Receiver<Msg>>,
    /// The next input to consider starting.
    next: usize,
}

impl<'scope, 'env> Ahead<'scope, 'env> {
    pub fn new(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        reader: &'env Reader<'env>,
        inputs: &'env [Input],
        streamed: &'env [bool],
        lookahead: usize,
    ) -> Self {
        Ahead {
            scope,
            reader,
            inputs,
            streamed,
            lookahead: lookahead.max(1),
            started: HashMap::new(),
            next: 0,
        }
    }

    /// The channel of input `i` (started now if it was not), after
    /// starting readers ahead of it.
    pub fn take(&mut self, i: usize) -> Receiver<Msg> {
        let rx = self.started.remove(&i).unwrap_or_else(|| self.spawn(i));
        self.next = self.next.max(i + 1);
        // The reader of `i` counts against the lookahead.
        while self.started.len() + 1 < self.lookahead
            && self.next < self.inputs.len()
        {
            let j = self.next;
            self.next += 1;
            if self.streamed[j] {
                let rx = self.spawn(j);
                self.started.insert(j, rx);
            }
        }
        rx
    }

    fn spawn(&self, i: usize) -> Receiver<Msg> {
        let (tx, rx) = channel();
        let (reader, input) = (self.reader, &self.inputs[i]);
        self.scope.spawn(move || reader.read(input, &tx));
        rx
    }
}

/// Receives one input's chunks and yields them in input order.
pub(crate) struct InOrder {
    rx: Receiver<Msg>,
    pending: BTreeMap<u64, (u64, ChunkOut)>,
    next: u64,
}

impl InOrder {
    pub fn new(rx: Receiver<Msg>) -> Self {
        InOrder { rx, pending: BTreeMap::new(), next: 0 }
    }

    /// The next chunk in order (`Ok(None)` at the end of the input).
    pub fn next(&mut self) -> io::Result<Option<(u64, ChunkOut)>> {
        loop {
            if let Some(c) = self.pending.remove(&self.next) {
                self.next += 1;
                return Ok(Some(c));
            }
            match self.rx.recv() {
                Ok(Msg::Chunk { seq, len, out }) => {
                    self.pending.insert(seq, (len, out));
                }
                Ok(Msg::End(result)) => return result.map(|()| None),
                // A reader that panicked: its input is read no further.
                Err(_) => {
                    return Err(io::Error::other(
                        "the input's reader stopped",
                    ));
                }
            }
        }
    }
}

/// A counting semaphore: at most `n` threads between `enter` and `leave`.
struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Gate {
    fn new(n: usize) -> Self {
        Gate { free: Mutex::new(n.max(1)), freed: Condvar::new() }
    }

    fn enter(&self) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
    }

    fn leave(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
    }
}

/// A UTF-8 byte order mark: exports have none, but files saved by some
/// Windows tools start with one, and it would spoil the first line.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Cuts a stream into chunks that end at a newline.
///
/// Buffers keep their length from use to use, and bytes are read into
/// that initialised space: reading into spare capacity instead
/// (`read_to_end`) zeroes it first for readers such as gzip's, which
/// cost 4 % of a gzip replay.
pub(crate) struct Chunks {
    reader: Box<dyn Read + Send>,
    /// The partial last line, carried into the next chunk.
    carry: Vec<u8>,
    eof: bool,
    chunk: usize,
    /// An error met after some bytes of a chunk: that chunk is given
    /// out first (damage loses only what follows it), then the error.
    failed: Option<io::Error>,
}

impl Chunks {
    pub fn new(reader: Box<dyn Read + Send>, chunk: usize) -> Self {
        Chunks { reader, carry: Vec::new(), eof: false, chunk, failed: None }
    }

    /// Fills the start of `buf` with the next chunk and returns its
    /// length; 0 at the end of the input. `buf` may be longer.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut used = self.carry.len();
        grow(buf, used + self.chunk);
        buf[..used].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut scanned = 0;
        while !self.eof {
            let want = buf.len();
            while used < want {
                match self.reader.read(&mut buf[used..want]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => used += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if used == 0 => return Err(e),
                    Err(e) => {
                        self.failed = Some(e);
                        self.eof = true;
                        break;
                    }
                }
            }
            if self.eof {
                break;
            }
            // A line longer than a chunk keeps growing until whole.
            match memchr::memrchr(b'\n', &buf[scanned..used]) {
                Some(i) => {
                    let end = scanned + i + 1;
                    self.carry.extend_from_slice(&buf[end..used]);
                    return Ok(end);
                }
                None => {
                    scanned = used;
                    grow(buf, used + self.chunk);
                }
            }
        }
        Ok(used)
    }
}

/// Makes `buf` at least `len` long (zeroing only what is new).
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_chunks(data: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut c =
            Chunks::new(Box::new(io::Cursor::new(data.to_vec())), size);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            match c.next_into(&mut buf).unwrap() {
                0 => return out,
                n => out.push(buf[..n].to_vec()),
            }
        }
    }

    #[test]
    fn chunks_end_at_newlines_and_lose_nothing() {
        let data = b"aaaa\nbb\ncccccccccccc\nd\n\ne";
        for size in 1..data.len() + 2 {
            let chunks = all_chunks(data, size);
            assert_eq!(chunks.concat(), data, "size {size}");
            for c in &chunks[..chunks.len() - 1] {
                assert!(c.ends_with(b"\n"), "size {size}: {c:?}");
            }
        }
    }

    /// Reads `data`, then fails.
    struct Failing(io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "damaged"))
                }
                n => Ok(n),
            }
        }
    }

    #[test]
    fn the_bytes_before_an_error_come_out_before_it() {
        let data = b"one\ntwo\nthr".to_vec();
        let mut c =
            Chunks::new(Box::new(Failing(io::Cursor::new(data))), 1 << 20);
        let mut buf = Vec::new();
        let n = c.next_into(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one\ntwo\nthr");
        assert_eq!(
            c.next_into(&mut buf).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn an_empty_stream_has_no_chunks() {
        assert!(all_chunks(b"", 4).is_empty());
    }
}

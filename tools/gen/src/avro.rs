//! Event Hubs Capture files: Avro object container files with the
//! capture schema, each event's `Body` one Event Hub message body.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// The schema Event Hubs Capture writes (Microsoft's documentation).
pub const CAPTURE_SCHEMA: &str = r#"{"type":"record","name":"EventData","namespace":"Microsoft.ServiceBus.Messaging","fields":[{"name":"SequenceNumber","type":"long"},{"name":"Offset","type":"string"},{"name":"EnqueuedTimeUtc","type":"string"},{"name":"SystemProperties","type":{"type":"map","values":["long","double","string","bytes"]}},{"name":"Properties","type":{"type":"map","values":["long","double","string","bytes"]}},{"name":"Body","type":["null","bytes"]}]}"#;

/// A block ends after this many events or bytes, whichever comes first
/// (a capture writer batches events into blocks the same way).
const BLOCK_EVENTS: u64 = 50;
const BLOCK_BYTES: usize = 1 << 20;

/// Writes a capture file event by event.
pub struct CaptureWriter<W: Write> {
    w: W,
    deflate: bool,
    sync: [u8; 16],
    block: Vec<u8>,
    events: u64,
    seq: i64,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the header; `deflate` picks the codec (else `null`).
    pub fn new(mut w: W, deflate: bool, seed: u64) -> io::Result<Self> {
        let mut sync = [0u8; 16];
        sync[..8].copy_from_slice(&seed.to_le_bytes());
        sync[8..].copy_from_slice(&(!seed).to_le_bytes());
        let mut h = b"Obj\x01".to_vec();
        long(&mut h, 2);
        bytes(&mut h, b"avro.codec");
        bytes(&mut h, if deflate { b"deflate" } else { b"null" });
        bytes(&mut h, b"avro.schema");
        bytes(&mut h, CAPTURE_SCHEMA.as_bytes());
        long(&mut h, 0);
        h.extend_from_slice(&sync);
        w.write_all(&h)?;
        Ok(CaptureWriter {
            w,
            deflate,
            sync,
            block: Vec::new(),
            events: 0,
            seq: 0,
        })
    }

    /// One event; `body` `None` is a null body.
    pub fn event(
        &mut self,
        enqueued: &str,
        body: Option<&[u8]>,
    ) -> io::Result<()> {
        let b = &mut self.block;
        long(b, self.seq);
        bytes(b, (self.seq * 1024).to_string().as_bytes());
        bytes(b, enqueued.as_bytes());
        // SystemProperties: one long, as capture writes several.
        long(b, 1);
        bytes(b, b"x-opt-sequence-number");
        long(b, 0);
        long(b, self.seq);
        long(b, 0);
        // Properties: none.
        long(b, 0);
        match body {
            None => long(b, 0),
            Some(body) => {
                long(b, 1);
                bytes(b, body);
            }
        }
        self.seq += 1;
        self.events += 1;
        if self.events == BLOCK_EVENTS || self.block.len() >= BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.events == 0 {
            return Ok(());
        }
        let data = if self.deflate {
            let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
            e.write_all(&self.block)?;
            e.finish()?
        } else {
            std::mem::take(&mut self.block)
        };
        let mut head = Vec::new();
        long(&mut head, self.events as i64);
        long(&mut head, data.len() as i64);
        self.w.write_all(&head)?;
        self.w.write_all(&data)?;
        self.w.write_all(&self.sync)?;
        self.block.clear();
        self.events = 0;
        Ok(())
    }

    /// Writes the last block and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_block()?;
        self.w.flush()?;
        Ok(self.w)
    }
}

fn long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        let byte = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    long(out, b.len() as i64);
    out.extend_from_slice(b);
}

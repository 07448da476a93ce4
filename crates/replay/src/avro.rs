//! Event Hubs Capture files (Avro object container files) as JSON Lines:
//! one line per captured event, holding its `Body` (the same
//! `{"records": [...]}` JSON Defender sends to Event Hubs), so line N of
//! the result is event N of the file.
//!
//! The file's own schema (in its header) is followed, so fields may come
//! in any order; only `Body` is kept. Blocks use the `null` or `deflate`
//! codec, as the header's `avro.codec` says. Anything else — another
//! codec, a wrong sync marker, a block cut short — is damage: the events
//! before it are read, the rest of the file is one counted rejection.

use std::io::{self, Read};

use serde_json::Value;

use crate::decode::damaged;
use crate::hit::RejectReason;

/// Every Avro object container file starts with these four bytes.
pub(crate) const MAGIC: &[u8; 4] = b"Obj\x01";

/// A block larger than this is taken for damage, not allocated.
const MAX_BLOCK: u64 = 1 << 30;

/// The Avro types a schema may use (named types only inline).
#[derive(Debug)]
enum Schema {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Enum,
    Array(Box<Schema>),
    Map(Box<Schema>),
    Union(Vec<Schema>),
    Record(Vec<(String, Schema)>),
}

#[derive(Clone, Copy, Debug)]
enum Codec {
    Null,
    Deflate,
}

/// The JSON Lines of a capture file.
pub(crate) struct Bodies<R> {
    r: R,
    fields: Vec<(String, Schema)>,
    codec: Codec,
    sync: [u8; 16],
    raw: Vec<u8>,
    block: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
}

fn bad(detail: impl Into<String>) -> io::Error {
    damaged(RejectReason::DamagedAvro, detail)
}

/// Cut short: the file ends inside a header or block.
fn short(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        bad("the file ends inside a block")
    } else {
        e
    }
}

impl<R: Read> Bodies<R> {
    /// Reads the header.
    ///
    /// # Errors
    ///
    /// Damage (see the module) or a failure to read.
    pub fn new(mut r: R) -> io::Result<Self> {
        let mut magic = [0u8; 4];
        r.read_exact(&mut magic).map_err(short)?;
        if &magic != MAGIC {
            return Err(bad("not an Avro object container file"));
        }
        let meta = read_meta(&mut r).map_err(short)?;
        let mut sync = [0u8; 16];
        r.read_exact(&mut sync).map_err(short)?;
        let codec = match meta
            .iter()
            .find(|(k, _)| k == "avro.codec")
            .map(|(_, v)| v.as_slice())
        {
            None | Some(b"null") => Codec::Null,
            Some(b"deflate") => Codec::Deflate,
            Some(other) => {
                return Err(bad(format!(
                    "codec {} is not supported (null and deflate are)",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        let schema = meta
            .iter()
            .find(|(k, _)| k == "avro.schema")
            .ok_or_else(|| bad("the header has no schema"))?;
        let json: Value = serde_json::from_slice(&schema.1)
            .map_err(|e| bad(format!("the schema is not JSON: {e}")))?;
        let Schema::Record(fields) = parse(&json)? else {
            return Err(bad("the schema is not a record"));
        };
        if !fields.iter().any(|(n, _)| n == "Body") {
            return Err(bad(
                "the schema has no Body field: not an Event Hubs capture",
            ));
        }
        Ok(Bodies {
            r,
            fields,
            codec,
            sync,
            raw: Vec::new(),
            block: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
        })
    }

    /// Decodes the next block into `out`; false at the end of the file.
    fn next_block(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        let Some(count) = read_long_or_end(&mut self.r)? else {
            return Ok(false);
        };
        let size = read_long(&mut self.r).map_err(short)?;
        if count < 0 || size < 0 || size as u64 > MAX_BLOCK {
            return Err(bad(format!(
                "a block header says {count} events in {size} bytes"
            )));
        }
        self.raw.resize(size as usize, 0);
        self.r.read_exact(&mut self.raw).map_err(short)?;
        let mut sync = [0u8; 16];
        self.r.read_exact(&mut sync).map_err(short)?;
        if sync != self.sync {
            return Err(bad(
                "a block does not end with the file's sync marker",
            ));
        }
        let block = match self.codec {
            Codec::Null => &self.raw,
            Codec::Deflate => {
                self.block.clear();
                flate2::read::DeflateDecoder::new(&self.raw[..])
                    .read_to_end(&mut self.block)
                    .map_err(|e| {
                        bad(format!("a deflate block does not inflate: {e}"))
                    })?;
                &self.block
            }
        };
        let mut pos = 0;
        for _ in 0..count {
            for (name, schema) in &self.fields {
                if name == "Body" {
                    if let Some(body) = body(schema, block, &mut pos)? {
                        one_line(body, &mut self.out);
                    }
                } else {
                    skip(schema, block, &mut pos)?;
                }
            }
            self.out.push(b'\n');
        }
        Ok(true)
    }
}

impl<R: Read> Read for Bodies<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if !self.next_block()? {
                return Ok(0);
            }
        }
        let n = dst.len().min(self.out.len() - self.out_pos);
        dst[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// A body on one line: JSON allows raw line breaks only between tokens
/// (inside strings they are escaped), so they become spaces.
fn one_line(body: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(body);
    for b in &mut out[start..] {
        if *b == b'\n' || *b == b'\r' {
            *b = b' ';
        }
    }
}

fn parse(v: &Value) -> io::Result<Schema> {
    Ok(match v {
        Value::String(name) => primitive(name)?,
        Value::Array(branches) => Schema::Union(
            branches.iter().map(parse).collect::<io::Result<_>>()?,
        ),
        Value::Object(o) => {
            let ty = o
                .get("type")
                .ok_or_else(|| bad("a schema type is missing"))?;
            match ty.as_str() {
                Some("record") | Some("error") => {
                    let fields = o
                        .get("fields")
                        .and_then(Value::as_array)
                        .ok_or_else(|| bad("a record has no fields"))?;
                    let mut out = Vec::with_capacity(fields.len());
                    for f in fields {
                        let name = f
                            .get("name")
                            .and_then(Value::as_str)
                            .ok_or_else(|| bad("a field has no name"))?;
                        let ty = f.get("type").ok_or_else(|| {
                            bad(format!("field {name} has no type"))
                        })?;
                        out.push((name.to_owned(), parse(ty)?));
                    }
                    Schema::Record(out)
                }
                Some("array") => Schema::Array(Box::new(parse(
                    o.get("items")
                        .ok_or_else(|| bad("an array has no items"))?,
                )?)),
                Some("map") => Schema::Map(Box::new(parse(
                    o.get("values")
                        .ok_or_else(|| bad("a map has no values"))?,
                )?)),
                Some("fixed") => Schema::Fixed(
                    o.get("size")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| bad("a fixed has no size"))?
                        as usize,
                ),
                Some("enum") => Schema::Enum,
                // `{"type": "long", "logicalType": ...}` and the like.
                _ => parse(ty)?,
            }
        }
        _ => {
            return Err(bad(
                "a schema is neither a name, a union nor an object",
            ));
        }
    })
}

fn primitive(name: &str) -> io::Result<Schema> {
    Ok(match name {
        "null" => Schema::Null,
        "boolean" => Schema::Boolean,
        "int" => Schema::Int,
        "long" => Schema::Long,
        "float" => Schema::Float,
        "double" => Schema::Double,
        "bytes" => Schema::Bytes,
        "string" => Schema::String,
        other => {
            return Err(bad(format!(
                "schema type {other} is not supported (a named type?)"
            )));
        }
    })
}

/// The `Body` value: bytes or a string, maybe in a union with null.
fn body<'b>(
    s: &Schema,
    b: &'b [u8],
    pos: &mut usize,
) -> io::Result<Option<&'b [u8]>> {
    match s {
        Schema::Bytes | Schema::String => Ok(Some(take_bytes(b, pos)?)),
        Schema::Null => Ok(None),
        Schema::Union(branches) => body(branch(branches, b, pos)?, b, pos),
        _ => Err(bad("Body is neither bytes nor a string")),
    }
}

fn branch<'s>(
    branches: &'s [Schema],
    b: &[u8],
    pos: &mut usize,
) -> io::Result<&'s Schema> {
    let i = long(b, pos)?;
    usize::try_from(i)
        .ok()
        .and_then(|i| branches.get(i))
        .ok_or_else(|| bad(format!("union branch {i} does not exist")))
}

fn skip(s: &Schema, b: &[u8], pos: &mut usize) -> io::Result<()> {
    match s {
        Schema::Null => {}
        Schema::Boolean => advance(b, pos, 1)?,
        Schema::Int | Schema::Long | Schema::Enum => {
            long(b, pos)?;
        }
        Schema::Float => advance(b, pos, 4)?,
        Schema::Double => advance(b, pos, 8)?,
        Schema::Bytes | Schema::String => {
            take_bytes(b, pos)?;
        }
        Schema::Fixed(n) => advance(b, pos, *n)?,
        Schema::Union(branches) => skip(branch(branches, b, pos)?, b, pos)?,
        Schema::Record(fields) => {
            for (_, f) in fields {
                skip(f, b, pos)?;
            }
        }
        Schema::Array(item) => items(b, pos, |b, pos| skip(item, b, pos))?,
        Schema::Map(value) => items(b, pos, |b, pos| {
            take_bytes(b, pos)?;
            skip(value, b, pos)
        })?,
    }
    Ok(())
}

/// Array and map items: blocks of a count (negative: followed by the
/// block's size in bytes), ended by a count of zero.
fn items(
    b: &[u8],
    pos: &mut usize,
    mut each: impl FnMut(&[u8], &mut usize) -> io::Result<()>,
) -> io::Result<()> {
    loop {
        let mut n = long(b, pos)?;
        if n == 0 {
            return Ok(());
        }
        if n < 0 {
            long(b, pos)?;
            n = n
                .checked_neg()
                .ok_or_else(|| bad("an item count overflows"))?;
        }
        for _ in 0..n {
            each(b, pos)?;
        }
    }
}

fn advance(b: &[u8], pos: &mut usize, n: usize) -> io::Result<()> {
    if b.len() - *pos < n {
        return Err(bad("a value runs past its block"));
    }
    *pos += n;
    Ok(())
}

fn take_bytes<'b>(b: &'b [u8], pos: &mut usize) -> io::Result<&'b [u8]> {
    let n = long(b, pos)?;
    let n = usize::try_from(n).map_err(|_| bad("a negative length"))?;
    let start = *pos;
    advance(b, pos, n)?;
    Ok(&b[start..start + n])
}

/// A zigzag varint from a block.
fn long(b: &[u8], pos: &mut usize) -> io::Result<i64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte =
            *b.get(*pos).ok_or_else(|| bad("a number runs past its block"))?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(unzigzag(v));
        }
    }
    Err(bad("a number is longer than ten bytes"))
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A zigzag varint from the stream; `None` at a clean end of the file.
fn read_long_or_end(r: &mut impl Read) -> io::Result<Option<i64>> {
    let mut first = [0u8; 1];
    loop {
        match r.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut v = u64::from(first[0] & 0x7f);
    let mut byte = first[0];
    let mut shift = 7;
    while byte & 0x80 != 0 {
        if shift >= 64 {
            return Err(bad("a number is longer than ten bytes"));
        }
        let mut next = [0u8; 1];
        r.read_exact(&mut next).map_err(short)?;
        byte = next[0];
        v |= u64::from(byte & 0x7f) << shift;
        shift += 7;
    }
    Ok(Some(unzigzag(v)))
}

fn read_long(r: &mut impl Read) -> io::Result<i64> {
    read_long_or_end(r)?
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
}

/// The header's metadata: a map of bytes.
fn read_meta(r: &mut impl Read) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    loop {
        let mut n = read_long(r)?;
        if n == 0 {
            return Ok(out);
        }
        if n < 0 {
            read_long(r)?;
            n = n
                .checked_neg()
                .ok_or_else(|| bad("an item count overflows"))?;
        }
        for _ in 0..n {
            let key = read_bytes(r)?;
            let value = read_bytes(r)?;
            out.push((String::from_utf8_lossy(&key).into_owned(), value));
        }
    }
}

fn read_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let n = read_long(r)?;
    if !(0..=MAX_BLOCK as i64).contains(&n) {
        return Err(bad(format!("a header value of {n} bytes")));
    }
    let mut v = vec![0u8; n as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

//! Writing compact JSON objects straight into a byte buffer, the way the
//! Defender export writes them.

/// An object being written.
pub struct Obj<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub fn open(buf: &'a mut Vec<u8>) -> Obj<'a> {
        buf.push(b'{');
        Obj { buf, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        string(self.buf, k);
        self.buf.push(b':');
    }

    /// `"k":"v"`.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        string(self.buf, v);
        self
    }

    /// `"k":"v"` or `"k":null`.
    pub fn opt(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    /// `"k":null`.
    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(b"null");
        self
    }

    /// `"k":123`.
    pub fn num(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(v.to_string().as_bytes());
        self
    }

    /// `"k":123` for unsigned values above `i64::MAX` too.
    pub fn unum(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(v.to_string().as_bytes());
        self
    }

    /// `"k":true`.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.buf.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// `"k":` followed by JSON the caller writes.
    pub fn raw(&mut self, k: &str) -> &mut Vec<u8> {
        self.key(k);
        self.buf
    }

    /// Closes the object.
    pub fn close(self) {
        self.buf.push(b'}');
    }
}

/// A JSON string literal with the escapes JSON requires.
pub fn string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0..=0x1f => {
                buf.extend_from_slice(format!("\\u{b:04x}").as_bytes())
            }
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

/// A JSON string whose content is itself JSON (as `AdditionalFields`).
pub fn nested(buf: &mut Vec<u8>, inner: impl FnOnce(&mut Vec<u8>)) {
    let mut tmp = Vec::new();
    inner(&mut tmp);
    string(buf, std::str::from_utf8(&tmp).expect("JSON is UTF-8"));
}

//! Standard output that a closed pipe does not end: `iocmatch replay …
//! --hits - | head` stops writing when `head` exits, but the run goes on
//! to its end and exits with the status it would have had, so the status
//! never depends on when the reader went away.

use std::io::{self, Write};

/// Standard output; after a broken pipe, writes are dropped.
#[derive(Debug, Default)]
pub struct Stdout {
    closed: bool,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout::default()
    }

    fn guard(&mut self, r: io::Result<()>) -> io::Result<()> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = io::stdout().lock().write_all(buf);
        self.guard(r).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = io::stdout().lock().flush();
        self.guard(r)
    }
}

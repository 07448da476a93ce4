//! Sinks that write hits as they are found, and the alert writers.

use std::io::{self, Write};

use iocmatch_core::IndicatorSet;

use super::Format;
use super::records::{AlertRecord, HitRecord};
use crate::hit::Hit;
use crate::report::{Alert, Report};
use crate::sink::Sink;

/// Writes every hit as one JSON object per line ([`HitRecord`]).
#[derive(Debug)]
pub struct JsonLines<'s, W> {
    set: &'s IndicatorSet,
    out: W,
}

impl<'s, W: Write> JsonLines<'s, W> {
    /// Hits of indicators of `set`, to `out`.
    pub fn new(set: &'s IndicatorSet, out: W) -> Self {
        JsonLines { set, out }
    }

    /// The writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for JsonLines<'_, W> {
    type Error = io::Error;

    fn hit(&mut self, hit: &Hit) -> io::Result<bool> {
        serde_json::to_writer(&mut self.out, &HitRecord::new(self.set, hit))?;
        self.out.write_all(b"\n")?;
        Ok(true)
    }

    fn finish(&mut self, _report: &Report) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes every hit as a CSV row under a header (the columns of
/// [`HitRecord`], the indicator's flattened in).
#[derive(Debug)]
pub struct Csv<'s, W: Write> {
    set: &'s IndicatorSet,
    out: csv::Writer<W>,
    header_done: bool,
}

impl<'s, W: Write> Csv<'s, W> {
    /// Hits of indicators of `set`, to `out`.
    pub fn new(set: &'s IndicatorSet, out: W) -> Self {
        Csv { set, out: csv::Writer::from_writer(out), header_done: false }
    }

    /// The writer (flushed).
    ///
    /// # Errors
    ///
    /// When the last rows cannot be written.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_done {
            self.out.write_record(HitRecord::csv_header())?;
            self.header_done = true;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Csv<'_, W> {
    type Error = io::Error;

    fn hit(&mut self, hit: &Hit) -> io::Result<bool> {
        self.header()?;
        let row = HitRecord::new(self.set, hit).csv_cells();
        self.out.write_record(&row)?;
        Ok(true)
    }

    fn finish(&mut self, _report: &Report) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes every alert in `format` ([`AlertRecord`]), and flushes.
///
/// # Errors
///
/// When `w` fails.
pub fn write_alerts(
    set: &IndicatorSet,
    alerts: &[Alert],
    format: Format,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::JsonLines => {
            for a in alerts {
                serde_json::to_writer(&mut *w, &AlertRecord::new(set, a))?;
                w.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut c = csv::Writer::from_writer(&mut *w);
            c.write_record(AlertRecord::csv_header())?;
            for a in alerts {
                c.write_record(AlertRecord::new(set, a).csv_cells())?;
            }
            c.flush()?;
        }
    }
    w.flush()
}

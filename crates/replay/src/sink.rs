//! Where replay's results go as they are found: the [`Sink`] protocol.

use crate::hit::{Hit, Rejected};
use crate::input::Input;
use crate::report::{Alert, Report};

/// Receives a replay's results in input order, as they are found.
///
/// Only [`hit`](Sink::hit) is required. The methods that return
/// `Ok(bool)` stop the run when they answer `false` (a caller that wants
/// the first hit, or a bounded sample); an error stops it too, and
/// [`Replayer::run`](crate::Replayer::run) returns it.
pub trait Sink {
    /// The sink's error.
    type Error;

    /// Called once, before any input is read.
    ///
    /// # Errors
    ///
    /// Stops the replay before it starts.
    fn begin(&mut self, _inputs: &[Input]) -> Result<(), Self::Error> {
        Ok(())
    }

    /// A hit (suppressed ones included). `Ok(false)` stops the run.
    ///
    /// # Errors
    ///
    /// Stops the replay with this error.
    fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error>;

    /// An alert (indicator, device) opened by the hit just sent: the
    /// first effective alerting hit of that indicator on that device.
    /// Later hits only add to it; the final alerts are in the
    /// [`Report`]. `Ok(false)` stops the run.
    ///
    /// # Errors
    ///
    /// Stops the replay with this error.
    fn alert_opened(&mut self, _alert: &Alert) -> Result<bool, Self::Error> {
        Ok(true)
    }

    /// A rejected line. `Ok(false)` stops the run.
    ///
    /// # Errors
    ///
    /// Stops the replay with this error.
    fn rejected(&mut self, _r: &Rejected) -> Result<bool, Self::Error> {
        Ok(true)
    }

    /// Progress: input bytes read so far of `total` (0 when unknown), and
    /// records read so far.
    fn progress(&mut self, _done: u64, _total: u64, _records: u64) {}

    /// Called once at the end (also after an early stop), with the
    /// report the run returns.
    ///
    /// # Errors
    ///
    /// The run returns this error instead of the report.
    fn finish(&mut self, _report: &Report) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Sinks behind a reference or a box forward every call to the sink
/// itself (`Box<dyn Sink<Error = E>>` lets a caller choose a sink at run
/// time).
macro_rules! forward_sink {
    ($($ptr:ty),*) => {$(
        impl<S: Sink + ?Sized> Sink for $ptr {
            type Error = S::Error;

            fn begin(&mut self, inputs: &[Input]) -> Result<(), Self::Error> {
                (**self).begin(inputs)
            }
            fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error> {
                (**self).hit(hit)
            }
            fn alert_opened(&mut self, alert: &Alert) -> Result<bool, Self::Error> {
                (**self).alert_opened(alert)
            }
            fn rejected(&mut self, r: &Rejected) -> Result<bool, Self::Error> {
                (**self).rejected(r)
            }
            fn progress(&mut self, done: u64, total: u64, records: u64) {
                (**self).progress(done, total, records);
            }
            fn finish(&mut self, report: &Report) -> Result<(), Self::Error> {
                (**self).finish(report)
            }
        }
    )*};
}

forward_sink!(&mut S, Box<S>);

/// An optional sink: `None` takes everything and keeps nothing (a
/// counter that only some runs want costs nothing in the others).
impl<S: Sink> Sink for Option<S> {
    type Error = S::Error;

    fn begin(&mut self, inputs: &[Input]) -> Result<(), Self::Error> {
        self.as_mut().map_or(Ok(()), |s| s.begin(inputs))
    }
    fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error> {
        self.as_mut().map_or(Ok(true), |s| s.hit(hit))
    }
    fn alert_opened(&mut self, alert: &Alert) -> Result<bool, Self::Error> {
        self.as_mut().map_or(Ok(true), |s| s.alert_opened(alert))
    }
    fn rejected(&mut self, r: &Rejected) -> Result<bool, Self::Error> {
        self.as_mut().map_or(Ok(true), |s| s.rejected(r))
    }
    fn progress(&mut self, done: u64, total: u64, records: u64) {
        if let Some(s) = self {
            s.progress(done, total, records);
        }
    }
    fn finish(&mut self, report: &Report) -> Result<(), Self::Error> {
        self.as_mut().map_or(Ok(()), |s| s.finish(report))
    }
}

/// A sink that keeps everything, for tests and small runs.
#[derive(Debug, Default)]
pub struct Collect {
    /// Every hit.
    pub hits: Vec<Hit>,
    /// Every alert as it was when it opened.
    pub opened: Vec<Alert>,
    /// Every rejection.
    pub rejected: Vec<Rejected>,
}

impl Sink for Collect {
    type Error = std::convert::Infallible;

    fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error> {
        self.hits.push(hit.clone());
        Ok(true)
    }

    fn alert_opened(&mut self, alert: &Alert) -> Result<bool, Self::Error> {
        self.opened.push(alert.clone());
        Ok(true)
    }

    fn rejected(&mut self, r: &Rejected) -> Result<bool, Self::Error> {
        self.rejected.push(r.clone());
        Ok(true)
    }
}

/// A sink that keeps nothing (the report has the totals and alerts).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    type Error = std::convert::Infallible;

    fn hit(&mut self, _hit: &Hit) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// Stops a run after `limit` hits, passing them on: the first N hits of
/// a large export without reading all of it.
#[derive(Debug)]
pub struct Limit<S> {
    inner: S,
    left: u64,
}

impl<S> Limit<S> {
    /// At most `limit` hits go to `inner`; then the run stops.
    pub fn new(inner: S, limit: u64) -> Self {
        Limit { inner, left: limit }
    }

    /// The sink behind.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for Limit<S> {
    type Error = S::Error;

    fn begin(&mut self, inputs: &[Input]) -> Result<(), Self::Error> {
        self.inner.begin(inputs)
    }
    fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        Ok(self.inner.hit(hit)? && self.left > 0)
    }
    fn alert_opened(&mut self, alert: &Alert) -> Result<bool, Self::Error> {
        self.inner.alert_opened(alert)
    }
    fn rejected(&mut self, r: &Rejected) -> Result<bool, Self::Error> {
        self.inner.rejected(r)
    }
    fn progress(&mut self, done: u64, total: u64, records: u64) {
        self.inner.progress(done, total, records);
    }
    fn finish(&mut self, report: &Report) -> Result<(), Self::Error> {
        self.inner.finish(report)
    }
}

/// Sends every call to `first` and then to `second`, a sink that cannot
/// fail (a counter): a hit writer and a timeline in one run.
#[derive(Debug)]
pub struct Tee<A, B> {
    /// The first sink.
    pub first: A,
    /// The second sink.
    pub second: B,
}

impl<A: Sink, B: Sink<Error = std::convert::Infallible>> Sink for Tee<A, B> {
    type Error = A::Error;

    fn begin(&mut self, inputs: &[Input]) -> Result<(), Self::Error> {
        self.first.begin(inputs)?;
        let Ok(()) = self.second.begin(inputs);
        Ok(())
    }
    fn hit(&mut self, hit: &Hit) -> Result<bool, Self::Error> {
        let a = self.first.hit(hit)?;
        let Ok(b) = self.second.hit(hit);
        Ok(a && b)
    }
    fn alert_opened(&mut self, alert: &Alert) -> Result<bool, Self::Error> {
        let a = self.first.alert_opened(alert)?;
        let Ok(b) = self.second.alert_opened(alert);
        Ok(a && b)
    }
    fn rejected(&mut self, r: &Rejected) -> Result<bool, Self::Error> {
        let a = self.first.rejected(r)?;
        let Ok(b) = self.second.rejected(r);
        Ok(a && b)
    }
    fn progress(&mut self, done: u64, total: u64, records: u64) {
        self.first.progress(done, total, records);
        self.second.progress(done, total, records);
    }
    fn finish(&mut self, report: &Report) -> Result<(), Self::Error> {
        self.first.finish(report)?;
        let Ok(()) = self.second.finish(report);
        Ok(())
    }
}

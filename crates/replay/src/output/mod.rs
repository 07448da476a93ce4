//! Replay's output formats, a contract documented in `docs/output.md`:
//! hits and alerts as JSON Lines or CSV, and the JSON run report.
//!
//! Each record has one serde type ([`HitRecord`], [`AlertRecord`],
//! [`ReportRecord`]) that both writes the files and reads them back
//! (the gate, response actions and tests read replay's output), and CSV
//! rows are derived from the same types. [`JsonLines`] and [`Csv`] are
//! [`Sink`](crate::Sink)s that stream hits as replay finds them.
//!
//! ```
//! use iocmatch_core::{Action, Indicator, IndicatorSet, IndicatorType};
//! use iocmatch_replay::output::{HitRecord, JsonLines};
//! use iocmatch_replay::{ReplayOptions, Replayer, input::Input};
//!
//! let set = IndicatorSet::new(vec![
//!     Indicator::new(IndicatorType::DomainName, "evil.com", Action::Block)?,
//! ])?;
//! let dir = tempfile::tempdir()?;
//! let export = dir.path().join("PT1H.json");
//! std::fs::write(&export, concat!(
//!     r#"{"category":"AdvancedHunting-DeviceNetworkEvents","properties":"#,
//!     r#"{"Timestamp":"2026-07-18T13:58:42Z","DeviceId":"d1","ReportId":7,"#,
//!     r#""RemoteUrl":"https://cdn.evil.com/x"}}"#, "\n"))?;
//!
//! let mut sink = JsonLines::new(&set, Vec::new());
//! Replayer::new(&set, ReplayOptions::default())
//!     .run(&[Input::file(&export)], &mut sink)?;
//! let text = String::from_utf8(sink.into_inner())?;
//! let hit: HitRecord<'_> = serde_json::from_str(text.trim_end())?;
//! assert_eq!(hit.column, "RemoteUrl");
//! assert_eq!(hit.indicator.value, "evil.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod records;
mod report;
mod sinks;

pub use records::{
    AlertRecord, EvidenceRecord, HitRecord, IndicatorRecord, ReportIdRecord,
};
pub use report::{
    IndicatorStatsRecord, RejectedLinesRecord, RejectionRecord, ReportRecord,
    StreamedIndicators, TotalsRecord, write_report,
};
pub use sinks::{Csv, JsonLines, write_alerts};

/// How hits and alerts are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header.
    Csv,
}

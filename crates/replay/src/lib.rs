//! `iocmatch-replay`: replay Microsoft Defender streaming exports against
//! a compiled [`IndicatorSet`](iocmatch_core::IndicatorSet) and reproduce
//! the hits and alerts Defender would have raised.
//!
//! - [`input::discover`]: files, folder trees (Azure Storage layout),
//!   gzip, standard input, in a reproducible order.
//! - [`Replayer`]: cuts inputs into chunks of whole lines, evaluates them
//!   in parallel and merges in input order; output does not depend on the
//!   thread count.
//! - [`Sink`]: receives every [`Hit`] and [`Rejected`] line as found;
//!   [`Report`] holds the totals, [`Alert`]s and per-indicator counts.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use iocmatch_core::{IndicatorSet, load::{load_bytes, Format, LoadOptions}};
//! use iocmatch_replay::{Collect, ReplayOptions, Replayer, input};
//!
//! let iocs = b"evil.com\n";
//! let loaded = load_bytes(&Arc::from("iocs.txt"), iocs, Format::Text,
//!     &LoadOptions::default())?;
//! let set = IndicatorSet::new(loaded.indicators)?;
//!
//! let dir = tempfile::tempdir()?;
//! let export = dir.path().join("PT1H.json");
//! std::fs::write(&export, concat!(
//!     r#"{"category":"AdvancedHunting-DeviceNetworkEvents","properties":"#,
//!     r#"{"Timestamp":"2026-07-18T13:58:42Z","DeviceId":"d1","ReportId":7,"#,
//!     r#""RemoteUrl":"https://cdn.evil.com/x"}}"#, "\r\n"))?;
//!
//! let inputs = input::discover(&[dir.path().to_path_buf()])?;
//! let mut sink = Collect::default();
//! let report = Replayer::new(&set, ReplayOptions::default())
//!     .run(&inputs, &mut sink)?;
//! assert_eq!(sink.hits.len(), 1);
//! assert_eq!(sink.hits[0].column(), "RemoteUrl");
//! assert_eq!(report.totals.alerts, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod ahead;
mod avro;
#[cfg(feature = "azure")]
mod blob;
mod chunk;
pub mod decode;
mod engine;
pub mod evaluate;
mod export;
pub mod fast;
pub mod gate;
mod hit;
pub mod html;
pub mod input;
mod layout;
pub mod output;
pub mod parse;
mod quotes;
pub mod record;
mod report;
mod schema;
mod sink;
pub mod table;
pub mod time;

pub use decode::Decoding;
pub use engine::{
    DEFAULT_LATE_BY, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, OptionsError,
    ReplayError, ReplayOptions, ReplayOptionsBuilder, Replayer,
};
pub use hit::{Event, Hit, RejectReason, Rejected, ReportId};
pub use input::{Input, MmapChoice};
pub use parse::Parser;
pub use report::{
    Alert, Evidence, IndicatorCounts, IndicatorStats, Report, Totals,
};
pub use sink::{Collect, Discard, Limit, Sink, Tee};

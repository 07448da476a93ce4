//! `iocmatch-core`: the indicator model, loaders, normalisation and the
//! compiled matcher of iocmatch.
//!
//! - [`Indicator`]: one normalised Defender custom indicator, with its
//!   [`Source`] (file and line, or JSON path) and shared [`Meta`]data.
//! - [`load`]: readers for Defender CSV and API JSON, plain lists, MISP
//!   (events, feeds, CSV) and STIX 2.1, with every refusal reported as a
//!   [`Rejection`].
//! - [`value`]: the canonical forms (refanging, hex, IP, IDN hosts, URLs),
//!   shared by indicators and observed values.
//! - [`IndicatorSet`]: the compiled matcher. Lookups return
//!   [`IndicatorId`]s; [`IndicatorSet::effective`] applies precedence.
//!
//! # Example: a set built in code
//!
//! ```
//! use iocmatch_core::{Action, Indicator, IndicatorSet, IndicatorType as T};
//!
//! let set = IndicatorSet::new(vec![
//!     Indicator::new(T::DomainName, "evil[.]com", Action::Block)?,
//!     Indicator::new(T::Url, "https://cdn.example.org/payload/", Action::Audit)?,
//! ])?;
//!
//! // A domain indicator matches the domain and every subdomain.
//! let mut hits = Vec::new();
//! set.match_domain("login.evil.com", &mut hits);
//! assert_eq!(set.get(hits[0]).value(), "evil.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example: a file, with its rejections
//!
//! ```
//! use std::sync::Arc;
//! use iocmatch_core::{ErrorKind, HashKind, IndicatorSet};
//! use iocmatch_core::load::{load_bytes, Format, LoadOptions};
//!
//! let csv = b"IndicatorType,IndicatorValue,Action,Title\n\
//!     FileSha1,DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,Block,empty file\n\
//!     DomainName,evil[.]com,Audit,c2\n\
//!     IpAddress,10.0.0.1,Block,private\n";
//! let loaded = load_bytes(&Arc::from("iocs.csv"), csv, Format::DefenderCsv,
//!     &LoadOptions::default())?;
//! assert_eq!(loaded.indicators.len(), 2);
//! assert_eq!(loaded.rejected.len(), 1); // a private address
//! assert_eq!(loaded.rejected[0].kind(), ErrorKind::NonPublicIp);
//! assert_eq!(loaded.rejected[0].source.to_string(), "iocs.csv:4");
//!
//! let set = IndicatorSet::new(loaded.indicators)?;
//! let hits = set.match_hash(HashKind::Sha1,
//!     b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
//! assert_eq!(set.get(hits[0]).action().as_str(), "Block");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod check;
pub mod defender;
mod draft;
mod error;
mod indicator;
mod kind;
pub mod load;
mod normal;
mod set;
pub mod value;
pub mod warninglist;

pub use draft::{Rejection, parse_duration, parse_time};
pub use error::{ErrorKind, IndicatorError};
pub use indicator::{
    Details, Indicator, IndicatorId, Location, Meta, OfflineOnly, Source,
};
pub use kind::{Action, IndicatorType, Severity};
pub use normal::{infer, infer_type, normalize};
pub use set::{
    BuildError, Conflict, FamilySizes, HashKind, IndicatorSet,
    IndicatorSetBuilder, Merged,
};

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn types_cross_threads() {
        assert_send_sync::<crate::IndicatorSet>();
        assert_send_sync::<crate::Indicator>();
        assert_send_sync::<crate::load::Loaded>();
    }
}

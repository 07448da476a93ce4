//! The integration suite of iocmatch-core: the data-driven match suite,
//! the loaders on every fixture, and property tests against naive
//! oracles.

mod formats;
mod prop;
mod suite;

use std::path::PathBuf;

/// The workspace's `testdata/` folder.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

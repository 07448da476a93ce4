//! The integration suite of iocmatch-replay.

mod common;
mod determinism;
mod fastpath;
mod formats;
mod golden;
mod inputs;
mod naive;
mod public;
mod sink;
mod truth;

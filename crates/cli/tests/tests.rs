//! End-to-end tests: the real `iocmatch` binary on the fixtures.

mod blob;
mod check;
mod gate;
mod html;
mod replay;
mod respond;
mod sync;

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

pub fn indicators(name: &str) -> PathBuf {
    testdata().join("indicators").join(name)
}

/// Runs the binary with `args` and returns its output.
pub fn iocmatch(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args(args)
        .output()
        .expect("run iocmatch")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

//! Prints an input as replay reads it: gzip inflated, Capture Avro and
//! Advanced Hunting / Log Analytics exports turned into JSON Lines.
//!
//!   cargo run -p iocmatch-replay --example decode -- export.csv [TABLE]
//!
//! Damage ends the output with a message saying what is wrong.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: decode FILE [TABLE]");
        return ExitCode::from(2);
    };
    let mut b = iocmatch_replay::ReplayOptions::builder();
    if let Some(table) = args.next() {
        b.export_table(&table);
    }
    let opts = match b.build() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("decode: {e}");
            return ExitCode::from(2);
        }
    };
    let input = iocmatch_replay::Input::file(&path);
    let result = input
        .reader_with(opts.decoding())
        .and_then(|mut r| std::io::copy(&mut r, &mut std::io::stdout().lock()))
        .and_then(|_| std::io::stdout().flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode: {path}: {e}");
            ExitCode::from(1)
        }
    }
}

//! `iocmatch-gen`: deterministic synthetic Defender streaming exports and
//! matching indicator sets, with the ground truth of every planted value.
//!
//! - [`World`]: the fixed pools (devices, binaries, hosts, addresses,
//!   signers), benign and bad, derived from a seed.
//! - [`generate`]: streams records in the Azure Storage, Event Hub or
//!   JSON Lines layout or as Event Hubs Capture Avro, optionally gzipped, with duplicate deliveries and
//!   damaged lines, writing `truth.jsonl` beside them.
//! - [`indicators`]: the IOC set that goes with a world: every planted
//!   value, then filler that occurs nowhere.

pub mod avro;
pub mod indicators;
pub mod json;
pub mod output;
pub mod records;
pub mod rng;
pub mod world;

pub use output::{Layout, Options, Summary, generate};
pub use world::World;

/// Parses sizes such as `1GiB`, `500MB`, `3m`, `4096`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split =
        s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid size '{s}'"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return Err(format!("unknown size unit in '{s}'")),
    };
    Ok((n * mult as f64) as u64)
}

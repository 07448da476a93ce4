//! Shared inputs for the benchmarks: generated indicator sets in memory.

use std::sync::Arc;

use iocmatch_core::IndicatorSet;
use iocmatch_core::load::{Format, LoadOptions, load_bytes};

/// A mixed Defender CSV of `n` indicators (the generator's: planted
/// values first, then hashes, addresses, networks, domains and URLs).
pub fn csv(n: usize) -> Vec<u8> {
    let world = iocmatch_gen::World::new(42, 50);
    let rows = iocmatch_gen::indicators::rows(&world, n, 42);
    let mut out = Vec::with_capacity(n * 90);
    iocmatch_gen::indicators::write_csv(&rows, &mut out)
        .expect("write to memory");
    out
}

/// Loads and compiles a CSV, as `iocmatch check` does.
pub fn compile(bytes: &[u8]) -> IndicatorSet {
    let name: Arc<str> = Arc::from("bench.csv");
    let loaded =
        load_bytes(&name, bytes, Format::DefenderCsv, &LoadOptions::default())
            .expect("generated CSV loads");
    IndicatorSet::new(loaded.indicators).expect("compiles")
}

/// About `bytes` of generated export lines (JSON Lines, the generator's
/// record mix and hit rate), in memory.
pub fn export_lines(bytes: usize) -> Vec<u8> {
    use iocmatch_gen::records::RecordGen;
    use iocmatch_gen::rng::Rng;
    let world = iocmatch_gen::World::new(42, 50);
    let mut records = RecordGen::new(&world, Rng::new(7), 0.01);
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut time = 1_784_332_800_000_000_000; // 2026-07-18
    while out.len() < bytes {
        records.record(&mut out, time);
        out.push(b'\n');
        time += 1_000_000;
    }
    out
}

//! Helpers shared by the replay tests.

use std::path::{Path, PathBuf};

use iocmatch_core::IndicatorSet;
use iocmatch_core::load::{LoadOptions, load_path};
use iocmatch_gen::{Layout, Options};
use iocmatch_replay::{Collect, Hit, ReplayOptions, Replayer, Report, input};

/// 2026-07-18T00:00:00Z in nanoseconds.
pub const START: u64 = 1_784_332_800_000_000_000;

/// Generates a small export with its indicator set into `dir`.
pub fn generate(
    dir: &Path,
    layout: Layout,
    gzip: bool,
    size: u64,
    seed: u64,
) -> PathBuf {
    let opts = Options {
        out: dir.to_path_buf(),
        layout,
        gzip,
        size,
        seed,
        hit_rate: 0.02,
        duplicate_rate: 0.05,
        damage_rate: 0.002,
        start: START,
        hours: 3,
        bad: 20,
    };
    iocmatch_gen::generate(&opts, &mut |_| {}).unwrap();
    let world = iocmatch_gen::World::new(seed, 20);
    let rows = iocmatch_gen::indicators::rows(&world, 2000, seed);
    let mut f = std::fs::File::create(dir.join("indicators.csv")).unwrap();
    iocmatch_gen::indicators::write_csv(&rows, &mut f).unwrap();
    iocmatch_gen::output::export_dir(dir)
}

pub fn load_set(path: &Path) -> IndicatorSet {
    let loaded = load_path(path, &LoadOptions::default()).unwrap();
    assert!(loaded.rejected.is_empty(), "{:?}", loaded.rejected);
    IndicatorSet::new(loaded.indicators).unwrap()
}

pub fn replay(
    set: &IndicatorSet,
    paths: &[PathBuf],
    opts: ReplayOptions,
) -> (Vec<Hit>, Report, Collect) {
    let inputs = input::discover(paths).unwrap();
    let mut sink = Collect::default();
    let report = Replayer::new(set, opts).run(&inputs, &mut sink).unwrap();
    (sink.hits.clone(), report, sink)
}

/// A comparable rendering of hits.
pub fn render(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            format!(
                "{}:{}:{} {} {} {} {:?} {} {} -> {} eff={} sup={:?} alert={}",
                h.source(),
                h.line(),
                h.record(),
                h.event().table,
                h.event().timestamp,
                h.event().device_id,
                h.event().report_id,
                h.column(),
                h.observed(),
                h.indicator(),
                h.is_effective(),
                h.suppressed_by(),
                h.raises_alert()
            )
        })
        .collect()
}

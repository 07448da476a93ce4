//! Load + compile of generated mixed sets: 15k (Defender's limit) and 1M
//! (a large MISP feed).

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use iocmatch_benches::{compile, csv};
use iocmatch_core::IndicatorSet;
use iocmatch_core::load::{Format, LoadOptions, load_bytes};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("load_and_compile");
    for (name, n, samples) in [("15k", 15_000, 30), ("1M", 1_000_000, 10)] {
        let bytes = csv(n);
        g.sample_size(samples);
        // Freeing the set is not part of compiling it (and costs ~1 ms at
        // 15k): it is dropped outside the timed loop.
        g.bench_function(name, |b| b.iter_with_large_drop(|| compile(&bytes)));
    }
    g.finish();
    // The build alone, from indicators already loaded.
    let mut g = c.benchmark_group("compile_only");
    for (name, n, samples) in [("15k", 15_000, 30), ("1M", 1_000_000, 10)] {
        let name_arc: Arc<str> = Arc::from("bench.csv");
        let loaded = load_bytes(
            &name_arc,
            &csv(n),
            Format::DefenderCsv,
            &LoadOptions::default(),
        )
        .unwrap();
        g.sample_size(samples);
        g.bench_function(name, |b| {
            b.iter_batched(
                || loaded.indicators.clone(),
                |v| IndicatorSet::new(v).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Load + compile of generated mixed sets: 15k (Defender's limit) and 1M
//! (a large MISP feed).

use criterion::{Criterion, criterion_group, criterion_main};
use iocmatch_benches::{compile, csv};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("load_and_compile");
    for (name, n, samples) in [("15k", 15_000, 30), ("1M", 1_000_000, 10)] {
        let bytes = csv(n);
        g.sample_size(samples);
        g.bench_function(name, |b| b.iter(|| compile(&bytes)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The gzip ceiling of a machine: what one core inflates, and what one
//! core replays, of the same export lines. A run over `.gz` files has to
//! do both to every byte, so with `n` cores it cannot beat
//! `n / (1/inflate + 1/replay)` bytes a second however the work is
//! spread; `benches/gzip.sh` measures the end-to-end figure to hold
//! against it (see benches/RESULTS.md, seventh round).

use std::io::{Read, Write};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::write::GzEncoder;
use iocmatch_benches::{compile, csv, export_lines};
use iocmatch_replay::{Discard, Input, ReplayOptions, Replayer};

fn bench(c: &mut Criterion) {
    let plain = export_lines(64 << 20);
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(6));
    gz.write_all(&plain).expect("gzip to memory");
    let gz = gz.finish().expect("gzip to memory");
    let set = compile(&csv(15_000));
    let one_thread =
        ReplayOptions::builder().threads(1).build().expect("valid options");
    let replayer = Replayer::new(&set, one_thread);
    let plain: Arc<[u8]> = plain.into();

    let mut g = c.benchmark_group("gzip_ceiling");
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.sample_size(10);
    // Inflated as replay reads a .gz: the same reader, into a reused
    // buffer of replay's chunk size for inflated streams.
    let gz = Input::bytes("export.jsonl.gz", gz);
    g.bench_function("inflate", |b| {
        let mut buf = vec![0u8; 1 << 20];
        b.iter(|| {
            let mut r = gz.reader().expect("our own gzip");
            let mut n = 0;
            loop {
                match r.read(&mut buf).expect("our own gzip") {
                    0 => break,
                    k => n += k,
                }
            }
            assert_eq!(n, plain.len());
        })
    });
    g.bench_function("replay_one_thread", |b| {
        let input = [Input::bytes("export.jsonl", Arc::clone(&plain))];
        b.iter(|| {
            let report = replayer.run(&input, &mut Discard).expect("replays");
            assert!(report.totals.records > 0);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

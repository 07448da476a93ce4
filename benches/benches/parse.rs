//! Reading export lines: the fast path against the two full parsers it
//! falls back to and is tested against. Throughput is in input bytes, so
//! the figures compare directly with the end-to-end replay MB/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iocmatch_replay::parse::Parser;
use iocmatch_replay::record::Line;

fn bench(c: &mut Criterion) {
    let bytes = iocmatch_benches::export_lines(16 << 20);
    let lines: Vec<&[u8]> =
        bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut g = c.benchmark_group("parse_lines");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(10);
    for (name, parser) in [
        ("fast", Parser::Fast),
        ("sonic", Parser::Sonic),
        ("serde_json", Parser::Reference),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut line = Line::default();
                let mut ok = 0usize;
                for l in &lines {
                    ok += usize::from(parser.parse_into(l, &mut line).is_ok());
                }
                ok
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

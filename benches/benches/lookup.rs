//! One lookup per family against compiled sets of 15k and 1M indicators,
//! probes mostly missing (as in real traffic) with some hits.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use iocmatch_benches::{compile, csv};
use iocmatch_core::value::url::Url;
use iocmatch_core::{HashKind, IndicatorSet, IndicatorType};
use iocmatch_gen::rng::Rng;

struct Probes {
    sha256: Vec<String>,
    ips: Vec<IpAddr>,
    urls: Vec<String>,
}

/// 1,000 probes per family; one in ten is a value of the set.
fn probes(set: &IndicatorSet) -> Probes {
    let mut r = Rng::new(7);
    let pick = |t: IndicatorType| -> Vec<String> {
        set.iter()
            .filter(|(_, i)| i.indicator_type() == t)
            .map(|(_, i)| i.value().to_string())
            .take(100)
            .collect()
    };
    let (hashes, ips, domains) = (
        pick(IndicatorType::FileSha256),
        pick(IndicatorType::IpAddress),
        pick(IndicatorType::DomainName),
    );
    let mut p =
        Probes { sha256: Vec::new(), ips: Vec::new(), urls: Vec::new() };
    for i in 0..1000 {
        let hit = i % 10 == 0;
        p.sha256.push(if hit {
            hashes[i / 10 % hashes.len()].clone()
        } else {
            r.hex(64)
        });
        let ip = if hit {
            ips[i / 10 % ips.len()].split('/').next().unwrap().to_owned()
        } else {
            format!(
                "{}.{}.{}.{}",
                1 + r.below(223),
                r.below(256),
                r.below(256),
                r.below(256)
            )
        };
        p.ips.push(ip.parse().unwrap());
        let host = if hit {
            format!("www.{}", domains[i / 10 % domains.len()])
        } else {
            format!("cdn{}.example{}.com", r.below(100), r.below(1000))
        };
        p.urls.push(format!("https://{host}/a/b/c?q=1"));
    }
    p
}

fn bench(c: &mut Criterion) {
    for (name, n) in [("15k", 15_000), ("1M", 1_000_000)] {
        let set = compile(&csv(n));
        let p = probes(&set);
        let mut g = c.benchmark_group(format!("lookup_{name}"));
        g.bench_function("sha256", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % p.sha256.len();
                black_box(
                    set.match_hash(HashKind::Sha256, p.sha256[i].as_bytes())
                        .len(),
                )
            })
        });
        g.bench_function("ip_exact_and_cidr", |b| {
            let (mut i, mut out) = (0, Vec::new());
            b.iter(|| {
                i = (i + 1) % p.ips.len();
                out.clear();
                set.match_ip(p.ips[i], &mut out);
                black_box(out.len())
            })
        });
        let parsed: Vec<Url<'_>> =
            p.urls.iter().map(|u| Url::parse(u).unwrap()).collect();
        g.bench_function("url_host_domain_and_path", |b| {
            let (mut i, mut out) = (0, Vec::new());
            b.iter(|| {
                i = (i + 1) % parsed.len();
                out.clear();
                set.match_url(&parsed[i], &mut out);
                black_box(out.len())
            })
        });
        g.bench_function("url_parse_and_match", |b| {
            let (mut i, mut out) = (0, Vec::new());
            b.iter(|| {
                i = (i + 1) % p.urls.len();
                out.clear();
                set.match_url(&Url::parse(&p.urls[i]).unwrap(), &mut out);
                black_box(out.len())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

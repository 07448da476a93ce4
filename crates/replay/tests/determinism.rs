//! Output is identical whatever the thread count, the chunk size, the
//! reading strategy (mapped or streamed) and the parser.

use iocmatch_gen::Layout;
use iocmatch_replay::parse::Parser;
use iocmatch_replay::{MmapChoice, ReplayOptions, ReplayOptionsBuilder};

use crate::common::{generate, load_set, render, replay};

/// Options from the defaults, changed by `f`.
fn opts(f: impl FnOnce(&mut ReplayOptionsBuilder)) -> ReplayOptions {
    let mut b = ReplayOptions::builder();
    f(&mut b);
    b.build().unwrap()
}

#[test]
fn same_output_for_every_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), Layout::Storage, false, 3_000_000, 7);
    let set = load_set(&dir.path().join("indicators.csv"));
    let base = opts(|b| {
        b.threads(1);
    });
    let (hits, report, _) =
        replay(&set, std::slice::from_ref(&export), base.clone());
    assert!(hits.len() > 50, "the fixture should hit: {}", hits.len());
    assert!(
        report.totals.duplicates > 0,
        "the fixture should re-deliver hitting records"
    );
    let want = render(&hits);
    let variants = [
        (
            "4 threads",
            opts(|b| {
                b.threads(4);
            }),
        ),
        (
            "tiny chunks",
            opts(|b| {
                b.threads(3).chunk_size(4096);
            }),
        ),
        (
            // Three readers for one worker: readers evaluate their own
            // chunks (the pool is the other way).
            "readers evaluating",
            opts(|b| {
                b.threads(1).lookahead(3);
            }),
        ),
        (
            "mapped",
            opts(|b| {
                b.threads(2).mmap(unsafe { MmapChoice::auto() });
            }),
        ),
        (
            "sonic",
            opts(|b| {
                b.threads(2).parser(Parser::Sonic);
            }),
        ),
        (
            "serde_json",
            opts(|b| {
                b.threads(2).parser(Parser::Reference);
            }),
        ),
        (
            "a shared pool of 2",
            opts(|b| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(2)
                    .build()
                    .unwrap();
                b.pool(std::sync::Arc::new(pool));
            }),
        ),
    ];
    for (name, opts) in variants {
        let (h, r, _) = replay(&set, std::slice::from_ref(&export), opts);
        assert_eq!(render(&h), want, "{name}: hits differ");
        assert_eq!(r.alerts, report.alerts, "{name}: alerts differ");
        assert_eq!(
            r.indicators, report.indicators,
            "{name}: per-indicator counts differ"
        );
        let (mut a, mut b) = (r.totals.clone(), report.totals.clone());
        (a.elapsed, b.elapsed) = (0.0, 0.0);
        assert_eq!(a, b, "{name}: totals differ");
    }
}

#[test]
fn gzip_and_plain_give_the_same_hits() {
    let plain = tempfile::tempdir().unwrap();
    let gz = tempfile::tempdir().unwrap();
    let e1 = generate(plain.path(), Layout::Jsonl, false, 1_000_000, 11);
    let e2 = generate(gz.path(), Layout::Jsonl, true, 1_000_000, 11);
    let set = load_set(&plain.path().join("indicators.csv"));
    let small = opts(|b| {
        b.chunk_size(64 * 1024);
    });
    let (h1, r1, _) = replay(&set, &[e1], small.clone());
    let (h2, r2, _) = replay(&set, &[e2], small);
    let strip = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.split_once(' ').unwrap().1.to_owned())
            .collect()
    };
    assert_eq!(strip(render(&h1)), strip(render(&h2)));
    assert_eq!(r1.totals.records, r2.totals.records);
    assert_eq!(r1.totals.rejected, r2.totals.rejected);
}

#[test]
fn a_byte_order_mark_does_not_spoil_the_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let line = |id: u32| {
        format!(
            r#"{{"category":"AdvancedHunting-DeviceEvents","properties":{{"ReportId":{id},"RemoteUrl":"x.evil.com"}}}}"#
        )
    };
    let path = dir.path().join("bom.json");
    std::fs::write(&path, format!("\u{feff}{}\n{}\n", line(1), line(2)))
        .unwrap();
    let ioc = dir.path().join("iocs.txt");
    std::fs::write(&ioc, "evil.com\n").unwrap();
    let set = crate::common::load_set(&ioc);
    for mmap in [MmapChoice::never(), unsafe { MmapChoice::auto() }] {
        let (hits, report, _) = replay(
            &set,
            std::slice::from_ref(&path),
            opts(|b| {
                b.mmap(mmap);
            }),
        );
        assert_eq!(
            report.totals.rejected_total(),
            0,
            "{:?}",
            report.totals.rejected
        );
        assert_eq!(report.totals.records, 2);
        assert_eq!(hits.len(), 2);
    }
}

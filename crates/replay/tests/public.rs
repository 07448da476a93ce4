//! The real exported records in `../shared/testdata-public/` are read
//! without a rejection. Skipped, with a notice, where `shared/` is absent.

use std::path::PathBuf;

use iocmatch_core::IndicatorSet;
use iocmatch_replay::ReplayOptions;
use iocmatch_replay::parse::Parser;

use crate::common::replay;

#[test]
fn real_records_read_without_rejection() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata-public");
    if !dir.is_dir() {
        eprintln!(
            "notice: {} is absent; skipping the real-record test",
            dir.display()
        );
        return;
    }
    let set = IndicatorSet::new(Vec::new()).unwrap();
    let files = [
        "graph2otel-live-streaming-records.jsonl",
        "elastic-m365_defender-test-device.log",
    ];
    for f in files {
        for parser in [Parser::Fast, Parser::Reference] {
            let opts =
                ReplayOptions::builder().parser(parser).build().unwrap();
            let (_, report, sink) = replay(&set, &[dir.join(f)], opts);
            assert!(
                sink.rejected.is_empty(),
                "{f} ({parser:?}): {:?}",
                sink.rejected
            );
            assert_eq!(report.totals.records, 26, "{f}");
        }
    }
}

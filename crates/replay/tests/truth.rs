//! Recall against the generator's ground truth: every planted value is
//! found, in every layout, and nothing else hits.

use std::collections::BTreeSet;

use iocmatch_gen::Layout;
use iocmatch_replay::ReplayOptions;

use crate::common::{generate, load_set, replay};

fn check(layout: Layout, gzip: bool) {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), layout, gzip, 2_000_000, 3);
    let set = load_set(&dir.path().join("indicators.csv"));
    let (hits, report, _) =
        replay(&set, std::slice::from_ref(&export), ReplayOptions::default());
    let prefix = format!("{}/", export.display());
    let found: BTreeSet<(String, u64, u32, String, String)> = hits
        .iter()
        .map(|h| {
            let rel = h.source().strip_prefix(&prefix).unwrap().to_owned();
            (
                rel,
                h.line(),
                h.record(),
                h.column().to_owned(),
                set.get(h.indicator()).value().to_string(),
            )
        })
        .collect();
    let truth_text =
        std::fs::read_to_string(dir.path().join("truth.jsonl")).unwrap();
    let mut planted = BTreeSet::new();
    for line in truth_text.lines() {
        let t: serde_json::Value = serde_json::from_str(line).unwrap();
        planted.insert((
            t["source"].as_str().unwrap().to_owned(),
            t["line"].as_u64().unwrap(),
            t["record"].as_u64().unwrap() as u32,
            t["column"].as_str().unwrap().to_owned(),
            t["indicator"].as_str().unwrap().to_owned(),
        ));
    }
    assert!(planted.len() > 30, "too little planted: {}", planted.len());
    let missed: Vec<_> = planted.difference(&found).collect();
    assert!(
        missed.is_empty(),
        "{layout:?}: missed {} of {}: {:?}",
        missed.len(),
        planted.len(),
        &missed[..missed.len().min(3)]
    );
    let extra: Vec<_> = found.difference(&planted).collect();
    assert!(
        extra.is_empty(),
        "{layout:?}: unexpected hits: {:?}",
        &extra[..extra.len().min(3)]
    );
    assert!(report.totals.rejected_total() > 0, "damaged lines are counted");
    // Every line is a record (or an Event Hub body of records) or a
    // rejection.
    let t = &report.totals;
    let evaluated =
        if layout == Layout::EventHub { t.bodies } else { t.records };
    assert_eq!(t.lines, evaluated + t.rejected_total(), "{t:?}");
}

#[test]
fn storage_layout() {
    check(Layout::Storage, false);
}

#[test]
fn event_hub_bodies() {
    check(Layout::EventHub, false);
}

#[test]
fn gzip_json_lines() {
    check(Layout::Jsonl, true);
}

//! Every form an export comes in gives the hits of the streamed records:
//! Event Hubs Capture (Avro, null and deflate codecs) as the Event Hub
//! bodies it holds, and Advanced Hunting / Log Analytics exports (CSV,
//! JSON rows, the hunting API's Results, the Log Analytics API's tables)
//! as the records they were made of. Damage is a counted rejection.

use std::path::{Path, PathBuf};

use iocmatch_gen::Layout;
use iocmatch_replay::{Hit, RejectReason, ReplayOptions};
use serde_json::{Map, Value, json};

use crate::common::{generate, load_set, replay};

/// Hits without where they were read (file and line), which differ
/// between forms by design.
fn what(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            format!(
                "{} {} {} {:?} {} {} -> {} alert={}",
                h.event().table,
                h.event().timestamp,
                h.event().device_id,
                h.event().report_id,
                h.column(),
                h.observed(),
                h.indicator(),
                h.raises_alert()
            )
        })
        .collect()
}

fn only_file(dir: &Path) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { found.push(p) }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn capture_files_hold_the_event_hub_bodies() {
    let base = tempfile::tempdir().unwrap();
    let bodies =
        generate(&base.path().join("eh"), Layout::EventHub, false, 400_000, 7);
    let set = load_set(&base.path().join("eh/indicators.csv"));
    let (want, want_report, _) =
        replay(&set, &[bodies], ReplayOptions::default());
    assert!(!want.is_empty());
    for deflate in [false, true] {
        let dir = base.path().join(format!("capture-{deflate}"));
        let export = generate(&dir, Layout::Capture, deflate, 400_000, 7);
        let file = only_file(&export);
        let (got, report, _) = replay(
            &set,
            std::slice::from_ref(&file),
            ReplayOptions::default(),
        );
        assert_eq!(what(&got), what(&want), "deflate {deflate}");
        // Line N is event N: the same numbers as the bodies' lines.
        let lines = |h: &[Hit]| {
            h.iter().map(|h| (h.line(), h.record())).collect::<Vec<_>>()
        };
        assert_eq!(lines(&got), lines(&want));
        assert_eq!(report.totals.bodies, want_report.totals.bodies);
        assert_eq!(report.totals.rejected, want_report.totals.rejected);
    }
}

#[test]
fn damaged_capture_files_are_rejections_and_the_run_goes_on() {
    let base = tempfile::tempdir().unwrap();
    let export =
        generate(&base.path().join("c"), Layout::Capture, true, 3_000_000, 3);
    let set = load_set(&base.path().join("c/indicators.csv"));
    let whole = std::fs::read(only_file(&export)).unwrap();
    let (all, _, _) =
        replay(&set, &[only_file(&export)], ReplayOptions::default());
    let dir = base.path().join("cases");
    std::fs::create_dir(&dir).unwrap();
    // a: cut short; b: a sync marker spoilt halfway; c: a codec replay
    // does not read; d: not Avro past the magic; e: whole.
    std::fs::write(dir.join("a-cut.avro"), &whole[..whole.len() * 6 / 10])
        .unwrap();
    let mut spoilt = whole.clone();
    let sync = whole[whole.len() - 16..].to_vec();
    let marks: Vec<usize> = (0..whole.len() - 16)
        .filter(|&i| whole[i..i + 16] == sync[..])
        .collect();
    let mid = marks[marks.len() / 2];
    spoilt[mid] ^= 0xff;
    std::fs::write(dir.join("b-sync.avro"), &spoilt).unwrap();
    let codec = whole.windows(7).position(|w| w == b"deflate").unwrap();
    let mut other = whole.clone();
    other[codec..codec + 7].copy_from_slice(b"snappyX");
    std::fs::write(dir.join("c-codec.avro"), &other).unwrap();
    std::fs::write(dir.join("d-junk.avro"), b"Obj\x01\xff\xff\xff").unwrap();
    std::fs::write(dir.join("e-whole.avro"), &whole).unwrap();
    let (hits, report, sink) =
        replay(&set, std::slice::from_ref(&dir), ReplayOptions::default());
    let damaged: Vec<&str> = sink
        .rejected
        .iter()
        .filter(|r| r.reason == RejectReason::DamagedAvro)
        .map(|r| r.source.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        damaged,
        ["a-cut.avro", "b-sync.avro", "c-codec.avro", "d-junk.avro"]
    );
    let from =
        |f: &str| hits.iter().filter(|h| h.source().ends_with(f)).count();
    assert!(
        from("a-cut.avro") > 0 && from("a-cut.avro") < all.len(),
        "read up to the cut: {} of {}",
        from("a-cut.avro"),
        all.len()
    );
    assert!(from("b-sync.avro") < all.len());
    assert_eq!(from("c-codec.avro"), 0);
    assert_eq!(report.totals.files, 5);
    // Copies of records already read are re-deliveries: with the whole
    // file read last, every hitting record is found, once.
    let sorted = |h: &[Hit]| {
        let mut w = what(h);
        w.sort();
        w
    };
    assert_eq!(sorted(&hits), sorted(&all));
}

/// The streamed records of a JSON Lines export, as export rows: the
/// properties, the table in `Type`, the time under `time_column`.
fn rows(jsonl: &Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(jsonl).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(Value::Object(rec)) = serde_json::from_str::<Value>(line)
        else {
            continue;
        };
        let Some(Value::Object(props)) = rec.get("properties") else {
            continue;
        };
        let table = rec["category"]
            .as_str()
            .unwrap()
            .trim_start_matches("AdvancedHunting-");
        let mut row = props.clone();
        row.insert("Type".into(), json!(table));
        out.push(row);
    }
    out
}

fn jsonl_export(dir: &Path) -> (PathBuf, PathBuf) {
    let export = generate(dir, Layout::Jsonl, false, 1_000_000, 11);
    (export.join("events.jsonl"), dir.join("indicators.csv"))
}

/// Writes `rows` as CSV with the time as `TimeGenerated [UTC]` (without
/// its `Z`: the header names the zone).
fn write_csv(rows: &[Map<String, Value>], path: &Path) {
    let mut names: Vec<String> =
        rows.iter().flat_map(|r| r.keys().cloned()).collect();
    names.sort();
    names.dedup();
    names.retain(|n| n != "Timestamp");
    let mut w = csv::Writer::from_path(path).unwrap();
    let mut header = vec!["TimeGenerated [UTC]".to_owned()];
    header.extend(names.iter().cloned());
    w.write_record(&header).unwrap();
    for r in rows {
        let time = r
            .get("Timestamp")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('Z')
            .to_owned();
        let mut rec = vec![time];
        for n in &names {
            rec.push(match r.get(n) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            });
        }
        w.write_record(&rec).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn csv_and_json_exports_give_the_hits_of_their_records() {
    let base = tempfile::tempdir().unwrap();
    let (jsonl, iocs) = jsonl_export(&base.path().join("g"));
    let set = load_set(&iocs);
    let (want, _, _) =
        replay(&set, std::slice::from_ref(&jsonl), ReplayOptions::default());
    assert!(want.len() > 10, "{}", want.len());
    let rows = rows(&jsonl);
    let dir = base.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    write_csv(&rows, &dir.join("results.csv"));
    let array =
        Value::Array(rows.iter().cloned().map(Value::Object).collect());
    std::fs::write(dir.join("rows.json"), array.to_string()).unwrap();
    let hunting = json!({"Schema": [{"Name": "Timestamp", "Type": "DateTime"}], "Results": array});
    std::fs::write(
        dir.join("hunting.json"),
        serde_json::to_string_pretty(&hunting).unwrap(),
    )
    .unwrap();
    let mut names: Vec<String> =
        rows.iter().flat_map(|r| r.keys().cloned()).collect();
    names.sort();
    names.dedup();
    let table_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Array(
                names
                    .iter()
                    .map(|n| r.get(n).cloned().unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    let columns: Vec<Value> =
        names.iter().map(|n| json!({"name": n, "type": "string"})).collect();
    let analytics = json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": table_rows}]});
    std::fs::write(dir.join("analytics.json"), analytics.to_string()).unwrap();
    for name in ["results.csv", "rows.json", "hunting.json", "analytics.json"]
    {
        let (got, report, _) =
            replay(&set, &[dir.join(name)], ReplayOptions::default());
        assert_eq!(what(&got), what(&want), "{name}");
        assert_eq!(report.totals.records, rows.len() as u64, "{name}");
        assert_eq!(
            report.totals.assumed_utc, 0,
            "{name}: every time had a zone"
        );
        // Line N is row N.
        let row_of = |h: &Hit| &rows[h.line() as usize - 1];
        for h in &got {
            assert_eq!(
                row_of(h)["DeviceId"].as_str(),
                Some(&*h.event().device_id),
                "{name}"
            );
        }
    }
}

#[test]
fn an_export_names_its_table_and_zone_or_says_what_it_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let iocs = dir.path().join("iocs.txt");
    std::fs::write(&iocs, "evil.example\n").unwrap();
    let set = load_set(&iocs);
    // The portal's CSV: no table column, times without a zone.
    let csv = dir.path().join("DeviceNetworkEvents-export.csv");
    std::fs::write(
        &csv,
        "\u{feff}Timestamp,DeviceId,DeviceName,ReportId,RemoteUrl\r\n\
         \"1/15/2026, 10:23:45.123 PM\",d1,pc1,17,http://a.evil.example/x\r\n\
         \"Jan 15, 2026 10:24:00 PM\",d2,pc2,18,\"http://b.evil.example/y,z\"\r\n",
    )
    .unwrap();
    let (hits, _, sink) =
        replay(&set, std::slice::from_ref(&csv), ReplayOptions::default());
    assert!(hits.is_empty());
    assert_eq!(sink.rejected.len(), 1);
    assert_eq!(sink.rejected[0].reason, RejectReason::UnreadableExport);
    let opts = ReplayOptions::builder()
        .export_table("devicenetworkevents")
        .build()
        .unwrap();
    let (hits, report, _) = replay(&set, &[csv], opts);
    let seen: Vec<_> = hits
        .iter()
        .map(|h| {
            (
                h.event().timestamp.to_string(),
                format!("{:?}", h.event().report_id),
                h.raises_alert(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "2026-01-15T22:23:45.123Z".to_owned(),
                "Number(17)".to_owned(),
                true
            ),
            ("2026-01-15T22:24:00Z".to_owned(), "Number(18)".to_owned(), true),
        ]
    );
    assert_eq!(&*hits[0].event().table, "DeviceNetworkEvents");
    assert_eq!(report.totals.assumed_utc, 2);
    assert!(matches!(
        ReplayOptions::builder().export_table("DeviceNetwrok").build(),
        Err(iocmatch_replay::OptionsError::UnknownTable { .. })
    ));
}

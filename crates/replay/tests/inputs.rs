//! Inputs as they come: gzip known by its bytes, damaged gzip as a
//! counted rejection, unknown table names refused.

use std::io::Write as _;

use iocmatch_replay::{OptionsError, RejectReason, ReplayOptions};

use crate::common::{load_set, replay};

fn record(id: u32) -> String {
    format!(
        r#"{{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{{"ReportId":{id},"DeviceId":"d{id}","RemoteUrl":"http://x.evil.com/{id}"}}}}"#
    )
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_is_known_by_its_bytes_and_damage_is_a_rejection_not_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let ioc = dir.path().join("iocs.txt");
    std::fs::write(&ioc, "evil.com\n").unwrap();
    let set = load_set(&ioc);
    // Each file its own records: copies of a hitting record would be
    // dropped as re-deliveries.
    let text = |base: u32| -> String {
        (base + 1..=base + 50).map(|i| record(i) + "\n").collect()
    };
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    // a: gzip without the extension; b: truncated gzip; c: not gzip at
    // all but named .gz; d: plain.
    std::fs::write(exports.join("a-PT1H.json"), gzip(&text(0))).unwrap();
    let whole = gzip(&text(100));
    std::fs::write(
        exports.join("b-truncated.json.gz"),
        &whole[..whole.len() / 2],
    )
    .unwrap();
    std::fs::write(exports.join("c-not-gzip.json.gz"), "this is not gzip\n")
        .unwrap();
    std::fs::write(exports.join("d-plain.json"), text(200)).unwrap();
    let (hits, report, sink) =
        replay(&set, &[exports], ReplayOptions::default());
    let damaged: Vec<&str> = sink
        .rejected
        .iter()
        .filter(|r| r.reason == RejectReason::DamagedGzip)
        .map(|r| r.source.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(damaged, ["b-truncated.json.gz", "c-not-gzip.json.gz"]);
    let from =
        |f: &str| hits.iter().filter(|h| h.source().ends_with(f)).count();
    assert_eq!(from("a-PT1H.json"), 50, "gzip by its magic bytes");
    assert_eq!(from("d-plain.json"), 50, "the run went on after the damage");
    let before = from("b-truncated.json.gz");
    assert!(before < 50, "not past the damage: {before}");
    assert_eq!(report.totals.files, 4);
}

#[test]
fn a_table_name_that_is_no_table_is_refused() {
    let e = ReplayOptions::builder()
        .tables(["DeviceNetwrokEvents"])
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, OptionsError::UnknownTable { name } if name == "DeviceNetwrokEvents")
    );
    assert!(
        e.to_string().contains("DeviceNetworkEvents"),
        "it lists the known names"
    );
    let ok = ReplayOptions::builder()
        .tables(["devicenetworkevents", "MiscEvents"])
        .build()
        .unwrap();
    assert_eq!(ok.tables().unwrap(), ["DeviceNetworkEvents", "DeviceEvents"]);
}

/// Contract v2: indicators are enforced on devices, so only `Device*`
/// records with a `DeviceId` alert; hits elsewhere are for hunting.
#[test]
fn only_device_records_raise_alerts_the_rest_are_hunt_only() {
    let dir = tempfile::tempdir().unwrap();
    let ioc = dir.path().join("iocs.txt");
    std::fs::write(&ioc, "evil.com\n").unwrap();
    let set = load_set(&ioc);
    let rec = |table: &str, device: &str, id: u32, col: &str| {
        format!(
            r#"{{"category":"AdvancedHunting-{table}","properties":{{"ReportId":{id},"DeviceId":"{device}","Timestamp":"2026-07-18T10:00:0{id}Z","{col}":"https://x.evil.com/p"}}}}"#
        ) + "\n"
    };
    let export = dir.path().join("PT1H.json");
    let text = [
        rec("EmailUrlInfo", "", 1, "Url"),
        rec("UrlClickEvents", "", 2, "Url"),
        rec("AlertEvidence", "d9", 3, "RemoteUrl"),
        rec("DeviceNetworkEvents", "", 4, "RemoteUrl"),
        rec("DeviceNetworkEvents", "d1", 5, "RemoteUrl"),
    ]
    .concat();
    std::fs::write(&export, text).unwrap();
    let (hits, report, _) = replay(&set, &[export], ReplayOptions::default());
    let seen: Vec<(&str, bool, bool)> = hits
        .iter()
        .map(|h| (&*h.event().table, h.is_hunt_only(), h.raises_alert()))
        .collect();
    assert_eq!(
        seen,
        [
            ("EmailUrlInfo", true, false),
            ("UrlClickEvents", true, false),
            ("AlertEvidence", true, false),
            ("DeviceNetworkEvents", true, false),
            ("DeviceNetworkEvents", false, true),
        ]
    );
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(&*report.alerts[0].device_id, "d1");
    let rendered = serde_json::to_value(
        iocmatch_replay::output::HitRecord::new(&set, &hits[0]),
    )
    .unwrap();
    assert_eq!(rendered["hunt_only"], true);
    let device = serde_json::to_value(
        iocmatch_replay::output::HitRecord::new(&set, &hits[4]),
    )
    .unwrap();
    assert!(device.get("hunt_only").is_none(), "written only when true");
}

//! `iocmatch gate`: warninglists and a replay of the bundled sample
//! decide what is held back.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;

use crate::{iocmatch, stderr, stdout, testdata};

/// (column, value) → devices, over the sample export.
fn prevalence() -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut seen: BTreeMap<(String, String), BTreeSet<String>> =
        BTreeMap::new();
    let mut stack = vec![testdata().join("sample/export")];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(
                std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()),
            );
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let props = &v["properties"];
            let device = props["DeviceId"].as_str().unwrap_or("").to_owned();
            for col in ["SHA1", "InitiatingProcessSHA1", "RemoteIP"] {
                if let Some(x) = props[col].as_str() {
                    let col = if col == "RemoteIP" { "ip" } else { "sha1" };
                    seen.entry((col.into(), x.into()))
                        .or_default()
                        .insert(device.clone());
                }
            }
        }
    }
    seen
}

fn write(dir: &Path, rows: &[(&str, &str, &str)]) -> std::path::PathBuf {
    let mut text = String::from("IndicatorType,IndicatorValue,Action,Title\n");
    for (t, v, a) in rows {
        text.push_str(&format!("{t},{v},{a},gate test\n"));
    }
    let p = dir.join("set.csv");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn benign_values_and_a_noisy_indicator_are_held_back_and_nothing_else() {
    let seen = prevalence();
    let by =
        |col: &'static str| seen.iter().filter(move |((c, _), _)| c == col);
    // The most widespread file: blocking it would stop it on every device.
    let noisy = by("sha1")
        .max_by_key(|(_, d)| d.len())
        .map(|((_, v), _)| v.clone())
        .unwrap();
    // An address seen on a handful of devices, for an Allowed that
    // shadows a Block.
    let ip = by("ip")
        .find(|(_, d)| (2..5).contains(&d.len()))
        .map(|((_, v), _)| v.clone())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("DomainName", "dns.google", "Block"),
        ("IpAddress", "2001:4860:4860::8888", "Block"),
        ("IpAddress", "52.95.110.1", "Block"),
        ("DomainName", "google.com", "Audit"),
        ("FileMd5", "d41d8cd98f00b204e9800998ecf8427e", "Block"),
        ("FileSha1", noisy.as_str(), "Block"),
        ("DomainName", "unlisted-qz7.invalid", "Block"),
        ("IpAddress", ip.as_str(), "Allowed"),
        ("IpAddress", ip.as_str(), "Block"),
    ];
    let set = write(dir.path(), &rows);
    let export = testdata().join("sample/export");
    let passing = dir.path().join("passing.json");
    let o = iocmatch(&[
        OsStr::new("gate"),
        OsStr::new("-i"),
        set.as_os_str(),
        OsStr::new("--replay"),
        export.as_os_str(),
        OsStr::new("--json"),
        OsStr::new("-o"),
        passing.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = |v: &str, a: &str| {
        let all = doc["indicators"].as_array().unwrap();
        all.iter()
            .find(|i| i["value"] == v && i["action"] == a)
            .unwrap_or_else(|| panic!("{v}"))
            .clone()
    };
    let held: Vec<&str> = doc["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["verdict"] == "block")
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        held,
        [
            "dns.google",
            "2001:4860:4860::8888",
            "52.95.110.1",
            "google.com",
            "d41d8cd98f00b204e9800998ecf8427e",
            noisy.as_str()
        ]
    );
    assert_eq!(verdict(&noisy, "Block")["reasons"][0]["code"], "devices");
    assert!(
        verdict("52.95.110.1", "Block")["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Amazon AWS")
    );
    assert_eq!(verdict("unlisted-qz7.invalid", "Block")["verdict"], "pass");
    assert_eq!(verdict(&ip, "Allowed")["verdict"], "warn");
    assert_eq!(verdict(&ip, "Allowed")["reasons"][0]["code"], "shadows_block");
    assert_eq!(
        verdict(&ip, "Block")["reasons"][0]["code"],
        "shadowed_by_allow"
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"pass": 1, "warn": 2, "block": 6})
    );
    for i in doc["indicators"].as_array().unwrap() {
        for k in ["type", "value", "action", "verdict", "reasons"] {
            assert!(i.get(k).is_some(), "{k} in {i}");
        }
    }
    // The passing set is what sync publishes.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&passing).unwrap()).unwrap();
    let values: Vec<&str> = written
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["indicatorValue"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["unlisted-qz7.invalid", ip.as_str(), ip.as_str()]);
}

#[test]
fn a_clean_set_passes_with_exit_0_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let set =
        write(dir.path(), &[("DomainName", "unlisted-qz7.invalid", "Block")]);
    let o = iocmatch(&[OsStr::new("gate"), OsStr::new("-i"), set.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 pass, 0 warn, 0 held back"),
        "{}",
        stdout(&o)
    );
    let o = iocmatch(&[
        OsStr::new("gate"),
        OsStr::new("-i"),
        set.as_os_str(),
        OsStr::new("-o"),
        OsStr::new("x.txt"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".csv (Defender CSV) or .json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_and_replay_flag_warninglisted_indicators() {
    let dir = tempfile::tempdir().unwrap();
    let set = write(
        dir.path(),
        &[
            ("DomainName", "google.com", "Block"),
            ("DomainName", "unlisted-qz7.invalid", "Block"),
        ],
    );
    let o = iocmatch(&[
        OsStr::new("check"),
        OsStr::new("--warninglists"),
        set.as_os_str(),
    ]);
    assert!(stdout(&o).contains("on warninglists 1"), "{}", stdout(&o));
    let o = iocmatch(&[
        OsStr::new("check"),
        OsStr::new("--json"),
        OsStr::new("--warninglists"),
        set.as_os_str(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["warninglisted"][0]["value"], "google.com");
    let o = iocmatch(&[
        OsStr::new("check"),
        OsStr::new("--json"),
        set.as_os_str(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc.get("warninglisted").is_none(), "only when asked");
    let lists = dir.path().join("lists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::write(lists.join("mine.json"), r#"{"name":"my list","type":"hostname","matching_attributes":["domain"],"list":["invalid"]}"#).unwrap();
    let o = iocmatch(&[
        OsStr::new("check"),
        OsStr::new("--warninglists-dir"),
        lists.as_os_str(),
        OsStr::new("--no-bundled-warninglists"),
        set.as_os_str(),
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("unlisted-qz7.invalid (Block): my list")
            && !out.contains("google.com"),
        "{out}"
    );

    // Replay flags the hits of listed indicators.
    let seen = prevalence();
    let (_, noisy) = seen.keys().find(|(c, _)| c == "sha1").unwrap();
    let set = write(dir.path(), &[("FileSha1", noisy, "Audit")]);
    std::fs::write(lists.join("mine.json"), format!(r#"{{"name":"benign builds","type":"string","matching_attributes":["sha1"],"list":["{noisy}"]}}"#)).unwrap();
    let export = testdata().join("sample/export");
    let o = iocmatch(&[
        OsStr::new("replay"),
        OsStr::new("-i"),
        set.as_os_str(),
        export.as_os_str(),
        OsStr::new("--warninglists-dir"),
        lists.as_os_str(),
    ]);
    let out = stdout(&o);
    assert!(out.contains("warninglisted indicators that hit: 1 ("), "{out}");
    assert!(out.contains("benign builds"), "{out}");
}

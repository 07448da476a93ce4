//! `iocmatch check`.

use std::ffi::OsStr;

use crate::{indicators, iocmatch, stderr, stdout};

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn clean_file_exits_0_with_a_summary() {
    let f = indicators("defender.csv");
    let o = iocmatch(&[os("check"), f.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("loaded 13 indicators from 1 file"), "{out}");
    assert!(out.contains("merged 1 exact duplicates"), "{out}");
    assert!(out.contains("conflicts 1"), "{out}");
    assert!(out.contains("DomainName evil.com: Block"), "{out}");
}

#[test]
fn rejections_exit_1_and_name_file_and_line() {
    let f = indicators("invalid.csv");
    let o = iocmatch(&[os("check"), f.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("rejected 15:"), "{out}");
    assert!(out.contains("invalid.csv:4: '192.168.1.10': Defender accepts only public addresses"), "{out}");
}

#[test]
fn json_report_has_the_documented_fields() {
    let a = indicators("invalid.csv");
    let b = indicators("defender.csv");
    let o =
        iocmatch(&[os("check"), os("--json"), a.as_os_str(), b.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["loaded"], 14, "{v}");
    assert_eq!(v["by_type"]["FileMd5"], 2);
    assert_eq!(v["by_action"]["BlockAndRemediate"], 1);
    let rejected = v["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 15);
    let r = &rejected[0];
    assert!(r["source"].as_str().unwrap().ends_with("invalid.csv"));
    assert_eq!(r["line"], 2);
    assert_eq!(r["value"], "abc");
    assert!(r["reason"].as_str().unwrap().contains("64 hex digits"));
    // invalid.csv's Audit MD5 meets defender.csv's Allowed one.
    let c = &v["conflicts"][0];
    assert_eq!(c["type"], "FileMd5");
    assert_eq!(c["indicators"][0]["action"], "Audit");
    assert_eq!(c["indicators"][0]["line"], 17);
    assert_eq!(c["indicators"][1]["action"], "Allowed");
    assert_eq!(v["conflicts"][1]["value"], "evil.com");
}

#[test]
fn nothing_readable_exits_2() {
    let o = iocmatch(&[os("check"), os("/nonexistent/iocs.csv")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no indicator file could be read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn strict_refuses_the_whole_set() {
    let f = indicators("invalid.csv");
    let o = iocmatch(&[os("check"), os("--strict"), f.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--strict: 15 indicators rejected"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn export_defender_csv_splits_into_portal_sized_files() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("many.txt");
    let mut text = String::new();
    for i in 0..1203u32 {
        text.push_str(&format!("host{i}.example.com\n"));
    }
    text.push_str("203.0.113.0/24\n");
    std::fs::write(&list, text).unwrap();
    let out = dir.path().join("out.csv");
    let o = iocmatch(&[
        os("check"),
        list.as_os_str(),
        os("--action"),
        os("Block"),
        os("--export"),
        os("defender-csv"),
        os("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("left out 1 offline-only"), "{}", stderr(&o));
    let mut rows = 0;
    for n in 1..=3 {
        let p = dir.path().join(format!("out-{n:03}.csv"));
        let body = std::fs::read_to_string(&p).unwrap();
        let lines = body.lines().count() - 1;
        assert!(lines <= 500, "{} has {lines} rows", p.display());
        assert!(body.starts_with(
            "IndicatorType,IndicatorValue,ExpirationTime,Action,"
        ));
        rows += lines;
    }
    assert_eq!(rows, 1203);
    // The export loads back to the same set.
    let back = dir.path().join("out-001.csv");
    let o = iocmatch(&[os("check"), os("--json"), back.as_os_str()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loaded"], 500);
    assert_eq!(v["by_action"]["Block"], 500);
}

#[test]
fn export_defender_json_writes_full_ipv6() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set.json");
    let f = indicators("defender.csv");
    let o = iocmatch(&[
        os("check"),
        f.as_os_str(),
        os("--export"),
        os("defender-json"),
        os("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let values: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["indicatorValue"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"2001:4860:4860:0:0:0:0:8888"), "{values:?}");
    assert!(!values.contains(&"203.0.113.0/24"), "CIDR is offline-only");
    let o = iocmatch(&[os("check"), out.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "round trip: {}", stdout(&o));
}

#[test]
fn bad_flags_are_clear_errors() {
    let f = indicators("defanged.txt");
    let o =
        iocmatch(&[os("check"), os("--action"), os("Nuke"), f.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("invalid value 'Nuke' for '--action"), "{err}");
    assert!(err.contains("possible values: Audit, Warn, Block"), "{err}");
    let o =
        iocmatch(&[os("check"), os("--ioc-format"), os("xml"), f.as_os_str()]);
    assert!(stderr(&o).contains("unknown format 'xml'"), "{}", stderr(&o));
}

#[test]
fn certificates_from_feeds_need_their_own_action() {
    let f = indicators("misp-event.json");
    let o = iocmatch(&[os("check"), f.as_os_str()]);
    assert!(
        stdout(&o).contains(
            "hint: lists, MISP and STIX carry no action; --cert-action"
        ),
        "{}",
        stdout(&o)
    );
    let o = iocmatch(&[
        os("check"),
        os("--json"),
        os("--cert-action"),
        os("BlockAndRemediate"),
        f.as_os_str(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["by_type"]["CertificateThumbprint"], 1);
    assert_eq!(v["by_action"]["BlockAndRemediate"], 1);
    let o = iocmatch(&[
        os("check"),
        os("--cert-action"),
        os("Nope"),
        f.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// The portal saves CSV with CRLF line ends; a rejection must name the
/// line an editor shows, in a file large enough to be read in parallel.
#[test]
fn crlf_files_name_the_lines_an_editor_shows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.csv");
    let mut csv =
        String::from("IndicatorType,IndicatorValue,Action,Title\r\n");
    for i in 0..20_000 {
        if i == 12_345 {
            csv.push_str("IpAddress,10.0.0.1,Audit,private\r\n");
        } else {
            csv.push_str(&format!("DomainName,d{i}.example.com,Audit,t\r\n"));
        }
    }
    std::fs::write(&path, csv).unwrap();
    let o = iocmatch(&[os("check"), os("--json"), path.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loaded"], 19_999);
    // Header on line 1, row i on line i + 2.
    assert_eq!(v["rejected"][0]["line"], 12_345 + 2, "{v}");
}

#[test]
fn indicators_from_standard_input_and_an_empty_set_is_not_a_success() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let run = |input: &str, args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run("evil[.]com\n1.2.3.4 # scanner\n", &["check", "--json", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loaded"], 2);
    assert_eq!(v["files"][0]["file"], "-");
    assert_eq!(v["files"][0]["format"], "txt");
    let o = run("# nothing here\n", &["check", "-"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no indicators loaded"), "{}", stderr(&o));
    let o = run("evil.com\n", &["check", "/dev/stdin"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a pipe read once, whole: {}",
        stderr(&o)
    );
}

#[test]
fn attributes_pulled_from_a_misp_server_load_page_by_page() {
    use defender_emulator::misp::FakeMisp;
    let attr = |v: &str, t: &str, ids: bool| {
        serde_json::json!({"type": t, "value": v, "to_ids": ids, "category": "Network activity",
            "uuid": format!("u-{v}"), "Event": {"id": "7", "info": "Campaign X", "threat_level_id": "1"}})
    };
    let misp = FakeMisp::start(
        "misp-key-123",
        vec![
            attr("evil-misp.example.com", "domain", true),
            attr("45.33.32.156", "ip-dst", true),
            attr("http://evil-misp.example.com/a", "url", true),
            attr("benign.example.com", "domain", false),
            attr("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256", true),
        ],
    )
    .unwrap();
    let run = |key: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_iocmatch"))
            .args([
                "check",
                "--json",
                "--misp-url",
                &misp.url(),
                "--misp-page-size",
                "2",
                "--misp-last",
                "7d",
            ])
            .args(extra)
            .env("MISP_KEY", key)
            .output()
            .unwrap()
    };
    let o = run("misp-key-123", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loaded"], 4, "to_ids only");
    assert_eq!(
        v["files"].as_array().unwrap().len(),
        2,
        "two pages of 2 (the last short)"
    );
    let reqs = misp.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["to_ids"], 1);
    assert_eq!(reqs[0]["last"], "7d");
    assert_eq!(reqs[1]["page"], 2);
    let o = run("misp-key-123", &["--misp-all"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["loaded"], 5);
    let o = run("wrong-key-456", &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("403") && err.contains("MISP_KEY"), "{err}");
    assert!(!err.contains("wrong-key-456"), "{err}");
}

/// A closed pipe does not change check's status: rejections still exit 1.
#[test]
fn check_keeps_its_status_when_the_reader_goes_away() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    // Enough rejections that the report outgrows a pipe's buffer.
    let mut text: String =
        (0..20_000).map(|i| format!("not a value {i}\n")).collect();
    text.push_str("evil.example.com\n");
    std::fs::write(&big, text).unwrap();
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
            .args([OsStr::new("check"), OsStr::new("--json"), big.as_os_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
}

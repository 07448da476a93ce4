//! `--html`: one self-contained page, loaded in a real headless browser
//! (Debian's chromium, which `.ci/run` installs; elsewhere the browser
//! part runs when chromium is there, and CI sets
//! IOCMATCH_REQUIRE_BROWSER=1 so it cannot be skipped there).

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use crate::{iocmatch, stderr, testdata};

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Loads `page` headless: its DOM after scripts ran, and a screenshot.
fn browse(page: &Path, shot: &Path) -> Option<String> {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("IOCMATCH_REQUIRE_BROWSER").is_none(),
            "IOCMATCH_REQUIRE_BROWSER is set but chromium is not installed"
        );
        eprintln!("no chromium: the page was checked, not rendered");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let common = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", page.display());
    let mut dump = Command::new(bin);
    common(&mut dump);
    let dom = dump.args(["--dump-dom", &url]).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let mut snap = Command::new(bin);
    common(&mut snap);
    let o = snap
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,2400", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        std::fs::metadata(shot).unwrap().len() > 20_000,
        "a screenshot with something on it"
    );
    Some(String::from_utf8_lossy(&dom.stdout).into_owned())
}

#[test]
fn replay_and_gate_write_pages_that_a_browser_renders() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.txt");
    std::fs::write(
        &hostile,
        "<img src=x onerror=alert(1)>\nevil.example.com\n",
    )
    .unwrap();
    let page = dir.path().join("replay.html");
    let o = iocmatch(&[
        OsStr::new("replay"),
        OsStr::new("-q"),
        OsStr::new("-i"),
        testdata().join("sample/indicators.csv").as_os_str(),
        OsStr::new("-i"),
        hostile.as_os_str(),
        testdata().join("sample/export").as_os_str(),
        OsStr::new("--html"),
        page.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "rejected indicators alone do not fail a replay: {}",
        stderr(&o)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for section in [
        "Summary",
        "Alerts and hits",
        "Top devices by alerts",
        "Indicators that hit",
        "Indicators never hit",
        "Rejected lines",
        "Rejected indicators: 1",
    ] {
        assert!(html.contains(section), "{section}");
    }
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "values are escaped"
    );
    assert!(!html.contains("<img src=x"), "never raw");
    assert!(!html.contains("src=\"http"), "self-contained: nothing fetched");
    if let Some(dom) = browse(&page, &dir.path().join("replay.png")) {
        assert!(
            dom.contains("data-charts=\"ready\""),
            "the chart script ran to its end"
        );
        assert_eq!(dom.matches("<canvas").count(), 3);
    }

    let gate = dir.path().join("gate.html");
    let set = dir.path().join("gate.txt");
    std::fs::write(&set, "google.com\nunlisted-qz7.invalid\n").unwrap();
    let o = iocmatch(&[
        OsStr::new("gate"),
        OsStr::new("--action"),
        OsStr::new("Block"),
        OsStr::new("-i"),
        set.as_os_str(),
        OsStr::new("--replay"),
        testdata().join("sample/export").as_os_str(),
        OsStr::new("--html"),
        gate.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = std::fs::read_to_string(&gate).unwrap();
    assert!(
        html.contains("Gate verdicts")
            && html.contains("verdict block")
            && html.contains("Top 10K"),
        "verdicts with reasons"
    );
    if let Some(dom) = browse(&gate, &dir.path().join("gate.png")) {
        assert!(dom.contains("data-charts=\"ready\""));
    }
}

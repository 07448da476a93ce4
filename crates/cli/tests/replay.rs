//! `iocmatch replay`: golden cases and end-to-end behaviour.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use crate::{iocmatch, stderr, stdout, testdata};

fn replay_in(dir: &Path, args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .current_dir(dir)
        .arg("replay")
        .args(args)
        .output()
        .expect("run iocmatch")
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// The report without the fields that depend on the machine.
fn stable_report(text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let t = v["totals"].as_object_mut().unwrap();
    t.remove("elapsed");
    t.remove("mb_per_s");
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

#[test]
fn golden() {
    let bless = std::env::var_os("BLESS").is_some();
    let root = testdata().join("replay");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("records").is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 2, "golden cases missing in {}", root.display());
    for case in cases {
        let out = tempfile::tempdir().unwrap();
        let (hits, alerts, report) =
            (out.path().join("h"), out.path().join("a"), out.path().join("r"));
        let ind = std::fs::read_dir(&case)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .find(|n| n.to_string_lossy().starts_with("indicators."))
            .unwrap();
        let o = replay_in(
            &case,
            &[
                os("-q"),
                os("-i"),
                &ind,
                os("records"),
                os("--threads"),
                os("2"),
                os("--hits"),
                hits.as_os_str(),
                os("--alerts"),
                alerts.as_os_str(),
                os("--report"),
                report.as_os_str(),
            ],
        );
        let got = [
            ("expected-hits.jsonl", std::fs::read_to_string(&hits).unwrap()),
            (
                "expected-alerts.jsonl",
                std::fs::read_to_string(&alerts).unwrap(),
            ),
            (
                "expected-report.json",
                stable_report(&std::fs::read_to_string(&report).unwrap()),
            ),
            ("expected-exit", format!("{}\n", o.status.code().unwrap())),
        ];
        for (name, text) in got {
            let path = case.join(name);
            if bless {
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if want != text {
                let diff: Vec<String> = want
                    .lines()
                    .zip(text.lines())
                    .enumerate()
                    .filter(|(_, (a, b))| a != b)
                    .take(3)
                    .map(|(i, (a, b))| {
                        format!("line {}:\n  want {a}\n  got  {b}", i + 1)
                    })
                    .collect();
                panic!(
                    "{}: output differs ({} vs {} lines)\n{}",
                    path.display(),
                    want.lines().count(),
                    text.lines().count(),
                    diff.join("\n")
                );
            }
        }
    }
}

#[test]
fn summary_on_stdout_and_exit_status() {
    let case = testdata().join("replay/semantics");
    let o = replay_in(&case, &[os("-i"), os("indicators.csv"), os("records")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("replayed 18 records (18 lines, 1 files"),
        "{out}"
    );
    assert!(
        out.contains("re-delivered copies of hitting records skipped: 1"),
        "{out}"
    );
    assert!(out.contains("top indicators:"), "{out}");
    assert!(out.contains("indicators never hit: 0 of 11"), "{out}");

    let case = testdata().join("replay/envelopes");
    let o = replay_in(&case, &[os("-i"), os("indicators.txt"), os("records")]);
    assert_eq!(o.status.code(), Some(1), "rejected lines: exit 1");
    assert!(stdout(&o).contains("rejected lines: 5"), "{}", stdout(&o));
}

#[test]
fn csv_output_and_stdin() {
    let case = testdata().join("replay/semantics");
    let data = std::fs::read(case.join("records/PT1H.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .current_dir(&case)
        .args([
            "replay",
            "-q",
            "-i",
            "indicators.csv",
            "-",
            "--hits",
            "-",
            "--format",
            "csv",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &data)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let header = rdr.headers().unwrap().clone();
    assert_eq!(&header[0], "source");
    assert_eq!(&header[9], "observed");
    let rows: Vec<csv::StringRecord> =
        rdr.records().map(Result::unwrap).collect();
    let json_hits =
        std::fs::read_to_string(case.join("expected-hits.jsonl")).unwrap();
    assert_eq!(
        rows.len(),
        json_hits.lines().count(),
        "CSV and JSON carry the same hits"
    );
    assert!(rows.iter().all(|r| &r[0] == "-"), "stdin is named -");
}

#[test]
fn filters_by_time_and_table() {
    let case = testdata().join("replay/semantics");
    let o = replay_in(
        &case,
        &[
            os("-q"),
            os("-i"),
            os("indicators.csv"),
            os("records"),
            os("--report"),
            os("-"),
            os("--from"),
            os("2026-07-18T10:05:00Z"),
            os("--to"),
            os("2026-07-18T12:00:00Z"),
            os("--tables"),
            os("DeviceNetworkEvents,DeviceFileEvents"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = &v["totals"];
    // In the window: records 7, 10, 13 (2019 name, mapped), 14-16, 18.
    assert_eq!(t["records"], 7, "{t}");
    assert_eq!(t["filtered"], 11, "{t}");
    assert_eq!(v["tables"]["DeviceNetworkEvents"], 6);

    // 2019 names, any case, select the same tables.
    let o = replay_in(
        &case,
        &[
            os("-q"),
            os("-i"),
            os("indicators.csv"),
            os("records"),
            os("--report"),
            os("-"),
            os("--tables"),
            os("networkcommunicationevents"),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["totals"]["records"], 12, "{}", v["totals"]);
}

#[test]
fn unreadable_inputs_exit_2() {
    let case = testdata().join("replay/semantics");
    let o = replay_in(
        &case,
        &[os("-i"), os("indicators.csv"), os("no-such-folder")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-folder"), "{}", stderr(&o));
    let o = replay_in(&case, &[os("-i"), os("missing.csv"), os("records")]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn generated_export_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        iocmatch_gen::Layout::Storage,
        true,
        1_000_000,
        9,
        0.02,
        0.05,
    );
    let o = replay_in(
        dir.path(),
        &[
            os("-q"),
            os("-i"),
            os("iocs.csv"),
            os("export"),
            os("--alerts"),
            os("alerts.jsonl"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let alerts =
        std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    assert!(alerts.lines().count() > 5, "{alerts}");
    let first: serde_json::Value =
        serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
    for key in [
        "indicator",
        "device_id",
        "device_name",
        "first_seen",
        "last_seen",
        "records",
        "tables",
        "columns",
        "evidence",
    ] {
        assert!(first.get(key).is_some(), "alert lacks {key}: {first}");
    }
    assert!(
        first["evidence"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("PT1H.json.gz")
    );
}

/// A reader that goes away early changes nothing but the output: the
/// status is the one the run has when read to the end.
#[test]
fn a_closed_pipe_ends_quietly_with_the_runs_own_status() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    // Far more hits than a pipe holds (64 KiB), so the writer meets the
    // closed pipe.
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        iocmatch_gen::Layout::Jsonl,
        false,
        3_000_000,
        5,
        0.3,
        0.0,
    );
    let set = dir.path().join("iocs.csv");
    let bad = crate::indicators("invalid.csv");
    let export = dir.path().join("export");
    let replay_dir = crate::testdata().join("replay");
    for (extra, want) in [(&[][..], 0), (&[replay_dir.as_os_str()][..], 1)] {
        for _ in 0..3 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
                .args([
                    OsStr::new("replay"),
                    OsStr::new("-i"),
                    set.as_os_str(),
                    OsStr::new("-i"),
                    bad.as_os_str(),
                    export.as_os_str(),
                ])
                .args(extra)
                .args(["--hits", "-"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = [0u8; 64];
            child.stdout.take().unwrap().read_exact(&mut first).unwrap();
            // The pipe's read end is dropped here: later writes fail.
            let o = child.wait_with_output().unwrap();
            assert_eq!(
                o.status.code(),
                Some(want),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                !String::from_utf8_lossy(&o.stderr).contains("error"),
                "quietly"
            );
        }
    }
}

/// Severities are coloured on a terminal, and only there: not in a pipe,
/// not with NO_COLOR. `script` (util-linux) gives the run a terminal.
#[test]
fn colour_on_a_terminal_only() {
    let set = crate::testdata().join("sample/indicators.csv");
    let export = crate::testdata().join("sample/export");
    let piped = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args([
            OsStr::new("replay"),
            OsStr::new("-i"),
            set.as_os_str(),
            export.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(
        stdout(&piped).contains("18 High")
            && !stdout(&piped).contains('\u{1b}'),
        "{}",
        stdout(&piped)
    );
    if !Path::new("/usr/bin/script").exists() {
        return eprintln!("no script(1): the terminal case is not run");
    }
    let line = format!(
        "{} replay -i {} {}",
        env!("CARGO_BIN_EXE_iocmatch"),
        set.display(),
        export.display()
    );
    let tty = |no_color: bool| {
        let mut c = Command::new("/usr/bin/script");
        c.args(["-qec", &line, "/dev/null"]).env("TERM", "xterm");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(
        tty(false).contains("\u{1b}[1m\u{1b}[31m18 High")
            || tty(false).contains("\u{1b}[31m"),
        "coloured: {:?}",
        tty(false)
    );
    assert!(!tty(true).contains("\u{1b}[31m"), "NO_COLOR");
}

/// Output files appear whole or not at all: a run that fails leaves
/// none, not even a temporary one; a run that succeeds leaves only them.
#[test]
fn output_files_are_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let set = crate::testdata().join("sample/indicators.csv");
    let hits = dir.path().join("hits.jsonl");
    let report = dir.path().join("report.json");
    let o = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args([
            OsStr::new("replay"),
            OsStr::new("-q"),
            OsStr::new("-i"),
            set.as_os_str(),
        ])
        .arg(crate::testdata().join("sample/export"))
        // The report cannot be written: after the hits were.
        .args([OsStr::new("--hits"), hits.as_os_str(), OsStr::new("--report")])
        .arg(dir.path().join("no-such-folder/report.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args([
            OsStr::new("replay"),
            OsStr::new("-q"),
            OsStr::new("-i"),
            set.as_os_str(),
        ])
        .arg(crate::testdata().join("sample/export"))
        .args([
            OsStr::new("--hits"),
            hits.as_os_str(),
            OsStr::new("--report"),
            report.as_os_str(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["hits.jsonl", "report.json"]);
    assert_eq!(std::fs::read_to_string(&hits).unwrap().lines().count(), 68);
}

/// A generated export (under `dir/export`) and 500 indicators of its
/// world (`dir/iocs.csv`).
#[allow(clippy::too_many_arguments)]
fn generate(
    dir: &Path,
    layout: iocmatch_gen::Layout,
    gzip: bool,
    size: u64,
    seed: u64,
    hit_rate: f64,
    duplicate_rate: f64,
) {
    let opts = iocmatch_gen::Options {
        out: dir.to_path_buf(),
        layout,
        gzip,
        size,
        seed,
        hit_rate,
        duplicate_rate,
        damage_rate: 0.0,
        start: 1_784_332_800_000_000_000,
        hours: 2,
        bad: 10,
    };
    iocmatch_gen::generate(&opts, &mut |_| {}).unwrap();
    let world = iocmatch_gen::World::new(seed, 10);
    let rows = iocmatch_gen::indicators::rows(&world, 500, seed);
    let mut f = std::fs::File::create(dir.join("iocs.csv")).unwrap();
    iocmatch_gen::indicators::write_csv(&rows, &mut f).unwrap();
}

/// Hits as (table, device, report id, column, value, indicator): what
/// must not depend on the form an export came in.
fn hit_keys(path: &Path) -> Vec<String> {
    let mut keys: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {} {} {} {} {}",
                v["table"],
                v["device_id"],
                v["report_id"],
                v["column"],
                v["observed"],
                v["indicator"]["id"]
            )
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn exports_in_every_form_give_the_hits_of_their_records() {
    let inputs = testdata().join("inputs");
    let iocs = inputs.join("indicators.csv");
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let hits = dir.path().join(format!("{name}.hits"));
        let mut args = vec![
            os("replay"),
            os("-i"),
            iocs.as_os_str(),
            os("--hits"),
            hits.as_os_str(),
        ];
        let input = inputs.join(name);
        args.push(input.as_os_str());
        args.extend(extra.iter().map(|s| os(s)));
        (iocmatch(&args), hits)
    };
    let (o, want) = run("events.jsonl", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want = hit_keys(&want);
    assert!(want.len() > 3);
    for name in ["log-analytics.csv", "log-analytics.json"] {
        let (o, got) = run(name, &[]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert_eq!(hit_keys(&got), want, "{name}");
        assert!(
            !stdout(&o).contains("read as UTC"),
            "{name}: its times name their zone"
        );
    }
    // The portal's CSV names no table: said, then given.
    let (o, _) = run("hunting-devicenetworkevents.csv", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("give it with --table"), "{}", stdout(&o));
    let (o, got) = run(
        "hunting-devicenetworkevents.csv",
        &["--table", "DeviceNetworkEvents"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let net: Vec<String> = want
        .iter()
        .filter(|k| k.starts_with("\"DeviceNetworkEvents\""))
        .cloned()
        .collect();
    assert!(!net.is_empty());
    assert_eq!(hit_keys(&got), net);
    assert!(
        stdout(&o).contains(
            "export timestamps named no time zone and were read as UTC"
        ),
        "{}",
        stdout(&o)
    );
    // A capture file reads as the bodies it holds.
    let (o, got) = run("capture.avro", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!hit_keys(&got).is_empty());
}

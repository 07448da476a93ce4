//! `iocmatch sync`: the real binary against the Defender emulator on
//! loopback. No test reaches the internet.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use defender_emulator::{App, Config, Emulator, Fault, Route};
use iocmatch_core::defender::{ApiIndicator, Flag};

use crate::{stderr, stdout};

const ME: &str = "0b5ee4b1-7a1c-4d1f-9a55-1c2d3e4f5a6b";
/// A secret no output may ever contain.
const SECRET: &str = "S3cr3t~Do-Not-Leak_8c1f7f5e2b";

fn emulator() -> Emulator {
    let apps =
        vec![App { client_id: ME.into(), client_secret: SECRET.into() }];
    Emulator::start(Config { apps, ..Config::default() }).unwrap()
}

/// Runs `iocmatch sync …` against `e`, with no terminal on stdin.
fn sync(e: &Emulator, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .arg("sync")
        .args(args)
        .env("AZURE_TENANT_ID", "contoso-test")
        .env("AZURE_CLIENT_ID", ME)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_AUTHORITY_HOST", e.url())
        .env("IOCMATCH_API_URL", e.url())
        .env_remove("IOCMATCH_APPLICATION")
        .stdin(Stdio::null())
        .output()
        .expect("run iocmatch")
}

/// A Defender CSV of `rows` (type, value, action).
fn csv(dir: &Path, name: &str, rows: &[(&str, String, &str)]) -> PathBuf {
    let mut text =
        String::from("IndicatorType,IndicatorValue,Action,Title,Severity\n");
    for (t, v, a) in rows {
        writeln!(text, "{t},{v},{a},t {v},Medium").unwrap();
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn domains(n: usize) -> Vec<(&'static str, String, &'static str)> {
    (0..n)
        .map(|i| ("DomainName", format!("host{i}.example.org"), "Block"))
        .collect()
}

fn apply(e: &Emulator, file: &Path) -> Output {
    sync(e, &["apply", "--yes", "-i", file.to_str().unwrap()])
}

fn foreign(value: &str, app: Option<&str>, by: &str) -> ApiIndicator {
    ApiIndicator {
        indicator_type: Some("DomainName".into()),
        indicator_value: Some(value.into()),
        action: Some("Block".into()),
        title: Some("theirs".into()),
        description: Some("theirs".into()),
        application: app.map(str::to_owned),
        created_by: Some(by.into()),
        generate_alert: Some(Flag::Bool(true)),
        ..ApiIndicator::default()
    }
}

#[test]
fn a_fresh_tenant_then_a_rerun_that_writes_nothing() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(620));
    let o = apply(&e, &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("create 620, update 0, delete 0"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("import batch 1/2: 500 imported"), "{err}");
    assert!(err.contains("import batch 2/2: 120 imported"), "{err}");
    let held = e.indicators();
    assert_eq!(held.len(), 620);
    assert!(held.iter().all(|i| i.application.as_deref() == Some("iocmatch")
        && i.created_by.as_deref() == Some(ME)));
    assert!(
        held.iter()
            .all(|i| i.severity.as_deref() == Some("Medium")
                && i.title.is_some())
    );

    e.clear_log();
    let o = apply(&e, &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to do"), "{}", stderr(&o));
    assert_eq!(e.writes(), 0);
}

#[test]
fn changed_actions_and_metadata_and_foreign_indicators_left_alone() {
    let e = emulator();
    e.seed(vec![
        foreign("theirs.example.org", None, "analyst@contoso.com"),
        // Our tag, someone else's app: not ours either.
        foreign(
            "host3.example.org",
            Some("iocmatch"),
            "11111111-1111-1111-1111-111111111111",
        ),
        foreign("other-tool.example.org", Some("opencti"), ME),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "v1.csv", &domains(10));
    assert_eq!(apply(&e, &f).status.code(), Some(0));
    assert_eq!(
        e.indicators().len(),
        3 + 9,
        "host3 exists and is someone else's"
    );

    // host0: a changed action (a delete and a create); host1: a new
    // title (an update); host9: no longer wanted (a delete).
    let mut text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("t host1.example.org", "renamed");
    text = text.replace(
        "DomainName,host0.example.org,Block",
        "DomainName,host0.example.org,Audit",
    );
    text = text.replace(
        "DomainName,host9.example.org,Block,t host9.example.org,Medium\n",
        "",
    );
    std::fs::write(&f, text).unwrap();
    let plan = sync(&e, &["plan", "--json", "-i", f.to_str().unwrap()]);
    assert_eq!(
        plan.status.code(),
        Some(1),
        "a 2 of 9 delete is a mass delete: {}",
        stdout(&plan)
    );
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(p["create"].as_array().unwrap().len(), 1);
    assert_eq!(p["update"].as_array().unwrap().len(), 1);
    assert_eq!(p["update"][0]["fields"], serde_json::json!(["title"]));
    assert_eq!(p["delete"].as_array().unwrap().len(), 2);
    assert_eq!(p["foreign"], 3);
    assert_eq!(p["foreign_same"].as_array().unwrap().len(), 1);

    let refused = apply(&e, &f);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--allow-mass-delete"),
        "{}",
        stderr(&refused)
    );
    let o = sync(
        &e,
        &["apply", "--yes", "--allow-mass-delete", "-i", f.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let held = e.indicators();
    let find = |v: &str| {
        held.iter()
            .filter(|i| i.indicator_value.as_deref() == Some(v))
            .collect::<Vec<_>>()
    };
    assert_eq!(find("host0.example.org")[0].action.as_deref(), Some("Audit"));
    assert_eq!(find("host0.example.org").len(), 1);
    assert!(find("host9.example.org").is_empty());
    assert_eq!(find("host1.example.org")[0].title.as_deref(), Some("renamed"));
    for v in
        ["theirs.example.org", "host3.example.org", "other-tool.example.org"]
    {
        let f = find(v);
        assert_eq!(f.len(), 1, "{v}");
        assert_eq!(f[0].title.as_deref(), Some("theirs"), "{v} untouched");
    }
}

#[test]
fn the_tenant_limit_counts_foreign_indicators_and_nothing_is_written() {
    let e = emulator();
    e.seed(
        (0..14_990)
            .map(|i| {
                foreign(
                    &format!("f{i}.example.com"),
                    None,
                    "analyst@contoso.com",
                )
            })
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(20));
    e.clear_log();
    let o = apply(&e, &f);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("above Defender's limit of 15000"),
        "{}",
        stderr(&o)
    );
    assert_eq!(e.writes(), 0);
    assert_eq!(e.indicators().len(), 14_990);
}

#[test]
fn each_fault_is_retried_and_the_apply_completes() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(1100));
    e.inject(Route::Token, [Fault::Status(503)]);
    e.inject(
        Route::List,
        [
            Fault::Drop,
            Fault::TooMany(0.2),
            Fault::TooMany(0.2),
            Fault::Status(502),
        ],
    );
    e.inject(
        Route::Import,
        [
            Fault::Status(500),
            Fault::DropAfter,
            Fault::Slow(Duration::from_millis(300)),
            Fault::TooMany(0.1),
        ],
    );
    let o = apply(&e, &f);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(e.indicators().len(), 1100);
    for why in
        ["HTTP 503", "HTTP 429, Retry-After 0.2 s", "HTTP 502", "HTTP 500"]
    {
        assert!(err.contains(why), "{why}: {err}");
    }
    assert!(err.contains("retrying in"), "{err}");
}

#[test]
fn without_a_terminal_apply_needs_yes_and_dry_run_writes_nothing() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(3));
    let o = sync(&e, &["apply", "-i", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("refusing to apply without --yes"),
        "{}",
        stderr(&o)
    );
    let o =
        sync(&e, &["apply", "--yes", "--dry-run", "-i", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("create 3"), "{}", stdout(&o));
    assert_eq!(e.writes(), 0);
    assert!(e.indicators().is_empty());
}

#[test]
fn offline_only_and_refused_forms_are_never_sent() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        "8.8.8.0/24\nevil.example.com/path\n10.0.0.1\nbad.example.net\n",
    )
    .unwrap();
    let o = sync(
        &e,
        &["apply", "--yes", "--action", "Block", "-i", list.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 indicators rejected"),
        "the private address: {}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("not sent 2"), "{}", stdout(&o));
    let held: Vec<_> =
        e.indicators().into_iter().filter_map(|i| i.indicator_value).collect();
    assert_eq!(held, ["bad.example.net"]);
}

#[test]
fn bad_credentials_and_permissions_say_what_to_fix() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(1));
    let o = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args(["sync", "plan", "-i", f.to_str().unwrap()])
        .env("AZURE_TENANT_ID", "t")
        .env("AZURE_CLIENT_ID", ME)
        .env("AZURE_CLIENT_SECRET", "not-the-secret")
        .env("AZURE_AUTHORITY_HOST", e.url())
        .env("IOCMATCH_API_URL", e.url())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid_client")
            && stderr(&o).contains("AZURE_CLIENT_SECRET"),
        "{}",
        stderr(&o)
    );
    e.inject(Route::List, [Fault::Status(403)]);
    let o = sync(&e, &["plan", "-i", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Ti.ReadWrite"), "{}", stderr(&o));
    let o = sync(
        &e,
        &[
            "plan",
            "--api-url",
            "http://api.example.com",
            "-i",
            f.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("plain http is allowed only to this machine"),
        "{}",
        stderr(&o)
    );
}

/// A whole sync, with faults and an auth failure on the way, and every
/// byte it printed or wrote is searched for the secret.
#[test]
fn the_secret_never_reaches_output_or_files() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(40));
    e.inject(Route::Import, [Fault::Status(500), Fault::Drop]);
    let config = dir.path().join("iocmatch.toml");
    std::fs::write(
        &config,
        format!("[defender]\nclient_secret = \"{SECRET}\"\nbogus = 1\n"),
    )
    .unwrap();
    let runs = [
        sync(&e, &["plan", "--json", "-i", f.to_str().unwrap()]),
        apply(&e, &f),
        sync(&e, &["apply", "--yes", "-i", f.to_str().unwrap()]),
        sync(
            &e,
            &[
                "plan",
                "--config",
                config.to_str().unwrap(),
                "-i",
                f.to_str().unwrap(),
            ],
        ),
    ];
    assert_eq!(runs[1].status.code(), Some(0), "{}", stderr(&runs[1]));
    assert_eq!(
        runs[3].status.code(),
        Some(2),
        "a bad config file is an error"
    );
    let needle = SECRET.as_bytes();
    let leaks = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for o in &runs {
        assert!(
            !leaks(&o.stdout) && !leaks(&o.stderr),
            "{}{}",
            stdout(o),
            stderr(o)
        );
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p != config {
            assert!(!leaks(&std::fs::read(&p).unwrap()), "{}", p.display());
        }
    }
    // What the API received: the secret went only to the token endpoint.
    for l in e.log() {
        assert_eq!(
            leaks(l.body.as_bytes()),
            l.path.ends_with("/oauth2/v2.0/token"),
            "{}",
            l.path
        );
    }
}

#[test]
fn a_set_file_publishes_its_alert_definitions() {
    let e = emulator();
    let set = crate::indicators("set/alerts.toml");
    let o = sync(&e, &["apply", "--yes", "-i", set.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let held = e.indicators();
    let emotet: Vec<_> = held
        .iter()
        .filter(|i| i.title.as_deref() == Some("Emotet command and control"))
        .collect();
    assert_eq!(emotet.len(), 5, "{held:?}");
    for i in &emotet {
        assert_eq!(i.severity.as_deref(), Some("High"));
        assert_eq!(
            i.recommended_actions.as_deref(),
            Some(
                "Isolate the device, collect an investigation package, reimage"
            )
        );
        assert_eq!(
            i.mitre_techniques.as_deref(),
            Some(&["T1071.001".to_owned(), "T1105".to_owned()][..])
        );
        assert_eq!(
            i.rbac_group_names.as_deref(),
            Some(&["Workstations".to_owned()][..])
        );
        assert_eq!(i.expiration_time.as_deref(), Some("2027-06-30T00:00:00Z"));
    }
    let again = sync(&e, &["apply", "--yes", "-i", set.to_str().unwrap()]);
    assert!(stderr(&again).contains("nothing to do"), "{}", stderr(&again));
}

#[test]
fn a_partial_apply_exits_1_and_the_same_command_finishes_it() {
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(1100));
    e.inject(
        Route::Import,
        std::iter::once(Fault::Pass)
            .chain(std::iter::repeat_n(Fault::Status(503), 6)),
    );
    let o = apply(&e, &f);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped part-way"), "{}", stderr(&o));
    assert_eq!(e.indicators().len(), 500);
    let o = apply(&e, &f);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("create 600, update 0, delete 0, unchanged 500"),
        "{}",
        stdout(&o)
    );
    assert_eq!(e.indicators().len(), 1100);
}

/// On a terminal, apply shows the plan and asks; only yes applies.
#[test]
fn on_a_terminal_apply_asks_first() {
    if !Path::new("/usr/bin/script").exists() {
        return eprintln!("no script(1): the terminal case is not run");
    }
    let e = emulator();
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "set.csv", &domains(2));
    let run = |answer: &str| {
        let line = format!(
            "{} sync apply -i {}",
            env!("CARGO_BIN_EXE_iocmatch"),
            f.display()
        );
        let mut child = Command::new("/usr/bin/script")
            .args(["-qec", &line, "/dev/null"])
            .env("AZURE_TENANT_ID", "contoso-test")
            .env("AZURE_CLIENT_ID", ME)
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", e.url())
            .env("IOCMATCH_API_URL", e.url())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Answer once the prompt is there (script forwards stdin).
        std::thread::sleep(Duration::from_millis(300));
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let out = run("n\n");
    assert!(out.contains("create 2, update 0, delete 0? [y/N]"), "{out}");
    assert!(out.contains("not applied"), "{out}");
    assert!(e.indicators().is_empty());
    let out = run("y\n");
    assert!(out.contains("import batch 1/1: 2 imported"), "{out}");
    assert_eq!(e.indicators().len(), 2);
}

//! `iocmatch respond`: the real binary on replay's alerts, against the
//! Defender emulator (machines, machine actions, alerts by reference)
//! and a fake Kaspersky Security Center, both on loopback.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use defender_emulator::ksc::{FakeKsc, KscFault};
use defender_emulator::{App, Config, Emulator};
use serde_json::Value;

use crate::{stderr, stdout, testdata};

const ME: &str = "7d4e1b0c-3f2a-4c5d-8e9f-0a1b2c3d4e5f";
const SECRET: &str = "Cl13nt~Secret_never-shown_41c9";
const KSC_USER: &str = "iocmatch-svc";
const KSC_PASSWORD: &str = "K5c~Passw0rd_never-shown_77";

struct World {
    dir: tempfile::TempDir,
    alerts: PathBuf,
    emulator: Emulator,
    ksc: FakeKsc,
}

fn read_alerts(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Alerts from replaying the sample, and a tenant and a KSC that know
/// every device and event in them; `wks-0258` is a domain controller.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let sample = testdata().join("sample");
    let o = Command::new(env!("CARGO_BIN_EXE_iocmatch"))
        .args(["replay", "-q", "-i"])
        .arg(sample.join("indicators.csv"))
        .arg(sample.join("export"))
        .arg("--alerts")
        .arg(&alerts)
        .output()
        .unwrap();
    assert!(o.status.code().unwrap() < 2, "{}", stderr(&o));
    let emulator = Emulator::start(Config {
        apps: vec![App { client_id: ME.into(), client_secret: SECRET.into() }],
        ..Config::default()
    })
    .unwrap();
    let ksc = FakeKsc::start(KSC_USER, KSC_PASSWORD).unwrap();
    let mut devices = BTreeSet::new();
    for a in read_alerts(&alerts) {
        let (id, name) = (
            a["device_id"].as_str().unwrap().to_owned(),
            a["device_name"].as_str().unwrap().to_owned(),
        );
        if devices.insert((id.clone(), name.clone())) {
            let group = if name.starts_with("wks-0258") {
                "Domain Controllers"
            } else {
                "Workstations"
            };
            emulator.add_machine(&id, &name, group);
            ksc.add_host(&format!("ksc-{}", &id[..8]), &name);
        }
        for e in a["evidence"].as_array().unwrap() {
            emulator.add_event(
                &id,
                &e["report_id"].to_string(),
                e["timestamp"].as_str().unwrap(),
            );
        }
    }
    World { dir, alerts, emulator, ksc }
}

const POLICY: &str = r#"
[guardrails]
max_actions = 100
never_touch = ["srv-*"]
never_touch_groups = ["Domain Controllers"]
cooldown = "1h"

[[rule]]
name = "malware files"
types = ["FileSha256", "FileMd5"]
severities = ["High", "Medium"]
defender = ["alert", "isolate:Selective"]
kaspersky = ["quarantineFile"]
category = "Malware"

[[rule]]
name = "c2"
types = ["IpAddress"]
title = "C2*"
defender = ["scan:Quick"]
kaspersky = ["isolateHost", "iocScan"]
category = "CommandAndControl"
"#;

impl World {
    fn policy(&self, text: &str) -> PathBuf {
        let p = self.dir.path().join("policy.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn audit(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn respond(&self, args: &[&str], policy: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_iocmatch"))
            .arg("respond")
            .args(args)
            .arg("--alerts")
            .arg(&self.alerts)
            .arg("--policy")
            .arg(policy)
            .arg("--audit")
            .arg(self.audit())
            .args(["--wait", "20s"])
            .env("AZURE_TENANT_ID", "contoso-test")
            .env("AZURE_CLIENT_ID", ME)
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", self.emulator.url())
            .env("IOCMATCH_API_URL", self.emulator.url())
            .env("KSC_URL", self.ksc.url())
            .env("KSC_USER", KSC_USER)
            .env("KSC_PASSWORD", KSC_PASSWORD)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn entries(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.audit()).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn plan_of(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_str(&stdout(o))
        .unwrap_or_else(|e| panic!("{e}: {}", stdout(o)));
    v["actions"].as_array().unwrap().clone()
}

fn sends<'a>(plan: &'a [Value], response: &str) -> Vec<&'a Value> {
    plan.iter()
        .filter(|a| a["status"] == "send" && a["response"] == response)
        .collect()
}

#[test]
fn a_plan_says_what_will_be_done_and_why_not_the_rest_and_sends_nothing() {
    let w = world();
    let policy =
        w.policy(&POLICY.replace("max_actions = 100", "max_actions = 5"));
    let o = w.respond(&["plan", "--json"], &policy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = plan_of(&o);
    assert_eq!(plan.iter().filter(|a| a["status"] == "send").count(), 5);
    let reasons: Vec<&str> =
        plan.iter().filter_map(|a| a["reason"].as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("never_touch 'srv-*'")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("max_actions")), "{reasons:?}");
    for a in &plan {
        if a["device_name"].as_str().unwrap().starts_with("srv-") {
            assert_ne!(a["status"], "send", "{a}");
        }
    }
    assert!(w.emulator.log().is_empty(), "a plan calls nothing");
    assert!(w.ksc.calls().is_empty());
    assert!(!w.audit().exists(), "a plan writes no audit log");
    // No terminal, no --yes: nothing is sent.
    let o = w.respond(&["apply"], &policy);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    assert!(
        w.emulator.machine_actions().is_empty()
            && w.ksc.incidents().is_empty()
    );
}

#[test]
fn apply_acts_on_both_systems_logs_everything_and_a_rerun_repeats_nothing() {
    let w = world();
    let policy = w.policy(POLICY);
    let plan = plan_of(&w.respond(&["plan", "--json"], &policy));
    // One device has an isolation started elsewhere: not posted again.
    let isolations = sends(&plan, "isolate:Selective");
    assert!(isolations.len() >= 2, "{plan:#?}");
    let busy = isolations[0]["device_id"].as_str().unwrap().to_owned();
    w.emulator.start_action(&busy, "isolate");
    let before = w.emulator.machine_actions().len();

    // The indicator's own recommended action goes into its alert.
    let first = &sends(&plan, "alert")[0];
    let (kind, value) = (
        first["indicator"]["type"].as_str().unwrap(),
        first["indicator"]["value"].as_str().unwrap(),
    );
    let iocs = w.dir.path().join("iocs.csv");
    std::fs::write(&iocs, format!("IndicatorType,IndicatorValue,Action,Title,RecommendedActions\n{kind},{value},Audit,t,Reimage the device\n")).unwrap();
    let o =
        w.respond(&["apply", "--yes", "-i", iocs.to_str().unwrap()], &policy);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let alerts = w.emulator.alerts();
    let of_it = |a: &Value| {
        a["description"]
            .as_str()
            .unwrap()
            .contains(&format!("{kind} {value} "))
    };
    assert!(alerts.iter().any(of_it));
    for a in &alerts {
        assert_eq!(
            a["recommendedAction"] == "Reimage the device",
            of_it(a),
            "{a}"
        );
    }
    assert_eq!(alerts.len(), sends(&plan, "alert").len(), "{}", stderr(&o));
    for a in &alerts {
        assert!(a["title"].as_str().unwrap().starts_with("iocmatch: "), "{a}");
        assert!(
            ["Malware", "CommandAndControl"]
                .contains(&a["category"].as_str().unwrap())
        );
    }
    let posted: Vec<Value> =
        w.emulator.machine_actions().into_iter().skip(before).collect();
    let on_dc = |d: &str| {
        plan.iter().any(|a| {
            a["device_id"] == d
                && a["device_name"].as_str().unwrap().starts_with("wks-0258")
        })
    };
    let expect_isolate = isolations
        .iter()
        .filter(|a| {
            a["device_id"] != busy.as_str()
                && !on_dc(a["device_id"].as_str().unwrap())
        })
        .count();
    assert_eq!(
        posted.iter().filter(|a| a["type"] == "Isolate").count(),
        expect_isolate
    );
    assert!(
        posted.iter().all(|a| a["status"] == "Succeeded"),
        "followed to the end: {posted:#?}"
    );
    assert!(posted.iter().all(|a| a["machineId"] != busy.as_str() || a["type"] != "Isolate"));
    // KSC: one incident per Kaspersky send, each naming its host's task.
    let incidents = w.ksc.incidents();
    let ksc_sends: Vec<&Value> = plan
        .iter()
        .filter(|a| a["status"] == "send" && a["system"] == "kaspersky")
        .collect();
    assert_eq!(incidents.len(), ksc_sends.len());
    for (i, a) in incidents.iter().zip(&ksc_sends) {
        let body: Value =
            serde_json::from_str(i["KLINCDT_BODY"].as_str().unwrap()).unwrap();
        assert_eq!(
            body["targetHost"],
            format!("ksc-{}", &a["device_id"].as_str().unwrap()[..8])
        );
        assert_eq!(body["responseEventIncidentArea"], "iocmatch");
        match a["response"].as_str().unwrap() {
            "isolateHost" => assert_eq!(body["params"]["action"], 1),
            "iocScan" => {
                assert!(
                    body["params"]["ioc"]
                        .as_str()
                        .is_some_and(|z| z.starts_with("UEsDB")),
                    "a base64 ZIP"
                );
                assert_eq!(body["params"]["scanCriticalAreas"], true);
            }
            "quarantineFile" => assert!(
                body["params"]["sha256hash"].as_str().unwrap().len() == 64
                    || body["params"]["md5hash"].as_str().unwrap().len() == 32
            ),
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        w.ksc.updates().len(),
        incidents.len(),
        "each incident is left unhandled"
    );
    // The audit log: planned, then what became of it, for every send;
    // the domain controller refused on the device's group.
    let entries = w.entries();
    let states = |s: &str| entries.iter().filter(|e| e["state"] == s).count();
    let n_send = plan.iter().filter(|a| a["status"] == "send").count();
    assert_eq!(states("planned"), n_send);
    assert_eq!(
        states("done")
            + states("sent")
            + states("failed")
            + entries
                .iter()
                .filter(|e| e["state"] == "refused"
                    && e["detail"].as_str().unwrap().contains("group"))
                .count(),
        n_send
    );
    assert!(
        entries.iter().any(|e| e["detail"]
            .as_str()
            .unwrap_or("")
            .contains("already Pending")),
        "the busy device"
    );
    for text in
        [stdout(&o), stderr(&o), std::fs::read_to_string(w.audit()).unwrap()]
    {
        assert!(
            !text.contains(SECRET) && !text.contains(KSC_PASSWORD),
            "a secret leaked"
        );
    }

    // A second run sends nothing new.
    let (actions, incidents, alerts) = (
        w.emulator.machine_actions().len(),
        w.ksc.incidents().len(),
        w.emulator.alerts().len(),
    );
    let o = w.respond(&["apply", "--yes"], &policy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(w.emulator.machine_actions().len(), actions);
    assert_eq!(w.ksc.incidents().len(), incidents);
    assert_eq!(w.emulator.alerts().len(), alerts);
    assert!(stdout(&o).contains("0 done, 0 sent"), "{}", stdout(&o));
}

#[test]
fn refusals_by_the_systems_are_failures_in_the_log_and_a_rerun_retries_them() {
    let w = world();
    let policy = w.policy(POLICY);
    // Two KSC hosts by one name: neither is acted on.
    let plan = plan_of(&w.respond(&["plan", "--json"], &policy));
    let twice = plan
        .iter()
        .rev()
        .find(|a| a["status"] == "send" && a["system"] == "kaspersky")
        .unwrap();
    let twice_name = twice["device_name"].as_str().unwrap();
    w.ksc.add_host("ksc-duplicate", twice_name);
    w.ksc.inject(
        "HostGroup.AddIncident",
        [KscFault::PxgError(1191, "Invalid incident body".into())],
    );
    w.ksc.inject(
        "HostGroup.FindHosts",
        [KscFault::Pass, KscFault::ExpireSession],
    );
    let o = w.respond(&["apply", "--yes"], &policy);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("KSC error 1191: Invalid incident body"),
        "{}",
        stderr(&o)
    );
    let failed: Vec<Value> =
        w.entries().into_iter().filter(|e| e["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(w.ksc.sessions_started() >= 2, "an expired session is renewed");
    let ambiguous = w
        .entries()
        .into_iter()
        .filter(|e| {
            e["state"] == "refused"
                && e["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("2 KSC hosts are named")
        })
        .count();
    assert!(ambiguous >= 1, "{twice_name}");
    let o = w.respond(&["apply", "--yes"], &policy);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 failed"), "{}", stdout(&o));
    let retried = w
        .entries()
        .into_iter()
        .rfind(|e| e["key"] == failed[0]["key"])
        .unwrap();
    assert_eq!(retried["state"], "sent", "{retried}");
}

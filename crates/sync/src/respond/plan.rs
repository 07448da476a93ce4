//! From alerts and a policy to a plan: each response once per device
//! (and file), in alert order, with the reason for everything that will
//! not be sent. Planning reads nothing from the network; the checks that
//! need the target system (device groups, pending actions) are made
//! when the plan is applied.

use std::collections::HashSet;

use serde::Serialize;

use crate::respond::alerts::AlertLine;
use crate::respond::audit::History;
use crate::respond::policy::{DefenderAction, KscTask, Policy, Rule};

/// A response on one system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// Defender for Endpoint.
    Defender(DefenderAction),
    /// Kaspersky Security Center.
    Kaspersky(KscTask),
}

impl Response {
    /// `defender` or `kaspersky`.
    pub fn system(self) -> &'static str {
        match self {
            Response::Defender(_) => "defender",
            Response::Kaspersky(_) => "kaspersky",
        }
    }

    /// The response's name.
    pub fn name(self) -> &'static str {
        match self {
            Response::Defender(a) => a.name(),
            Response::Kaspersky(t) => t.name(),
        }
    }

    /// Whether it acts on the device (and so counts for the cool-down).
    pub fn touches_device(self) -> bool {
        match self {
            Response::Defender(a) => a.touches_device(),
            Response::Kaspersky(_) => true,
        }
    }

    /// Whether it is about one file (so one per file, not per device).
    fn per_file(self) -> bool {
        matches!(
            self,
            Response::Defender(
                DefenderAction::StopAndQuarantine | DefenderAction::Alert
            ) | Response::Kaspersky(
                KscTask::GetFile
                    | KscTask::DeleteFile
                    | KscTask::QuarantineFile
                    | KscTask::TerminateProcess
                    | KscTask::PreventExecution
            )
        )
    }
}

/// What will become of a planned action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Status {
    /// It will be sent.
    Send,
    /// An earlier run did it (or it is still running there).
    AlreadyDone(String),
    /// A guardrail or a missing input stops it.
    Refused(String),
}

/// One action of the plan.
#[derive(Clone, Debug)]
pub struct Planned {
    /// What identifies it across runs.
    pub key: String,
    /// The response.
    pub response: Response,
    /// The rule that asked for it.
    pub rule: String,
    /// The rule's alert category and recommended action.
    pub category: String,
    /// The recommended action for alerts.
    pub recommended_action: Option<String>,
    /// The alert it answers.
    pub alert: AlertLine,
    /// What will become of it.
    pub status: Status,
}

/// A plan: every action considered, in order.
#[derive(Clone, Debug, Default)]
pub struct ResponsePlan {
    /// The actions.
    pub actions: Vec<Planned>,
}

impl ResponsePlan {
    /// The actions that will be sent.
    pub fn to_send(&self) -> impl Iterator<Item = &Planned> {
        self.actions.iter().filter(|a| a.status == Status::Send)
    }
}

/// Plans the responses `policy` gives `alerts`, given what earlier runs
/// did (`history`) at `now` (Unix seconds).
pub fn plan_responses(
    alerts: &[AlertLine],
    policy: &Policy,
    history: &History,
    now: i64,
) -> ResponsePlan {
    let g = &policy.guardrails;
    let mut seen = HashSet::new();
    let mut out = ResponsePlan::default();
    let mut sending = 0usize;
    for alert in alerts {
        for rule in policy.rules.iter().filter(|r| r.matches(alert)) {
            let responses =
                rule.defender.iter().map(|&a| Response::Defender(a)).chain(
                    rule.kaspersky.iter().map(|&t| Response::Kaspersky(t)),
                );
            for response in responses {
                let key = key_of(response, alert);
                if !seen.insert(key.clone()) {
                    continue;
                }
                let mut status =
                    check(response, alert, rule, policy, history, now, &key);
                if status == Status::Send {
                    if sending >= g.max_actions {
                        status = Status::Refused(format!(
                            "over the run's limit of {} actions (guardrails.max_actions)",
                            g.max_actions
                        ));
                    } else {
                        sending += 1;
                    }
                }
                out.actions.push(Planned {
                    key,
                    response,
                    rule: rule.name.clone(),
                    category: rule.category.clone(),
                    recommended_action: rule.recommended_action.clone(),
                    alert: alert.clone(),
                    status,
                });
            }
        }
    }
    out
}

/// `defender:isolate:Selective:<device>`; file responses add the file.
fn key_of(r: Response, a: &AlertLine) -> String {
    let mut k = format!("{}:{}:{}", r.system(), r.name(), a.device_id);
    if r.per_file() {
        k.push(':');
        k.push_str(&a.indicator.value);
    }
    k
}

fn check(
    r: Response,
    a: &AlertLine,
    _rule: &Rule,
    policy: &Policy,
    history: &History,
    now: i64,
    key: &str,
) -> Status {
    let g = &policy.guardrails;
    if let Some((_, id)) = history.done(key) {
        let id = id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
        return Status::AlreadyDone(format!("done by an earlier run{id}"));
    }
    if let Some(p) = g.protects_name(&a.device_name) {
        return Status::Refused(format!(
            "the device name matches never_touch '{}'",
            p.as_str()
        ));
    }
    if let Err(why) = inputs_for(r, a) {
        return Status::Refused(why);
    }
    if r.touches_device()
        && !history.tried(key)
        && let Some(&at) = history.acted.get(&a.device_id)
    {
        let since = now - at;
        let cooldown = g.cooldown.as_secs() as i64;
        if since < cooldown {
            return Status::Refused(format!(
                "cool-down: the device was acted on {} ago (guardrails.cooldown {})",
                human(since),
                human(cooldown)
            ));
        }
    }
    Status::Send
}

/// Whether the alert carries what the response needs.
fn inputs_for(r: Response, a: &AlertLine) -> Result<(), String> {
    let kind = a.indicator.kind.as_str();
    match r {
        Response::Defender(action) => {
            if !is_machine_id(&a.device_id) {
                return Err(format!(
                    "'{}' is not a Defender machine id (40 hex digits)",
                    a.device_id
                ));
            }
            match action {
                DefenderAction::StopAndQuarantine if kind != "FileSha1" => {
                    Err("stop_and_quarantine takes a SHA-1 and the indicator is not one".into())
                }
                DefenderAction::Alert if !a.evidence.iter().any(|e| e.report_id().is_some() && !e.timestamp.is_empty()) => {
                    Err("no evidence with a ReportId and Timestamp to reference".into())
                }
                _ => Ok(()),
            }
        }
        Response::Kaspersky(task) => {
            if a.device_name.is_empty() {
                return Err(
                    "the alert has no DeviceName to find the KSC host by"
                        .into(),
                );
            }
            match task {
                KscTask::PreventExecution if kind != "FileMd5" => {
                    Err("preventExecution takes an MD5".into())
                }
                KscTask::GetFile
                | KscTask::DeleteFile
                | KscTask::QuarantineFile
                | KscTask::TerminateProcess
                    if !matches!(kind, "FileMd5" | "FileSha256") =>
                {
                    Err(format!(
                        "{} takes an MD5 or SHA-256 (KSC has no SHA-1)",
                        task.name()
                    ))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Defender's machine ids are 40 lowercase hex digits.
pub fn is_machine_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn human(secs: i64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::respond::alerts::{AlertIndicator, Evidence};

    fn alert(device: &str, name: &str, kind: &str, value: &str) -> AlertLine {
        AlertLine {
            indicator: AlertIndicator {
                id: 1,
                kind: kind.into(),
                value: value.into(),
                action: "Audit".into(),
                severity: "High".into(),
                title: Some("Ransom X".into()),
            },
            device_id: device.into(),
            device_name: name.into(),
            first_seen: None,
            last_seen: None,
            records: 1,
            tables: vec!["DeviceFileEvents".into()],
            evidence: vec![Evidence {
                report_id: 7.into(),
                timestamp: "2026-07-18T00:00:00.1234567Z".into(),
            }],
        }
    }

    const D1: &str = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
    const D2: &str = "c6a833d8a0da6ad439076368d1681e7930c49fef";

    fn policy(extra: &str) -> Policy {
        Policy::parse(&format!(
            "[guardrails]\nmax_actions = 4\nnever_touch = ['srv-*']\ncooldown = '1h'\n{extra}\n\
             [[rule]]\nname = 'r'\ntitle = 'ransom*'\n\
             defender = ['alert', 'isolate', 'stop_and_quarantine']\nkaspersky = ['quarantineFile']"
        ))
        .unwrap()
    }

    fn statuses(p: &ResponsePlan) -> Vec<(String, Status)> {
        p.actions.iter().map(|a| (a.key.clone(), a.status.clone())).collect()
    }

    #[test]
    fn each_response_once_per_device_with_reasons_for_the_rest() {
        let alerts = [
            alert(D1, "wks-1.corp", "FileSha1", "a".repeat(40).as_str()),
            alert(D1, "wks-1.corp", "FileSha256", "b".repeat(64).as_str()),
            alert(D2, "srv-db.corp", "FileSha1", "c".repeat(40).as_str()),
        ];
        let p = plan_responses(&alerts, &policy(""), &History::default(), 0);
        let s = statuses(&p);
        let send: Vec<&str> = s
            .iter()
            .filter(|(_, st)| *st == Status::Send)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(send.len(), 4, "{s:#?}");
        assert!(
            send.contains(&format!("defender:isolate:Full:{D1}").as_str())
        );
        // Isolation once for the device, though two alerts ask for it.
        assert_eq!(
            s.iter()
                .filter(|(k, _)| k.starts_with("defender:isolate"))
                .count(),
            2
        );
        let refused = |needle: &str| {
            s.iter().filter(|(_, st)| matches!(st, Status::Refused(r) if r.contains(needle))).count()
        };
        assert_eq!(
            refused("takes a SHA-1"),
            1,
            "the SHA-256 alert cannot stop_and_quarantine"
        );
        assert_eq!(refused("KSC has no SHA-1"), 1);
        assert!(refused("never_touch") >= 3, "{s:#?}");
        assert_eq!(refused("max_actions"), 1, "{s:#?}");
    }

    #[test]
    fn earlier_runs_are_not_repeated_and_devices_cool_down() {
        let alerts =
            [alert(D1, "wks-1.corp", "FileSha256", "b".repeat(64).as_str())];
        let mut h = History::default();
        h.last.insert(
            format!("defender:isolate:Full:{D1}"),
            (crate::respond::audit::State::Done, Some("ma-1".into())),
        );
        h.acted.insert(D1.into(), 1000);
        let p = plan_responses(&alerts, &policy(""), &h, 1000 + 600);
        let s = statuses(&p);
        assert_eq!(
            s[0].1,
            Status::Send,
            "an alert is no action on the device: {s:#?}"
        );
        assert_eq!(
            s[1].1,
            Status::AlreadyDone("done by an earlier run (ma-1)".into())
        );
        assert!(
            matches!(&s[3].1, Status::Refused(r) if r.contains("cool-down") && r.contains("10m")),
            "{s:#?}"
        );
        let later = plan_responses(&alerts, &policy(""), &h, 1000 + 3600);
        assert_eq!(statuses(&later)[3].1, Status::Send);
    }
}

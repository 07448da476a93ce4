//! Defender's side of a response, through the same client (token,
//! pacing, retries) as sync: machine actions on `DeviceId` and alerts
//! created by reference to the replayed record.
//!
//! A machine action is posted only when no action of its kind is already
//! pending on the device, and is then polled to a final state (or until
//! the wait runs out; a later run does not post it again either way).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::SyncError;
use crate::http::Client;
use crate::limits::Endpoint;
use crate::respond::alerts::AlertLine;
use crate::respond::policy::{DefenderAction, Isolation, ScanType};

/// A device as Defender knows it (the parts a response checks).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// The machine id (= `DeviceId`).
    pub id: String,
    /// Its DNS name.
    #[serde(default)]
    pub computer_dns_name: Option<String>,
    /// Its device group.
    #[serde(default)]
    pub rbac_group_name: Option<String>,
}

/// A machine action (the parts a response reads).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineAction {
    /// Its id.
    pub id: String,
    /// `Isolate`, `RunAntiVirusScan`, ….
    #[serde(rename = "type")]
    pub kind: String,
    /// `Pending`, `InProgress`, `Succeeded`, `Failed`, `TimeOut`, `Cancelled`.
    pub status: String,
}

impl MachineAction {
    /// Whether it will change no more.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Succeeded" | "Failed" | "TimeOut" | "Cancelled"
        )
    }
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
}

/// What became of a Defender response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done, with the system's id and what it said.
    Done(String, String),
    /// Sent and still running when the wait ran out.
    Running(String, String),
    /// Not sent: a guardrail checked on the device.
    Refused(String),
    /// Defender refused it, or it failed.
    Failed(Option<String>, String),
}

/// `GET /api/machines/{id}`; `None` when Defender has no such device.
///
/// # Errors
///
/// When the API cannot be reached or refuses.
pub fn machine(
    client: &mut Client,
    id: &str,
) -> Result<Option<Machine>, SyncError> {
    let url = client.api(&format!("/api/machines/{id}"));
    match client.send(Endpoint::MachineRead, "GET", &url, None) {
        Ok(a) => parse(Endpoint::MachineRead, &a.body).map(Some),
        Err(SyncError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The actions of `kind` on the device that are not final yet.
///
/// # Errors
///
/// When the API cannot be reached or refuses.
pub fn pending(
    client: &mut Client,
    id: &str,
    kind: &str,
) -> Result<Vec<MachineAction>, SyncError> {
    let filter = format!("machineId eq '{id}' and type eq '{kind}'");
    let url = client
        .api(&format!("/api/machineactions?$filter={}", encode(&filter)));
    let a = client.send(Endpoint::MachineRead, "GET", &url, None)?;
    let page: Page<MachineAction> = parse(Endpoint::MachineRead, &a.body)?;
    Ok(page.value.into_iter().filter(|m| !m.is_final()).collect())
}

/// `GET /api/machineactions/{id}`.
///
/// # Errors
///
/// When the API cannot be reached or refuses.
pub fn action(
    client: &mut Client,
    id: &str,
) -> Result<MachineAction, SyncError> {
    let url = client.api(&format!("/api/machineactions/{id}"));
    let a = client.send(Endpoint::MachineRead, "GET", &url, None)?;
    parse(Endpoint::MachineRead, &a.body)
}

/// The machine-action type and path for a response, with its body.
fn request(
    action: DefenderAction,
    comment: &str,
    a: &AlertLine,
) -> (&'static str, &'static str, Value) {
    let c = comment;
    match action {
        DefenderAction::Isolate(t) => {
            let t = if t == Isolation::Full { "Full" } else { "Selective" };
            ("Isolate", "isolate", json!({"Comment": c, "IsolationType": t}))
        }
        DefenderAction::Unisolate => {
            ("Unisolate", "unisolate", json!({"Comment": c}))
        }
        DefenderAction::StopAndQuarantine => (
            "StopAndQuarantineFile",
            "StopAndQuarantineFile",
            json!({"Comment": c, "Sha1": a.indicator.value}),
        ),
        DefenderAction::Scan(s) => {
            let s = if s == ScanType::Full { "Full" } else { "Quick" };
            (
                "RunAntiVirusScan",
                "runAntiVirusScan",
                json!({"Comment": c, "ScanType": s}),
            )
        }
        DefenderAction::CollectPackage => (
            "CollectInvestigationPackage",
            "collectInvestigationPackage",
            json!({"Comment": c}),
        ),
        DefenderAction::RestrictExecution => (
            "RestrictCodeExecution",
            "restrictCodeExecution",
            json!({"Comment": c}),
        ),
        DefenderAction::Alert => {
            unreachable!("alerts are created, not posted as machine actions")
        }
    }
}

/// How long to follow a machine action, and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct Polling {
    /// Give up following after this long (the action goes on).
    pub wait: Duration,
    /// Between looks, at most: the first look is after a tenth of a
    /// second, and the gap doubles up to this.
    pub every: Duration,
}

/// Carries out a machine action on the alert's device: checks the
/// device and its group, skips it when one of its kind is pending, posts
/// it and follows it.
///
/// # Errors
///
/// When the API cannot be reached (a refusal is an [`Outcome`]).
pub fn machine_action(
    client: &mut Client,
    action: DefenderAction,
    alert: &AlertLine,
    never_touch_groups: &dyn Fn(&str) -> bool,
    comment: &str,
    polling: Polling,
) -> Result<Outcome, SyncError> {
    let Some(m) = machine(client, &alert.device_id)? else {
        return Ok(Outcome::Failed(
            None,
            "Defender has no device with this id".into(),
        ));
    };
    if let Some(g) =
        m.rbac_group_name.as_deref().filter(|g| never_touch_groups(g))
    {
        return Ok(Outcome::Refused(format!(
            "the device is in group '{g}' (guardrails.never_touch_groups)"
        )));
    }
    let (kind, path, body) = request(action, comment, alert);
    if let Some(p) = pending(client, &m.id, kind)?.into_iter().next() {
        return Ok(Outcome::Done(
            p.id,
            format!(
                "an action of this kind is already {} on the device",
                p.status
            ),
        ));
    }
    let url = client.api(&format!("/api/machines/{}/{path}", m.id));
    let body = serde_json::to_vec(&body)
        .map_err(|e| SyncError::Config(e.to_string()))?;
    let posted = match client.send(
        Endpoint::MachineAction,
        "POST",
        &url,
        Some(&body),
    ) {
        Ok(a) => parse::<MachineAction>(Endpoint::MachineAction, &a.body)?,
        Err(SyncError::Api { status: 400, message, .. })
            if message
                .to_ascii_lowercase()
                .contains("already in progress") =>
        {
            return Ok(Outcome::Done(
                String::new(),
                "Defender says it is already in progress".into(),
            ));
        }
        Err(SyncError::Api { status, message, .. }) => {
            return Ok(Outcome::Failed(
                None,
                format!("HTTP {status}: {message}"),
            ));
        }
        Err(e) => return Err(e),
    };
    follow(client, posted, polling)
}

fn follow(
    client: &mut Client,
    mut a: MachineAction,
    polling: Polling,
) -> Result<Outcome, SyncError> {
    let deadline = Instant::now() + polling.wait;
    let mut gap = Duration::from_millis(100).min(polling.every);
    while !a.is_final() {
        if Instant::now() >= deadline {
            return Ok(Outcome::Running(
                a.id,
                format!("still {} after {:?}", a.status, polling.wait),
            ));
        }
        std::thread::sleep(
            gap.min(deadline.saturating_duration_since(Instant::now())),
        );
        gap = (gap * 2).min(polling.every);
        a = action(client, &a.id)?;
    }
    Ok(match a.status.as_str() {
        "Succeeded" => Outcome::Done(a.id, "Succeeded".into()),
        other => {
            Outcome::Failed(Some(a.id), format!("the action ended {other}"))
        }
    })
}

/// The alert title for an indicator: one per indicator, so that repeat
/// hits on a device fold into one open alert (Defender merges alerts of
/// one title on one device).
pub fn alert_title(a: &AlertLine) -> String {
    match &a.indicator.title {
        Some(t) if !t.is_empty() => format!("iocmatch: {t}"),
        _ => format!("iocmatch: {} {}", a.indicator.kind, a.indicator.value),
    }
}

/// `CreateAlertByReference` for the alert's first referenceable record.
///
/// # Errors
///
/// When the API cannot be reached (a refusal is an [`Outcome`]).
pub fn create_alert(
    client: &mut Client,
    alert: &AlertLine,
    category: &str,
    recommended: Option<&str>,
) -> Result<Outcome, SyncError> {
    let Some(e) = alert
        .evidence
        .iter()
        .find(|e| e.report_id().is_some() && !e.timestamp.is_empty())
    else {
        return Ok(Outcome::Refused(
            "no evidence with a ReportId and Timestamp".into(),
        ));
    };
    let i = &alert.indicator;
    let severity = match i.severity.as_str() {
        "High" => "High",
        "Medium" => "Medium",
        _ => "Low",
    };
    let body = json!({
        "machineId": alert.device_id,
        "severity": severity,
        "title": alert_title(alert),
        "description": format!(
            "Found by replaying exported history: {} {} ({}) in {} record(s) on {} from {} to {}.",
            i.kind, i.value, i.action, alert.records, alert.device_name,
            alert.first_seen.as_deref().unwrap_or("?"), alert.last_seen.as_deref().unwrap_or("?")
        ),
        "recommendedAction": recommended.map_or_else(
            || format!("Investigate {} for {} {}.", alert.device_name, i.kind, i.value),
            str::to_owned,
        ),
        // Verbatim: Defender finds the event by the exact time.
        "eventTime": e.timestamp,
        "reportId": e.report_id(),
        "category": category,
    });
    let url = client.api("/api/alerts/CreateAlertByReference");
    let body = serde_json::to_vec(&body)
        .map_err(|e| SyncError::Config(e.to_string()))?;
    match client.send(Endpoint::CreateAlert, "POST", &url, Some(&body)) {
        Ok(a) => {
            let v: Value = parse(Endpoint::CreateAlert, &a.body)?;
            let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            Ok(Outcome::Done(id, "alert created".into()))
        }
        Err(SyncError::Api { status: 404, .. }) => Ok(Outcome::Failed(
            None,
            "Defender has no such event (machine, ReportId, Timestamp): events older than advanced hunting's \
             30 days may no longer be referenced"
                .into(),
        )),
        Err(SyncError::Api { status, message, .. }) => Ok(Outcome::Failed(None, format!("HTTP {status}: {message}"))),
        Err(e) => Err(e),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    endpoint: Endpoint,
    body: &str,
) -> Result<T, SyncError> {
    serde_json::from_str(body).map_err(|e| SyncError::BadResponse {
        endpoint: endpoint.describe(),
        message: e.to_string(),
    })
}

/// Percent-encodes an OData filter for a query string.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

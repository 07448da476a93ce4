//! The emulator's devices, machine actions and alerts created by
//! reference, with Defender's rules: a machine action of a kind already
//! pending on the device is refused with 400 "Action is already in
//! progress"; actions go Pending → InProgress → a final state as they
//! are polled; `CreateAlertByReference` finds the event by machine,
//! `reportId` and the exact `eventTime`, or answers 404.

use std::collections::HashSet;

use serde_json::{Value, json};

/// A device the tenant has.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Its id (`DeviceId`).
    pub id: String,
    /// Its DNS name.
    pub name: String,
    /// Its device group.
    pub group: String,
}

/// A machine action as the emulator keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Action {
    pub id: String,
    pub machine: String,
    pub kind: String,
    pub status: String,
    pub body: Value,
    /// Looks before it is final.
    pub polls_left: u32,
    pub fails: bool,
}

impl Action {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "type": self.kind, "status": self.status, "machineId": self.machine,
            "requestorComment": self.body.get("Comment").cloned().unwrap_or(Value::Null),
            "scope": self.body.get("IsolationType").or_else(|| self.body.get("ScanType")).cloned().unwrap_or(Value::Null),
        })
    }

    /// One look: the action moves on.
    pub fn advance(&mut self) {
        if matches!(self.status.as_str(), "Pending" | "InProgress") {
            if self.polls_left == 0 {
                self.status =
                    if self.fails { "Failed" } else { "Succeeded" }.into();
            } else {
                self.polls_left -= 1;
                self.status = "InProgress".into();
            }
        }
    }
}

/// Devices, actions, events and alerts.
#[derive(Default)]
pub(crate) struct Machines {
    pub machines: Vec<Machine>,
    pub actions: Vec<Action>,
    /// (machine, reportId, eventTime) of events alerts may reference.
    pub events: HashSet<(String, String, String)>,
    pub alerts: Vec<Value>,
    /// Devices whose actions end `Failed`.
    pub failing: HashSet<String>,
    /// Looks an action takes to finish.
    pub polls: u32,
}

/// The path suffixes and the action types they start.
const ACTIONS: [(&str, &str); 7] = [
    ("isolate", "Isolate"),
    ("unisolate", "Unisolate"),
    ("StopAndQuarantineFile", "StopAndQuarantineFile"),
    ("runAntiVirusScan", "RunAntiVirusScan"),
    ("collectInvestigationPackage", "CollectInvestigationPackage"),
    ("restrictCodeExecution", "RestrictCodeExecution"),
    ("unrestrictCodeExecution", "UnrestrictCodeExecution"),
];

/// A reply: status and body.
pub(crate) type Answer = (u16, Value);

fn err(status: u16, code: &str, message: &str) -> Answer {
    (
        status,
        json!({"error": {"code": code, "message": message, "target": "00000000-0000-0000-0000-000000000000"}}),
    )
}

impl Machines {
    fn machine(&self, id: &str) -> Option<&Machine> {
        self.machines.iter().find(|m| {
            m.id.eq_ignore_ascii_case(id) || m.name.eq_ignore_ascii_case(id)
        })
    }

    pub fn get_machine(&self, id: &str) -> Answer {
        match self.machine(id) {
            Some(m) => (
                200,
                json!({"id": m.id, "computerDnsName": m.name, "rbacGroupName": m.group, "healthStatus": "Active"}),
            ),
            None => err(
                404,
                "ResourceNotFound",
                &format!("Machine {id} was not found"),
            ),
        }
    }

    pub fn post_action(
        &mut self,
        id: &str,
        suffix: &str,
        body: &str,
    ) -> Answer {
        let Some((_, kind)) = ACTIONS.iter().find(|(s, _)| *s == suffix)
        else {
            return err(
                404,
                "NotFound",
                &format!("no machine action {suffix}"),
            );
        };
        let Some(m) = self.machine(id).cloned() else {
            return err(
                404,
                "ResourceNotFound",
                &format!("Machine {id} was not found"),
            );
        };
        let Ok(body) = serde_json::from_str::<Value>(body) else {
            return err(400, "InvalidRequestBody", "the body is not JSON");
        };
        if body
            .get("Comment")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return err(400, "InvalidRequestBody", "Comment is required");
        }
        if *kind == "StopAndQuarantineFile"
            && !body.get("Sha1").and_then(Value::as_str).is_some_and(|s| {
                s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
            })
        {
            return err(
                400,
                "InvalidRequestBody",
                "Sha1 must be 40 hex digits",
            );
        }
        let busy = self.actions.iter().any(|a| {
            a.machine == m.id
                && a.kind == *kind
                && matches!(a.status.as_str(), "Pending" | "InProgress")
        });
        if busy {
            return err(
                400,
                "ActiveRequestAlreadyExists",
                "Action is already in progress",
            );
        }
        let action = Action {
            id: format!(
                "{:08x}-0000-4000-8000-{:012x}",
                self.actions.len() + 1,
                self.actions.len() + 1
            ),
            machine: m.id.clone(),
            kind: (*kind).to_owned(),
            status: "Pending".into(),
            body,
            polls_left: self.polls,
            fails: self.failing.contains(&m.id),
        };
        let answer = (201, action.json());
        self.actions.push(action);
        answer
    }

    /// `GET /api/machineactions?$filter=machineId eq '…' and type eq '…'`.
    pub fn list_actions(&self, filter: &str) -> Answer {
        let quoted = |field: &str| {
            let at = filter.find(&format!("{field} eq '"))? + field.len() + 5;
            let end = filter[at..].find('\'')?;
            Some(filter[at..at + end].to_owned())
        };
        let (machine, kind) = (quoted("machineId"), quoted("type"));
        let value: Vec<Value> = self
            .actions
            .iter()
            .filter(|a| {
                machine
                    .as_ref()
                    .is_none_or(|m| a.machine.eq_ignore_ascii_case(m))
            })
            .filter(|a| kind.as_ref().is_none_or(|k| &a.kind == k))
            .map(Action::json)
            .collect();
        (200, json!({"value": value}))
    }

    pub fn get_action(&mut self, id: &str) -> Answer {
        match self.actions.iter_mut().find(|a| a.id == id) {
            Some(a) => {
                a.advance();
                (200, a.json())
            }
            None => err(
                404,
                "ResourceNotFound",
                &format!("machine action {id} was not found"),
            ),
        }
    }

    pub fn create_alert(&mut self, body: &str) -> Answer {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            return err(400, "InvalidRequestBody", "the body is not JSON");
        };
        let field = |k: &str| {
            v.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
        };
        for k in [
            "eventTime",
            "reportId",
            "machineId",
            "severity",
            "title",
            "description",
            "recommendedAction",
            "category",
        ] {
            if field(k).is_empty() {
                return err(
                    400,
                    "InvalidRequestBody",
                    &format!("{k} is required (a string)"),
                );
            }
        }
        if !["Low", "Medium", "High"].contains(&field("severity").as_str()) {
            return err(
                400,
                "InvalidRequestBody",
                "severity must be Low, Medium or High",
            );
        }
        let event =
            (field("machineId"), field("reportId"), field("eventTime"));
        if !self.events.contains(&event) {
            return err(
                404,
                "NotFound",
                "No event was found for the given machine, report id and event time",
            );
        }
        // An open alert of the same title on the device absorbs it.
        if let Some(a) = self.alerts.iter().find(|a| {
            a["machineId"] == v["machineId"] && a["title"] == v["title"]
        }) {
            return (200, a.clone());
        }
        let mut alert = v.clone();
        alert["id"] = json!(format!("da{:018}", self.alerts.len() + 1));
        alert["status"] = json!("New");
        self.alerts.push(alert.clone());
        (200, alert)
    }
}

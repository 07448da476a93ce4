//! The audit log: one JSON line per action planned, refused, sent, done
//! or failed, appended and flushed as it happens. It is also the memory
//! of earlier runs: an action already done (or still running) is not
//! repeated, and a device acted on within the cool-down is left alone.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SyncError;

/// What became of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// In a plan (written by `apply` before it acts).
    Planned,
    /// Not sent: a guardrail, or nothing to act with.
    Refused,
    /// Sent; the target system took it (a task or action id is known).
    Sent,
    /// Done: succeeded, or an identical action was already pending.
    Done,
    /// The target system refused it or it failed.
    Failed,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The run that wrote it.
    pub run: String,
    /// What identifies the action across runs (system, response,
    /// device, indicator).
    pub key: String,
    /// `defender` or `kaspersky`.
    pub system: String,
    /// The response (`isolate:Selective`, `quarantineFile`, …).
    pub response: String,
    /// The rule that asked for it.
    pub rule: String,
    /// `DeviceId`.
    pub device_id: String,
    /// `DeviceName`.
    pub device_name: String,
    /// The indicator value.
    pub indicator: String,
    /// What became of it.
    pub state: State,
    /// Why, or what the system said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The system's id for it (machine action, alert, KSC incident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
}

/// What earlier runs did, by key and by device.
#[derive(Debug, Default)]
pub struct History {
    /// The last state of each key.
    pub last: HashMap<String, (State, Option<String>)>,
    /// The last time each device was acted on (sent or done), as Unix
    /// seconds.
    pub acted: HashMap<String, i64>,
}

impl History {
    /// Whether an earlier run already tried this action (a retry is no
    /// new action on the device: the cool-down does not hold it back).
    pub fn tried(&self, key: &str) -> bool {
        self.last.get(key).is_some_and(|(s, _)| *s != State::Refused)
    }
}

fn fail(path: &Path, e: &dyn std::fmt::Display) -> SyncError {
    SyncError::Config(format!("audit log {}: {e}", path.display()))
}

impl History {
    /// What the log at `path` records (nothing when there is no log):
    /// reading it writes nothing, for plans.
    ///
    /// # Errors
    ///
    /// When it cannot be read, or a line is no entry (a log edited by
    /// hand would otherwise forget what was done).
    pub fn read(path: &Path) -> Result<History, SyncError> {
        let mut history = History::default();
        if !path.exists() {
            return Ok(history);
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(path, &e))?;
        for (i, line) in
            text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty())
        {
            let e: Entry = serde_json::from_str(line)
                .map_err(|e| fail(path, &format!("line {}: {e}", i + 1)))?;
            if matches!(e.state, State::Sent | State::Done)
                && let Ok(t) = e.time.parse::<jiff::Timestamp>()
            {
                let at = history.acted.entry(e.device_id.clone()).or_default();
                *at = (*at).max(t.as_second());
            }
            history.last.insert(e.key.clone(), (e.state, e.remote_id.clone()));
        }
        Ok(history)
    }

    /// Whether the action is done or running already.
    pub fn done(&self, key: &str) -> Option<&(State, Option<String>)> {
        self.last
            .get(key)
            .filter(|(s, _)| matches!(s, State::Done | State::Sent))
    }
}

/// An append-only audit log.
pub struct AuditLog {
    path: PathBuf,
    file: File,
    run: String,
}

impl AuditLog {
    /// Opens (creating) the log and reads what earlier runs did.
    ///
    /// # Errors
    ///
    /// When it cannot be opened, or a line is no entry (a log edited by
    /// hand would otherwise forget what was done).
    pub fn open(path: &Path) -> Result<(AuditLog, History), SyncError> {
        let history = History::read(path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| fail(path, &e))?;
        let run =
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        Ok((AuditLog { path: path.to_owned(), file, run }, history))
    }

    /// This run's id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Appends an entry (time and run filled in) and flushes it.
    ///
    /// # Errors
    ///
    /// When it cannot be written: the run must stop, as its actions
    /// would go unrecorded.
    pub fn write(&mut self, mut e: Entry) -> Result<Entry, SyncError> {
        e.time = jiff::Timestamp::now().to_string();
        e.run = self.run.clone();
        let mut line = serde_json::to_string(&e)
            .map_err(|err| SyncError::Config(err.to_string()))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|err| {
                SyncError::Config(format!(
                    "audit log {}: {err}",
                    self.path.display()
                ))
            })?;
        Ok(e)
    }
}

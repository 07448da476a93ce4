//! Replay's alerts (`iocmatch replay --alerts FILE`, JSON Lines: one per
//! indicator and device), read back as what a response needs.

use std::path::Path;

use serde::Deserialize;

use crate::error::SyncError;

/// One alert line; fields as `docs/output.md` specifies them.
#[derive(Clone, Debug, Deserialize)]
pub struct AlertLine {
    /// The indicator.
    pub indicator: AlertIndicator,
    /// `DeviceId`: Defender's machine id.
    pub device_id: String,
    /// `DeviceName`.
    #[serde(default)]
    pub device_name: String,
    /// The first record's time, as written.
    #[serde(default)]
    pub first_seen: Option<String>,
    /// The last record's time.
    #[serde(default)]
    pub last_seen: Option<String>,
    /// Records on the device.
    #[serde(default)]
    pub records: u64,
    /// Tables they came from.
    #[serde(default)]
    pub tables: Vec<String>,
    /// The first records, in input order.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// The indicator of an alert.
#[derive(Clone, Debug, Deserialize)]
pub struct AlertIndicator {
    /// Its place in the set.
    pub id: u64,
    /// `IndicatorType`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value.
    pub value: String,
    /// The action.
    pub action: String,
    /// The severity.
    pub severity: String,
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
}

/// A record an alert rests on.
#[derive(Clone, Debug, Deserialize)]
pub struct Evidence {
    /// `ReportId`: a number or a string.
    #[serde(default)]
    pub report_id: serde_json::Value,
    /// `Timestamp`, verbatim (Defender matches events by it).
    #[serde(default)]
    pub timestamp: String,
}

impl Evidence {
    /// `ReportId` as text (`CreateAlertByReference` wants a string).
    pub fn report_id(&self) -> Option<String> {
        match &self.report_id {
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }
}

/// Reads an alerts file.
///
/// # Errors
///
/// A [`SyncError::Config`] naming the file and line that is no alert.
pub fn read_alerts(path: &Path) -> Result<Vec<AlertLine>, SyncError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SyncError::Config(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty())
    {
        let a: AlertLine = serde_json::from_str(line).map_err(|e| {
            SyncError::Config(format!(
                "{}:{}: not an alert of `iocmatch replay --alerts`: {e}",
                path.display(),
                i + 1
            ))
        })?;
        out.push(a);
    }
    Ok(out)
}

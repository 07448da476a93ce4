//! The response policy (TOML): which alerts get which responses, on
//! which system, and the guardrails no rule can pass.
//!
//! ```toml
//! [guardrails]
//! max_actions = 20                      # per run
//! never_touch = ["srv-*", "*.dc.contoso.com"]
//! never_touch_groups = ["Servers"]      # Defender device groups
//! cooldown = "24h"                      # per device
//!
//! [[rule]]
//! name = "known ransomware"
//! types = ["FileSha1", "FileSha256"]
//! severities = ["High"]
//! title = "Ransom*"
//! defender = ["alert", "isolate:Selective", "stop_and_quarantine"]
//! kaspersky = ["quarantineFile", "isolateHost"]
//! category = "Ransomware"
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::SyncError;
use crate::respond::alerts::AlertLine;

/// A response policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// What no rule may pass.
    pub guardrails: Guardrails,
    /// The rules, in order; every matching rule's responses apply.
    pub rules: Vec<Rule>,
}

/// Limits on what a run may do.
#[derive(Clone, Debug)]
pub struct Guardrails {
    /// Actions per run, at most.
    pub max_actions: usize,
    /// Device names (glob patterns, any case) never acted on.
    pub never_touch: Vec<glob::Pattern>,
    /// Defender device groups never acted on (checked live, on the device).
    pub never_touch_groups: Vec<String>,
    /// No second action on a device within this time of the last one.
    pub cooldown: Duration,
}

/// One rule: a filter on alerts, and what to do.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Its name, for the plan and the audit log.
    pub name: String,
    types: Vec<String>,
    actions: Vec<String>,
    severities: Vec<String>,
    tables: Vec<String>,
    title: Option<glob::Pattern>,
    /// Defender responses.
    pub defender: Vec<DefenderAction>,
    /// Kaspersky EDR tasks.
    pub kaspersky: Vec<KscTask>,
    /// The alert category for `alert` (Defender's list).
    pub category: String,
    /// The recommended action for `alert`.
    pub recommended_action: Option<String>,
}

/// What Defender can do about an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DefenderAction {
    /// `CreateAlertByReference`: the historic hit reaches the SOC queue.
    Alert,
    /// Isolate the device (`Full` or `Selective`).
    Isolate(Isolation),
    /// Release it.
    Unisolate,
    /// Stop and quarantine the file (SHA-1 indicators only).
    StopAndQuarantine,
    /// An antivirus scan.
    Scan(ScanType),
    /// Collect an investigation package.
    CollectPackage,
    /// Restrict app execution.
    RestrictExecution,
}

/// Isolation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isolation {
    /// Everything but Defender's own traffic.
    Full,
    /// Outlook, Teams and Skype still work.
    Selective,
}

/// Scan types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanType {
    /// Quick.
    Quick,
    /// Full.
    Full,
}

impl DefenderAction {
    fn parse(s: &str) -> Result<DefenderAction, String> {
        let (name, arg) =
            s.split_once(':').map_or((s, None), |(n, a)| (n, Some(a)));
        let bad_arg = |a: &str| format!("'{s}': '{a}' is not a choice here");
        Ok(
            match (
                name.trim().to_ascii_lowercase().as_str(),
                arg.map(str::trim),
            ) {
                ("alert", None) => DefenderAction::Alert,
                ("isolate", None | Some("Full" | "full")) => {
                    DefenderAction::Isolate(Isolation::Full)
                }
                ("isolate", Some("Selective" | "selective")) => {
                    DefenderAction::Isolate(Isolation::Selective)
                }
                ("unisolate", None) => DefenderAction::Unisolate,
                ("stop_and_quarantine", None) => {
                    DefenderAction::StopAndQuarantine
                }
                ("scan", None | Some("Quick" | "quick")) => {
                    DefenderAction::Scan(ScanType::Quick)
                }
                ("scan", Some("Full" | "full")) => {
                    DefenderAction::Scan(ScanType::Full)
                }
                ("collect_package", None) => DefenderAction::CollectPackage,
                ("restrict_execution", None) => {
                    DefenderAction::RestrictExecution
                }
                (_, Some(a)) if ["isolate", "scan"].contains(&name) => {
                    return Err(bad_arg(a));
                }
                _ => {
                    return Err(format!(
                        "'{s}' is no Defender response (alert, isolate[:Full|Selective], unisolate, \
                     stop_and_quarantine, scan[:Quick|Full], collect_package, restrict_execution)"
                    ));
                }
            },
        )
    }

    /// The name used in plans and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            DefenderAction::Alert => "alert",
            DefenderAction::Isolate(Isolation::Full) => "isolate:Full",
            DefenderAction::Isolate(Isolation::Selective) => {
                "isolate:Selective"
            }
            DefenderAction::Unisolate => "unisolate",
            DefenderAction::StopAndQuarantine => "stop_and_quarantine",
            DefenderAction::Scan(ScanType::Quick) => "scan:Quick",
            DefenderAction::Scan(ScanType::Full) => "scan:Full",
            DefenderAction::CollectPackage => "collect_package",
            DefenderAction::RestrictExecution => "restrict_execution",
        }
    }

    /// Whether it acts on the device (an alert does not).
    pub fn touches_device(self) -> bool {
        self != DefenderAction::Alert
    }
}

/// Kaspersky EDR response tasks (KES for Windows 12.9+, through KSC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KscTask {
    /// `getFile`: fetch the file to KSC.
    GetFile,
    /// `deleteFile`.
    DeleteFile,
    /// `quarantineFile`.
    QuarantineFile,
    /// `terminateProcess`.
    TerminateProcess,
    /// `preventExecution` (MD5).
    PreventExecution,
    /// `isolateHost` on.
    IsolateHost,
    /// `isolateHost` off.
    ReleaseHost,
    /// `onDemandScan` of all fixed drives.
    OnDemandScan,
    /// `iocScan` with the indicator as an OpenIOC file.
    IocScan,
}

impl KscTask {
    fn parse(s: &str) -> Result<KscTask, String> {
        Ok(match s.trim() {
            "getFile" => KscTask::GetFile,
            "deleteFile" => KscTask::DeleteFile,
            "quarantineFile" => KscTask::QuarantineFile,
            "terminateProcess" => KscTask::TerminateProcess,
            "preventExecution" => KscTask::PreventExecution,
            "isolateHost" => KscTask::IsolateHost,
            "releaseHost" => KscTask::ReleaseHost,
            "onDemandScan" => KscTask::OnDemandScan,
            "iocScan" => KscTask::IocScan,
            _ => {
                return Err(format!(
                    "'{s}' is no Kaspersky task (getFile, deleteFile, quarantineFile, terminateProcess, \
                     preventExecution, isolateHost, releaseHost, onDemandScan, iocScan)"
                ));
            }
        })
    }

    /// The name used in plans and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            KscTask::GetFile => "getFile",
            KscTask::DeleteFile => "deleteFile",
            KscTask::QuarantineFile => "quarantineFile",
            KscTask::TerminateProcess => "terminateProcess",
            KscTask::PreventExecution => "preventExecution",
            KscTask::IsolateHost => "isolateHost",
            KscTask::ReleaseHost => "releaseHost",
            KscTask::OnDemandScan => "onDemandScan",
            KscTask::IocScan => "iocScan",
        }
    }

    /// The task string KSC knows (`releaseHost` is `isolateHost` off).
    pub fn task(self) -> &'static str {
        match self {
            KscTask::ReleaseHost => "isolateHost",
            t => t.name(),
        }
    }
}

/// Alert categories `CreateAlertByReference` accepts.
const CATEGORIES: [&str; 16] = [
    "General",
    "CommandAndControl",
    "Collection",
    "CredentialAccess",
    "DefenseEvasion",
    "Discovery",
    "Exfiltration",
    "Exploit",
    "Execution",
    "InitialAccess",
    "LateralMovement",
    "Malware",
    "Persistence",
    "PrivilegeEscalation",
    "Ransomware",
    "SuspiciousActivity",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    guardrails: GuardrailsFile,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleFile>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardrailsFile {
    max_actions: Option<usize>,
    #[serde(default)]
    never_touch: Vec<String>,
    #[serde(default)]
    never_touch_groups: Vec<String>,
    cooldown: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    severities: Vec<String>,
    #[serde(default)]
    tables: Vec<String>,
    title: Option<String>,
    #[serde(default)]
    defender: Vec<String>,
    #[serde(default)]
    kaspersky: Vec<String>,
    category: Option<String>,
    recommended_action: Option<String>,
}

/// The default cap on actions per run.
pub const DEFAULT_MAX_ACTIONS: usize = 10;

impl Policy {
    /// Reads a policy file.
    ///
    /// # Errors
    ///
    /// A [`SyncError::Config`] naming the file and what is wrong.
    pub fn load(path: &Path) -> Result<Policy, SyncError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SyncError::Config(format!("{}: {e}", path.display()))
        })?;
        Policy::parse(&text)
            .map_err(|e| SyncError::Config(format!("{}: {e}", path.display())))
    }

    /// Parses a policy.
    ///
    /// # Errors
    ///
    /// What is wrong, as text.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let f: PolicyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let g = f.guardrails;
        let pattern = |p: &str| {
            glob::Pattern::new(&p.to_ascii_lowercase())
                .map_err(|e| format!("pattern '{p}': {e}"))
        };
        let guardrails = Guardrails {
            max_actions: g.max_actions.unwrap_or(DEFAULT_MAX_ACTIONS),
            never_touch: g
                .never_touch
                .iter()
                .map(|p| pattern(p))
                .collect::<Result<_, _>>()?,
            never_touch_groups: g.never_touch_groups,
            cooldown: match g.cooldown {
                Some(c) => duration(&c)?,
                None => Duration::from_secs(24 * 3600),
            },
        };
        let mut rules = Vec::new();
        for r in f.rules {
            let ctx = |e: String| format!("rule '{}': {e}", r.name);
            if r.defender.is_empty() && r.kaspersky.is_empty() {
                return Err(ctx("it names no response (defender = [...] or kaspersky = [...])".into()));
            }
            let category =
                r.category.unwrap_or_else(|| "SuspiciousActivity".into());
            if !CATEGORIES.contains(&category.as_str()) {
                return Err(ctx(format!(
                    "category '{category}' is not one of {}",
                    CATEGORIES.join(", ")
                )));
            }
            rules.push(Rule {
                types: r.types,
                actions: r.actions,
                severities: r.severities,
                tables: r.tables,
                title: r
                    .title
                    .as_deref()
                    .map(pattern)
                    .transpose()
                    .map_err(ctx)?,
                defender: r
                    .defender
                    .iter()
                    .map(|s| DefenderAction::parse(s))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                kaspersky: r
                    .kaspersky
                    .iter()
                    .map(|s| KscTask::parse(s))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                category,
                recommended_action: r.recommended_action,
                name: r.name,
            });
        }
        if rules.is_empty() {
            return Err("the policy has no [[rule]]".into());
        }
        Ok(Policy { guardrails, rules })
    }
}

impl Guardrails {
    /// Whether a device name is on the never-touch list.
    pub fn protects_name(&self, name: &str) -> Option<&glob::Pattern> {
        let lower = name.to_ascii_lowercase();
        self.never_touch.iter().find(|p| p.matches(&lower))
    }

    /// Whether a Defender device group is on the never-touch list.
    pub fn protects_group(&self, group: &str) -> bool {
        self.never_touch_groups.iter().any(|g| g.eq_ignore_ascii_case(group))
    }
}

impl Rule {
    /// Whether the rule covers this alert.
    pub fn matches(&self, a: &AlertLine) -> bool {
        let any = |list: &[String], v: &str| {
            list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v))
        };
        any(&self.types, &a.indicator.kind)
            && any(&self.actions, &a.indicator.action)
            && any(&self.severities, &a.indicator.severity)
            && (self.tables.is_empty()
                || a.tables.iter().any(|t| any(&self.tables, t)))
            && self.title.as_ref().is_none_or(|p| {
                p.matches(
                    &a.indicator
                        .title
                        .as_deref()
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                )
            })
    }
}

/// `90m`, `24h`, `7d`.
fn duration(s: &str) -> Result<Duration, String> {
    iocmatch_core::parse_duration(s).map_err(|e| format!("cooldown {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reads_and_refuses_what_cannot_work() {
        let p = Policy::parse(
            r#"
            [guardrails]
            max_actions = 3
            never_touch = ["SRV-*"]
            cooldown = "2h"
            [[rule]]
            name = "r"
            types = ["FileSha1"]
            defender = ["alert", "isolate:Selective", "scan:Full"]
            kaspersky = ["quarantineFile"]
            "#,
        )
        .unwrap();
        assert_eq!(p.guardrails.max_actions, 3);
        assert_eq!(p.guardrails.cooldown, Duration::from_secs(7200));
        assert!(p.guardrails.protects_name("srv-db1.corp").is_some());
        assert!(p.guardrails.protects_name("wks-1").is_none());
        assert_eq!(
            p.rules[0].defender,
            [
                DefenderAction::Alert,
                DefenderAction::Isolate(Isolation::Selective),
                DefenderAction::Scan(ScanType::Full)
            ]
        );
        for (bad, says) in [
            ("[[rule]]\nname='x'\ndefender=['nuke']", "no Defender response"),
            ("[[rule]]\nname='x'\nkaspersky=['wipe']", "no Kaspersky task"),
            ("[[rule]]\nname='x'", "names no response"),
            (
                "[[rule]]\nname='x'\ndefender=['alert']\ncategory='Spam'",
                "category 'Spam'",
            ),
            (
                "[guardrails]\ncooldown='soon'\n[[rule]]\nname='x'\ndefender=['alert']",
                "no duration",
            ),
            ("", "no [[rule]]"),
            (
                "[[rule]]\nname='x'\ndefender=['alert']\ntypo=1",
                "unknown field",
            ),
        ] {
            let e = Policy::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}

//! Defender's vocabulary: indicator types, actions and severities, their
//! names and aliases, and which action each type accepts.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, IndicatorError};

/// Defender's `indicatorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndicatorType {
    /// MD5 of a file (32 hex digits).
    FileMd5,
    /// SHA-1 of a file (40 hex digits).
    FileSha1,
    /// SHA-256 of a file (64 hex digits).
    FileSha256,
    /// A signing certificate's thumbprint (40 hex digits; 64 offline).
    CertificateThumbprint,
    /// One public IP address (or, offline only, a CIDR network).
    IpAddress,
    /// A domain; matches the domain and all its subdomains.
    DomainName,
    /// A URL; matches by host, then by path prefix.
    Url,
}

impl IndicatorType {
    /// Every type, in a stable order for reports.
    pub const ALL: [IndicatorType; 7] = [
        IndicatorType::FileMd5,
        IndicatorType::FileSha1,
        IndicatorType::FileSha256,
        IndicatorType::CertificateThumbprint,
        IndicatorType::IpAddress,
        IndicatorType::DomainName,
        IndicatorType::Url,
    ];

    /// Defender's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorType::FileMd5 => "FileMd5",
            IndicatorType::FileSha1 => "FileSha1",
            IndicatorType::FileSha256 => "FileSha256",
            IndicatorType::CertificateThumbprint => "CertificateThumbprint",
            IndicatorType::IpAddress => "IpAddress",
            IndicatorType::DomainName => "DomainName",
            IndicatorType::Url => "Url",
        }
    }

    /// True for the network types (IP, domain, URL), whose precedence
    /// differs from files and certificates.
    pub fn is_network(self) -> bool {
        matches!(
            self,
            IndicatorType::IpAddress
                | IndicatorType::DomainName
                | IndicatorType::Url
        )
    }

    /// True for the three file hash types.
    pub fn is_file(self) -> bool {
        matches!(
            self,
            IndicatorType::FileMd5
                | IndicatorType::FileSha1
                | IndicatorType::FileSha256
        )
    }
}

impl fmt::Display for IndicatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorType {
    type Err = IndicatorError;

    /// Accepts Defender's names case-insensitively, and the common
    /// shorthands of other tools (`sha256`, `ip`, `domain`, …).
    fn from_str(s: &str) -> Result<Self, IndicatorError> {
        use IndicatorType as T;
        lookup_name(
            s,
            &[
                ("FileSha256", T::FileSha256),
                ("FileSha1", T::FileSha1),
                ("FileMd5", T::FileMd5),
                ("IpAddress", T::IpAddress),
                ("DomainName", T::DomainName),
                ("Url", T::Url),
                ("CertificateThumbprint", T::CertificateThumbprint),
                ("sha256", T::FileSha256),
                ("sha1", T::FileSha1),
                ("md5", T::FileMd5),
                ("ip", T::IpAddress),
                ("domain", T::DomainName),
                ("certificate", T::CertificateThumbprint),
                ("cert", T::CertificateThumbprint),
            ],
        )
        .ok_or_else(|| {
            IndicatorError::new(
                ErrorKind::UnknownType,
                format!("unknown indicator type '{s}'"),
            )
        })
    }
}

/// Defender's `action`, in canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Allow: never alerts, and wins over blocks for network indicators.
    Allowed,
    /// Audit: detect and alert, do not block.
    Audit,
    /// Warn: the user may bypass a block.
    Warn,
    /// Block execution or connection.
    Block,
    /// Block and remediate (files and certificates only).
    BlockAndRemediate,
}

impl Action {
    /// Every action, in a stable order for reports.
    pub const ALL: [Action; 5] = [
        Action::Allowed,
        Action::Audit,
        Action::Warn,
        Action::Block,
        Action::BlockAndRemediate,
    ];

    /// Defender's canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allowed => "Allowed",
            Action::Audit => "Audit",
            Action::Warn => "Warn",
            Action::Block => "Block",
            Action::BlockAndRemediate => "BlockAndRemediate",
        }
    }

    /// Parses a canonical name or one of Defender's legacy aliases,
    /// case-insensitively. The second value is true when the alias implies
    /// an alert (`AlertAndBlock`).
    pub fn parse_alias(s: &str) -> Option<(Action, bool)> {
        lookup_name(
            s,
            &[
                ("Audit", (Action::Audit, false)),
                ("Block", (Action::Block, false)),
                ("Allowed", (Action::Allowed, false)),
                ("Warn", (Action::Warn, false)),
                ("BlockAndRemediate", (Action::BlockAndRemediate, false)),
                ("AlertAndBlock", (Action::Block, true)),
                ("Alert", (Action::Audit, false)),
                ("Allow", (Action::Allowed, false)),
            ],
        )
    }

    /// Whether Defender accepts this action on this indicator type.
    pub fn allowed_on(self, ty: IndicatorType) -> bool {
        match ty {
            IndicatorType::CertificateThumbprint => {
                matches!(self, Action::Allowed | Action::BlockAndRemediate)
            }
            t if t.is_network() => self != Action::BlockAndRemediate,
            _ => true,
        }
    }
}

impl FromStr for Action {
    type Err = IndicatorError;

    /// A canonical name or a legacy alias, as [`Action::parse_alias`].
    fn from_str(s: &str) -> Result<Self, IndicatorError> {
        Action::parse_alias(s).map(|(a, _)| a).ok_or_else(|| {
            IndicatorError::new(
                ErrorKind::UnknownAction,
                format!("unknown action '{}'", crate::value::trim(s)),
            )
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Defender's alert `severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational (Defender's default when none is given).
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
    ];

    /// Defender's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = IndicatorError;

    fn from_str(s: &str) -> Result<Self, IndicatorError> {
        lookup_name(
            s,
            &[
                ("High", Severity::High),
                ("Medium", Severity::Medium),
                ("Low", Severity::Low),
                ("Informational", Severity::Informational),
                ("Info", Severity::Informational),
            ],
        )
        .ok_or_else(|| {
            IndicatorError::new(
                ErrorKind::InvalidSeverity,
                format!("unknown severity '{s}'"),
            )
        })
    }
}

/// Refuses an action Defender does not accept on `ty`, naming the ones
/// it does.
pub(crate) fn check_pair(
    action: Action,
    ty: IndicatorType,
) -> Result<(), IndicatorError> {
    if action.allowed_on(ty) {
        return Ok(());
    }
    let ok: Vec<&str> = Action::ALL
        .iter()
        .filter(|a| a.allowed_on(ty))
        .map(|a| a.as_str())
        .collect();
    Err(IndicatorError::new(
        ErrorKind::RefusedAction,
        format!(
            "Defender refuses action {action} on {ty} (it accepts {})",
            ok.join(", ")
        ),
    ))
}

/// The value named by `s` (trimmed, in any case) in `names`. Loaders call
/// this for every row, so it compares in place instead of lowercasing a
/// copy.
fn lookup_name<T: Copy>(s: &str, names: &[(&str, T)]) -> Option<T> {
    let s = crate::value::trim(s);
    // Files nearly always spell names as Defender does: an exact
    // comparison first is several times cheaper than folding case.
    names
        .iter()
        .find(|(name, _)| *name == s)
        .or_else(|| {
            names.iter().find(|(name, _)| name.eq_ignore_ascii_case(s))
        })
        .map(|&(_, v)| v)
}

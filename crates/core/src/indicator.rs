//! The indicator model: one Defender custom indicator, normalised, with
//! where it came from and its alert metadata.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

use crate::error::IndicatorError;
use crate::kind::{Action, IndicatorType, Severity, check_pair};

/// The position of an indicator in an [`IndicatorSet`](crate::IndicatorSet).
///
/// Ids are dense, start at 0 and follow the order in which indicators were
/// listed, which is also the final tie-breaker of precedence: the lower id
/// wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndicatorId(pub u32);

impl IndicatorId {
    /// The id as an index into the set's side tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where an indicator came from: a file and a line, or a JSON path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// The file as the user named it (or as found under a named folder).
    pub file: Arc<str>,
    /// The place inside the file.
    pub location: Location,
}

/// A place inside an indicator file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// A 1-based line number.
    Line(u64),
    /// A JSON path such as `$.value[3]`, and the line where it starts.
    Json {
        /// The path from the document root.
        path: Box<str>,
        /// The 1-based line where the element starts.
        line: u64,
    },
}

impl Source {
    /// A source at a 1-based line.
    pub fn line(file: &Arc<str>, line: u64) -> Source {
        Source { file: Arc::clone(file), location: Location::Line(line) }
    }

    /// The source of an indicator built in code rather than read from a
    /// file: `(inline)`, with no line.
    pub fn inline() -> Source {
        Source { file: Arc::from("(inline)"), location: Location::Line(0) }
    }

    /// A source at a JSON path starting on `line`.
    pub fn json(
        file: &Arc<str>,
        path: impl Into<Box<str>>,
        line: u64,
    ) -> Source {
        let location = Location::Json { path: path.into(), line };
        Source { file: Arc::clone(file), location }
    }

    /// The 1-based line number.
    pub fn line_number(&self) -> u64 {
        match self.location {
            Location::Line(n) | Location::Json { line: n, .. } => n,
        }
    }

    /// The JSON path, for sources inside JSON documents.
    pub fn json_path(&self) -> Option<&str> {
        match &self.location {
            Location::Line(_) => None,
            Location::Json { path, .. } => Some(path),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Line(0) => write!(f, "{}", self.file),
            Location::Line(n) => write!(f, "{}:{}", self.file, n),
            Location::Json { path, line } => {
                write!(f, "{}:{} ({})", self.file, line, path)
            }
        }
    }
}

/// The alert metadata of an indicator.
///
/// Feeds give many indicators the same metadata (one MISP event, one
/// plain list), so it is shared behind an `Arc`. It is also kept small:
/// the fields every alert uses are inline, the rest sit behind one
/// pointer that is `None` for most indicators. A million indicators then
/// cost tens, not hundreds, of megabytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Alert severity; `None` means Defender's default, Informational.
    pub severity: Option<Severity>,
    /// Whether a matching event raises an alert; `None` means Defender's
    /// default (true for every action but `Allowed`).
    pub generate_alert: Option<bool>,
    /// No match at or after this instant.
    pub expiration: Option<Timestamp>,
    /// Device groups in scope; empty means every device.
    pub rbac_group_names: Box<[Box<str>]>,
    /// The fields alerts rarely carry.
    pub details: Option<Box<Details>>,
}

/// The less common alert fields of an indicator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Details {
    /// Alert description.
    pub description: Option<Box<str>>,
    /// Recommended actions shown with the alert.
    pub recommended_actions: Option<Box<str>>,
    /// Alert category.
    pub category: Option<Box<str>>,
    /// MITRE ATT&CK technique ids.
    pub mitre_techniques: Box<[Box<str>]>,
    /// Application name.
    pub application: Option<Box<str>>,
    /// The caller's own correlation id.
    pub external_id: Option<Box<str>>,
    /// Custom notification URL for Block and Warn.
    pub educate_url: Option<Box<str>>,
}

impl Details {
    fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

impl Meta {
    /// Builds metadata, leaving `details` out when all of it is empty.
    pub fn with_details(mut self, details: Details) -> Meta {
        self.details = (!details.is_empty()).then(|| Box::new(details));
        self
    }

    fn detail(
        &self,
        f: impl Fn(&Details) -> &Option<Box<str>>,
    ) -> Option<&str> {
        self.details.as_deref().and_then(|d| f(d).as_deref())
    }

    /// The description.
    pub fn description(&self) -> Option<&str> {
        self.detail(|d| &d.description)
    }

    /// The recommended actions.
    pub fn recommended_actions(&self) -> Option<&str> {
        self.detail(|d| &d.recommended_actions)
    }

    /// The category.
    pub fn category(&self) -> Option<&str> {
        self.detail(|d| &d.category)
    }

    /// The application.
    pub fn application(&self) -> Option<&str> {
        self.detail(|d| &d.application)
    }

    /// The external id.
    pub fn external_id(&self) -> Option<&str> {
        self.detail(|d| &d.external_id)
    }

    /// The educate URL.
    pub fn educate_url(&self) -> Option<&str> {
        self.detail(|d| &d.educate_url)
    }

    /// The MITRE technique ids.
    pub fn mitre_techniques(&self) -> Vec<&str> {
        self.details.as_deref().map_or_else(Vec::new, |d| {
            d.mitre_techniques.iter().map(|s| &**s).collect()
        })
    }

    /// The device groups in scope.
    pub fn rbac_group_names(&self) -> Vec<&str> {
        self.rbac_group_names.iter().map(|s| &**s).collect()
    }
}

/// One normalised, validated indicator.
///
/// Its fields are private so that every `Indicator` holds a value in the
/// normal form of its type and an action Defender accepts on that type
/// (contract §1): one built any other way could never match. Build one
/// with [`Indicator::new`], or read them from files with
/// [`load`](crate::load).
///
/// ```
/// use iocmatch_core::{Action, ErrorKind, Indicator, IndicatorType};
///
/// let i = Indicator::new(IndicatorType::DomainName, "Evil[.]COM", Action::Block)?;
/// assert_eq!(i.value(), "evil.com");
///
/// let e = Indicator::new(IndicatorType::IpAddress, "10.1.2.3", Action::Block)
///     .unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::NonPublicIp);
/// # Ok::<(), iocmatch_core::IndicatorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    indicator_type: IndicatorType,
    /// The normalised value (see the matching contract, §1).
    value: Box<str>,
    action: Action,
    /// Alert metadata, shared between indicators that have the same.
    meta: Arc<Meta>,
    /// Alert title. Kept apart from [`Meta`] because it is often unique
    /// per indicator (a CSV with a title per row) while the rest of the
    /// metadata repeats: with the title inside, every such row paid for
    /// its own `Meta`. Shared where the source shares it (a MISP event).
    title: Option<Arc<str>>,
    source: Source,
}

/// An offline-only extension an indicator uses: replay matches it, but
/// Defender would refuse it, so it is never published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfflineOnly {
    /// A CIDR network (Defender takes single addresses).
    Cidr,
    /// A URL without a scheme.
    SchemelessUrl,
    /// A SHA-256 certificate thumbprint (Defender takes SHA-1).
    Sha256Thumbprint,
}

impl OfflineOnly {
    /// What the form is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            OfflineOnly::Cidr => "a CIDR network",
            OfflineOnly::SchemelessUrl => "a URL without a scheme",
            OfflineOnly::Sha256Thumbprint => {
                "a SHA-256 certificate thumbprint"
            }
        }
    }
}

impl Indicator {
    /// A validated indicator: `raw_value` is refanged and normalised for
    /// `indicator_type`, and `action` must be one Defender accepts on
    /// that type. It has no metadata and an [`inline`](Source::inline)
    /// source until [`with_meta`](Indicator::with_meta),
    /// [`with_title`](Indicator::with_title) or
    /// [`with_source`](Indicator::with_source) give them.
    ///
    /// # Errors
    ///
    /// An [`IndicatorError`] naming what is wrong: an invalid value
    /// (its [`ErrorKind`](crate::ErrorKind) tells a private address from a malformed one)
    /// or a refused action/type pair.
    pub fn new(
        indicator_type: IndicatorType,
        raw_value: &str,
        action: Action,
    ) -> Result<Indicator, IndicatorError> {
        let value = crate::normal::normalize(indicator_type, raw_value)?;
        check_pair(action, indicator_type)?;
        Ok(Indicator::from_valid(
            indicator_type,
            value.into_boxed_str(),
            action,
            Arc::default(),
            None,
            Source::inline(),
        ))
    }

    /// An indicator from parts already validated by the caller in this
    /// crate (a draft's checks).
    pub(crate) fn from_valid(
        indicator_type: IndicatorType,
        value: Box<str>,
        action: Action,
        meta: Arc<Meta>,
        title: Option<Arc<str>>,
        source: Source,
    ) -> Indicator {
        Indicator { indicator_type, value, action, meta, title, source }
    }

    /// The same indicator with this metadata.
    pub fn with_meta(mut self, meta: impl Into<Arc<Meta>>) -> Indicator {
        self.meta = meta.into();
        self
    }

    /// The same indicator with this alert title (blank means none).
    pub fn with_title(mut self, title: &str) -> Indicator {
        let t = crate::value::trim(title);
        self.title = (!t.is_empty()).then(|| Arc::from(t));
        self
    }

    /// The same indicator with a title shared with others.
    pub(crate) fn with_shared_title(
        mut self,
        title: Option<Arc<str>>,
    ) -> Indicator {
        self.title = title;
        self
    }

    /// The same indicator, said to come from `source`.
    pub fn with_source(mut self, source: Source) -> Indicator {
        self.source = source;
        self
    }

    /// The indicator's type.
    pub fn indicator_type(&self) -> IndicatorType {
        self.indicator_type
    }

    /// The normalised value (see the matching contract, §1).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The canonical action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The alert metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The shared metadata, to share it with another indicator.
    pub fn shared_meta(&self) -> &Arc<Meta> {
        &self.meta
    }

    /// Where it came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The title, shared, to give another indicator.
    pub fn shared_title(&self) -> Option<&Arc<str>> {
        self.title.as_ref()
    }

    /// The alert title.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Whether an effective hit of this indicator raises an alert.
    pub fn alerts(&self) -> bool {
        self.action != Action::Allowed
            && self.meta.generate_alert.unwrap_or(true)
    }

    /// The severity an alert would carry.
    pub fn severity(&self) -> Severity {
        self.meta.severity.unwrap_or(Severity::Informational)
    }

    /// The offline-only extension the value uses, which Defender itself
    /// would refuse, if any.
    pub fn offline_only(&self) -> Option<OfflineOnly> {
        match self.indicator_type {
            IndicatorType::IpAddress if self.value.contains('/') => {
                Some(OfflineOnly::Cidr)
            }
            IndicatorType::Url if !self.value.contains("://") => {
                Some(OfflineOnly::SchemelessUrl)
            }
            IndicatorType::CertificateThumbprint if self.value.len() == 64 => {
                Some(OfflineOnly::Sha256Thumbprint)
            }
            _ => None,
        }
    }

    /// True when the value uses an offline-only extension that Defender
    /// itself would refuse (a CIDR network, a URL without a scheme, a
    /// SHA-256 certificate thumbprint).
    pub fn is_offline_only(&self) -> bool {
        self.offline_only().is_some()
    }

    /// Whether the indicator applies to an event at `time` on a device in
    /// `group` (device-group scope and expiry, contract §3).
    pub fn applies(
        &self,
        time: Option<Timestamp>,
        group: Option<&str>,
    ) -> bool {
        if let (Some(exp), Some(t)) = (self.meta.expiration, time)
            && t >= exp
        {
            return false;
        }
        let groups = &self.meta.rbac_group_names;
        groups.is_empty()
            || group.is_some_and(|g| groups.iter().any(|n| &**n == g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn indicator(expiration: Option<&str>, groups: &[&str]) -> Indicator {
        Indicator::new(IndicatorType::DomainName, "evil.com", Action::Block)
            .unwrap()
            .with_meta(Meta {
                expiration: expiration.map(|e| e.parse().unwrap()),
                rbac_group_names: groups
                    .iter()
                    .map(|g| Box::from(*g))
                    .collect(),
                ..Meta::default()
            })
    }

    #[test]
    fn the_checked_constructor_normalises_and_refuses() {
        let i = Indicator::new(
            IndicatorType::Url,
            "hxxps://Evil[.]com/A",
            Action::Warn,
        )
        .unwrap()
        .with_title("  c2  ");
        assert_eq!(i.value(), "https://evil.com/A");
        assert_eq!(i.title(), Some("c2"));
        assert_eq!(i.source().to_string(), "(inline)");
        let e = Indicator::new(
            IndicatorType::IpAddress,
            "8.8.8.8",
            Action::BlockAndRemediate,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RefusedAction);
        let cidr = Indicator::new(
            IndicatorType::IpAddress,
            "8.8.8.0/24",
            Action::Audit,
        )
        .unwrap();
        assert_eq!(cidr.offline_only(), Some(OfflineOnly::Cidr));
        assert_eq!("alert".parse::<Action>(), Ok(Action::Audit));
        assert_eq!(
            "nope".parse::<Action>().unwrap_err().kind(),
            ErrorKind::UnknownAction
        );
    }

    #[test]
    fn expiry_is_exclusive_and_unknown_times_do_not_expire() {
        let i = indicator(Some("2026-07-18T12:00:00Z"), &[]);
        let t = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert!(i.applies(t("2026-07-18T11:59:59.999999999Z"), None));
        assert!(!i.applies(t("2026-07-18T12:00:00Z"), None));
        assert!(!i.applies(t("2027-01-01T00:00:00Z"), None));
        assert!(
            i.applies(None, None),
            "a record without a readable time is not expired"
        );
    }

    #[test]
    fn scope_needs_a_listed_group() {
        let i = indicator(None, &["Servers", "Finance"]);
        assert!(i.applies(None, Some("Finance")));
        assert!(
            !i.applies(None, Some("finance")),
            "group names compare exactly"
        );
        assert!(!i.applies(None, Some("Workstations")));
        assert!(
            !i.applies(None, None),
            "a record without a group is out of scope"
        );
        assert!(
            indicator(None, &[]).applies(None, None),
            "no groups: every device"
        );
    }
}

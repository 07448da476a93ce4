//! Raw indicator fields as a loader reads them, and their validation.
//!
//! Every loader fills an [`IndicatorDraft`] and calls
//! [`IndicatorDraft::finish`], so the rules of the matching contract (§1)
//! are written once.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

use crate::error::{ErrorKind, IndicatorError};
use crate::indicator::{Details, Indicator, Meta, Source};
use crate::kind::{Action, IndicatorType, Severity, check_pair};
use crate::normal;
use crate::value;

/// Raw alert metadata, before validation.
#[derive(Clone, Debug, Default)]
pub struct MetaDraft<'a> {
    /// Severity name (a canonical one can be borrowed, saving a copy per
    /// row).
    pub severity: Option<Cow<'static, str>>,
    /// Explicit `generateAlert`.
    pub generate_alert: Option<bool>,
    /// Expiration time text (RFC 3339, or a bare date meaning midnight
    /// UTC).
    pub expiration: Option<String>,
    /// Device groups in scope.
    pub rbac_group_names: Vec<String>,
    /// Alert title, borrowed from the input where the loader can (it is
    /// copied once, into the indicator's shared title).
    pub title: Option<Cow<'a, str>>,
    /// Alert description.
    pub description: Option<String>,
    /// Recommended actions.
    pub recommended_actions: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// MITRE technique ids.
    pub mitre_techniques: Vec<String>,
    /// Application.
    pub application: Option<String>,
    /// External correlation id.
    pub external_id: Option<String>,
    /// Educate URL.
    pub educate_url: Option<String>,
}

impl<'a> MetaDraft<'a> {
    /// Validates the metadata; returns it with the title (trimmed, `None`
    /// when empty), which indicators keep apart from [`Meta`].
    ///
    /// # Errors
    ///
    /// The reason when the severity or the expiration time is invalid.
    pub fn finish(
        self,
    ) -> Result<(Meta, Option<Cow<'a, str>>), IndicatorError> {
        let severity = match self.severity.as_deref().map(value::trim) {
            Some(s) if !s.is_empty() => Some(s.parse::<Severity>()?),
            _ => None,
        };
        let expiration = match non_empty(self.expiration) {
            Some(s) => Some(parse_time(&s)?),
            None => None,
        };
        let meta = Meta {
            severity,
            generate_alert: self.generate_alert,
            expiration,
            rbac_group_names: clean_list(self.rbac_group_names),
            details: None,
        };
        let title = self.title.filter(|t| !value::trim(t).is_empty()).map(
            |t| match t {
                Cow::Borrowed(b) => Cow::Borrowed(value::trim(b)),
                Cow::Owned(o) => Cow::Owned(value::trim(&o).to_owned()),
            },
        );
        let details = Details {
            description: boxed(self.description),
            recommended_actions: boxed(self.recommended_actions),
            category: boxed(self.category),
            mitre_techniques: clean_list(self.mitre_techniques),
            application: boxed(self.application),
            external_id: boxed(self.external_id),
            educate_url: boxed(self.educate_url),
        };
        Ok((meta.with_details(details), title))
    }
}

/// Trimmed text, `None` when empty; no copy when nothing is trimmed.
fn non_empty(s: Option<String>) -> Option<String> {
    let s = s?;
    let t = value::trim(&s);
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_owned())
    }
}

fn boxed(s: Option<String>) -> Option<Box<str>> {
    non_empty(s).map(String::into_boxed_str)
}

fn clean_list(v: Vec<String>) -> Box<[Box<str>]> {
    v.into_iter().filter_map(|s| boxed(Some(s))).collect()
}

/// Parses a span of time as people write one: `90s`, `30m`, `6h`, `2d`
/// (a number and a unit; for flags and config files).
///
/// # Errors
///
/// What is wrong, naming the accepted units.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}' is no duration (try 6h or 2d)"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{s}': the unit of time is s, m, h or d")),
    };
    n.checked_mul(unit_secs)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is too long"))
}

/// Parses an expiration or event time: RFC 3339 with `Z` or an offset;
/// a date and time without a zone, read as UTC; or a bare date, read as
/// midnight UTC.
///
/// # Errors
///
/// An [`ErrorKind::InvalidTime`] error naming the accepted forms.
pub fn parse_time(s: &str) -> Result<Timestamp, IndicatorError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let utc = jiff::tz::TimeZone::UTC;
    let out_of_range = |e: jiff::Error| {
        IndicatorError::new(ErrorKind::InvalidTime, e.to_string())
    };
    if let Ok(dt) = s.parse::<DateTime>() {
        return dt.to_zoned(utc).map(|z| z.timestamp()).map_err(out_of_range);
    }
    if let Ok(d) = s.parse::<Date>() {
        return d.to_zoned(utc).map(|z| z.timestamp()).map_err(out_of_range);
    }
    Err(IndicatorError::new(
        ErrorKind::InvalidTime,
        format!(
            "invalid time '{s}' (expected RFC 3339, e.g. 2026-01-31T00:00:00Z)"
        ),
    ))
}

/// How a draft names its type: given by the source, or to be guessed from
/// the value (plain lists).
#[derive(Clone, Debug)]
pub enum TypeSpec {
    /// A type name as written in the source (`FileSha256`, `sha256`, …).
    Named(String),
    /// A known type.
    Known(IndicatorType),
    /// Guess from the value.
    Infer,
}

/// One indicator as read, before validation.
#[derive(Clone, Debug)]
pub struct IndicatorDraft<'a> {
    /// The type.
    pub indicator_type: TypeSpec,
    /// The raw value (may be defanged), borrowed from the input where the
    /// loader can: only the normalised value is kept.
    pub value: Cow<'a, str>,
    /// The raw action; `None` is an error. A canonical name can be
    /// borrowed, saving a copy per row.
    pub action: Option<Cow<'static, str>>,
    /// Validated, shared metadata.
    pub meta: Arc<Meta>,
    /// The alert title.
    pub title: Option<Arc<str>>,
    /// Where the draft was read.
    pub source: Source,
}

/// An indicator that could not be loaded: where, what, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Where it was read.
    pub source: Source,
    /// The value as written.
    pub value: String,
    /// Why it was refused.
    pub error: IndicatorError,
}

impl Rejection {
    /// A rejection of `value` read at `source`.
    pub fn new(
        source: Source,
        value: impl Into<String>,
        error: IndicatorError,
    ) -> Rejection {
        Rejection { source, value: value.into(), error }
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ErrorKind {
        self.error.kind()
    }

    /// Why it was refused, for people.
    pub fn reason(&self) -> &str {
        self.error.message()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: '{}': {}", self.source, self.value, self.error)
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IndicatorDraft<'_> {
    /// Validates the draft: the type, the value in its normal form, the
    /// action (aliases accepted) and the action/type pair.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] naming source, value and reason.
    pub fn finish(self) -> Result<Indicator, Rejection> {
        match self.validate() {
            Ok((indicator_type, value, action)) => Ok(Indicator::from_valid(
                indicator_type,
                value.into_boxed_str(),
                action,
                self.meta,
                self.title,
                self.source,
            )),
            Err(error) => Err(Rejection {
                source: self.source,
                value: self.value.into_owned(),
                error,
            }),
        }
    }

    fn validate(
        &self,
    ) -> Result<(IndicatorType, String, Action), IndicatorError> {
        let ty = match &self.indicator_type {
            TypeSpec::Named(n) => n.parse::<IndicatorType>()?,
            TypeSpec::Known(t) => *t,
            TypeSpec::Infer => normal::infer(&value::refang(&self.value))?,
        };
        let value = normal::normalize(ty, &self.value)?;
        let raw_action = self.action.as_deref().map(value::trim).unwrap_or("");
        if raw_action.is_empty() {
            return Err(IndicatorError::new(
                ErrorKind::MissingAction,
                "missing action",
            ));
        }
        let action = raw_action.parse::<Action>()?;
        check_pair(action, ty)?;
        Ok((ty, value, action))
    }
}

/// Shares identical metadata between indicators, so that a million
/// indicators from one feed carry one copy of it, and a title repeated
/// row after row (one MISP event) one copy of the title.
///
/// Rows of one file often repeat the metadata of a row just before (a
/// severity per row, say), so the last few are compared first, which is
/// cheaper than hashing. When nearly every row is unique, hashing them
/// all buys nothing, and the interner stops.
#[derive(Debug, Default)]
pub struct MetaInterner {
    seen: HashSet<Arc<Meta>, foldhash::fast::RandomState>,
    recent: [Option<Arc<Meta>>; RECENT],
    /// Recent metadata by the raw cells they were read from.
    by_cells: Vec<(RawCells, Arc<Meta>)>,
    next_by_cells: usize,
    next_recent: usize,
    last_title: Option<Arc<str>>,
    lookups: u64,
    reused: u64,
}

/// `a == b`, inline for the short and mostly empty cells of metadata:
/// a `memcmp` call per cell cost almost half of loading a row (perf).
#[inline]
fn short_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && if a.len() <= 16 {
            a.iter().zip(b).all(|(x, y)| x == y)
        } else {
            a == b
        }
}

/// A row's metadata cells as read, in a loader's own order.
type RawCells = Box<[Box<str>]>;

/// How many recent metadata the interner compares before hashing.
const RECENT: usize = 4;

/// After this many lookups, interning continues only if worth it.
const INTERN_PROBATION: u64 = 512;

impl MetaInterner {
    /// Validates `draft` and returns shared copies of its metadata and
    /// title.
    ///
    /// # Errors
    ///
    /// As [`MetaDraft::finish`].
    pub fn finish(
        &mut self,
        draft: MetaDraft<'_>,
    ) -> Result<(Arc<Meta>, Option<Arc<str>>), IndicatorError> {
        let (meta, title) = draft.finish()?;
        Ok((self.intern(meta), title.map(|t| self.title(t))))
    }

    /// The metadata last read from exactly these raw cells (a loader's
    /// own fixed order), if recent: a row that repeats them needs no
    /// validation.
    pub fn by_cells(&self, cells: &[&str]) -> Option<Arc<Meta>> {
        self.by_cells
            .iter()
            .find(|(c, _)| {
                c.len() == cells.len()
                    && c.iter().zip(cells).all(|(a, b)| short_eq(a, b))
            })
            .map(|(_, m)| Arc::clone(m))
    }

    /// Remembers that `cells` read as `meta`.
    pub fn remember_cells(&mut self, cells: &[&str], meta: &Arc<Meta>) {
        let entry =
            (cells.iter().map(|&c| c.into()).collect(), Arc::clone(meta));
        if self.by_cells.len() < RECENT {
            self.by_cells.push(entry);
        } else {
            self.by_cells[self.next_by_cells] = entry;
            self.next_by_cells = (self.next_by_cells + 1) % RECENT;
        }
    }

    /// The title as an `Arc`, shared with the previous row's when equal.
    pub fn title(&mut self, title: Cow<'_, str>) -> Arc<str> {
        if let Some(last) = &self.last_title
            && short_eq(last, &title)
        {
            return Arc::clone(last);
        }
        let t: Arc<str> = Arc::from(&*title);
        self.last_title = Some(Arc::clone(&t));
        t
    }

    /// Returns a shared copy of `meta`.
    pub fn intern(&mut self, meta: Meta) -> Arc<Meta> {
        if let Some(m) = self.recent.iter().flatten().find(|m| ***m == meta) {
            return Arc::clone(m);
        }
        let shared =
            if self.worth_it() { self.lookup(meta) } else { Arc::new(meta) };
        self.recent[self.next_recent] = Some(Arc::clone(&shared));
        self.next_recent = (self.next_recent + 1) % RECENT;
        shared
    }

    fn worth_it(&self) -> bool {
        self.lookups < INTERN_PROBATION || self.reused * 8 >= self.lookups
    }

    fn lookup(&mut self, meta: Meta) -> Arc<Meta> {
        self.lookups += 1;
        if let Some(m) = self.seen.get(&meta) {
            self.reused += 1;
            return Arc::clone(m);
        }
        let m = Arc::new(meta);
        self.seen.insert(Arc::clone(&m));
        m
    }
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_as_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 6h "), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        for bad in ["", "6", "h", "1w", "-1h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft<'a>(
        ty: &str,
        value: &'a str,
        action: &str,
    ) -> IndicatorDraft<'a> {
        let file: Arc<str> = Arc::from("t.csv");
        IndicatorDraft {
            indicator_type: TypeSpec::Named(ty.into()),
            value: Cow::Borrowed(value),
            action: Some(action.to_owned().into()),
            meta: Arc::new(Meta::default()),
            title: None,
            source: Source::line(&file, 7),
        }
    }

    #[test]
    fn aliases_become_canonical() {
        let i = draft("DomainName", "evil.com", "alert").finish().unwrap();
        assert_eq!(i.action(), Action::Audit);
        let i =
            draft("Url", "http://e.com", "AlertAndBlock").finish().unwrap();
        assert_eq!(i.action(), Action::Block);
        assert!(i.alerts());
        let i = draft("FileSha1", &"a".repeat(40), "ALLOW").finish().unwrap();
        assert_eq!(i.action(), Action::Allowed);
        assert!(!i.alerts());
    }

    #[test]
    fn refused_pairs_name_the_reason() {
        let e = draft("IpAddress", "8.8.8.8", "BlockAndRemediate")
            .finish()
            .unwrap_err();
        assert!(
            e.reason()
                .contains("refuses action BlockAndRemediate on IpAddress")
        );
        assert_eq!(e.kind(), ErrorKind::RefusedAction);
        assert_eq!(
            e.to_string(),
            "t.csv:7: '8.8.8.8': Defender refuses action BlockAndRemediate on IpAddress (it accepts Allowed, Audit, Warn, Block)"
        );
        let e =
            draft("CertificateThumbprint", &"a".repeat(40), "Block").finish();
        assert!(e.is_err());
        assert!(
            draft("Domain", "evil.com", "")
                .finish()
                .unwrap_err()
                .reason()
                .contains("missing action")
        );
        assert!(
            draft("Bogus", "evil.com", "Block")
                .finish()
                .unwrap_err()
                .reason()
                .contains("unknown indicator type")
        );
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2026-01-31T00:00:00.0Z").unwrap().to_string(),
            "2026-01-31T00:00:00Z"
        );
        assert_eq!(
            parse_time("2026-01-31").unwrap().to_string(),
            "2026-01-31T00:00:00Z"
        );
        assert_eq!(
            parse_time("2026-01-31T02:00:00+02:00").unwrap().to_string(),
            "2026-01-31T00:00:00Z"
        );
        assert!(parse_time("tomorrow").is_err());
    }
}

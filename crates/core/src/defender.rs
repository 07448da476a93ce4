//! Defender's own wire formats for indicators: the API's Indicator
//! entity ([`ApiIndicator`], JSON) and the portal's CSV import row
//! ([`CsvRow`]). One serde type each, used both to read them (the
//! `defender-json` loader, sync's listing) and to write them (`check
//! --export`, sync's imports), so the two directions cannot drift apart.
//!
//! ```
//! use iocmatch_core::{Action, Indicator, IndicatorType};
//! use iocmatch_core::defender::ApiIndicator;
//!
//! let i = Indicator::new(IndicatorType::IpAddress, "2001:4860:4860::8888", Action::Block)?;
//! let wire = ApiIndicator::from_indicator(&i);
//! // Defender wants IPv6 with all eight groups written out.
//! assert_eq!(wire.indicator_value.as_deref(), Some("2001:4860:4860:0:0:0:0:8888"));
//! let json = serde_json::to_string(&wire)?;
//! let back: ApiIndicator = serde_json::from_str(&json)?;
//! assert_eq!(back, wire);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::indicator::Indicator;
use crate::kind::IndicatorType;

/// The portal imports at most this many rows per CSV file.
pub const CSV_ROWS_PER_FILE: usize = 500;

/// The columns of the portal's CSV import format, in its order.
pub const CSV_HEADER: [&str; 12] = [
    "IndicatorType",
    "IndicatorValue",
    "ExpirationTime",
    "Action",
    "Severity",
    "Title",
    "Description",
    "RecommendedActions",
    "RbacGroups",
    "Category",
    "MitreTechniques",
    "GenerateAlert",
];

/// The value as Defender wants it written: IPv6 with all eight groups,
/// everything else in its normal form.
pub fn wire_value(i: &Indicator) -> String {
    if i.indicator_type() == IndicatorType::IpAddress
        && let Ok(ip) = i.value().parse()
    {
        return crate::value::ip::defender_text(ip);
    }
    i.value().to_owned()
}

/// `category`: the API returns an integer (whose names are undocumented),
/// the portal CSV takes a name. Either is kept as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Category {
    /// An integer, as the API returns it.
    Number(i64),
    /// A name, as the portal takes it (`SuspiciousActivity`).
    Name(String),
}

impl Category {
    /// The category as text.
    pub fn to_text(&self) -> String {
        match self {
            Category::Number(n) => n.to_string(),
            Category::Name(s) => s.clone(),
        }
    }
}

/// `generateAlert`: a JSON boolean on the wire; some exporters write the
/// text `"True"`/`"False"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    /// A boolean.
    Bool(bool),
    /// Text, which should say true or false.
    Text(String),
}

impl Flag {
    /// The flag's value; `None` for text that is neither true nor false.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Flag::Bool(b) => Some(*b),
            Flag::Text(t) if t.eq_ignore_ascii_case("true") => Some(true),
            Flag::Text(t) if t.eq_ignore_ascii_case("false") => Some(false),
            Flag::Text(_) => None,
        }
    }
}

/// One Indicator entity of the Defender API (`/api/indicators`), as
/// listed, submitted and imported. Every field is optional on reading;
/// the fields an export or an import writes are always written (as
/// `null` when empty), the server-assigned ones only when known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiIndicator {
    /// Server-assigned id: a numeric string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Allowed`, `Audit`, `Warn`, `Block`, `BlockAndRemediate`.
    #[serde(default)]
    pub action: Option<String>,
    /// The creating application; set at creation only (sync marks its
    /// own indicators with it).
    #[serde(default)]
    pub application: Option<String>,
    /// Alert category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Alert description.
    #[serde(default)]
    pub description: Option<String>,
    /// Custom notification URL for Block and Warn.
    #[serde(default)]
    pub educate_url: Option<String>,
    /// Expiry, ISO 8601; `null` never expires.
    #[serde(default)]
    pub expiration_time: Option<String>,
    /// The caller's correlation id (`externalID` in the entity table).
    #[serde(default, alias = "externalID")]
    pub external_id: Option<String>,
    /// Whether a match raises an alert.
    #[serde(default)]
    pub generate_alert: Option<Flag>,
    /// `FileSha1`, …, `Url`.
    #[serde(default)]
    pub indicator_type: Option<String>,
    /// The value.
    #[serde(default)]
    pub indicator_value: Option<String>,
    /// MITRE ATT&CK technique ids.
    #[serde(default)]
    pub mitre_techniques: Option<Vec<String>>,
    /// Device groups in scope; empty means every device.
    #[serde(default)]
    pub rbac_group_names: Option<Vec<String>>,
    /// Recommended actions shown with the alert.
    #[serde(default)]
    pub recommended_actions: Option<String>,
    /// `Informational`, `Low`, `Medium`, `High`.
    #[serde(default)]
    pub severity: Option<String>,
    /// Alert title.
    #[serde(default)]
    pub title: Option<String>,
    /// Creator: a UPN, or an app's client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The creator's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_display_name: Option<String>,
    /// `Portal`, `PublicApi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_source: Option<String>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time_date_time_utc: Option<String>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    /// Who last changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_by: Option<String>,
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

impl ApiIndicator {
    /// The entity for `i`, with its alert metadata, ready to submit.
    pub fn from_indicator(i: &Indicator) -> ApiIndicator {
        let m = i.meta();
        let list =
            |v: Vec<&str>| Some(v.into_iter().map(str::to_owned).collect());
        ApiIndicator {
            action: Some(i.action().as_str().to_owned()),
            application: text(m.application()),
            category: m.category().map(|c| Category::Name(c.to_owned())),
            description: text(m.description()),
            educate_url: text(m.educate_url()),
            expiration_time: m.expiration.map(|t| t.to_string()),
            external_id: text(m.external_id()),
            generate_alert: Some(Flag::Bool(i.alerts())),
            indicator_type: Some(i.indicator_type().as_str().to_owned()),
            indicator_value: Some(wire_value(i)),
            mitre_techniques: list(m.mitre_techniques()),
            rbac_group_names: list(m.rbac_group_names()),
            recommended_actions: text(m.recommended_actions()),
            severity: m.severity.map(|s| s.as_str().to_owned()),
            title: text(i.title()),
            ..ApiIndicator::default()
        }
    }
}

/// Writes `indicators` as a pretty-printed JSON array of entities, and a
/// final newline.
///
/// # Errors
///
/// When `w` fails.
pub fn write_json<'a>(
    indicators: impl IntoIterator<Item = &'a Indicator>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let entities: Vec<ApiIndicator> =
        indicators.into_iter().map(ApiIndicator::from_indicator).collect();
    serde_json::to_writer_pretty(&mut *w, &entities)?;
    writeln!(w)
}

/// One row of the portal's CSV import format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CsvRow {
    /// `FileSha1`, …, `Url`.
    pub indicator_type: String,
    /// The value.
    pub indicator_value: String,
    /// `YYYY-MM-DDTHH:MM:SS.0Z`, or empty.
    pub expiration_time: String,
    /// The action.
    pub action: String,
    /// The severity, or empty.
    pub severity: String,
    /// Alert title.
    pub title: String,
    /// Alert description.
    pub description: String,
    /// Recommended actions.
    pub recommended_actions: String,
    /// Device groups, comma-separated.
    pub rbac_groups: String,
    /// Category.
    pub category: String,
    /// MITRE technique ids, comma-separated.
    pub mitre_techniques: String,
    /// `True` or `False`.
    pub generate_alert: String,
}

impl CsvRow {
    /// The row for `i`.
    pub fn from_indicator(i: &Indicator) -> CsvRow {
        let m = i.meta();
        let own = |s: Option<&str>| s.unwrap_or("").to_owned();
        CsvRow {
            indicator_type: i.indicator_type().as_str().to_owned(),
            indicator_value: wire_value(i),
            expiration_time: m.expiration.map_or_else(String::new, |t| {
                t.strftime("%Y-%m-%dT%H:%M:%S.0Z").to_string()
            }),
            action: i.action().as_str().to_owned(),
            severity: own(m.severity.map(|s| s.as_str())),
            title: own(i.title()),
            description: own(m.description()),
            recommended_actions: own(m.recommended_actions()),
            rbac_groups: m.rbac_group_names().join(","),
            category: own(m.category()),
            mitre_techniques: m.mitre_techniques().join(","),
            generate_alert: if i.alerts() { "True" } else { "False" }.into(),
        }
    }
}

/// Writes `indicators` as one portal CSV file (header and rows). Callers
/// that may exceed [`CSV_ROWS_PER_FILE`] split first.
///
/// # Errors
///
/// When `w` fails.
pub fn write_csv<'a>(
    indicators: impl IntoIterator<Item = &'a Indicator>,
    w: &mut dyn Write,
) -> io::Result<()> {
    // The header is written by hand: serde writes one only with a first
    // row, and an empty export is still a valid file.
    let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(w);
    csv.write_record(CSV_HEADER)?;
    for i in indicators {
        csv.serialize(CsvRow::from_indicator(i)).map_err(io::Error::other)?;
    }
    csv.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Meta, Severity};

    #[test]
    fn the_csv_header_is_the_rows_field_order() {
        let mut out = Vec::new();
        let i = Indicator::new(
            IndicatorType::DomainName,
            "evil.com",
            Action::Audit,
        )
        .unwrap();
        write_csv([&i], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().next().unwrap(), CSV_HEADER.join(","));
        let row: CsvRow = csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(row, CsvRow::from_indicator(&i));
    }

    #[test]
    fn api_entities_carry_the_metadata_and_read_back() {
        let i = Indicator::new(
            IndicatorType::FileSha1,
            &"A".repeat(40),
            Action::Block,
        )
        .unwrap()
        .with_title("t")
        .with_meta(Meta { severity: Some(Severity::High), ..Meta::default() });
        let e = ApiIndicator::from_indicator(&i);
        assert_eq!(e.indicator_value.as_deref(), Some(&*"a".repeat(40)));
        assert_eq!(e.severity.as_deref(), Some("High"));
        let json = serde_json::to_value(&e).unwrap();
        assert!(json.get("id").is_none(), "server fields are not sent");
        assert_eq!(json["title"], "t");
        let back: ApiIndicator = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        let listed: ApiIndicator = serde_json::from_str(
            r#"{"id":"7","category":1,"generateAlert":"True","externalID":"x"}"#,
        )
        .unwrap();
        assert_eq!(listed.category, Some(Category::Number(1)));
        assert_eq!(
            listed.generate_alert.and_then(|f| f.as_bool()),
            Some(true)
        );
        assert_eq!(listed.external_id.as_deref(), Some("x"));
    }
}

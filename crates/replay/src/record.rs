//! The parts of a record that replay reads, deserialised without copying.
//!
//! Every column is optional and may be absent, `null` or `""`: all three
//! are "no value" ([`Text::is_empty`]). Unknown columns are skipped by the
//! parser without being built. The same types serve the fast parser
//! (sonic-rs) and the reference one (serde_json), so both must agree.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{
    self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::schema::{Col, column_named};

/// A scalar column value: borrowed text where the JSON has no escapes,
/// integers kept as integers (`ReportId` may exceed 2^53).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Text<'a> {
    /// Absent, `null`, `""`, a boolean, or a nested value.
    #[default]
    None,
    /// A string.
    Str(Cow<'a, str>),
    /// An unsigned integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
}

impl Text<'_> {
    /// The string value, if the column holds a non-empty string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// True for "no value".
    pub fn is_empty(&self) -> bool {
        match self {
            Text::None => true,
            Text::Str(s) => s.is_empty(),
            _ => false,
        }
    }

    /// The value as text (integers formatted).
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Text::None => Cow::Borrowed(""),
            Text::Str(s) => Cow::Borrowed(s),
            Text::U64(n) => Cow::Owned(n.to_string()),
            Text::I64(n) => Cow::Owned(n.to_string()),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Text<'de>, E> {
        Ok(Text::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Text<'de>, E> {
        Ok(if v >= 0 { Text::U64(v as u64) } else { Text::I64(v) })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Text<'de>, E> {
        Ok(Text::None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Text<'de>, E> {
        Ok(Text::None)
    }
    fn visit_unit<E>(self) -> Result<Text<'de>, E> {
        Ok(Text::None)
    }
    fn visit_none<E>(self) -> Result<Text<'de>, E> {
        Ok(Text::None)
    }
    fn visit_some<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> Result<Text<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut a: A,
    ) -> Result<Text<'de>, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text::None)
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut a: A,
    ) -> Result<Text<'de>, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text::None)
    }
}

/// The fields of inspected network events that carry hosts.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Inspected<'a> {
    /// `DnsConnectionInspected`: the queried name.
    #[serde(borrow, default)]
    pub query: Text<'a>,
    /// `HttpConnectionInspected`: the Host header.
    #[serde(borrow, default)]
    pub host: Text<'a>,
    /// `HttpConnectionInspected`: the request URI.
    #[serde(borrow, default)]
    pub uri: Text<'a>,
    /// `SslConnectionInspected`: the SNI server name.
    #[serde(borrow, default)]
    pub server_name: Text<'a>,
}

impl Inspected<'_> {
    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Inspected<'static> {
        let own = |t: Text<'_>| match t {
            Text::Str(s) => Text::Str(Cow::Owned(s.into_owned())),
            Text::None => Text::None,
            Text::U64(n) => Text::U64(n),
            Text::I64(n) => Text::I64(n),
        };
        Inspected {
            query: own(self.query),
            host: own(self.host),
            uri: own(self.uri),
            server_name: own(self.server_name),
        }
    }
}

/// `AdditionalFields`: usually a string holding JSON, sometimes a native
/// object. The string is parsed only when the record needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Extra<'a> {
    /// No value.
    #[default]
    None,
    /// A string, to be parsed as JSON on demand.
    Json(Cow<'a, str>),
    /// A string still in its escaped, quoted JSON form (the fast path
    /// defers unescaping until a record needs the fields).
    Quoted(&'a str),
    /// A native object, already read.
    Fields(Inspected<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Extra<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExtraVisitor)
    }
}

struct ExtraVisitor;

impl<'de> Visitor<'de> for ExtraVisitor {
    type Value = Extra<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdditionalFields")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Extra<'de>, E> {
        Ok(Extra::Json(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Extra<'de>, E> {
        Ok(Extra::Json(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Extra<'de>, E> {
        Ok(Extra::Json(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        a: A,
    ) -> Result<Extra<'de>, A::Error> {
        let f =
            Inspected::deserialize(de::value::MapAccessDeserializer::new(a))?;
        Ok(Extra::Fields(f))
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut a: A,
    ) -> Result<Extra<'de>, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Extra::None)
    }
    fn visit_unit<E>(self) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
    fn visit_none<E>(self) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
    fn visit_some<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> Result<Extra<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Extra<'de>, E> {
        Ok(Extra::None)
    }
}

/// The columns replay reads, under today's names; the 2019 names are
/// accepted as aliases. Which key goes where is the column table's
/// (`schema.rs`), for every parser.
#[allow(missing_docs)]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Properties<'a> {
    pub timestamp: Text<'a>,
    pub device_id: Text<'a>,
    pub device_name: Text<'a>,
    pub report_id: Text<'a>,
    pub machine_group: Text<'a>,
    pub action_type: Text<'a>,
    pub sha1: Text<'a>,
    pub sha256: Text<'a>,
    pub md5: Text<'a>,
    pub initiating_sha1: Text<'a>,
    pub initiating_sha256: Text<'a>,
    pub initiating_md5: Text<'a>,
    pub signer_hash: Text<'a>,
    pub remote_ip: Text<'a>,
    pub file_origin_ip: Text<'a>,
    pub request_source_ip: Text<'a>,
    pub remote_session_ip: Text<'a>,
    pub public_ip: Text<'a>,
    pub remote_url: Text<'a>,
    pub file_origin_url: Text<'a>,
    pub file_origin_referrer_url: Text<'a>,
    pub url: Text<'a>,
    pub additional_fields: Extra<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Properties<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PropertiesVisitor)
    }
}

struct PropertiesVisitor;

impl<'de> Visitor<'de> for PropertiesVisitor {
    type Value = Properties<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record's properties (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut a: A,
    ) -> Result<Properties<'de>, A::Error> {
        let mut p = Properties::default();
        let mut seen = 0u32;
        while let Some(ColumnKey(col)) = a.next_key()? {
            let Some(col) = col else {
                a.next_value::<IgnoredAny>()?;
                continue;
            };
            // A column given twice (or under both its names) is an
            // error, as the fast path, which hands such lines over, and
            // serde's derived readers have it.
            if seen & col.bit() != 0 {
                return Err(de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    col.name()
                )));
            }
            seen |= col.bit();
            match p.text_slot(col) {
                Some(slot) => *slot = a.next_value()?,
                None => p.additional_fields = a.next_value()?,
            }
        }
        Ok(p)
    }
}

/// A key of `properties`: the column it names, if replay reads it.
struct ColumnKey(Option<Col>);

impl<'de> Deserialize<'de> for ColumnKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ColumnKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name")
            }
            fn visit_str<E>(self, v: &str) -> Result<ColumnKey, E> {
                Ok(ColumnKey(column_named(v.as_bytes())))
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'a> Properties<'a> {
    /// Where a scalar column goes; `None` for `AdditionalFields`, which
    /// is not a scalar.
    #[inline]
    pub(crate) fn text_slot(&mut self, col: Col) -> Option<&mut Text<'a>> {
        Some(match col {
            Col::Timestamp => &mut self.timestamp,
            Col::DeviceId => &mut self.device_id,
            Col::DeviceName => &mut self.device_name,
            Col::ReportId => &mut self.report_id,
            Col::MachineGroup => &mut self.machine_group,
            Col::ActionType => &mut self.action_type,
            Col::Sha1 => &mut self.sha1,
            Col::Sha256 => &mut self.sha256,
            Col::Md5 => &mut self.md5,
            Col::ISha1 => &mut self.initiating_sha1,
            Col::ISha256 => &mut self.initiating_sha256,
            Col::IMd5 => &mut self.initiating_md5,
            Col::SignerHash => &mut self.signer_hash,
            Col::RemoteIp => &mut self.remote_ip,
            Col::FileOriginIp => &mut self.file_origin_ip,
            Col::RequestSourceIp => &mut self.request_source_ip,
            Col::RemoteSessionIp => &mut self.remote_session_ip,
            Col::PublicIp => &mut self.public_ip,
            Col::RemoteUrl => &mut self.remote_url,
            Col::FileOriginUrl => &mut self.file_origin_url,
            Col::FileOriginReferrerUrl => &mut self.file_origin_referrer_url,
            Col::Url => &mut self.url,
            Col::AdditionalFields => return None,
        })
    }
}

/// One record's envelope.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Envelope<'a> {
    /// `AdvancedHunting-<Table>`.
    #[serde(borrow, default)]
    pub category: Text<'a>,
    /// The row; `None` when absent or `null`.
    #[serde(borrow, default)]
    pub properties: Option<Properties<'a>>,
}

/// One input line: a record, or an Event Hub body holding records.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Line<'a> {
    /// `AdvancedHunting-<Table>` (records).
    #[serde(borrow, default)]
    pub category: Text<'a>,
    /// The row (records).
    #[serde(borrow, default)]
    pub properties: Option<Properties<'a>>,
    /// The records of an Event Hub body.
    #[serde(borrow, default)]
    pub records: Option<Vec<Envelope<'a>>>,
}

/// Why a line could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineError {
    /// Not JSON at all.
    NotJson,
    /// JSON cut short (a blob read mid-append).
    Truncated,
}

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

impl<'a> Extra<'a> {
    /// The inspected-host fields. A string that is not a JSON object (it
    /// happens: truncated values are seen in real exports) yields none.
    pub fn inspected(&self) -> Option<Inspected<'_>> {
        self.with_inspected(|f| f.cloned().map(Inspected::into_owned))
    }

    /// Calls `f` with the inspected-host fields (as
    /// [`Extra::inspected`] gives them), borrowed from a decoded copy
    /// that lives only for the call: no field is copied.
    pub fn with_inspected<R>(
        &self,
        f: impl FnOnce(Option<&Inspected<'_>>) -> R,
    ) -> R {
        match self {
            Extra::None => f(None),
            Extra::Fields(fields) => f(Some(fields)),
            Extra::Json(s) => f(parse_inspected(s).as_ref()),
            Extra::Quoted(q) => {
                let Some(s) = unescape(q) else { return f(None) };
                f(parse_inspected(&s).as_ref())
            }
        }
    }
}

/// Reads the fields of a decoded `AdditionalFields` string: the fast
/// path where it can be exact, serde_json elsewhere.
fn parse_inspected(s: &str) -> Option<Inspected<'_>> {
    crate::fast::scan_inspected(s)
        .or_else(|| serde_json::from_str::<Inspected<'_>>(s).ok())
}

/// Decodes a JSON string literal (quotes included). The common escapes
/// are undone here; a `\u` escape, or anything a string literal may not
/// hold (a bare quote, a control byte), is left to serde_json, which
/// decides.
fn unescape(quoted: &str) -> Option<String> {
    let full = || serde_json::from_str(quoted).ok();
    let Some(inner) =
        quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'))
    else {
        return full();
    };
    // One pass over the bytes: the values are short and escape-dense,
    // and a search call per escape cost more than this loop.
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match b {
            b'\\' => match bytes.get(i + 1) {
                Some(b'"') => b'"',
                Some(b'\\') => b'\\',
                Some(b'/') => b'/',
                Some(b'b') => 0x08,
                Some(b'f') => 0x0c,
                Some(b'n') => b'\n',
                Some(b'r') => b'\r',
                Some(b't') => b'\t',
                _ => return full(),
            },
            // Not allowed bare inside a string literal.
            b'"' | 0..0x20 => return full(),
            _ => {
                out.push(b);
                i += 1;
                continue;
            }
        };
        out.push(decoded);
        i += 2;
    }
    // Only ASCII bytes were replaced or dropped, so this is still UTF-8.
    String::from_utf8(out).ok()
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
/// accepted as aliases.
#[allow(missing_docs)]
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Properties<'a> {
    #[serde(borrow, default, alias = "EventTime")]
    pub timestamp: Text<'a>,
    #[serde(borrow, default, alias = "MachineId")]
    pub device_id: Text<'a>,
    #[serde(borrow, default, alias = "ComputerName")]
    pub device_name: Text<'a>,
    #[serde(borrow, default)]
    pub report_id: Text<'a>,
    #[serde(borrow, default)]
    pub machine_group: Text<'a>,
    #[serde(borrow, default)]
    pub action_type: Text<'a>,
    #[serde(borrow, default, rename = "SHA1")]
    pub sha1: Text<'a>,
    #[serde(borrow, default, rename = "SHA256")]
    pub sha256: Text<'a>,
    #[serde(borrow, default, rename = "MD5")]
    pub md5: Text<'a>,
    #[serde(borrow, default, rename = "InitiatingProcessSHA1")]
    pub initiating_sha1: Text<'a>,
    #[serde(borrow, default, rename = "InitiatingProcessSHA256")]
    pub initiating_sha256: Text<'a>,
    #[serde(borrow, default, rename = "InitiatingProcessMD5")]
    pub initiating_md5: Text<'a>,
    #[serde(borrow, default)]
    pub signer_hash: Text<'a>,
    #[serde(borrow, default, rename = "RemoteIP")]
    pub remote_ip: Text<'a>,
    #[serde(borrow, default, rename = "FileOriginIP")]
    pub file_origin_ip: Text<'a>,
    #[serde(borrow, default, rename = "RequestSourceIP")]
    pub request_source_ip: Text<'a>,
    #[serde(borrow, default, rename = "InitiatingProcessRemoteSessionIP")]
    pub remote_session_ip: Text<'a>,
    #[serde(borrow, default, rename = "PublicIP")]
    pub public_ip: Text<'a>,
    #[serde(borrow, default)]
    pub remote_url: Text<'a>,
    #[serde(borrow, default)]
    pub file_origin_url: Text<'a>,
    #[serde(borrow, default)]
    pub file_origin_referrer_url: Text<'a>,
    #[serde(borrow, default)]
    pub url: Text<'a>,
    #[serde(borrow, default)]
    pub additional_fields: Extra<'a>,
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

/// Which JSON parser reads lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parser {
    /// The fast path ([`crate::fast`]) with sonic-rs behind it: the
    /// default.
    #[default]
    Fast,
    /// sonic-rs alone.
    Sonic,
    /// serde_json alone: the reference the others are tested against.
    Reference,
}

/// Why a line could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineError {
    /// Not JSON at all.
    NotJson,
    /// JSON cut short (a blob read mid-append).
    Truncated,
}

impl Parser {
    /// Parses one line (without its line ending).
    pub fn parse<'a>(self, bytes: &'a [u8]) -> Result<Line<'a>, LineError> {
        let mut out = Line::default();
        self.parse_into(bytes, &mut out).map(|()| out)
    }

    /// [`Parser::parse`] into a caller's `Line`, which the fast path
    /// fills in place. After an error, `out` holds no useful value.
    pub fn parse_into<'a>(
        self,
        bytes: &'a [u8],
        out: &mut Line<'a>,
    ) -> Result<(), LineError> {
        if self == Parser::Fast {
            if crate::fast::scan_into(bytes, out).is_some() {
                return Ok(());
            }
            *out = Parser::Sonic.parse_owned(bytes)?;
            return Ok(());
        }
        *out = self.parse_owned(bytes)?;
        Ok(())
    }

    fn parse_owned<'a>(self, bytes: &'a [u8]) -> Result<Line<'a>, LineError> {
        match self {
            Parser::Fast | Parser::Sonic => sonic_rs::from_slice(bytes)
                .map_err(|e| {
                    if e.is_eof() {
                        LineError::Truncated
                    } else {
                        LineError::NotJson
                    }
                }),
            Parser::Reference => serde_json::from_slice(bytes).map_err(|e| {
                if e.is_eof() {
                    LineError::Truncated
                } else {
                    LineError::NotJson
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &[u8] = br#"{"time":"t","category":"AdvancedHunting-DeviceNetworkEvents","properties":{"Timestamp":"2026-07-18T13:58:42.24998Z","DeviceId":"abc","ReportId":639199803770463703,"RemoteIP":"1.2.3.4","RemoteUrl":null,"FileName":"x\"y","AdditionalFields":"{\"query\":\"evil.com\"}","Extra":{"a":[1,2]}},"Tenant":"x"}"#;

    #[test]
    fn both_parsers_read_the_same() {
        for p in [Parser::Fast, Parser::Sonic, Parser::Reference] {
            let l = p.parse(REC).unwrap();
            let props = l.properties.unwrap();
            assert_eq!(
                l.category.as_str(),
                Some("AdvancedHunting-DeviceNetworkEvents")
            );
            assert_eq!(props.report_id, Text::U64(639199803770463703));
            assert_eq!(props.remote_ip.as_str(), Some("1.2.3.4"));
            assert!(props.remote_url.is_empty());
            let i = props.additional_fields.inspected().unwrap();
            assert_eq!(i.query.as_str(), Some("evil.com"));
        }
    }

    #[test]
    fn legacy_names_and_native_objects() {
        let rec = br#"{"category":"AdvancedHunting-NetworkCommunicationEvents","properties":{"EventTime":"2019-01-01T00:00:00Z","MachineId":"m","ComputerName":"pc","AdditionalFields":{"server_name":"e.com"},"ReportId":"r-1"}}"#;
        for p in [Parser::Fast, Parser::Sonic, Parser::Reference] {
            let props = p.parse(rec).unwrap().properties.unwrap();
            assert_eq!(props.timestamp.as_str(), Some("2019-01-01T00:00:00Z"));
            assert_eq!(props.device_id.as_str(), Some("m"));
            assert_eq!(props.device_name.as_str(), Some("pc"));
            assert_eq!(props.report_id.as_str(), Some("r-1"));
            let i = props.additional_fields.inspected().unwrap();
            assert_eq!(i.server_name.as_str(), Some("e.com"));
        }
    }

    #[test]
    fn errors_are_classified() {
        for p in [Parser::Fast, Parser::Sonic, Parser::Reference] {
            assert_eq!(
                p.parse(br#"{"category":"x","prop"#).unwrap_err(),
                LineError::Truncated
            );
            assert_eq!(p.parse(b"hello").unwrap_err(), LineError::NotJson);
        }
    }

    /// The reference reading of `AdditionalFields`: serde_json for the
    /// string, then for the object in it.
    fn reference(e: &Extra<'_>) -> Option<Inspected<'static>> {
        let owned = |s: &str| {
            serde_json::from_str::<Inspected<'_>>(s)
                .ok()
                .map(Inspected::into_owned)
        };
        match e {
            Extra::Quoted(q) => {
                owned(&serde_json::from_str::<String>(q).ok()?)
            }
            Extra::Json(s) => owned(s),
            _ => None,
        }
    }

    const SEEDS: [&str; 5] = [
        r#"{"direction":"Out","query":"apistatic.io","answers":"[\"52.96.1.1\"]"}"#,
        r#"{"direction":"Out","host":"mediasync.de","uri":"/a?b=c","method":"GET"}"#,
        r#"{"server_name":"e.com","query":12,"x":{"a":[1,null,true]},"host":"h\u00e9.com"}"#,
        r#"{"uri":"/x","host":"a.b","uri":"/y"}"#,
        // Negative zero is a float to serde_json (found by fuzzing).
        r#"{"host":-0,"query":-12,"uri":-0.0,"server_name":0}"#,
    ];

    fn mutated() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let edit = (
            any::<prop::sample::Index>(),
            0u8..3,
            prop::sample::select(br#""\{}[],: ux0-.ntfe/"#.to_vec()),
        );
        (
            prop::sample::select(SEEDS.to_vec()),
            prop::collection::vec(edit, 0..4),
        )
            .prop_map(|(seed, edits)| {
                let mut b = seed.as_bytes().to_vec();
                for (at, op, c) in edits {
                    if b.is_empty() {
                        break;
                    }
                    let i = at.index(b.len());
                    match op {
                        0 => {
                            b.remove(i);
                        }
                        1 => b.insert(i, c),
                        _ => b[i] = c,
                    }
                }
                String::from_utf8_lossy(&b).into_owned()
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        #[test]
        fn inspected_fields_read_as_serde_reads_them(inner in mutated(), raw in mutated()) {
            // The object as it is, and as a string literal: encoded
            // properly, and mutated in its encoded form.
            let quoted = serde_json::to_string(&inner).unwrap();
            let raw_quoted = format!("\"{raw}\"");
            for e in [Extra::Json(Cow::Borrowed(&inner)), Extra::Quoted(&quoted), Extra::Quoted(&raw_quoted)] {
                proptest::prop_assert_eq!(e.inspected(), reference(&e), "{:?}", e);
            }
        }

        #[test]
        fn unescape_is_serdes(raw in proptest::collection::vec(proptest::sample::select(
            br#"\\\\"nrtbfu/0a9Ed"#.iter().copied().chain([0x01, b'\n']).collect::<Vec<u8>>(),
        ), 0..24)) {
            let q = format!("\"{}\"", String::from_utf8(raw).unwrap());
            proptest::prop_assert_eq!(unescape(&q), serde_json::from_str::<String>(&q).ok(), "{:?}", q);
        }
    }

    #[test]
    fn fast_inspected_takes_the_plain_shapes() {
        let i = crate::fast::scan_inspected(SEEDS[0]).unwrap();
        assert_eq!(i.query.as_str(), Some("apistatic.io"));
        let i = crate::fast::scan_inspected(SEEDS[1]).unwrap();
        assert_eq!(
            (i.host.as_str(), i.uri.as_str()),
            (Some("mediasync.de"), Some("/a?b=c"))
        );
        // A duplicate field is the full parser's call (which refuses it).
        assert_eq!(crate::fast::scan_inspected(SEEDS[3]), None);
        assert_eq!(Extra::Json(Cow::Borrowed(SEEDS[3])).inspected(), None);
    }
}

//! Reading lines into [`record`](crate::record)'s types: the choice of
//! parser ([`Parser`]: the fast path with sonic-rs behind it, sonic-rs
//! alone, or serde_json), and the deferred reading of an inspected
//! event's `AdditionalFields`.

use crate::record::{Extra, Inspected, Line, LineError};

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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::record::Text;

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

//! The fast path gives exactly what the full parser gives, or steps
//! aside: on real generated lines and on random mutations of them.

use iocmatch_gen::Layout;
use iocmatch_replay::fast;
use iocmatch_replay::parse::Parser;
use iocmatch_replay::record::{Extra, Line, Properties};
use proptest::prelude::*;

use crate::common::generate;

/// Resolves `AdditionalFields` so that a deferred (escaped) string and a
/// decoded one compare equal.
fn canon(l: Line<'_>) -> String {
    let fix = |p: Option<Properties<'_>>| {
        p.map(|mut p| {
            p.additional_fields = match p.additional_fields.inspected() {
                Some(i) => Extra::Fields(i.into_owned()),
                None => Extra::None,
            };
            format!("{p:?}")
        })
    };
    let records: Option<Vec<_>> = l.records.map(|rs| {
        rs.into_iter()
            .map(|e| (format!("{:?}", e.category), fix(e.properties)))
            .collect()
    });
    format!("{:?} {:?} {:?}", l.category, fix(l.properties), records)
}

fn lines() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let export = generate(dir.path(), Layout::Jsonl, false, 400_000, 5);
    let data = std::fs::read(export.join("events.jsonl")).unwrap();
    let mut v: Vec<Vec<u8>> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    // Shapes the generator does not write.
    v.push(br#"{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"Timestamp":"2026-07-18T00:00:00Z","RemoteUrl":"http:\/\/x.com\/\u00e9","ReportId":-5,"AdditionalFields":{"query":"e.com"},"X":[1,2.5e3,{"a":null}],"RemoteIP":1.5}}"#.to_vec());
    v.push(
        br#"{"category":"AdvancedHunting-DeviceEvents","properties":null}"#
            .to_vec(),
    );
    v.push(br#"{"records":[{"category":"AdvancedHunting-DeviceEvents","properties":{"SHA1":"ab"}}]}"#.to_vec());
    v.push(br#"{ "category" : "AdvancedHunting-DeviceEvents", "properties": {"SHA1":"ab"} }"#.to_vec());
    v.push(br#"{"category":"AdvancedHunting-DeviceEvents","properties":{"SHA1":"ab","SHA1":"cd"}}"#.to_vec());
    v.push(br#"{"category":"AdvancedHunting-DeviceEvents","properties":{"Timestamp":"a","EventTime":"b"}}"#.to_vec());
    v.push(br#"{"category":"AdvancedHunting-DeviceEvents","properties":{"ReportId":123456789012345678901234}}"#.to_vec());
    // Negative zero, which both full parsers read as a float (found by
    // the read_inspected fuzz target).
    v.push(br#"{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"ReportId":-0,"RemoteIP":-0,"RemotePort":-0.0,"AdditionalFields":"{\"server_name\":-0,\"host\":-1}"}}"#.to_vec());
    v
}

#[test]
fn generated_lines_agree_and_take_the_fast_path() {
    let lines = lines();
    let mut fast_hits = 0;
    for l in &lines {
        let sonic = Parser::Sonic.parse(l);
        let reference = Parser::Reference.parse(l);
        assert_eq!(
            sonic.is_ok(),
            reference.is_ok(),
            "{}",
            String::from_utf8_lossy(l)
        );
        if let (Ok(a), Ok(b)) = (&sonic, &reference) {
            assert_eq!(canon(a.clone()), canon(b.clone()));
        }
        if let Some(f) = fast::scan(l) {
            fast_hits += 1;
            let full = reference.as_ref().unwrap_or_else(|e| {
                panic!(
                    "fast path read a line the parser refuses ({e:?}): {}",
                    String::from_utf8_lossy(l)
                )
            });
            assert_eq!(
                canon(f),
                canon(full.clone()),
                "{}",
                String::from_utf8_lossy(l)
            );
        }
    }
    assert!(
        fast_hits * 100 >= lines.len() * 95,
        "the fast path should take nearly every generated line: {fast_hits} of {}",
        lines.len()
    );
}

const SIGNIFICANT: &[u8] = b"\"{}[],:\\ 0-.eutnlfaE\x01";

/// An edit: where, what (remove, insert, replace), and which byte.
type Edit = (prop::sample::Index, u8, prop::sample::Index);

fn edits(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(
        (any::<prop::sample::Index>(), 0u8..3, any::<prop::sample::Index>()),
        n,
    )
}

/// Applies `edits` to `bytes`, inserting and replacing with `from`.
fn mutate(bytes: &mut Vec<u8>, edits: Vec<Edit>, from: &[u8]) {
    for (at, op, byte) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = at.index(bytes.len());
        let b = *byte.get(from);
        match op {
            0 => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, b),
            _ => bytes[i] = b,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutations_agree_with_the_full_parser(
        pick in any::<prop::sample::Index>(),
        edits in edits(1..4),
    ) {
        thread_local!(static LINES: Vec<Vec<u8>> = lines());
        let mut line = LINES.with(|l| pick.get(l).clone());
        mutate(&mut line, edits, SIGNIFICANT);
        if let Some(f) = fast::scan(&line) {
            match Parser::Sonic.parse(&line) {
                Ok(full) => prop_assert_eq!(canon(f), canon(full)),
                Err(e) => prop_assert!(false, "fast path read a line sonic refuses ({:?}): {}", e, String::from_utf8_lossy(&line)),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A chunk read line by line as the workers read it
    /// (`fast::scan_line`): each line is split where a newline search
    /// splits it, and read only as the full parser reads it.
    #[test]
    fn chunks_split_and_read_line_by_line(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..3), 1..5),
        edits in edits(0..4),
    ) {
        thread_local!(static LINES: Vec<Vec<u8>> = lines());
        let mut chunk = Vec::new();
        for (pick, ending) in picks {
            chunk.extend(LINES.with(|l| pick.get(l).clone()));
            chunk.extend_from_slice([&b"\n"[..], b"\r\n", b""][ending]);
        }
        // Mutations that may add or remove line endings too.
        mutate(&mut chunk, edits, b"\"{}[],:\\ 0-.eutnlfaE\x01\n\r");
        let mut start = 0;
        while start < chunk.len() {
            let rest = &chunk[start..];
            let mut line = Line::default();
            let next = fast::scan_line(rest, &mut line);
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let want = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
            prop_assert_eq!(next.len, want.len());
            prop_assert_eq!(next.next, (end + 1).min(rest.len()));
            if next.read {
                match Parser::Sonic.parse(want) {
                    Ok(full) => prop_assert_eq!(canon(line), canon(full)),
                    Err(e) => prop_assert!(false, "fast path read a line sonic refuses ({:?}): {}", e, String::from_utf8_lossy(want)),
                }
            }
            start += next.next;
        }
    }
}

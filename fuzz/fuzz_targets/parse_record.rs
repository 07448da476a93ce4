//! The record reader never panics, and the fast path reads a line only
//! when it reads it exactly as the full parser does; read line by line
//! as a chunk (`scan_line`), lines split where a newline search splits
//! them.
#![no_main]

use iocmatch_replay::fast;
use iocmatch_replay::parse::Parser;
use iocmatch_replay::record::Line;
use libfuzzer_sys::fuzz_target;

fn same(a: &Line<'_>, b: &Line<'_>) -> bool {
    a.category == b.category
        && a.properties.as_ref().map(|p| (&p.timestamp, &p.device_id, &p.report_id, &p.remote_url, &p.sha1))
            == b.properties.as_ref().map(|p| (&p.timestamp, &p.device_id, &p.report_id, &p.remote_url, &p.sha1))
        && a.properties.as_ref().map(|p| p.additional_fields.inspected())
            == b.properties.as_ref().map(|p| p.additional_fields.inspected())
}

fuzz_target!(|data: &[u8]| {
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        let mut line = Line::default();
        let next = fast::scan_line(rest, &mut line);
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let want = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        assert_eq!((next.len, next.next), (want.len(), (end + 1).min(rest.len())));
        if next.read {
            let full = Parser::Sonic.parse(want).expect("scan_line read a line the full parser refuses");
            assert!(same(&line, &full));
        }
        start += next.next;
    }
    let full = Parser::Sonic.parse(data);
    let _ = Parser::Reference.parse(data);
    if let Some(line) = fast::scan(data) {
        let full = full.expect("the fast path read a line the full parser refuses");
        assert!(same(&line, &full));
    }
});

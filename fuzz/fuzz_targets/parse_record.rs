//! The record reader never panics, and the fast path reads a line only
//! when it reads it exactly as the full parser does.
#![no_main]

use iocmatch_replay::fast;
use iocmatch_replay::record::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let full = Parser::Sonic.parse(data);
    let _ = Parser::Reference.parse(data);
    if let Some(line) = fast::scan(data) {
        let full = full.expect("the fast path read a line the full parser refuses");
        let same = |a: &iocmatch_replay::record::Line<'_>, b: &iocmatch_replay::record::Line<'_>| {
            a.category == b.category
                && a.properties.as_ref().map(|p| (&p.timestamp, &p.device_id, &p.report_id, &p.remote_url, &p.sha1))
                    == b.properties.as_ref().map(|p| (&p.timestamp, &p.device_id, &p.report_id, &p.remote_url, &p.sha1))
                && a.properties.as_ref().map(|p| p.additional_fields.inspected())
                    == b.properties.as_ref().map(|p| p.additional_fields.inspected())
        };
        assert!(same(&line, &full));
    }
});

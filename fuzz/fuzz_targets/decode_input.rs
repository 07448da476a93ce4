//! Decoding an input (gzip, Event Hubs Capture Avro, CSV and JSON
//! exports) never panics, and an export becomes lines that are each a
//! JSON record or a marker replay rejects as not JSON.
#![no_main]

use iocmatch_replay::decode::{Decoding, decode_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let how = Decoding::default();
    let Ok(lines) = decode_bytes(data, &how) else { return };
    let export = !data.starts_with(b"Obj\x01") && !data.starts_with(&[0x1f, 0x8b]) && lines != data;
    if export {
        for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let ok = serde_json::from_slice::<serde_json::Value>(line).is_ok()
                || line == b"not CSV"
                || line == b"not a row";
            assert!(ok, "{}", String::from_utf8_lossy(line));
        }
    }
});

//! Arbitrary plain lists compile, and arbitrary observed values match
//! without panicking; every candidate is a valid id and the effective one
//! is among them.
#![no_main]

use std::sync::Arc;

use iocmatch_core::load::{Format, LoadOptions, load_bytes};
use iocmatch_core::{HashKind, IndicatorSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (list, probes) = data.split_at(split);
    let name: Arc<str> = Arc::from("fuzz");
    let Ok(loaded) = load_bytes(&name, list, Format::Text, &LoadOptions::default()) else { return };
    let set = IndicatorSet::new(loaded.indicators).expect("compiles");
    for probe in probes.split(|&b| b == b'\n') {
        let mut out = Vec::new();
        if let Ok(text) = std::str::from_utf8(probe) {
            let _ = set.match_network_text(text, &mut out);
            if let Some(ip) = iocmatch_core::value::ip::parse_addr(text) {
                set.match_ip(ip, &mut out);
            }
        }
        for kind in [HashKind::Md5, HashKind::Sha1, HashKind::Sha256] {
            out.extend_from_slice(set.match_hash(kind, probe));
        }
        assert!(out.iter().all(|id| id.index() < set.len()));
        if let Some(e) = set.effective(&out) {
            assert!(out.contains(&e));
        }
    }
});

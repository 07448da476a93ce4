//! The Extract loader never panics; every refusal names a line.
#![no_main]

use std::sync::Arc;

use iocmatch_core::IndicatorSet;
use iocmatch_core::load::{Format, LoadOptions, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name: Arc<str> = Arc::from("fuzz");
    if let Ok(loaded) = load_bytes(&name, data, Format::Extract, &LoadOptions::default()) {
        for r in &loaded.rejected {
            assert!(r.source.line_number() >= 1, "{r}");
        }
        // Whatever loads must compile.
        IndicatorSet::new(loaded.indicators).expect("loaded indicators compile");
    }
});

//! The host fields of inspected events (`AdditionalFields`) read as
//! serde_json reads them, whether the value is an object's text or a
//! string literal holding it, and reading never panics.
#![no_main]

use std::borrow::Cow;

use iocmatch_replay::record::{Extra, Inspected};
use libfuzzer_sys::fuzz_target;

fn reference(e: &Extra<'_>) -> Option<Inspected<'static>> {
    let object = |s: &str| {
        serde_json::from_str::<Inspected<'_>>(s).ok().map(Inspected::into_owned)
    };
    match e {
        Extra::Json(s) => object(s),
        Extra::Quoted(q) => object(&serde_json::from_str::<String>(q).ok()?),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let literal = format!("\"{text}\"");
    for e in [Extra::Json(Cow::Borrowed(text)), Extra::Quoted(&literal)] {
        assert_eq!(e.inspected(), reference(&e), "{e:?}");
    }
});

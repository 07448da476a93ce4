//! Canonical forms of indicator values and of observed values.
//!
//! Everything that decides whether two spellings mean the same thing lives
//! here, shared by the loaders (indicators) and by replay (observables).

pub mod hex;
pub mod host;
pub mod ip;
mod refang;
pub mod url;

pub use refang::refang;
pub(crate) use refang::unbracket;

/// `s.trim()`, without the Unicode-aware scan when neither end is white
/// space: loaders trim every cell of every row, and `str::trim` walks
/// `char`s from both ends even when there is nothing to trim.
#[inline]
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z))
            if a.is_ascii_graphic() && z.is_ascii_graphic() =>
        {
            s
        }
        (None, _) => s,
        _ => s.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_trim_equals_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "\u{a0}x\u{a0}",
            "x\u{2003}",
            "\u{feff}x",
            "é",
            "a b",
            "\u{85}",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }
}

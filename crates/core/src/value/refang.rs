//! Undo the defanging that threat reports apply to indicators.

use std::borrow::Cow;

/// The bracketed forms and what they stand for. Matched
/// ASCII-case-insensitively.
const BRACKETS: [(&str, &str); 11] = [
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[://]", "://"),
    ("[:]", ":"),
    ("[/]", "/"),
    ("[@]", "@"),
    ("[at]", "@"),
];

/// Refangs `s`: `hxxp://` and `hxxps://` (any case) become `http://` and
/// `https://`; `[.]`, `(.)`, `{.}` and `[dot]` become `.`; `[:]` becomes `:`
/// and `[@]` becomes `@`. Nothing else is rewritten, so `hxxp-shop.com`
/// stays as it is. Surrounding white space is trimmed.
///
/// Returns the input unchanged (borrowed) when there is nothing to undo,
/// which is the common case.
pub fn refang(s: &str) -> Cow<'_, str> {
    let s = super::trim(s);
    // Values are short: a branch-free pass over every byte is cheaper
    // than a search call (memchr3), and the compiler vectorises it.
    let brackets =
        s.bytes().fold(false, |any, b| any | matches!(b, b'[' | b'(' | b'{'));
    if !brackets {
        return match defanged_scheme(s) {
            None => Cow::Borrowed(s),
            Some((fanged, len)) => {
                Cow::Owned(format!("{fanged}{}", &s[len..]))
            }
        };
    }
    // Brackets first: `hxxps[://]` is a defanged scheme only once its
    // separator is restored.
    let unbracketed = unbracket(s);
    match defanged_scheme(&unbracketed) {
        None => Cow::Owned(unbracketed),
        Some((fanged, len)) => {
            Cow::Owned(format!("{fanged}{}", &unbracketed[len..]))
        }
    }
}

/// `s` with every bracketed form undone, anywhere (running text as well
/// as a value).
pub(crate) fn unbracket(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for (from, to) in BRACKETS {
            if starts_with_ignore_case(rest, from) {
                out.push_str(to);
                rest = &rest[from.len()..];
                continue 'outer;
            }
        }
        let ch = rest.chars().next().expect("rest is not empty");
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

/// Recognises `hxxp://` / `hxxps://` in any case and returns the real
/// scheme prefix and the length of the defanged one.
fn defanged_scheme(s: &str) -> Option<(&'static str, usize)> {
    if starts_with_ignore_case(s, "hxxps://") {
        Some(("https://", 8))
    } else if starts_with_ignore_case(s, "hxxp://") {
        Some(("http://", 7))
    } else {
        None
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::refang;

    #[test]
    fn refangs_the_listed_forms_only() {
        let t = |i: &str, o: &str| assert_eq!(refang(i), o, "input {i:?}");
        t("hxxp://evil[.]com/a", "http://evil.com/a");
        t("HXXPS://evil(.)com", "https://evil.com");
        t("hXxps://a{.}b[DOT]c", "https://a.b.c");
        t("1.2.3[.]4", "1.2.3.4");
        t("user[@]evil[.]com", "user@evil.com");
        t("http[:]//x.com", "http://x.com");
        t("hxxp-shop.com", "hxxp-shop.com");
        t("  evil.com \t", "evil.com");
        t("évil[.]com", "évil.com");
        t("a[b].com", "a[b].com");
        t("hxxps[://]evil[.]com", "https://evil.com");
        t("hxxp[:]//evil(dot)com[/]x", "http://evil.com/x");
        t("admin[at]evil{dot}com", "admin@evil.com");
        t("hxxps://plain.com", "https://plain.com");
    }
}

//! Plain lists: one value per line, `#` comments, blank lines ignored.
//!
//! Lists found in the wild also carry a comment after the value
//! (`value<TAB>comment`, `value # comment`, `value;comment`,
//! `value,comment`) and quotes (`"evil.com"`): the value is the part
//! that reads as an indicator.

use crate::draft::{IndicatorDraft, TypeSpec};
use crate::indicator::Source;

use super::Context;

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text: {e}"))?;
    let (meta, title) =
        ctx.interner.finish(ctx.default_meta()).map_err(|e| e.to_string())?;
    let ty = match ctx.opts.text_type {
        Some(t) => TypeSpec::Known(t),
        None => TypeSpec::Infer,
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value = value_of(line, ctx.opts.text_type);
        let known = match &ty {
            TypeSpec::Known(t) => Some(*t),
            _ => crate::normal::infer_type(&crate::value::refang(value)),
        };
        ctx.push(IndicatorDraft {
            indicator_type: ty.clone(),
            value: value.into(),
            action: Some(ctx.default_action(known).into()),
            meta: meta.clone(),
            title: title.clone(),
            source: Source::line(&ctx.file, i as u64 + 1),
        });
    }
    Ok(())
}

/// The indicator in a list line: the whole line when it reads as one,
/// else the part before a comment or a separator. A tab or ` #` always
/// starts a comment (a URL's fragment has no space before it); a `,` or
/// `;` does only when what comes before it reads as an indicator and the
/// whole line does not (a URL's query may hold either).
fn value_of(line: &str, ty: Option<crate::kind::IndicatorType>) -> &str {
    let mut v = line;
    if let Some((head, _)) = v.split_once('\t') {
        v = head.trim();
    }
    if let Some((head, _)) = v.split_once(" #") {
        v = head.trim();
    }
    if !v.contains([',', ';']) {
        return unquote(v);
    }
    let reads = |v: &str| {
        let v = unquote(v);
        let refanged = crate::value::refang(v);
        match ty.map_or_else(|| crate::normal::infer(&refanged).ok(), Some) {
            Some(t) => crate::normal::normalize(t, v).is_ok(),
            None => false,
        }
    };
    if !reads(v) {
        for sep in [';', ','] {
            if let Some((head, _)) = v.split_once(sep)
                && reads(head.trim())
            {
                return unquote(head.trim());
            }
        }
    }
    unquote(v)
}

/// `"v"` or `'v'` without its quotes.
fn unquote(v: &str) -> &str {
    for q in ['"', '\'', '`'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q))
        {
            return inner.trim();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::value_of;

    #[test]
    fn the_value_is_what_reads_as_an_indicator() {
        fn v(l: &str) -> &str {
            value_of(l, None)
        }
        assert_eq!(v("evil.com\tseen 2026-11-02"), "evil.com");
        assert_eq!(v("evil.com # C2"), "evil.com");
        assert_eq!(v("http://e.com/page#frag"), "http://e.com/page#frag");
        assert_eq!(v("1.2.3.4;scanner"), "1.2.3.4");
        assert_eq!(
            v("d41d8cd98f00b204e9800998ecf8427e,empty file"),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            v("http://e.com/a?x=1,2"),
            "http://e.com/a?x=1,2",
            "a URL keeps its comma"
        );
        assert_eq!(v("\"evil.com\""), "evil.com");
        assert_eq!(v("'hxxp://e[.]com/x' # quoted"), "hxxp://e[.]com/x");
    }
}

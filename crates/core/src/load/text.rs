//! Plain lists: one value per line, `#` comments, blank lines ignored.

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
        let value = line.trim();
        // Only whole-line comments: a URL may carry a '#' fragment.
        if value.is_empty() || value.starts_with('#') {
            continue;
        }
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

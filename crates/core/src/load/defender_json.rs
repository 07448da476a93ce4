//! Defender API JSON: an array of Indicator entities, JSON Lines of them,
//! one entity, or a list response `{"value":[…]}` as `GET /api/indicators`
//! returns it.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

use crate::defender::ApiIndicator;
use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{invalid_field, unreadable};
use crate::indicator::Source;

use super::{Context, LineCounter, json_lines};

#[derive(Deserialize)]
struct ListResponse<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<&RawValue> = serde_json::from_slice(bytes)
            .map_err(|e| format!("invalid JSON array: {e}"))?;
        let mut lines = LineCounter::new(bytes);
        for (i, raw) in items.into_iter().enumerate() {
            entity(ctx, &mut lines, raw, Some(format!("$[{i}]")));
        }
        return Ok(());
    }
    if first != Some(&b'{') {
        return Err("not Defender JSON: expected an array or objects".into());
    }
    match serde_json::from_slice::<&RawValue>(bytes) {
        Ok(doc) => document(ctx, &mut LineCounter::new(bytes), doc),
        // Several top-level objects: JSON Lines.
        Err(e) if e.is_syntax() && e.to_string().contains("trailing") => {
            let mut lines = LineCounter::new(bytes);
            for (line, raw) in json_lines(bytes) {
                match raw {
                    Ok(raw) => entity(ctx, &mut lines, raw, None),
                    Err(why) => ctx.reject(
                        Source::line(&ctx.file, line),
                        "",
                        unreadable(format!("invalid JSON: {why}")),
                    ),
                }
            }
            Ok(())
        }
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn document(
    ctx: &mut Context<'_>,
    lines: &mut LineCounter<'_>,
    doc: &RawValue,
) -> Result<(), String> {
    if let Ok(list) = serde_json::from_str::<ListResponse<'_>>(doc.get()) {
        for (i, raw) in list.value.into_iter().enumerate() {
            entity(ctx, lines, raw, Some(format!("$.value[{i}]")));
        }
    } else {
        entity(ctx, lines, doc, None);
    }
    Ok(())
}

fn entity(
    ctx: &mut Context<'_>,
    lines: &mut LineCounter<'_>,
    raw: &RawValue,
    path: Option<String>,
) {
    let line = lines.line_of(raw.get());
    let source = match path {
        Some(p) => Source::json(&ctx.file, p, line),
        None => Source::line(&ctx.file, line),
    };
    let api: ApiIndicator = match serde_json::from_str(raw.get()) {
        Ok(a) => a,
        Err(e) => {
            return ctx.reject(
                source,
                "",
                unreadable(format!("not an Indicator entity: {e}")),
            );
        }
    };
    let value = api.indicator_value.clone().unwrap_or_default();
    let generate_alert = match api.generate_alert.as_ref().map(|f| f.as_bool())
    {
        None => None,
        Some(Some(b)) => Some(b),
        Some(None) => {
            return ctx.reject(
                source,
                &value,
                invalid_field("generateAlert must be a boolean"),
            );
        }
    };
    let meta = MetaDraft {
        severity: api.severity.map(Into::into),
        generate_alert,
        expiration: api.expiration_time,
        rbac_group_names: api.rbac_group_names.unwrap_or_default(),
        title: api.title.map(Cow::Owned),
        description: api.description,
        recommended_actions: api.recommended_actions,
        category: api.category.as_ref().map(|c| c.to_text()),
        mitre_techniques: api.mitre_techniques.unwrap_or_default(),
        application: api.application,
        external_id: api.external_id,
        educate_url: api.educate_url,
    };
    let (meta, title) = match ctx.interner.finish(meta) {
        Ok(m) => m,
        Err(reason) => return ctx.reject(source, &value, reason),
    };
    ctx.push(IndicatorDraft {
        indicator_type: TypeSpec::Named(
            api.indicator_type.unwrap_or_default(),
        ),
        value: value.into(),
        action: api.action.map(Into::into),
        meta,
        title,
        source,
    });
}

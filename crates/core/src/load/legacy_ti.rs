//! The deprecated custom threat-intelligence API's JSON (the "Windows
//! Defender ATP" era): AlertDefinitions and IndicatorsOfCompromise, so
//! old sets migrate. Read shapes:
//!
//! - a bulk-upload style document with both lists,
//!   `{"alertDefinitions":[…],"iocs":[…]}` (or `AlertDefinitions` and
//!   `IndicatorsOfCompromise`), the IOCs linked by
//!   `"AlertDefinition@odata.bind":"AlertDefinitions(5)"` or
//!   `AlertDefinitionId`;
//! - a list of IOCs with the definition expanded
//!   (`{"value":[{…,"AlertDefinition":{…}}]}`, as `$expand` gives it);
//! - a list of IOCs alone (they load without alert metadata).
//!
//! The old API only alerted: IOCs take the default action (Audit unless
//! `--action` says otherwise) with alerts on. Its `DetectionFunction`s
//! other than `Equals` (`StartWith`, `EndWith`, `Contains`) have no
//! Defender counterpart and are refused; disabled IOCs and the IOCs of
//! disabled definitions are skipped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{unreadable, unsupported};
use crate::indicator::{Meta, Source};
use crate::kind::IndicatorType;

use super::{Context, LineCounter};

#[derive(Deserialize, Clone, Default)]
struct Definition {
    #[serde(rename = "Id", alias = "id")]
    id: Option<Value>,
    #[serde(rename = "Name", alias = "name")]
    name: Option<String>,
    #[serde(rename = "Severity", alias = "severity")]
    severity: Option<String>,
    #[serde(rename = "Title", alias = "title")]
    title: Option<String>,
    #[serde(rename = "UxDescription", alias = "uxDescription")]
    ux_description: Option<String>,
    #[serde(rename = "RecommendedAction", alias = "recommendedAction")]
    recommended_action: Option<String>,
    #[serde(rename = "Category", alias = "category")]
    category: Option<String>,
    #[serde(rename = "Enabled", alias = "enabled")]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
struct Ioc {
    #[serde(rename = "Type", alias = "type")]
    ty: Option<String>,
    #[serde(rename = "Value", alias = "value")]
    value: Option<String>,
    #[serde(rename = "DetectionFunction", alias = "detectionFunction")]
    detection_function: Option<String>,
    #[serde(rename = "Enabled", alias = "enabled")]
    enabled: Option<bool>,
    #[serde(rename = "ExpiresAt", alias = "expiresAt")]
    expires_at: Option<String>,
    #[serde(rename = "AlertDefinition@odata.bind")]
    bind: Option<String>,
    #[serde(rename = "AlertDefinitionId", alias = "alertDefinitionId")]
    definition_id: Option<Value>,
    #[serde(rename = "AlertDefinition")]
    expanded: Option<Definition>,
}

/// True when `compact` (JSON without white space) looks like the legacy
/// API's.
pub(super) fn looks_like(compact: &str) -> bool {
    [
        "\"DetectionFunction\":",
        "\"alertDefinitions\":",
        "\"AlertDefinitions\":",
        "\"IndicatorsOfCompromise\":",
        "AlertDefinition@odata.bind",
    ]
    .iter()
    .any(|k| compact.contains(k))
}

/// The legacy type names: `Sha1`, `SHA1`, `Sha256`, `Md5`, `IpAddress`,
/// `DomainName`.
fn legacy_type(t: &str) -> Option<IndicatorType> {
    match t.trim().to_ascii_lowercase().as_str() {
        "sha1" => Some(IndicatorType::FileSha1),
        "sha256" => Some(IndicatorType::FileSha256),
        "md5" => Some(IndicatorType::FileMd5),
        "ipaddress" => Some(IndicatorType::IpAddress),
        "domainname" => Some(IndicatorType::DomainName),
        _ => None,
    }
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `AlertDefinitions(5)` → `5`.
fn bound_id(bind: &str) -> Option<String> {
    let inner = bind.rsplit_once("AlertDefinitions(")?.1;
    Some(inner.trim_end_matches(')').trim_matches('\'').to_owned())
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("invalid JSON: {e}"))?;
    let list = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| doc.get(*k))
            .and_then(Value::as_array)
            .cloned()
    };
    let definitions =
        list(&["alertDefinitions", "AlertDefinitions"]).unwrap_or_default();
    let iocs = list(&["iocs", "IndicatorsOfCompromise", "value"])
        .or_else(|| doc.as_array().cloned())
        .ok_or("not the legacy TI API's JSON: no iocs, IndicatorsOfCompromise or value list")?;
    let mut by_id: HashMap<String, Definition> = HashMap::new();
    for d in definitions {
        if let Ok(d) = serde_json::from_value::<Definition>(d)
            && let Some(id) = &d.id
        {
            by_id.insert(id_text(id), d);
        }
    }
    let text = std::str::from_utf8(bytes).unwrap_or("");
    let mut lines = LineCounter::new(bytes);
    let mut cursor = 0;
    let mut metas: HashMap<String, (Arc<Meta>, Option<Arc<str>>)> =
        HashMap::new();
    for (n, raw) in iocs.into_iter().enumerate() {
        // Line numbers by the value's first occurrence from here on.
        let value_text = raw
            .get("Value")
            .or_else(|| raw.get("value"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let line = match text
            .get(cursor..)
            .and_then(|t| t.find(&format!("\"{value_text}\"")))
        {
            Some(i) => {
                cursor += i + 1;
                lines.line_of(&text[cursor - 1..])
            }
            None => lines.line_of(&text[cursor.min(text.len())..]),
        };
        let source = Source::json(&ctx.file, format!("$.iocs[{n}]"), line);
        let ioc: Ioc = match serde_json::from_value(raw) {
            Ok(i) => i,
            Err(e) => {
                ctx.reject(
                    source,
                    &value_text,
                    unreadable(format!("not an IndicatorOfCompromise: {e}")),
                );
                continue;
            }
        };
        let value = ioc.value.clone().unwrap_or_default();
        if ioc.enabled == Some(false) {
            ctx.out.skip("legacy IOC disabled");
            continue;
        }
        match ioc.detection_function.as_deref().map(str::trim) {
            None | Some("Equals") | Some("equals") => {}
            Some(f) => {
                ctx.reject(source, &value, unsupported(format!("DetectionFunction {f} has no Defender counterpart (only Equals)")));
                continue;
            }
        }
        let def = ioc
            .expanded
            .clone()
            .or_else(|| {
                ioc.bind
                    .as_deref()
                    .and_then(bound_id)
                    .and_then(|id| by_id.get(&id).cloned())
            })
            .or_else(|| {
                ioc.definition_id
                    .as_ref()
                    .and_then(|id| by_id.get(&id_text(id)).cloned())
            });
        if def.as_ref().is_some_and(|d| d.enabled == Some(false)) {
            ctx.out.skip("legacy alert definition disabled");
            continue;
        }
        let key = def
            .as_ref()
            .and_then(|d| d.id.as_ref().map(id_text))
            .unwrap_or_default()
            + "\u{0}"
            + ioc.expires_at.as_deref().unwrap_or("");
        let shared = match metas.get(&key) {
            Some(m) => m.clone(),
            None => {
                let d = def.clone().unwrap_or_default();
                let draft = MetaDraft {
                    severity: d.severity.map(Cow::Owned),
                    generate_alert: Some(true),
                    expiration: ioc.expires_at.clone(),
                    title: d.title.or(d.name).map(Cow::Owned),
                    description: d.ux_description,
                    recommended_actions: d.recommended_action,
                    category: d.category,
                    ..MetaDraft::default()
                };
                match ctx.interner.finish(draft) {
                    Ok(m) => {
                        metas.insert(key, m.clone());
                        m
                    }
                    Err(e) => {
                        ctx.reject(source, &value, e);
                        continue;
                    }
                }
            }
        };
        let ty = match ioc.ty.as_deref().map(|t| (t, legacy_type(t))) {
            Some((_, Some(t))) => TypeSpec::Known(t),
            Some((t, None)) => TypeSpec::Named(t.to_owned()),
            None => TypeSpec::Infer,
        };
        let known = match &ty {
            TypeSpec::Known(t) => Some(*t),
            _ => None,
        };
        ctx.push(IndicatorDraft {
            indicator_type: ty,
            value: Cow::Owned(value),
            action: Some(Cow::Owned(ctx.default_action(known))),
            meta: shared.0,
            title: shared.1,
            source,
        });
    }
    Ok(())
}

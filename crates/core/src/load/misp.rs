//! MISP: event JSON, feed folders and attribute CSV exports.
//!
//! Only attributes marked `to_ids` load unless the caller asks for all:
//! that flag is MISP's own "use this for detection". The event's `info`
//! becomes the title and its threat level the severity.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::error::{invalid_field, unreadable};
use crate::indicator::Source;
use crate::kind::IndicatorType;

use super::{Context, LineCounter, LoadError, LoadOptions, Loaded};

#[derive(Deserialize)]
struct EventDoc<'a> {
    #[serde(rename = "Event", borrow)]
    event: Event<'a>,
}

#[derive(Deserialize)]
struct SearchResponse<'a> {
    #[serde(borrow)]
    response: Vec<EventDoc<'a>>,
}

/// `/attributes/restSearch`'s answer: attributes, each with its event.
#[derive(Deserialize)]
struct AttributeSearch<'a> {
    #[serde(borrow)]
    response: AttributeList<'a>,
}

#[derive(Deserialize)]
struct AttributeList<'a> {
    #[serde(rename = "Attribute", default, borrow)]
    attributes: Vec<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct AttributeEvent {
    #[serde(rename = "Event", default)]
    event: Option<EventInfo>,
}

#[derive(Deserialize, Default)]
struct EventInfo {
    info: Option<String>,
    threat_level_id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Event<'a> {
    info: Option<String>,
    threat_level_id: Option<serde_json::Value>,
    #[serde(rename = "Attribute", default, borrow)]
    attributes: Vec<&'a RawValue>,
    #[serde(rename = "Object", default, borrow)]
    objects: Vec<Object<'a>>,
}

#[derive(Deserialize)]
struct Object<'a> {
    #[serde(rename = "Attribute", default, borrow)]
    attributes: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Attribute {
    #[serde(rename = "type")]
    ty: String,
    value: String,
    to_ids: Option<serde_json::Value>,
    comment: Option<String>,
    uuid: Option<String>,
}

/// A MISP attribute type mapped to what Defender can hold.
enum Mapping {
    /// One indicator of this type from the whole value.
    Whole(IndicatorType),
    /// One indicator from the part after `|` (`filename|sha256`).
    After(IndicatorType),
    /// One indicator from the part before `|` (`ip-dst|port`).
    Before(IndicatorType),
    /// `domain|ip`: a domain and an address.
    DomainIp,
}

fn mapping(misp_type: &str) -> Option<Mapping> {
    use IndicatorType::*;
    let m = match misp_type {
        "md5" => Mapping::Whole(FileMd5),
        "sha1" => Mapping::Whole(FileSha1),
        "sha256" => Mapping::Whole(FileSha256),
        "filename|md5" => Mapping::After(FileMd5),
        "filename|sha1" => Mapping::After(FileSha1),
        "filename|sha256" => Mapping::After(FileSha256),
        "ip-src" | "ip-dst" => Mapping::Whole(IpAddress),
        "ip-src|port" | "ip-dst|port" => Mapping::Before(IpAddress),
        "domain" | "hostname" => Mapping::Whole(DomainName),
        "domain|ip" => Mapping::DomainIp,
        "url" => Mapping::Whole(Url),
        "x509-fingerprint-sha1" | "x509-fingerprint-sha256" => {
            Mapping::Whole(CertificateThumbprint)
        }
        _ => return None,
    };
    Some(m)
}

/// MISP threat levels: 1 high, 2 medium, 3 low, 4 undefined.
fn severity(
    level: Option<&serde_json::Value>,
) -> Option<std::borrow::Cow<'static, str>> {
    let n = match level? {
        serde_json::Value::Number(n) => n.as_u64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let s = match n {
        1 => "High",
        2 => "Medium",
        3 => "Low",
        _ => "Informational",
    };
    Some(s.into())
}

/// `to_ids` is a boolean in events, `"1"`/`"0"` or `True`/`False` in
/// some exports.
fn truthy(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_u64() == Some(1),
        Some(serde_json::Value::String(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true")
        }
        _ => false,
    }
}

pub(super) fn load_event_file(
    ctx: &mut Context<'_>,
    bytes: &[u8],
) -> Result<(), String> {
    let mut lines = LineCounter::new(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let docs: Vec<EventDoc<'_>> = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a MISP event list: {e}"))?;
        for (i, d) in docs.iter().enumerate() {
            event(ctx, &mut lines, &d.event, &format!("$[{i}].Event"));
        }
        return Ok(());
    }
    if let Ok(r) = serde_json::from_slice::<AttributeSearch<'_>>(bytes) {
        // Each attribute carries its event's info: one title per event.
        for (i, raw) in r.response.attributes.iter().enumerate() {
            let source = Source::json(
                &ctx.file,
                format!("$.response.Attribute[{i}]"),
                lines.line_of(raw.get()),
            );
            let ev: AttributeEvent =
                serde_json::from_str(raw.get()).unwrap_or_default();
            let mut meta = ctx.default_meta();
            if let Some(e) = ev.event {
                if let Some(info) = e.info.filter(|i| !i.trim().is_empty()) {
                    meta.title = Some(info.into());
                }
                if let Some(s) = severity(e.threat_level_id.as_ref()) {
                    meta.severity = Some(s);
                }
            }
            attribute(ctx, raw, &meta, source);
        }
        return Ok(());
    }
    if let Ok(r) = serde_json::from_slice::<SearchResponse<'_>>(bytes) {
        for (i, d) in r.response.iter().enumerate() {
            event(
                ctx,
                &mut lines,
                &d.event,
                &format!("$.response[{i}].Event"),
            );
        }
        return Ok(());
    }
    let doc: EventDoc<'_> = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a MISP event: {e}"))?;
    event(ctx, &mut lines, &doc.event, "$.Event");
    Ok(())
}

fn event(
    ctx: &mut Context<'_>,
    lines: &mut LineCounter<'_>,
    ev: &Event<'_>,
    path: &str,
) {
    let mut meta = ctx.default_meta();
    if let Some(info) = ev.info.as_ref().filter(|s| !s.trim().is_empty()) {
        meta.title = Some(info.clone().into());
    }
    meta.severity = severity(ev.threat_level_id.as_ref()).or(meta.severity);
    for (i, raw) in ev.attributes.iter().enumerate() {
        let source = Source::json(
            &ctx.file,
            format!("{path}.Attribute[{i}]"),
            lines.line_of(raw.get()),
        );
        attribute(ctx, raw, &meta, source);
    }
    for (j, obj) in ev.objects.iter().enumerate() {
        for (i, raw) in obj.attributes.iter().enumerate() {
            let p = format!("{path}.Object[{j}].Attribute[{i}]");
            let source = Source::json(&ctx.file, p, lines.line_of(raw.get()));
            attribute(ctx, raw, &meta, source);
        }
    }
}

fn attribute(
    ctx: &mut Context<'_>,
    raw: &RawValue,
    meta: &MetaDraft,
    source: Source,
) {
    let attr: Attribute = match serde_json::from_str(raw.get()) {
        Ok(a) => a,
        Err(e) => {
            return ctx.reject(
                source,
                "",
                unreadable(format!("not a MISP attribute: {e}")),
            );
        }
    };
    let to_ids = truthy(attr.to_ids.as_ref());
    let meta = MetaDraft {
        description: attr.comment.clone().filter(|c| !c.trim().is_empty()),
        external_id: attr.uuid.clone(),
        ..meta.clone()
    };
    push_attribute(ctx, &attr.ty, &attr.value, to_ids, meta, source);
}

/// Maps one MISP attribute to zero, one or two drafts.
fn push_attribute(
    ctx: &mut Context<'_>,
    misp_type: &str,
    value: &str,
    to_ids: bool,
    meta: MetaDraft,
    source: Source,
) {
    if !to_ids && !ctx.opts.misp_all_attributes {
        return ctx.out.skip("MISP attribute not marked to_ids");
    }
    let Some(map) = mapping(misp_type) else {
        return ctx.out.skip(format!(
            "MISP type '{misp_type}' has no Defender indicator type"
        ));
    };
    let (meta, title) = match ctx.interner.finish(meta) {
        Ok(m) => m,
        Err(reason) => return ctx.reject(source, value, reason),
    };
    let (first, second) = match value.split_once('|') {
        Some((a, b)) => (a, Some(b)),
        None => (value, None),
    };
    let parts: Vec<(IndicatorType, &str)> = match map {
        Mapping::Whole(t) => vec![(t, value)],
        Mapping::Before(t) => vec![(t, first)],
        Mapping::After(t) => match second {
            Some(v) => vec![(t, v)],
            None => {
                return ctx.reject(
                    source,
                    value,
                    invalid_field(format!(
                        "MISP type '{misp_type}' needs a value with '|'"
                    )),
                );
            }
        },
        Mapping::DomainIp => match second {
            Some(ip) => vec![
                (IndicatorType::DomainName, first),
                (IndicatorType::IpAddress, ip),
            ],
            None => {
                return ctx.reject(
                    source,
                    value,
                    invalid_field(
                        "MISP type 'domain|ip' needs a value with '|'",
                    ),
                );
            }
        },
    };
    for (ty, v) in parts {
        ctx.push(IndicatorDraft {
            indicator_type: TypeSpec::Known(ty),
            value: v.into(),
            action: Some(ctx.default_action(Some(ty)).into()),
            meta: Arc::clone(&meta),
            title: title.clone(),
            source: source.clone(),
        });
    }
}

/// A MISP attribute CSV export: columns found by name (`type`, `value`,
/// `to_ids`, and `uuid`, `comment`, `event_info` when present).
pub(super) fn load_csv(
    ctx: &mut Context<'_>,
    bytes: &[u8],
) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = rdr
        .headers()
        .map_err(|e| format!("unreadable CSV header: {e}"))?
        .clone();
    let col = |name: &str| {
        header.iter().position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(ty), Some(val)) = (col("type"), col("value")) else {
        return Err(
            "not a MISP CSV: the header needs 'type' and 'value'".into()
        );
    };
    let (ids, uuid, comment, info) =
        (col("to_ids"), col("uuid"), col("comment"), col("event_info"));
    let mut rec = csv::StringRecord::new();
    let mut lines = super::RecordLines::new(bytes, 1);
    lines.next(); // the header
    let mut line = 1;
    loop {
        let read = rdr.read_record(&mut rec);
        if !matches!(read, Ok(false)) {
            line = lines.next().unwrap_or(line);
        }
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                ctx.reject(
                    Source::line(&ctx.file, line),
                    "",
                    unreadable(super::csv_row_error(&e)),
                );
                continue;
            }
        }
        let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).unwrap_or("");
        let to_ids = ids.is_none()
            || truthy(Some(&serde_json::Value::String(get(ids).into())));
        let mut meta = ctx.default_meta();
        if !get(info).trim().is_empty() {
            meta.title = Some(get(info).to_owned().into());
        }
        meta.description =
            Some(get(comment).to_owned()).filter(|c| !c.trim().is_empty());
        meta.external_id =
            Some(get(uuid).to_owned()).filter(|c| !c.is_empty());
        let source = Source::line(&ctx.file, line);
        push_attribute(
            ctx,
            get(Some(ty)),
            get(Some(val)),
            to_ids,
            meta,
            source,
        );
    }
    Ok(())
}

/// True when `path` is a MISP feed manifest: an object of event uuids
/// to their summaries.
pub(super) fn is_manifest(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|b| {
            serde_json::from_slice::<
                std::collections::BTreeMap<String, ManifestEntry>,
            >(&b)
            .ok()
        })
        .is_some_and(|m| !m.is_empty())
}

#[derive(Deserialize)]
struct ManifestEntry {
    info: Option<String>,
}

/// A MISP feed folder: `manifest.json` names the events, each stored as
/// `<uuid>.json`. Events are read in uuid order so that ids are stable.
pub(super) fn load_feed(
    dir: &Path,
    opts: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let manifest_path = dir.join("manifest.json");
    let bytes = std::fs::read(&manifest_path)
        .map_err(|e| LoadError::io(&manifest_path, e))?;
    let manifest: std::collections::BTreeMap<String, ManifestEntry> =
        serde_json::from_slice(&bytes).map_err(|e| {
            LoadError::syntax(
                &manifest_path,
                format!("not a MISP feed manifest: {e}"),
            )
        })?;
    let mut out = Loaded::default();
    let manifest_name: Arc<str> =
        Arc::from(manifest_path.display().to_string());
    for (uuid, entry) in &manifest {
        let path = dir.join(format!("{uuid}.json"));
        let loaded = match std::fs::read(&path) {
            Ok(b) => {
                let name: Arc<str> = Arc::from(path.display().to_string());
                super::load_bytes(&name, &b, super::Format::MispJson, opts)?
            }
            Err(e) => {
                let mut l = Loaded::default();
                let info = entry.info.as_deref().unwrap_or("");
                l.rejected.push(crate::Rejection::new(
                    Source::json(&manifest_name, format!("$['{uuid}']"), 1),
                    uuid.clone(),
                    unreadable(format!(
                        "event file {} unreadable ({e}); event '{info}' not loaded",
                        path.display()
                    )),
                ));
                l
            }
        };
        out.extend(loaded);
    }
    Ok(out)
}

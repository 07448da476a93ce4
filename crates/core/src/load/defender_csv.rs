//! The Defender portal's CSV import format.
//!
//! Header: `IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,
//! Title,Description,RecommendedActions,RbacGroups,Category,
//! MitreTechniques,GenerateAlert`. Columns are found by name (any case,
//! any order), so hand-edited files with reordered columns still load.

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::indicator::Source;

use rayon::prelude::*;

use super::{Context, Loaded};

/// Column positions by name.
#[derive(Default)]
struct Columns {
    ty: Option<usize>,
    value: Option<usize>,
    expiration: Option<usize>,
    action: Option<usize>,
    severity: Option<usize>,
    title: Option<usize>,
    description: Option<usize>,
    recommended: Option<usize>,
    rbac: Option<usize>,
    category: Option<usize>,
    mitre: Option<usize>,
    generate_alert: Option<usize>,
    application: Option<usize>,
    external_id: Option<usize>,
    educate_url: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Columns {
        let mut c = Columns::default();
        for (i, name) in header.iter().enumerate() {
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "indicatortype" => &mut c.ty,
                "indicatorvalue" => &mut c.value,
                "expirationtime" => &mut c.expiration,
                "action" => &mut c.action,
                "severity" => &mut c.severity,
                "title" => &mut c.title,
                "description" => &mut c.description,
                "recommendedactions" => &mut c.recommended,
                "rbacgroups" | "rbacgroupnames" => &mut c.rbac,
                "category" => &mut c.category,
                "mitretechniques" => &mut c.mitre,
                "generatealert" => &mut c.generate_alert,
                "application" => &mut c.application,
                "externalid" => &mut c.external_id,
                "educateurl" => &mut c.educate_url,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }
}

pub(super) fn load(ctx: &mut Context<'_>, bytes: &[u8]) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header =
        rdr.headers().map_err(|e| format!("unreadable CSV header: {e}"))?;
    let cols = Columns::from_header(header);
    if cols.ty.is_none() || cols.value.is_none() {
        return Err("not a Defender CSV: the header needs IndicatorType and IndicatorValue".into());
    }
    let start = rdr.position();
    let body = &bytes[start.byte() as usize..];
    let pieces = super::split_rows(body, start.line());
    let outs: Vec<Loaded> = pieces
        .par_iter()
        .map(|&(first_line, piece)| {
            let mut c = Context::new(&ctx.file, ctx.opts);
            rows(&mut c, &cols, piece, first_line);
            c.out
        })
        .collect();
    // One allocation for all pieces: growing by doubling would hold up
    // to twice the set for a moment.
    ctx.out.indicators.reserve(outs.iter().map(|o| o.indicators.len()).sum());
    for o in outs {
        ctx.out.extend(o);
    }
    Ok(())
}

/// Reads the rows of one piece of the body, whose first line is
/// `first_line` of the file.
fn rows(ctx: &mut Context<'_>, cols: &Columns, piece: &[u8], first_line: u64) {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(piece);
    let mut record = csv::StringRecord::new();
    ctx.out.indicators.reserve(memchr::memchr_iter(b'\n', piece).count() + 1);
    loop {
        let line = first_line + rdr.position().line() - 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = record
                    .position()
                    .map_or(line, |p| first_line + p.line() - 1);
                row(ctx, cols, &record, at);
            }
            Err(e) => {
                let at =
                    e.position().map_or(line, |p| first_line + p.line() - 1);
                ctx.reject(
                    Source::line(&ctx.file, at),
                    "",
                    format!("unreadable CSV row: {e}"),
                );
            }
        }
    }
}

fn row(
    ctx: &mut Context<'_>,
    cols: &Columns,
    rec: &csv::StringRecord,
    line: u64,
) {
    let source = Source::line(&ctx.file, line);
    if rec.iter().all(|f| f.trim().is_empty()) {
        return;
    }
    let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).map(str::to_owned);
    let value = get(cols.value).unwrap_or_default();
    let generate_alert = match get(cols.generate_alert)
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => None,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => {
                ctx.reject(
                    source,
                    &value,
                    format!("GenerateAlert must be True or False, not '{v}'"),
                );
                return;
            }
        },
    };
    let meta = MetaDraft {
        severity: get(cols.severity),
        generate_alert,
        expiration: get(cols.expiration),
        rbac_group_names: split_list(get(cols.rbac)),
        title: get(cols.title),
        description: get(cols.description),
        recommended_actions: get(cols.recommended),
        category: get(cols.category),
        mitre_techniques: split_list(get(cols.mitre)),
        application: get(cols.application),
        external_id: get(cols.external_id),
        educate_url: get(cols.educate_url),
    };
    let meta = match meta.finish() {
        Ok(m) => ctx.interner.intern(m),
        Err(reason) => return ctx.reject(source, &value, reason),
    };
    ctx.push(IndicatorDraft {
        indicator_type: TypeSpec::Named(get(cols.ty).unwrap_or_default()),
        value,
        action: get(cols.action),
        meta,
        source,
    });
}

/// Lists inside one CSV cell are comma-separated.
fn split_list(cell: Option<String>) -> Vec<String> {
    cell.map(|c| c.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default()
}

//! The Defender portal's CSV import format.
//!
//! Header: `IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,
//! Title,Description,RecommendedActions,RbacGroups,Category,
//! MitreTechniques,GenerateAlert`. Columns are found by name (any case,
//! any order), so hand-edited files with reordered columns still load.

use std::borrow::Cow;

use crate::draft::{IndicatorDraft, MetaDraft, TypeSpec};
use crate::indicator::Source;
use crate::indicator::{Action, IndicatorType, Severity};
use crate::value;

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
    // Into the first piece, grown once to the total: a large vector grows
    // by remapping its pages, not copying them, and each later piece is
    // freed as soon as it is moved, so the set is never held twice.
    let total = outs.iter().map(|o| o.indicators.len()).sum::<usize>();
    for o in outs {
        if ctx.out.indicators.is_empty() {
            ctx.out.extend(o);
            ctx.out.indicators.reserve_exact(total - ctx.out.indicators.len());
        } else {
            ctx.out.extend(o);
        }
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
    // Cells are borrowed; only what an indicator keeps is copied.
    let cell = |c: Option<usize>| {
        c.and_then(|i| rec.get(i)).map(value::trim).unwrap_or("")
    };
    let owned = |c: Option<usize>| {
        Some(cell(c)).filter(|s| !s.is_empty()).map(str::to_owned)
    };
    let value = rec.get(cols.value.unwrap_or(usize::MAX)).unwrap_or("");
    let generate_alert = match cell(cols.generate_alert) {
        "" => None,
        v if ["true", "1", "yes"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t)) =>
        {
            Some(true)
        }
        v if ["false", "0", "no"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t)) =>
        {
            Some(false)
        }
        v => {
            let why =
                format!("GenerateAlert must be True or False, not '{v}'");
            return ctx.reject(source, value, why);
        }
    };
    let meta = MetaDraft {
        severity: canonical(cell(cols.severity), |s| {
            s.parse::<Severity>().ok().map(Severity::as_str)
        }),
        generate_alert,
        expiration: owned(cols.expiration),
        rbac_group_names: split_list(cell(cols.rbac)),
        title: owned(cols.title),
        description: owned(cols.description),
        recommended_actions: owned(cols.recommended),
        category: owned(cols.category),
        mitre_techniques: split_list(cell(cols.mitre)),
        application: owned(cols.application),
        external_id: owned(cols.external_id),
        educate_url: owned(cols.educate_url),
    };
    let (meta, title) = match ctx.interner.finish(meta) {
        Ok(m) => m,
        Err(reason) => return ctx.reject(source, value, reason),
    };
    let ty = cell(cols.ty);
    ctx.push(IndicatorDraft {
        indicator_type: match ty.parse::<IndicatorType>() {
            Ok(t) => TypeSpec::Known(t),
            Err(_) => TypeSpec::Named(ty.to_owned()),
        },
        value: value.into(),
        action: canonical(cell(cols.action), |a| {
            Action::parse_alias(a).map(|(a, _)| a.as_str())
        }),
        meta,
        title,
        source,
    });
}

/// A cell as its canonical `'static` name when it has one (no copy), as
/// written otherwise (for the error message), `None` when empty.
fn canonical(
    cell: &str,
    name: impl Fn(&str) -> Option<&'static str>,
) -> Option<Cow<'static, str>> {
    if cell.is_empty() {
        return None;
    }
    Some(name(cell).map_or_else(|| Cow::Owned(cell.to_owned()), Cow::Borrowed))
}

/// Lists inside one CSV cell are comma-separated.
fn split_list(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(value::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

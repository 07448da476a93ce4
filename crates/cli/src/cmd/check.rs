//! `iocmatch check`: what loaded, what was refused and why, what
//! conflicts.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use iocmatch_core::{Action, IndicatorSet, IndicatorType, Rejection};
use serde_json::json;

use crate::flags::CheckArgs;
use crate::indicators::{self, LoadedSet};

/// How many rejections the human summary lists before pointing to --json.
const SHOWN_REJECTIONS: usize = 50;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let ls = indicators::load(&args.files, &args.indicators)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report_json(&ls))?;
        writeln!(out)?;
    } else {
        write_summary(&mut out, &ls)?;
    }
    if let (Some(format), Some(path)) = (args.export, &args.output) {
        let written = super::export::write(&ls.set, format, path)?;
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "exported {} indicators to {}",
            written.indicators,
            written.describe_files()
        )?;
        if written.offline_only > 0 {
            writeln!(
                err,
                "left out {} offline-only indicators (CIDR networks, URLs without a scheme, \
                 SHA-256 thumbprints) that Defender would refuse",
                written.offline_only
            )?;
        }
    }
    Ok(if ls.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn counts_by_type(set: &IndicatorSet) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for (_, ind) in set.iter() {
        *m.entry(ind.indicator_type().as_str()).or_default() += 1;
    }
    m
}

fn counts_by_action(set: &IndicatorSet) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for (_, ind) in set.iter() {
        *m.entry(ind.action().as_str()).or_default() += 1;
    }
    m
}

fn rejection_json(r: &Rejection) -> serde_json::Value {
    json!({
        "source": &*r.source.file,
        "line": r.source.line_number(),
        "path": r.source.json_path(),
        "value": r.value,
        "reason": r.reason(),
    })
}

fn report_json(ls: &LoadedSet) -> serde_json::Value {
    let set = &ls.set;
    let conflicts: Vec<_> = set
        .conflicts()
        .iter()
        .map(|c| {
            let entries: Vec<_> = c
                .ids
                .iter()
                .map(|&id| {
                    let ind = set.get(id);
                    json!({"id": id.0, "action": ind.action().as_str(),
                           "source": &*ind.source().file, "line": ind.source().line_number()})
                })
                .collect();
            json!({"type": c.indicator_type.as_str(), "value": &*c.value, "indicators": entries})
        })
        .collect();
    let failed: Vec<_> = ls.failed.iter().map(|e| e.to_string()).collect();
    json!({
        "loaded": set.len(),
        "by_type": counts_by_type(set),
        "by_action": counts_by_action(set),
        "duplicates_merged": set.merged().len(),
        "skipped": ls.loaded.skipped,
        "rejected": ls.loaded.rejected.iter().map(rejection_json).collect::<Vec<_>>(),
        "conflicts": conflicts,
        "unreadable_files": failed,
        "offline_only": set.iter().filter(|(_, i)| i.is_offline_only()).count(),
        "elapsed_ms": ls.elapsed.as_secs_f64() * 1e3,
    })
}

fn write_summary(out: &mut impl Write, ls: &LoadedSet) -> std::io::Result<()> {
    let set = &ls.set;
    writeln!(
        out,
        "loaded {} indicator{} from {} file{} in {:.1} ms",
        set.len(),
        if set.len() == 1 { "" } else { "s" },
        ls.files,
        if ls.files == 1 { "" } else { "s" },
        ls.elapsed.as_secs_f64() * 1e3
    )?;
    let by_type = counts_by_type(set);
    let types: Vec<String> = IndicatorType::ALL
        .iter()
        .filter_map(|t| by_type.get(t.as_str()).map(|n| format!("{t} {n}")))
        .collect();
    if !types.is_empty() {
        writeln!(out, "  by type:   {}", types.join(", "))?;
    }
    let by_action = counts_by_action(set);
    let actions: Vec<String> = Action::ALL
        .iter()
        .filter_map(|a| by_action.get(a.as_str()).map(|n| format!("{a} {n}")))
        .collect();
    if !actions.is_empty() {
        writeln!(out, "  by action: {}", actions.join(", "))?;
    }
    if !set.merged().is_empty() {
        writeln!(out, "  merged {} exact duplicates", set.merged().len())?;
    }
    let offline = set.iter().filter(|(_, i)| i.is_offline_only()).count();
    if offline > 0 {
        writeln!(
            out,
            "  {offline} use offline-only forms (CIDR, scheme-less URL, SHA-256 thumbprint)"
        )?;
    }
    for (reason, n) in &ls.loaded.skipped {
        writeln!(out, "  skipped {n}: {reason}")?;
    }
    write_problems(out, ls)
}

fn write_problems(
    out: &mut impl Write,
    ls: &LoadedSet,
) -> std::io::Result<()> {
    for f in &ls.failed {
        writeln!(out, "unreadable: {f}")?;
    }
    let rejected = &ls.loaded.rejected;
    if !rejected.is_empty() {
        writeln!(out, "rejected {}:", rejected.len())?;
        for r in rejected.iter().take(SHOWN_REJECTIONS) {
            writeln!(out, "  {r}")?;
        }
        let cert = rejected
            .iter()
            .any(|r| r.reason().contains("on CertificateThumbprint"));
        if cert {
            writeln!(
                out,
                "  hint: lists, MISP and STIX carry no action; --cert-action sets the one for certificates"
            )?;
        }
        if rejected.len() > SHOWN_REJECTIONS {
            writeln!(
                out,
                "  … and {} more (--json lists all)",
                rejected.len() - SHOWN_REJECTIONS
            )?;
        }
    }
    let conflicts = ls.set.conflicts();
    if !conflicts.is_empty() {
        writeln!(
            out,
            "conflicts {} (same value, different actions; precedence decides):",
            conflicts.len()
        )?;
        for c in conflicts.iter().take(SHOWN_REJECTIONS) {
            let parts: Vec<String> = c
                .ids
                .iter()
                .map(|&id| {
                    format!(
                        "{} ({})",
                        ls.set.get(id).action(),
                        ls.set.get(id).source()
                    )
                })
                .collect();
            writeln!(
                out,
                "  {} {}: {}",
                c.indicator_type,
                c.value,
                parts.join(", ")
            )?;
        }
    }
    Ok(())
}

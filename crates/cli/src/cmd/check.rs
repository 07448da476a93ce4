//! `iocmatch check`: what loaded, what was refused and why, what
//! conflicts.

use std::io::Write;
use std::process::ExitCode;

use iocmatch_core::ErrorKind;
use iocmatch_core::check::{
    CheckReport, counts_by_action, counts_by_type, warninglisted,
};
use iocmatch_core::warninglist::Warninglists;

use crate::flags::CheckArgs;
use crate::indicators::{self, LoadedSet};

/// How many rejections the human summary lists before pointing to --json.
const SHOWN_REJECTIONS: usize = 50;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let ls = indicators::load(&args.files, &args.indicators)?;
    let listed = if args.warninglists || !args.lists.dirs.is_empty() {
        let lists = Warninglists::from_dirs(
            !args.lists.no_bundled_warninglists,
            &args.lists.dirs,
        )?;
        warninglisted(&ls.set, &lists)
    } else {
        Vec::new()
    };
    // Buffered: a pretty-printed report is many small writes.
    let mut out = std::io::BufWriter::new(crate::pipe::Stdout::new());
    if args.json {
        let mut report =
            CheckReport::new(&ls.set, &ls.loaded, &ls.failed, ls.elapsed);
        report.warninglisted = listed;
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_summary(&mut out, &ls)?;
        if !listed.is_empty() {
            writeln!(
                out,
                "on warninglists {} (`iocmatch gate` decides what to hold back):",
                listed.len()
            )?;
            for w in listed.iter().take(SHOWN_REJECTIONS) {
                writeln!(
                    out,
                    "  {} {} ({}): {}",
                    w.indicator_type,
                    w.value,
                    w.action,
                    w.lists.join("; ")
                )?;
            }
        }
    }
    out.flush()?;
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
    let types: Vec<String> = counts_by_type(set)
        .into_iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if !types.is_empty() {
        writeln!(out, "  by type:   {}", types.join(", "))?;
    }
    let actions: Vec<String> = counts_by_action(set)
        .into_iter()
        .map(|(a, n)| format!("{a} {n}"))
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
    for f in &ls.loaded.files {
        writeln!(
            out,
            "  {}: read as {}, {} loaded, {} rejected",
            f.file, f.format, f.indicators, f.rejected
        )?;
    }
    for (reason, n) in &ls.loaded.skipped {
        let hint = if reason.contains("to_ids") {
            " (--misp-all loads them)"
        } else {
            ""
        };
        writeln!(out, "  skipped {n}: {reason}{hint}")?;
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
        let cert = rejected.iter().any(|r| {
            r.kind() == ErrorKind::RefusedAction
                && r.reason().contains("on CertificateThumbprint")
        });
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

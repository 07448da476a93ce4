//! The terminal summary of a replay.

use std::collections::HashMap;
use std::io::{self, Write};

use iocmatch_core::{IndicatorId, IndicatorSet, Severity};
use iocmatch_replay::Report;

/// How many indicators and devices the summary lists.
const TOP: usize = 10;

/// Whether to colour what goes to stdout (or stderr): a terminal, and
/// neither `NO_COLOR` nor a dumb terminal.
pub fn colour(stderr: bool) -> bool {
    use std::io::IsTerminal;
    let tty = if stderr {
        io::stderr().is_terminal()
    } else {
        io::stdout().is_terminal()
    };
    tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// `text` in the colour of `severity`, when colouring.
fn paint(text: &str, severity: Severity, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    use anstyle::AnsiColor as C;
    let c = match severity {
        Severity::High => C::Red,
        Severity::Medium => C::Yellow,
        Severity::Low => C::Cyan,
        Severity::Informational => C::Blue,
    };
    let style = anstyle::Style::new().fg_color(Some(c.into())).bold();
    format!("{}{text}{}", style.render(), style.render_reset())
}

pub fn write(
    out: &mut dyn Write,
    set: &IndicatorSet,
    r: &Report,
    indicator_rejections: usize,
    colour: bool,
) -> io::Result<()> {
    let t = &r.totals;
    writeln!(
        out,
        "replayed {} records ({} lines, {} files, {:.1} MB) in {:.2} s, {:.0} MB/s",
        t.records,
        t.lines,
        t.files,
        t.bytes as f64 / 1e6,
        t.elapsed,
        t.mb_per_s()
    )?;
    if t.rejected_total() > 0 {
        let parts: Vec<String> = t
            .rejected
            .iter()
            .map(|(k, v)| format!("{v} {}", k.as_str()))
            .collect();
        writeln!(
            out,
            "  rejected lines: {} ({})",
            t.rejected_total(),
            parts.join(", ")
        )?;
        if let Some(e) = t.rejection_examples.first() {
            writeln!(
                out,
                "    first: {}:{}: {}{}",
                e.source,
                e.line,
                e.reason.as_str(),
                e.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )?;
        }
    }
    if t.assumed_utc > 0 {
        writeln!(
            out,
            "  note: {} export timestamps named no time zone and were read as UTC",
            t.assumed_utc
        )?;
    }
    if indicator_rejections > 0 {
        writeln!(
            out,
            "  rejected indicators: {indicator_rejections} (see `iocmatch check`)"
        )?;
    }
    if t.skipped_files > 0 {
        writeln!(
            out,
            "  files skipped unread, their storage path outside --from/--to/--tables: {}",
            t.skipped_files
        )?;
    }
    if t.filtered > 0 {
        writeln!(
            out,
            "  filtered out by --from/--to/--tables: {}",
            t.filtered
        )?;
    }
    writeln!(
        out,
        "  re-delivered copies of hitting records skipped: {}",
        t.duplicates
    )?;
    writeln!(
        out,
        "  hits: {} ({} effective, {} suppressed)",
        t.hits,
        t.effective_hits,
        t.hits - t.effective_hits
    )?;
    write_alerts(out, set, r, colour)?;
    write_top(out, set, r)?;
    writeln!(
        out,
        "  indicators never hit: {} of {}",
        r.never_hit(),
        r.indicators.len
    )
}

fn write_alerts(
    out: &mut dyn Write,
    set: &IndicatorSet,
    r: &Report,
    colour: bool,
) -> io::Result<()> {
    let mut by_sev: HashMap<Severity, u64> = HashMap::new();
    for a in &r.alerts {
        *by_sev.entry(set.get(a.indicator).severity()).or_default() += 1;
    }
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            by_sev.get(s).map(|n| paint(&format!("{n} {s}"), *s, colour))
        })
        .collect();
    let detail = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    writeln!(out, "  alerts: {}{detail}", r.alerts.len())
}

fn write_top(
    out: &mut dyn Write,
    set: &IndicatorSet,
    r: &Report,
) -> io::Result<()> {
    let mut top: Vec<(IndicatorId, u64)> =
        r.indicators.hit.iter().map(|(&id, s)| (id, s.hits)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !top.is_empty() {
        writeln!(out, "  top indicators:")?;
        for (i, hits) in top.into_iter().take(TOP) {
            let ind = set.get(i);
            let s = &r.indicators.hit[&i];
            writeln!(
                out,
                "    {hits:>8} {} {:>6} {}  {} {} ({})",
                noun(hits, "hit "),
                s.devices,
                noun(s.devices, "device "),
                ind.indicator_type(),
                ind.value(),
                ind.action()
            )?;
        }
    }
    let mut devices: HashMap<&str, (u64, &str)> = HashMap::new();
    for a in &r.alerts {
        let e = devices.entry(&a.device_id).or_insert((0, &a.device_name));
        e.0 += 1;
    }
    let mut devs: Vec<_> = devices.into_iter().collect();
    devs.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    if !devs.is_empty() {
        writeln!(out, "  top devices by alerts:")?;
        for (id, (n, name)) in devs.into_iter().take(TOP) {
            writeln!(out, "    {n:>8} {}  {name} ({id})", noun(n, "alert "))?;
        }
    }
    Ok(())
}

/// `one` (which ends in a space, to keep columns aligned) for a count of
/// one, else its plural.
/// The indicators that hit and are on warninglists: likely false
/// positives, worth a look before publishing (`iocmatch gate` decides).
pub fn write_warninglisted(
    out: &mut dyn Write,
    set: &IndicatorSet,
    r: &Report,
    lists: &iocmatch_core::warninglist::Warninglists,
) -> io::Result<()> {
    let listed: Vec<(IndicatorId, u64, Vec<String>)> = r
        .indicators
        .hit
        .iter()
        .filter_map(|(&id, s)| {
            let on = lists.check(set.get(id));
            (!on.is_empty()).then(|| {
                (id, s.hits, on.iter().map(|h| h.list.to_owned()).collect())
            })
        })
        .collect();
    if listed.is_empty() {
        return writeln!(out, "  warninglisted indicators that hit: none");
    }
    let hits: u64 = listed.iter().map(|l| l.1).sum();
    writeln!(
        out,
        "  warninglisted indicators that hit: {} ({hits} {})",
        listed.len(),
        noun(hits, "hit")
    )?;
    for (id, n, on) in listed.iter().take(TOP) {
        let i = set.get(*id);
        let count = format!("{n} {}", noun(*n, "hit"));
        writeln!(
            out,
            "    {count:>8}  {} {} ({}): {}",
            i.indicator_type(),
            i.value(),
            i.action(),
            on.join("; ")
        )?;
    }
    Ok(())
}

fn noun(n: u64, one: &str) -> String {
    if n == 1 { one.to_owned() } else { format!("{}s", one.trim_end()) }
}

#[cfg(test)]
mod tests {
    use super::noun;

    #[test]
    fn counts_of_one_are_singular_and_columns_stay_aligned() {
        assert_eq!(noun(1, "alert "), "alert ");
        assert_eq!(noun(2, "alert "), "alerts");
        assert_eq!(noun(0, "hit "), "hits");
        assert_eq!(noun(1, "device ").len(), noun(7, "device ").len());
    }
}

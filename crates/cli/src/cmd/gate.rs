//! `iocmatch gate`: what of a set is safe to publish. Loads the set and
//! the warninglists, replays history if given, and prints a verdict per
//! indicator; `-o` writes the passing set for `sync`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use iocmatch_core::Indicator;
use iocmatch_core::warninglist::Warninglists;
use iocmatch_replay::gate::{
    self, GateCounter, IndicatorVerdict, Tally, Thresholds, Verdict,
};
use iocmatch_replay::html::{Page, Timeline, write_page};
use iocmatch_replay::{
    MmapChoice, ReplayError, ReplayOptions, Replayer, Tee, input,
};
use serde::Serialize;

use crate::flags::{ExportFormat, GateArgs};
use crate::indicators;

/// How many held-back and warned indicators the text lists.
const SHOWN: usize = 50;

#[derive(Serialize)]
struct GateJson<'a> {
    summary: Tally,
    replayed: Option<Replayed>,
    thresholds: &'a Thresholds,
    indicators: &'a [IndicatorVerdict],
}

#[derive(Serialize)]
struct Replayed {
    records: u64,
    devices: u64,
    hits: u64,
}

pub fn run(args: &GateArgs) -> anyhow::Result<ExitCode> {
    let ls = indicators::load(&args.indicator_files, &args.indicators)?;
    for f in &ls.failed {
        eprintln!("iocmatch: warning: {f}");
    }
    if !ls.loaded.rejected.is_empty() {
        eprintln!(
            "iocmatch: warning: {} indicators rejected and not gated (first: {}); run `iocmatch check` for all",
            ls.loaded.rejected.len(),
            ls.loaded.rejected[0]
        );
    }
    let lists = Warninglists::from_dirs(
        !args.no_bundled_warninglists,
        &args.warninglists,
    )?;
    let thresholds = Thresholds {
        block_devices: args.max_block_devices,
        block_device_share: args.max_block_share,
        alert_hits_per_day: args.max_alerts_per_day,
        alert_device_share: args.max_alert_share,
    };
    let mut sink =
        Tee { first: GateCounter::new(&ls.set), second: Timeline::new() };
    let report = if args.replay.is_empty() {
        None
    } else {
        Some(replay(args, &ls.set, &mut sink)?)
    };
    let verdicts = gate::verdicts(
        &ls.set,
        &lists,
        report.as_ref().map(|r| (r, &sink.first)),
        &thresholds,
    );
    let tally = Tally::of(&verdicts);
    let mut out = io::BufWriter::new(crate::pipe::Stdout::new());
    if args.json {
        let replayed = report.as_ref().map(|r| Replayed {
            records: r.totals.records,
            devices: r.totals.devices,
            hits: r.totals.hits,
        });
        let doc = GateJson {
            summary: tally,
            replayed,
            thresholds: &thresholds,
            indicators: &verdicts,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        summary(
            &mut out,
            &verdicts,
            tally,
            report.as_ref(),
            lists.lists().len(),
        )?;
    }
    out.flush()?;
    if let Some(path) = &args.output {
        write_passing(&ls.set, &verdicts, path)?;
    }
    if let Some(path) = &args.html {
        let page = Page {
            title: "iocmatch gate",
            set: &ls.set,
            report: report.as_ref(),
            timeline: report.as_ref().map(|_| &sink.second),
            rejected_indicators: &ls.loaded.rejected,
            verdicts: Some(&verdicts),
        };
        let file = std::fs::File::create(path)
            .with_context(|| format!("creating {}", path.display()))?;
        write_page(&page, &mut io::BufWriter::new(file))
            .context("writing the HTML report")?;
        eprintln!("iocmatch: wrote the HTML report to {}", path.display());
    }
    Ok(if tally.block == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn replay(
    args: &GateArgs,
    set: &iocmatch_core::IndicatorSet,
    counter: &mut Tee<GateCounter<'_>, Timeline>,
) -> anyhow::Result<iocmatch_replay::Report> {
    let inputs = input::discover(&args.replay)
        .context("finding the exports to replay")?;
    if inputs.is_empty() {
        anyhow::bail!("no input files found in the --replay paths");
    }
    let mut b = ReplayOptions::builder();
    b.count_devices(true);
    // SAFETY: replay reads finished exports; one changed while mapped
    // could give wrong counts, not unsafety in the program's own state.
    b.mmap(unsafe { MmapChoice::auto() });
    if let Some(n) = args.threads {
        b.threads(n);
    }
    let opts = b.build().map_err(|e| anyhow::anyhow!("{e}"))?;
    match Replayer::new(set, opts).run(&inputs, counter) {
        Ok(r) => Ok(r),
        Err(ReplayError::Io { input, error }) => {
            Err(anyhow::Error::new(error).context(input))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn summary(
    out: &mut impl Write,
    verdicts: &[IndicatorVerdict],
    t: Tally,
    report: Option<&iocmatch_replay::Report>,
    lists: usize,
) -> io::Result<()> {
    writeln!(
        out,
        "gated {} indicators against {lists} warninglists{}: {} pass, {} warn, {} held back",
        verdicts.len(),
        match report {
            Some(r) => format!(
                " and a replay of {} records from {} devices ({} hits)",
                r.totals.records, r.totals.devices, r.totals.hits
            ),
            None => String::new(),
        },
        t.pass,
        t.warn,
        t.block
    )?;
    for verdict in [Verdict::Block, Verdict::Warn] {
        let shown: Vec<&IndicatorVerdict> =
            verdicts.iter().filter(|v| v.verdict == verdict).collect();
        if shown.is_empty() {
            continue;
        }
        let label =
            if verdict == Verdict::Block { "held back" } else { "warnings" };
        writeln!(out, "{label} {}:", shown.len())?;
        for v in shown.iter().take(SHOWN) {
            writeln!(
                out,
                "  {} {} ({}) {}",
                v.indicator_type, v.value, v.action, v.source
            )?;
            for r in v.reasons.iter().filter(|r| r.verdict == verdict) {
                writeln!(out, "      {}", r.message)?;
            }
        }
        if shown.len() > SHOWN {
            writeln!(
                out,
                "  … and {} more (--json lists all)",
                shown.len() - SHOWN
            )?;
        }
    }
    Ok(())
}

/// Writes the indicators that pass (with or without warnings).
fn write_passing(
    set: &iocmatch_core::IndicatorSet,
    verdicts: &[IndicatorVerdict],
    path: &Path,
) -> anyhow::Result<()> {
    let format = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => ExportFormat::DefenderCsv,
        Some("json") => ExportFormat::DefenderJson,
        _ => anyhow::bail!(
            "-o {}: name the passing set .csv (Defender CSV) or .json (Defender API JSON)",
            path.display()
        ),
    };
    let passing: Vec<&Indicator> = set
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| v.verdict != Verdict::Block)
        .map(|((_, i), _)| i)
        .collect();
    let written = super::export::write_some(&passing, format, path)?;
    eprintln!(
        "iocmatch: wrote the {} passing indicators to {}",
        written.indicators,
        written.describe_files()
    );
    Ok(())
}

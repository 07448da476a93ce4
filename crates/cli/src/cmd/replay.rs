//! `iocmatch replay`: what Defender would have flagged in exported data.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use iocmatch_replay::{MmapChoice, ReplayOptions, Replayer, input};

use super::replay_out::{self, HitWriter};
use super::summary;
use crate::flags::ReplayArgs;
use crate::indicators;

pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let ls = indicators::load(&args.indicator_files, &args.indicators)?;
    let rejected_indicators = ls.loaded.rejected.len() + ls.failed.len();
    if !args.quiet {
        for f in &ls.failed {
            eprintln!("iocmatch: warning: {f}");
        }
        if !ls.loaded.rejected.is_empty() {
            eprintln!(
                "iocmatch: warning: {} indicators rejected (first: {}); run `iocmatch check` for all",
                ls.loaded.rejected.len(),
                ls.loaded.rejected[0]
            );
        }
    }
    let inputs = input::discover(&args.inputs).context("finding inputs")?;
    if inputs.is_empty() {
        anyhow::bail!(
            "no input files found in {}",
            display_list(&args.inputs)
        );
    }
    let opts = options(args)?;
    let hits_out = args.hits.as_deref().map(replay_out::create).transpose()?;
    let mut sink = HitWriter::new(&ls.set, hits_out, args.format);
    sink.progress = progress_bar(args, &inputs);
    let report = Replayer::new(&ls.set, opts).run(&inputs, &mut sink);
    sink.finish().context("writing hits")?;
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(p) = &args.alerts {
        let mut w = replay_out::create(p)?;
        replay_out::write_alerts(&ls.set, &report.alerts, args.format, &mut w)
            .context("writing alerts")?;
    }
    if let Some(p) = &args.report {
        let mut w = replay_out::create(p)?;
        serde_json::to_writer_pretty(
            &mut w,
            &replay_out::report_json(&ls.set, &report, rejected_indicators),
        )?;
        writeln!(w)?;
        w.flush()?;
    }
    if !args.quiet {
        let to_stdout = [&args.hits, &args.alerts, &args.report]
            .iter()
            .all(|o| o.as_deref().is_none_or(|p| p.as_os_str() != "-"));
        let mut out: Box<dyn Write> = if to_stdout {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::stderr().lock())
        };
        summary::write(&mut out, &ls.set, &report, rejected_indicators)?;
    }
    let clean =
        report.totals.rejected_total() == 0 && rejected_indicators == 0;
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn options(args: &ReplayArgs) -> anyhow::Result<ReplayOptions> {
    let time = |s: &Option<String>, flag: &str| -> anyhow::Result<_> {
        s.as_deref()
            .map(|s| iocmatch_core::parse_time(s).map(|t| t.as_nanosecond()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
    };
    if args.threads == Some(0) {
        anyhow::bail!("--threads must be at least 1");
    }
    let mmap = if args.no_mmap {
        MmapChoice::never()
    } else {
        // SAFETY: replay reads finished exports; a file changed while it is
        // mapped could give wrong results, which --no-mmap avoids.
        unsafe { MmapChoice::auto() }
    };
    Ok(ReplayOptions {
        threads: args.threads,
        from: time(&args.from, "--from")?,
        to: time(&args.to, "--to")?,
        tables: args.tables.clone(),
        mmap,
        ..ReplayOptions::default()
    })
}

/// A progress bar on an interactive terminal, for runs long enough to
/// want one.
fn progress_bar(
    args: &ReplayArgs,
    inputs: &[input::Input],
) -> Option<indicatif::ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = inputs.iter().filter_map(input::Input::size).sum();
    let gz = inputs.iter().any(input::Input::is_gzip);
    let bar = if gz || total == 0 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(total)
    };
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}  {msg}",
    )
    .ok()?;
    bar.set_style(style);
    Some(bar)
}

fn display_list(p: &[std::path::PathBuf]) -> String {
    p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

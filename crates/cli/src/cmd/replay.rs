//! `iocmatch replay`: what Defender would have flagged in exported data.
//! Flags become options and sinks; the library does the rest.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use iocmatch_replay::output::{self, Csv, JsonLines};
use iocmatch_replay::{
    Alert, Hit, MmapChoice, Rejected, ReplayError, ReplayOptions, Replayer,
    Report, Sink, Tee, input,
};

use super::summary;
use crate::flags::{OutputFormat, ReplayArgs};
use crate::indicators;
use crate::outputs::Outputs;

pub fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let ls = indicators::load(&args.indicator_files, &args.indicators)?;
    let rejected_indicators = ls.loaded.rejected.len() + ls.failed.len();
    // Warnings go to stderr even with -q, which hides only progress and
    // the summary.
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
    let inputs = discover(&args.inputs, &args.glob)?;
    if inputs.is_empty() {
        anyhow::bail!(
            "no input files found in {}",
            display_list(&args.inputs)
        );
    }
    let opts = options(args)?;
    let format = output_format(args.format);
    let mut files = Outputs::new();
    let hits: Box<dyn Sink<Error = io::Error> + '_> = match &args.hits {
        None => Box::new(NoHits),
        Some(p) => match format {
            output::Format::JsonLines => {
                Box::new(JsonLines::new(&ls.set, files.create(p)?))
            }
            output::Format::Csv => {
                Box::new(Csv::new(&ls.set, files.create(p)?))
            }
        },
    };
    // Hits per hour are counted only for the HTML report.
    let timeline =
        args.html.is_some().then(iocmatch_replay::html::Timeline::new);
    let mut sink = Progress {
        inner: Tee { first: hits, second: timeline },
        bar: progress_bar(args, &inputs),
    };
    // The io::Error stays in the chain: main tells a closed pipe by it.
    let report = match Replayer::new(&ls.set, opts).run(&inputs, &mut sink) {
        Ok(r) => r,
        Err(ReplayError::Sink(e)) => {
            return Err(anyhow::Error::new(e).context("writing hits"));
        }
        Err(ReplayError::Io { input, error }) => {
            return Err(anyhow::Error::new(error).context(input));
        }
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    if let Some(p) = &args.html {
        let page = iocmatch_replay::html::Page {
            title: "iocmatch replay",
            set: &ls.set,
            report: Some(&report),
            timeline: sink.inner.second.as_ref(),
            rejected_indicators: &ls.loaded.rejected,
            verdicts: None,
        };
        iocmatch_replay::html::write_page(&page, &mut files.create(p)?)
            .context("writing the HTML report")?;
    }
    if let Some(p) = &args.alerts {
        output::write_alerts(
            &ls.set,
            &report.alerts,
            format,
            &mut files.create(p)?,
        )
        .context("writing alerts")?;
    }
    if let Some(p) = &args.report {
        output::write_report(
            &ls.set,
            &report,
            rejected_indicators as u64,
            &mut files.create(p)?,
        )
        .context("writing the report")?;
    }
    // Every writer is flushed and closed: the files take their names.
    drop(sink);
    files.commit()?;
    if !args.quiet {
        let to_stdout = [&args.hits, &args.alerts, &args.report]
            .iter()
            .all(|o| o.as_deref().is_none_or(|p| p.as_os_str() != "-"));
        let mut out: Box<dyn Write> = if to_stdout {
            Box::new(crate::pipe::Stdout::new())
        } else {
            Box::new(io::stderr().lock())
        };
        summary::write(
            &mut out,
            &ls.set,
            &report,
            rejected_indicators,
            summary::colour(!to_stdout),
        )?;
        let written: Vec<String> =
            [&args.hits, &args.alerts, &args.report, &args.html]
                .into_iter()
                .flatten()
                .filter(|p| p.as_os_str() != "-")
                .map(|p| p.display().to_string())
                .collect();
        if !written.is_empty() {
            writeln!(out, "  wrote: {}", written.join(", "))?;
        }
        if args.warninglists || !args.lists.dirs.is_empty() {
            let lists = iocmatch_core::warninglist::Warninglists::from_dirs(
                !args.lists.no_bundled_warninglists,
                &args.lists.dirs,
            )?;
            summary::write_warninglisted(&mut out, &ls.set, &report, &lists)?;
        }
    }
    // Rejected indicators alone are warnings (--strict refuses them);
    // rejected input lines mean the history was not all read.
    let clean = report.totals.rejected_total() == 0 && !ls.set.is_empty();
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The inputs, with folders' files filtered by the `--glob` patterns.
fn discover(
    paths: &[std::path::PathBuf],
    globs: &[String],
) -> anyhow::Result<Vec<input::Input>> {
    let patterns = globs
        .iter()
        .map(|g| {
            glob::Pattern::new(g).with_context(|| format!("--glob '{g}'"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let keep = |p: &Path| {
        patterns.is_empty()
            || patterns.iter().any(|pat| {
                if pat.as_str().contains('/') {
                    pat.matches_path(p)
                } else {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| pat.matches(n))
                }
            })
    };
    input::discover_with(paths, &keep).context("finding inputs")
}

fn output_format(f: OutputFormat) -> output::Format {
    match f {
        OutputFormat::Jsonl => output::Format::JsonLines,
        OutputFormat::Csv => output::Format::Csv,
    }
}

fn options(args: &ReplayArgs) -> anyhow::Result<ReplayOptions> {
    let time = |s: &Option<String>, flag: &str| -> anyhow::Result<_> {
        s.as_deref()
            .map(|s| iocmatch_core::parse_time(s).map(|t| t.as_nanosecond()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
    };
    let mut b = ReplayOptions::builder();
    if let Some(n) = args.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        b.threads(n);
    }
    if let Some(t) = time(&args.from, "--from")? {
        b.from(t);
    }
    if let Some(t) = time(&args.to, "--to")? {
        b.to(t);
    }
    if let Some(tables) = &args.tables {
        b.tables(tables);
    }
    if let Some(t) = &args.table {
        b.export_table(t);
    }
    b.late_by(i128::from(args.late_by));
    if let Some(n) = args.read_ahead {
        b.lookahead(n);
    }
    if !args.no_mmap {
        // SAFETY: replay reads finished exports; a file changed while it is
        // mapped could give wrong results, which --no-mmap avoids.
        b.mmap(unsafe { MmapChoice::auto() });
    }
    b.build().map_err(|e| match e {
        iocmatch_replay::OptionsError::EmptyWindow { .. } => {
            anyhow::anyhow!("--from must be before --to")
        }
        e => anyhow::anyhow!("{e}"),
    })
}

/// Hits go nowhere when `--hits` is not given.
struct NoHits;

impl Sink for NoHits {
    type Error = io::Error;

    fn hit(&mut self, _hit: &Hit) -> io::Result<bool> {
        Ok(true)
    }
}

/// Shows progress on a terminal around the sink that writes hits.
struct Progress<S> {
    inner: S,
    bar: Option<indicatif::ProgressBar>,
}

impl<S: Sink> Sink for Progress<S> {
    type Error = S::Error;

    fn hit(&mut self, hit: &Hit) -> Result<bool, S::Error> {
        self.inner.hit(hit)
    }

    fn alert_opened(&mut self, alert: &Alert) -> Result<bool, S::Error> {
        self.inner.alert_opened(alert)
    }

    fn rejected(&mut self, r: &Rejected) -> Result<bool, S::Error> {
        self.inner.rejected(r)
    }

    fn progress(&mut self, done: u64, _total: u64, records: u64) {
        if let Some(p) = &self.bar {
            p.set_position(done);
            let secs = p.elapsed().as_secs_f64().max(1e-3);
            p.set_message(format!(
                "{records} records, {:.0}/s",
                records as f64 / secs
            ));
        }
    }

    fn finish(&mut self, report: &Report) -> Result<(), S::Error> {
        self.inner.finish(report)
    }
}

impl<S> Drop for Progress<S> {
    /// The bar goes when the run ends, whether it succeeded or not.
    fn drop(&mut self) {
        if let Some(p) = &self.bar {
            p.finish_and_clear();
        }
    }
}

/// A progress bar on an interactive terminal, for runs long enough to
/// want one.
fn progress_bar(
    args: &ReplayArgs,
    inputs: &[input::Input],
) -> Option<indicatif::ProgressBar> {
    if args.quiet || !io::stderr().is_terminal() {
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

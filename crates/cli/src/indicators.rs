//! Loading indicator files into a compiled set, for every command.

use std::path::PathBuf;

use anyhow::{Context, bail};
use iocmatch_core::load::{self, LoadError, LoadOptions, Loaded};
use iocmatch_core::{IndicatorSet, Severity};

use crate::flags::IndicatorArgs;

/// The outcome of loading every file.
pub struct LoadedSet {
    pub set: IndicatorSet,
    pub loaded: Loaded,
    /// Files that could not be read at all.
    pub failed: Vec<LoadError>,
    pub files: usize,
    pub elapsed: std::time::Duration,
}

impl LoadedSet {
    /// Exit status per the CLI contract: 0 when everything loaded, 1 when
    /// something was rejected or a file was unreadable.
    pub fn clean(&self) -> bool {
        self.loaded.rejected.is_empty()
            && self.failed.is_empty()
            && !self.set.is_empty()
    }
}

pub fn options(args: &IndicatorArgs) -> anyhow::Result<LoadOptions> {
    let format = match &args.ioc_format {
        Some(f) => Some(f.parse().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let severity = match &args.severity {
        Some(s) => Some(s.parse::<Severity>().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let text_type = match &args.text_type {
        Some(t) => Some(t.parse().map_err(anyhow::Error::msg)?),
        None => None,
    };
    if let Some(a) = &args.cert_action
        && iocmatch_core::Action::parse_alias(a).is_none()
    {
        bail!(
            "unknown --cert-action '{a}' (expected Allowed or BlockAndRemediate)"
        );
    }
    if iocmatch_core::Action::parse_alias(&args.action).is_none() {
        bail!(
            "unknown action '{}' (expected Allowed, Audit, Warn, Block or BlockAndRemediate)",
            args.action
        );
    }
    Ok(LoadOptions {
        format,
        default_action: args.action.clone(),
        default_cert_action: args.cert_action.clone(),
        default_severity: severity,
        default_title: args.title.clone(),
        text_type,
        misp_all_attributes: args.misp_all,
        value_column: args.column.clone(),
        type_column: args.type_column.clone(),
    })
}

/// The attributes of a MISP server, as loaded.
fn pull_misp(
    url: &str,
    args: &IndicatorArgs,
    opts: &LoadOptions,
) -> anyhow::Result<Loaded> {
    let key = iocmatch_sync::Secret::new(
        std::env::var("MISP_KEY").unwrap_or_default(),
    );
    let mut q = iocmatch_sync::misp::MispQuery::new(url, key);
    q.to_ids_only = !args.misp_all;
    q.last = args.misp_last.clone();
    q.limit = args.misp_page_size.max(1);
    let pages = iocmatch_sync::misp::pull(&q)
        .with_context(|| format!("pulling from MISP at {url}"))?;
    let mut out = Loaded::default();
    for (n, page) in pages.iter().enumerate() {
        let name: std::sync::Arc<str> =
            std::sync::Arc::from(format!("{url} (page {})", n + 1));
        let mut l =
            load::load_bytes(&name, page, load::Format::MispJson, opts)?;
        l.files = vec![load::FileSummary {
            file: name.to_string(),
            format: load::Format::MispJson,
            indicators: l.indicators.len() as u64,
            rejected: l.rejected.len() as u64,
        }];
        out.extend(l);
    }
    Ok(out)
}

/// Loads and compiles. Fails only when no file could be read, or in
/// strict mode when anything was rejected.
pub fn load(
    files: &[PathBuf],
    args: &IndicatorArgs,
) -> anyhow::Result<LoadedSet> {
    let start = std::time::Instant::now();
    let opts = options(args)?;
    let mut loaded = Loaded::default();
    let mut failed = Vec::new();
    for path in files {
        match load::load_path(path, &opts) {
            Ok(l) => loaded.extend(l),
            Err(e) => failed.push(e),
        }
    }
    if let Some(url) = &args.misp_url {
        loaded.extend(pull_misp(url, args, &opts)?);
    }
    if !files.is_empty() && failed.len() == files.len() {
        let msgs: Vec<String> =
            failed.iter().map(ToString::to_string).collect();
        bail!("no indicator file could be read:\n  {}", msgs.join("\n  "));
    }
    if args.strict && !(loaded.rejected.is_empty() && failed.is_empty()) {
        let mut msg = format!(
            "--strict: {} indicators rejected and {} files unreadable; nothing loaded",
            loaded.rejected.len(),
            failed.len()
        );
        for r in loaded.rejected.iter().take(20) {
            msg.push_str(&format!("\n  {r}"));
        }
        for f in &failed {
            msg.push_str(&format!("\n  {f}"));
        }
        bail!(msg);
    }
    if loaded.indicators.is_empty() {
        eprintln!(
            "iocmatch: warning: no indicators loaded from {} (an empty set matches nothing)",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let indicators = std::mem::take(&mut loaded.indicators);
    let set = IndicatorSet::new(indicators)
        .context("compiling the indicator set")?;
    Ok(LoadedSet {
        set,
        loaded,
        failed,
        files: files.len(),
        elapsed: start.elapsed(),
    })
}

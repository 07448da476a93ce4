//! Writing a normalised set back out: Defender CSV (in portal-sized
//! files), Defender API JSON, or a plain list. The formats themselves
//! are `iocmatch_core::defender`'s; this decides files and names.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use iocmatch_core::defender::{self, CSV_ROWS_PER_FILE};
use iocmatch_core::{Indicator, IndicatorSet};

use crate::flags::ExportFormat;

pub struct Written {
    pub indicators: usize,
    pub offline_only: usize,
    pub files: Vec<PathBuf>,
}

impl Written {
    pub fn describe_files(&self) -> String {
        match self.files.as_slice() {
            [one] => one.display().to_string(),
            many => format!(
                "{} files ({} … {})",
                many.len(),
                many[0].display(),
                many[many.len() - 1].display()
            ),
        }
    }
}

pub fn write(
    set: &IndicatorSet,
    format: ExportFormat,
    path: &Path,
) -> anyhow::Result<Written> {
    let all: Vec<&Indicator> = set.iter().map(|(_, i)| i).collect();
    write_some(&all, format, path)
}

/// Writes `all`, less what `format` cannot carry.
pub fn write_some(
    all: &[&Indicator],
    format: ExportFormat,
    path: &Path,
) -> anyhow::Result<Written> {
    // Defender formats cannot carry offline-only forms; a plain list can.
    let keep =
        |i: &&Indicator| format == ExportFormat::Txt || !i.is_offline_only();
    let chosen: Vec<&Indicator> = all.iter().copied().filter(keep).collect();
    let offline_only = all.len() - chosen.len();
    let files = match format {
        ExportFormat::DefenderCsv => write_csv_files(&chosen, path)?,
        ExportFormat::DefenderJson => write_one(path, |w| {
            defender::write_json(chosen.iter().copied(), w)
        })?,
        ExportFormat::Txt => write_one(path, |w| {
            chosen.iter().try_for_each(|i| writeln!(w, "{}", i.value()))
        })?,
    };
    Ok(Written { indicators: chosen.len(), offline_only, files })
}

fn write_one(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> anyhow::Result<Vec<PathBuf>> {
    let file = File::create(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::new(file);
    body(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(vec![path.to_owned()])
}

/// One file when it fits, else `NAME-001.csv`, `NAME-002.csv`, ….
fn write_csv_files(
    inds: &[&Indicator],
    path: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let csv = |chunk: &[&Indicator], w: &mut BufWriter<File>| {
        defender::write_csv(chunk.iter().copied(), w)
    };
    if inds.len() <= CSV_ROWS_PER_FILE {
        return write_one(path, |w| csv(inds, w));
    }
    let stem =
        path.file_stem().and_then(|s| s.to_str()).unwrap_or("indicators");
    let mut files = Vec::new();
    for (n, chunk) in inds.chunks(CSV_ROWS_PER_FILE).enumerate() {
        let p = path.with_file_name(format!("{stem}-{:03}.csv", n + 1));
        files.extend(write_one(&p, |w| csv(chunk, w))?);
    }
    Ok(files)
}

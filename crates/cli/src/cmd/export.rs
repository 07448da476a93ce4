//! Writing a normalised set back out: Defender CSV (in portal-sized
//! files), Defender API JSON, or a plain list.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use iocmatch_core::{Indicator, IndicatorSet, IndicatorType};
use serde_json::json;

use crate::flags::ExportFormat;

/// The portal imports at most 500 rows per CSV file.
const CSV_ROWS_PER_FILE: usize = 500;

const CSV_HEADER: [&str; 12] = [
    "IndicatorType",
    "IndicatorValue",
    "ExpirationTime",
    "Action",
    "Severity",
    "Title",
    "Description",
    "RecommendedActions",
    "RbacGroups",
    "Category",
    "MitreTechniques",
    "GenerateAlert",
];

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
    // Defender formats cannot carry offline-only forms; a plain list can.
    let keep =
        |i: &&Indicator| format == ExportFormat::Txt || !i.is_offline_only();
    let all: Vec<&Indicator> = set.iter().map(|(_, i)| i).collect();
    let chosen: Vec<&Indicator> = all.iter().copied().filter(keep).collect();
    let offline_only = all.len() - chosen.len();
    let files = match format {
        ExportFormat::DefenderCsv => write_csv_files(&chosen, path)?,
        ExportFormat::DefenderJson => {
            write_one(path, |w| write_json(&chosen, w))?
        }
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
    if inds.len() <= CSV_ROWS_PER_FILE {
        return write_one(path, |w| write_csv(inds, w));
    }
    let stem =
        path.file_stem().and_then(|s| s.to_str()).unwrap_or("indicators");
    let mut files = Vec::new();
    for (n, chunk) in inds.chunks(CSV_ROWS_PER_FILE).enumerate() {
        let p = path.with_file_name(format!("{stem}-{:03}.csv", n + 1));
        files.extend(write_one(&p, |w| write_csv(chunk, w))?);
    }
    Ok(files)
}

/// Defender wants IPv6 with all eight groups written out.
fn export_value(i: &Indicator) -> String {
    if i.indicator_type() == IndicatorType::IpAddress
        && let Ok(ip) = i.value().parse()
    {
        return iocmatch_core::value::ip::defender_text(ip);
    }
    i.value().to_string()
}

fn write_csv(inds: &[&Indicator], w: &mut impl Write) -> std::io::Result<()> {
    let mut csv = csv_writer(w);
    csv.write_record(CSV_HEADER)?;
    for i in inds {
        let m = &i.meta();
        let exp = m
            .expiration
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.0Z").to_string());
        let alert = if i.alerts() { "True" } else { "False" };
        csv.write_record([
            i.indicator_type().as_str(),
            &export_value(i),
            exp.as_deref().unwrap_or(""),
            i.action().as_str(),
            m.severity.map_or("", |s| s.as_str()),
            i.title().unwrap_or(""),
            m.description().unwrap_or(""),
            m.recommended_actions().unwrap_or(""),
            &m.rbac_group_names().join(","),
            m.category().unwrap_or(""),
            &m.mitre_techniques().join(","),
            alert,
        ])?;
    }
    csv.flush()
}

fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().from_writer(w)
}

fn write_json(inds: &[&Indicator], w: &mut impl Write) -> std::io::Result<()> {
    let entities: Vec<serde_json::Value> = inds
        .iter()
        .map(|i| {
            let m = &i.meta();
            json!({
                "indicatorType": i.indicator_type().as_str(),
                "indicatorValue": export_value(i),
                "action": i.action().as_str(),
                "severity": m.severity.map(|s| s.as_str()),
                "title": i.title(),
                "description": m.description(),
                "recommendedActions": m.recommended_actions(),
                "category": m.category(),
                "mitreTechniques": m.mitre_techniques(),
                "generateAlert": i.alerts(),
                "expirationTime": m.expiration.map(|t| t.to_string()),
                "rbacGroupNames": m.rbac_group_names(),
                "application": m.application(),
                "externalId": m.external_id(),
                "educateUrl": m.educate_url(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &entities)?;
    writeln!(w)
}

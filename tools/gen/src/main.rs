//! `iocmatch-gen`: write a synthetic Defender export, its indicator set
//! and ground truth.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use iocmatch_gen::{Layout, Options, World, generate, indicators, parse_size};

/// Generate a deterministic synthetic Defender streaming export, a
/// matching indicator set and the ground truth of what was planted.
#[derive(Parser, Debug)]
#[command(name = "iocmatch-gen", version, about)]
struct Args {
    /// Output folder.
    #[arg(short, long)]
    out: PathBuf,
    /// Size of the export (e.g. 3MB, 1GiB).
    #[arg(long, default_value = "10MB", value_parser = parse_size)]
    size: u64,
    #[arg(long, value_enum, default_value = "storage")]
    layout: LayoutArg,
    /// Compress every export file with gzip.
    #[arg(long)]
    gzip: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Chance that an IOC-bearing column carries a planted value.
    #[arg(long, default_value_t = 0.002)]
    hit_rate: f64,
    /// Share of records delivered twice.
    #[arg(long, default_value_t = 0.03)]
    duplicate_rate: f64,
    /// Share of damaged lines.
    #[arg(long, default_value_t = 0.0005)]
    damage_rate: f64,
    /// Hours of events the export covers.
    #[arg(long, default_value_t = 24)]
    hours: u64,
    /// Planted indicators per family (hashes, domains, IPs, URLs).
    #[arg(long, default_value_t = 50)]
    planted: usize,
    /// Indicators in indicators.csv (planted first, then filler); 0 for none.
    #[arg(long, default_value_t = 15_000)]
    indicators: usize,
    /// Also write the set as a MISP event (indicators.misp.json).
    #[arg(long)]
    misp: bool,
    /// Also write the set as a STIX 2.1 bundle (indicators.stix.json).
    #[arg(long)]
    stix: bool,
    /// Write only the indicator set, no export.
    #[arg(long)]
    indicators_only: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LayoutArg {
    Storage,
    Eventhub,
    /// Event Hubs Capture: the bodies in an Avro file.
    Capture,
    Jsonl,
}

/// 2026-07-18T00:00:00Z.
const START: u64 = 1_784_332_800_000_000_000;

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("creating {}", a.out.display()))?;
    let started = std::time::Instant::now();
    if a.indicators > 0 {
        let world = World::new(a.seed, a.planted);
        let rows = indicators::rows(&world, a.indicators, a.seed);
        write(&a.out.join("indicators.csv"), |w| {
            indicators::write_csv(&rows, w)
        })?;
        if a.misp {
            write(&a.out.join("indicators.misp.json"), |w| {
                indicators::write_misp(&rows, w)
            })?;
        }
        if a.stix {
            write(&a.out.join("indicators.stix.json"), |w| {
                indicators::write_stix(&rows, w)
            })?;
        }
        eprintln!(
            "wrote {} indicators to {}",
            rows.len(),
            a.out.join("indicators.csv").display()
        );
    }
    if a.indicators_only {
        return Ok(());
    }
    let opts = Options {
        out: a.out.clone(),
        layout: match a.layout {
            LayoutArg::Storage => Layout::Storage,
            LayoutArg::Eventhub => Layout::EventHub,
            LayoutArg::Capture => Layout::Capture,
            LayoutArg::Jsonl => Layout::Jsonl,
        },
        gzip: a.gzip,
        size: a.size,
        seed: a.seed,
        hit_rate: a.hit_rate,
        duplicate_rate: a.duplicate_rate,
        damage_rate: a.damage_rate,
        start: START,
        hours: a.hours,
        bad: a.planted,
    };
    let total = a.size;
    let s = generate(&opts, &mut |bytes| {
        eprint!(
            "\r{:5.1} % of {} MB",
            bytes as f64 * 100.0 / total as f64,
            total / 1_000_000
        );
    })?;
    eprintln!(
        "\rwrote {} records ({} MB) in {} files in {:.1} s: {} duplicate deliveries, {} damaged lines, {} planted values (truth.jsonl)",
        s.records,
        s.bytes / 1_000_000,
        s.files,
        started.elapsed().as_secs_f64(),
        s.duplicates,
        s.damaged,
        s.planted
    );
    Ok(())
}

fn write(
    path: &PathBuf,
    f: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut w = BufWriter::new(
        File::create(path)
            .with_context(|| format!("creating {}", path.display()))?,
    );
    f(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing {}", path.display()))
}

//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Compile Microsoft Defender indicator sets and replay exported Defender
/// data against them.
#[derive(Parser, Debug)]
#[command(name = "iocmatch", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load indicator files, report what loaded, what was refused and why,
    /// and which values conflict.
    ///
    /// Exit status: 0 when everything loaded, 1 when something was
    /// rejected, 2 when nothing could be read.
    Check(CheckArgs),
}

/// How indicator files are read; shared by every command that takes
/// indicators.
#[derive(Args, Debug, Clone)]
pub struct IndicatorArgs {
    /// Read every file in this format instead of detecting it:
    /// defender-csv, defender-json, txt, misp, misp-feed, misp-csv, stix.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Action for formats that carry none (plain lists, MISP, STIX).
    #[arg(long, default_value = "Audit", value_name = "ACTION")]
    pub action: String,
    /// Severity for formats that carry none.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Title for formats that carry none.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// Type of every value of a plain list, instead of guessing it.
    #[arg(long = "type", value_name = "TYPE")]
    pub text_type: Option<String>,
    /// Load MISP attributes not marked to_ids as well.
    #[arg(long)]
    pub misp_all: bool,
    /// Refuse the whole set if any indicator is invalid.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Indicator files, or MISP feed folders.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub indicators: IndicatorArgs,
    /// Print a JSON report instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Write the normalised set in this format (needs --output).
    #[arg(long, value_enum, requires = "output", value_name = "FORMAT")]
    pub export: Option<ExportFormat>,
    /// Where --export writes. Defender CSV is split into files of at most
    /// 500 rows (NAME-001.csv, …) when larger, as the portal requires.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// The portal's CSV import format.
    DefenderCsv,
    /// A JSON array of Defender Indicator entities.
    DefenderJson,
    /// One value per line.
    Txt,
}

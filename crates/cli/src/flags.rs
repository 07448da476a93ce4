//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use clap::builder::{PossibleValue, PossibleValuesParser};

fn actions() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("Audit").alias("Alert"),
        PossibleValue::new("Warn"),
        PossibleValue::new("Block").alias("AlertAndBlock"),
        PossibleValue::new("BlockAndRemediate"),
        PossibleValue::new("Allowed").alias("Allow"),
    ])
}

fn severities() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("Informational").alias("Info"),
        PossibleValue::new("Low"),
        PossibleValue::new("Medium"),
        PossibleValue::new("High"),
    ])
}

fn types() -> PossibleValuesParser {
    PossibleValuesParser::new([
        PossibleValue::new("FileSha256").alias("sha256"),
        PossibleValue::new("FileSha1").alias("sha1"),
        PossibleValue::new("FileMd5").alias("md5"),
        PossibleValue::new("CertificateThumbprint")
            .aliases(["certificate", "cert"]),
        PossibleValue::new("IpAddress").alias("ip"),
        PossibleValue::new("DomainName").alias("domain"),
        PossibleValue::new("Url"),
    ])
}

const CHECK_EXAMPLES: &str = "Examples:
  iocmatch check iocs.csv misp-feed/ report.txt
  iocmatch check --json iocs.csv > check.json
  iocmatch check --ioc-format extract threat-report.html
  curl -s https://example.org/feed.csv | iocmatch check -
  iocmatch check iocs.txt --action Block --export defender-csv -o out.csv";

const REPLAY_EXAMPLES: &str = "Examples:
  iocmatch replay -i iocs.csv exports/
  iocmatch replay -i iocs.csv exports/ --hits hits.jsonl --alerts alerts.jsonl --html report.html
  zcat PT1H.json.gz | iocmatch replay -i iocs.csv - --hits - --format csv
  iocmatch replay -i iocs.csv exports/ --from 2026-07-01 --to 2026-07-08 --tables DeviceNetworkEvents
  iocmatch replay -i iocs.csv capture/ns/hub/0/2026/07/18/00/00/00.avro
  iocmatch replay -i iocs.csv hunting-results.csv --table DeviceNetworkEvents";

const GATE_EXAMPLES: &str = "Examples:
  iocmatch gate -i iocs.csv
  iocmatch gate -i iocs.csv --replay exports/ -o passing.csv --html gate.html
  iocmatch gate -i iocs.csv --replay exports/ --json | jq '.indicators[] | select(.verdict != \"pass\")'";

const SYNC_EXAMPLES: &str = "Examples:
  iocmatch sync plan -i iocs.csv -i alerts.toml
  iocmatch sync apply -i passing.csv --yes
  iocmatch sync apply -i iocs.csv --dry-run --json";

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
    /// rejected (or nothing loaded), 2 when nothing could be read.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Replay exported Defender streaming data against indicator sets and
    /// report the hits and alerts Defender would have raised.
    ///
    /// Exit status: 0 when the run completed, 1 when it completed but some
    /// input lines were rejected (or the set is empty), 2 when it could
    /// not run. Rejected indicators are warnings unless --strict.
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(ReplayArgs),
    /// Decide what of a set is safe to publish: warninglists and the
    /// impact a replay of history shows give each indicator a verdict
    /// (pass, warn, block) with reasons.
    ///
    /// Exit status: 0 when nothing was held back, 1 when something was,
    /// 2 on error.
    #[command(after_help = GATE_EXAMPLES)]
    Gate(GateArgs),
    /// Publish an indicator set to Microsoft Defender for Endpoint: plan
    /// what would change, then apply it.
    #[command(subcommand, after_help = SYNC_EXAMPLES)]
    Sync(SyncCommand),
    /// Respond to what replay found: Defender alerts and machine actions,
    /// Kaspersky EDR tasks, as a policy says and within its guardrails.
    #[command(subcommand, after_help = RESPOND_EXAMPLES)]
    Respond(RespondCommand),
}

const RESPOND_EXAMPLES: &str = "Examples:
  iocmatch replay -i iocs.csv exports/ --alerts alerts.jsonl
  iocmatch respond plan --alerts alerts.jsonl --policy respond.toml
  iocmatch respond apply --alerts alerts.jsonl --policy respond.toml --yes --audit audit.jsonl";

#[derive(Subcommand, Debug)]
pub enum RespondCommand {
    /// Show what an apply would do, and why the rest will not be done.
    /// Reads the audit log; sends nothing.
    ///
    /// Exit status: 0 when the plan was made, 2 when it could not be.
    Plan(RespondArgs),
    /// Carry the plan out: show it, ask on a terminal (or take --yes),
    /// send each action and log it.
    ///
    /// Exit status: 0 when nothing failed, 1 when something did, 2 when
    /// the run could not start or stopped.
    Apply(RespondArgs),
}

/// What to respond to, how, and where to record it.
#[derive(Args, Debug)]
pub struct RespondArgs {
    /// Replay's alerts (`iocmatch replay --alerts FILE`, JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub alerts: PathBuf,
    /// The response policy (TOML: a `[guardrails]` table and `[[rule]]`s; see
    /// docs/respond.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The indicator files the alerts came from: their recommended
    /// actions go into Defender alerts (else the rule's, else a sentence
    /// naming the indicator). Repeat for several.
    #[arg(long = "indicators", short = 'i', value_name = "FILE")]
    pub indicator_files: Vec<PathBuf>,
    /// The audit log (JSON Lines): every action planned, refused, sent,
    /// done or failed, and what later runs do not repeat.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "iocmatch-respond-audit.jsonl"
    )]
    pub audit: PathBuf,
    /// Settings: a TOML file with a `[defender]` table (as for sync) and
    /// a `[ksc]` table (url, user, password, domain, internal, ca_cert);
    /// the AZURE_* and KSC_* environment variables win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The API's base URL (env: IOCMATCH_API_URL).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Follow each machine action for at most this long (then it goes on
    /// without us; a later run does not post it again). E.g. 30s, 10m.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub wait: i64,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Apply without asking (for scheduled jobs).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Show what an apply would create, update and delete, and whether
    /// the guardrails allow it. Writes nothing.
    ///
    /// Exit status: 0 when the plan may be applied, 1 when a guardrail
    /// refuses it, 2 when it could not be made.
    Plan(SyncArgs),
    /// Make the tenant hold the set: show the plan, ask on a terminal
    /// (or take --yes), then write it in batches.
    ///
    /// Exit status: 0 when everything was written (or nothing needed
    /// to be), 1 when part was, 2 when nothing was.
    Apply(SyncArgs),
}

/// Which warninglists: the bundled ones, and checkouts of
/// misp-warninglists.
#[derive(Args, Debug, Clone)]
pub struct WarninglistArgs {
    /// Also read the warninglists of DIR: a checkout of
    /// misp-warninglists (lists/*/list.json) or a folder of list files.
    /// Repeat for several.
    #[arg(long = "warninglists-dir", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Leave out the warninglists bundled with iocmatch.
    #[arg(long)]
    pub no_bundled_warninglists: bool,
}

#[derive(Args, Debug)]
pub struct GateArgs {
    /// Indicator files (any format `check` reads); repeat for several.
    #[arg(
        long = "indicators",
        short = 'i',
        required_unless_present = "misp_url",
        value_name = "FILE"
    )]
    pub indicator_files: Vec<PathBuf>,
    #[command(flatten)]
    pub indicators: IndicatorArgs,
    /// Exported data to replay for the impact checks: files, folders,
    /// .gz files, or - for standard input. Repeat for several.
    #[arg(long = "replay", value_name = "INPUT")]
    pub replay: Vec<PathBuf>,
    /// A checkout of misp-warninglists (or a folder of list files) to
    /// use besides the bundled lists. Repeat for several.
    #[arg(
        long = "warninglists",
        visible_alias = "warninglists-dir",
        value_name = "DIR"
    )]
    pub warninglists: Vec<PathBuf>,
    /// Leave out the warninglists bundled with iocmatch.
    #[arg(long)]
    pub no_bundled_warninglists: bool,
    /// List every indicator with its verdict and reasons as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML report of the verdicts (and of the
    /// replay) here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the passing set (pass and warn) here: Defender CSV for
    /// .csv (in files of at most 500 rows), Defender API JSON for .json.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Hold back a blocking indicator seen on at least N devices.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_block_devices: u64,
    /// Hold back a blocking indicator seen on at least this share of the
    /// replay's devices (0.05 is 5 %).
    #[arg(long, default_value_t = 0.05, value_name = "SHARE")]
    pub max_block_share: f64,
    /// Warn about an alerting indicator with at least N alerting hits in
    /// one day.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_alerts_per_day: u64,
    /// Warn about an alerting indicator seen on at least this share of
    /// the replay's devices.
    #[arg(long, default_value_t = 0.10, value_name = "SHARE")]
    pub max_alert_share: f64,
    /// Worker threads for the replay (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// Where and how to sync.
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Indicator files (any format `check` reads); repeat for several.
    #[arg(
        long = "indicators",
        short = 'i',
        required_unless_present = "misp_url",
        value_name = "FILE"
    )]
    pub indicator_files: Vec<PathBuf>,
    #[command(flatten)]
    pub indicators: IndicatorArgs,
    /// The API's base URL (env: IOCMATCH_API_URL; default:
    /// `https://api.security.microsoft.com`).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// A TOML file with a `[defender]` table (tenant_id, client_id,
    /// client_secret, api_url, authority_host, application); the
    /// AZURE_* environment variables win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The `application` value that marks indicators as ours (env:
    /// IOCMATCH_APPLICATION; default: iocmatch). Only indicators with
    /// this value and our client id as creator are updated or deleted.
    #[arg(long, value_name = "TAG")]
    pub application: Option<String>,
    /// Allow deleting more than 100 or more than 10 % of our indicators.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Apply without asking (for scheduled jobs).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the plan and stop: nothing is written.
    #[arg(long)]
    pub dry_run: bool,
}

/// How indicator files are read; shared by every command that takes
/// indicators.
#[derive(Args, Debug, Clone)]
pub struct IndicatorArgs {
    /// Read every indicator file in this format instead of detecting it:
    /// defender-csv, defender-json, txt, csv (feeds with a header), misp,
    /// misp-feed, misp-csv, stix, set (iocmatch set files), legacy-ti (the
    /// old custom TI API's JSON).
    #[arg(long, value_name = "FORMAT")]
    pub ioc_format: Option<String>,
    /// Action for formats that carry none (plain lists, MISP, STIX).
    #[arg(long, default_value = "Audit", value_name = "ACTION", ignore_case = true, value_parser = actions())]
    pub action: String,
    /// Action for certificate thumbprints in those formats (Defender
    /// accepts only Allowed and BlockAndRemediate on certificates).
    #[arg(long, value_name = "ACTION", ignore_case = true, value_parser = actions())]
    pub cert_action: Option<String>,
    /// Severity for formats that carry none.
    #[arg(long, value_name = "SEVERITY", ignore_case = true, value_parser = severities())]
    pub severity: Option<String>,
    /// Title for formats that carry none.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// Type of every value of a plain list, instead of guessing it.
    #[arg(long = "type", value_name = "TYPE", ignore_case = true, value_parser = types())]
    pub text_type: Option<String>,
    /// Load MISP attributes not marked to_ids as well.
    #[arg(long)]
    pub misp_all: bool,
    /// The value column of CSV feeds, by header name (found by name
    /// otherwise: indicator, ioc, value, url, domain, ip, sha256, …).
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// The type column of CSV feeds, by header name (found by name
    /// otherwise: type, ioc_type, indicator_type, …).
    #[arg(long, value_name = "NAME")]
    pub type_column: Option<String>,
    /// Also pull attributes from this MISP server (restSearch, paged;
    /// to_ids only unless --misp-all), with the API key in MISP_KEY.
    #[arg(long, value_name = "URL")]
    pub misp_url: Option<String>,
    /// With --misp-url: only attributes published in this period (7d,
    /// 24h, …).
    #[arg(long, value_name = "PERIOD", requires = "misp_url")]
    pub misp_last: Option<String>,
    /// With --misp-url: attributes per page.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5000,
        requires = "misp_url"
    )]
    pub misp_page_size: usize,
    /// Refuse the whole set if any indicator is invalid.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Indicator files, or MISP feed folders; - for standard input.
    #[arg(required_unless_present = "misp_url", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub indicators: IndicatorArgs,
    /// Print a JSON report instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Report the indicators found on warninglists (the bundled ones and
    /// any --warninglists-dir).
    #[arg(long)]
    pub warninglists: bool,
    #[command(flatten)]
    pub lists: WarninglistArgs,
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

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Indicator files (any format `check` reads); repeat for several.
    #[arg(
        long = "indicators",
        short = 'i',
        required_unless_present = "misp_url",
        value_name = "FILE"
    )]
    pub indicator_files: Vec<PathBuf>,
    #[command(flatten)]
    pub indicators: IndicatorArgs,
    /// Exported data: files, folders (walked recursively), .gz files,
    /// Event Hubs Capture .avro files, Advanced Hunting / Log Analytics
    /// CSV or JSON exports, or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write every hit (suppressed ones included) here; - for stdout.
    #[arg(long, value_name = "PATH")]
    pub hits: Option<PathBuf>,
    /// Write one line per alert (indicator, device) here; - for stdout.
    #[arg(long, value_name = "PATH")]
    pub alerts: Option<PathBuf>,
    /// Write the JSON run report here; - for stdout.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Write a self-contained HTML report here (summary, alerts by
    /// severity, hits per hour, top devices and indicators, rejections).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Format of --hits and --alerts.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: OutputFormat,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Only events at or after this time (RFC 3339 or a date).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only events before this time.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Of the files under the input folders, read only those matching
    /// PATTERN (`*.json`, `*.gz`; matched against the file name, or the
    /// whole path when it has a `/`). Repeat for several.
    #[arg(long, value_name = "PATTERN")]
    pub glob: Vec<String>,
    /// Only these tables, comma-separated (e.g. DeviceNetworkEvents).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Inputs read at once, each on a thread of its own (gzip inflating,
    /// blobs downloading) while earlier ones are evaluated; about 32 MiB
    /// each. Default: one per worker thread, at least 4 with blobs.
    #[arg(long, value_name = "N")]
    pub read_ahead: Option<usize>,
    /// How late records may reach storage: files in Defender's storage
    /// layout written more than this after --to are skipped unread (and
    /// those written over an hour before --from). E.g. 6h, 2d.
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration)]
    pub late_by: i64,
    /// The table of CSV or JSON export rows that name none (the portal's
    /// Advanced Hunting export has no Type column; Log Analytics' has).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// No progress bar and no summary (warnings still go to stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Read files instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,
    /// Flag hits of indicators found on warninglists (the bundled ones
    /// and any --warninglists-dir) in the summary.
    #[arg(long)]
    pub warninglists: bool,
    #[command(flatten)]
    pub lists: WarninglistArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header.
    Csv,
}

/// `90m`, `6h`, `2d` as nanoseconds.
fn parse_duration(s: &str) -> Result<i64, String> {
    let d = iocmatch_core::parse_duration(s)?;
    i64::try_from(d.as_nanos()).map_err(|_| format!("'{s}' is too long"))
}

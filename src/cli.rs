//! Command-line definitions (clap derive). `analyze` is the default command.

use crate::model::Severity;
use crate::parse::InputFormat;
use crate::report::Format;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Reads what Hermes Agent leaves behind — journal, agent.log, errors.log, gateway.log, auth.json,
/// `hermes auth list` — and reports, with evidence, where credential rotation, retries and
/// fallback went wrong.
#[derive(Debug, Parser)]
#[command(
    name = "hermes-forensics",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error \
                  (details and examples: --help)",
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub analyze: AnalyzeArgs,
}

// Parsed once per process: the size of the analyze variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze logs and report findings (the default command).
    Analyze(AnalyzeArgs),
    /// Print the normalized event stream as NDJSON (one object per event, with its request).
    Events(EventsArgs),
    /// List the rules.
    Rules {
        /// Print the list as the Markdown table used in the README.
        #[arg(long)]
        markdown: bool,
        /// Print a journald message catalog of the rules (`journalctl -x` text per MESSAGE_ID).
        #[arg(long, conflicts_with = "markdown")]
        journal_catalog: bool,
    },
    /// Print a rule's documentation.
    Explain {
        /// Rule id, e.g. `missed-rotation` (see `hermes-forensics rules`).
        #[arg(value_parser = RuleIdParser, hide_possible_values = true)]
        rule: String,
    },
    /// Print a shell completion script (e.g. `hermes-forensics completions bash > /etc/bash_completion.d/hermes-forensics`).
    Completions {
        /// Shell to generate the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `hermes-forensics man > hermes-forensics.1`.
    Man,
    /// Combine JSON reports of single hosts (`--format json`, e.g. one CI job per host) into
    /// one report, as one run over all their input gives it (e.g. `hermes-forensics merge
    /// host-*.json --format sarif`).
    Merge(MergeArgs),
    /// Print the regression matrix over captures of the real Hermes: scenario × release, the
    /// findings of each (e.g. `hermes-forensics matrix fixtures/captured`).
    Matrix {
        /// Directory of `hermes-<release>/<scenario>/` captures.
        dir: PathBuf,
    },
}

/// Exit codes and examples, after the options of `--help` (and in the manual page).
pub const AFTER_LONG_HELP: &str = "\
Exit codes:
  0  no finding at or above --fail-on (or --fail-on never)
  1  findings at or above --fail-on
  2  usage or input error: a path that does not exist, a corrupt auth.json, a *.json that is no
     known JSON, an empty directory, inputs without a single Hermes log line (--allow-empty
     accepts those), an unwritable output; for merge, a file that is no JSON report or of
     another schema_version, a report given twice, overlapping reports of one host
  A closed pipe (| head) ends the run quietly.

Examples:
  journalctl --user -u hermes-gateway -o short-iso --since today | hermes-forensics
  hermes-forensics ~/.hermes/logs ~/.hermes/auth.json
  hermes-forensics --format markdown --timeline agent.log auth.json > report.md
  hermes-forensics --request 'pid 2844586#1' journal.log
  hermes-forensics --format github --baseline .hermes-forensics-baseline.json captured-logs/
  hermes-forensics --tz America/New_York --date 2026-05-08 paste.txt
  hermes-forensics merge host-*.json --format sarif
  hermes-forensics events agent.log
  hermes-forensics explain missed-rotation
  hermes-forensics man > hermes-forensics.1";

/// Pool strategies `--strategy` accepts.
pub use crate::correlate::STRATEGIES;

/// A rule id: completed by the shell from the rule list; a typo is an error with a "did you
/// mean" hint.
#[derive(Debug, Clone, Copy)]
pub struct RuleIdParser;

impl TypedValueParser for RuleIdParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let v = value.to_string_lossy();
        if crate::rules::find(&v).is_some() {
            return Ok(v.into_owned());
        }
        Err(clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!("{}\n", crate::config::unknown_rule(&v)),
        )
        .with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            crate::rules::RULES
                .iter()
                .map(|r| PossibleValue::new(r.info.id).help(r.info.summary)),
        ))
    }
}

/// A Hermes version: any `X.Y.Z`; the known releases are offered to the shell and listed in help.
#[derive(Debug, Clone, Copy)]
pub struct HermesVersionParser;

impl TypedValueParser for HermesVersionParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let v = value.to_string_lossy();
        match v.parse::<crate::correlate::HermesVersion>() {
            Ok(_) => Ok(v.into_owned()),
            Err(e) => Err(
                clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n"))
                    .with_cmd(cmd),
            ),
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            crate::release::RELEASES
                .iter()
                .map(|(_, name)| PossibleValue::new(*name)),
        ))
    }
}

/// `PROVIDER=STRATEGY`: the strategies are offered to the shell after `=` (as `=fill_first`…).
fn strategy_help() -> String {
    format!(
        "Pool strategy of a provider, e.g. `openai-codex=round_robin`; STRATEGY is one of {} (default fill_first)",
        STRATEGIES.join(", ")
    )
}

/// Options shared by every command that reads input.
#[derive(Debug, Clone, Args, Default)]
pub struct IngestArgs {
    /// Log files, directories or `-` for stdin (no path reads stdin). A directory gives its
    /// Hermes files (agent.log*, errors.log*, gateway.log*, *.json) and every other file whose
    /// first lines hold a Hermes log line (a journal saved under any name); the rest is skipped,
    /// each with a `skipped: FILE: why` line on stderr.
    pub paths: Vec<PathBuf>,
    /// Force the line format instead of detecting it.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// auth.json snapshot (repeatable).
    #[arg(long = "auth", value_name = "FILE")]
    pub auth: Vec<PathBuf>,
    /// `hermes auth list` capture (repeatable).
    #[arg(long = "auth-list", value_name = "FILE")]
    pub auth_list: Vec<PathBuf>,
    /// IANA zone, e.g. America/New_York: for times written without an offset (default UTC), and
    /// the zone reports print times in (default UTC).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Date for lines that carry only a time of day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Year for journal `short` lines (which carry no year).
    #[arg(long)]
    pub year: Option<i32>,
    /// Fail (exit 2) when a line that looks like a Hermes request event is not recognized.
    #[arg(long)]
    pub strict: bool,
    /// Exit 0 when there is nothing to analyze (an empty directory, inputs without a single
    /// log line) instead of failing with exit 2.
    #[arg(long)]
    pub allow_empty: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    High,
    Medium,
    #[default]
    Low,
    Info,
    Never,
}

impl FailOn {
    /// The lowest severity that fails the run, if any.
    pub fn threshold(self) -> Option<crate::model::Severity> {
        use crate::model::Severity;
        match self {
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Args, Default)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Run only this rule (repeatable; ids: `hermes-forensics rules`).
    #[arg(long = "rule", value_name = "ID", value_parser = RuleIdParser, hide_possible_values = true)]
    pub rules: Vec<String>,
    /// Skip this rule (repeatable).
    #[arg(long = "ignore", value_name = "ID", value_parser = RuleIdParser, hide_possible_values = true)]
    pub ignore: Vec<String>,
    /// Only events at or after this time (RFC 3339, or `YYYY-MM-DD HH:MM:SS` in --tz).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Low)]
    pub fail_on: FailOn,
    /// Show each request's timeline (attempts, rotations, waits, fallbacks, profiles).
    #[arg(long)]
    pub timeline: bool,
    /// Show only this request's timeline and findings (its id as the reports print it, e.g.
    /// `pid 2844586#1`).
    #[arg(long, value_name = "ID")]
    pub request: Option<String>,
    /// Rules of this Hermes release (default: the release the logs show, else the newest known).
    #[arg(long, value_name = "VERSION", value_parser = HermesVersionParser)]
    pub hermes_version: Option<String>,
    #[arg(long = "strategy", value_name = "PROVIDER=STRATEGY", help = strategy_help())]
    pub strategies: Vec<String>,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Follow a live stream: print each finding as soon as its request closes, through the
    /// batch run's analysis (by the end, the same findings). On standard input (or a pipe) it
    /// ends at end of input. `--follow FILE` follows the file like `tail -F` (after its end,
    /// through truncation and rotation) and runs until interrupted (SIGINT or SIGTERM); both
    /// flush what is pending.
    #[arg(long)]
    pub follow: bool,
    /// Worker threads (default: one per core): threads that parse a large log in parts (each
    /// input also has a reading thread of its own), inputs read at once in a whole-input
    /// analysis (--timeline, --no-streaming), hosts judged at once. Output is identical for any N.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// With --follow: judge open requests after this many seconds without input.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub idle: u64,
    /// Configuration file (default: hermes-forensics.toml in the current directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only findings whose fingerprint is not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the fingerprints of the current findings in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Severity per rule id, from the configuration file.
    #[arg(skip)]
    pub severity_overrides: BTreeMap<String, Severity>,
    /// Print secrets found in the logs as they are (the report header says so).
    #[arg(long)]
    pub no_redact: bool,
    /// Hold the whole input in memory instead of streaming it (--timeline always does; a file
    /// whose times go back by more than 15 minutes is read again whole).
    #[arg(long)]
    pub no_streaming: bool,
    /// Streamed runs look for settled requests after this many events (tests set 1).
    #[arg(long, hide = true, value_name = "N")]
    pub settle_every: Option<usize>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct EventsArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// Also print lines that matched no shape or template (kind `unrecognized`).
    #[arg(long)]
    pub show_unrecognized: bool,
    /// Print secrets found in the logs as they are.
    #[arg(long)]
    pub no_redact: bool,
}

/// `merge`: JSON reports in, one report out.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// JSON reports (`--format json`; with `--timeline` when the merged report draws timelines).
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = FailOn::Low)]
    pub fail_on: FailOn,
    /// Show each request's timeline (the reports must carry them).
    #[arg(long)]
    pub timeline: bool,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

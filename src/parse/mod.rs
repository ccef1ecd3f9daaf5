//! Line parsers: one file per line shape. Turns numbered lines into [`Record`]s.
//!
//! API contract (used by the pipeline):
//! - [`InputFormat`]: the `--input-format` values; `Auto` detects per line.
//! - [`detect`]: the format of a source from its first lines.
//! - [`Parser`]: a streaming, stateful parser; `push` one line at a time, completed records are
//!   appended to `out` (a record is complete when the next record starts, because continuation
//!   lines are joined to it); `finish` flushes the last one.

use crate::model::{Record, SourceId};
use chrono::NaiveDate;

/// How to interpret times without an explicit offset / date.
#[derive(Debug, Clone, Default)]
pub struct TimeContext {
    /// `--tz ZONE`; `None` means UTC.
    pub tz: Option<chrono_tz::Tz>,
    /// `--date YYYY-MM-DD` for lines with only a time of day.
    pub date: Option<NaiveDate>,
    /// `--year` for journal `short` lines (no year).
    pub year: Option<i32>,
}

/// Input formats (`--input-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// Detect per source from its first lines, and per line for mixed pastes.
    #[default]
    Auto,
    AgentLog,
    Verbose,
    JournalShort,
    JournalShortPrecise,
    JournalShortIso,
    JournalShortIsoPrecise,
    JournalShortFull,
    JournalShortUnix,
    JournalJson,
    JournalCat,
    Desktop,
    Paste,
}

/// Detect the format of a source from its first (up to 50) non-empty lines.
pub fn detect(_first_lines: &[&str]) -> InputFormat {
    InputFormat::Auto
}

/// Streaming parser for one source.
pub struct Parser {
    source: SourceId,
}

impl Parser {
    pub fn new(source: SourceId, _format: InputFormat, _ctx: TimeContext) -> Self {
        Parser { source }
    }

    /// Feed one line (without its line terminator). `line_no` is 1-based.
    pub fn push(&mut self, _line_no: u32, _line: &str, _out: &mut Vec<Record>) {
        let _ = self.source;
    }

    /// Flush the pending record at end of input.
    pub fn finish(&mut self, _out: &mut Vec<Record>) {}

    /// Line accounting.
    pub fn stats(&self) -> ParseStats {
        ParseStats::default()
    }

    /// Warnings collected while parsing (ambiguous zone abbreviations, missing dates, ...).
    pub fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Per-source line accounting of the parser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub lines: u64,
    pub blank: u64,
    pub meta: u64,
    pub continuation: u64,
}

//! Line parsers: one file per line shape. Turns numbered lines into [`Record`]s.
//!
//! API contract (used by the pipeline):
//! - [`InputFormat`]: the `--input-format` values; `Auto` detects per line.
//! - [`detect`]: the format of a source from its first lines.
//! - [`Parser`]: a streaming, stateful parser; `push` one line at a time, completed records are
//!   appended to `out` (a record is complete when the next record starts, because continuation
//!   lines are joined to it); `finish` flushes the last one. With `set_filter`, records the
//!   filter rejects are only counted (`ParseStats::filtered`, `filtered_lines`) and every
//!   record is built in one reused slot.
//!
//! Every pushed line is accounted for in [`ParseStats`]: it is blank, a journal meta line, the
//! first line of a record, or a continuation joined to a record
//! (`lines == blank + meta + records + continuation`).

mod agent_log;
pub(crate) mod console;
mod desktop;
mod detect;
mod document;
mod ecs;
mod entry;
mod inner;
mod journal;
mod journal_export;
mod journal_json;
mod journal_json_framed;
mod journal_json_pretty;
mod journal_mono;
mod journal_verbose;
mod loki;
mod multiline;
#[cfg(test)]
pub(crate) mod mutate;
mod otlp;
mod paste;
#[cfg(target_arch = "x86_64")]
mod sse;
pub mod time;
mod verbose;

pub use detect::detect;

use crate::model::{Level, Loc, Record, Shape, SourceId};
use chrono::NaiveDate;
use std::borrow::Cow;
use time::{Clock, RawTime};

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
    JournalShortMonotonic,
    JournalShortDelta,
    JournalWithUnit,
    JournalJson,
    JournalJsonPretty,
    JournalJsonSse,
    JournalJsonSeq,
    JournalVerbose,
    JournalExport,
    JournalCat,
    Desktop,
    Paste,
    /// Grafana Loki `logcli query --output=jsonl`.
    Loki,
    /// Elasticsearch / OpenSearch `_search` responses, hits or `_source` documents (ECS fields).
    Ecs,
    /// OpenTelemetry OTLP/JSON logs (the Collector's file exporter).
    Otlp,
}

impl InputFormat {
    /// The kebab-case name (as accepted by `--input-format`, shown in source summaries).
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::AgentLog => "agent-log",
            InputFormat::Verbose => "verbose",
            InputFormat::JournalShort => "journal-short",
            InputFormat::JournalShortPrecise => "journal-short-precise",
            InputFormat::JournalShortIso => "journal-short-iso",
            InputFormat::JournalShortIsoPrecise => "journal-short-iso-precise",
            InputFormat::JournalShortFull => "journal-short-full",
            InputFormat::JournalShortUnix => "journal-short-unix",
            InputFormat::JournalShortMonotonic => "journal-short-monotonic",
            InputFormat::JournalShortDelta => "journal-short-delta",
            InputFormat::JournalWithUnit => "journal-with-unit",
            InputFormat::JournalJson => "journal-json",
            InputFormat::JournalJsonPretty => "journal-json-pretty",
            InputFormat::JournalJsonSse => "journal-json-sse",
            InputFormat::JournalJsonSeq => "journal-json-seq",
            InputFormat::JournalVerbose => "journal-verbose",
            InputFormat::JournalExport => "journal-export",
            InputFormat::JournalCat => "journal-cat",
            InputFormat::Desktop => "desktop",
            InputFormat::Paste => "paste",
            InputFormat::Loki => "loki",
            InputFormat::Ecs => "ecs",
            InputFormat::Otlp => "otlp",
        }
    }

    /// The format a line of this shape belongs to.
    pub fn of_shape(shape: Shape) -> InputFormat {
        match shape {
            Shape::AgentLog => InputFormat::AgentLog,
            Shape::Verbose => InputFormat::Verbose,
            Shape::JournalShort => InputFormat::JournalShort,
            Shape::JournalShortPrecise => InputFormat::JournalShortPrecise,
            Shape::JournalShortIso => InputFormat::JournalShortIso,
            Shape::JournalShortIsoPrecise => InputFormat::JournalShortIsoPrecise,
            Shape::JournalShortFull => InputFormat::JournalShortFull,
            Shape::JournalShortUnix => InputFormat::JournalShortUnix,
            Shape::JournalShortMonotonic => InputFormat::JournalShortMonotonic,
            Shape::JournalShortDelta => InputFormat::JournalShortDelta,
            Shape::JournalWithUnit => InputFormat::JournalWithUnit,
            Shape::JournalJson => InputFormat::JournalJson,
            Shape::JournalJsonPretty => InputFormat::JournalJsonPretty,
            Shape::JournalJsonSse => InputFormat::JournalJsonSse,
            Shape::JournalJsonSeq => InputFormat::JournalJsonSeq,
            Shape::JournalVerbose => InputFormat::JournalVerbose,
            Shape::JournalExport => InputFormat::JournalExport,
            Shape::Bare => InputFormat::JournalCat,
            Shape::Desktop => InputFormat::Desktop,
            Shape::StrippedJournal | Shape::ZonedPaste => InputFormat::Paste,
            Shape::Loki => InputFormat::Loki,
            Shape::Ecs => InputFormat::Ecs,
            Shape::Otlp => InputFormat::Otlp,
        }
    }
}

/// Line accounting for one source. `lines == blank + meta + records + continuation`.
/// (Lines inside one journal JSON `MESSAGE` are continuation entries of their record but not
/// input lines, so they are not counted; nor are records that began on a line where another
/// began, counted in `packed`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ParseStats {
    /// Lines pushed.
    pub lines: u64,
    /// Empty or whitespace-only lines.
    pub blank: u64,
    /// Journal separators (`-- Boot … --`, `-- No entries --`), `grep` group separators (`--`),
    /// and the field lines of multi-line journal entries (`verbose`, `export`, `json-pretty`)
    /// other than their `MESSAGE`.
    pub meta: u64,
    /// Lines that started a record.
    pub records: u64,
    /// Records that began on a line where an earlier record began (an export line holding
    /// several log records); not in `records`. (One that joined the record before it is in
    /// neither.)
    pub packed: u64,
    /// Of `records`, those that matched no structured shape (`Shape::Bare`).
    pub bare: u64,
    /// Lines joined to the previous record (tracebacks, console detail lines).
    pub continuation: u64,
    /// Of `records`, those the filter ([`Parser::set_filter`]) dropped instead of returning.
    pub filtered: u64,
    /// Input lines of the dropped records (first lines and continuations).
    pub filtered_lines: u64,
    /// Records whose time carried an offset, epoch or zone abbreviation.
    pub zoned_times: u64,
    /// Records with a date and time but no zone (read in `--tz`, else as UTC).
    pub unzoned_times: u64,
}

impl ParseStats {
    /// Add the counts of a later part of the same source.
    pub fn add(&mut self, o: &ParseStats) {
        self.lines += o.lines;
        self.blank += o.blank;
        self.meta += o.meta;
        self.records += o.records;
        self.packed += o.packed;
        self.bare += o.bare;
        self.continuation += o.continuation;
        self.filtered += o.filtered;
        self.filtered_lines += o.filtered_lines;
        self.zoned_times += o.zoned_times;
        self.unzoned_times += o.unzoned_times;
    }
}

/// What one line of a source leaves for the next besides the pending record: whether `grep -n`
/// prefixes were seen, and the clock's year-less month and rollovers. A parser restarted at a
/// cut point ([`is_cut_point`]) with the carry of everything before it returns what one parser
/// over the whole source would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Carry {
    grep_n: bool,
    last_month: Option<u32>,
    year_shift: i32,
}

/// Whether a source in `format` may be parsed in parts cut before lines where [`is_cut_point`]
/// holds: its lines are records on their own (no multi-line entry reader) and its times carry
/// their year (a year-less journal `short` line needs every line before it, which [`Carry`]
/// still covers when one turns up).
pub fn splits(format: InputFormat) -> bool {
    matches!(
        format,
        InputFormat::AgentLog
            | InputFormat::JournalJson
            | InputFormat::JournalShortIso
            | InputFormat::JournalShortIsoPrecise
            | InputFormat::JournalShortFull
            | InputFormat::JournalShortUnix
            | InputFormat::Loki
            | InputFormat::Ecs
    ) && multiline::Reader::for_format(format).is_none()
}

/// Whether `line` always starts a record of its own in a source of `format`, whatever record
/// is pending: it is a structured line with a level (so it never continues a traceback,
/// an indented journal message or a receipt) and not a console detail line (which would join an
/// open console block of its stream). A parser restarted before such a line returns the records
/// one parser over the whole source would.
pub fn is_cut_point(format: InputFormat, line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty()
        || line.starts_with([' ', '\t'])
        || journal::is_meta(line)
        || paste::is_group_separator(line)
    {
        return false;
    }
    forced(format, line)
        .or_else(|| structured(line))
        .is_some_and(|h| h.level.is_some() && !console::is_detail(&h.message))
}

/// One line parsed by a shape parser, before the parser attaches location and resolves time.
/// Fields borrow from the line where they can, so a line whose record is then dropped by the
/// parser's filter costs no allocation.
#[derive(Debug, Clone)]
pub(crate) struct Head<'a> {
    pub shape: Shape,
    pub level: Option<Level>,
    pub session: Option<Cow<'a, str>>,
    pub logger: Option<Cow<'a, str>>,
    pub host: Option<Cow<'a, str>>,
    pub ident: Option<Cow<'a, str>>,
    pub pid: Option<u32>,
    pub subagent: Option<u32>,
    pub message: Cow<'a, str>,
    /// Further lines found inside this one line (a multi-line journal JSON `MESSAGE`).
    pub continuation: Vec<String>,
    pub time: RawTime<'a>,
    /// Byte offset of the message in the line for prefixed journal text shapes (multi-line
    /// MESSAGE continuations are indented to it).
    pub msg_col: Option<usize>,
}

impl<'a> Head<'a> {
    /// A head of `shape` with time `time` and an empty message.
    pub fn new(shape: Shape, time: RawTime<'a>) -> Head<'a> {
        Head {
            shape,
            level: None,
            session: None,
            logger: None,
            host: None,
            ident: None,
            pid: None,
            subagent: None,
            message: Cow::Borrowed(""),
            continuation: Vec::new(),
            time,
            msg_col: None,
        }
    }

    /// The same head owning its texts, at `time` (a time that borrows a zone name from the
    /// line cannot come along).
    pub fn owned_at(self, time: RawTime<'static>) -> Head<'static> {
        let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Head {
            shape: self.shape,
            level: self.level,
            session: self.session.map(owned),
            logger: self.logger.map(owned),
            host: self.host.map(owned),
            ident: self.ident.map(owned),
            pid: self.pid,
            subagent: self.subagent,
            message: owned(self.message),
            continuation: self.continuation,
            time,
            msg_col: self.msg_col,
        }
    }

    /// Make `rec` the record of this head and its `line`, each text built to size (the record
    /// leaves the parser). The buffers `rec` held go to `spare`.
    fn build(&self, rec: &mut Record, line: &str, spare: &mut Vec<String>) {
        let owned = |field: &Option<Cow<'_, str>>| field.as_deref().map(str::to_owned);
        rec.shape = self.shape;
        rec.level = self.level;
        spare.extend(rec.session.take());
        spare.extend(rec.logger.take());
        spare.extend(rec.host.take());
        spare.extend(rec.ident.take());
        rec.session = owned(&self.session);
        rec.logger = owned(&self.logger);
        rec.host = owned(&self.host);
        rec.ident = owned(&self.ident);
        rec.pid = self.pid;
        rec.subagent = self.subagent;
        rec.message = self.message.trim_end().to_owned();
        rec.raw = line.to_owned();
        rec.continuation = Vec::new();
    }

    /// Write into `rec`, reusing its buffers, what joining lines to a dropped record reads: its
    /// shape, level and stream. Its other texts are left empty.
    fn fill_dropped(&self, rec: &mut Record, spare: &mut Vec<String>) {
        rec.shape = self.shape;
        rec.level = self.level;
        spare.extend(rec.session.take());
        spare.extend(rec.logger.take());
        spare.extend(rec.host.take());
        set_opt(&mut rec.ident, self.ident.as_deref(), spare);
        rec.pid = self.pid;
        rec.subagent = self.subagent;
        rec.message.clear();
        rec.raw.clear();
        rec.continuation.clear();
    }
}

/// Whether `line` is empty or all whitespace (`str::trim` leaves nothing); a line that starts
/// with a visible ASCII character is answered without decoding the rest.
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => false,
        Some(_) => line.trim().is_empty(),
    }
}

/// Set an optional text field, reusing its buffer when it already holds one. A buffer the
/// field gives up goes to `spare`, and an empty field takes one from there (agent.log lines
/// alternate between having a session tag and not).
fn set_opt(slot: &mut Option<String>, value: Option<&str>, spare: &mut Vec<String>) {
    match (slot.as_mut(), value) {
        (Some(buf), Some(v)) => {
            buf.clear();
            buf.push_str(v);
        }
        (Some(_), None) => spare.extend(slot.take()),
        (None, Some(v)) => {
            let mut buf = spare.pop().unwrap_or_default();
            buf.clear();
            buf.push_str(v);
            *slot = Some(buf);
        }
        (None, None) => {}
    }
}

/// A line that matched no structured shape: a bare message (console, stderr logging, cat).
fn bare(line: &str) -> Head<'_> {
    let mut head = Head::new(Shape::Bare, RawTime::None);
    inner::apply(&mut head, line);
    head
}

/// Try every structured shape, cheapest rejection first (dispatch on the first bytes).
fn structured(line: &str) -> Option<Head<'_>> {
    let b = line.as_bytes();
    match b.first()? {
        b'{' => journal_json::parse(line)
            .or_else(|| loki::parse(line))
            .or_else(|| ecs::parse(line)),
        b'[' => match b.get(1) {
            Some(b' ' | b'0'..=b'9') => journal_mono::parse(line).or_else(|| desktop::parse(line)),
            _ => desktop::parse(line),
        },
        b'd' => journal_json_framed::parse_sse(line),
        0x1e => journal_json_framed::parse_seq(line),
        b'.' => agent_log::parse_abbrev(line),
        b'0'..=b'9' => match (b.get(2), b.get(4)) {
            (_, Some(b'-')) => agent_log::parse(line)
                .or_else(|| verbose::parse(line))
                .or_else(|| journal::parse(line))
                .or_else(|| paste::parse_zoned(line)),
            (Some(b':'), _) => verbose::parse(line)
                .or_else(|| agent_log::parse_abbrev(line))
                .or_else(|| paste::parse_stripped(line)),
            _ => journal::parse(line),
        },
        b'A'..=b'Z' => journal::parse(line),
        _ => None,
    }
}

/// The parser that a forced format tries first.
#[inline(always)]
fn forced(format: InputFormat, line: &str) -> Option<Head<'_>> {
    match format {
        InputFormat::Auto
        | InputFormat::JournalCat
        | InputFormat::JournalVerbose
        | InputFormat::JournalExport
        | InputFormat::JournalJsonPretty
        | InputFormat::Otlp => None,
        InputFormat::Loki => loki::parse(line),
        InputFormat::Ecs => ecs::parse(line),
        InputFormat::JournalShortMonotonic | InputFormat::JournalShortDelta => {
            journal_mono::parse(line)
        }
        InputFormat::JournalJsonSse => journal_json_framed::parse_sse(line),
        InputFormat::JournalJsonSeq => journal_json_framed::parse_seq(line),
        InputFormat::AgentLog => match agent_log::parse(line) {
            Some(h) => Some(h),
            None => agent_log::parse_abbrev(line),
        },
        InputFormat::Verbose => verbose::parse(line),
        InputFormat::JournalJson => journal_json::parse(line),
        InputFormat::Desktop => desktop::parse(line),
        InputFormat::Paste => paste::parse_zoned(line).or_else(|| paste::parse_stripped(line)),
        InputFormat::JournalShort
        | InputFormat::JournalShortPrecise
        | InputFormat::JournalShortIso
        | InputFormat::JournalShortIsoPrecise
        | InputFormat::JournalShortFull
        | InputFormat::JournalShortUnix
        | InputFormat::JournalWithUnit => journal::parse(line),
    }
}

/// The record being built, with its joining state.
struct Pending {
    rec: Record,
    /// Buffers of optional fields the record gave up, for the next record that has them.
    spare: Vec<String>,
    /// A console attempt / failure block is open: detail lines join it.
    block: bool,
    /// Message column of a prefixed journal line (multi-line MESSAGE continuations).
    msg_col: Option<usize>,
    /// The filter kept the record: it is built in full and leaves the parser. A dropped one
    /// holds only what joining lines to it reads (shape, level, stream, continuation).
    keep: bool,
    /// The record is the title of the Desktop app's error receipt, whose rows join it.
    receipt: bool,
}

/// A parser's filter ([`Parser::set_filter`]): whether to return a record, judged when it opens
/// on its shape, logger and message (trailing whitespace trimmed), which the lines that join it
/// later never change.
pub type Keep = fn(Shape, Option<&str>, &str) -> bool;

/// Streaming parser for one source.
pub struct Parser {
    source: SourceId,
    format: InputFormat,
    clock: Clock,
    /// The record being built; its buffers serve every record of the source (a kept one leaves
    /// as a copy).
    pending: Pending,
    /// Whether `pending` holds a record.
    holding: bool,
    stats: ParseStats,
    /// `grep -n` prefixes were seen on structured lines: strip them from bare lines too.
    grep_n: bool,
    /// Records for which this returns false are counted, not returned.
    filter: Option<Keep>,
    /// The entry reader of a mode whose entries span several lines (`verbose`, `export`,
    /// `json-pretty`, export documents); lines it does not take go through the per-line parsers.
    entries: Option<Box<multiline::Reader>>,
    /// Entries the reader completed, to be emitted (kept for its buffer).
    done: Vec<entry::Entry>,
    /// Warnings about unreadable input (a broken export document).
    warnings: Vec<String>,
}

impl Parser {
    /// A parser for `source`; `format` is the forced or detected format (`Auto` tries every
    /// shape per line; any format falls back to that when its own shape does not match).
    pub fn new(source: SourceId, format: InputFormat, ctx: TimeContext) -> Self {
        Parser {
            source,
            format,
            clock: Clock::new(ctx),
            pending: Pending {
                rec: Record::empty(),
                spare: Vec::new(),
                block: false,
                msg_col: None,
                keep: true,
                receipt: false,
            },
            holding: false,
            stats: ParseStats::default(),
            grep_n: false,
            filter: None,
            entries: multiline::Reader::for_format(format),
            done: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Return only the records for which `keep` is true; the others are counted in
    /// [`ParseStats::filtered`] / [`ParseStats::filtered_lines`] and their buffers are reused.
    /// Joining is unaffected: a dropped record still collects its continuation lines. A dropped
    /// record's texts are never copied out of its line; the records returned are built to
    /// size, so that reused buffers (which may hold the capacity of longer earlier lines) never
    /// leave the parser.
    pub fn set_filter(&mut self, keep: Keep) {
        self.filter = Some(keep);
    }

    /// The state the lines so far leave for the next one (see [`Carry`]).
    pub fn carry(&self) -> Carry {
        let (last_month, year_shift) = self.clock.carry();
        Carry {
            grep_n: self.grep_n,
            last_month,
            year_shift,
        }
    }

    /// Start over at a cut point of the source ([`is_cut_point`]) with the `carry` of the lines
    /// before it: no pending record, no counts, no warnings (the filter and the pending slot's
    /// buffers stay). Only for a format that [`splits`].
    pub fn restart(&mut self, carry: Carry) {
        debug_assert!(self.entries.is_none() && !self.holding);
        self.holding = false;
        self.stats = ParseStats::default();
        self.grep_n = carry.grep_n;
        self.clock.restart((carry.last_month, carry.year_shift));
        self.warnings.clear();
    }

    /// Feed one line (without its line terminator). `line_no` is 1-based.
    pub fn push(&mut self, line_no: u32, line: &str, out: &mut Vec<Record>) {
        self.stats.lines += 1;
        let line = match line.as_bytes().last() {
            Some(b'\r' | b'\n') => line.trim_end_matches(['\r', '\n']),
            _ => line,
        };
        if self.entries.is_some() && self.push_entry(line_no, line, out) {
            return;
        }
        let blank = is_blank(line);
        if blank || journal::is_meta(line) || paste::is_group_separator(line) {
            if blank {
                self.stats.blank += 1;
            } else {
                self.stats.meta += 1;
            }
            // json-sse ends every event with an empty line: it separates nothing there.
            if self.holding && self.format != InputFormat::JournalJsonSse {
                self.pending.block = false;
                self.pending.msg_col = None;
            }
            return;
        }
        if self.traceback_fast_path(line_no, line) {
            return;
        }
        let mut head = self.head(line);
        if self.join(line_no, line, &head) {
            self.stats.continuation += 1;
            return;
        }
        self.open(line_no, line, &mut head, &[], out);
    }

    /// Start a record at `line_no` from `head`, flushing the pending one. The continuation
    /// entries of `head` come from `cont_lines` (one input line each), else from `line_no`.
    fn open(
        &mut self,
        line_no: u32,
        line: &str,
        head: &mut Head<'_>,
        cont_lines: &[u32],
        out: &mut Vec<Record>,
    ) {
        self.flush(out);
        let message = head.message.trim_end();
        let keep = self
            .filter
            .is_none_or(|keep| keep(head.shape, head.logger.as_deref(), message));
        let p = &mut self.pending;
        p.keep = keep;
        p.receipt = console::is_receipt(message);
        p.block = console::is_head_text(head.level.is_some() || head.logger.is_some(), message);
        p.msg_col = head.msg_col;
        let Pending { rec, spare, .. } = p;
        if keep {
            head.build(rec, line, spare);
        } else {
            head.fill_dropped(rec, spare);
        }
        rec.loc = Loc {
            source: self.source,
            line: line_no,
        };
        rec.end_line = line_no;
        rec.shares_line = false;
        let (zoned, unzoned) = (self.clock.zoned, self.clock.unzoned);
        rec.time = self.clock.resolve(&head.time);
        self.stats.zoned_times += self.clock.zoned - zoned;
        self.stats.unzoned_times += self.clock.unzoned - unzoned;
        rec.continuation.extend(
            head.continuation
                .drain(..)
                .enumerate()
                .map(|(i, c)| (cont_lines.get(i).copied().unwrap_or(line_no), c)),
        );
        if let Some(&last) = cont_lines.last() {
            rec.end_line = rec.end_line.max(last);
        }
        self.stats.records += 1;
        if rec.shape == Shape::Bare {
            self.stats.bare += 1;
        }
        self.holding = true;
    }

    /// Flush the pending record at end of input.
    pub fn finish(&mut self, out: &mut Vec<Record>) {
        let mut done = std::mem::take(&mut self.done);
        if let Some(r) = self.entries.as_mut() {
            r.finish(&mut done);
        }
        self.emit_entries(&mut done, out);
        self.done = done;
        self.flush(out);
    }

    /// Emit completed entries and count what the entry reader read besides them.
    fn emit_entries(&mut self, done: &mut Vec<entry::Entry>, out: &mut Vec<Record>) {
        for e in done.drain(..) {
            self.emit_entry(&e, out);
        }
        if let Some(r) = self.entries.as_mut() {
            self.stats.meta += r.take_meta();
            self.warnings.extend(r.take_warnings());
        }
    }

    /// Give a line to the entry reader; returns whether it took the line.
    fn push_entry(&mut self, line_no: u32, line: &str, out: &mut Vec<Record>) -> bool {
        let Some(reader) = self.entries.as_mut() else {
            return false;
        };
        let mut done = std::mem::take(&mut self.done);
        let feed = reader.push(line_no, line, &mut done);
        self.emit_entries(&mut done, out);
        self.done = done;
        match feed {
            entry::Feed::Taken => true,
            entry::Feed::Blank => {
                self.stats.blank += 1;
                true
            }
            entry::Feed::Other => false,
        }
    }

    /// Turn a completed multi-line entry into a record (or a continuation of the pending one,
    /// as a journal json entry would be). Its message lines are the record and continuation
    /// lines; its other lines are journal metadata.
    fn emit_entry(&mut self, e: &entry::Entry, out: &mut Vec<Record>) {
        let mut head = e.head();
        let line_no = e.record_line();
        let mut more: Vec<u32> = e
            .msg_lines
            .iter()
            .copied()
            .filter(|n| *n != line_no)
            .collect();
        more.dedup();
        let more = more.len() as u64;
        self.stats.meta += e.lines.saturating_sub(1 + more);
        self.stats.continuation += more;
        if !e.malformed && self.join(line_no, &e.raw, &head) {
            // A record sharing its line adds no line to the one it joins.
            if !e.shares_line {
                self.stats.continuation += 1;
            }
            return;
        }
        self.open(line_no, &e.raw, &mut head, &e.msg_lines, out);
        {
            let p = &mut self.pending;
            p.rec.end_line = p.rec.end_line.max(e.end);
            if e.shares_line {
                p.rec.shares_line = true;
                self.stats.records = self.stats.records.saturating_sub(1);
                self.stats.packed += 1;
            }
            // An unreadable document neither continues the record before it nor is continued.
            if e.malformed {
                p.block = false;
                p.msg_col = None;
            }
        }
    }

    /// Warnings collected while parsing (ambiguous zone abbreviations, missing dates, ...).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.clock.warnings().to_vec();
        w.extend(self.warnings.iter().cloned());
        w
    }

    /// Line accounting so far.
    pub fn stats(&self) -> ParseStats {
        self.stats
    }

    fn flush(&mut self, out: &mut Vec<Record>) {
        if !self.holding {
            return;
        }
        self.holding = false;
        let rec = &mut self.pending.rec;
        if self.pending.keep {
            let mut rec = std::mem::replace(rec, Record::empty());
            // Joined lines may have grown the list past its length.
            rec.continuation.shrink_to_fit();
            out.push(rec);
        } else {
            self.stats.filtered += 1;
            self.stats.filtered_lines += record_lines(rec);
        }
    }

    /// In an agent-log source, an indented line (traceback frame) is a continuation of the
    /// pending agent-log record without further parsing.
    fn traceback_fast_path(&mut self, line_no: u32, line: &str) -> bool {
        let p = &mut self.pending;
        if self.holding
            && self.format == InputFormat::AgentLog
            && p.rec.shape == Shape::AgentLog
            && line.starts_with([' ', '\t'])
        {
            append(&mut p.rec, line_no, line);
            self.stats.continuation += 1;
            return true;
        }
        false
    }

    /// Parse a line: forced format first, then every structured shape, then `grep -n` prefixes,
    /// else a bare message.
    #[inline(always)]
    fn head<'a>(&mut self, line: &'a str) -> Head<'a> {
        // Each answer returned where it is made: a head passed on through `Option::or_else`
        // was copied once more per step.
        if let Some(h) = forced(self.format, line) {
            return h;
        }
        if let Some(h) = structured(line) {
            return h;
        }
        if let Some(rest) = paste::strip_grep_n(line, self.grep_n) {
            if let Some(mut h) = structured(rest) {
                self.grep_n = true;
                h.msg_col = None;
                return h;
            }
            if self.grep_n {
                return bare(rest);
            }
        }
        bare(line)
    }

    /// Join `head` to the pending record when it continues it; returns whether it did.
    fn join(&mut self, line_no: u32, line: &str, head: &Head<'_>) -> bool {
        let format = self.format;
        if !self.holding {
            return false;
        }
        let p = &mut self.pending;
        let h = head;
        let bare = h.shape == Shape::Bare && h.level.is_none();
        // A console detail line under its block, or a row of the Desktop app's receipt.
        let receipt_row = p.receipt
            && h.level.is_none()
            && matches!(h.shape, Shape::Bare | Shape::Desktop)
            && console::is_receipt_row(&h.message);
        let detail = p.block && console::is_detail(&h.message) && (bare || same_stream(&p.rec, h));
        let text = if receipt_row || detail {
            Some(h.message.as_ref())
        } else if let Some(rest) = p
            .msg_col
            .filter(|_| bare)
            .and_then(|c| indented_to(line, c))
        {
            Some(rest)
        } else if p.rec.shape == Shape::AgentLog
            && bare
            && ((format == InputFormat::AgentLog && !console::is_console(h))
                || traceback_like(&p.rec, line))
        {
            Some(line)
        } else if p.rec.level.is_some()
            && h.level.is_none()
            && h.logger.is_none()
            && same_stream(&p.rec, h)
            && in_traceback(&p.rec, &h.message)
        {
            // A logged exception whose traceback lines became separate journal entries.
            Some(h.message.as_ref())
        } else {
            None
        };
        match text {
            Some(t) => {
                append(&mut p.rec, line_no, t);
                true
            }
            None => false,
        }
    }
}

fn append(rec: &mut Record, line_no: u32, text: &str) {
    rec.continuation
        .push((line_no, text.trim_end().to_string()));
    rec.end_line = line_no;
}

/// Same journal stream: same shape family, identifier and pid.
fn same_stream(a: &Record, b: &Head<'_>) -> bool {
    a.shape == b.shape && a.ident.as_deref() == b.ident.as_deref() && a.pid == b.pid
}

/// Input lines a record spans: its first line and the continuations that came from other
/// lines (lines inside one journal JSON `MESSAGE` share the record's line number).
/// A record that shares its first line with an earlier record counts only its other lines;
/// continuation entries from one line count once.
pub fn record_lines(r: &Record) -> u64 {
    let mut last = r.loc.line;
    let more = r
        .continuation
        .iter()
        .filter(|(line, _)| {
            let new = *line != r.loc.line && *line != last;
            last = *line;
            new
        })
        .count() as u64;
    u64::from(!r.shares_line) + more
}

/// The rest of `line` after `col` leading spaces (a journal multi-line MESSAGE continuation).
fn indented_to(line: &str, col: usize) -> Option<&str> {
    let (pad, rest) = (line.get(..col)?, line.get(col..)?);
    (col > 0 && pad.bytes().all(|b| b == b' ') && !rest.is_empty()).then_some(rest)
}

/// A `Traceback (...)` line, or the next line of a traceback started in `rec` (frames are
/// indented; the unindented exception line ends it).
fn in_traceback(rec: &Record, text: &str) -> bool {
    let started = |t: &str| t.starts_with("Traceback (");
    started(text)
        || (rec.continuation.first().is_some_and(|(_, t)| started(t))
            && rec
                .continuation
                .last()
                .is_some_and(|(_, t)| started(t) || t.starts_with([' ', '\t'])))
}

/// In a mixed paste: indented frames, `Traceback (...)`, and the exception line after a frame.
fn traceback_like(rec: &Record, line: &str) -> bool {
    line.starts_with([' ', '\t'])
        || line.starts_with("Traceback (")
        || rec
            .continuation
            .last()
            .is_some_and(|(_, t)| t.starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::is_blank;

    #[test]
    fn blank_lines_are_what_trim_empties() {
        let mut chars: Vec<char> = (0u8..=127).map(char::from).collect();
        chars.extend([
            '\u{85}', '\u{a0}', '\u{1680}', '\u{2003}', '\u{2028}', '\u{3000}',
        ]);
        chars.extend(['\u{feff}', '\u{200b}', 'é', '⚠']);
        for &a in &chars {
            for &b in &chars {
                for s in [a.to_string(), format!("{a}{b}"), format!("{a}{b}{a}")] {
                    assert_eq!(is_blank(&s), s.trim().is_empty(), "{s:?}");
                }
            }
        }
        assert!(is_blank(""));
    }
}

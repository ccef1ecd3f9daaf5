//! Ingest: read every input, parse its lines into records and classify them into events.
//!
//! The inputs are listed once ([`input_specs`]: paths with directories expanded, then the auth
//! snapshots); each is read by `ingest_one`, which tells auth.json snapshots and `hermes auth
//! list` captures from logs and streams a log's request events to its caller. [`ingest`] reads
//! the inputs one after the other, [`ingest_collect`] in parallel, and [`ingest_merged`] all at
//! once, merged by time into the streamed correlation (see [`Router`]).

mod merged;
pub mod triage;

pub use merged::{ingest_merged, Router};

use crate::auth;
use crate::correlate::{AuthInput, AuthListInput};
use crate::error::Error;
use crate::model::{Event, Record, Shape, SourceSummary};
use crate::parse::{self, InputFormat, TimeContext};
use crate::read::{self, InputSpec, SourceHint};
use std::path::PathBuf;

/// What to read and how to read it, built once from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Log files, directories or `-` for standard input (none: standard input).
    pub paths: Vec<PathBuf>,
    /// The line format of every log, or [`InputFormat::Auto`] to detect each one's.
    pub input_format: InputFormat,
    /// auth.json snapshots (`--auth`).
    pub auth: Vec<PathBuf>,
    /// `hermes auth list` captures (`--auth-list`).
    pub auth_list: Vec<PathBuf>,
    /// The zone, date and year of times the lines do not spell out.
    pub time: TimeContext,
    /// A line that looks like a request event but matches no template is an error.
    pub strict: bool,
    /// Nothing to analyze (an empty directory, inputs without a log line) is no error.
    pub allow_empty: bool,
}

/// Words that only appear in lines about a request's fate; an unrecognized line carrying one of
/// them means a template was missed (`--strict` makes that an error).
pub const REQUEST_WORDS: &[&str] = &[
    "API call",
    "attempt ",
    "Retrying",
    "Fallback",
    "fallback",
    "credential pool",
    "rotated to",
    "Rate limited",
    "rate-limited",
    "Primary ",
    "Streaming failed",
    "Non-retryable",
    "marking ",
];

/// Whether an unrecognized line looks like a Hermes request event (see [`REQUEST_WORDS`]).
pub fn looks_like_request_line(text: &str) -> bool {
    REQUEST_WORDS.iter().any(|w| text.contains(w))
}

/// What ingestion hands to its caller as it reads, record by record.
pub enum Item<'a> {
    /// A record classified as a request event (boxed, as it goes through the ordering and
    /// merging queues).
    Event(Box<Event>),
    /// A record that matched no line shape and no template.
    Unrecognized(&'a Record),
}

/// Everything read from the inputs apart from the streamed events.
#[derive(Default)]
pub struct Ingested {
    /// `--strict`: the error to raise once every input is read.
    strict: Option<Error>,
    /// Sources whose times all carried a zone / sources with unzoned times.
    zoned_sources: u32,
    unzoned_sources: u32,
    pub sources: Vec<String>,
    pub summaries: Vec<SourceSummary>,
    pub auths: Vec<AuthInput>,
    pub lists: Vec<AuthListInput>,
    pub warnings: Vec<String>,
    /// Records of a log shape or with a Hermes message, over every log source.
    pub log_records: u64,
    /// auth.json snapshots and `hermes auth list` captures read (they stay counted when taken).
    pub snapshots_read: usize,
}

/// The inputs named on the command line: paths (directories expanded), then `--auth` and
/// `--auth-list` files.
/// Files of a directory that are not logs are left out, each with a `skipped: name: why` line on
/// standard error (see [`crate::intake`]); an empty directory is an error unless `--allow-empty`.
pub fn input_specs(opts: &Options) -> Result<Vec<InputSpec>, Error> {
    let (found, empty) = read::expand_paths_reporting(&opts.paths)?;
    if let (Some(dir), false) = (empty.first(), opts.allow_empty) {
        return Err(Error::Empty(format!(
            "{}: empty directory, nothing to analyze (--allow-empty accepts it)",
            dir.0
        )));
    }
    let mut specs = Vec::with_capacity(found.len());
    for e in found {
        match crate::intake::judge(&e.spec, e.pick)? {
            crate::intake::Verdict::Read => specs.push(e.spec),
            crate::intake::Verdict::Skip(why) => eprintln!("skipped: {}: {why}", e.spec.name),
        }
    }
    // Issue bodies (Markdown, `gh issue view --json`) become one input per paste.
    let mut specs = read::issue_body::expand(specs, &crate::intake::is_pasted_log)?;
    for p in &opts.auth {
        specs.push(InputSpec {
            name: p.display().to_string(),
            path: Some(p.clone()),
            hint: SourceHint::AuthJson,
            content: None,
        });
    }
    for p in &opts.auth_list {
        specs.push(InputSpec {
            name: p.display().to_string(),
            path: Some(p.clone()),
            hint: SourceHint::AuthList,
            content: None,
        });
    }
    Ok(specs)
}

/// Like [`ingest`], but reads the inputs in parallel (one per task on the rayon pool) and
/// returns every request event, in source order then line order — the same as a sequential
/// read, whatever the thread count.
pub fn ingest_collect(opts: &Options) -> Result<(Ingested, Vec<Event>), Error> {
    let specs = input_specs(opts)?;
    ingest_collect_specs(opts, specs)
}

/// [`ingest_collect`] of inputs already listed (standard input is read once).
pub fn ingest_collect_specs(
    opts: &Options,
    specs: Vec<InputSpec>,
) -> Result<(Ingested, Vec<Event>), Error> {
    use rayon::prelude::*;
    let ctx = opts.time.clone();
    let results: Vec<Result<(Source, Vec<Event>), Error>> = specs
        .into_par_iter()
        .enumerate()
        .map(|(id, spec)| {
            let mut events = Vec::new();
            let one = ingest_one(id as u32, spec, opts, &ctx, &mut |_, item| {
                if let Item::Event(e) = item {
                    events.push(*e);
                }
            })?;
            Ok((one, events))
        })
        .collect();
    let mut out = Ingested::default();
    let mut events = Vec::new();
    for r in results {
        let (one, evs) = r?;
        out.add(one);
        events.extend(evs);
    }
    Ok((out.finish(opts)?, events))
}

/// Read, parse and classify every input, streaming: `sink` receives each request event and
/// each unrecognized record (with its source name) as soon as it is complete; records that are
/// recognised but say nothing about a request are only counted.
pub fn ingest(opts: &Options, sink: &mut dyn FnMut(&str, Item)) -> Result<Ingested, Error> {
    let ctx = opts.time.clone();
    let specs = input_specs(opts)?;
    let mut out = Ingested::default();
    for (id, spec) in specs.into_iter().enumerate() {
        let one = ingest_one(id as u32, spec, opts, &ctx, sink)?;
        out.add(one);
    }
    out.finish(opts)
}

/// What one input turned out to be, with its accounting.
enum Source {
    Auth(SourceSummary, AuthInput),
    List(SourceSummary, AuthListInput),
    Log {
        summary: SourceSummary,
        warnings: Vec<String>,
        zoned: bool,
        unzoned: bool,
        /// `--strict`: first unrecognized request line (line, redacted text) and the count after it.
        strict: Option<(u32, String, u64)>,
        /// Records of a log shape or with a Hermes message.
        log_records: u64,
    },
}

impl Ingested {
    /// An analysis needs something to analyze: a log line, an auth.json or an auth list
    /// (`--allow-empty` accepts nothing).
    pub fn check_not_empty(&self, opts: &Options) -> Result<(), Error> {
        let nothing = self.log_records == 0 && self.snapshots_read == 0;
        if nothing && !opts.allow_empty {
            let read: Vec<String> = self
                .summaries
                .iter()
                .map(|s| format!("{} ({} lines)", s.name, s.lines_read))
                .collect();
            let what = if read.is_empty() {
                "no input left to read".to_string()
            } else {
                format!("no Hermes log line in {}", read.join(", "))
            };
            // Why lines were not read (an export document that could not be parsed).
            let what = match self.warnings.as_slice() {
                [] => what,
                w => format!("{what} ({})", w.join("; ")),
            };
            return Err(Error::Empty(format!(
                "{what}: nothing to analyze (--allow-empty accepts it)"
            )));
        }
        Ok(())
    }

    /// After the last input: the mixed-zone warning, and the `--strict` error if any.
    fn finish(mut self, opts: &Options) -> Result<Self, Error> {
        if self.zoned_sources > 0 && self.unzoned_sources > 0 && opts.time.tz.is_none() {
            self.warnings.push(
                "some sources carry time zones and others do not: unzoned times were read as UTC (give --tz)".into(),
            );
        }
        match self.strict.take() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    fn add(&mut self, one: Source) {
        match one {
            Source::Auth(summary, auth) => {
                self.snapshots_read += 1;
                self.sources.push(summary.name.clone());
                self.summaries.push(summary);
                self.auths.push(auth);
            }
            Source::List(summary, list) => {
                self.snapshots_read += 1;
                self.sources.push(summary.name.clone());
                self.summaries.push(summary);
                self.lists.push(list);
            }
            Source::Log {
                summary,
                warnings,
                zoned,
                unzoned,
                strict,
                log_records,
            } => {
                self.log_records += log_records;
                if let Some((line, text, more)) = strict {
                    match &mut self.strict {
                        Some(Error::Strict { more: total, .. }) => *total += 1 + more,
                        _ => {
                            self.strict = Some(Error::Strict {
                                name: summary.name.clone(),
                                line,
                                text,
                                more,
                            })
                        }
                    }
                }
                // A source is "zoned" when every time it wrote carried a zone.
                if unzoned {
                    self.unzoned_sources += 1;
                } else if zoned {
                    self.zoned_sources += 1;
                }
                self.sources.push(summary.name.clone());
                self.summaries.push(summary);
                self.warnings.extend(warnings);
            }
        }
    }
}

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    AuthJson,
    AuthList,
    Log,
}

/// Tell an input's kind from its hint and its first lines.
fn input_kind(spec: &InputSpec, head: &[String]) -> InputKind {
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    if spec.hint == SourceHint::AuthJson
        || (spec.hint == SourceHint::Unknown && auth::json::looks_like_auth_json(&head.join("\n")))
    {
        InputKind::AuthJson
    } else if spec.hint == SourceHint::AuthList
        || (spec.hint == SourceHint::Unknown && auth::list::looks_like_auth_list(&head_refs))
    {
        InputKind::AuthList
    } else {
        InputKind::Log
    }
}

/// The records `ingest_one` looks at: bare ones (unrecognized lines are reported) and those that
/// may classify as request events; the parser only counts the others.
///
/// Judged by the parser when the record opens, on the fields that lines joining it later never
/// change (see [`crate::parse::Keep`]).
pub(crate) fn keep_record(shape: Shape, logger: Option<&str>, message: &str) -> bool {
    shape == Shape::Bare || crate::classify::wants_message(logger, message)
}

/// Classify a record [`keep_record`] accepted: a structured one was wanted by the classifier,
/// so its gate words are not searched again.
pub(crate) fn classify_kept(r: &Record) -> crate::model::EventKind {
    if r.shape == Shape::Bare {
        crate::classify::classify(r)
    } else {
        crate::classify::classify_wanted(r)
    }
}

/// Read, parse and classify one input (source id `id`), streaming its events to `sink`.
fn ingest_one(
    id: u32,
    spec: InputSpec,
    opts: &Options,
    ctx: &TimeContext,
    sink: &mut dyn FnMut(&str, Item),
) -> Result<Source, Error> {
    let mut reader = read::open_showing_stdin(&spec)?;
    let head = read::peek_lines(&mut *reader, &spec.name, 20)?;
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let kind = input_kind(&spec, &head);
    if kind == InputKind::AuthJson {
        let text = read::read_rest_limited(&mut *reader, &spec.name, read::AUTH_FILE_LIMIT)?;
        let offset = spec.line_offset();
        let mut snapshot = auth::json::parse_auth_json(&text).map_err(|mut err| {
            err.line += offset as usize;
            Error::Auth {
                path: spec.name.clone(),
                err,
            }
        })?;
        for (_, entries) in &mut snapshot.pools {
            for e in entries {
                e.line += offset;
            }
        }
        let summary = SourceSummary {
            name: spec.name.clone(),
            format: "auth-json".into(),
            lines_read: text.lines().count() as u64,
            lines_used: text.lines().count() as u64,
            ..Default::default()
        };
        return Ok(Source::Auth(
            summary,
            AuthInput {
                source: id,
                name: spec.name,
                snapshot,
            },
        ));
    }
    if kind == InputKind::AuthList {
        let text = read::read_rest_limited(&mut *reader, &spec.name, read::AUTH_FILE_LIMIT)?;
        let (mut rows, ignored) = auth::list::parse_auth_list(&text);
        for r in &mut rows {
            r.line += spec.line_offset();
        }
        let read = text.lines().count() as u64;
        let summary = SourceSummary {
            name: spec.name.clone(),
            format: "hermes-auth-list".into(),
            lines_read: read,
            lines_used: rows.len() as u64,
            lines_other: read.saturating_sub(rows.len() as u64 + ignored),
            lines_unrecognized: ignored,
            events: 0,
        };
        return Ok(Source::List(
            summary,
            AuthListInput {
                source: id,
                name: spec.name,
                rows,
            },
        ));
    }
    let format = match opts.input_format {
        InputFormat::Auto => parse::detect(&head_refs),
        f => f,
    };
    let setup = triage::Setup {
        source: id,
        format,
        ctx,
        offset: spec.line_offset(),
        strict: opts.strict,
        workers: rayon::current_num_threads(),
        part_bytes: read::chunks::PART_BYTES,
        read_ahead: read::chunks::IN_FLIGHT,
    };
    let (parsed, err) = triage::parse_source(&mut *reader, &spec.name, &setup, &mut |s| match s {
        triage::Sorted::Event(e) => sink(&spec.name, Item::Event(e)),
        triage::Sorted::Unrecognized(r) => sink(&spec.name, Item::Unrecognized(&r)),
    });
    if let Some(e) = err {
        return Err(e.into());
    }
    let triage::Parsed {
        lines,
        counts,
        stats,
        warnings,
    } = parsed;
    let summary = SourceSummary {
        name: spec.name.clone(),
        format: format.name().into(),
        lines_read: lines,
        lines_used: counts.lines_used,
        lines_other: counts.lines_other + stats.blank + stats.meta + stats.filtered_lines,
        lines_unrecognized: counts.lines_unrecognized,
        events: counts.events,
    };
    let warnings = warnings
        .into_iter()
        .map(|w| format!("{}: {w}", spec.name))
        .collect();
    let strict = counts.strict;
    let bare_hermes = counts.bare_hermes;
    Ok(Source::Log {
        summary,
        warnings,
        zoned: stats.zoned_times > 0,
        unzoned: stats.unzoned_times > 0,
        strict,
        log_records: (stats.records + stats.packed).saturating_sub(stats.bare) + bare_hermes,
    })
}

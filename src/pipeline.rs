//! The pipeline behind the commands: ingest sources into events and snapshots, correlate, run
//! the rules and assemble a [`Report`].

use crate::auth;
use crate::baseline::Baseline;
use crate::cli::{AnalyzeArgs, IngestArgs};
use crate::correlate::{
    self, Analysis, AuthInput, AuthListInput, CorrelateOptions, HermesVersion, Orderer,
    StreamTotals, Streamer,
};
use crate::model::{
    Event, EventKind, Finding, FindingCounts, PoolSummary, Record, Report, RequestTimeline,
    Severity, Shape, SourceSummary, Summary, TimelineEntry,
};
use crate::parse::{self, InputFormat, TimeContext};
use crate::read::{self, InputSpec, SourceHint};
use crate::redact::redact;
use crate::rules;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// Errors that end a run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] read::ReadError),
    #[error("{path}:{err}")]
    Auth { path: String, err: auth::AuthError },
    #[error("{0}")]
    Usage(String),
    /// An input that cannot be read as what its name says (a `*.json` that is no known JSON).
    #[error("{path}: {what}")]
    NotALog { path: String, what: String },
    /// Nothing to analyze: an empty directory, or inputs without a single log line.
    #[error("{0}")]
    Empty(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Baseline(#[from] crate::baseline::BaselineError),
    /// `merge`: a report that is none, of another schema, or overlapping another.
    #[error(transparent)]
    Merge(#[from] crate::shard::MergeError),
    /// `--strict`: a line that looks like a request event matched no template.
    #[error("{name}:{line}: unrecognized Hermes request line: {text}{}", more_text(*.more))]
    Strict {
        /// Source name.
        name: String,
        line: u32,
        /// The line, redacted.
        text: String,
        /// Further such lines after this one.
        more: u64,
    },
}

fn more_text(more: u64) -> String {
    if more == 0 {
        String::new()
    } else {
        format!(" (and {more} more)")
    }
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

/// What ingestion hands to its caller as it reads, record by record. Moved once per record, so
/// the size difference between the variants costs nothing worth a heap allocation.
#[allow(clippy::large_enum_variant)]
pub enum Item<'a> {
    /// A record classified as a request event.
    Event(Event),
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

pub fn time_context(args: &IngestArgs) -> Result<TimeContext, Error> {
    let tz = match &args.tz {
        Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::Usage(format!(
                "--tz {z}: unknown time zone (use an IANA name such as America/New_York)"
            ))
        })?),
        None => None,
    };
    let date = match &args.date {
        Some(d) => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| Error::Usage(format!("--date {d}: expected YYYY-MM-DD")))?,
        ),
        None => None,
    };
    Ok(TimeContext {
        tz,
        date,
        year: args.year.or(date.map(|d| chrono::Datelike::year(&d))),
    })
}

/// The inputs named on the command line: paths (directories expanded), then `--auth` and
/// `--auth-list` files.
/// Files of a directory that are not logs are left out, each with a `skipped: name: why` line on
/// standard error (see [`crate::intake`]); an empty directory is an error unless `--allow-empty`.
fn input_specs(args: &IngestArgs) -> Result<Vec<InputSpec>, Error> {
    let (found, empty) = read::expand_paths_reporting(&args.paths)?;
    if let (Some(dir), false) = (empty.first(), args.allow_empty) {
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
    let mut specs = read::issue_body::expand(specs, &is_pasted_log)?;
    for p in &args.auth {
        specs.push(InputSpec {
            name: p.display().to_string(),
            path: Some(p.clone()),
            hint: SourceHint::AuthJson,
            content: None,
        });
    }
    for p in &args.auth_list {
        specs.push(InputSpec {
            name: p.display().to_string(),
            path: Some(p.clone()),
            hint: SourceHint::AuthList,
            content: None,
        });
    }
    Ok(specs)
}

/// Whether a quoted line of an issue body is worth reading: a log line of a known shape, a
/// console line (it starts with a console glyph), a line the classifier takes for a request
/// event, or a `hermes auth list` row. Quoted prose, even prose about fallbacks, is none of these.
pub(crate) fn is_pasted_log(line: &str) -> bool {
    let t = line.trim();
    !matches!(
        parse::detect(&[line]),
        InputFormat::Auto | InputFormat::JournalCat
    ) || crate::classify::clean_message(t).len() < t.len()
        || crate::classify::classify(&bare_record(line)).is_request_event()
        || auth::list::looks_like_auth_list(&[line])
}

/// A bare record of one line (for asking the classifier about a line out of context).
pub(crate) fn bare_record(line: &str) -> Record {
    let mut r = Record::empty();
    r.message = line.to_string();
    r.raw = line.to_string();
    r
}

/// Like [`ingest`], but reads the inputs in parallel (one per task on the rayon pool) and
/// returns every request event, in source order then line order — the same as a sequential
/// read, whatever the thread count.
pub fn ingest_collect(args: &IngestArgs) -> Result<(Ingested, Vec<Event>), Error> {
    let specs = input_specs(args)?;
    ingest_collect_specs(args, specs)
}

/// [`ingest_collect`] of inputs already listed (standard input is read once).
fn ingest_collect_specs(
    args: &IngestArgs,
    specs: Vec<InputSpec>,
) -> Result<(Ingested, Vec<Event>), Error> {
    use rayon::prelude::*;
    let ctx = time_context(args)?;
    let results: Vec<Result<(Source, Vec<Event>), Error>> = specs
        .into_par_iter()
        .enumerate()
        .map(|(id, spec)| {
            let mut events = Vec::new();
            let one = ingest_one(id as u32, spec, args, &ctx, &mut |_, item| {
                if let Item::Event(e) = item {
                    events.push(e);
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
    Ok((out.finish(args)?, events))
}

/// Read, parse and classify every input, streaming: `sink` receives each request event and
/// each unrecognized record (with its source name) as soon as it is complete; records that are
/// recognised but say nothing about a request are only counted.
pub fn ingest(args: &IngestArgs, sink: &mut dyn FnMut(&str, Item)) -> Result<Ingested, Error> {
    let ctx = time_context(args)?;
    let specs = input_specs(args)?;
    let mut out = Ingested::default();
    for (id, spec) in specs.into_iter().enumerate() {
        let one = ingest_one(id as u32, spec, args, &ctx, sink)?;
        out.add(one);
    }
    out.finish(args)
}

/// An event of one source, released in time order: (effective time, line order, event).
type Released = (Option<DateTime<Utc>>, u64, Event);

/// Events of one source are handed to the merge in batches of this many (one channel operation
/// per batch, not per event) ...
const MERGE_BATCH: usize = 64;
/// ... and at most this many batches wait per source (bounds the memory of a source read ahead
/// of the others).
const MERGE_CHANNEL: usize = 4;

/// Read every input at once (a thread each), put each source's events in time order and merge
/// them by (time, source, line) — the whole-input merge's order — into `streamer`, dropping the
/// records Hermes writes to several files (agent.log / errors.log / gateway.log). Events outside
/// `keep` (the `--since`/`--until` window) are not passed on.
pub fn ingest_merged(
    args: &IngestArgs,
    specs: Vec<InputSpec>,
    keep: &(dyn Fn(&Event) -> bool + Sync),
    streamer: &mut Router,
) -> Result<Ingested, Error> {
    let ctx = time_context(args)?;
    let n = specs.len();
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        for (id, spec) in specs.into_iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Released>>(MERGE_CHANNEL);
            receivers.push(rx);
            let ctx = &ctx;
            workers.push(scope.spawn(move || {
                let mut orderer = Orderer::default();
                let mut seq = 0u64;
                let mut batch = Vec::with_capacity(MERGE_BATCH);
                // A closed channel means the merge stopped: nothing left to deliver to.
                let mut send = |t: Option<DateTime<Utc>>, e: Event| {
                    seq += 1;
                    batch.push((t, seq, e));
                    if batch.len() >= MERGE_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(MERGE_BATCH));
                        let _ = tx.send(full);
                    }
                };
                let one = ingest_one(id as u32, spec, args, ctx, &mut |_, item| {
                    if let Item::Event(e) = item {
                        if keep(&e) {
                            orderer.push(e, &mut send);
                        }
                    }
                })?;
                orderer.finish(&mut send);
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok::<_, Error>((one, orderer.late))
            }));
        }
        let mut heads: Vec<std::collections::VecDeque<Released>> =
            (0..n).map(|_| Default::default()).collect();
        let mut done = vec![false; n];
        let mut dedupe = Dedupe::default();
        loop {
            for k in 0..n {
                while !done[k] && heads[k].is_empty() {
                    match receivers[k].recv() {
                        Ok(batch) => heads[k].extend(batch),
                        Err(_) => done[k] = true,
                    }
                }
            }
            // Untimed sources (no time at all) first, then by time, source and line.
            let next = heads
                .iter()
                .enumerate()
                .filter_map(|(k, h)| h.front().map(|(t, seq, _)| (*t, k, *seq)))
                .min();
            let Some((_, k, _)) = next else { break };
            let Some((t, _, event)) = heads[k].pop_front() else {
                break;
            };
            dedupe.push(t, event, streamer);
        }
        dedupe.flush(streamer);
        streamer.note_duplicates(dedupe.dropped);
        let mut out = Ingested::default();
        for w in workers {
            let (one, late) = w
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            out.add(one);
            streamer.note_late(late);
        }
        out.finish(args)
    })
}

/// Takes events in merged order.
trait Accept {
    fn accept(&mut self, event: Event, time: Option<DateTime<Utc>>);
}

impl Accept for Streamer {
    fn accept(&mut self, event: Event, time: Option<DateTime<Utc>>) {
        Streamer::accept(self, event, time);
    }
}

/// The streamed run's shards: one [`Streamer`] per host (see [`crate::shard`]). Until a second
/// host shows up every event goes to the first shard (one host's files read together); after
/// that, events without a host go to a shard of their own. Events without a host that came
/// before the second host were placed in the first host's shard: the run is then `mixed`, and
/// a run over files reads them again whole.
pub struct Router {
    names: Vec<String>,
    settle_every: Option<usize>,
    shards: Vec<(crate::shard::HostKey, Streamer)>,
    /// The first shard took events without a host.
    first_has_hostless: bool,
    /// Events without a host went to the first shard, and then another host showed up.
    pub mixed: bool,
}

impl Router {
    pub fn new(names: Vec<String>, settle_every: Option<usize>) -> Self {
        Router {
            names,
            settle_every,
            shards: Vec::new(),
            first_has_hostless: false,
            mixed: false,
        }
    }

    fn streamer(&self) -> Streamer {
        let s = Streamer::new(self.names.clone());
        match self.settle_every {
            Some(n) => s.settle_every(n),
            None => s,
        }
    }

    fn first(&mut self) -> &mut Streamer {
        if self.shards.is_empty() {
            let s = self.streamer();
            self.shards.push((None, s));
        }
        &mut self.shards[0].1
    }

    fn note_duplicates(&mut self, n: u64) {
        self.first().note_duplicates(n);
    }

    fn note_late(&mut self, n: u64) {
        self.first().note_late(n);
    }

    /// End every shard: (host, analysis, totals) in host order, the release decided over all.
    fn finish(
        mut self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        copts: CorrelateOptions,
        warnings: &mut Vec<String>,
    ) -> Vec<(crate::shard::HostKey, Analysis, StreamTotals)> {
        self.first();
        let hosts: Vec<String> = self.shards.iter().filter_map(|(h, _)| h.clone()).collect();
        let partition = crate::shard::Partition { hosts };
        let split = partition.split();
        let mut fleet = crate::release::Fingerprint::default();
        for (_, s) in &self.shards {
            fleet.absorb(s.fingerprint());
        }
        let mut snaps = partition.snapshots(auths, lists, warnings);
        let mut shards = self.shards;
        if split && snaps.contains_key(&None) && !shards.iter().any(|(h, _)| h.is_none()) {
            let s = Streamer::new(self.names.clone());
            shards.push((None, s));
        }
        shards.sort_by(|a, b| a.0.cmp(&b.0));
        use rayon::prelude::*;
        shards
            .into_iter()
            .map(|(h, s)| {
                let (a, l) = snaps.remove(&h).unwrap_or_default();
                (h, s, a, l)
            })
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(h, s, a, l)| {
                let mut opts = copts.clone();
                if split {
                    opts.fleet_fingerprint = Some(fleet.clone());
                }
                let (analysis, totals) = s.finish(a, l, opts);
                (h, analysis, totals)
            })
            .collect()
    }
}

impl Accept for Router {
    fn accept(&mut self, event: Event, time: Option<DateTime<Utc>>) {
        let host = event.record.host.clone();
        self.first();
        let k = match host {
            None if self.shards.len() == 1 => {
                self.first_has_hostless = true;
                0
            }
            None => match self.shards.iter().position(|(h, _)| h.is_none()) {
                Some(k) if k > 0 => k,
                _ => {
                    let s = self.streamer();
                    self.shards.push((None, s));
                    self.shards.len() - 1
                }
            },
            Some(h) => {
                if self.shards[0].0.is_none() && self.shards.len() == 1 {
                    self.shards[0].0 = Some(h.clone());
                }
                match self.shards.iter().position(|(k, _)| k.as_ref() == Some(&h)) {
                    Some(k) => k,
                    None => {
                        self.mixed |= self.first_has_hostless;
                        let s = self.streamer();
                        self.shards.push((Some(h), s));
                        self.shards.len() - 1
                    }
                }
            }
        };
        self.shards[k].1.accept(event, time);
    }
}

/// Drops a record already seen from another source at the same instant (same millisecond,
/// logger, session and message): Hermes writes warnings to agent.log and errors.log, gateway
/// lines to agent.log and gateway.log. A copy whose time has whole seconds only (a journal's
/// `short-iso` stamp, the `-v` stderr's `HH:MM:SS`) is the same record as one of another source
/// less than a second away: once each (two genuine repeats stay two). Events come in time order;
/// the last second's are held back to be compared, then passed on in order.
#[derive(Default)]
struct Dedupe {
    recent: std::collections::VecDeque<(Option<DateTime<Utc>>, Event, bool)>,
    dropped: u64,
}

/// Two records of different sources that may be one record printed twice.
fn same_record(a: &crate::model::Record, b: &crate::model::Record) -> bool {
    a.loc.source != b.loc.source
        // Two hosts never print one record (a line without a host may be a host's copy).
        && (a.host.is_none() || b.host.is_none() || a.host == b.host)
        && a.message == b.message
        && a.logger == b.logger
        && a.session == b.session
        && a.level == b.level
}

/// Same record seen twice: the same millisecond; or less than a second apart when one of the
/// two stamps has whole seconds only, or when the later one is a journal's arrival stamp and the
/// earlier the record's own time (a `-v` journal's copy of an agent.log record).
fn same_instant(a: &crate::model::Record, b: &crate::model::Record) -> Option<bool> {
    let (ta, tb) = (a.time.utc?, b.time.utc?);
    let d = (ta - tb).num_milliseconds();
    if d == 0 {
        return Some(true);
    }
    let whole = |t: DateTime<Utc>| t.timestamp_subsec_millis() == 0;
    let (early, late) = if d < 0 { (a, b) } else { (b, a) };
    let arrival = late.shape.stamped_on_arrival() && !early.shape.stamped_on_arrival();
    (d.abs() < 1000 && (whole(ta) || whole(tb) || arrival)).then_some(false)
}

impl Dedupe {
    fn push(&mut self, t: Option<DateTime<Utc>>, e: Event, streamer: &mut impl Accept) {
        if let Some(own) = e.record.time.utc {
            while let Some((_, front, _)) = self.recent.front() {
                // An untimed record has no copy to wait for: it is passed on.
                let old = front
                    .record
                    .time
                    .utc
                    .is_none_or(|f| (own - f).num_milliseconds() >= 1000);
                if !old {
                    break;
                }
                if let Some((ft, fe, _)) = self.recent.pop_front() {
                    streamer.accept(fe, ft);
                }
            }
            let r = &e.record;
            let copy = self.recent.iter_mut().find_map(|(_, g, used)| {
                let exact = same_instant(&g.record, r).filter(|&exact| exact || !*used)?;
                same_record(&g.record, r).then_some((exact, used))
            });
            if let Some((exact, used)) = copy {
                if !exact {
                    *used = true;
                }
                self.dropped += 1;
                return;
            }
        }
        self.recent.push_back((t, e, false));
    }

    fn flush(&mut self, streamer: &mut impl Accept) {
        for (t, e, _) in self.recent.drain(..) {
            streamer.accept(e, t);
        }
    }
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
    fn check_not_empty(&self, args: &IngestArgs) -> Result<(), Error> {
        let nothing = self.log_records == 0 && self.snapshots_read == 0;
        if nothing && !args.allow_empty {
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
    fn finish(mut self, args: &IngestArgs) -> Result<Self, Error> {
        if self.zoned_sources > 0 && self.unzoned_sources > 0 && args.tz.is_none() {
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
pub(crate) fn keep_record(r: &Record) -> bool {
    r.shape == Shape::Bare || crate::classify::wants(r)
}

/// Read, parse and classify one input (source id `id`), streaming its events to `sink`.
fn ingest_one(
    id: u32,
    spec: InputSpec,
    args: &IngestArgs,
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
    let format = match args.input_format {
        InputFormat::Auto => parse::detect(&head_refs),
        f => f,
    };
    let setup = crate::triage::Setup {
        source: id,
        format,
        ctx,
        offset: spec.line_offset(),
        strict: args.strict,
        workers: rayon::current_num_threads(),
        part_bytes: read::chunks::PART_BYTES,
    };
    let (parsed, err) =
        crate::triage::parse_source(&mut *reader, &spec.name, &setup, &mut |s| match s {
            crate::triage::Sorted::Event(e) => sink(&spec.name, Item::Event(e)),
            crate::triage::Sorted::Unrecognized(r) => sink(&spec.name, Item::Unrecognized(&r)),
        });
    if let Some(e) = err {
        return Err(e.into());
    }
    let crate::triage::Parsed {
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

pub(crate) fn parse_instant(
    s: &str,
    tz: Option<chrono_tz::Tz>,
    flag: &str,
) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            let t = match tz {
                Some(z) => z
                    .from_local_datetime(&n)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc)),
                None => Some(Utc.from_utc_datetime(&n)),
            };
            if let Some(t) = t {
                return Ok(t);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(n) = d.and_hms_opt(0, 0, 0) {
            return Ok(Utc.from_utc_datetime(&n));
        }
    }
    Err(Error::Usage(format!(
        "{flag} {s}: expected RFC 3339 (2026-05-08T18:41:08-04:00) or YYYY-MM-DD HH:MM:SS"
    )))
}

/// Analysis options derived from the command line.
pub fn correlate_options(args: &AnalyzeArgs) -> Result<CorrelateOptions, Error> {
    let hermes_flag = args
        .hermes_version
        .as_deref()
        .map(|v| v.parse::<HermesVersion>().map_err(Error::Usage))
        .transpose()?;
    // The release the logs show replaces the default once they are read.
    let hermes_version = hermes_flag.unwrap_or(crate::release::NEWEST);
    let mut strategies = BTreeMap::new();
    for s in &args.strategies {
        let Some((p, strat)) = s.split_once('=') else {
            return Err(Error::Usage(format!(
                "--strategy {s}: expected PROVIDER=STRATEGY"
            )));
        };
        const KNOWN: &[&str] = crate::cli::STRATEGIES;
        if !KNOWN.contains(&strat) {
            return Err(Error::Usage(format!(
                "--strategy {s}: unknown strategy {strat:?} (one of {})",
                KNOWN.join(", ")
            )));
        }
        strategies.insert(correlate::providers::normalize(p), strat.to_string());
    }
    Ok(CorrelateOptions {
        hermes_version,
        hermes_flag,
        strategies,
        fleet_fingerprint: None,
    })
}

/// The result of `analyze`.
pub struct Outcome {
    pub report: Report,
    pub exit_code: i32,
}

/// Run the whole analysis.
pub fn analyze(args: &AnalyzeArgs) -> Result<Outcome, Error> {
    for id in args.rules.iter().chain(&args.ignore) {
        if rules::find(id).is_none() {
            return Err(Error::Usage(crate::config::unknown_rule(id)));
        }
    }
    let copts = correlate_options(args)?;
    let ctx = time_context(&args.ingest)?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_instant(s, ctx.tz, "--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_instant(s, ctx.tz, "--until"))
        .transpose()?;
    let in_window = |e: &Event| match e.record.time.utc {
        Some(t) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
        // Lines without an instant cannot be placed in the window: kept.
        None => true,
    };
    let specs = input_specs(&args.ingest)?;
    let all_files = specs.iter().all(|s| s.path.is_some());
    // Markdown diagrams (also in the GitHub step summary) and the HTML page draw each request's
    // timeline.
    let want_timelines = args.timeline
        || args.request.is_some()
        || matches!(
            args.format,
            crate::report::Format::Markdown
                | crate::report::Format::Html
                | crate::report::Format::Github
        );
    let streaming = !args.no_streaming && !want_timelines;
    let (mut ing, shards) = if streaming {
        let names = specs.iter().map(|s| s.name.clone()).collect();
        let mut router = Router::new(names, args.settle_every);
        let mut ing = ingest_merged(&args.ingest, specs, &in_window, &mut router)?;
        if router.mixed && all_files {
            // Lines without a host were read before a second host showed up: read the whole
            // input again, so they land where the whole-input run puts them.
            let whole = AnalyzeArgs {
                no_streaming: true,
                ..args.clone()
            };
            return analyze(&whole);
        }
        if router.mixed {
            ing.warnings.push(
                "lines without a host came before a second host showed up and were analyzed with the first host's lines (save the input to a file to have it split by host)".into(),
            );
        }
        let auths = std::mem::take(&mut ing.auths);
        let lists = std::mem::take(&mut ing.lists);
        let shards = router.finish(auths, lists, copts, &mut ing.warnings);
        (ing, shards)
    } else {
        let (mut ing, mut events) = ingest_collect_specs(&args.ingest, specs)?;
        events.retain(in_window);
        let sources = std::mem::take(&mut ing.sources);
        let auths = std::mem::take(&mut ing.auths);
        let lists = std::mem::take(&mut ing.lists);
        let shards = correlate_shards(events, sources, auths, lists, copts, &mut ing.warnings);
        (ing, shards)
    };
    ing.check_not_empty(&args.ingest)?;
    let late_events: u64 = shards.iter().map(|(_, _, t)| t.late_events).sum();
    if late_events > 0 && all_files {
        // Files can be read again: sort the whole input rather than analyze lines out of order.
        let whole = AnalyzeArgs {
            no_streaming: true,
            ..args.clone()
        };
        return analyze(&whole);
    }
    if late_events > 0 {
        ing.warnings.push(format!(
            "{late_events} lines of standard input came more than 15 minutes behind earlier lines and were analyzed where they came (save the input to a file to have it sorted whole)"
        ));
    }
    let enabled = |id: &str| {
        (args.rules.is_empty() || args.rules.iter().any(|r| r == id))
            && !args.ignore.iter().any(|r| r == id)
    };
    // Each host's report, in host order (the same at any thread count), then the whole.
    let parts: Vec<Report> = {
        use rayon::prelude::*;
        shards
            .par_iter()
            .map(|(_, analysis, totals)| {
                let mut r = shard_report(analysis, totals, &enabled, want_timelines);
                // The sources of the whole run: they order the timelines of several hosts.
                r.summary.sources = ing.summaries.clone();
                r
            })
            .collect()
    };
    let ids: Vec<String> = shards
        .iter()
        .flat_map(|(_, a, _)| a.requests.iter().map(|r| r.id.clone()))
        .collect();
    let several_hosts = parts
        .iter()
        .flat_map(|p| p.summary.hosts.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    drop(shards);
    let Report {
        summary: mut combined,
        mut findings,
        mut timelines,
        ..
    } = crate::shard::combine(parts);
    if let Some(id) = &args.request {
        let known = |k: &str| timelines.iter().any(|t| t.id == k);
        if !known(id) {
            let ids: Vec<String> = if several_hosts {
                timelines.iter().map(|t| t.id.clone()).collect()
            } else {
                ids
            };
            return Err(Error::Usage(unknown_request(id, &ids)));
        }
        findings.retain(|f| f.request.as_ref() == Some(id));
        timelines.retain(|tl| &tl.id == id);
    }
    let mut warnings = ing.warnings;
    for f in &mut findings {
        if let Some(sev) = args.severity_overrides.get(f.rule) {
            f.severity = *sev;
        }
    }
    // Loaded before writing, so one file can be both compared against and updated.
    let baseline = args
        .baseline
        .as_deref()
        .map(|path| Baseline::load(path).map(|b| (path, b)))
        .transpose()?;
    if let Some(path) = &args.write_baseline {
        Baseline::of(&findings).save(path)?;
    }
    if let Some((path, baseline)) = baseline {
        let known = baseline.retain_new(&mut findings);
        if known > 0 {
            warnings.push(format!(
                "{known} finding(s) recorded in baseline {} not reported",
                path.display()
            ));
        }
    }
    let threshold = args.fail_on.threshold();
    let exit_code = match threshold {
        Some(t) if findings.iter().any(|f| f.severity >= t) => 1,
        _ => 0,
    };
    warnings.append(&mut combined.warnings);
    combined.warnings = warnings;
    combined.sources = ing.summaries;
    combined.findings_by_severity = crate::shard::counts(&findings);
    Ok(Outcome {
        report: Report {
            tool_version: env!("CARGO_PKG_VERSION"),
            summary: combined,
            findings,
            timelines,
        },
        exit_code,
    })
}

/// One shard's report: its findings (before `--request`, severity overrides and baselines),
/// its summary (without the sources and the input's own warnings, which belong to the whole
/// run) and, when asked for, its timelines.
fn shard_report(
    analysis: &Analysis,
    totals: &StreamTotals,
    enabled: &(dyn Fn(&str) -> bool + Sync),
    want_timelines: bool,
) -> Report {
    let findings = rules::run(analysis, enabled);
    let mut summary = summarize(analysis, totals, Vec::new(), Vec::new(), &findings);
    let counterfactuals = crate::replay::all(analysis);
    summary.impact = Some(crate::replay::impact(analysis, &counterfactuals));
    let timelines = if want_timelines {
        let mut tls = timelines(analysis);
        for (tl, cf) in tls.iter_mut().zip(counterfactuals) {
            tl.counterfactual = Some(cf);
        }
        tls
    } else {
        Vec::new()
    };
    Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        summary,
        findings,
        timelines,
    }
}

/// The whole-input path: partition the events by host (see [`crate::shard`]) and correlate
/// each host's events alone, in parallel; (host, analysis, totals) in host order.
fn correlate_shards(
    events: Vec<Event>,
    sources: Vec<String>,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    copts: CorrelateOptions,
    warnings: &mut Vec<String>,
) -> Vec<(crate::shard::HostKey, Analysis, StreamTotals)> {
    use rayon::prelude::*;
    let mut hosts: Vec<String> = events
        .iter()
        .filter_map(|e| e.record.host.clone())
        .collect();
    hosts.sort();
    hosts.dedup();
    let partition = crate::shard::Partition { hosts };
    let mut by_host: BTreeMap<crate::shard::HostKey, Vec<Event>> = BTreeMap::new();
    let mut fleet = crate::release::Fingerprint::default();
    let split = partition.split();
    for e in events {
        if split {
            fleet.observe(&e);
        }
        by_host
            .entry(partition.of_record(e.record.host.as_deref()))
            .or_default()
            .push(e);
    }
    let mut snaps = partition.snapshots(auths, lists, warnings);
    for k in snaps.keys() {
        by_host.entry(k.clone()).or_default();
    }
    if by_host.is_empty() {
        by_host.insert(partition.of_record(None), Vec::new());
    }
    let shards: Vec<_> = by_host
        .into_iter()
        .map(|(h, evs)| {
            let (a, l) = snaps.remove(&h).unwrap_or_default();
            (h, evs, a, l)
        })
        .collect();
    shards
        .into_par_iter()
        .map(|(h, evs, a, l)| {
            let mut opts = copts.clone();
            if split {
                opts.fleet_fingerprint = Some(fleet.clone());
            }
            let analysis = correlate::correlate(evs, sources.clone(), a, l, opts);
            let totals = totals_of(&analysis);
            (h, analysis, totals)
        })
        .collect()
}

/// `--request ID` names no request: say so, with the closest id or the first few ids.
fn unknown_request(id: &str, ids: &[String]) -> String {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let close = ids
        .iter()
        .map(|k| (strsim::levenshtein(id, k), *k))
        .filter(|(d, _)| *d <= (id.chars().count() / 3).max(2))
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let list = if ids.is_empty() {
        "the input holds no request".to_string()
    } else {
        let mut l = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        if ids.len() > 5 {
            l.push_str(&format!(", … {} in all", ids.len()));
        }
        format!("requests: {l}")
    };
    format!("--request {id}: no such request{close}; {list}")
}

/// Counts over every event of a whole-input analysis (a streamed one counts as it goes).
fn totals_of(a: &Analysis) -> StreamTotals {
    let mut totals = StreamTotals::default();
    for (e, t) in a.events.iter().zip(&a.times) {
        totals.count(e, *t);
    }
    totals
}

fn summarize(
    a: &Analysis,
    totals: &StreamTotals,
    sources: Vec<SourceSummary>,
    mut warnings: Vec<String>,
    findings: &[Finding],
) -> Summary {
    let mut counts = FindingCounts::default();
    for f in findings {
        match f.severity {
            Severity::High => counts.high += 1,
            Severity::Medium => counts.medium += 1,
            Severity::Low => counts.low += 1,
            Severity::Info => counts.info += 1,
        }
    }
    if a.duplicates_dropped > 0 {
        warnings.push(format!(
            "{} records repeated across files (agent.log / errors.log / gateway.log) were counted once",
            a.duplicates_dropped
        ));
    }
    let epoch =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis() as f64 / 1000.0);
    let review = crate::correlate::review_snapshots(
        a,
        crate::correlate::LogSpan {
            first: epoch(totals.first_time),
            last: epoch(totals.last_time),
        },
    );
    if let Some(w) = &a.release_warning {
        warnings.push(w.clone());
    }
    let (merged, late) = a.console_witnesses;
    if merged + late > 0 {
        warnings.push(format!(
            "{merged} console attempt block(s) repeat a logger record of the same call and {late} late console-only request(s) repeat a logged one: each call counted once"
        ));
    }
    if a.echo_requests_dropped > 0 {
        warnings.push(format!(
            "{} request(s) in untimed console output repeat a timed log and were merged into it",
            a.echo_requests_dropped
        ));
    }
    let inferred_rotations = rules::inferred_rotations(a);
    Summary {
        sources,
        hosts: totals.hosts.iter().cloned().collect(),
        first_time: totals.first_time,
        last_time: totals.last_time,
        requests: a.requests.len() as u64 + totals.dropped_requests,
        attempts: a
            .requests
            .iter()
            .map(|r| r.attempts.len() as u64)
            .sum::<u64>()
            + totals.dropped_attempts,
        rotations: totals.rotations + inferred_rotations,
        rotations_inferred: inferred_rotations,
        fallbacks: a.requests.iter().map(|r| r.fallbacks.len() as u64).sum(),
        findings_by_severity: counts,
        hermes_version: a.opts.hermes_version.to_string(),
        hermes_release: a.release.clone(),
        pools: a
            .pools
            .pools
            .iter()
            .map(|p| PoolSummary {
                provider: p.key.clone(),
                profiles: p.members.iter().map(|m| m.label.clone()).collect(),
                by_fingerprint: p
                    .members
                    .iter()
                    .filter(|m| m.is_account)
                    .map(|m| m.label.clone())
                    .collect(),
                known_from: {
                    let mut from: Vec<&str> =
                        p.members.iter().map(|m| m.known_from.as_str()).collect();
                    from.sort();
                    from.dedup();
                    from.join(", ")
                },
            })
            .collect(),
        snapshots: review.snapshots,
        snapshot_notes: review.notes,
        snapshot_changes: review.changes,
        warnings,
        redacted: crate::redact::is_enabled(),
        impact: None,
    }
}

/// Per-request timelines for `--timeline`.
pub fn timelines(a: &Analysis) -> Vec<RequestTimeline> {
    a.requests
        .iter()
        .map(|r| {
            // Lines folded into an attempt (its attempt line after the stream failure).
            let secondary: std::collections::HashSet<usize> = r
                .attempts
                .iter()
                .flat_map(|at| at.events.iter().skip(1).copied())
                .collect();
            let mut entries = Vec::new();
            for &e in &r.events {
                let ev = &a.events[e];
                let attempt = r.attempt_at(e).map(|i| &r.attempts[i]);
                let what = match (&ev.kind, attempt) {
                    (_, Some(at)) if at.succeeded => "success",
                    (_, Some(_)) => "attempt",
                    (
                        EventKind::PoolRotated { .. }
                        | EventKind::PoolRecoveryRotated { .. }
                        | EventKind::ProfileRotation { .. },
                        _,
                    ) => "rotation",
                    (EventKind::PoolMarked { .. }, _) => "mark",
                    (EventKind::RetryScheduled { .. }, _) => "wait",
                    (
                        EventKind::FallbackActivated { .. }
                        | EventKind::FallbackNotice { .. }
                        | EventKind::FallbackSwitching { .. }
                        | EventKind::GatewayPrimaryFailed { .. },
                        _,
                    ) => "fallback",
                    (EventKind::PrimaryRestored { .. }, _) => "restore",
                    (EventKind::TerminalFailure { .. } | EventKind::NonRetryable { .. }, _) => {
                        "failure"
                    }
                    (EventKind::PoolNoAvailable, _) => "pool empty",
                    (k, _) => k.name(),
                };
                if attempt.is_none() && secondary.contains(&e) {
                    continue;
                }
                // A client built for one call is part of that call; a rebuilt client (rotation,
                // transport recovery, restore, refresh, model switch) changes what later calls
                // carry and where they go: the timeline shows it.
                let rebuild = match &ev.kind {
                    EventKind::ClientCreated {
                        reason, base_url, ..
                    } if is_client_rebuild(reason) => Some(format!(
                        "client rebuilt ({reason}){}",
                        base_url
                            .as_deref()
                            .map(|u| format!(" base_url={u}"))
                            .unwrap_or_default()
                    )),
                    EventKind::ClientCreated { .. } => continue,
                    _ => None,
                };
                let what = if rebuild.is_some() { "rebuild" } else { what };
                let text = match attempt {
                    Some(at) => {
                        let mut s = match at.counter {
                            Some((k, n)) => format!("attempt {k}/{n}"),
                            None if at.succeeded => "call".to_string(),
                            None => "uncounted call".to_string(),
                        };
                        if let Some(st) = at.status {
                            s.push_str(&format!(" HTTP {st}"));
                        }
                        if !at.succeeded {
                            s.push_str(&format!(" ({})", rules::class_text(at.class)));
                        }
                        if let Some(c) = &at.cooled {
                            s.push_str(&format!(" — profile cooled: {}", c.reason));
                        }
                        s
                    }
                    None => match &ev.kind {
                        EventKind::RetryScheduled {
                            wait_s,
                            attempt,
                            max,
                            ..
                        } => format!(
                            "wait {wait_s:.1} s{}",
                            match (attempt, max) {
                                (Some(k), Some(n)) => format!(" (attempt {k}/{n})"),
                                _ => String::new(),
                            }
                        ),
                        _ => {
                            // Redacted before the cut: a cut secret no longer matches.
                            rebuild.unwrap_or_else(|| {
                                redact(&ev.record.message).chars().take(160).collect()
                            })
                        }
                    },
                };
                entries.push(TimelineEntry {
                    time: a.times.get(e).copied().flatten(),
                    time_text: if ev.record.time.utc.is_none() {
                        ev.record.time.tod_ms.map(rules::fmt_tod)
                    } else {
                        None
                    },
                    source: a.source_name(e).to_string(),
                    line: ev.record.loc.line,
                    what: what.to_string(),
                    profile: attempt.and_then(|at| at.profile.clone()),
                    profile_basis: attempt.map(|at| match (at.basis, at.unknown_reason) {
                        (Some(b), _) => b.describe().to_string(),
                        (None, Some(why)) => format!("unknown: {why}"),
                        (None, None) => {
                            "unknown: no rotation, mark or account fingerprint names it".to_string()
                        }
                    }),
                    text: redact(&text).into_owned(),
                });
            }
            RequestTimeline {
                id: r.id.clone(),
                host: r.host.clone(),
                provider: r.primary_provider.clone(),
                outcome: r.outcome.as_str().to_string(),
                entries,
                counterfactual: None,
            }
        })
        .collect()
}

/// A client built to replace the request's client, not for one call.
fn is_client_rebuild(reason: &str) -> bool {
    matches!(
        reason,
        "credential_rotation"
            | "primary_recovery"
            | "restore_primary"
            | "switch_model"
            | "fallback_timeout_apply"
            | "credential_pool_refresh_failure"
    ) || reason.ends_with("_credential_refresh")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventKind, Record};
    use chrono::TimeZone;

    fn event(source: u32, line: u32, secs: Option<i64>) -> Event {
        let mut record = Record::empty();
        record.loc = crate::model::Loc { source, line };
        record.message = format!("line {line}");
        record.time.utc = secs.and_then(|s| Utc.timestamp_opt(s, 0).single());
        Event {
            record,
            kind: EventKind::Other,
        }
    }

    /// An untimed record (merged first) has no copy to wait for: it does not hold back the
    /// records after it, so the window stays one second long.
    #[test]
    fn an_untimed_record_does_not_hold_the_duplicate_window_open() {
        let mut streamer = Streamer::new(vec!["console".into(), "agent.log".into()]);
        let mut dedupe = Dedupe::default();
        dedupe.push(None, event(0, 1, None), &mut streamer);
        for k in 0..100 {
            let t = 1_800_000_000 + 2 * k;
            let at = Utc.timestamp_opt(t, 0).single();
            dedupe.push(at, event(1, k as u32 + 1, Some(t)), &mut streamer);
            assert!(dedupe.recent.len() <= 1, "{} held", dedupe.recent.len());
        }
    }
}

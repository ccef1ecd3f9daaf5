//! Live follow mode: `journalctl -f -o short-iso -u hermes-gateway | hermes-forensics --follow`,
//! or `hermes-forensics --follow ~/.hermes/logs/agent.log`.
//!
//! The lines go through the batch run's loop for one source: parsed and sorted by its
//! [`Feed`](crate::ingest::triage) (each record as soon as it is complete), then its streamed
//! correlation ([`Followed`]: time order, grouping, settling), so pool, cooldown and fallback
//! state carry across requests as in a whole-file run, and the findings printed by the time the
//! input ends are the batch run's findings. Whenever a line may have closed a request and the
//! input has caught up, the analysis a run ending there would make is computed
//! ([`Followed::snapshot`]), and the findings of requests that closed at least [`SETTLE_SECS`]
//! of log time ago are printed — once each. Nothing for `--idle` seconds, or the end of the
//! input, prints the rest as it stands.
//!
//! Standard input (or a pipe) ends at its end of file. A regular file is followed like
//! `tail -F` ([`crate::read::tail`]): the run goes on after its end, through truncation and
//! rotation, until SIGINT or SIGTERM.

use crate::auth;
use crate::correlate::{self, AuthInput, AuthListInput, Followed, Outcome};
use crate::error::Error;
use crate::ingest::triage::{self, Feed, Sorted};
use crate::model::{EventKind, Finding, Severity};
use crate::parse::{self, InputFormat, Parser, TimeContext};
use crate::pipeline::Options;
use crate::read::{self, tail, InputSpec, SourceHint};
use crate::report::Format;
use crate::rules;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Printed-finding keys remembered (to print each finding once).
const PRINTED_CAP: usize = 100_000;
/// How often the loop wakes up to check signals and idleness, and the tail looks for new lines.
const POLL: Duration = Duration::from_millis(200);
/// A closed request's findings are printed once the log has gone this far past its last line:
/// a fallback line a few seconds after a terminal failure still continues the request, and its
/// gateway response may follow.
pub const SETTLE_SECS: i64 = 10;
/// Lines the format is detected from (as the batch run peeks the first lines of an input).
const HEAD_LINES: usize = 20;
/// A line that may close a request is analysed as soon as the input has caught up; while lines
/// keep coming without a pause, at least this often (a busy input must not hold findings back).
const MAX_LAG: Duration = Duration::from_secs(2);

/// A line that may close a request: worth an analysis.
fn closes_request(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Success { .. }
            | EventKind::TerminalFailure { .. }
            | EventKind::NonRetryable { .. }
            | EventKind::TurnEnd { .. }
            | EventKind::GatewayResponse { .. }
            | EventKind::FallbackSwitching { .. }
            | EventKind::FallbackActivated { .. }
            | EventKind::PrimaryRestored { .. }
    )
}

/// Where the followed source's request events go: the streamed correlation, within the time
/// window.
struct Intake {
    followed: Followed,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    /// Latest log time seen.
    now: Option<DateTime<Utc>>,
    /// A line that may close a request came since this was last cleared.
    closing: bool,
}

impl Intake {
    fn take(&mut self, sorted: Sorted) {
        let Sorted::Event(e) = sorted else {
            return;
        };
        if let Some(t) = e.record.time.utc {
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return;
            }
            self.now = Some(self.now.map_or(t, |n| n.max(t)));
        }
        self.closing |= closes_request(&e.kind);
        self.followed.push(e);
    }
}

/// One followed log source: lines in, findings out.
pub struct Live {
    ctx: TimeContext,
    forced: InputFormat,
    /// The first lines, until the format is known.
    head: Vec<(u32, String)>,
    /// The batch run's loop for one source, once the format is known.
    reading: Option<(Parser, Feed)>,
    intake: Intake,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    opts: correlate::CorrelateOptions,
    rules: Vec<String>,
    ignore: Vec<String>,
    severity: BTreeMap<String, Severity>,
    /// Hashes of the findings printed (each is printed once).
    printed: HashSet<u64>,
    printed_order: VecDeque<u64>,
}

impl Live {
    /// A follower of the log named `name`, with the auth snapshots, rules and options of `opts`.
    pub fn new(opts: &Options, name: &str) -> Result<Live, Error> {
        for id in opts.judge.rules.iter().chain(&opts.judge.ignore) {
            if rules::find(id).is_none() {
                return Err(Error::Usage(format!(
                    "unknown rule {id:?} (see `hermes-forensics rules`)"
                )));
            }
        }
        let ingest = &opts.ingest;
        let ctx = ingest.time.clone();
        let (since, until) = (opts.since, opts.until);
        // Sources as the batch run numbers them: the log, then --auth, then --auth-list.
        let mut sources = vec![name.to_string()];
        let mut auths = Vec::new();
        let mut lists = Vec::new();
        for (i, p) in ingest.auth.iter().chain(&ingest.auth_list).enumerate() {
            let spec = InputSpec::file(p.clone(), SourceHint::Unknown);
            let text = read::read_to_string_limited(&spec, read::AUTH_FILE_LIMIT)?;
            let source = 1 + i as u32;
            sources.push(spec.name.clone());
            if i < ingest.auth.len() {
                let snapshot = auth::json::parse_auth_json(&text).map_err(|err| Error::Auth {
                    path: spec.name.clone(),
                    err,
                })?;
                auths.push(AuthInput {
                    source,
                    name: spec.name,
                    snapshot,
                });
            } else {
                let (rows, _) = auth::list::parse_auth_list(&text);
                lists.push(AuthListInput {
                    source,
                    name: spec.name,
                    rows,
                });
            }
        }
        let mut followed = Followed::new(sources);
        if let Some(n) = opts.settle_every {
            followed = followed.settle_every(n);
        }
        Ok(Live {
            ctx,
            forced: ingest.input_format,
            head: Vec::new(),
            reading: None,
            intake: Intake {
                followed,
                since,
                until,
                now: None,
                closing: false,
            },
            auths,
            lists,
            opts: opts.correlate.clone(),
            rules: opts.judge.rules.clone(),
            ignore: opts.judge.ignore.clone(),
            severity: opts.judge.severity_overrides.clone(),
            printed: HashSet::new(),
            printed_order: VecDeque::new(),
        })
    }

    /// Remember at most about `n` requests with something to report (default
    /// [`correlate::FOLLOW_REMEMBER`]); see [`Followed::remember`].
    pub fn remember(mut self, n: usize) -> Self {
        self.intake.followed = self.intake.followed.remember(n);
        self
    }

    /// The latest instant of the log read so far.
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.intake.now
    }

    /// Requests with something to report remembered now.
    pub fn remembered(&self) -> usize {
        self.intake.followed.remembered()
    }

    /// Take the next line; returns whether a line that may close a request was taken in (a
    /// record is complete when the next one starts).
    pub fn push_line(&mut self, no: u32, line: &str) -> bool {
        let Some((parser, feed)) = self.reading.as_mut() else {
            self.head.push((no, line.to_string()));
            if self.head.len() < HEAD_LINES {
                return false;
            }
            return self.start_reading();
        };
        let intake = &mut self.intake;
        feed.line(parser, no, line, &mut |s| intake.take(s));
        std::mem::take(&mut self.intake.closing)
    }

    /// The format is known (from the first lines, or forced): read the lines held so far.
    fn start_reading(&mut self) -> bool {
        let format = match self.forced {
            InputFormat::Auto => {
                let refs: Vec<&str> = self.head.iter().map(|(_, l)| l.as_str()).collect();
                parse::detect(&refs)
            }
            f => f,
        };
        let setup = triage::Setup {
            source: 0,
            format,
            ctx: &self.ctx,
            offset: 0,
            strict: false,
            workers: 1,
            part_bytes: 0,
            read_ahead: 0,
        };
        let (mut parser, mut feed) = (triage::parser(&setup), Feed::new(&setup).at_once());
        let intake = &mut self.intake;
        for (no, line) in std::mem::take(&mut self.head) {
            feed.line(&mut parser, no, &line, &mut |s| intake.take(s));
        }
        self.reading = Some((parser, feed));
        std::mem::take(&mut self.intake.closing)
    }

    /// The input paused or ended (or the file was replaced): the record being read is complete.
    pub fn end_of_input(&mut self) -> bool {
        if self.reading.is_none() {
            if self.head.is_empty() {
                return false;
            }
            self.start_reading();
        }
        if let Some((parser, feed)) = self.reading.as_mut() {
            let intake = &mut self.intake;
            feed.flush(parser, &mut |s| intake.take(s));
        }
        std::mem::take(&mut self.intake.closing)
    }

    fn enabled(&self, id: &str) -> bool {
        (self.rules.is_empty() || self.rules.iter().any(|r| r == id))
            && !self.ignore.iter().any(|r| r == id)
    }

    /// Findings of the analysis, with the configured severities.
    fn findings(&self, analysis: &correlate::Analysis) -> Vec<Finding> {
        let mut findings = rules::run(analysis, &|id| self.enabled(id));
        for f in &mut findings {
            if let Some(sev) = self.severity.get(f.rule) {
                f.severity = *sev;
            }
        }
        findings
    }

    /// The findings not printed yet of the analysis as it stands: of requests that ended (an
    /// ending line, a later request of the same session or process, or no line for the
    /// grouping's idle close) at least [`SETTLE_SECS`] of log time ago, and findings of no
    /// request that old; all of them when `all` (the input is quiet).
    pub fn checkpoint(&mut self, all: bool) -> Vec<Finding> {
        let (analysis, _) = self.intake.followed.snapshot(
            self.auths.clone(),
            self.lists.clone(),
            self.opts.clone(),
        );
        let quiet = |t: Option<DateTime<Utc>>, secs: i64| match (t, self.intake.now) {
            (Some(t), Some(now)) => (now - t).num_seconds() >= secs,
            _ => false,
        };
        // The last request of each lane (a later one closes the ones before it).
        let mut latest: HashMap<&str, usize> = HashMap::new();
        for (i, r) in analysis.requests.iter().enumerate() {
            latest.insert(r.lane.as_str(), i);
        }
        let closed: HashMap<&str, bool> = analysis
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let last = r
                    .events
                    .last()
                    .and_then(|&e| analysis.times.get(e).copied().flatten());
                let ended = r.outcome != Outcome::Open
                    || latest.get(r.lane.as_str()) != Some(&i)
                    || quiet(last, correlate::IDLE_CLOSE_SECS);
                (r.id.as_str(), ended && quiet(last, SETTLE_SECS))
            })
            .collect();
        let settled = |t| quiet(t, SETTLE_SECS);
        let ready: Vec<Finding> = self
            .findings(&analysis)
            .into_iter()
            .filter(|f| {
                all || match f.request.as_deref() {
                    Some(r) => closed.get(r).copied().unwrap_or(false),
                    None => settled(f.time),
                }
            })
            .collect();
        self.fresh(ready)
    }

    /// End of input: the findings not printed yet of the final analysis.
    pub fn finish(mut self) -> Vec<Finding> {
        self.end_of_input();
        let followed = std::mem::replace(&mut self.intake.followed, Followed::new(Vec::new()));
        let (analysis, _) = followed.finish(
            std::mem::take(&mut self.auths),
            std::mem::take(&mut self.lists),
            self.opts.clone(),
        );
        let all = self.findings(&analysis);
        self.fresh(all)
    }

    /// The findings not printed before (remembered from now on).
    fn fresh(&mut self, findings: Vec<Finding>) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in findings {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            serde_json::to_string(&f)
                .unwrap_or_else(|_| format!("{f:?}"))
                .hash(&mut h);
            let key = h.finish();
            if !self.printed.insert(key) {
                continue;
            }
            self.printed_order.push_back(key);
            if self.printed_order.len() > PRINTED_CAP {
                if let Some(old) = self.printed_order.pop_front() {
                    self.printed.remove(&old);
                }
            }
            out.push(f);
        }
        out
    }
}

/// Prints findings as they come and tracks the worst severity (for `--fail-on`): text, one
/// JSON line per finding (`json`), one OTLP `LogsData` document per line with one finding
/// (`otlp`, as the Collector's file exporter writes them), or one journal export entry per
/// finding (`journal-export`), flushed as each is printed.
struct Printer<W: Write> {
    format: Format,
    out: W,
    worst: Option<Severity>,
}

impl<W: Write> Printer<W> {
    /// Print `findings`; `input_end` is the latest instant of the log read so far (the journal
    /// time of a finding with none of its own).
    fn print_all(
        &mut self,
        findings: &[Finding],
        input_end: Option<DateTime<Utc>>,
    ) -> io::Result<()> {
        for f in findings {
            self.print(f, input_end)?;
        }
        self.out.flush()
    }

    fn print(&mut self, f: &Finding, input_end: Option<DateTime<Utc>>) -> io::Result<()> {
        use crate::report::{journal_export, otlp};
        let mut scrubbed = f.clone();
        crate::report::scrub::finding(&mut scrubbed);
        let f = &scrubbed;
        self.worst = self.worst.max(Some(f.severity));
        match self.format {
            Format::Json => {
                let line = serde_json::to_string(f).map_err(io::Error::other)?;
                writeln!(self.out, "{line}")
            }
            Format::Otlp => {
                otlp::write_line(
                    std::slice::from_ref(f),
                    env!("CARGO_PKG_VERSION"),
                    &mut self.out,
                )?;
                self.out.flush()
            }
            Format::JournalExport => {
                journal_export::write_entry(f, input_end, &mut self.out)?;
                self.out.flush()
            }
            _ => {
                writeln!(
                    self.out,
                    "[{}] {} — {}",
                    f.severity.as_str().to_uppercase(),
                    f.rule,
                    f.message
                )?;
                let when = crate::report::display_when(f.time.as_ref(), f.time_text.as_deref());
                writeln!(
                    self.out,
                    "  time: {when}  request: {}",
                    f.request.as_deref().unwrap_or("-")
                )?;
                for n in &f.notes {
                    writeln!(self.out, "  note: {n}")?;
                }
                for e in &f.evidence {
                    writeln!(self.out, "    {}:{}  {}", e.source, e.line, e.text)?;
                }
                writeln!(self.out)
            }
        }
    }
}

/// What the reader thread hands to the analysis.
enum Input {
    Line(u32, String),
    /// The file was truncated or replaced.
    Restart,
}

/// The input to follow: standard input (or a pipe, a compressed file: read to its end), or a
/// regular file (followed like `tail -F`).
enum Source {
    Stream(InputSpec),
    File(PathBuf, String),
}

/// Whether a path is a plain (uncompressed) regular file, to be followed as it grows.
fn is_growing_file(path: &std::path::Path) -> bool {
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let compressed = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "gz" || e == "zst");
    let magic = std::fs::File::open(path)
        .and_then(|mut f| {
            let mut head = [0u8; 4];
            let n = io::Read::read(&mut f, &mut head)?;
            Ok(head[..n].starts_with(&[0x1f, 0x8b])
                || head[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]))
        })
        .unwrap_or(false);
    regular && !compressed && !magic
}

/// Run follow mode, printing in `format`; returns the exit code (by `--fail-on` over
/// everything printed).
pub fn run(opts: &Options, format: Format, idle: Duration) -> Result<i32, FollowError> {
    let source =
        match opts.ingest.paths.as_slice() {
            [] => Source::Stream(InputSpec::stdin()),
            [p] if p.as_os_str() == "-" => Source::Stream(InputSpec::stdin()),
            [p] if is_growing_file(p) => Source::File(p.clone(), p.display().to_string()),
            [p] => Source::Stream(InputSpec::file(p.clone(), SourceHint::Unknown)),
            _ => return Err(Error::Usage(
                "--follow reads one stream (stdin or one file); give auth snapshots with --auth"
                    .into(),
            )
            .into()),
        };
    let name = match &source {
        Source::Stream(spec) => spec.name.clone(),
        Source::File(_, name) => name.clone(),
    };
    let mut live = Live::new(opts, &name)?;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(FollowError::Io)?;
    }

    // Reader thread: lines through a bounded channel (back-pressure keeps memory flat).
    let (tx, rx) = mpsc::sync_channel::<Input>(1024);
    let reader_stop = Arc::clone(&stop);
    let reader_thread = std::thread::spawn(move || -> Result<(), read::ReadError> {
        match source {
            Source::Stream(spec) => {
                let mut reader = read::open(&spec)?;
                read::for_each_line(&mut *reader, &spec.name, &mut |no, line| {
                    let _ = tx.send(Input::Line(no, line.to_string()));
                })
                .map(|_| ())
            }
            Source::File(path, name) => tail::follow(&path, &name, POLL, &reader_stop, &mut |t| {
                let item = match t {
                    tail::Tailed::Line(no, line) => Input::Line(no, line),
                    tail::Tailed::Restart => Input::Restart,
                };
                tx.send(item).is_ok()
            }),
        }
    });

    let stdout = io::stdout();
    let mut printer = Printer {
        format,
        out: io::BufWriter::new(stdout.lock()),
        worst: None,
    };
    let mut last_line = Instant::now();
    let mut last_check = Instant::now();
    let mut idle_flushed = true;
    // A line that may close a request came since the last analysis.
    let mut pending = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let item = match rx.try_recv() {
            Ok(item) => Some(item),
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                // Caught up with the input: analyse what closed.
                if pending {
                    printer.print_all(&live.checkpoint(false), live.latest())?;
                    pending = false;
                    last_check = Instant::now();
                }
                match rx.recv_timeout(POLL) {
                    Ok(item) => Some(item),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        match item {
            Some(Input::Line(no, line)) => {
                last_line = Instant::now();
                idle_flushed = false;
                pending |= live.push_line(no, &line);
                if pending && last_check.elapsed() >= MAX_LAG {
                    printer.print_all(&live.checkpoint(false), live.latest())?;
                    pending = false;
                    last_check = Instant::now();
                }
            }
            Some(Input::Restart) => {
                // The old file ended: its last record is complete.
                pending |= live.end_of_input();
            }
            None => {
                if !idle_flushed && last_line.elapsed() >= idle {
                    // Quiet input: the record being read is complete, and open requests are
                    // judged as they stand.
                    live.end_of_input();
                    printer.print_all(&live.checkpoint(true), live.latest())?;
                    idle_flushed = true;
                    pending = false;
                }
            }
        }
    }
    // The reader stops at its next look (a tail) or at its end of input (a stream, which is
    // not waited for when a signal stopped the run).
    drop(rx);
    let input_end = live.latest();
    printer.print_all(&live.finish(), input_end)?;
    if !stop.load(Ordering::Relaxed) {
        if let Ok(Err(e)) = reader_thread.join() {
            return Err(Error::from(e).into());
        }
    }
    let threshold = opts.judge.fail_on;
    Ok(match (threshold, printer.worst) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}

/// Errors of follow mode.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Pipeline(#[from] Error),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<read::ReadError> for FollowError {
    fn from(e: read::ReadError) -> Self {
        FollowError::Pipeline(Error::from(e))
    }
}

//! Live follow mode: `journalctl -f -o short-iso -u hermes-gateway | hermes-forensics --follow`.
//!
//! Lines are parsed and classified as they arrive. When a request closes (success, terminal
//! failure, end of turn) — or nothing arrived for `--idle` seconds — the buffered events are
//! correlated and the findings of closed requests are printed at once. Events of closed
//! requests are then dropped; only a capped window of pool and fallback history (marks,
//! rotations, fallbacks, restores) is kept for the rules that look across requests, so memory
//! stays bounded over days. SIGINT/SIGTERM or end of input flush what is pending.

use crate::auth;
use crate::classify::classify;
use crate::cli::AnalyzeArgs;
use crate::correlate::{self, AuthInput, AuthListInput, Outcome};
use crate::model::{Event, EventKind, Finding, Loc, Record, Severity};
use crate::parse::{self, InputFormat, Parser};
use crate::pipeline::{self, Error};
use crate::read::{self, InputSpec, SourceHint};
use crate::rules;
use std::collections::{HashSet, VecDeque};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pool and fallback history kept across requests (re-correlated at every close, so small).
const HISTORY_CAP: usize = 256;
/// Printed-finding keys remembered (to print each finding once).
const PRINTED_CAP: usize = 100_000;
/// How often the loop wakes up to check signals and idleness.
const POLL: Duration = Duration::from_millis(200);

/// Kinds kept after their request closed: the cross-request rules read them.
fn is_history(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::PoolMarked { .. }
            | EventKind::PoolNoAvailable
            | EventKind::FallbackActivated { .. }
            | EventKind::FallbackResolved { .. }
            | EventKind::PrimaryRestored { .. }
    )
}

/// A line that may close a request: worth correlating right away.
fn closes_request(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Success { .. }
            | EventKind::TerminalFailure { .. }
            | EventKind::NonRetryable { .. }
            | EventKind::TurnEnd { .. }
            | EventKind::GatewayResponse { .. }
            | EventKind::FallbackSwitching { .. }
    )
}

struct Follower<'a, W: Write> {
    args: &'a AnalyzeArgs,
    out: W,
    source_name: String,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    opts: correlate::CorrelateOptions,
    buffer: Vec<Event>,
    printed: HashSet<String>,
    printed_order: VecDeque<String>,
    worst: Option<Severity>,
}

impl<W: Write> Follower<'_, W> {
    /// Correlate the buffer, print new findings of closed requests (of all requests when
    /// `flush_all`), then drop the closed requests' events.
    fn analyze(&mut self, flush_all: bool) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let analysis = correlate::correlate(
            self.buffer.clone(),
            vec![self.source_name.clone()],
            self.auths.clone(),
            self.lists.clone(),
            self.opts.clone(),
        );
        let closed: HashSet<&str> = analysis
            .requests
            .iter()
            .filter(|r| flush_all || r.outcome != Outcome::Open)
            .map(|r| r.id.as_str())
            .collect();
        let enabled = |id: &str| {
            (self.args.rules.is_empty() || self.args.rules.iter().any(|r| r == id))
                && !self.args.ignore.iter().any(|r| r == id)
        };
        for mut f in rules::run(&analysis, &enabled) {
            if let Some(sev) = self.args.severity_overrides.get(f.rule) {
                f.severity = *sev;
            }
            let ready = f.request.as_deref().is_none_or(|r| closed.contains(r));
            if ready {
                self.print(&f)?;
            }
        }
        let closed_locs: HashSet<Loc> = analysis
            .requests
            .iter()
            .filter(|r| closed.contains(r.id.as_str()))
            .flat_map(|r| r.events.iter().map(|&e| analysis.events[e].record.loc))
            .collect();
        self.buffer
            .retain(|e| !closed_locs.contains(&e.record.loc) || is_history(&e.kind));
        // Cap the history: drop the oldest history events beyond the cap.
        let history = self.buffer.iter().filter(|e| is_history(&e.kind)).count();
        if history > HISTORY_CAP {
            let mut excess = history - HISTORY_CAP;
            self.buffer.retain(|e| {
                if excess > 0 && is_history(&e.kind) {
                    excess -= 1;
                    false
                } else {
                    true
                }
            });
        }
        self.out.flush()
    }

    fn print(&mut self, f: &Finding) -> io::Result<()> {
        let mut scrubbed = f.clone();
        crate::report::scrub::finding(&mut scrubbed);
        let f = &scrubbed;
        let first = f.evidence.first().map(|e| (e.source.as_str(), e.line));
        let key = format!("{}|{:?}|{}", f.rule, first, f.message);
        if !self.printed.insert(key.clone()) {
            return Ok(());
        }
        self.printed_order.push_back(key);
        if self.printed_order.len() > PRINTED_CAP {
            if let Some(old) = self.printed_order.pop_front() {
                self.printed.remove(&old);
            }
        }
        self.worst = self.worst.max(Some(f.severity));
        match self.args.format {
            crate::report::Format::Json => {
                let line = serde_json::to_string(f).map_err(io::Error::other)?;
                writeln!(self.out, "{line}")
            }
            _ => {
                writeln!(
                    self.out,
                    "[{}] {} — {}",
                    f.severity.as_str().to_uppercase(),
                    f.rule,
                    f.message
                )?;
                let when = f
                    .time
                    .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
                    .or(f.time_text.clone())
                    .unwrap_or_else(|| "-".into());
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

/// Run follow mode; returns the exit code (by `--fail-on` over everything printed).
pub fn run(args: &AnalyzeArgs, idle: Duration) -> Result<i32, FollowError> {
    let ingest = &args.ingest;
    let ctx = pipeline::time_context(ingest)?;
    let opts = pipeline::correlate_options(args)?;
    // Auth snapshots first: given with --auth / --auth-list.
    let mut auths = Vec::new();
    let mut lists = Vec::new();
    for (i, p) in ingest.auth.iter().chain(&ingest.auth_list).enumerate() {
        let spec = InputSpec::file(p.clone(), SourceHint::Unknown);
        let text =
            read::read_to_string_limited(&spec, read::AUTH_FILE_LIMIT).map_err(Error::from)?;
        if i < ingest.auth.len() {
            let snapshot = auth::json::parse_auth_json(&text).map_err(|err| Error::Auth {
                path: spec.name.clone(),
                err,
            })?;
            auths.push(AuthInput {
                source: 1 + i as u32,
                name: spec.name,
                snapshot,
            });
        } else {
            let (rows, _) = auth::list::parse_auth_list(&text);
            lists.push(AuthListInput {
                source: 1 + i as u32,
                name: spec.name,
                rows,
            });
        }
    }
    let spec =
        match ingest.paths.as_slice() {
            [] => InputSpec::stdin(),
            [p] if p.as_os_str() == "-" => InputSpec::stdin(),
            [p] => InputSpec::file(p.clone(), SourceHint::Unknown),
            _ => return Err(Error::Usage(
                "--follow reads one stream (stdin or one file); give auth snapshots with --auth"
                    .into(),
            )
            .into()),
        };
    let mut reader = read::open(&spec)?;
    let head = read::peek_lines(&mut *reader, &spec.name, 20)?;
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let format = match ingest.input_format {
        InputFormat::Auto => parse::detect(&head_refs),
        f => f,
    };

    // Reader thread: lines through a bounded channel (back-pressure keeps memory flat).
    let (tx, rx) = mpsc::sync_channel::<(u32, String)>(1024);
    let name = spec.name.clone();
    let reader_thread = std::thread::spawn(move || {
        read::for_each_line(&mut *reader, &name, &mut |no, line| {
            let _ = tx.send((no, line.to_string()));
        })
    });

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(FollowError::Io)?;
    }

    let stdout = io::stdout();
    let mut f = Follower {
        args,
        out: io::BufWriter::new(stdout.lock()),
        source_name: spec.name.clone(),
        auths,
        lists,
        opts,
        buffer: Vec::new(),
        printed: HashSet::new(),
        printed_order: VecDeque::new(),
        worst: None,
    };
    let mut parser = Parser::new(0, format, ctx);
    let mut records: Vec<Record> = Vec::new();
    let mut last_line = Instant::now();
    let mut idle_flushed = true;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match rx.recv_timeout(POLL) {
            Ok((no, line)) => {
                last_line = Instant::now();
                idle_flushed = false;
                parser.push(no, &line, &mut records);
                let mut dirty = false;
                for r in records.drain(..) {
                    let kind = classify(&r);
                    if kind.is_request_event() {
                        dirty |= closes_request(&kind);
                        f.buffer.push(Event { record: r, kind });
                    }
                }
                if dirty {
                    f.analyze(false)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if !idle_flushed && last_line.elapsed() >= idle {
                    // Quiet input: the parser's pending record is complete, and open requests
                    // are judged as they stand.
                    parser.finish(&mut records);
                    push_records(&mut f, &mut records);
                    f.analyze(true)?;
                    idle_flushed = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    parser.finish(&mut records);
    push_records(&mut f, &mut records);
    f.analyze(true)?;
    drop(rx);
    if !stop.load(Ordering::Relaxed) {
        if let Ok(Err(e)) = reader_thread.join() {
            return Err(Error::from(e).into());
        }
    }
    let threshold = args.fail_on.threshold();
    Ok(match (threshold, f.worst) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}

fn push_records<W: Write>(f: &mut Follower<'_, W>, records: &mut Vec<Record>) {
    for r in records.drain(..) {
        let kind = classify(&r);
        if kind.is_request_event() {
            f.buffer.push(Event { record: r, kind });
        }
    }
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

//! The types that flow between pipeline stages.
//!
//! `read` produces numbered lines, `parse` turns them into [`Record`]s, `classify` turns a record
//! into an [`Event`], `correlate` groups events into requests, `rules` produce [`Finding`]s and
//! `report` renders a [`Report`]. Each stage sees only the previous stage's types.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// Index of an input source: its place among the inputs, as in [`Summary::sources`].
pub type SourceId = u32;

/// Where a line came from: source index plus 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Loc {
    pub source: SourceId,
    pub line: u32,
}

/// The line shapes the parser recognises. One variant per shape family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `YYYY-MM-DD HH:MM:SS,mmm LEVEL [sid] logger: message` (agent.log, errors.log, gateway.log).
    AgentLog,
    /// `HH:MM:SS - logger - LEVEL - message` (CLI `-v` stderr).
    Verbose,
    /// journalctl `-o short` (`May 08 18:41:08 host ident[pid]: msg`).
    JournalShort,
    /// journalctl `-o short-precise`.
    JournalShortPrecise,
    /// journalctl `-o short-iso`.
    JournalShortIso,
    /// journalctl `-o short-iso-precise`.
    JournalShortIsoPrecise,
    /// journalctl `-o short-full` (`Sun 2025-11-23 14:00:00 UTC host ident[pid]: msg`).
    JournalShortFull,
    /// journalctl `-o short-unix`.
    JournalShortUnix,
    /// journalctl `-o short-monotonic` (`[12345.678901] host ident[pid]: msg`, seconds since boot).
    JournalShortMonotonic,
    /// journalctl `-o short-delta` (`[12345.678901 <    0.000512>] host ident[pid]: msg`).
    JournalShortDelta,
    /// journalctl `-o with-unit` (`short-full` with the unit in place of the identifier).
    JournalWithUnit,
    /// journalctl `-o json` (NDJSON).
    JournalJson,
    /// journalctl `-o json-pretty` (one indented JSON object over several lines).
    JournalJsonPretty,
    /// journalctl `-o json-sse` (`data: {...}` Server-Sent Events).
    JournalJsonSse,
    /// journalctl `-o json-seq` (RFC 7464: 0x1E before each JSON object).
    JournalJsonSeq,
    /// journalctl `-o verbose` (a header line, then indented `FIELD=value` lines).
    JournalVerbose,
    /// journalctl `-o export` (`FIELD=value` lines, binary-safe fields, empty line between
    /// entries).
    JournalExport,
    /// Grafana Loki `logcli query --output=jsonl` (`{"labels":{…},"line":"…","timestamp":"…"}`).
    Loki,
    /// Elasticsearch / OpenSearch documents with ECS fields: `_search` responses, hits and
    /// `_source` documents (Filebeat, journalbeat).
    Ecs,
    /// OpenTelemetry OTLP/JSON logs (`resourceLogs`), as the Collector's file exporter writes.
    Otlp,
    /// journalctl `-o cat` / bare console or stderr lines with no prefix.
    Bare,
    /// Operator paste `HH:MM:SS ident[pid]: msg` (journal prefix stripped to the time).
    StrippedJournal,
    /// Hermes Desktop `[2026-08-25T10:50:18.453Z] [hermes] msg` or `[hermes] msg`.
    Desktop,
    /// Pasted fragment `YYYY-MM-DD HH:MM:SS CST  message`.
    ZonedPaste,
}

/// How an event's instant was determined. Findings quote anything other than `Exact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBasis {
    /// The line carried a full date and an explicit offset (or epoch value).
    Exact,
    /// Date and time in the line, zone taken from `--tz` (or a zone abbreviation).
    Zone,
    /// Date and time in the line, no zone known: read as UTC (a warning is issued when mixed).
    AssumedUtc,
    /// The line had no year (journal `short`): year taken from `--year`/`--date`.
    YearFromFlag,
    /// The line had only a time of day: date taken from `--date`.
    DateFromFlag,
    /// Only a time of day is known (`tod_ms`), no absolute instant.
    TimeOfDayOnly,
    /// No time at all.
    #[default]
    None,
}

/// A timestamp as far as it could be determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Stamp {
    /// The absolute instant in UTC, when it can be determined.
    pub utc: Option<DateTime<Utc>>,
    /// Milliseconds since local midnight as written in the line (for relative ordering when
    /// `utc` is unknown). Set whenever the line had a time of day.
    pub tod_ms: Option<u32>,
    pub basis: TimeBasis,
}

/// `later - earlier` as chrono computes it, two instants of one day subtracted by their times of
/// day alone (the correlator compares the times of neighbouring events, nearly always of one
/// day, and a date's day number costs more than the rest).
#[inline]
pub fn elapsed(later: DateTime<Utc>, earlier: DateTime<Utc>) -> TimeDelta {
    let (l, e) = (later.naive_utc(), earlier.naive_utc());
    if l.date() == e.date() {
        l.time() - e.time()
    } else {
        later - earlier
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

/// One logical log record: a first line plus any continuation lines joined to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Location of the first line.
    pub loc: Loc,
    /// Line number of the last line that belongs to this record (== loc.line when single-line).
    pub end_line: u32,
    pub shape: Shape,
    pub time: Stamp,
    pub level: Option<Level>,
    /// Hermes session tag (`[20260815_232112_71febe]`), when present.
    pub session: Option<String>,
    /// Python logger name (`agent.conversation_loop`), when present.
    pub logger: Option<String>,
    pub host: Option<String>,
    /// Journal identifier (`python`, `python3.11`, `hermes`).
    pub ident: Option<String>,
    pub pid: Option<u32>,
    /// `[subagent-N] ` console prefix.
    pub subagent: Option<u32>,
    /// The message text of the first line, with shape prefixes removed. Console emoji are kept;
    /// the classifier strips them.
    pub message: String,
    /// Continuation lines (traceback, `📋 Details:` under an attempt line), text with the
    /// line number each came from.
    pub continuation: Vec<(u32, String)>,
    /// The first line exactly as read (lossily decoded), for evidence.
    pub raw: String,
    /// The record began on a line where an earlier record began (an export line holding
    /// several log records): that line is counted once, with the earlier record.
    #[serde(skip)]
    pub shares_line: bool,
}

impl Shape {
    /// Whether the line's time is journald's: when the line reached the journal, a little after
    /// the process wrote it (a logger record's own time is when it was made).
    pub fn stamped_on_arrival(self) -> bool {
        matches!(
            self,
            Shape::JournalShort
                | Shape::JournalShortPrecise
                | Shape::JournalShortIso
                | Shape::JournalShortIsoPrecise
                | Shape::JournalShortFull
                | Shape::JournalShortUnix
                | Shape::JournalShortMonotonic
                | Shape::JournalShortDelta
                | Shape::JournalWithUnit
                | Shape::JournalJson
                | Shape::JournalJsonPretty
                | Shape::JournalJsonSse
                | Shape::JournalJsonSeq
                | Shape::JournalVerbose
                | Shape::JournalExport
                | Shape::Loki
                | Shape::Ecs
                | Shape::Otlp
        )
    }
}

impl Record {
    /// An empty record (bare, no time, no text).
    pub fn empty() -> Record {
        Record {
            loc: Loc { source: 0, line: 0 },
            end_line: 0,
            shape: Shape::Bare,
            time: Stamp::default(),
            level: None,
            session: None,
            logger: None,
            host: None,
            ident: None,
            pid: None,
            subagent: None,
            message: String::new(),
            continuation: Vec::new(),
            raw: String::new(),
            shares_line: false,
        }
    }
}

/// Parsed error body: Python-dict repr or JSON inside `📋 Details:`, `Error code: 429 - {...}`,
/// `Retrying API call ... error=...` and similar.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ErrorDetails {
    /// `type` (e.g. `usage_limit_reached`, `rate_limit_error`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub etype: Option<String>,
    /// `code` (string or number rendered as text: `1113`, `insufficient_quota`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_in_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<f64>,
    /// HTTP status when the text said `Error code: NNN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl ErrorDetails {
    /// Account fingerprint (`plan_type` + `resets_at`) when both parts are present.
    pub fn fingerprint(&self) -> Option<String> {
        match (&self.plan_type, self.resets_at) {
            (Some(p), Some(r)) => Some(format!("{p}@{r:.0}")),
            (Some(p), None) => Some(p.clone()),
            _ => None,
        }
    }
}

/// The typed meaning of a record. Unknown messages become `Other`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// `API call failed (attempt k/N) ...` (log WARNING) or `⚠️  API call failed (attempt k/N): T [HTTP s]`
    /// (console, with its detail lines folded in), or `Invalid API response (attempt k/N)`.
    AttemptFailed {
        attempt: u32,
        max: u32,
        error_type: Option<String>,
        status: Option<u16>,
        provider: Option<String>,
        model: Option<String>,
        base_url: Option<String>,
        thread: Option<String>,
        summary: Option<String>,
        details: Option<Box<ErrorDetails>>,
    },
    /// `Streaming failed before delivery: Error code: 429 - {...}` (one per failed API call, from
    /// the `_call` worker thread; carries the full body).
    StreamFailed {
        status: Option<u16>,
        details: Option<Box<ErrorDetails>>,
        text: String,
    },
    /// A standalone `📋 Details: {...}` line that could not be joined to an attempt.
    Details { details: Box<ErrorDetails> },
    /// `Retrying API call in Xs (attempt k/N)`, `⏱️ Rate limited. Waiting Xs (attempt k/N)`,
    /// `⏳ Retrying in Xs (attempt k/N)`.
    RetryScheduled {
        wait_s: f64,
        attempt: Option<u32>,
        max: Option<u32>,
        policy: Option<String>,
        details: Option<Box<ErrorDetails>>,
        reset_hint: Option<String>,
    },
    /// `API call failed after N retries`, `❌ Rate limited after N retries`, `❌ API failed after ...`,
    /// `❌ Max retries (N) exceeded ...`, `❌ All API retries exhausted`, `❌ Billing or credits exhausted`.
    TerminalFailure {
        retries: Option<u32>,
        summary: Option<String>,
        status: Option<u16>,
        provider: Option<String>,
        model: Option<String>,
    },
    /// `Non-retryable client error: ...` / `❌ Non-retryable error (HTTP s)`.
    NonRetryable {
        status: Option<u16>,
        text: String,
        details: Option<Box<ErrorDetails>>,
    },
    /// `API call #N: model=... provider=...` or `⏱️  API call completed in Xs`.
    Success {
        call: Option<u32>,
        model: Option<String>,
        provider: Option<String>,
    },
    /// `Fallback activated: old → new (provider)` (also `->`).
    FallbackActivated {
        from_model: String,
        to_model: String,
        to_provider: Option<String>,
    },
    /// Console notices `⚠️ Model fallback: ...` / `🔄 Primary model failed — switching to fallback: ...`.
    FallbackNotice {
        from_model: Option<String>,
        from_provider: Option<String>,
        to_model: Option<String>,
        to_provider: Option<String>,
        reason: Option<String>,
    },
    /// Status lines that announce leaving for the fallback chain: `... — switching to fallback provider...`,
    /// `... — trying fallback...`. `reason` is the wording before the dash.
    FallbackSwitching { reason: String },
    /// gateway `Fallback provider resolved: P model=M`.
    FallbackResolved {
        provider: String,
        model: Option<String>,
    },
    /// `Fallback to X failed: ...`, `Failed to activate fallback X: ...`.
    FallbackFailed { target: String, text: String },
    /// `Fallback skip: ...`; `same_backend` for the same-backend guard.
    FallbackSkip { target: String, same_backend: bool },
    /// `Fallback to P/M: clearing primary credential pool (pool_provider=X)`.
    FallbackPoolCleared {
        provider: String,
        model: Option<String>,
        pool_provider: Option<String>,
    },
    /// `Fallback to P/M: attached fallback credential pool`.
    FallbackPoolAttached {
        provider: String,
        model: Option<String>,
    },
    /// `✅ Primary model restored: M via P; ...` or `Primary runtime restored for new turn: M (P)`.
    PrimaryRestored {
        model: String,
        provider: Option<String>,
        console: bool,
    },
    /// `credential pool: marking L exhausted (status=S), rotating` / `marking L DEAD (...)`.
    PoolMarked {
        label: String,
        status: Option<u16>,
        dead: bool,
        reason: Option<String>,
    },
    /// `credential pool: rotated to L`.
    PoolRotated { to: String },
    /// `Credential S (rate limit) — rotated to pool entry ID` and the billing / pre-exhausted /
    /// auth-refresh-failed variants. `cause` is the parenthesised text.
    PoolRecoveryRotated {
        status: Option<u16>,
        cause: String,
        to_id: String,
    },
    /// `Credential already exhausted (last_status=...) — rotating immediately instead of retrying`.
    PoolAlreadyExhausted { last_status: String },
    /// `credential pool: no available entries (all exhausted or empty)`.
    PoolNoAvailable,
    /// `Credential pool provider mismatch: pool=P, agent=Q — skipping pool mutation`.
    PoolProviderMismatch { pool: String, agent: String },
    /// `credential pool: failed credential identity matched no P entry ...`.
    PoolIdentityNoMatch { provider: String },
    /// `credential pool: rotation returned the just-marked entry L ...`.
    PoolRotationReturnedSame { label: String },
    /// `credential pool: L unavailable for model M; other models stay available`.
    PoolModelCooldown { label: String, model: String },
    /// `Restore re-selected pool entry ID (P)` / `Restore skipped pool entry ...`.
    RestorePoolEntry {
        entry: String,
        provider: Option<String>,
        skipped: bool,
    },
    /// Structured `{"event":"profile_rotation", ...}` line (seed 003 proposal).
    ProfileRotation {
        provider: Option<String>,
        from: Option<String>,
        to: Option<String>,
        reason: Option<String>,
        attempt: Option<u32>,
        max: Option<u32>,
        remaining: Option<u32>,
    },
    /// gateway `inbound message: platform=P user=U chat=C msg=...`.
    GatewayInbound {
        platform: Option<String>,
        user: Option<String>,
        chat: Option<String>,
    },
    /// gateway `response ready: platform=P chat=C [session=S] time=Xs api_calls=N ...`.
    GatewayResponse {
        platform: Option<String>,
        chat: Option<String>,
        session: Option<String>,
        api_calls: Option<u32>,
    },
    /// gateway `Primary provider rate-limited (429): X — trying fallback` /
    /// `Primary provider auth failed: X — trying fallback`.
    GatewayPrimaryFailed { auth: bool, text: String },
    /// `conversation turn: session=S model=M provider=P platform=X ...`.
    TurnStart {
        session: Option<String>,
        model: Option<String>,
        provider: Option<String>,
        platform: Option<String>,
    },
    /// `Turn ended: reason=R ... session=S`.
    TurnEnd {
        reason: Option<String>,
        session: Option<String>,
    },
    /// `OpenAI client created (reason, shared=b) thread=T provider=P base_url=U model=M`.
    ClientCreated {
        reason: String,
        thread: Option<String>,
        provider: Option<String>,
        base_url: Option<String>,
        model: Option<String>,
    },
    /// `Rate-limit backoff level ...`, `Primary P rate-limited until T; staying on fallback ...`.
    CooldownNotice { text: String },
    /// `resolve_provider_client: named custom provider 'P' has no resolvable api_key — request
    /// will be sent with placeholder no-key-required ...`: the next call carries no credential.
    PlaceholderKey { provider: Option<String> },
    /// `💡 Your API key was rejected by the provider`, `🔐 ... authentication failed ...`.
    AuthRejectedNotice { text: String },
    /// A sanitized condensed line such as `zai returned 429 code=1113 "Insufficient balance"`.
    ProviderError {
        provider: Option<String>,
        status: Option<u16>,
        details: Option<Box<ErrorDetails>>,
        text: String,
    },
    /// `Empty response (no content or reasoning) — retry N/3` (log) or `⚠️ Empty response from
    /// model — retrying (N/3)` (console): the call answered with nothing and is retried.
    EmptyResponseRetry {
        attempt: Option<u32>,
        max: Option<u32>,
    },
    /// `Upstream provider P rate-limited via aggregator — skipping credential rotation, deferring
    /// to fallback chain` (or `Upstream aggregator 429 (provider unknown) ...`): a 429 the pool
    /// does not rotate on, on purpose.
    AggregatorRateLimitSkipRotation { provider: Option<String> },
    /// A credential refreshed after a 401 (`🔐 P auth refreshed after 401. Retrying request...`,
    /// `Credential auth failure — refreshed pool entry ID`, `Copilot credentials refreshed ...`).
    CredentialRefreshed {
        provider: Option<String>,
        entry: Option<String>,
    },
    /// Restoring the primary runtime or its pool failed (`Failed to restore primary runtime`,
    /// `Restore could not reload primary credential pool for P`, `switch_model: credential pool
    /// reload failed ...`).
    RestoreFailed { text: String },
    /// Other request-path lines about a request's fate, by subtype (`what`): see
    /// `classify::notices`.
    RequestNotice { what: &'static str, text: String },
    /// A side client's line (auxiliary, vision, title, compression, messaging adapter): never
    /// part of the request's pool model.
    SideClient { client: &'static str, text: String },
    /// A Hermes template of the census with no bearing on request forensics (its id).
    Known { template: &'static str },
    /// A record from a request-path Hermes logger that matches no census template.
    Unrecognized,
    /// Anything else.
    Other,
}

impl EventKind {
    /// The snake_case kind name used in NDJSON output.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::AttemptFailed { .. } => "attempt_failed",
            EventKind::StreamFailed { .. } => "stream_failed",
            EventKind::Details { .. } => "details",
            EventKind::RetryScheduled { .. } => "retry_scheduled",
            EventKind::TerminalFailure { .. } => "terminal_failure",
            EventKind::NonRetryable { .. } => "non_retryable",
            EventKind::Success { .. } => "success",
            EventKind::FallbackActivated { .. } => "fallback_activated",
            EventKind::FallbackNotice { .. } => "fallback_notice",
            EventKind::FallbackSwitching { .. } => "fallback_switching",
            EventKind::FallbackResolved { .. } => "fallback_resolved",
            EventKind::FallbackFailed { .. } => "fallback_failed",
            EventKind::FallbackSkip { .. } => "fallback_skip",
            EventKind::FallbackPoolCleared { .. } => "fallback_pool_cleared",
            EventKind::FallbackPoolAttached { .. } => "fallback_pool_attached",
            EventKind::PrimaryRestored { .. } => "primary_restored",
            EventKind::PoolMarked { .. } => "pool_marked",
            EventKind::PoolRotated { .. } => "pool_rotated",
            EventKind::PoolRecoveryRotated { .. } => "pool_recovery_rotated",
            EventKind::PoolAlreadyExhausted { .. } => "pool_already_exhausted",
            EventKind::PoolNoAvailable => "pool_no_available",
            EventKind::PoolProviderMismatch { .. } => "pool_provider_mismatch",
            EventKind::PoolIdentityNoMatch { .. } => "pool_identity_no_match",
            EventKind::PoolRotationReturnedSame { .. } => "pool_rotation_returned_same",
            EventKind::PoolModelCooldown { .. } => "pool_model_cooldown",
            EventKind::RestorePoolEntry { .. } => "restore_pool_entry",
            EventKind::ProfileRotation { .. } => "profile_rotation",
            EventKind::GatewayInbound { .. } => "gateway_inbound",
            EventKind::GatewayResponse { .. } => "gateway_response",
            EventKind::GatewayPrimaryFailed { .. } => "gateway_primary_failed",
            EventKind::TurnStart { .. } => "turn_start",
            EventKind::TurnEnd { .. } => "turn_end",
            EventKind::ClientCreated { .. } => "client_created",
            EventKind::CooldownNotice { .. } => "cooldown_notice",
            EventKind::PlaceholderKey { .. } => "placeholder_key",
            EventKind::AuthRejectedNotice { .. } => "auth_rejected_notice",
            EventKind::ProviderError { .. } => "provider_error",
            EventKind::EmptyResponseRetry { .. } => "empty_response_retry",
            EventKind::AggregatorRateLimitSkipRotation { .. } => {
                "aggregator_rate_limit_skip_rotation"
            }
            EventKind::CredentialRefreshed { .. } => "credential_refreshed",
            EventKind::RestoreFailed { .. } => "restore_failed",
            EventKind::RequestNotice { .. } => "request_notice",
            EventKind::SideClient { .. } => "side_client",
            EventKind::Known { .. } => "known",
            EventKind::Unrecognized => "unrecognized",
            EventKind::Other => "other",
        }
    }

    /// A line that says the credential changed: `rotated to L`, `Credential ... rotated to pool
    /// entry ID`, or a structured `profile_rotation` event.
    pub fn is_rotation(&self) -> bool {
        matches!(
            self,
            EventKind::PoolRotated { .. }
                | EventKind::PoolRecoveryRotated { .. }
                | EventKind::ProfileRotation { .. }
        )
    }

    /// The record says something about a request's fate: every kind except `Other`, `Known`,
    /// `Unrecognized` and a side client's line.
    pub fn is_request_event(&self) -> bool {
        !matches!(
            self,
            EventKind::Other
                | EventKind::Known { .. }
                | EventKind::Unrecognized
                | EventKind::SideClient { .. }
        )
    }
}

/// A classified record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub record: Record,
    pub kind: EventKind,
}

/// Severity of a rule / finding, ordered `Info < Low < Medium < High`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One log line a finding rests on. `text` is already redacted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Evidence {
    /// Display name of the source (path as given, or `<stdin>`).
    pub source: String,
    pub line: u32,
    pub text: String,
}

/// A rule violation with everything needed to explain it. All strings are redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Instant of the finding (the decisive event), when known.
    pub time: Option<DateTime<Utc>>,
    /// The time as written in the log when no instant is known (e.g. `18:41:08`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_text: Option<String>,
    /// Request id (see [`RequestTimeline::id`]).
    pub request: Option<String>,
    /// Host that emitted the request, when the input names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub provider: Option<String>,
    pub profile: Option<String>,
    pub evidence: Vec<Evidence>,
    /// Confidence notes, inferred facts, times that matter.
    pub notes: Vec<String>,
}

/// Per-source accounting: every line is either used or counted as unrecognized.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct SourceSummary {
    pub name: String,
    /// Detected or forced format (e.g. `agent-log`, `journal-short-iso`, `auth-json`).
    pub format: String,
    pub lines_read: u64,
    /// Lines that belong to a record classified as a request event (not `Other`).
    pub lines_used: u64,
    /// Lines that belong to a recognised record classified as `Other`.
    pub lines_other: u64,
    /// Lines that matched no shape, and records of a request-path Hermes logger that match no
    /// template of the census.
    pub lines_unrecognized: u64,
    pub events: u64,
}

/// Header numbers of a report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Summary {
    pub sources: Vec<SourceSummary>,
    /// Hosts whose lines the input holds (journal hostname), in name order; absent when no
    /// line names a host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub requests: u64,
    pub attempts: u64,
    /// Rotations: the rotation lines, plus those inferred without one (see `rotations_inferred`).
    pub rotations: u64,
    /// Of `rotations`, those no rotation line printed: a client rebuilt for
    /// `credential_rotation`, or a change of profile between two calls (`silent-rotation`).
    pub rotations_inferred: u64,
    pub fallbacks: u64,
    pub findings_by_severity: FindingCounts,
    /// Hermes version whose cooldown rules were applied.
    pub hermes_version: String,
    /// The Hermes release the logs show, and whose rules were applied.
    pub hermes_release: HermesRelease,
    /// Providers and their pool sizes as known from auth snapshots / logs.
    pub pools: Vec<PoolSummary>,
    /// Each auth snapshot, with the time it speaks for and how that was decided.
    pub snapshots: Vec<SnapshotSummary>,
    /// Where snapshots and the log agree or disagree about marks.
    pub snapshot_notes: Vec<String>,
    /// Entries whose state changed between an earlier and a later snapshot.
    pub snapshot_changes: Vec<SnapshotChange>,
    /// Warnings about the input (mixed zones, missing dates, ...).
    pub warnings: Vec<String>,
    /// False when `--no-redact` was given.
    pub redacted: bool,
    /// What a Hermes keeping the rotation contract would have saved (see [`Counterfactual`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

/// Totals of the per-request counterfactual replays.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Impact {
    /// Requests that failed (or fell back) in the logs.
    pub failed_requests: u64,
    /// Failed requests the replay serves from the primary pool.
    pub avoidable_failures: u64,
    /// Fallbacks the replay does without (a profile of the pool serves).
    pub avoidable_fallbacks: u64,
    pub wasted_attempts: u64,
    pub wasted_wait_s: f64,
    /// Requests whose replay depends on an answer the logs do not show.
    pub undecided: u64,
    /// Profiles that would have served avoidable failures, with counts (label order).
    pub served_by: Vec<(String, u64)>,
}

/// A request replayed under the rotation contract: rotate to an untried healthy profile on a
/// quota or rate-limit answer, never retry a cooled profile, a retry budget per profile,
/// rotation capped by the pool size, fall back only when the pool is empty.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Counterfactual {
    /// `served`, `failed`, or `unknown` when the replay reaches a profile whose answer the logs
    /// and snapshots do not show.
    pub outcome: String,
    pub served_by: Option<String>,
    /// Calls the replay makes.
    pub attempts: u32,
    /// Calls Hermes made that the contract would not have made (retries on a cooled profile or
    /// after a quota / rate-limit answer).
    pub wasted_attempts: u32,
    /// Seconds Hermes waited before those calls.
    pub wasted_wait_s: f64,
    pub fallback_needed: bool,
    /// How each step was known (answers seen, snapshots, unknowns).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct FindingCounts {
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct PoolSummary {
    pub provider: String,
    /// Every member: labelled profiles and accounts known only by their fingerprint.
    pub profiles: Vec<String>,
    /// The members of `profiles` known only by an account fingerprint in error bodies (no
    /// label names them).
    pub by_fingerprint: Vec<String>,
    /// Where the pool is known from (`auth.json`, `hermes auth list`, `log lines`).
    pub known_from: String,
}

/// The Hermes release that wrote the input, as far as the logs show it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct HermesRelease {
    /// Oldest and newest release the log shapes admit (None: not shown / open-ended).
    pub min: Option<String>,
    pub max: Option<String>,
    /// The line shapes that decided it, each with the releases it admits.
    pub basis: Vec<String>,
    /// The release whose rules were applied.
    pub applied: String,
    /// `detected` (from the logs), `flag` (--hermes-version) or `default` (nothing shown).
    pub source: String,
    /// Per host, when the hosts of the input show different releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostRelease>,
}

/// The release range one host's lines show.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct HostRelease {
    pub host: String,
    pub min: Option<String>,
    pub max: Option<String>,
}

/// An auth snapshot given as input: the moment it speaks for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct SnapshotSummary {
    pub source: String,
    /// `auth.json` or `hermes auth list`.
    pub kind: String,
    /// The time it speaks for (UTC), when known.
    pub time: Option<String>,
    /// How that time was decided.
    pub basis: String,
    /// Where it stands against the log (`before the log`, `after the log`, ...).
    pub relation: String,
}

/// An entry whose state differs between two snapshots.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct SnapshotChange {
    pub provider: String,
    pub profile: String,
    pub before: String,
    pub after: String,
    /// The status time the later snapshot records.
    pub at: Option<String>,
    pub from_snapshot: String,
    pub to_snapshot: String,
    /// `source:line` of the log line that made the change; None when no line did.
    pub evidence: Option<String>,
}

/// One line of a request's timeline (`--timeline`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    pub time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_text: Option<String>,
    pub source: String,
    pub line: u32,
    /// `attempt`, `rotation`, `wait`, `fallback`, `restore`, `mark`, `success`, `failure`, ...
    pub what: String,
    pub profile: Option<String>,
    /// How the profile was known: `label`, `rotation line`, `fingerprint`, `auth.json`, `unknown`.
    pub profile_basis: Option<String>,
    /// Short description (redacted).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RequestTimeline {
    pub id: String,
    /// Host that emitted the request, when the input names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub provider: Option<String>,
    pub outcome: String,
    pub entries: Vec<TimelineEntry>,
    /// The request replayed under the rotation contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<Counterfactual>,
}

/// Static description of a rule (for `rules`, `explain`, reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
    /// Full documentation (Markdown): what it detects, why it matters, example, what does not
    /// trigger it.
    pub doc: &'static str,
}

/// Everything a report format renders. Formats never see parser types.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub tool_version: &'static str,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// Filled only with `--timeline` (text/markdown) or always for json consumers that ask.
    pub timelines: Vec<RequestTimeline>,
}

/// Text that tells the operator a credential is at fault: a gateway auth-failure line, a
/// `💡 Your API key was rejected` notice, standalone or under a console error block.
pub fn auth_blame_text(ev: &Event) -> Option<&str> {
    match &ev.kind {
        EventKind::GatewayPrimaryFailed { auth: true, text } => Some(text),
        EventKind::AuthRejectedNotice { text } => Some(text),
        _ => ev
            .record
            .continuation
            .iter()
            .map(|(_, t)| t.as_str())
            .find(|t| t.contains("API key was rejected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    #[test]
    fn elapsed_is_chronos_difference() {
        let mut m = crate::parse::mutate::Mutator::new(0x2545_F491_4F6C_DD1D, &[]);
        let mut next = || m.next_u64();
        let base = 1_795_132_800_000_000i64;
        for _ in 0..100_000 {
            let a = base + (next() % 400_000_000_000) as i64;
            let b = match next() % 3 {
                0 => a + (next() % 2_000_000) as i64 - 1_000_000,
                1 => a + (next() % 200_000_000_000) as i64 - 100_000_000_000,
                _ => base + (next() % 400_000_000_000) as i64,
            };
            let (Some(a), Some(b)) = (
                DateTime::from_timestamp_micros(a),
                DateTime::from_timestamp_micros(b),
            ) else {
                continue;
            };
            assert_eq!(elapsed(b, a), b - a, "{a} {b}");
        }
        // A leap second (nanoseconds past 1e9) on either side.
        let day = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap_or_default();
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap_or_default();
        let before = NaiveTime::from_hms_milli_opt(23, 59, 58, 250).unwrap_or_default();
        let (l, e) = (day.and_time(leap).and_utc(), day.and_time(before).and_utc());
        assert_eq!(elapsed(l, e), l - e);
        assert_eq!(elapsed(e, l), e - l);
    }
}

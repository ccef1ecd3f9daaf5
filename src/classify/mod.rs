//! Message classifier: one file per family (attempts, pool, fallback, gateway, turn, notices),
//! side clients told apart ([`side`]), unmatched Hermes lines looked up in the [`census`].
//! Turns a [`Record`]'s message (and its continuation lines) into an [`EventKind`].
//!
//! Messages arrive with their shape prefixes removed but console glyphs (⚠️ ⏱️ ❌ ...) still in
//! place, sometimes stripped by reporters, sometimes with markdown-escaped backticks. The
//! classifier normalises that once ([`clean_message`]), rejects the bulk of unrelated lines with
//! one literal scan, and then asks each family in a fixed order.

mod anchors;
mod attempts;
pub mod census;
pub mod details;
mod fallback;
mod fragments;
mod gateway;
mod notices;
mod pool;
pub mod quota;
pub mod side;
mod turn;

use crate::model::{EventKind, Record};
use aho_corasick::{packed, AhoCorasick, Input, MatchKind, Span};
use memchr::memmem::Finder;
use std::borrow::Cow;
use std::sync::LazyLock;

pub use details::{parse_details, status_from_text};

/// Gate literals: every message a family recognises contains one of these (audited against
/// each template the families match; the family and the condition that needs the literal are
/// noted). Longer literals keep common non-event lines (`check_fn ... returned False`, `search
/// returned N results`, `... provider=...`) out of classification.
///
/// None holds a backslash or a backtick, so a literal found in the cleaned message is also in
/// the raw one ([`may_be_event`]).
pub const GATE_WORDS: &[&str] = &[
    // gateway
    "inbound message: ",
    "response ready: ",
    "Primary provider auth failed",
    // gateway `Primary provider rate-limited`, turn `Primary P rate-limited until`,
    // attempts `The model provider is rate-limiting requests`
    "rate-limit",
    // fallback: every fallback-family line (`Fallback ...`, `Model fallback: `, `Failed to
    // activate fallback `, `switching to fallback`, `trying fallback`), notices about it
    "allback",
    // `Primary model restored: `, `Primary runtime restored ...`, `Restore re-selected /
    // skipped pool entry `, restore failures
    "estore",
    // attempts: `API call failed (attempt `, `API call failed after `
    "API call failed ",
    // `Retrying API call in `, `Retrying in Xs`, `retrying in Xs`, `N retries`, `Max retries
    // (N) exceeded ...`, `All API retries exhausted`, `... failed after retries`, payload
    // retries
    "retr",
    "Retr",
    "Streaming failed ",
    "Non-retryable ",
    // `Billing or credits exhausted`, `credits ▸ ...`, remediation hints
    "credits",
    "Invalid API response ",
    // console waits: `Waiting Xs`, `rebuilt client, waiting`
    "Waiting ",
    "rebuilt client, waiting ",
    // successes, detail lines, `Making API call #`, `Outer loop error in API call #`
    "API call #",
    "API call completed in ",
    "Details:",
    // sanitized `<provider> returned <4xx|5xx>` (see [`gate_hit`]: a status must follow)
    RETURNED,
    // pool: `credential pool: ...`, `switch_model: credential pool reload failed`, cron's
    // `loaded credential pool`
    "credential pool",
    "Credential pool provider mismatch: ",
    "Credential already exhausted (last_status=",
    // `Credential S (cause) — rotated to pool entry `
    "rotated to pool entry ",
    "profile_rotation",
    // turn
    "will be sent with placeholder",
    "conversation turn: ",
    "Turn ended",
    "OpenAI client created (",
    "Rate-limit backoff level ",
    "Rate limit resets in ",
    // `Your API key was rejected by the provider`, `... OAuth token was rejected (HTTP 401)`
    "was rejected",
    // `Provider authentication failed`, `... 401 — ... authentication failed`, remediation hints that
    // say to (re-)authenticate
    "authenticat",
    // fragments: the resolver's `... is set in config.yaml but no API key was found.`, a bare
    // `Error code: NNN - {...}`
    "no API key was found",
    "Error code: ",
    // the Desktop app's `── Hermes error details ──` receipt
    "Hermes error details",
    // notices (see `notices::NOTICES`)
    "mpty response",
    "refresh",
    "superseded",
    "Killing connection",
    "Outer loop error",
    "ompression",
    "Compressed ",
    "Context reduced",
    "upstream capacity",
    "rate limit recorded",
    "aggregator",
    "entitlement-shaped",
    "credentials",
    // remediation hints
    "Most likely",
    "hermes doctor",
    "Try /new",
    "Interrupt",
    "dead connection",
    "Transient agent failure",
    "Stream kept dropping",
    "Stream interrupted",
    "no visible response",
    " attempts.",
    "no content after",
    "Reasoning exhausted",
    "Conversation completed",
    "API Calls: ",
    "Codex response status",
    "resolve_provider_client: ",
];

const RETURNED: &str = "returned ";

/// A set of literals searched in one pass: by four-byte anchors ([`anchors::Anchored`]) when
/// every literal has four bytes, else the SIMD packed searcher (Teddy) where the CPU has one,
/// else an Aho-Corasick automaton. Leftmost-first, so a match exists exactly when some literal
/// occurs, and comes with its literal and end.
pub(crate) enum LiteralSet {
    Anchored(anchors::Anchored),
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl LiteralSet {
    /// Panics only on a set the automaton cannot hold (far larger than any static one here).
    pub(crate) fn new<W: AsRef<[u8]>>(words: &[W]) -> Self {
        if let Some(a) = anchors::Anchored::new(words) {
            return LiteralSet::Anchored(a);
        }
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(words)
            .build();
        match packed {
            Some(s) => LiteralSet::Packed(s),
            None => LiteralSet::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(words)
                    .expect("static literal set"),
            ),
        }
    }

    /// The leftmost literal in `hay[at..]`: its index in the set, its start and its end.
    pub(crate) fn find(&self, hay: &[u8], at: usize) -> Option<(usize, usize, usize)> {
        let at = at.min(hay.len());
        let m = match self {
            LiteralSet::Anchored(a) => return a.find(hay, at),
            LiteralSet::Packed(s) => s.find_in(hay, Span::from(at..hay.len()))?,
            LiteralSet::Automaton(ac) => ac.find(Input::new(hay).range(at..))?,
        };
        Some((m.pattern().as_usize(), m.start(), m.end()))
    }

    /// Whether any literal occurs in `hay`.
    pub(crate) fn is_in(&self, hay: &[u8]) -> bool {
        self.find(hay, 0).is_some()
    }
}

/// One scan over [`GATE_WORDS`], so `Other` lines cost one pass.
static PREFILTER: LazyLock<LiteralSet> = LazyLock::new(|| LiteralSet::new(GATE_WORDS));

/// A substring search built once: `str::find(&str)` / `contains(&str)` set up a new searcher on
/// every call, and the searches every candidate message goes through add up.
pub(crate) struct Needle(LazyLock<Finder<'static>>);

impl Needle {
    pub(crate) const fn new(init: fn() -> Finder<'static>) -> Self {
        Needle(LazyLock::new(init))
    }

    /// Byte offset of the first occurrence in `hay` (a char boundary, as the needle is text).
    pub(crate) fn find(&self, hay: &str) -> Option<usize> {
        self.0.find(hay.as_bytes())
    }

    pub(crate) fn is_in(&self, hay: &str) -> bool {
        self.find(hay).is_some()
    }
}

static ESCAPED_BACKTICK: Needle = Needle::new(|| Finder::new("\\`"));

/// Classify a record. Never panics. A side client's line is `SideClient`; a line no family
/// recognises is `Known` when it is a census template, `Unrecognized` when it comes from a
/// request-path Hermes logger and is none, `Other` otherwise.
pub fn classify(record: &Record) -> EventKind {
    classify_with(record, None, request_path(record))
}

/// [`classify`] for a record [`may_be_event`] accepted: the same result without scanning for
/// the gate words again (the gate only skips messages no family recognises).
pub fn classify_gated(record: &Record) -> EventKind {
    classify_with(record, Some(true), request_path(record))
}

/// [`classify`] for a structured record [`wants`] accepted (the parser's filter): the gate
/// words are not searched again. A record was wanted for a gate word, or (of a request-path
/// logger) for matching no census template; asking the families about the latter changes
/// nothing, as none recognises a message without a gate word.
pub fn classify_wanted(record: &Record) -> EventKind {
    classify_with(record, Some(true), request_path(record))
}

/// Whether the record comes from a request-path logger of the census.
fn request_path(record: &Record) -> bool {
    record
        .logger
        .as_deref()
        .is_some_and(census::is_request_path_logger)
}

/// Classify with what is already known: the gate's answer for the message, if searched, and
/// whether the logger is a request-path one.
fn classify_with(record: &Record, gate: Option<bool>, request_path: bool) -> EventKind {
    let text = clean_message(&record.message);
    let msg = text.as_ref();
    if msg.is_empty() {
        return EventKind::Other;
    }
    let event = if gate.unwrap_or_else(|| passes_gate(msg)) {
        families(msg, record)
    } else {
        None
    };
    settle(event, msg, record, request_path)
}

/// Ask each family in turn about a cleaned, non-empty message.
fn families(msg: &str, record: &Record) -> Option<EventKind> {
    gateway::classify(msg)
        .or_else(|| fallback::classify(msg))
        .or_else(|| attempts::classify(msg, record))
        .or_else(|| pool::classify(msg, record))
        .or_else(|| turn::classify(msg))
        .or_else(|| fragments::classify(msg, record))
        .or_else(|| notices::classify(msg, record))
}

/// A side client's line is never a request event; a line no family took is looked up in the
/// census.
fn settle(event: Option<EventKind>, msg: &str, record: &Record, request_path: bool) -> EventKind {
    let logger = record.logger.as_deref();
    if let Some(client) = side::side_client(logger, msg) {
        return EventKind::SideClient {
            client,
            text: msg.to_string(),
        };
    }
    if let Some(event) = event {
        return event;
    }
    let debug = record.level == Some(crate::model::Level::Debug);
    match logger {
        // The census holds INFO and above: a DEBUG record is not looked up.
        Some(_) if debug => EventKind::Other,
        Some(l) if request_path => match census::matching(Some(l), msg) {
            Some(t) => EventKind::Known { template: t.id },
            None => EventKind::Unrecognized,
        },
        Some(_) => EventKind::Other,
        None => match census::matching(None, msg) {
            Some(t) => EventKind::Known { template: t.id },
            None => EventKind::Other,
        },
    }
}

/// False when [`classify`] returns `EventKind::Other` for `record` whatever its continuation
/// lines: its first line has none of the words every request-event template contains. Cheaper
/// than classifying (one literal scan, no allocation).
///
/// The scan runs on the raw message, not the cleaned one [`classify`] scans: cleaning trims
/// whitespace and glyphs from the ends and turns `` \` `` into `` ` ``, and no gate word holds
/// a backslash or backtick, so a word found in the cleaned message is also in the raw one.
pub fn may_be_event(record: &Record) -> bool {
    passes_gate(&record.message)
}

/// Records the pipeline classifies: those that may be request events (a gate word), a side
/// client's logged lines aside, and those of a request-path logger that match no census
/// template (counted as unrecognized). A request-path record without a gate word that is a
/// census template (or a side client's line, or no text) is `Known` (or `SideClient`, or
/// `Other`) whatever its continuation lines, which settling it does not read.
pub fn wants(record: &Record) -> bool {
    wants_message(record.logger.as_deref(), &record.message)
}

/// [`wants`] on the two fields it reads: the record's logger and its message (which lines
/// that join the record later never change).
pub fn wants_message(logger: Option<&str>, message: &str) -> bool {
    match logger {
        Some(l) if census::is_request_path_logger(l) => {
            passes_gate(message) || !settles_known(l, message)
        }
        _ => passes_gate(message) && !side_message(logger, message),
    }
}

/// Whether [`settle`] makes a record of request-path logger `logger` with no gate word in
/// `message` neither a request event nor unrecognized: no text, a side client's line or a
/// census template.
fn settles_known(logger: &str, message: &str) -> bool {
    let text = clean_message(message);
    let msg = text.as_ref();
    msg.is_empty()
        || side::side_client(Some(logger), msg).is_some()
        || census::matching(Some(logger), msg).is_some()
}

/// A logged line of a side client: [`classify`] makes it a `SideClient` line whatever its
/// message says (see [`settle`]), so it is neither a request event nor unrecognized.
fn side_message(logger: Option<&str>, message: &str) -> bool {
    logger.is_some_and(|l| {
        side::is_side_logger(l) && side::side_client(Some(l), &clean_message(message)).is_some()
    })
}

/// Whether `text` holds a gate word ([`GATE_WORDS`]) that [`gate_hit`] accepts.
fn passes_gate(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some((word, start, end)) = PREFILTER.find(bytes, at) {
        let word = GATE_WORDS.get(word).copied().unwrap_or("");
        if gate_hit(word, bytes.get(end..).unwrap_or_default()) {
            return true;
        }
        at = start + 1;
    }
    false
}

/// The second check of a gate word found in a message, `after` being the bytes that follow it.
/// `returned ` counts only before a status the provider error pattern accepts (`[45]\d\d`;
/// `\d` being Unicode, a non-ASCII byte counts as a possible digit), so `search returned 5
/// results` and `check_fn ... returned False` stay out. Every other word counts as found.
fn gate_hit(word: &str, after: &[u8]) -> bool {
    if word != RETURNED {
        return true;
    }
    let digit_like = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || !b.is_ascii());
    matches!(after.first(), Some(b'4' | b'5'))
        && digit_like(after.get(1))
        && digit_like(after.get(2))
}

/// The [`quota::FailureClass`] of a failure event (attempt, stream failure, retry with an error
/// body, terminal, non-retryable, sanitized provider error, gateway primary failure); `None` for
/// events that carry no failure.
pub fn event_failure_class(kind: &EventKind) -> Option<quota::FailureClass> {
    use quota::failure_class;
    match kind {
        EventKind::AttemptFailed {
            error_type,
            status,
            summary,
            details,
            ..
        } => Some(failure_class(
            *status,
            error_type.as_deref(),
            details.as_deref(),
            summary.as_deref().unwrap_or(""),
        )),
        EventKind::StreamFailed {
            status,
            details,
            text,
        }
        | EventKind::NonRetryable {
            status,
            details,
            text,
        }
        | EventKind::ProviderError {
            status,
            details,
            text,
            ..
        } => Some(failure_class(*status, None, details.as_deref(), text)),
        EventKind::RetryScheduled {
            details: Some(d), ..
        } => Some(failure_class(d.status, None, Some(d), "")),
        EventKind::TerminalFailure {
            status, summary, ..
        } => Some(failure_class(
            *status,
            None,
            None,
            summary.as_deref().unwrap_or(""),
        )),
        EventKind::GatewayPrimaryFailed { auth, text } => {
            Some(failure_class((!auth).then_some(429), None, None, text))
        }
        _ => None,
    }
}

/// Console glyphs that may lead a message or a detail line.
const GLYPHS: &[char] = &[
    '⚠', '⏱', '⏳', '❌', '🔄', '✅', '🔐', '💡', '🔁', '🗜', '🚫', '🔌', '🌐', '📝', '📋', '💀',
    '🏢', '📊', '💾', '↻', '⚡', '💭', '📐', '🛡', '🎉', '📞', '🔑', '🔕', '\u{FE0F}',
];

/// Trim, drop leading console glyphs (with or without U+FE0F) and undo markdown-escaped
/// backticks (`\``).
pub fn clean_message(message: &str) -> Cow<'_, str> {
    let mut s = trim(message);
    while let Some(rest) = s.strip_prefix(GLYPHS) {
        s = rest.trim_start();
    }
    // Most messages hold no backslash at all: one byte search before the pair search.
    if memchr::memchr(b'\\', s.as_bytes()).is_some() && ESCAPED_BACKTICK.is_in(s) {
        Cow::Owned(s.replace("\\`", "`"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Continuation texts of a record, cleaned like messages, empty lines skipped.
pub(crate) fn continuation(record: &Record) -> impl Iterator<Item = Cow<'_, str>> {
    record
        .continuation
        .iter()
        .map(|(_, t)| clean_message(t))
        .filter(|t| !t.is_empty())
}

/// `s.trim()`, answered without decoding when both end bytes are visible ASCII (most messages
/// and values).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Cut the value of an optional field: trimmed, reporter elisions (`...`, `…`) removed, empty
/// becomes `None`.
pub(crate) fn field(v: &str) -> Option<String> {
    let v = trim(v);
    let v = v
        .strip_suffix("...")
        .or_else(|| v.strip_suffix('…'))
        .map_or(v, str::trim_end);
    (!v.is_empty()).then(|| v.to_string())
}

/// Split `... k1=v1 k2=v2 ...` by the known keys, in their fixed order. A value runs to the next
/// key found (so values may contain spaces, e.g. `thread=Thread-4 (run_agent):140`); the last
/// key's value runs to the end of `text`. Missing keys are skipped.
pub(crate) fn key_values<'a, const N: usize>(
    text: &'a str,
    keys: [&str; N],
) -> [Option<&'a str>; N] {
    let mut starts: [Option<(usize, usize)>; N] = [None; N];
    let mut cursor = 0;
    for (slot, key) in starts.iter_mut().zip(keys) {
        // The first `key=` after the cursor at the start or after a space, found from the `=`
        // signs (keys are words: no space or `=` in them).
        let bytes = text.as_bytes();
        let hay = bytes.get(cursor..).unwrap_or_default();
        let found = memchr::memchr_iter(b'=', hay).find_map(|eq| {
            let at = (cursor + eq)
                .checked_sub(key.len())
                .filter(|&a| a >= cursor)?;
            let before_ok = at == 0 || bytes.get(at - 1) == Some(&b' ');
            (before_ok && bytes.get(at..at + key.len()) == Some(key.as_bytes())).then_some(at)
        });
        if let Some(at) = found {
            *slot = Some((at, at + key.len() + 1));
            cursor = at + key.len() + 1;
        }
    }
    let mut out = [None; N];
    for (idx, slot) in starts.iter().enumerate() {
        if let Some((_, vstart)) = slot {
            let end = starts
                .iter()
                .skip(idx + 1)
                .flatten()
                .map(|(k, _)| *k)
                .next()
                .unwrap_or(text.len());
            out[idx] = text.get(*vstart..end).map(trim);
        }
    }
    out
}

/// `(attempt k/N)` → `(k, N)`.
pub(crate) fn attempt_of(text: &str) -> Option<(u32, u32)> {
    let i = text.find("(attempt ")?;
    let rest = text.get(i + "(attempt ".len()..)?;
    let (k, rest) = rest.split_once('/')?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((k.trim().parse().ok()?, n.parse().ok()?))
}

/// Leading decimal number of `s` (`4.2s` → 4.2, `60` → 60).
pub(crate) fn leading_number(s: &str) -> Option<f64> {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s.get(..end)?.trim_end_matches('.').parse().ok()
}

/// Leading unsigned integer of `s`.
pub(crate) fn leading_u32(s: &str) -> Option<u32> {
    let s = s.trim_start();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.get(..end)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_words_survive_cleaning() {
        // `may_be_event` scans the raw message: sound as long as cleaning cannot create a
        // gate word, i.e. no word holds what cleaning rewrites.
        assert!(GATE_WORDS.len() > 20);
        // The packed (Teddy) search takes at most 64 words.
        assert!(GATE_WORDS.len() <= 64, "{}", GATE_WORDS.len());
        for w in GATE_WORDS {
            assert!(!w.is_empty() && !w.contains(['\\', '`']), "{w:?}");
            assert!(PREFILTER.find(w.as_bytes(), 0).is_some(), "{w:?}");
        }
    }

    #[test]
    fn returned_needs_a_status() {
        assert!(passes_gate("zai returned 429 code=1113"));
        assert!(passes_gate(
            "search returned 5 results, then openrouter returned 503"
        ));
        assert!(passes_gate("x returned 4\u{0664}\u{0664}"));
        assert!(!passes_gate("search returned 5 results"));
        assert!(!passes_gate("search returned 45 results"));
        assert!(!passes_gate("returned 4"));
        assert!(!passes_gate("x returned 42"));
        assert!(!passes_gate("x returned 301"));
        assert!(!passes_gate("check_fn returned False"));
    }

    #[test]
    fn glyphs_and_escapes() {
        assert_eq!(clean_message("⚠️  API call failed"), "API call failed");
        assert_eq!(clean_message("⚠ API call failed"), "API call failed");
        assert_eq!(clean_message("   📋 Details: {}"), "Details: {}");
        assert_eq!(clean_message("Run \\`hermes auth\\`"), "Run `hermes auth`");
        assert_eq!(clean_message("🗜️ Compressed"), "Compressed");
    }

    #[test]
    fn key_value_split() {
        let [t, p, u, m, s] = key_values(
            "error_type=X thread=Thread-4 (run_agent):1407 provider= base_url=http://h/v1 model= summary=HTTP 404: a b=c",
            ["thread", "provider", "base_url", "model", "summary"],
        );
        assert_eq!(t, Some("Thread-4 (run_agent):1407"));
        assert_eq!(p, Some(""));
        assert_eq!(u, Some("http://h/v1"));
        assert_eq!(m, Some(""));
        assert_eq!(s, Some("HTTP 404: a b=c"));
    }

    #[test]
    fn small_helpers() {
        assert_eq!(attempt_of("x (attempt 2/3) y"), Some((2, 3)));
        assert_eq!(attempt_of("x (attempt 2/"), None);
        assert_eq!(
            leading_number("4.207433208483075s (a"),
            Some(4.207433208483075)
        );
        assert_eq!(field(" deepseek ... "), Some("deepseek".into()));
        assert_eq!(field("..."), None);
    }

    #[test]
    fn trim_is_str_trim() {
        let mut m = crate::parse::mutate::Mutator::new(0x5EED_0F71_2100, &['a']);
        let alphabet = [
            'a', ' ', '\t', '\n', '\u{a0}', '\u{3000}', 'é', '~', '!', '\u{7f}', '\0',
        ];
        for len in 0..8 {
            for _ in 0..2_000 {
                let s: String = (0..len)
                    .map(|_| alphabet[m.below(alphabet.len())])
                    .collect();
                assert_eq!(trim(&s), s.trim(), "{s:?}");
            }
        }
    }
}

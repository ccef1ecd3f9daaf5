//! Message classifier: one file per family (attempts, pool, fallback, gateway, turn).
//! Turns a [`Record`]'s message (and its continuation lines) into an [`EventKind`].
//!
//! Messages arrive with their shape prefixes removed but console glyphs (⚠️ ⏱️ ❌ ...) still in
//! place, sometimes stripped by reporters, sometimes with markdown-escaped backticks. The
//! classifier normalises that once ([`clean_message`]), rejects the bulk of unrelated lines with
//! one literal scan, and then asks each family in a fixed order.

mod attempts;
pub mod details;
mod fallback;
mod gateway;
mod pool;
pub mod quota;
mod turn;

use crate::model::{EventKind, Record};
use memchr::memmem::Finder;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

pub use details::{parse_details, status_from_text};

/// Literal prefilter: every classified template contains one of these words. A pure literal
/// alternation compiles to a SIMD multi-substring search, so `Other` lines cost one scan.
static PREFILTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        "API|Retr|retr|Rate|rate|Fallback|fallback|Credential|credential|Primary|primary|\
         Provider|provider|inbound message|response ready|conversation turn|Turn ended|\
         client created|Waiting|Details:|returned |profile_rotation|Exhausted|exhausted|\
         Restore|limit|401|Streaming failed|Non-retryable|Billing|rebuilt client",
    )
    .expect("static regex")
});

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

/// Classify a record. Never panics; unknown messages are `EventKind::Other`.
pub fn classify(record: &Record) -> EventKind {
    let text = clean_message(&record.message);
    let msg = text.as_ref();
    if !candidate(msg) {
        return EventKind::Other;
    }
    gateway::classify(msg)
        .or_else(|| fallback::classify(msg))
        .or_else(|| attempts::classify(msg, record))
        .or_else(|| pool::classify(msg, record))
        .or_else(|| turn::classify(msg))
        .unwrap_or(EventKind::Other)
}

/// False when [`classify`] returns `EventKind::Other` for `record` whatever its continuation
/// lines: its first line has none of the words every request-event template contains. Cheaper
/// than classifying (one literal scan, no allocation).
///
/// The scan runs on the raw message, not the cleaned one [`classify`] scans: cleaning trims
/// whitespace and glyphs from the ends and turns `` \` `` into `` ` ``, and no gate word holds
/// a backslash or backtick, so a word found in the cleaned message is also in the raw one.
pub fn may_be_event(record: &Record) -> bool {
    PREFILTER.is_match(&record.message)
}

/// The gate of [`classify`]: a cleaned message that some family may recognise.
fn candidate(msg: &str) -> bool {
    !msg.is_empty() && PREFILTER.is_match(msg)
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
            details.as_ref(),
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
        } => Some(failure_class(*status, None, details.as_ref(), text)),
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
    '🏢', '📊', '💾', '\u{FE0F}',
];

/// Trim, drop leading console glyphs (with or without U+FE0F) and undo markdown-escaped
/// backticks (`\``).
pub fn clean_message(message: &str) -> Cow<'_, str> {
    let mut s = message.trim();
    while let Some(rest) = s.strip_prefix(GLYPHS) {
        s = rest.trim_start();
    }
    if ESCAPED_BACKTICK.is_in(s) {
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

/// Cut the value of an optional field: trimmed, reporter elisions (`...`, `…`) removed, empty
/// becomes `None`.
pub(crate) fn field(v: &str) -> Option<String> {
    let v = v.trim();
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
        let hay = text.get(cursor..).unwrap_or("");
        let found = hay.match_indices(key).find(|(i, _)| {
            let at = cursor + i;
            let before_ok = at == 0 || text.as_bytes().get(at - 1) == Some(&b' ');
            before_ok && text.as_bytes().get(at + key.len()) == Some(&b'=')
        });
        if let Some((i, _)) = found {
            let at = cursor + i;
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
            out[idx] = text.get(*vstart..end).map(str::trim);
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
        let words: Vec<&str> = PREFILTER.as_str().split('|').collect();
        assert!(words.len() > 20);
        for w in words {
            assert!(
                !w.is_empty() && !w.contains(['\\', '`', '[', '(', '.', '*']),
                "{w:?}"
            );
        }
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
}

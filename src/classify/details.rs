//! Tolerant parser for error bodies: Python-dict repr (`str(body)[:300]`, possibly cut
//! mid-string) and JSON, plus HTTP status extraction from free text.
//!
//! The scanner is flat (no recursion): it walks tokens and remembers the last key it saw, so
//! nesting depth costs nothing and hostile input cannot overflow the stack.

use crate::model::ErrorDetails;
use regex::Regex;
use std::sync::LazyLock;

/// A scalar value seen in the body.
#[derive(Debug, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64, String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Num(_, raw) => raw.clone(),
        }
    }

    /// A number, or a numeric string.
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Num(n, _) => Some(*n),
            Scalar::Str(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        }
    }
}

/// Which [`ErrorDetails`] field a body key fills.
#[derive(Clone, Copy)]
enum Field {
    Type,
    Code,
    Message,
    PlanType,
    ResetsAt,
    ResetsIn,
    RetryAfter,
}

/// Body keys (lowercase) and the field they fill. The first value seen for a field wins.
const KEYS: &[(&str, Field)] = &[
    ("type", Field::Type),
    ("code", Field::Code),
    ("message", Field::Message),
    ("error", Field::Message),
    ("detail", Field::Message),
    ("plan_type", Field::PlanType),
    ("resets_at", Field::ResetsAt),
    ("reset_at", Field::ResetsAt),
    ("retry_until", Field::ResetsAt),
    ("resets_in_seconds", Field::ResetsIn),
    ("retry_after", Field::RetryAfter),
    ("retry_after_seconds", Field::RetryAfter),
];

/// Parse the first `{...}` body in `text` (repr or JSON, possibly truncated). The status is
/// taken from a prefix such as `Error code: 429 - `. Returns `None` when nothing was found.
pub fn parse_details(text: &str) -> Option<Box<ErrorDetails>> {
    let brace = text.find('{');
    let prefix = brace.map_or(text, |i| text.get(..i).unwrap_or(""));
    let mut d = ErrorDetails {
        status: status_from_text(prefix),
        ..ErrorDetails::default()
    };
    if let Some(start) = brace {
        scan(text.get(start..).unwrap_or(""), &mut d);
    }
    (d != ErrorDetails::default()).then(|| Box::new(d))
}

/// Walk the tokens of a body and fill `d`.
fn scan(body: &str, d: &mut ErrorDetails) {
    let bytes = body.as_bytes();
    let mut i = 0;
    // The key whose value comes next (set when a string is followed by `:`).
    let mut key: Option<String> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                let (s, next) = read_string(body, i);
                i = next;
                let j = skip_ws(bytes, i);
                if bytes.get(j) == Some(&b':') {
                    key = Some(s.to_ascii_lowercase());
                    i = j + 1;
                } else {
                    assign(d, key.take(), Scalar::Str(s));
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let raw = body.get(start..i).unwrap_or("");
                match raw.parse::<f64>() {
                    Ok(n) if n.is_finite() => {
                        assign(d, key.take(), Scalar::Num(n, raw.to_string()))
                    }
                    _ => key = None,
                }
            }
            b'{' | b'[' | b',' | b'}' | b']' => {
                // A container value keeps the key out of its children.
                key = None;
                i += 1;
            }
            b if b.is_ascii_alphabetic() => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // True/False/None/null/... are values nobody needs; bare identifiers are
                // tolerated as keys in loose forms (`{type: x}`).
                let word = body.get(start..i).unwrap_or("");
                let j = skip_ws(bytes, i);
                if bytes.get(j) == Some(&b':') && key.is_none() {
                    key = Some(word.to_ascii_lowercase());
                    i = j + 1;
                } else {
                    key = None;
                }
            }
            _ => i += 1,
        }
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Read a quoted string starting at the quote at `start`; returns the unescaped text and the
/// index after the closing quote (or the end of input when truncated).
fn read_string(body: &str, start: usize) -> (String, usize) {
    let bytes = body.as_bytes();
    let quote = bytes[start];
    let mut out = String::new();
    let mut i = start + 1;
    let mut seg = i;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                out.push_str(body.get(seg..i).unwrap_or(""));
                match bytes.get(i + 1) {
                    Some(b'n') => out.push('\n'),
                    Some(b't') => out.push('\t'),
                    Some(&c) if c.is_ascii() => out.push(char::from(c)),
                    _ => {}
                }
                i += 2;
                // Never land inside a multi-byte char.
                while i < bytes.len() && !body.is_char_boundary(i) {
                    i += 1;
                }
                seg = i;
            }
            c if c == quote => {
                out.push_str(body.get(seg..i).unwrap_or(""));
                return (out, i + 1);
            }
            _ => i += 1,
        }
    }
    out.push_str(body.get(seg.min(bytes.len())..).unwrap_or(""));
    (out, bytes.len())
}

fn assign(d: &mut ErrorDetails, key: Option<String>, v: Scalar) {
    let Some(key) = key else { return };
    let Some(&(_, field)) = KEYS.iter().find(|(k, _)| *k == key) else {
        return;
    };
    match field {
        // Anthropic wraps errors as `{'type': 'error', 'error': {'type': 'rate_limit_error'}}`.
        Field::Type if v == Scalar::Str("error".into()) => {}
        Field::Type => set_text(&mut d.etype, &v),
        Field::Code => set_text(&mut d.code, &v),
        Field::Message => set_text(&mut d.message, &v),
        Field::PlanType => set_text(&mut d.plan_type, &v),
        Field::ResetsAt => {
            if d.resets_at.is_none() {
                d.resets_at = match &v {
                    Scalar::Str(s) => epoch_value(s),
                    Scalar::Num(n, _) => Some(normalize_epoch(*n)),
                };
            }
        }
        Field::ResetsIn => d.resets_in_seconds = d.resets_in_seconds.or(v.number()),
        Field::RetryAfter => d.retry_after = d.retry_after.or(v.number()),
    }
}

fn set_text(slot: &mut Option<String>, v: &Scalar) {
    if slot.is_none() {
        let t = v.text();
        if !t.is_empty() {
            *slot = Some(t);
        }
    }
}

/// Epoch milliseconds (> 1e12) become seconds.
fn normalize_epoch(n: f64) -> f64 {
    if n > 1e12 {
        n / 1000.0
    } else {
        n
    }
}

/// A reset time written as epoch seconds, epoch ms or ISO-8601 (`Z` or offset).
pub fn epoch_value(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return n.is_finite().then(|| normalize_epoch(n));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis() as f64 / 1000.0);
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis() as f64 / 1000.0)
}

static STATUS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Error code:|HTTP|status=|status_code=|status:)\s*([1-5]\d\d)\b")
        .expect("static regex")
});

/// HTTP status from `Error code: 429 - ...`, `HTTP 429:`, `[HTTP 429]`, `(status=429)`.
pub fn status_from_text(text: &str) -> Option<u16> {
    STATUS_RE
        .captures(text)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_repr_with_status() {
        let d = parse_details("Error code: 429 - {'error': {'type': 'usage_limit_reached', 'message': 'The usage limit has been reached', 'plan_type': 'team', 'resets_at': 1795460507, 'resets_in_seconds': 14400}}").unwrap();
        assert_eq!(d.status, Some(429));
        assert_eq!(d.etype.as_deref(), Some("usage_limit_reached"));
        assert_eq!(
            d.message.as_deref(),
            Some("The usage limit has been reached")
        );
        assert_eq!(d.plan_type.as_deref(), Some("team"));
        assert_eq!(d.resets_at, Some(1795460507.0));
        assert_eq!(d.resets_in_seconds, Some(14400.0));
        assert_eq!(d.fingerprint().as_deref(), Some("team@1795460507"));
    }

    #[test]
    fn compact_and_numeric_code() {
        let d = parse_details(
            "{'type':'usage_limit_reached','plan_type':'prolite','resets_at':1778538925}",
        )
        .unwrap();
        assert_eq!(d.plan_type.as_deref(), Some("prolite"));
        assert_eq!(d.resets_at, Some(1778538925.0));
        let d =
            parse_details("{'error': {'message': 'Missing Authentication header', 'code': 401}}")
                .unwrap();
        assert_eq!(d.code.as_deref(), Some("401"));
        assert_eq!(d.message.as_deref(), Some("Missing Authentication header"));
        assert_eq!(d.status, None);
    }

    #[test]
    fn json_ms_epoch_and_iso() {
        let d = parse_details(r#"{"error":{"code":"1113","message":"Insufficient balance","resets_at":1778538925000,"retry_after":"30"}}"#).unwrap();
        assert_eq!(d.code.as_deref(), Some("1113"));
        assert_eq!(d.resets_at, Some(1778538925.0));
        assert_eq!(d.retry_after, Some(30.0));
        let d = parse_details(r#"{"reset_at":"2026-05-08T22:41:08Z"}"#).unwrap();
        assert_eq!(d.resets_at, Some(1778280068.0));
    }

    #[test]
    fn anthropic_outer_type_is_skipped() {
        let d = parse_details(
            "{'type': 'error', 'error': {'type': 'rate_limit_error', 'message': 'slow down'}}",
        )
        .unwrap();
        assert_eq!(d.etype.as_deref(), Some("rate_limit_error"));
    }

    #[test]
    fn truncated_repr() {
        let d = parse_details("{'error': {'type': 'usage_limit_reached', 'message': 'The usage limit has been reached for this acco").unwrap();
        assert_eq!(d.etype.as_deref(), Some("usage_limit_reached"));
        assert_eq!(
            d.message.as_deref(),
            Some("The usage limit has been reached for this acco")
        );
        let d = parse_details("{'error': {'message': 'x', 'plan_type': 'te").unwrap();
        assert_eq!(d.plan_type.as_deref(), Some("te"));
    }

    #[test]
    fn escapes_python_literals_and_emoji() {
        let d = parse_details(r#"{'message': 'it\'s ⚠️ "quoted"', 'ok': True, 'x': None, 'type': 'invalid_request_error'}"#).unwrap();
        assert_eq!(d.message.as_deref(), Some("it's ⚠️ \"quoted\""));
        assert_eq!(d.etype.as_deref(), Some("invalid_request_error"));
        // A lone trailing backslash inside a multi-byte sequence must not panic.
        assert!(parse_details("{'message': 'ab\\é").is_some());
    }

    #[test]
    fn hostile_nesting_does_not_overflow() {
        let deep = format!(
            "{}'type': 'x'{}",
            "{'a': [".repeat(10_000),
            "]}".repeat(10_000)
        );
        let d = parse_details(&deep).unwrap();
        assert_eq!(d.etype.as_deref(), Some("x"));
        assert_eq!(parse_details(&"[{".repeat(10_000)), None);
    }

    #[test]
    fn nothing_found() {
        assert_eq!(parse_details("Connection error."), None);
        assert_eq!(parse_details("{}"), None);
    }

    #[test]
    fn status_forms() {
        assert_eq!(status_from_text("Error code: 429 - {...}"), Some(429));
        assert_eq!(status_from_text("HTTP 404: 404 page not found"), Some(404));
        assert_eq!(status_from_text("RateLimitError [HTTP 429]"), Some(429));
        assert_eq!(
            status_from_text("marking x exhausted (status=401), rotating"),
            Some(401)
        );
        assert_eq!(status_from_text("no status 4291 here"), None);
        assert_eq!(status_from_text("HTTP 4290"), None);
    }
}

//! auth.json (catalog §5).
//!
//! The deserializer structs below list only the non-secret fields. Every other key (tokens,
//! `agent_key`, `api_key`, `*_token`, `*_secret`, `*_key`, the whole `providers.*` state) is
//! skipped by serde as `IgnoredAny` and never stored.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{AuthError, AuthSnapshot, PoolEntry};

/// Parse an auth.json document. Secrets are skipped by the deserializer and never stored.
///
/// `PoolEntry::line` is the 1-based line where the entry's `{` is. On error the line and column
/// come from the JSON parser; type errors name the offending field
/// (`credential_pool.openai-codex[1].priority: invalid type: ..., expected an integer`).
pub fn parse_auth_json(text: &str) -> Result<AuthSnapshot, AuthError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(e) = not_an_object(text) {
        return Err(e);
    }
    let raw: RawFile = serde_json::from_str(text).map_err(|e| to_auth_error(text, &e))?;
    let mut entry_lines = Vec::new();
    walk(text.as_bytes(), usize::MAX, &mut |line| {
        entry_lines.push(line)
    });
    let mut entry_lines = entry_lines.into_iter();

    let pools = raw
        .credential_pool
        .map(|m| m.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(key, entries)| {
            let entries = entries
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.into_entry(entry_lines.next().unwrap_or(0)))
                .collect();
            (key, entries)
        })
        .collect();
    Ok(AuthSnapshot {
        updated_at: raw.updated_at.map(|t| t.0),
        active_provider: raw.active_provider,
        providers: raw
            .providers
            .map(|m| m.0.into_iter().map(|(name, _)| name).collect())
            .unwrap_or_default(),
        pools,
    })
}

/// Quick sniff: does this text look like an auth.json (a JSON object with `credential_pool`,
/// `providers` or `active_provider`)? journalctl `-o json` records are rejected.
pub fn looks_like_auth_json(head: &str) -> bool {
    let head = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    head.starts_with('{')
        && !head.contains("\"__CURSOR\"")
        && !head.contains("\"MESSAGE\"")
        && [
            "\"credential_pool\"",
            "\"providers\"",
            "\"active_provider\"",
        ]
        .iter()
        .any(|k| head.contains(k))
}

#[derive(serde::Deserialize)]
#[serde(expecting = "an auth.json object")]
struct RawFile {
    active_provider: Option<String>,
    providers: Option<Ordered<IgnoredAny>>,
    credential_pool: Option<Ordered<Option<Vec<RawEntry>>>>,
    updated_at: Option<Epoch>,
}

#[derive(serde::Deserialize)]
#[serde(expecting = "a credential pool entry object")]
struct RawEntry {
    id: Option<String>,
    label: Option<String>,
    auth_type: Option<String>,
    priority: Option<Int>,
    source: Option<String>,
    last_status: Option<String>,
    last_status_at: Option<Epoch>,
    last_error_code: Option<Code>,
    last_error_reason: Option<String>,
    last_error_message: Option<String>,
    last_error_reset_at: Option<Epoch>,
    base_url: Option<String>,
    request_count: Option<Int>,
    failure_reason: Option<String>,
    model_cooldowns: Option<Ordered<Option<Epoch>>>,
    status_cleared_at: Option<Epoch>,
    secret_fingerprint: Option<String>,
}

impl RawEntry {
    fn into_entry(self, line: u32) -> PoolEntry {
        let epoch = |t: Option<Epoch>| t.map(|t| t.0);
        PoolEntry {
            id: self.id,
            label: self.label,
            auth_type: self.auth_type,
            priority: self.priority.map(|p| p.0),
            source: self.source,
            last_status: self.last_status,
            last_status_at: epoch(self.last_status_at),
            last_error_code: self.last_error_code.and_then(|c| c.0),
            last_error_reason: self.last_error_reason,
            last_error_message: self.last_error_message,
            last_error_reset_at: epoch(self.last_error_reset_at),
            base_url: self.base_url,
            request_count: self.request_count.and_then(|n| u64::try_from(n.0).ok()),
            failure_reason: self.failure_reason,
            model_cooldowns: self
                .model_cooldowns
                .map(|m| {
                    m.0.into_iter()
                        .filter_map(|(model, until)| until.map(|u| (model, u.0)))
                        .collect()
                })
                .unwrap_or_default(),
            status_cleared_at: epoch(self.status_cleared_at),
            secret_fingerprint: self.secret_fingerprint,
            line,
        }
    }
}

/// A JSON object kept in file order.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = map.next_entry::<String, V>()? {
                    out.push(kv);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// Integral value of a JSON number that is an integer (`3`, `3.0`), or None.
fn integral(v: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which is itself out of range: use `<`.
    (v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64).then_some(v as i64)
}

/// An integer field (`priority`, `request_count`).
struct Int(i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                integral(v)
                    .map(Int)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

/// `last_error_code`: an HTTP status as integer or string. A non-numeric string code is kept
/// as None (it is not an HTTP status).
struct Code(Option<u16>);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl Visitor<'_> for CodeVisitor {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an HTTP status code (integer or string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Code, E> {
                u16::try_from(v)
                    .map(|c| Code(Some(c)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Code, E> {
                u16::try_from(v)
                    .map(|c| Code(Some(c)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Code, E> {
                match integral(v) {
                    Some(i) => self.visit_i64(i),
                    None => Err(E::invalid_value(de::Unexpected::Float(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Code, E> {
                Ok(Code(v.trim().parse().ok()))
            }
        }
        d.deserialize_any(CodeVisitor)
    }
}

/// A time: epoch seconds (int or float; values above 1e12 are milliseconds) or an ISO-8601
/// string (`2026-08-20T08:05:55.612345+00:00`, `...Z`, or without offset = UTC).
struct Epoch(f64);

impl<'de> Deserialize<'de> for Epoch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EpochVisitor;
        impl Visitor<'_> for EpochVisitor {
            type Value = Epoch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch seconds or an ISO-8601 time")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Epoch, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Epoch, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Epoch, E> {
                Ok(Epoch(if v.abs() > 1e12 { v / 1000.0 } else { v }))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Epoch, E> {
                parse_iso(v)
                    .map(Epoch)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(EpochVisitor)
    }
}

/// ISO-8601 / RFC 3339 time → epoch seconds; a time without offset is read as UTC.
pub fn parse_iso(s: &str) -> Option<f64> {
    let s = s.trim();
    let epoch = |secs: i64, nanos: u32| secs as f64 + f64::from(nanos) / 1e9;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(epoch(t.timestamp(), t.timestamp_subsec_nanos()));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| {
            let t = t.and_utc();
            epoch(t.timestamp(), t.timestamp_subsec_nanos())
        })
}

/// Error when the first non-blank byte is not `{` (serde would accept a struct as an array).
fn not_an_object(text: &str) -> Option<AuthError> {
    let bytes = text.as_bytes();
    let at = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes.get(at) == Some(&b'{') {
        return None;
    }
    let before = bytes.get(..at).unwrap_or_default();
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    Some(AuthError {
        line: 1 + memchr::memchr_iter(b'\n', before).count(),
        column: at - line_start + 1,
        message: "expected a JSON object (auth.json)".to_string(),
    })
}

/// Turn a serde_json error into an [`AuthError`]; type errors get the JSON path of the value.
fn to_auth_error(text: &str, e: &serde_json::Error) -> AuthError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full
        .strip_suffix(&suffix)
        .unwrap_or(&full)
        .replace('`', "\"");
    let message = if e.classify() == serde_json::error::Category::Data {
        let path = render_path(&walk(
            text.as_bytes(),
            offset_of(text, e.line(), e.column()),
            &mut |_| {},
        ));
        if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        }
    } else {
        message
    };
    AuthError {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// Byte offset of a serde_json position (1-based line, byte column).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text.as_bytes())
            .nth(line - 2)
            .map_or(text.len(), |p| p + 1)
    };
    start.saturating_add(column).min(text.len())
}

/// One open container while walking the JSON text.
struct Frame {
    array: bool,
    /// Objects: the last key read. Arrays: unused.
    key: Option<String>,
    /// Objects: true between `{`/`,` and the next key.
    expect_key: bool,
    /// Arrays: index of the current element.
    index: usize,
}

/// Walk the JSON text structurally (strings, brackets, commas) up to byte `stop`, calling
/// `on_entry(line)` for every object that starts at `credential_pool.<key>[i]`. Returns the
/// container stack at `stop`. Tolerates malformed input.
fn walk(text: &[u8], stop: usize, on_entry: &mut dyn FnMut(u32)) -> Vec<Frame> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut line: u32 = 1;
    let mut i = 0;
    let end = stop.min(text.len());
    while i < end {
        match text[i] {
            b'\n' => line = line.saturating_add(1),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < text.len() && text[j] != b'"' {
                    j += if text[j] == b'\\' { 2 } else { 1 };
                }
                let close = j.min(text.len());
                line = line.saturating_add(count_newlines(&text[start..close]));
                if let Some(top) = stack.last_mut().filter(|f| !f.array && f.expect_key) {
                    top.key = Some(String::from_utf8_lossy(&text[start..close]).into_owned());
                    top.expect_key = false;
                }
                i = close;
            }
            b'{' => {
                if is_entry_slot(&stack) {
                    on_entry(line);
                }
                stack.push(Frame {
                    array: false,
                    key: None,
                    expect_key: true,
                    index: 0,
                });
            }
            b'[' => stack.push(Frame {
                array: true,
                key: None,
                expect_key: false,
                index: 0,
            }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    if top.array {
                        top.index += 1;
                    } else {
                        top.expect_key = true;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    stack
}

fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u32::MAX)
}

/// True when the next `{` is an element of `credential_pool.<key>`.
fn is_entry_slot(stack: &[Frame]) -> bool {
    match stack {
        [root, pools, list] => {
            !root.array
                && root.key.as_deref() == Some("credential_pool")
                && !pools.array
                && !pools.expect_key
                && list.array
        }
        _ => false,
    }
}

/// `credential_pool.openai-codex[1].priority` from a container stack.
fn render_path(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        if frame.array {
            path.push_str(&format!("[{}]", frame.index));
        } else if let Some(key) = frame.key.as_deref().filter(|_| !frame.expect_key) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        } else {
            break;
        }
    }
    path
}

//! Grafana Loki exports: `logcli query --output=jsonl '{unit="hermes-gateway.service"}'` prints
//! one entry per line, `{"labels":{…},"line":"…","timestamp":"…"}` (RFC 3339, nanoseconds).
//!
//! The host is the `host`, `hostname` or `instance` label (in that order; an `instance` of
//! `host:port` loses its port), the pid a `pid`-style label. When `line` is itself a journal
//! JSON entry (promtail's journal target with `json: true`), it is read as one (`_HOSTNAME`,
//! `_PID`, `__REALTIME_TIMESTAMP`, `MESSAGE`) and the labels fill only what it lacks.

use super::time::{rfc3339, RawTime};
use super::{journal_json, Head};
use crate::model::Shape;
use memchr::memmem::Finder;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Labels that name the host, first found wins.
const HOST_LABELS: [&str; 3] = ["host", "hostname", "instance"];

/// Labels that carry the process id, first found wins (promtail relabels journal fields from
/// `__journal__pid`, `__journal_syslog_pid`).
const PID_LABELS: [&str; 7] = [
    "pid",
    "_pid",
    "__journal__pid",
    "journal_pid",
    "process_pid",
    "__journal_syslog_pid",
    "syslog_pid",
];

/// Labels that carry the journal identifier.
const IDENT_LABELS: [&str; 3] = [
    "syslog_identifier",
    "__journal_syslog_identifier",
    "identifier",
];

/// One `logcli --output=jsonl` line.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    labels: Option<Map<String, Value>>,
    #[serde(default)]
    line: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

static LINE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\"line\""));

/// A label's text (labels are strings; numbers are taken as written).
fn label(labels: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match labels.get(*n)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The host of a label set; `instance` as `host:port` (or `[v6]:port`) loses its port.
fn host(labels: &Map<String, Value>) -> Option<String> {
    for name in HOST_LABELS {
        let Some(v) = label(labels, &[name]) else {
            continue;
        };
        if name != "instance" {
            return Some(v);
        }
        if let Some(rest) = v.strip_prefix('[') {
            return rest.split_once(']').map(|(h, _)| h.to_string());
        }
        return Some(match v.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
                h.to_string()
            }
            _ => v,
        });
    }
    None
}

/// Parse one `logcli --output=jsonl` line; other JSON is not a Loki entry.
pub(crate) fn parse(line: &str) -> Option<Head<'static>> {
    LINE_KEY.find(line.as_bytes())?;
    let entry: Line = serde_json::from_str(line).ok()?;
    let text = entry.line?;
    if entry.labels.is_none() && entry.timestamp.is_none() {
        return None;
    }
    let labels = entry.labels.unwrap_or_default();
    let time = entry
        .timestamp
        .as_deref()
        .and_then(rfc3339)
        .unwrap_or(RawTime::None);
    let pid = label(&labels, &PID_LABELS);
    let mut h = match text
        .trim_start()
        .starts_with('{')
        .then(|| journal_json::parse_owned(&text))
        .flatten()
    {
        Some(h) => h,
        None => journal_json::head_from(Shape::Loki, None, None, None, None, &text),
    };
    h.shape = Shape::Loki;
    if h.time == RawTime::None {
        h.time = time;
    }
    if h.host.is_none() {
        h.host = host(&labels).map(Cow::Owned);
    }
    if h.ident.is_none() {
        h.ident = label(&labels, &IDENT_LABELS).map(Cow::Owned);
    }
    if h.pid.is_none() {
        h.pid = pid.and_then(|p| p.parse().ok());
    }
    Some(h)
}

/// Whether a JSON object is a Loki entry (for detection).
pub(crate) fn is_entry(doc: &Map<String, Value>) -> bool {
    doc.get("line").is_some_and(Value::is_string)
        && (doc.contains_key("labels") || doc.contains_key("timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_with_labels() {
        let h = parse(r#"{"labels":{"host":"gw-1","pid":"42","unit":"hermes-gateway.service"},"line":"WARNING [s1] agent.x: Retrying API call in 2s","timestamp":"2026-12-04T05:11:41.911818123Z"}"#).unwrap();
        assert_eq!(h.shape, Shape::Loki);
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-1"), Some(42)));
        assert_eq!(h.logger.as_deref(), Some("agent.x"));
        assert_eq!(h.message, "Retrying API call in 2s");
        let RawTime::Offset(t, 0) = h.time else {
            panic!("{:?}", h.time)
        };
        assert_eq!(t.and_utc().timestamp_subsec_nanos(), 911_818_123);
    }

    #[test]
    fn instance_loses_its_port() {
        let h = parse(r#"{"labels":{"instance":"gw-2:9080"},"line":"m","timestamp":"2026-12-04T05:11:41+01:00"}"#).unwrap();
        assert_eq!(h.host.as_deref(), Some("gw-2"));
        assert!(matches!(h.time, RawTime::Offset(_, 3600)));
        let h =
            parse(r#"{"labels":{"instance":"[fe80::1]:9080","hostname":"h"},"line":"m"}"#).unwrap();
        assert_eq!(h.host.as_deref(), Some("h"));
        let h = parse(r#"{"labels":{"instance":"[fe80::1]:9080"},"line":"m"}"#).unwrap();
        assert_eq!(h.host.as_deref(), Some("fe80::1"));
    }

    #[test]
    fn journal_entry_in_the_line_wins_over_labels() {
        let h = parse(r#"{"labels":{"host":"collector","pid":"9","syslog_identifier":"py"},"line":"{\"__REALTIME_TIMESTAMP\":\"1796361101911818\",\"_HOSTNAME\":\"gw-1\",\"MESSAGE\":\"a\\nb\"}","timestamp":"2030-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-1"), Some(9)));
        assert_eq!(h.ident.as_deref(), Some("py"));
        assert_eq!(h.time, RawTime::EpochMicros(1_796_361_101_911_818));
        assert_eq!((h.message.as_ref(), h.continuation.len()), ("a", 1));
    }

    #[test]
    fn other_json_is_not_loki() {
        assert!(parse(r#"{"event":"profile_rotation","line":3}"#).is_none());
        assert!(parse(r#"{"line":"no labels nor time"}"#).is_none());
        assert!(parse(r#"{"labels":{},"line":"cut"#).is_none());
    }
}

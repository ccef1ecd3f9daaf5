//! journalctl `-o json` (NDJSON): one entry per line. Values are strings, arrays of byte
//! numbers (non-UTF-8 / unprintable), `null` (too long), or arrays of values (repeated fields).

use super::time::RawTime;
use super::{inner, Head};
use crate::model::Shape;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A field as text: the string, the bytes decoded lossily, or the first of repeated values.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.first().and_then(text),
        _ => None,
    }
}

fn field(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| obj.get(*n).and_then(text))
}

/// Parse one journal JSON entry; other JSON (an application's own structured line) is not a
/// journal entry and stays bare.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    if !line.contains("\"__REALTIME_TIMESTAMP\"") && !line.contains("\"MESSAGE\"") {
        return None;
    }
    let obj: Map<String, Value> = serde_json::from_str(line).ok()?;
    if !obj.contains_key("MESSAGE") && !obj.contains_key("__REALTIME_TIMESTAMP") {
        return None;
    }
    let time = field(&obj, &["__REALTIME_TIMESTAMP"])
        .and_then(|t| t.parse().ok())
        .map_or(RawTime::None, RawTime::EpochMicros);
    let mut h = Head::new(Shape::JournalJson, time);
    h.host = field(&obj, &["_HOSTNAME"]).map(Cow::Owned);
    h.ident = field(&obj, &["SYSLOG_IDENTIFIER", "_COMM"]).map(Cow::Owned);
    h.pid = field(&obj, &["_PID", "SYSLOG_PID"]).and_then(|p| p.parse().ok());
    let message = field(&obj, &["MESSAGE"]).unwrap_or_default();
    let mut lines = message.lines();
    let mut inner = Head::new(Shape::JournalJson, RawTime::None);
    inner::apply(&mut inner, lines.next().unwrap_or(""));
    let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
    h.level = inner.level;
    h.session = inner.session.map(owned);
    h.logger = inner.logger.map(owned);
    h.subagent = inner.subagent;
    h.message = owned(inner.message);
    h.continuation = lines.map(str::to_string).collect();
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_variants() {
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1778280068000000","_PID":"7","SYSLOG_IDENTIFIER":["python","x"],"MESSAGE":[72,105,255]}"#).unwrap();
        assert_eq!(h.message, "Hi\u{fffd}");
        assert_eq!((h.pid, h.ident.as_deref()), (Some(7), Some("python")));
        assert_eq!(h.time, RawTime::EpochMicros(1_778_280_068_000_000));
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":null}"#).unwrap();
        assert_eq!(h.message, "");
        assert!(parse(r#"{"event":"profile_rotation"}"#).is_none());
        assert!(parse(r#"{"MESSAGE":"trunc"#).is_none());
    }
}

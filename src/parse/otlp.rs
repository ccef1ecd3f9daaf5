//! OpenTelemetry logs in OTLP/JSON (`LogsData`, `ExportLogsServiceRequest`), as the Collector's
//! file exporter writes them: one document per line (or one pretty-printed document).
//!
//! Each `resourceLogs[].scopeLogs[].logRecords[]` is one record. Its time is `timeUnixNano`, else
//! `observedTimeUnixNano` (decimal strings of nanoseconds); its message `body` (a `stringValue`;
//! a `kvlistValue` holding journal fields, as the Collector's journald receiver writes, is read as
//! a journal entry). `host.name`, `process.pid` and `service.name` (the stream's identifier, else
//! the file name of `log.file.path`) come from the record's attributes, else its resource's.
//! Documents of other signals (`resourceSpans`, `resourceMetrics`) hold no record.

use super::document::{Found, Kind, Step};
use super::time::{epoch_nanos, RawTime};
use super::{journal_json, Head};
use crate::model::Shape;
use serde_json::{Map, Value};

/// Where the log records of a document are.
const RECORDS: &[Step] = &[
    Some("resourceLogs"),
    None,
    Some("scopeLogs"),
    None,
    Some("logRecords"),
    None,
];

/// An `AnyValue` as text: strings as they are, numbers and booleans as written (`intValue` is a
/// decimal string in OTLP/JSON), anything else as its JSON.
fn any_text(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    let (kind, inner) = obj.iter().next()?;
    match (kind.as_str(), inner) {
        ("stringValue", Value::String(s)) => Some(s.clone()),
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Number(n)) => Some(n.to_string()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        _ => serde_json::to_string(inner).ok(),
    }
}

/// The value of attribute `key` in a `KeyValue` list.
fn attr<'a>(list: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    list?
        .as_array()?
        .iter()
        .find(|kv| kv.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")
}

/// A `fixed64` nanosecond time, written as a string (or a number); 0 means unset.
fn nanos(v: Option<&Value>) -> Option<u64> {
    let n = match v? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    (n > 0).then_some(n)
}

/// The head of one log record under a resource's attributes.
fn head(record: &Map<String, Value>, resource: Option<&Value>) -> Head<'static> {
    let own = record.get("attributes");
    let get = |key: &str| {
        attr(own, key)
            .or_else(|| attr(resource, key))
            .and_then(any_text)
    };
    let host = get("host.name");
    let pid = get("process.pid");
    let ident = get("service.name").or_else(|| {
        get("log.file.path")
            .or_else(|| get("log.file.name"))
            .map(|p| p.rsplit(['/', '\\']).next().unwrap_or(&p).to_string())
    });
    let body = record.get("body");
    let journal = body
        .and_then(|b| b.get("kvlistValue"))
        .and_then(|kv| kv.get("values"))
        .filter(|values| attr(Some(values), "MESSAGE").is_some());
    let mut h = match journal {
        Some(values) => {
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| attr(Some(values), n).and_then(any_text))
            };
            journal_json::head_from(
                Shape::Otlp,
                field(&["__REALTIME_TIMESTAMP"]).as_deref(),
                field(&["_HOSTNAME"]).or(host),
                field(&["SYSLOG_IDENTIFIER", "_COMM"]).or(ident),
                field(&["_PID", "SYSLOG_PID"]).or(pid).as_deref(),
                &field(&["MESSAGE"]).unwrap_or_default(),
            )
        }
        None => journal_json::head_from(
            Shape::Otlp,
            None,
            host,
            ident,
            pid.as_deref(),
            &body.and_then(any_text).unwrap_or_default(),
        ),
    };
    if h.time == RawTime::None {
        h.time = nanos(record.get("timeUnixNano"))
            .or_else(|| nanos(record.get("observedTimeUnixNano")))
            .and_then(epoch_nanos)
            .unwrap_or(RawTime::None);
    }
    h
}

/// Whether a JSON object is an OTLP/JSON document (for detection).
pub(crate) fn is_document(obj: &Map<String, Value>) -> bool {
    obj.get("resourceLogs").is_some_and(Value::is_array)
}

/// How the document reader reads this format's documents.
pub(crate) const DOCUMENT: Kind = Kind {
    shape: Shape::Otlp,
    name: "OTLP/JSON logs document",
    records,
};

/// The records of a document, or None when it is no OTLP/JSON document.
pub(crate) fn records(doc: &Value) -> Option<Found> {
    let obj = doc.as_object()?;
    let Some(Value::Array(resources)) = obj.get("resourceLogs") else {
        let other = ["resourceSpans", "resourceMetrics", "resourceProfiles"]
            .iter()
            .any(|k| obj.get(*k).is_some_and(Value::is_array));
        return other.then(|| Found {
            path: RECORDS,
            records: Vec::new(),
        });
    };
    let mut records = Vec::new();
    for rl in resources.iter().filter_map(Value::as_object) {
        let resource = rl.get("resource").and_then(|r| r.get("attributes"));
        let Some(Value::Array(scopes)) = rl.get("scopeLogs") else {
            continue;
        };
        for sl in scopes.iter().filter_map(Value::as_object) {
            let Some(Value::Array(logs)) = sl.get("logRecords") else {
                continue;
            };
            for lr in logs {
                if let Some(r) = lr.as_object() {
                    let json = serde_json::to_string(lr).unwrap_or_default();
                    records.push((head(r, resource), json));
                }
            }
        }
    }
    Some(Found {
        path: RECORDS,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"gw-1"}},{"key":"process.pid","value":{"intValue":"1"}},{"key":"service.name","value":{"stringValue":"hermes"}}]},"scopeLogs":[{"scope":{},"logRecords":[
        {"timeUnixNano":"1796361101911818123","body":{"stringValue":"WARNING [s] a.b: Retrying API call in 2s"},"attributes":[{"key":"process.pid","value":{"intValue":"7"}}]},
        {"timeUnixNano":"0","observedTimeUnixNano":"1796361101911818000","body":{"kvlistValue":{"values":[{"key":"MESSAGE","value":{"stringValue":"m"}},{"key":"_HOSTNAME","value":{"stringValue":"gw-9"}}]}}}
    ]}]}]}"#;

    #[test]
    fn records_take_resource_and_own_attributes() {
        let doc: Value = serde_json::from_str(DOC).unwrap();
        let found = records(&doc).unwrap();
        let [(a, _), (b, _)] = found.records.as_slice() else {
            panic!("two records")
        };
        assert_eq!((a.host.as_deref(), a.pid), (Some("gw-1"), Some(7)));
        assert_eq!(
            (a.ident.as_deref(), a.logger.as_deref()),
            (Some("hermes"), Some("a.b"))
        );
        let RawTime::Offset(t, 0) = a.time else {
            panic!("{:?}", a.time)
        };
        assert_eq!(t.and_utc().timestamp_subsec_nanos(), 911_818_123);
        assert_eq!((b.host.as_deref(), b.pid), (Some("gw-9"), Some(1)));
        assert_eq!(b.message, "m");
        assert!(matches!(b.time, RawTime::Offset(..)));
        let lines = super::super::document::object_lines(DOC, 1, RECORDS);
        assert_eq!(lines, [2, 3]);
    }

    #[test]
    fn other_signals_and_other_json() {
        let spans: Value = serde_json::from_str(r#"{"resourceSpans":[]}"#).unwrap();
        assert!(records(&spans).unwrap().records.is_empty());
        let other: Value = serde_json::from_str(r#"{"MESSAGE":"x"}"#).unwrap();
        assert!(records(&other).is_none());
    }
}

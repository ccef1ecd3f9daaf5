//! Elasticsearch / OpenSearch exports with ECS fields, as Filebeat (and journalbeat) index them:
//! a `_search` response (`{"took":…,"hits":{"hits":[{"_index","_id","_source":{…}}]}}`, usually
//! pretty-printed), one hit per line (elasticdump), or one `_source` document per line.
//!
//! Fields, each as a dotted key (`"host.name"`) or nested objects (`{"host":{"name":…}}`):
//! `@timestamp` (the time), `message` (else `event.original`), `host.name` else `host.hostname` (the host),
//! `process.pid` else `journald.pid` / `journald.process.pid` else `syslog.pid` (the pid), and
//! as the stream's identifier `syslog.identifier` else `process.name` / `journald.process.name`
//! (what Filebeat's journald input makes of `SYSLOG_IDENTIFIER` and `_COMM`) else the file name
//! of `log.file.path`. A hit without `_source` is read from its `fields` (dotted keys, array
//! values). A `_bulk` action line (`{"index":{…}}`) holds no record.

use super::document::{Found, Kind, Step};
use super::time::{rfc3339, RawTime};
use super::{journal_json, Head};
use crate::model::Shape;
use serde_json::{Map, Value};

/// Where the hits of a `_search` response are.
const HITS: &[Step] = &[Some("hits"), Some("hits"), None];

/// The value at a dotted `path`, whether written as one dotted key, nested objects, or a mix.
pub(crate) fn lookup<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    path.match_indices('.').find_map(|(i, _)| {
        let inner = obj.get(path.get(..i)?)?.as_object()?;
        lookup(inner, path.get(i + 1..)?)
    })
}

/// A field's text: a string, or a number as written (the first element of an array).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.first().and_then(text),
        _ => None,
    }
}

fn first(obj: &Map<String, Value>, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| lookup(obj, p).and_then(text))
}

/// Whether an object is a `_source` document: it has an `@timestamp`.
fn is_source(obj: &Map<String, Value>) -> bool {
    obj.contains_key("@timestamp")
}

/// Whether an object is a `_bulk` action line or a response without hits.
fn holds_nothing(obj: &Map<String, Value>) -> bool {
    let action = obj.len() == 1
        && ["index", "create", "update", "delete"]
            .iter()
            .any(|k| obj.get(*k).is_some_and(Value::is_object));
    action || obj.contains_key("took") || obj.contains_key("_shards")
}

/// Whether a JSON object is an Elasticsearch document this reader takes (for detection).
pub(crate) fn is_document(obj: &Map<String, Value>) -> bool {
    lookup(obj, "hits.hits").is_some_and(Value::is_array)
        || obj.get("_source").is_some_and(Value::is_object)
        || is_source(obj)
        || holds_nothing(obj)
}

/// The head of one `_source` document.
fn head(src: &Map<String, Value>) -> Head<'static> {
    let host = first(src, &["host.name", "host.hostname"]);
    let pid = first(
        src,
        &[
            "process.pid",
            "journald.pid",
            "journald.process.pid",
            "syslog.pid",
        ],
    );
    let ident = first(
        src,
        &["syslog.identifier", "process.name", "journald.process.name"],
    )
    .or_else(|| {
        first(src, &["log.file.path"])
            .map(|p| p.rsplit(['/', '\\']).next().unwrap_or(&p).to_string())
    });
    let message = first(src, &["message", "event.original"]).unwrap_or_default();
    let mut h = journal_json::head_from(Shape::Ecs, None, host, ident, pid.as_deref(), &message);
    h.time = match lookup(src, "@timestamp") {
        Some(Value::String(s)) => rfc3339(s).unwrap_or(RawTime::None),
        // An epoch in milliseconds (a `date` field may hold one).
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|ms| ms.checked_mul(1000))
            .map_or(RawTime::None, RawTime::EpochMicros),
        _ => RawTime::None,
    };
    h
}

/// The head of a hit (its `_source`), with the hit's compact JSON.
fn hit(v: &Value) -> Option<(Head<'static>, String)> {
    let obj = v.as_object()?;
    let empty = Map::new();
    let src = match (obj.get("_source"), obj.get("fields")) {
        (Some(Value::Object(s)), _) => s,
        _ if is_source(obj) => obj,
        (_, Some(Value::Object(f))) => f,
        _ => &empty,
    };
    Some((head(src), serde_json::to_string(v).unwrap_or_default()))
}

/// How the document reader reads this format's documents.
pub(crate) const DOCUMENT: Kind = Kind {
    shape: Shape::Ecs,
    name: "Elasticsearch document",
    records,
};

/// The records of a document, or None when it is no Elasticsearch document.
pub(crate) fn records(doc: &Value) -> Option<Found> {
    let obj = doc.as_object()?;
    if let Some(Value::Array(hits)) = lookup(obj, "hits.hits") {
        return Some(Found {
            path: HITS,
            records: hits.iter().filter_map(hit).collect(),
        });
    }
    if obj.get("_source").is_some_and(Value::is_object) || is_source(obj) {
        return Some(Found {
            path: &[],
            records: hit(doc).into_iter().collect(),
        });
    }
    holds_nothing(obj).then(|| Found {
        path: &[],
        records: Vec::new(),
    })
}

/// Parse one line holding one hit or one `_source` document (for lines read one by one).
pub(crate) fn parse(line: &str) -> Option<Head<'static>> {
    if !line.contains("\"@timestamp\"") && !line.contains("\"_source\"") {
        return None;
    }
    let v: Value = serde_json::from_str(line).ok()?;
    let obj = v.as_object()?;
    if !(obj.get("_source").is_some_and(Value::is_object) || is_source(obj)) {
        return None;
    }
    hit(&v).map(|(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_nested_and_mixed_fields() {
        let doc: Value = serde_json::from_str(
            r#"{"@timestamp":"2026-12-04T05:11:41.911Z","host":{"name":"gw-1"},"process.pid":7,
                "log":{"file.path":"/var/log/hermes/agent.log"},"message":"m"}"#,
        )
        .unwrap();
        let (h, _) = hit(&doc).unwrap();
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-1"), Some(7)));
        assert_eq!(h.ident.as_deref(), Some("agent.log"));
        assert!(matches!(h.time, RawTime::Offset(_, 0)));
        let doc: Value =
            serde_json::from_str(r#"{"host.hostname":"gw-2","process":{"pid":"8"},"message":"m","@timestamp":1796361101911}"#)
                .unwrap();
        let (h, _) = hit(&doc).unwrap();
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-2"), Some(8)));
        assert_eq!(h.time, RawTime::EpochMicros(1_796_361_101_911_000));
    }

    #[test]
    fn search_response_hits_and_bulk_actions() {
        let doc: Value = serde_json::from_str(
            r#"{"took":3,"hits":{"hits":[{"_id":"1","_source":{"message":"a","@timestamp":"2026-12-04T05:11:41Z"}},{"_id":"2"}]}}"#,
        )
        .unwrap();
        let found = records(&doc).unwrap();
        assert_eq!(found.records.len(), 2);
        assert_eq!(found.records[0].0.message, "a");
        let fields: Value = serde_json::from_str(
            r#"{"_id":"3","fields":{"host.name":["gw-3"],"message":["m"],"process.pid":[5]}}"#,
        )
        .unwrap();
        let (h, _) = hit(&fields).unwrap();
        assert_eq!((h.host.as_deref(), h.pid), (Some("gw-3"), Some(5)));
        let bulk: Value = serde_json::from_str(r#"{"index":{"_index":"logs"}}"#).unwrap();
        assert!(records(&bulk).unwrap().records.is_empty());
        let other: Value = serde_json::from_str(r#"{"event":"profile_rotation"}"#).unwrap();
        assert!(records(&other).is_none());
        assert!(parse(r#"{"_id":"1","_source":{"message":"WARNING [s] a.b: x","@timestamp":"2026-12-04T05:11:41Z"}}"#).is_some());
        assert!(parse(r#"{"event":"profile_rotation"}"#).is_none());
    }
}

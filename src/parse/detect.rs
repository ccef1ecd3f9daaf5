//! Format detection from the first lines of a source.

use super::{ecs, journal, loki, otlp, paste, structured, InputFormat};
use crate::model::Shape;
use serde_json::{Map, Value};

/// The format of a fleet export from its first JSON object: a Loki entry, an OTLP/JSON
/// document or an Elasticsearch document.
fn export_of(obj: &Map<String, Value>) -> Option<InputFormat> {
    if loki::is_entry(obj) {
        Some(InputFormat::Loki)
    } else if otlp::is_document(obj) {
        Some(InputFormat::Otlp)
    } else if ecs::is_document(obj) {
        Some(InputFormat::Ecs)
    } else {
        None
    }
}

/// The format of a fleet export from the first key of its first object (a pretty-printed
/// document, or a line too long to have been read whole).
fn export_of_key(key: &str) -> Option<InputFormat> {
    match key {
        "resourceLogs" => Some(InputFormat::Otlp),
        "labels" => Some(InputFormat::Loki),
        "took" | "timed_out" | "_shards" | "hits" | "_scroll_id" | "pit_id" | "_index"
        | "_source" | "@timestamp" => Some(InputFormat::Ecs),
        _ => None,
    }
}

/// The first key of a JSON object text, from its first `"` (no escapes).
fn first_key(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.get(..rest.find('"')?)
}

/// A fleet export (Loki `logcli` jsonl, Elasticsearch documents, OTLP/JSON), from its first
/// line: a whole JSON object, else its first key (of the next line when the first is `{`).
fn export(first_lines: &[&str]) -> Option<InputFormat> {
    let mut lines = first_lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty());
    let first = lines.next()?.trim();
    if !first.starts_with('{') {
        return None;
    }
    if first == "{" {
        let next = lines.next()?.trim();
        return export_of_key(first_key(&format!("{{{next}"))?);
    }
    match serde_json::from_str::<Value>(first) {
        Ok(Value::Object(obj)) => export_of(&obj),
        Ok(_) => None,
        // Cut by the read buffer: judge by the first key.
        Err(e) if e.is_eof() => export_of_key(first_key(first)?),
        Err(_) => None,
    }
}

/// A mode whose entries span several lines, from its first line: `__CURSOR=` (export), a
/// `verbose` header (a `short-full` stamp and the cursor in brackets), or `{` alone followed by
/// a `"FIELD" : value` line (json-pretty).
fn multi_line(first_lines: &[&str]) -> Option<InputFormat> {
    let mut lines = first_lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty() && !journal::is_meta(l));
    let first = lines.next()?;
    if first.starts_with("__CURSOR=") {
        return Some(InputFormat::JournalExport);
    }
    if journal::full_stamp(first).is_some_and(|(_, _, rest)| rest.starts_with("[s=")) {
        return Some(InputFormat::JournalVerbose);
    }
    (first.trim() == "{" && lines.next()?.trim_start().starts_with('"'))
        .then_some(InputFormat::JournalJsonPretty)
}

/// Detect the format of a source from its first (up to 50) non-empty lines: the shape most of
/// them have (first seen wins a tie). Only bare lines → `JournalCat`; no lines → `Auto`.
pub fn detect(first_lines: &[&str]) -> InputFormat {
    if let Some(f) = export(first_lines).or_else(|| multi_line(first_lines)) {
        return f;
    }
    let mut votes: Vec<(InputFormat, usize)> = Vec::new();
    let mut any = false;
    let lines = first_lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty() && !journal::is_meta(l))
        .take(50);
    for line in lines {
        any = true;
        let head =
            structured(line).or_else(|| paste::strip_grep_n(line, false).and_then(structured));
        let Some(shape) = head.map(|h| h.shape).filter(|s| *s != Shape::Bare) else {
            continue;
        };
        let format = InputFormat::of_shape(shape);
        match votes.iter_mut().find(|(f, _)| *f == format) {
            Some((_, n)) => *n += 1,
            None => votes.push((format, 1)),
        }
    }
    let best = votes
        .iter()
        .fold(None::<(InputFormat, usize)>, |best, &(f, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((f, n)),
        });
    match best {
        Some((f, _)) => f,
        None if any => InputFormat::JournalCat,
        None => InputFormat::Auto,
    }
}

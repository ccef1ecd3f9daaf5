//! What is worth reading: inputs judged by their content, not their name.
//!
//! A directory holds more than logs. Its files with a Hermes name (`agent.log*`, `*.json`, ...)
//! are read; every other file is read only when its first [`SNIFF_LINES`] lines hold a Hermes log
//! line (a line of a known log shape, a console line, a Hermes message), an auth.json snapshot, a
//! `hermes auth list` capture or an issue body with pastes; else it is skipped, and the run says
//! which and why (`skipped: dir/notes.txt: no Hermes log line in the first 50 lines`).
//!
//! Whatever the name, a file with binary content (a NUL byte in its first bytes, once
//! decompressed, other than a journal `export`) is skipped the same way. A `*.json` that is
//! neither an auth.json snapshot, a journal (`journalctl -o json`…), a fleet log export (Loki
//! `logcli` jsonl, Elasticsearch documents, OTLP/JSON) nor an issue body is an error naming it
//! when it was named on the command line, and skipped when a directory held it.

use crate::error::Error;
use crate::model::Record;
use crate::parse::{self, InputFormat};
use crate::read::{self, InputSpec, Pick};
use std::io::BufRead;

/// How many lines of a file are looked at to tell whether it is a log.
pub const SNIFF_LINES: usize = 50;

/// How many bytes are looked at for a NUL byte.
const BINARY_BYTES: usize = 8 * 1024;

/// What to do with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Read,
    /// Not read; the reason, e.g. `binary content`.
    Skip(String),
}

/// Whether some of `lines` are Hermes log lines (see the module documentation).
pub fn has_log_line(lines: &[&str]) -> bool {
    lines.iter().any(|l| {
        !l.trim().is_empty()
            && (is_pasted_log(l)
                || is_hermes_text(l)
                || !matches!(
                    crate::classify::classify(&bare_record(l)),
                    crate::model::EventKind::Other
                ))
    })
}

/// Whether a quoted line of an issue body is worth reading: a log line of a known shape, a
/// console line (it starts with a console glyph), a line the classifier takes for a request
/// event, or a `hermes auth list` row. Quoted prose, even prose about fallbacks, is none of these.
pub(crate) fn is_pasted_log(line: &str) -> bool {
    let t = line.trim();
    !matches!(
        parse::detect(&[line]),
        InputFormat::Auto | InputFormat::JournalCat
    ) || crate::classify::clean_message(t).len() < t.len()
        || crate::classify::classify(&bare_record(line)).is_request_event()
        || crate::auth::list::looks_like_auth_list(&[line])
}

/// A bare record of one line (for asking the classifier about a line out of context).
pub(crate) fn bare_record(line: &str) -> Record {
    let mut r = Record::empty();
    r.message = line.to_string();
    r.raw = line.to_string();
    r
}

/// A line without a log prefix that Hermes wrote: a console line (it starts with a console
/// glyph) or the console's `⚕ Hermes` frame. Prose that only mentions fallbacks or API calls is
/// not.
pub fn is_hermes_text(line: &str) -> bool {
    let t = line.trim();
    crate::classify::clean_message(t).len() < t.len() || t.contains("⚕ Hermes")
}

/// Whether bytes are binary: a NUL byte among the first ones, unless they start a journal
/// `export` stream (whose binary fields are length-prefixed). A log with a few NUL bytes in it
/// (a file cut by a crash) is told apart by its log lines.
pub fn is_binary(head: &[u8]) -> bool {
    let head = head.get(..BINARY_BYTES).unwrap_or(head);
    head.contains(&0) && !head.starts_with(b"__CURSOR=")
}

/// A `*.json` file (also `.json.gz`, `.json.zst`).
fn json_named(spec: &InputSpec) -> bool {
    let name = spec
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    base.ends_with(".json")
}

/// Judge one file input by its first bytes. Standard input and held text are always read.
pub fn judge(spec: &InputSpec, pick: Pick) -> Result<Verdict, Error> {
    if spec.path.is_none() || spec.content.is_some() || spec.hint != read::SourceHint::Unknown {
        return Ok(Verdict::Read);
    }
    let mut reader = read::open(spec)?;
    let head = reader
        .fill_buf()
        .map_err(|source| read::ReadError::Io {
            path: spec.name.clone(),
            source,
        })?
        .to_vec();
    if head.is_empty() {
        return Ok(match pick {
            Pick::Content => Verdict::Skip("empty file".into()),
            _ => Verdict::Read,
        });
    }
    let text = String::from_utf8_lossy(&head);
    let lines: Vec<&str> = text.lines().take(SNIFF_LINES).collect();
    if is_binary(&head) && !has_log_line(&lines) {
        return Ok(Verdict::Skip(
            "binary content, not a log (a NUL byte in its first bytes)".into(),
        ));
    }
    let known_doc = crate::auth::json::looks_like_auth_json(&lines.join("\n"))
        || crate::auth::list::looks_like_auth_list(&lines)
        || read::issue_body::sniff(&text, &is_pasted_log).is_some();
    let log_shape = match parse::detect(&lines) {
        InputFormat::Auto | InputFormat::JournalCat => false,
        // Fleet exports are told by their own keys (`labels` and `line`, `hits` or
        // `@timestamp`, `resourceLogs`).
        InputFormat::Loki | InputFormat::Ecs | InputFormat::Otlp => true,
        // Any JSON object looks like `json-pretty` at first: a journal's names its fields.
        InputFormat::JournalJson
        | InputFormat::JournalJsonPretty
        | InputFormat::JournalJsonSeq
        | InputFormat::JournalJsonSse => {
            text.contains("\"MESSAGE\"") || text.contains("\"__CURSOR\"")
        }
        _ => true,
    };
    if json_named(spec) && !known_doc && !log_shape {
        let what = "JSON that is neither an auth.json snapshot nor a journal (journalctl -o json) nor a log export (Loki, Elasticsearch, OTLP), not a log";
        return match pick {
            Pick::Given => Err(Error::NotALog {
                path: spec.name.clone(),
                what: what.into(),
            }),
            // A directory holds other JSON too (package.json, test metadata): left out, said so.
            Pick::Name | Pick::Content => Ok(Verdict::Skip(what.into())),
        };
    }
    if pick == Pick::Content && !known_doc && !log_shape && !has_log_line(&lines) {
        return Ok(Verdict::Skip(format!(
            "no Hermes log line in the first {SNIFF_LINES} lines"
        )));
    }
    Ok(Verdict::Read)
}

//! JSON documents of fleet exports that hold several log records and may span several lines: an
//! Elasticsearch `_search` response (usually pretty-printed), an OTLP/JSON `LogsData` document
//! (one per line from the Collector's file exporter, or one pretty-printed document).
//!
//! A document is read whole (from a line starting with `{` to the line where its braces
//! balance), parsed, and each log record in it becomes one entry located at the line where the
//! record's object begins. Lines of the document that begin no record are journal metadata in
//! the line accounting; a record that begins on a line where an earlier one began owns no line.
//! A document that does not parse, or that is not one of its format's, is either handed back
//! line by line (a single line: the per-line parsers take it) or, spanning several lines,
//! becomes one unrecognized record holding all its lines, with a warning naming its lines.

use super::entry::{Entry, Feed};
use super::Head;
use crate::model::Shape;
use serde_json::Value;

/// A document bigger than this is not parsed (its lines are counted as unrecognized).
const MAX_DOCUMENT: usize = 256 * 1024 * 1024;

/// One step of the path to the objects that are log records: an object key, or any array
/// element (`None`).
pub(crate) type Step = Option<&'static str>;

/// The log records of one document, in document order: the path of their objects and a head
/// (plus its compact JSON, for evidence) for each object found there.
pub(crate) struct Found {
    pub path: &'static [Step],
    pub records: Vec<(Head<'static>, String)>,
}

/// The export format whose documents are read: the shape of its records, its name for
/// messages, and how the records of a parsed document are found (`None`: no document of this
/// format). Each format's module defines its own (`ecs::DOCUMENT`, `otlp::DOCUMENT`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    pub shape: Shape,
    pub name: &'static str,
    pub records: fn(&Value) -> Option<Found>,
}

/// A document being read.
#[derive(Debug)]
struct Open {
    start: u32,
    end: u32,
    lines: u64,
    text: String,
    /// Nesting depth of objects and arrays after the lines read so far.
    depth: i64,
    /// A line was cut by the line reader (longer than its limit).
    cut: bool,
}

/// The document reader of one source.
#[derive(Debug)]
pub(crate) struct Reader {
    kind: Kind,
    open: Option<Open>,
    /// Lines of completed documents that began no record, not yet counted.
    meta: u64,
    warnings: Vec<String>,
}

impl Reader {
    pub fn new(kind: Kind) -> Reader {
        Reader {
            kind,
            open: None,
            meta: 0,
            warnings: Vec::new(),
        }
    }

    /// Read line `no`; entries of a document this line completed are appended to `out`.
    pub fn push(&mut self, no: u32, line: &str, out: &mut Vec<Entry>) -> Feed {
        // A line that starts a document at the margin while one is open: the open one was
        // cut short (nested lines of a pretty document are indented).
        if self.open.is_some() && line.starts_with('{') {
            self.close(out, false);
        }
        let doc = match self.open.as_mut() {
            Some(d) => d,
            None => {
                let t = line.trim_start();
                if !t.starts_with('{') {
                    return if t.is_empty() {
                        Feed::Blank
                    } else {
                        Feed::Other
                    };
                }
                self.open.insert(Open {
                    start: no,
                    end: no,
                    lines: 0,
                    text: String::new(),
                    depth: 0,
                    cut: false,
                })
            }
        };
        if !doc.text.is_empty() {
            doc.text.push('\n');
        }
        doc.text.push_str(line);
        doc.lines += 1;
        doc.end = no;
        doc.depth += depth_change(line);
        doc.cut |= line.ends_with(crate::read::CUT_MARK);
        // Only a pretty document starts with `{` alone; a longer first line is the whole
        // document, balanced or not.
        let pretty = doc.lines > 1 || line.trim() == "{";
        if pretty && doc.depth > 0 && doc.text.len() <= MAX_DOCUMENT {
            return Feed::Taken;
        }
        self.close(out, true)
    }

    /// The document still open at end of input (a truncated one).
    pub fn finish(&mut self, out: &mut Vec<Entry>) {
        if self.open.is_some() {
            // A document cut short: never handed back line by line.
            self.close(out, false);
        }
    }

    /// Lines of documents that began no record since the last call.
    pub fn take_meta(&mut self) -> u64 {
        std::mem::take(&mut self.meta)
    }

    /// Warnings about documents that could not be read, since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Parse the open document into entries. With `hand_back`, a single-line document that is
    /// not one of this format's is handed back (`Feed::Other`).
    fn close(&mut self, out: &mut Vec<Entry>, hand_back: bool) -> Feed {
        let Some(doc) = self.open.take() else {
            return Feed::Other;
        };
        let single = doc.lines == 1;
        let parsed: Result<Value, String> = if doc.text.len() > MAX_DOCUMENT {
            Err(format!("larger than {} MiB", MAX_DOCUMENT >> 20))
        } else {
            serde_json::from_str(&doc.text).map_err(|e| {
                // serde counts lines from the document's start; say the file's line.
                let text = e.to_string();
                let what = text
                    .rsplit_once(" at line ")
                    .map_or(text.as_str(), |(w, _)| w);
                let line = doc
                    .start
                    .saturating_add(u32::try_from(e.line()).unwrap_or(0));
                format!(
                    "{what} at line {}, column {}",
                    line.saturating_sub(1),
                    e.column()
                )
            })
        };
        let found = match parsed {
            Ok(v) => (self.kind.records)(&v)
                .ok_or_else(|| format!("valid JSON, but not an {}", self.kind.name)),
            Err(e) => Err(e),
        };
        let found = match found {
            Ok(f) => f,
            Err(_) if hand_back && single && !doc.cut => return Feed::Other,
            Err(why) => {
                self.malformed(&doc, &why, out);
                return Feed::Taken;
            }
        };
        let lines = if single {
            vec![doc.start; found.records.len()]
        } else {
            object_lines(&doc.text, doc.start, found.path)
        };
        let one = single && found.records.len() == 1;
        let mut owned = 0u64;
        let mut last: Option<u32> = None;
        for (i, (head, json)) in found.records.into_iter().enumerate() {
            let at = lines.get(i).copied().unwrap_or(doc.start);
            let shares = last == Some(at);
            last = Some(at);
            let mut e = Entry::new(self.kind.shape, at);
            e.lines = u64::from(!shares);
            owned += e.lines;
            e.msg_line = Some(at);
            e.shares_line = shares;
            e.raw = if one { doc.text.clone() } else { json };
            let mut head = head;
            head.shape = self.kind.shape;
            e.head = Some(head);
            out.push(e);
        }
        self.meta += doc.lines.saturating_sub(owned);
        Feed::Taken
    }

    /// A document that could not be read: one unrecognized record holding all its lines.
    fn malformed(&mut self, doc: &Open, why: &str, out: &mut Vec<Entry>) {
        let hint = if doc.cut {
            " (a line longer than 1 MiB was cut; export smaller batches)"
        } else {
            ""
        };
        self.warnings.push(format!(
            "line {}: not a readable {}: {why}{hint}; lines {}-{} counted as unrecognized",
            doc.start, self.kind.name, doc.start, doc.end
        ));
        let mut lines = doc.text.split('\n');
        let first = lines.next().unwrap_or_default();
        let mut head = Head::new(Shape::Bare, super::time::RawTime::None);
        head.message = std::borrow::Cow::Owned(first.to_string());
        head.continuation = lines.map(str::to_string).collect();
        let mut e = Entry::new(Shape::Bare, doc.start);
        e.lines = doc.lines;
        e.end = doc.end;
        e.msg_line = Some(doc.start);
        e.msg_lines = (doc.start.saturating_add(1)..=doc.end).collect();
        e.raw = first.to_string();
        e.malformed = true;
        e.head = Some(head);
        out.push(e);
    }
}

/// Net change of object/array nesting over one line (brackets inside strings do not count).
fn depth_change(line: &str) -> i64 {
    let mut depth = 0i64;
    let (mut in_str, mut esc) = (false, false);
    for b in line.bytes() {
        if in_str {
            match b {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// A container being scanned: an object (with the key its current value is under) or an array.
struct Frame<'a> {
    object: bool,
    key: Option<&'a str>,
    expect_key: bool,
}

/// The line of each object found at `path` in `text` (whose first line is `first`), in
/// document order.
pub(crate) fn object_lines(text: &str, first: u32, path: &[Step]) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut line = first;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => line = line.saturating_add(1),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b'\\' => j += 1,
                        b'"' => break,
                        _ => {}
                    }
                    j += 1;
                }
                if let Some(top) = stack.last_mut().filter(|f| f.object && f.expect_key) {
                    top.key = text.get(start..j.min(bytes.len()));
                    top.expect_key = false;
                }
                i = j;
            }
            b'{' | b'[' => {
                let object = b == b'{';
                if object && at_path(&stack, path) {
                    out.push(line);
                }
                stack.push(Frame {
                    object,
                    key: None,
                    expect_key: object,
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(top) = stack.last_mut().filter(|f| f.object) {
                    top.expect_key = true;
                    top.key = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the value about to start sits at `path`.
fn at_path(stack: &[Frame<'_>], path: &[Step]) -> bool {
    stack.len() == path.len()
        && stack.iter().zip(path).all(|(f, step)| match step {
            None => !f.object,
            Some(k) => f.object && f.key == Some(*k),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_at_a_path_and_their_lines() {
        let text = "{\n  \"took\" : 1,\n  \"hits\" : {\n    \"hits\" : [\n      {\n        \"_source\" : {\"message\" : \"}{\\\"\"}\n      },\n      { \"_id\" : \"2\" }\n    ]\n  }\n}";
        let path: &[Step] = &[Some("hits"), Some("hits"), None];
        assert_eq!(object_lines(text, 10, path), [14, 17]);
        assert_eq!(object_lines(text, 1, &[]), [1]);
        assert_eq!(depth_change(r#"{"a":"{[\"","b":[{}"#), 2);
    }

    #[test]
    fn a_broken_document_is_one_unrecognized_record() {
        let mut r = Reader::new(super::super::otlp::DOCUMENT);
        let mut out = Vec::new();
        assert_eq!(r.push(1, "{", &mut out), Feed::Taken);
        assert_eq!(
            r.push(2, "  \"resourceLogs\" : [ oops", &mut out),
            Feed::Taken
        );
        r.finish(&mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].malformed);
        assert_eq!((out[0].lines, out[0].msg_lines.as_slice()), (2, &[2][..]));
        let w = r.take_warnings();
        assert!(w[0].starts_with("line 1: not a readable OTLP"), "{w:?}");
        // A single line that is no document of the format goes back to the line parsers.
        assert_eq!(r.push(3, "{\"MESSAGE\":\"x\"}", &mut out), Feed::Other);
        // An unbalanced single line does not swallow the lines after it.
        assert_eq!(r.push(4, "{\"resourceLogs\":[", &mut out), Feed::Other);
        assert_eq!(r.push(5, "{", &mut out), Feed::Taken);
        out.clear();
        assert_eq!(r.push(6, "{\"resourceLogs\":[]}", &mut out), Feed::Taken);
        assert!(out[0].malformed && r.take_warnings().len() == 1);
        assert_eq!(r.take_meta(), 1);
    }

    /// Mutated documents, fed line by line: every line accounted for, no panic.
    #[test]
    fn mutated_documents_keep_the_line_accounting() {
        use crate::parse::{InputFormat, Parser, TimeContext};
        const SEEDS: [(&str, InputFormat); 4] = [
            (
                "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"ERROR [s] a.b: boom\"}},{\"body\":{\"stringValue\":\"Traceback (most recent call last):\"}},{\"body\":{\"stringValue\":\"  File \\\"x\\\", line 1\"}}]}]}]}\n{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"ValueError: y\"}},{\"body\":{\"stringValue\":\"WARNING [s] a.b: next\"}}]}]}]}",
                InputFormat::Otlp,
            ),
            (
                "{\n  \"took\" : 1,\n  \"hits\" : {\n    \"hits\" : [\n      {\n        \"_source\" : {\"message\" : \"WARNING [s] a.b: Retrying API call in 2s\", \"@timestamp\" : \"2026-12-04T05:11:41Z\"}\n      },\n      { \"_id\" : \"2\" }\n    ]\n  }\n}",
                InputFormat::Ecs,
            ),
            (
                "{\"resourceLogs\":[{\"resource\":{},\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"a\"}},{\"timeUnixNano\":\"1\"}]}]}]}\n{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{}]}]}]}",
                InputFormat::Otlp,
            ),
            (
                "{\n  \"resourceLogs\": [\n    {\n      \"scopeLogs\": [\n        {\n          \"logRecords\": [\n            {\"body\": {\"stringValue\": \"x\"}},\n            {\"body\": {\"intValue\": \"7\"}}\n          ]\n        }\n      ]\n    }\n  ]\n}",
                InputFormat::Otlp,
            ),
        ];
        const ALPHABET: &[char] = &['{', '}', '[', ']', '"', '\\', ',', ':', '\n', ' ', 'a'];
        let mut m = crate::parse::mutate::Mutator::new(0x9E37_79B9_7F4A_7C15, ALPHABET);
        let joined = {
            let mut parser = Parser::new(0, InputFormat::Otlp, TimeContext::default());
            let mut out = Vec::new();
            for (i, line) in SEEDS[0].0.split('\n').enumerate() {
                parser.push(u32::try_from(i + 1).unwrap_or(0), line, &mut out);
            }
            parser.finish(&mut out);
            out.first().map_or(0, |r| r.continuation.len())
        };
        assert_eq!(joined, 3, "the traceback records join their logger record");
        for _ in 0..3_000 {
            let (seed, format) = SEEDS[m.below(SEEDS.len())];
            let mut chars: Vec<char> = seed.chars().collect();
            let edits = m.below(4);
            m.edit(&mut chars, edits);
            let text: String = chars.into_iter().collect();
            let mut parser = Parser::new(0, format, TimeContext::default());
            let mut out = Vec::new();
            let mut n = 0u32;
            for line in text.split('\n') {
                n += 1;
                parser.push(n, line, &mut out);
            }
            parser.finish(&mut out);
            let s = parser.stats();
            assert_eq!(
                s.lines,
                s.blank + s.meta + s.records + s.continuation,
                "{text:?}: {s:?}"
            );
            assert_eq!(out.len() as u64, s.records + s.packed, "{text:?}");
            let counted: u64 = out.iter().map(crate::parse::record_lines).sum();
            assert_eq!(counted + s.blank + s.meta, s.lines, "{text:?}: {s:?}");
        }
    }
}

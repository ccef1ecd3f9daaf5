//! The readers of the journal modes and export documents whose entries span several lines
//! (`-o verbose`, `-o export`, `-o json-pretty`, Elasticsearch and OTLP documents), behind one
//! type: the parser feeds it lines and takes the completed [`Entry`]s.

use super::entry::{Entry, Feed};
use super::InputFormat;
use super::{document, journal_export, journal_json_pretty, journal_verbose};

/// The reader of a multi-line mode.
#[derive(Debug)]
pub(crate) enum Reader {
    Verbose(journal_verbose::Reader),
    Export(journal_export::Reader),
    JsonPretty(journal_json_pretty::Reader),
    /// Fleet export documents (Elasticsearch, OTLP) holding several records.
    Document(document::Reader),
}

impl Reader {
    /// The reader for `format`, if its entries span several lines.
    pub fn for_format(format: InputFormat) -> Option<Box<Reader>> {
        let r = match format {
            InputFormat::JournalVerbose => Reader::Verbose(journal_verbose::Reader::default()),
            InputFormat::JournalExport => Reader::Export(journal_export::Reader::default()),
            InputFormat::JournalJsonPretty => {
                Reader::JsonPretty(journal_json_pretty::Reader::default())
            }
            InputFormat::Ecs => Reader::Document(document::Reader::new(super::ecs::DOCUMENT)),
            InputFormat::Otlp => Reader::Document(document::Reader::new(super::otlp::DOCUMENT)),
            _ => return None,
        };
        Some(Box::new(r))
    }

    /// Read line `no`; entries this line completed (they come before the line) are appended
    /// to `out`.
    pub fn push(&mut self, no: u32, line: &str, out: &mut Vec<Entry>) -> Feed {
        let (done, feed) = match self {
            Reader::Verbose(r) => r.push(no, line),
            Reader::Export(r) => r.push(no, line),
            Reader::JsonPretty(r) => r.push(no, line),
            Reader::Document(r) => return r.push(no, line, out),
        };
        out.extend(done);
        feed
    }

    /// The entries still open at end of input (a truncated one included).
    pub fn finish(&mut self, out: &mut Vec<Entry>) {
        let done = match self {
            Reader::Verbose(r) => r.finish(),
            Reader::Export(r) => r.finish(),
            Reader::JsonPretty(r) => r.finish(),
            Reader::Document(r) => return r.finish(out),
        };
        out.extend(done);
    }

    /// Lines read that belong to no entry (the envelope of a document), since the last call.
    pub fn take_meta(&mut self) -> u64 {
        match self {
            Reader::Document(r) => r.take_meta(),
            _ => 0,
        }
    }

    /// Warnings about unreadable input, since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        match self {
            Reader::Document(r) => r.take_warnings(),
            _ => Vec::new(),
        }
    }
}

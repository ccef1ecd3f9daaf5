//! Journal entries printed over several lines (`-o verbose`, `-o export`, `-o json-pretty`):
//! what their readers collect, and how an entry becomes one record.
//!
//! A reader takes the lines of its mode one at a time and says what each was ([`Feed`]); a
//! completed entry is handed back before the line that ended it is handled. The record of an
//! entry starts at its `MESSAGE` line (else at its first line); the other lines of the message
//! are its continuation lines, and the entry's remaining field lines are journal metadata.

use super::journal::full_time;
use super::time::RawTime;
use super::{journal_json, Head};
use crate::model::Shape;
use chrono::NaiveDateTime;

/// What a reader made of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feed {
    /// A line of an entry (counted when the entry is emitted).
    Taken,
    /// An empty line outside any field value.
    Blank,
    /// Not a line of this mode: the per-line parsers handle it.
    Other,
}

/// One journal entry read over several lines.
#[derive(Debug)]
pub(crate) struct Entry {
    pub shape: Shape,
    /// First and last input line.
    pub start: u32,
    pub end: u32,
    /// Input lines taken (blank lines between entries are not).
    pub lines: u64,
    /// The fields a head is made of.
    pub fields: journal_json::Fields<String>,
    /// The line the message starts on (the `MESSAGE=` / `MESSAGE` / `"MESSAGE"` line).
    pub msg_line: Option<u32>,
    /// The input line of each line of the message after the first, where they differ.
    pub msg_lines: Vec<u32>,
    /// The record's text as read (the `MESSAGE` field line).
    pub raw: String,
    /// `verbose` header date-time and zone word, for entries without `__REALTIME_TIMESTAMP`.
    pub header: Option<(NaiveDateTime, String)>,
    /// `json-pretty` and export documents: the head parsed from the whole object.
    pub head: Option<Head<'static>>,
    /// The entry began on a line where an earlier one began (it owns no line).
    pub shares_line: bool,
    /// A document that could not be read: its lines are one unrecognized record.
    pub malformed: bool,
}

impl Entry {
    pub fn new(shape: Shape, start: u32) -> Entry {
        Entry {
            shape,
            start,
            end: start,
            lines: 0,
            fields: journal_json::Fields::default(),
            msg_line: None,
            msg_lines: Vec::new(),
            raw: String::new(),
            header: None,
            head: None,
            shares_line: false,
            malformed: false,
        }
    }

    /// Count input line `no` as a line of this entry.
    pub fn take(&mut self, no: u32) {
        self.lines += 1;
        self.end = self.end.max(no);
    }

    /// Set a field read from the entry. A field given twice keeps its first value (as the json
    /// mode reads the array a repeated field becomes).
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(slot @ None) = self.fields.slot(name) {
            *slot = Some(value.to_string());
        }
    }

    /// The line the record starts on.
    pub fn record_line(&self) -> u32 {
        self.msg_line.unwrap_or(self.start)
    }

    /// The head of the record, mapped from the fields as a journal json entry is.
    pub fn head(&self) -> Head<'_> {
        if let Some(h) = &self.head {
            let mut h = h.clone();
            h.shape = self.shape;
            return h;
        }
        let f = &self.fields;
        let mut h = journal_json::head_from(
            self.shape,
            f.realtime.as_deref(),
            f.hostname.clone(),
            f.syslog_identifier.clone().or_else(|| f.comm.clone()),
            f.pid.as_deref().or(f.syslog_pid.as_deref()),
            f.message.as_deref().unwrap_or(""),
        );
        if h.time == RawTime::None {
            if let Some((ndt, zone)) = &self.header {
                h.time = full_time(*ndt, zone).unwrap_or(RawTime::Local(*ndt));
            }
        }
        h
    }
}

/// A journal field name: uppercase letters, digits and `_`, not starting with a digit.
pub(crate) fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.as_bytes()[0].is_ascii_digit()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

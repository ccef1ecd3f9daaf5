//! journalctl `-o json-pretty`: each entry as an indented JSON object over several lines,
//! `{` and `}` alone on their lines and one field per line in between.

use super::entry::{Entry, Feed};
use super::journal_json;
use crate::model::Shape;

/// The json-pretty reader.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    cur: Option<Entry>,
    text: String,
}

impl Reader {
    pub fn push(&mut self, no: u32, line: &str) -> (Option<Entry>, Feed) {
        let t = line.trim();
        let Some(e) = self.cur.as_mut() else {
            if t == "{" {
                let mut e = Entry::new(Shape::JournalJsonPretty, no);
                e.take(no);
                self.text.clear();
                self.text.push_str(line);
                self.cur = Some(e);
                return (None, Feed::Taken);
            }
            return (
                None,
                if t.is_empty() {
                    Feed::Blank
                } else {
                    Feed::Other
                },
            );
        };
        if !(t.starts_with('"') || t == "}" || t == "},") {
            // Not a field line: the object was cut short.
            return (self.close(), Feed::Other);
        }
        e.take(no);
        if t.starts_with("\"MESSAGE\"") && e.msg_line.is_none() {
            e.msg_line = Some(no);
            e.raw = line.to_string();
        }
        self.text.push('\n');
        self.text.push_str(line);
        if t.starts_with('}') {
            return (self.close(), Feed::Taken);
        }
        (None, Feed::Taken)
    }

    pub fn finish(&mut self) -> Option<Entry> {
        self.close()
    }

    /// Parse the object read so far into the open entry.
    fn close(&mut self) -> Option<Entry> {
        let mut e = self.cur.take()?;
        let text = self.text.trim_end().trim_end_matches(',');
        e.head = journal_json::parse_owned(text);
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_object() {
        let text = "{\n\t\"__REALTIME_TIMESTAMP\" : \"1778280068000000\",\n\t\"_PID\" : \"7\",\n\t\"MESSAGE\" : \"a\\nb\"\n}\n{\n\t\"MESSAGE\" : \"cut";
        let mut r = Reader::default();
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            entries.extend(r.push(u32::try_from(i + 1).unwrap(), line).0);
        }
        entries.extend(r.finish());
        assert_eq!(entries.len(), 2);
        let h = entries[0].head.as_ref().unwrap();
        assert_eq!((h.pid, h.message.as_ref()), (Some(7), "a"));
        assert_eq!(h.continuation, ["b"]);
        assert_eq!((entries[0].msg_line, entries[0].end), (Some(4), 5));
        assert!(entries[1].head.is_none());
    }
}

//! journalctl `-o verbose`: a header line `Sun 2025-11-23 14:00:00.000962 UTC [s=…;i=…;b=…;m=…;
//! t=…;x=…]`, then every field as `    FIELD=value`; continuation lines of a multi-line value
//! are indented to the value's column. The instant is the cursor's `t=` (realtime µs, hex),
//! else the header's date, time and zone.

use super::entry::{is_field_name, Entry, Feed};
use super::journal::full_stamp;
use crate::model::Shape;

/// The realtime in a cursor `[s=…;i=…;b=…;m=…;t=…;x=…]`, as decimal microseconds.
fn cursor_realtime(cursor: &str) -> Option<String> {
    let inner = cursor.strip_prefix('[')?.strip_suffix(']')?;
    let t = inner.split(';').find_map(|kv| kv.strip_prefix("t="))?;
    u64::from_str_radix(t, 16).ok().map(|us| us.to_string())
}

/// The verbose reader.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    cur: Option<Entry>,
    /// The field the last field line set (multi-line values continue it).
    last: Option<String>,
}

impl Reader {
    pub fn push(&mut self, no: u32, line: &str) -> (Option<Entry>, Feed) {
        if let Some((ndt, zone, rest)) = full_stamp(line) {
            if rest.starts_with("[s=") && rest.ends_with(']') {
                let mut e = Entry::new(Shape::JournalVerbose, no);
                e.take(no);
                e.fields.realtime = cursor_realtime(rest);
                e.header = Some((ndt, zone.to_string()));
                self.last = None;
                return (self.cur.replace(e), Feed::Taken);
            }
        }
        if line.trim().is_empty() {
            return (None, Feed::Blank);
        }
        let Some(e) = self.cur.as_mut() else {
            return (None, Feed::Other);
        };
        if let Some((name, value)) = line
            .strip_prefix("    ")
            .and_then(|f| f.split_once('='))
            .filter(|(name, _)| is_field_name(name))
        {
            e.take(no);
            if name == "MESSAGE" && e.msg_line.is_none() {
                e.msg_line = Some(no);
                e.raw = line.to_string();
            }
            e.set(name, value);
            self.last = Some(name.to_string());
            return (None, Feed::Taken);
        }
        if let Some(name) = &self.last {
            let col = 4 + name.len() + 1;
            let pad = line.get(..col).unwrap_or("");
            if pad.len() == col && pad.bytes().all(|b| b == b' ') {
                e.take(no);
                if name == "MESSAGE" && e.msg_line.is_some() {
                    if let Some(m) = e.fields.message.as_mut() {
                        m.push('\n');
                        m.push_str(&line[col..]);
                        e.msg_lines.push(no);
                    }
                }
                return (None, Feed::Taken);
            }
        }
        self.last = None;
        (self.cur.take(), Feed::Other)
    }

    pub fn finish(&mut self) -> Option<Entry> {
        self.cur.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_multiline_message() {
        let text = "Fri 2026-05-08 22:41:08.000000 UTC [s=a;i=1;b=b;m=1;t=6515617c3a900;x=c]\n    _PID=7\n    MESSAGE=Traceback (most recent call last):\n              File \"x\"\n    SYSLOG_IDENTIFIER=python\nFri 2026-05-08 22:41:09.000000 UTC [s=a;i=2;b=b;m=2;t=6515617d2eb40;x=c]\n    MESSAGE=next\nother";
        let mut r = Reader::default();
        let mut entries = Vec::new();
        let mut feeds = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let (done, feed) = r.push(u32::try_from(i + 1).unwrap(), line);
            entries.extend(done);
            feeds.push(feed);
        }
        entries.extend(r.finish());
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.fields.realtime.as_deref(), Some("1778280068000000"));
        assert_eq!(
            e.fields.message.as_deref(),
            Some("Traceback (most recent call last):\n  File \"x\"")
        );
        assert_eq!((e.msg_line, e.msg_lines.as_slice()), (Some(3), &[4][..]));
        assert_eq!((e.start, e.end, e.lines), (1, 5, 5));
        assert_eq!(entries[1].fields.message.as_deref(), Some("next"));
        assert_eq!(feeds.last(), Some(&Feed::Other));
    }
}

//! journalctl `-o export`: `FIELD=value` lines, an empty line after each entry. A field whose
//! value is not printable text (a multi-line `MESSAGE`, for one) is written binary-safe: its
//! name alone on a line, then a little-endian u64 length, the bytes, and a newline. The lines
//! come here split at every newline and lossily decoded, so such a value is put back together
//! from as many lines as its length covers; a length byte that did not survive decoding
//! (>= 0x80) leaves a range of lengths, and the value ends at the first line end within it. A
//! value cut short (end of input, or the next entry's `__CURSOR=`) keeps what was read.

use super::entry::{is_field_name, Entry, Feed};
use crate::model::Shape;

/// Longest binary value believed; a larger length is a damaged prefix.
const MAX_VALUE: u64 = 64 * 1024 * 1024;

/// A binary-safe field being read.
#[derive(Debug)]
struct Binary {
    name: String,
    /// The lines after the name, joined with `\n` (the newlines they were split at).
    buf: String,
    /// The input line of each piece of `buf`.
    lines: Vec<u32>,
}

/// Where the value starts in `buf` and the range of lengths its prefix allows; `None` while
/// fewer than 8 length bytes were read.
fn prefix(buf: &str) -> Option<(usize, u64, u64)> {
    let (mut lo, mut hi, mut n) = (0u64, 0u64, 0u32);
    for (at, c) in buf.char_indices() {
        if n == 8 {
            return Some((at, lo, hi));
        }
        let mut bytes = [0u8; 4];
        // A replacement character stands for one byte >= 0x80 that did not decode.
        let (los, his): (&[u8], &[u8]) = if c == char::REPLACEMENT_CHARACTER {
            (&[0x80], &[0xff])
        } else {
            let b: &[u8] = c.encode_utf8(&mut bytes).as_bytes();
            (b, b)
        };
        for (l, h) in los.iter().zip(his) {
            if n == 8 {
                // A multi-byte character across the prefix end: the length is damaged.
                return Some((at + c.len_utf8(), u64::MAX, u64::MAX));
            }
            lo |= u64::from(*l) << (8 * n);
            hi |= u64::from(*h) << (8 * n);
            n += 1;
        }
    }
    (n == 8).then_some((buf.len(), lo, hi))
}

/// The export reader.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    cur: Option<Entry>,
    bin: Option<Binary>,
}

impl Reader {
    pub fn push(&mut self, no: u32, line: &str) -> (Option<Entry>, Feed) {
        if self.bin.is_some() {
            if line.starts_with("__CURSOR=") {
                // The value was cut short: the next entry starts here.
                self.end_binary(None);
                let done = self.cur.take();
                return (done, self.field(no, line));
            }
            self.binary_line(no, line);
            return (None, Feed::Taken);
        }
        if line.is_empty() {
            return (self.cur.take(), Feed::Blank);
        }
        match self.field(no, line) {
            Feed::Other => (self.cur.take(), Feed::Other),
            feed => (None, feed),
        }
    }

    pub fn finish(&mut self) -> Option<Entry> {
        self.end_binary(None);
        self.cur.take()
    }

    /// A `FIELD=value` line, or a binary field's name inside an entry.
    fn field(&mut self, no: u32, line: &str) -> Feed {
        match line.split_once('=') {
            Some((name, value)) if is_field_name(name) => {
                let e = self
                    .cur
                    .get_or_insert_with(|| Entry::new(Shape::JournalExport, no));
                e.take(no);
                if name == "MESSAGE" && e.msg_line.is_none() {
                    e.msg_line = Some(no);
                    e.raw = line.to_string();
                }
                e.set(name, value);
                Feed::Taken
            }
            None if self.cur.is_some() && is_field_name(line) => {
                if let Some(e) = self.cur.as_mut() {
                    e.take(no);
                }
                self.bin = Some(Binary {
                    name: line.to_string(),
                    buf: String::new(),
                    lines: Vec::new(),
                });
                Feed::Taken
            }
            _ => Feed::Other,
        }
    }

    /// A line of a binary value; ends the value when its length is reached.
    fn binary_line(&mut self, no: u32, line: &str) {
        let Some(b) = self.bin.as_mut() else { return };
        if !b.lines.is_empty() {
            b.buf.push('\n');
        }
        b.buf.push_str(line);
        b.lines.push(no);
        if let Some(e) = self.cur.as_mut() {
            e.take(no);
        }
        if let Some((at, lo, hi)) = prefix(&b.buf) {
            let len = (b.buf.len() - at) as u64;
            if len >= lo || lo > MAX_VALUE || hi == u64::MAX {
                self.end_binary(Some(at));
            }
        }
    }

    /// Store the binary value read so far (`at`: where it starts after the length).
    fn end_binary(&mut self, at: Option<usize>) {
        let (Some(b), Some(e)) = (self.bin.take(), self.cur.as_mut()) else {
            return;
        };
        let at = at
            .or_else(|| prefix(&b.buf).map(|p| p.0))
            .unwrap_or(b.buf.len());
        let value = b.buf.get(at..).unwrap_or("");
        if b.name == "MESSAGE" && e.msg_line.is_none() {
            // The value's lines: piece k of the value is on the line after the pieces the
            // length prefix spanned.
            let first = b.buf[..at].matches('\n').count();
            let lines = b.lines.get(first..).unwrap_or_default();
            e.msg_line = lines.first().copied();
            e.msg_lines = lines.iter().skip(1).copied().collect();
            e.raw = format!("MESSAGE={}", value.lines().next().unwrap_or(""));
        }
        e.set(&b.name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(value: &[u8]) -> Vec<u8> {
        let mut v = b"MESSAGE\n".to_vec();
        v.extend_from_slice(&(value.len() as u64).to_le_bytes());
        v.extend_from_slice(value);
        v.push(b'\n');
        v
    }

    fn read(bytes: &[u8]) -> (Vec<Entry>, Vec<Feed>) {
        let text = String::from_utf8_lossy(bytes);
        let mut r = Reader::default();
        let (mut entries, mut feeds) = (Vec::new(), Vec::new());
        for (i, line) in text.split('\n').enumerate() {
            let (done, feed) = r.push(u32::try_from(i + 1).unwrap(), line);
            entries.extend(done);
            feeds.push(feed);
        }
        entries.extend(r.finish());
        (entries, feeds)
    }

    #[test]
    fn binary_message_across_lines() {
        for len in [3usize, 10, 130, 200, 300, 1000] {
            let mut msg = String::from("Traceback (most recent call last):\n  File \"x\"\n");
            while msg.len() < len {
                msg.push('y');
            }
            let mut input =
                b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1778280068000000\n_PID=7\n".to_vec();
            input.extend(binary(msg.as_bytes()));
            input.extend_from_slice(b"SYSLOG_IDENTIFIER=python\n\n__CURSOR=s=2\nMESSAGE=next\n\n");
            let (entries, _) = read(&input);
            assert_eq!(entries.len(), 2, "{len}");
            assert_eq!(
                entries[0].fields.message.as_deref(),
                Some(msg.as_str()),
                "{len}"
            );
            assert_eq!(
                entries[0].fields.syslog_identifier.as_deref(),
                Some("python")
            );
            assert_eq!(entries[0].msg_line, Some(5), "{len}");
            assert_eq!(entries[0].msg_lines, [6, 7], "{len}");
            assert_eq!(entries[1].fields.message.as_deref(), Some("next"));
        }
    }

    #[test]
    fn truncated_binary_message_keeps_what_was_read() {
        let mut input = b"__CURSOR=s=1\nMESSAGE\n".to_vec();
        input.extend_from_slice(&500u64.to_le_bytes());
        input.extend_from_slice(b"cut short\n__CURSOR=s=2\nMESSAGE=next\n");
        let (entries, _) = read(&input);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].fields.message.as_deref(), Some("cut short"));
        assert_eq!(entries[1].fields.message.as_deref(), Some("next"));
    }

    #[test]
    fn other_lines_are_not_taken() {
        let (entries, feeds) = read(b"2026-05-08T18:41:08-0400 gw-1 python[7]: m\nOK\n");
        assert!(entries.is_empty());
        assert_eq!(feeds, [Feed::Other, Feed::Other, Feed::Blank]);
    }
}

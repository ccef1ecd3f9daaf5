//! journalctl `-o json-sse` (`data: {…}` then an empty line, Server-Sent Events) and
//! `-o json-seq` (RFC 7464: 0x1E, the object, LF): one journal JSON entry per line behind a
//! frame prefix.

use super::{journal_json, Head};
use crate::model::Shape;

/// Parse a `data: {…}` line.
pub(crate) fn parse_sse(line: &str) -> Option<Head<'_>> {
    let json = line.strip_prefix("data:")?;
    let mut h = journal_json::parse(json.strip_prefix(' ').unwrap_or(json))?;
    h.shape = Shape::JournalJsonSse;
    Some(h)
}

/// Parse a `\x1e{…}` line.
pub(crate) fn parse_seq(line: &str) -> Option<Head<'_>> {
    let mut h = journal_json::parse(line.strip_prefix('\u{1e}')?)?;
    h.shape = Shape::JournalJsonSeq;
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_entries() {
        let obj = r#"{"__REALTIME_TIMESTAMP":"1778280068000000","_PID":"7","SYSLOG_IDENTIFIER":"python","MESSAGE":"m"}"#;
        let sse = format!("data: {obj}");
        let h = parse_sse(&sse).unwrap();
        assert_eq!((h.shape, h.pid), (Shape::JournalJsonSse, Some(7)));
        let seq = format!("\u{1e}{obj}");
        let h = parse_seq(&seq).unwrap();
        assert_eq!((h.shape, h.message.as_ref()), (Shape::JournalJsonSeq, "m"));
        assert!(parse_sse("data: not json").is_none());
        assert!(parse_seq(obj).is_none());
    }
}

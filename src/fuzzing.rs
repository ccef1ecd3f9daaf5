//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay their crash
//! inputs (`fixtures/fuzz-regressions/<target>/`). Each takes arbitrary bytes, runs one input
//! parser on them and checks the invariants that must hold for any input; a violated invariant
//! panics so that the fuzzer records the input.

use crate::auth;
use crate::classify::{self, details};
use crate::model::Record;
use crate::parse::{InputFormat, Parser, TimeContext};
use crate::redact::redact;

/// Every `--input-format` value, `Auto` first.
pub const FORMATS: [InputFormat; 21] = [
    InputFormat::Auto,
    InputFormat::AgentLog,
    InputFormat::Verbose,
    InputFormat::JournalShort,
    InputFormat::JournalShortPrecise,
    InputFormat::JournalShortIso,
    InputFormat::JournalShortIsoPrecise,
    InputFormat::JournalShortFull,
    InputFormat::JournalShortUnix,
    InputFormat::JournalJson,
    InputFormat::JournalCat,
    InputFormat::Desktop,
    InputFormat::Paste,
    InputFormat::JournalShortMonotonic,
    InputFormat::JournalShortDelta,
    InputFormat::JournalWithUnit,
    InputFormat::JournalJsonPretty,
    InputFormat::JournalJsonSse,
    InputFormat::JournalJsonSeq,
    InputFormat::JournalVerbose,
    InputFormat::JournalExport,
];

/// A fuzz entry point: arbitrary bytes in, panics only on a violated invariant.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the directory names under `fixtures/fuzz-regressions/`).
pub const TARGETS: [(&str, Target); 6] = [
    ("parse_line", parse_line),
    ("classify", classify_record),
    ("details", details),
    ("auth_json", auth_json),
    ("auth_list", auth_list),
    ("redact", redact_text),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Parse `data` as log lines; the first byte picks the format. Checks the line accounting
/// (`lines == blank + meta + records + continuation`) and classifies every record.
pub fn parse_line(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(sel) % FORMATS.len()];
    let ctx = TimeContext {
        tz: (sel & 0x80 != 0).then_some(chrono_tz::America::New_York),
        date: chrono::NaiveDate::from_ymd_opt(2026, 5, 8),
        year: Some(2026),
    };
    let mut parser = Parser::new(0, format, ctx);
    let mut records = Vec::new();
    let mut n = 0u32;
    for line in text(rest).split('\n') {
        n += 1;
        parser.push(n, line, &mut records);
    }
    parser.finish(&mut records);
    let stats = parser.stats();
    assert_eq!(stats.lines, u64::from(n));
    assert_eq!(
        stats.lines,
        stats.blank + stats.meta + stats.records + stats.continuation,
        "line accounting: {stats:?}"
    );
    assert_eq!(records.len() as u64, stats.records + stats.packed);
    for r in &records {
        let _ = classify::classify(r);
    }
}

/// A bare record whose message is the first line of `data` and whose continuation lines are
/// the rest; classified, then classified again as an agent-log record.
pub fn classify_record(data: &[u8]) {
    let text = text(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let mut parser = Parser::new(0, InputFormat::JournalCat, TimeContext::default());
    let mut records: Vec<Record> = Vec::new();
    parser.push(1, "x", &mut records);
    parser.finish(&mut records);
    let Some(mut record) = records.pop() else {
        return;
    };
    record.message = first.to_string();
    record.raw = first.to_string();
    record.continuation = (2..).zip(lines.map(str::to_string)).collect();
    let _ = classify::classify(&record);
    record.shape = crate::model::Shape::AgentLog;
    let kind = classify::classify(&record);
    let _ = classify::event_failure_class(&kind);
}

/// The error-body parser and the status scanner.
pub fn details(data: &[u8]) {
    let text = text(data);
    let _ = details::parse_details(&text);
    let _ = details::status_from_text(&text);
    let _ = details::epoch_value(&text);
}

/// auth.json: parse (errors are fine), and the sniffing used to detect it.
pub fn auth_json(data: &[u8]) {
    let text = text(data);
    let _ = auth::json::looks_like_auth_json(&text);
    if let Err(e) = auth::json::parse_auth_json(&text) {
        assert!(!e.message.is_empty(), "auth.json error without a message");
    }
}

/// `hermes auth list`: every non-blank line is a row, a provider header or counted as ignored.
pub fn auth_list(data: &[u8]) {
    let text = text(data);
    let lines: Vec<&str> = text.lines().collect();
    let _ = auth::list::looks_like_auth_list(&lines);
    let (rows, ignored) = auth::list::parse_auth_list(&text);
    let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count() as u64;
    assert!(rows.len() as u64 + ignored <= non_blank);
}

/// Redaction never panics and is idempotent.
pub fn redact_text(data: &[u8]) {
    let text = text(data);
    let once = redact(&text);
    let twice = redact(&once);
    assert_eq!(once, twice, "redact is not idempotent");
}

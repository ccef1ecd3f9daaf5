//! Line-shape parsing through the public `Parser` API: fixtures per shape, corpus inputs, odd
//! input.

use chrono::{DateTime, NaiveDate, Utc};
use hermes_forensics::model::{Level, Record, Shape, TimeBasis};
use hermes_forensics::parse::{detect, InputFormat, ParseStats, Parser, TimeContext};
use std::path::{Path, PathBuf};

struct Parsed {
    records: Vec<Record>,
    stats: ParseStats,
    warnings: Vec<String>,
    format: InputFormat,
}

fn lines(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        v.pop();
    }
    v
}

/// Detect the format from the first lines (unless forced), then parse every line.
fn parse_text(text: &str, forced: Option<InputFormat>, ctx: TimeContext) -> Parsed {
    let all = lines(text);
    let format = forced.unwrap_or_else(|| detect(&all[..all.len().min(50)]));
    let mut parser = Parser::new(0, format, ctx);
    let mut records = Vec::new();
    for (i, line) in all.iter().enumerate() {
        parser.push(u32::try_from(i + 1).unwrap(), line, &mut records);
    }
    parser.finish(&mut records);
    let stats = parser.stats();
    assert_eq!(stats.lines, all.len() as u64);
    assert_eq!(
        stats.lines,
        stats.blank + stats.meta + stats.records + stats.continuation,
        "every line accounted for: {stats:?}"
    );
    assert_eq!(stats.records, records.len() as u64);
    for r in &records {
        assert!(r.end_line >= r.loc.line);
        assert!(r
            .continuation
            .iter()
            .all(|(n, _)| *n >= r.loc.line && *n <= r.end_line));
    }
    Parsed {
        records,
        stats,
        warnings: parser.warnings(),
        format,
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .into_owned()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn shape_file(shape: &str, kind: &str) -> Parsed {
    parse_text(
        &read(&fixture(&format!("shapes/{shape}/{kind}.log"))),
        None,
        TimeContext::default(),
    )
}

fn utc(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn cont_lines(r: &Record) -> Vec<u32> {
    r.continuation.iter().map(|(n, _)| *n).collect()
}

const SHAPES: [&str; 23] = [
    "agent-log",
    "verbose",
    "journal-short",
    "journal-short-precise",
    "journal-short-iso",
    "journal-short-iso-precise",
    "journal-short-full",
    "journal-short-unix",
    "journal-short-monotonic",
    "journal-short-delta",
    "journal-with-unit",
    "journal-cat",
    "journal-json",
    "journal-json-pretty",
    "journal-json-sse",
    "journal-json-seq",
    "journal-verbose",
    "journal-export",
    "stripped-journal",
    "desktop",
    "zoned-paste",
    "grep-n",
    "console-block",
];

#[test]
fn every_fixture_parses_and_accounts_for_every_line() {
    for shape in SHAPES {
        for kind in ["valid", "edge", "malformed", "mixed"] {
            if !fixture(&format!("shapes/{shape}/{kind}.log")).exists() {
                continue;
            }
            let p = shape_file(shape, kind);
            assert!(p.stats.lines > 0, "{shape}/{kind}");
            // Forced formats never lose lines either.
            let text = read(&fixture(&format!("shapes/{shape}/{kind}.log")));
            let forced = parse_text(&text, Some(p.format), TimeContext::default());
            assert_eq!(forced.stats.lines, p.stats.lines);
        }
    }
}

#[test]
fn valid_fixtures_have_their_shape_and_format() {
    let expect = [
        ("agent-log", Shape::AgentLog, InputFormat::AgentLog),
        ("verbose", Shape::Verbose, InputFormat::Verbose),
        (
            "journal-short",
            Shape::JournalShort,
            InputFormat::JournalShort,
        ),
        (
            "journal-short-precise",
            Shape::JournalShortPrecise,
            InputFormat::JournalShortPrecise,
        ),
        (
            "journal-short-iso",
            Shape::JournalShortIso,
            InputFormat::JournalShortIso,
        ),
        (
            "journal-short-iso-precise",
            Shape::JournalShortIsoPrecise,
            InputFormat::JournalShortIsoPrecise,
        ),
        (
            "journal-short-full",
            Shape::JournalShortFull,
            InputFormat::JournalShortFull,
        ),
        (
            "journal-short-unix",
            Shape::JournalShortUnix,
            InputFormat::JournalShortUnix,
        ),
        ("journal-cat", Shape::Bare, InputFormat::JournalCat),
        ("journal-json", Shape::JournalJson, InputFormat::JournalJson),
        (
            "journal-short-monotonic",
            Shape::JournalShortMonotonic,
            InputFormat::JournalShortMonotonic,
        ),
        (
            "journal-short-delta",
            Shape::JournalShortDelta,
            InputFormat::JournalShortDelta,
        ),
        (
            "journal-with-unit",
            Shape::JournalWithUnit,
            InputFormat::JournalWithUnit,
        ),
        (
            "journal-json-pretty",
            Shape::JournalJsonPretty,
            InputFormat::JournalJsonPretty,
        ),
        (
            "journal-json-sse",
            Shape::JournalJsonSse,
            InputFormat::JournalJsonSse,
        ),
        (
            "journal-json-seq",
            Shape::JournalJsonSeq,
            InputFormat::JournalJsonSeq,
        ),
        (
            "journal-verbose",
            Shape::JournalVerbose,
            InputFormat::JournalVerbose,
        ),
        (
            "journal-export",
            Shape::JournalExport,
            InputFormat::JournalExport,
        ),
        (
            "stripped-journal",
            Shape::StrippedJournal,
            InputFormat::Paste,
        ),
        ("desktop", Shape::Desktop, InputFormat::Desktop),
        ("zoned-paste", Shape::ZonedPaste, InputFormat::Paste),
        ("console-block", Shape::Bare, InputFormat::JournalCat),
    ];
    for (dir, shape, format) in expect {
        let p = shape_file(dir, "valid");
        assert_eq!(p.format, format, "{dir}");
        assert!(!p.records.is_empty(), "{dir}");
        for r in &p.records {
            assert_eq!(r.shape, shape, "{dir}: {}", r.raw);
        }
    }
}

#[test]
fn agent_log_fields_and_tracebacks() {
    let p = shape_file("agent-log", "valid");
    assert_eq!(p.records.len(), 5);
    let r = &p.records[0];
    assert_eq!(r.level, Some(Level::Info));
    assert_eq!(r.session.as_deref(), Some("20260815_232112_71febe"));
    assert_eq!(r.logger.as_deref(), Some("agent.conversation_loop"));
    assert!(r.message.starts_with("API call #20: model=deepseek"));
    assert_eq!(r.time.utc, utc("2026-08-15T23:33:34.916Z"));
    assert_eq!(r.time.basis, TimeBasis::AssumedUtc);
    assert_eq!(r.time.tod_ms, Some((23 * 3600 + 33 * 60 + 34) * 1000 + 916));
    assert_eq!(p.records[1].session, None);
    let err = &p.records[3];
    assert_eq!(
        (err.level, err.logger.as_deref()),
        (Some(Level::Error), Some("root"))
    );
    assert_eq!(cont_lines(err), vec![5, 6, 7, 8]);
    assert_eq!(err.end_line, 8);
    assert_eq!(
        err.continuation[3].1,
        "openai.NotFoundError: 404 page not found"
    );
    let last = &p.records[4];
    assert_eq!(last.loc.line, 9);
    assert_eq!(last.time.utc, utc("2026-05-27T09:29:54Z"));
    assert_eq!(p.stats.continuation, 4);
    assert_eq!(p.stats.unzoned_times, 5);
}

#[test]
fn agent_log_abbreviated_forms() {
    let p = shape_file("agent-log", "edge");
    let r = &p.records;
    assert_eq!(r.len(), 6);
    assert_eq!(r[0].session.as_deref(), Some("cron_006bda9176a7..."));
    assert_eq!(
        (r[1].level, r[1].logger.as_deref()),
        (Some(Level::Warning), None)
    );
    assert_eq!(r[1].time.basis, TimeBasis::TimeOfDayOnly);
    assert_eq!(
        r[1].time.tod_ms,
        Some((17 * 3600 + 58 * 60 + 42) * 1000 + 739)
    );
    assert!(r[2]
        .message
        .starts_with("Fallback to nvidia/nvidia/nemotron-3-ultra-550b-a55b: clearing"));
    assert_eq!(r[3].logger.as_deref(), Some("agent.credential_pool"));
    assert_eq!(r[3].time.basis, TimeBasis::None);
    assert_eq!(
        (r[5].level, r[5].message.as_str()),
        (Some(Level::Critical), "")
    );
    assert!(p.warnings.iter().any(|w| w.contains("--date")));
    // With --date the time-of-day lines get an instant.
    let ctx = TimeContext {
        date: NaiveDate::from_ymd_opt(2026, 6, 1),
        ..TimeContext::default()
    };
    let text = read(&fixture("shapes/agent-log/edge.log"));
    let p = parse_text(&text, None, ctx);
    assert_eq!(p.records[1].time.basis, TimeBasis::DateFromFlag);
    assert_eq!(p.records[1].time.utc, utc("2026-06-01T17:58:42.739Z"));
}

#[test]
fn agent_log_source_keeps_pasted_console_lines_apart() {
    let p = shape_file("agent-log", "mixed");
    assert_eq!(p.format, InputFormat::AgentLog);
    let r = &p.records;
    assert_eq!(r.len(), 4);
    assert_eq!(cont_lines(&r[0]), vec![2, 3, 4]);
    assert!(r[1].continuation.is_empty());
    assert_eq!((r[2].shape, cont_lines(&r[2])), (Shape::Bare, vec![7]));
    assert_eq!(r[3].subagent, Some(1));
}

#[test]
fn malformed_dated_lines_are_kept_as_records() {
    let p = shape_file("agent-log", "malformed");
    // Invalid dates: not agent-log records (no panic); kept as bare or pasted lines.
    assert_eq!(p.stats.lines, 6);
    for r in &p.records {
        if r.raw.starts_with("2026-13") || r.raw.starts_with("2026-02-30") {
            assert_eq!(r.shape, Shape::Bare);
            assert_eq!(r.time.utc, None);
        }
    }
    let p = parse_text(
        &read(&fixture("shapes/agent-log/malformed.log")),
        None,
        TimeContext::default(),
    );
    assert!(p
        .records
        .iter()
        .all(|r| r.shape != Shape::AgentLog || r.raw.contains(" INFO")));
}

#[test]
fn verbose_lines() {
    let p = shape_file("verbose", "valid");
    let r = &p.records[0];
    assert_eq!(r.logger.as_deref(), Some("run_agent"));
    assert_eq!(r.session.as_deref(), Some("20260522_141707_c0c038"));
    assert_eq!(r.level, Some(Level::Warning));
    assert!(r
        .message
        .starts_with("Retrying API call in 4.207433208483075s"));
    assert_eq!(r.time.basis, TimeBasis::TimeOfDayOnly);
    let p = shape_file("verbose", "edge");
    assert_eq!(p.records[0].time.utc, utc("2026-05-22T14:17:12.155Z"));
    assert_eq!(p.records[1].message, "");
    assert_eq!(p.records[2].message, "message - with - dashes");
    let p = shape_file("verbose", "malformed");
    assert!(p.records.iter().all(|r| r.shape != Shape::Verbose));
}

#[test]
fn journal_short_year_and_meta() {
    let p = shape_file("journal-short", "valid");
    assert_eq!(p.stats.meta, 3);
    assert_eq!(p.records.len(), 3);
    let r = &p.records[0];
    assert_eq!(
        (r.host.as_deref(), r.ident.as_deref(), r.pid),
        (Some("gw-1"), Some("python"), Some(2_844_586))
    );
    assert_eq!(
        (r.level, r.logger.as_deref()),
        (Some(Level::Warning), Some("agent.conversation_loop"))
    );
    assert_eq!(r.time.utc, None);
    assert_eq!(r.time.basis, TimeBasis::TimeOfDayOnly);
    assert!(p.warnings.iter().any(|w| w.contains("--year")));
    assert_eq!(
        p.records[1].message,
        "⏱️ Rate limited. Waiting 2.1s (attempt 2/4)..."
    );
    let sys = &p.records[2];
    assert_eq!((sys.ident.as_deref(), sys.pid), (Some("systemd"), Some(1)));
    assert!(sys
        .message
        .starts_with("hermes-gateway.service: Scheduled restart job"));

    let ctx = TimeContext {
        year: Some(2026),
        tz: Some(chrono_tz::America::New_York),
        ..TimeContext::default()
    };
    let p = parse_text(&read(&fixture("shapes/journal-short/valid.log")), None, ctx);
    assert_eq!(p.records[0].time.basis, TimeBasis::YearFromFlag);
    assert_eq!(p.records[0].time.utc, utc("2026-05-08T22:41:08Z"));
    assert_eq!(p.records[1].time.utc, utc("2026-05-08T22:41:09Z"));
    assert!(p.warnings.is_empty());
}

#[test]
fn journal_short_no_hostname_and_multiline_message() {
    let p = shape_file("journal-short", "edge");
    let r = &p.records;
    assert_eq!(
        (r[0].host.as_deref(), r[0].ident.as_deref()),
        (None, Some("python3.11"))
    );
    assert_eq!(r[0].logger.as_deref(), Some("gateway.run"));
    assert_eq!((r[1].ident.as_deref(), r[1].pid), (Some("hermes"), None));
    assert_eq!(r[2].message, "Traceback (most recent call last):");
    assert_eq!(cont_lines(&r[2]), vec![4, 5]);
    assert_eq!(r[2].continuation[1].1, "ValueError: boom");
    assert_eq!(p.stats.meta, 1);
    // A logged exception whose traceback lines are separate journal entries.
    assert_eq!(r[3].level, Some(Level::Error));
    assert_eq!(cont_lines(&r[3]), vec![8, 9, 10]);
    assert_eq!(r[3].continuation[2].1, "KeyError: 'x'");
    // A detail line without a console head stays its own record.
    assert_eq!((r.len(), r[4].loc.line), (5, 11));
    let p = shape_file("journal-short", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn journal_precise_detail_lines_join_their_attempt() {
    let p = shape_file("journal-short-precise", "valid");
    assert_eq!(p.records.len(), 1);
    let r = &p.records[0];
    assert_eq!(r.time.tod_ms, Some((18 * 3600 + 41 * 60 + 8) * 1000));
    assert_eq!(cont_lines(r), vec![2, 3]);
    assert_eq!(
        r.continuation[0].1,
        "   🔌 Provider: openai-codex  Model: gpt-5.5"
    );
    assert_eq!(r.end_line, 3);
    let p = shape_file("journal-short-precise", "edge");
    assert_eq!(
        p.records[0].time.tod_ms,
        Some((18 * 3600 + 41 * 60 + 8) * 1000 + 500)
    );
    let p = shape_file("journal-short-precise", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn journal_iso_offsets_are_exact() {
    let p = shape_file("journal-short-iso", "valid");
    assert_eq!(p.records.len(), 2);
    assert_eq!(p.records[0].time.utc, utc("2026-05-08T22:41:08Z"));
    assert_eq!(p.records[0].time.basis, TimeBasis::Exact);
    assert_eq!(cont_lines(&p.records[0]), vec![2]);
    assert_eq!(p.records[1].time.utc, utc("2026-05-08T22:41:10Z"));
    let p = shape_file("journal-short-iso", "edge");
    let r = &p.records[0];
    assert_eq!(
        (r.host.as_deref(), r.ident.as_deref()),
        (None, Some("python"))
    );
    assert_eq!(r.session.as_deref(), Some("20260508_184000_abcdef"));
    assert_eq!(r.time.utc, utc("2026-05-08T13:11:08Z"));
    assert_eq!(p.records[1].time.utc, utc("2026-05-08T18:41:08Z"));
    let p = shape_file("journal-short-iso", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));

    let p = shape_file("journal-short-iso-precise", "valid");
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.records[0].time.utc, utc("2026-05-08T22:41:08.123456Z"));
    assert_eq!(
        p.records[0].continuation[0].1,
        "   💀 Final error: HTTP 429: The usage limit has been reached"
    );
    let p = shape_file("journal-short-iso-precise", "edge");
    assert_eq!(p.records[0].host.as_deref(), Some("agent-host"));
    let p = shape_file("journal-short-iso-precise", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn journal_full_and_unix() {
    let p = shape_file("journal-short-full", "valid");
    assert_eq!(p.records[0].time.utc, utc("2025-11-23T14:00:00Z"));
    assert_eq!(p.records[0].time.basis, TimeBasis::Exact);
    assert_eq!(p.records[1].time.utc, utc("2026-05-08T22:41:08Z"));
    assert_eq!(p.records[1].time.basis, TimeBasis::Zone);
    let p = shape_file("journal-short-full", "edge");
    assert_eq!(p.records[0].time.basis, TimeBasis::AssumedUtc);
    assert!(p.warnings.iter().any(|w| w.contains("CST")));
    assert_eq!(p.records[1].time.utc, utc("2026-05-27T06:28:42Z"));
    let p = shape_file("journal-short-full", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));

    let p = shape_file("journal-short-unix", "valid");
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.records[0].time.utc, utc("2025-11-23T14:00:00.000962Z"));
    assert_eq!(p.records[0].continuation.len(), 1);
    let p = shape_file("journal-short-unix", "edge");
    assert_eq!(
        (p.records[0].host.as_deref(), p.records[0].pid),
        (None, Some(4242))
    );
    let p = shape_file("journal-short-unix", "malformed");
    assert_eq!(p.records[1].shape, Shape::Bare);
}

#[test]
fn journal_cat_console_block_and_stderr_lines() {
    let p = shape_file("journal-cat", "valid");
    let r = &p.records;
    assert_eq!(r.len(), 6);
    assert_eq!(cont_lines(&r[0]), (2..=6).collect::<Vec<_>>());
    assert_eq!(
        r[1].message,
        "⚠️ Non-retryable error (HTTP 400) — trying fallback..."
    );
    assert!(r[1].continuation.is_empty());
    assert_eq!(cont_lines(&r[3]), vec![10]);
    assert_eq!(
        (r[4].level, r[4].logger.as_deref()),
        (Some(Level::Info), Some("gateway.run"))
    );
    assert_eq!(r[4].message, "Starting Hermes Gateway...");
    assert_eq!(r[5].logger.as_deref(), Some("gateway.platforms.api_server"));
    let p = shape_file("journal-cat", "edge");
    let r = &p.records;
    assert_eq!(r[0].subagent, Some(2));
    assert_eq!(
        r[0].message,
        "⚠️  API call failed (attempt 2/3): RateLimitError [HTTP 429]"
    );
    assert_eq!(r[0].continuation.len(), 1);
    assert_eq!(r[1].message, "⏳ Retrying in 2.4s (attempt 1/3)...");
    assert!(r[2].message.starts_with("{\"event\":\"profile_rotation\""));
    assert_eq!(r[2].shape, Shape::Bare);
    assert_eq!(r[3].message, "   indented text with no block");
    let p = shape_file("journal-cat", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn journal_json_entries() {
    let p = shape_file("journal-json", "valid");
    let r = &p.records;
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].time.utc, utc("2026-05-08T22:41:08Z"));
    assert_eq!(
        (r[0].host.as_deref(), r[0].ident.as_deref(), r[0].pid),
        (Some("gw-1"), Some("python"), Some(2_844_586))
    );
    assert_eq!(cont_lines(&r[0]), vec![2]);
    assert_eq!(
        (r[1].level, r[1].logger.as_deref()),
        (Some(Level::Warning), Some("agent.conversation_loop"))
    );
    let p = shape_file("journal-json", "edge");
    let r = &p.records;
    assert_eq!(r[0].message, "⚠️ bin\u{fffd}");
    assert_eq!(
        (r[1].ident.as_deref(), r[1].message.as_str()),
        (Some("python"), "")
    );
    assert_eq!(r[2].ident.as_deref(), Some("python3"));
    assert_eq!(
        r[2].continuation,
        vec![
            (3, "  File \"x.py\", line 1".to_string()),
            (3, "ValueError: boom".to_string())
        ]
    );
    let p = shape_file("journal-json", "malformed");
    assert_eq!(p.records[0].shape, Shape::Bare);
    assert_eq!(p.records[1].time.utc, None);
    assert_eq!(p.records[3].shape, Shape::Bare);
}

/// What the analysis sees of a record: everything but its shape, location and raw text.
fn seen(r: &Record, with_ident: bool) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        r.level,
        r.session,
        r.logger,
        r.host,
        r.ident.as_deref().filter(|_| with_ident),
        r.pid,
        r.subagent,
        r.message,
        r.continuation.iter().map(|(_, t)| t).collect::<Vec<_>>(),
        hermes_forensics::classify::classify(r),
    )
}

/// The same journal lines rendered in every other output mode give the records (and events)
/// their `short-iso` rendering gives; modes with wall-clock times give the same instants.
#[test]
fn journal_modes_give_the_short_iso_records() {
    let iso = corpus("partial-rotation-journal/journal-short-iso.log");
    for (mode, wall_clock) in [
        ("journal-short-monotonic", false),
        ("journal-short-delta", false),
        ("journal-with-unit", true),
        ("journal-json-pretty", true),
        ("journal-json-sse", true),
        ("journal-json-seq", true),
        ("journal-verbose", true),
        ("journal-export", true),
    ] {
        let p = shape_file(mode, "valid");
        assert_eq!(p.records.len(), iso.records.len(), "{mode}");
        let with_ident = mode != "journal-with-unit";
        for (a, b) in p.records.iter().zip(&iso.records) {
            assert_eq!(
                seen(a, with_ident),
                seen(b, with_ident),
                "{mode}: {}",
                a.raw
            );
            if wall_clock {
                assert_eq!(a.time.utc, b.time.utc, "{mode}");
                assert_eq!(a.time.basis, TimeBasis::Exact, "{mode}");
            } else {
                assert_eq!((a.time.utc, a.time.basis), (None, TimeBasis::None));
            }
            assert!(a.end_line >= a.loc.line);
        }
        assert_eq!(
            p.warnings.iter().any(|w| w.contains("seconds since boot")),
            !wall_clock,
            "{mode}: {:?}",
            p.warnings
        );
        if mode.starts_with("journal-short") {
            assert_eq!(p.stats.continuation, iso.stats.continuation, "{mode}");
        }
    }
    // The entries of a multi-line mode: the record is the MESSAGE line, the rest metadata.
    let p = shape_file("journal-verbose", "valid");
    assert_eq!(p.records[0].loc.line, 6);
    assert!(p.records[0]
        .raw
        .starts_with("    MESSAGE=⚠️  API call failed"));
    assert_eq!(cont_lines(&p.records[0]), vec![30, 54]);
    let p = shape_file("journal-export", "valid");
    // Entry 1 has its MESSAGE binary-safe: the record starts on the value's line.
    assert_eq!(p.records[0].loc.line, 12);
    assert!(p.records[0].raw.starts_with("MESSAGE=⚠️  API call failed"));
    assert_eq!(p.stats.blank, 16);
}

#[test]
fn journal_export_binary_messages() {
    let p = shape_file("journal-export", "edge");
    let r = &p.records;
    assert_eq!(r.len(), 4, "{r:#?}");
    // A logged traceback: 379 bytes, so a length byte >= 0x80 that did not decode.
    assert_eq!(
        (r[0].level, r[0].logger.as_deref()),
        (Some(Level::Warning), Some("agent.conversation_loop"))
    );
    assert_eq!((r[0].loc.line, r[0].end_line), (12, 33));
    assert_eq!(cont_lines(&r[0]), vec![13, 14, 15, 16]);
    assert!(r[0].continuation[3].1.starts_with("openai.RateLimitError"));
    assert_eq!(r[0].ident.as_deref(), Some("python"));
    // A 10-byte value: its length's first byte is a newline.
    assert_eq!(r[1].message, "a");
    assert_eq!(r[1].loc.line, 47);
    assert_eq!(r[1].continuation, vec![(48, "bcdefgh".to_string())]);
    assert_eq!(r[1].ident.as_deref(), Some("python"));
    // A one-line MESSAGE written binary-safe.
    assert!(r[2]
        .message
        .starts_with("⚠️  API call failed (attempt 1/4)"));
    assert_eq!(r[2].time.utc, utc("2026-05-08T22:41:08.000002Z"));
    // The input ends inside a MESSAGE value: what was read is kept.
    assert!(r[3]
        .message
        .starts_with("⚠️  API call failed (attempt 2/4)"));
    assert_eq!(r[3].loc.line, 109);
}

#[test]
fn journal_short_delta_and_monotonic_keep_line_order() {
    let p = shape_file("journal-short-delta", "valid");
    let lines: Vec<u32> = p.records.iter().map(|r| r.loc.line).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(p.records[0].host.as_deref(), Some("gw-1"));
}

#[test]
fn journal_short_year_rolls_over() {
    let text = "Dec 31 23:59:58 gw-1 python[7]: ⚠️  API call failed (attempt 1/4): RateLimitError [HTTP 429]\nJan 01 00:00:01 gw-1 python[7]: ⏱️ Rate limited. Waiting 2.1s (attempt 2/4)...\n";
    let ctx = TimeContext {
        year: Some(2025),
        ..TimeContext::default()
    };
    let p = parse_text(text, None, ctx);
    assert_eq!(p.records[0].time.utc, utc("2025-12-31T23:59:58Z"));
    assert_eq!(p.records[1].time.utc, utc("2026-01-01T00:00:01Z"));
}

#[test]
fn stripped_journal_and_bare_details() {
    let p = shape_file("stripped-journal", "valid");
    let r = &p.records;
    assert_eq!(r.len(), 2);
    for rec in r {
        assert_eq!(rec.pid, Some(2_844_586));
        assert_eq!(rec.continuation.len(), 1);
        assert!(rec.continuation[0].1.contains("📋 Details:"));
        assert_eq!(rec.time.basis, TimeBasis::TimeOfDayOnly);
    }
    assert_eq!(cont_lines(&r[1]), vec![4]);
    let p = shape_file("stripped-journal", "edge");
    assert_eq!(p.records[0].host.as_deref(), Some("gw-1"));
    assert_eq!(
        p.records[0].logger.as_deref(),
        Some("agent.conversation_loop")
    );
    assert_eq!(p.records[1].subagent, Some(1));
    assert_eq!(p.records[1].message, "⏳ Retrying in 2.4s (attempt 1/3)...");
    let p = shape_file("stripped-journal", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn desktop_lines() {
    let p = shape_file("desktop", "valid");
    let r = &p.records;
    assert_eq!(r[0].time.utc, utc("2026-08-25T10:50:18.453Z"));
    assert_eq!(r[0].ident.as_deref(), Some("hermes"));
    assert!(r[0].message.starts_with("⚠️ Model fallback:"));
    assert_eq!(r[1].logger.as_deref(), Some("agent.credential_pool"));
    assert_eq!(r[2].time.basis, TimeBasis::None);
    let p = shape_file("desktop", "edge");
    assert_eq!(p.records[0].subagent, Some(4));
    assert_eq!(p.records[0].time.utc, utc("2026-08-25T08:50:18.453Z"));
    assert_eq!(cont_lines(&p.records[0]), vec![2]);
    assert_eq!(p.records[1].time.basis, TimeBasis::AssumedUtc);
    let p = shape_file("desktop", "malformed");
    assert_eq!(p.records[0].shape, Shape::Bare);
    assert_eq!(p.records[1].shape, Shape::Bare);
}

#[test]
fn zoned_paste_zones() {
    let p = shape_file("zoned-paste", "valid");
    assert_eq!(p.records.len(), 3);
    assert_eq!(
        p.records[0].message,
        "Fallback activated: gpt-5.5 -> glm-5.1 (zai)"
    );
    assert_eq!(p.records[0].time.basis, TimeBasis::AssumedUtc);
    assert_eq!(p.warnings.len(), 1);
    let ctx = TimeContext {
        tz: Some(chrono_tz::Asia::Shanghai),
        ..TimeContext::default()
    };
    let p = parse_text(&read(&fixture("shapes/zoned-paste/valid.log")), None, ctx);
    assert_eq!(p.records[0].time.utc, utc("2026-05-27T06:28:42Z"));
    assert_eq!(p.records[0].time.basis, TimeBasis::Zone);
    assert!(p.warnings.is_empty());
    let p = shape_file("zoned-paste", "edge");
    let r = &p.records;
    assert_eq!(
        (r[0].time.utc, r[0].time.basis),
        (utc("2026-05-08T22:41:08Z"), TimeBasis::Zone)
    );
    assert_eq!(
        (r[1].time.utc, r[1].time.basis),
        (utc("2026-05-08T22:41:08Z"), TimeBasis::Exact)
    );
    assert_eq!(r[2].time.utc, utc("2026-05-08T10:41:08Z"));
    assert_eq!(r[3].message, "Fallback activated: a -> b (zai)");
    assert_eq!(r[3].time.basis, TimeBasis::AssumedUtc);
    assert_eq!(p.stats.unzoned_times, 1);
    assert_eq!(p.stats.zoned_times, 3);
    let p = shape_file("zoned-paste", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn grep_n_prefixes_are_stripped() {
    let p = shape_file("grep-n", "valid");
    let r = &p.records;
    assert_eq!((r.len(), p.stats.meta), (4, 1));
    assert_eq!((r[3].shape, r[3].loc.line), (Shape::AgentLog, 6));
    assert_eq!((r[0].shape, r[0].loc.line), (Shape::AgentLog, 1));
    assert_eq!(r[0].session.as_deref(), Some("20261123_150343_5dd629"));
    assert_eq!(r[1].shape, Shape::AgentLog);
    assert_eq!(r[2].shape, Shape::JournalShort);
    assert_eq!(r[2].raw, "1951:May 08 18:41:08 gw-1 python[2844586]: ⚠️  API call failed (attempt 1/4): RateLimitError [HTTP 429]");
    assert_eq!(
        r[2].continuation,
        vec![(
            4,
            "   📋 Details: {'type': 'usage_limit_reached'}".to_string()
        )]
    );
    let p = shape_file("grep-n", "edge");
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.records[0].shape, Shape::StrippedJournal);
    assert_eq!(
        p.records[0].time.tod_ms,
        Some((18 * 3600 + 41 * 60 + 8) * 1000)
    );
    assert_eq!(cont_lines(&p.records[0]), vec![2]);
    let p = shape_file("grep-n", "malformed");
    assert!(p.records.iter().all(|r| r.shape == Shape::Bare));
}

#[test]
fn console_blocks() {
    let p = shape_file("console-block", "valid");
    let r = &p.records;
    assert_eq!(r.len(), 4);
    assert_eq!(cont_lines(&r[0]), vec![2, 3, 4, 5, 6]);
    assert_eq!(
        r[0].continuation[4].1,
        "   ⏱️  Elapsed: 0.59s  Context: 2 msgs, ~2,446 tokens"
    );
    assert!(r[1].continuation.is_empty());
    assert_eq!(cont_lines(&r[2]), vec![9]);
    assert_eq!(cont_lines(&r[3]), vec![11, 12, 13]);
    let p = shape_file("console-block", "edge");
    let r = &p.records;
    assert_eq!(r.len(), 3);
    assert_eq!(cont_lines(&r[0]), vec![2, 3, 4]);
    assert_eq!(cont_lines(&r[1]), vec![7]);
    assert_eq!(r[2].message, "   📋 Details: {'after': 'blank line'}");
    assert_eq!(p.stats.blank, 2);
    let p = shape_file("console-block", "malformed");
    assert_eq!(p.records.len(), 3);
    assert_eq!(cont_lines(&p.records[1]), vec![3]);
}

// ---- corpus ----------------------------------------------------------------------------------

/// Corpus files copied into the repository (`fixtures/corpus/<case>/...`).
fn corpus(rel: &str) -> Parsed {
    parse_text(
        &read(&fixture(&format!("corpus/{rel}"))),
        None,
        TimeContext::default(),
    )
}

#[test]
fn corpus_partial_rotation_stripped_journal() {
    let p = corpus("partial-rotation-journal/input.log");
    assert_eq!(p.records.len(), 4);
    for (i, r) in p.records.iter().enumerate() {
        let line = u32::try_from(2 * i + 1).unwrap();
        assert_eq!(r.shape, Shape::StrippedJournal);
        assert_eq!(r.loc.line, line);
        assert_eq!(cont_lines(r), vec![line + 1]);
        assert!(r.continuation[0].1.trim_start().starts_with("📋 Details:"));
        assert_eq!(r.pid, Some(2_844_586));
    }
    assert!(p.records[3].message.contains("(attempt 3/4)"));
}

#[test]
fn corpus_partial_rotation_short_iso() {
    let p = corpus("partial-rotation-journal/journal-short-iso.log");
    assert_eq!(p.format, InputFormat::JournalShortIso);
    let r = &p.records;
    assert_eq!(r.len(), 8);
    let attempts: Vec<&Record> = r
        .iter()
        .filter(|r| r.message.contains("API call failed (attempt"))
        .collect();
    assert_eq!(attempts.len(), 4);
    for a in &attempts {
        assert_eq!(a.continuation.len(), 2);
        assert!(a.continuation[0].1.contains("🔌 Provider: openai-codex"));
        assert!(a.continuation[1].1.contains("📋 Details:"));
        assert_eq!(a.continuation[1].0, a.loc.line + 2);
    }
    assert!(r[2].message.starts_with("⏱️ Rate limited. Waiting 2.1s"));
    assert_eq!(r[2].time.utc, utc("2026-05-08T22:41:08Z"));
    assert!(r[6].message.starts_with("❌ Rate limited after 3 retries"));
    assert!(r[7].message.contains("trying fallback"));
    assert_eq!(p.stats.continuation, 8);
}

#[test]
fn corpus_codex_connection_errors_without_emoji() {
    let p = corpus("codex-connection-errors-negative/input.log");
    let r = &p.records;
    assert_eq!(r.len(), 2);
    assert_eq!(cont_lines(&r[0]), vec![2, 3, 4]);
    assert_eq!(cont_lines(&r[1]), vec![7]);
    assert_eq!(r[1].loc.line, 6);
}

#[test]
fn corpus_real_agent_log_and_stdout() {
    let p = corpus("real-0.19.0-shared-retry-budget/logs/agent.log");
    assert_eq!(p.format, InputFormat::AgentLog);
    assert_eq!(p.records.len(), 74);
    assert!(p.records.iter().all(|r| r.shape == Shape::AgentLog));
    let tagged: Vec<&Record> = p.records.iter().filter(|r| r.session.is_some()).collect();
    assert!(tagged
        .iter()
        .all(|r| r.session.as_deref() == Some("20261123_150343_5dd629")));
    assert_eq!(tagged.len(), 17);
    let marks = p
        .records
        .iter()
        .filter(|r| r.message.starts_with("credential pool: marking"))
        .count();
    assert_eq!(marks, 2);

    let p = corpus("real-0.19.0-shared-retry-budget/stdout.txt");
    let attempts: Vec<&Record> = p
        .records
        .iter()
        .filter(|r| r.message.contains("API call failed (attempt"))
        .collect();
    assert_eq!(attempts.len(), 3);
    for a in attempts {
        assert_eq!(a.continuation.len(), 5, "{:?}", a.continuation);
        assert!(a.continuation[4].1.contains("Elapsed:"));
        assert!(!a.message.ends_with('\r'));
    }
    let terminal = p
        .records
        .iter()
        .find(|r| r.message.starts_with("❌ Rate limited after 3 retries"))
        .unwrap();
    assert_eq!(terminal.continuation.len(), 1);
    assert!(terminal.continuation[0].1.contains("💀 Final error:"));
}

#[test]
fn corpus_small_inputs() {
    let p = corpus("fallback-429-exhausts-primary-pool/input.log");
    assert!(p.records.iter().all(|r| r.shape == Shape::ZonedPaste));
    assert_eq!(p.warnings.len(), 1);
    let p = corpus("healthy-cron-fallback-zai/input.log");
    assert_eq!(
        p.records[0].session.as_deref(),
        Some("cron_006bda9176a7...")
    );
    let p = corpus("codex-quota-logged-as-missing-credentials/input.log");
    assert_eq!(p.records[0].logger.as_deref(), Some("gateway.run"));
    assert_eq!(p.records[1].shape, Shape::Bare);
    let p = corpus("openrouter-empty-key-401-exhausts-pool/input.log");
    assert_eq!(p.records.len(), 5);
    assert_eq!(
        p.records[3].session.as_deref(),
        Some("20260609_002945_3affe7")
    );
}

/// Every log-like file of the shared corpus (beside the repository) parses with every line
/// accounted for; skipped when the corpus is not there.
#[test]
fn shared_corpus_parses() {
    let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("shared/corpus"))
        .filter(|p| p.is_dir())
    else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !(name.ends_with(".json")
                || name.starts_with("auth-list")
                || ["requests.log", "config.yaml", "source.md", "expected.md"]
                    .contains(&name.as_str()))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for f in files {
        let p = parse_text(&read(&f), None, TimeContext::default());
        assert!(!p.records.is_empty(), "{f:?}");
    }
}

// ---- odd input -------------------------------------------------------------------------------

#[test]
fn odd_input_never_panics() {
    let long = "x".repeat(1 << 20);
    let long_dated = format!("2026-05-08T18:41:08-0400 gw-1 python[1]: {long}");
    let emoji_run = "⚠️".repeat(1000);
    let odd = [
        "",
        " ",
        "\0\0\0",
        "\r",
        "line with CR remnant\r",
        "🙂",
        "❌",
        "   📋",
        long.as_str(),
        long_dated.as_str(),
        emoji_run.as_str(),
        "2026-02-30 10:00:00,000 INFO x: y",
        "2026-12-31T23:59:60+00:00 h p[1]: leap",
        "9999-12-31T23:59:59-2359 h p[1]: edge of range",
        "0000-01-01T00:00:00+2359 h p[1]: edge of range",
        "{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":",
        "{\"MESSAGE\":[256,-1,\"x\"]}",
        "[2026-08-25T10:50:18.453Z]",
        "[subagent-99999999999] x",
        "May 08 18:41:08 h p[99999999999]: big pid",
        "99999999999999.000000 h p[1]: too many digits",
        "-- --",
        "1:",
        "12:34",
        "12:34:56",
        "... INFO",
        "Sun 2025-11-23 14:00:00",
    ];
    for format in [
        InputFormat::Auto,
        InputFormat::AgentLog,
        InputFormat::JournalJson,
        InputFormat::Paste,
    ] {
        let text = odd.join("\n");
        let p = parse_text(&text, Some(format), TimeContext::default());
        assert_eq!(p.stats.lines, odd.len() as u64);
        assert!(p.records.iter().all(|r| !r.raw.ends_with('\r')));
    }
    assert_eq!(detect(&[]), InputFormat::Auto);
    assert_eq!(detect(&["", "-- No entries --"]), InputFormat::Auto);
}

//! Report formats rendered from a hand-built report modelled on the seed cases (fallback 429
//! misattributed to the primary pool; retries against cooled profiles in a journal paste).

use chrono::{DateTime, TimeZone, Utc};
use hermes_forensics::model::{
    Evidence, Finding, FindingCounts, HermesRelease, PoolSummary, Report, RequestTimeline,
    RuleInfo, Severity, SnapshotChange, SnapshotSummary, SourceSummary, Summary, TimelineEntry,
};
use hermes_forensics::report::{render, Format, RenderOptions};

const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "misattributed-exhaustion",
        severity: Severity::High,
        summary: "A pool entry is marked exhausted because of an error from a <different> provider",
        doc: "",
    },
    RuleInfo {
        id: "retry-on-cooled-profile",
        severity: Severity::High,
        summary: "An attempt is sent with a profile that is still cooling down",
        doc: "",
    },
    RuleInfo {
        id: "pool-exhausted",
        severity: Severity::Info,
        summary: "Every profile of a pool was exhausted",
        doc: "",
    },
];

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .map(|t| t + chrono::Duration::milliseconds(ms))
        .expect("valid test time")
}

fn ev(source: &str, line: u32, text: &str) -> Evidence {
    Evidence {
        source: source.into(),
        line,
        text: text.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    source: &str,
    time: Option<DateTime<Utc>>,
    time_text: Option<&str>,
    line: u32,
    what: &str,
    profile: Option<&str>,
    basis: Option<&str>,
    text: &str,
) -> TimelineEntry {
    TimelineEntry {
        time,
        time_text: time_text.map(Into::into),
        source: source.into(),
        line,
        what: what.into(),
        profile: profile.map(Into::into),
        profile_basis: basis.map(Into::into),
        text: text.into(),
    }
}

fn sample_report() -> Report {
    let findings = vec![
        Finding {
            rule: "misattributed-exhaustion",
            severity: Severity::High,
            message: "openai-codex entry openai-codex-oauth-2 was marked exhausted after a 429 \
                      that came from the fallback provider zai"
                .into(),
            time: Some(at(2026, 5, 27, 6, 28, 48, 0)),
            time_text: None,
            request: Some("r2".into()),
            host: None,
            provider: Some("openai-codex".into()),
            profile: Some("openai-codex-oauth-2".into()),
            evidence: vec![
                ev("input.log", 1, "2026-05-27 14:28:42 CST  Fallback activated: gpt-5.5 -> glm-5.1 (zai)"),
                ev("input.log", 2, "2026-05-27 14:28:43 CST  zai returned 429 code=1113 \"Insufficient balance or no resource package\""),
                ev("input.log", 3, "2026-05-27 14:28:48 CST  credential pool: marking openai-codex-oauth-2 exhausted"),
            ],
            notes: vec![
                "the 429 body is a balance condition (code 1113), not a Codex rate limit".into(),
                "no Codex request happened between the fallback at 14:28:42 and the mark".into(),
            ],
        },
        Finding {
            rule: "retry-on-cooled-profile",
            severity: Severity::High,
            message: "attempt 2/4 went to profile team, cooled until 2026-05-09 02:51:16Z".into(),
            time: None,
            time_text: Some("18:41:08".into()),
            request: Some("r1".into()),
            host: None,
            provider: Some("openai-codex".into()),
            profile: Some("team".into()),
            evidence: vec![
                ev("journal.log", 4, "18:41:08 python[2844586]: ⚠️ API call failed (attempt 1/4): RateLimitError [HTTP 429]"),
                ev("journal.log", 5, "   📋 Details: {'type':'usage_limit_reached','plan_type':'team','resets_at':1778295076}"),
                ev("journal.log", 6, "18:41:08 python[2844586]: \u{1b}[33m⚠️ API call failed (attempt 2/4)\u{1b}[0m: body | ```json <script>alert(1)</script>"),
            ],
            notes: vec![
                "profile inferred from fingerprint team@1778295076 (no label in the log)".into(),
                "no date in the input: time of day only".into(),
            ],
        },
        Finding {
            rule: "pool-exhausted",
            severity: Severity::Info,
            message: "every openai-codex profile (prolite, team) is cooling down".into(),
            time: Some(at(2026, 5, 8, 22, 41, 15, 250)),
            time_text: None,
            request: None,
            host: None,
            provider: Some("openai-codex".into()),
            profile: None,
            evidence: vec![ev(
                "journal.log",
                16,
                "18:41:15 python[2844586]: ❌ Rate limited after 3 retries — HTTP 429",
            )],
            notes: vec![],
        },
    ];
    let timelines = vec![
        RequestTimeline {
            counterfactual: None,
            host: None,
            id: "r1".into(),
            provider: Some("openai-codex".into()),
            outcome: "failed".into(),
            entries: vec![
                entry(
                    "journal.log",
                    None,
                    Some("18:41:08"),
                    1,
                    "attempt",
                    Some("prolite"),
                    Some("fingerprint"),
                    "attempt 1/4 → 429 usage_limit_reached",
                ),
                entry(
                    "journal.log",
                    None,
                    Some("18:41:08"),
                    3,
                    "attempt",
                    Some("team"),
                    Some("fingerprint"),
                    "attempt 1/4 → 429 usage_limit_reached",
                ),
                entry(
                    "journal.log",
                    None,
                    Some("18:41:08"),
                    5,
                    "attempt",
                    Some("team"),
                    Some("fingerprint"),
                    "attempt 2/4 → 429 | cooled",
                ),
                entry(
                    "journal.log",
                    None,
                    None,
                    7,
                    "failure",
                    None,
                    None,
                    "max retries (4) exhausted",
                ),
            ],
        },
        RequestTimeline {
            counterfactual: None,
            host: None,
            id: "r2".into(),
            provider: Some("zai".into()),
            outcome: "fallback <failed>".into(),
            entries: vec![
                entry(
                    "input.log",
                    Some(at(2026, 5, 27, 6, 28, 42, 0)),
                    None,
                    1,
                    "fallback",
                    None,
                    None,
                    "gpt-5.5 -> glm-5.1 (zai)",
                ),
                entry(
                    "input.log",
                    Some(at(2026, 5, 27, 6, 28, 48, 0)),
                    None,
                    3,
                    "mark",
                    Some("openai-codex-oauth-2"),
                    Some("label"),
                    "marked exhausted",
                ),
            ],
        },
    ];
    Report {
        tool_version: "0.1.0",
        summary: Summary {
            sources: vec![
                SourceSummary {
                    name: "input.log".into(),
                    format: "zoned-paste".into(),
                    lines_read: 3,
                    lines_used: 3,
                    lines_other: 0,
                    lines_unrecognized: 0,
                    events: 3,
                },
                SourceSummary {
                    name: "journal.log".into(),
                    format: "stripped-journal".into(),
                    lines_read: 17,
                    lines_used: 15,
                    lines_other: 1,
                    lines_unrecognized: 1,
                    events: 9,
                },
            ],
            hosts: vec![],
            first_time: Some(at(2026, 5, 8, 22, 41, 8, 0)),
            last_time: Some(at(2026, 5, 27, 6, 28, 48, 250)),
            requests: 2,
            attempts: 4,
            rotations: 1,
            rotations_inferred: 0,
            fallbacks: 1,
            findings_by_severity: FindingCounts {
                high: 2,
                medium: 0,
                low: 0,
                info: 1,
            },
            hermes_version: "0.19.0".into(),
            hermes_release: HermesRelease {
                min: Some("0.17.0".into()),
                max: None,
                basis: vec![
                    "`conversation turn:` from logger agent.turn_context (≥0.17)".into(),
                ],
                applied: "0.19.0".into(),
                source: "detected".into(),
                hosts: vec![],
            },
            pools: vec![
                PoolSummary {
                    provider: "openai-codex".into(),
                    profiles: vec![
                        "prolite".into(),
                        "team".into(),
                        "openai-codex-oauth-2".into(),
                    ],
                    by_fingerprint: vec!["prolite".into(), "team".into()],
                    known_from: "log lines".into(),
                },
                PoolSummary {
                    provider: "zai".into(),
                    profiles: vec![],
                    by_fingerprint: vec![],
                    known_from: "log lines".into(),
                },
            ],
            snapshots: vec![SnapshotSummary {
                source: "auth.json".into(),
                kind: "auth.json".into(),
                time: Some("2026-05-27 06:30:00Z".into()),
                basis: "its updated_at field".into(),
                relation: "after the log".into(),
            }],
            snapshot_notes: vec![
                "auth.json: openai-codex openai-codex-oauth-2 was recorded exhausted at 2026-05-27 06:28:48Z, inside the log, but no log line shows that mark".into(),
            ],
            snapshot_changes: vec![SnapshotChange {
                provider: "openai-codex".into(),
                profile: "openai-codex-oauth-2".into(),
                before: "ok".into(),
                after: "exhausted (usage_limit_reached)".into(),
                at: Some("2026-05-27 06:28:48Z".into()),
                from_snapshot: "auth.before.json".into(),
                to_snapshot: "auth.json".into(),
                evidence: Some("journal.log:3".into()),
            }],
            warnings: vec![
                "journal.log: no date in the input; times are time-of-day only (use --date)".into(),
            ],
            redacted: true,
            impact: None,
        },
        findings,
        timelines,
    }
}

fn empty_report() -> Report {
    Report {
        tool_version: "0.1.0",
        summary: Summary {
            redacted: true,
            impact: None,
            ..Summary::default()
        },
        findings: vec![],
        timelines: vec![],
    }
}

fn render_to_string(format: Format, report: &Report, opts: RenderOptions) -> String {
    let mut out = Vec::new();
    render(format, report, RULES, opts, &mut out).expect("render to memory");
    String::from_utf8(out).expect("reports are UTF-8")
}

const PLAIN: RenderOptions = RenderOptions {
    timeline: false,
    color: false,
};
const WITH_TIMELINE: RenderOptions = RenderOptions {
    timeline: true,
    color: false,
};

#[test]
fn text_snapshot() {
    insta::assert_snapshot!(
        "text",
        render_to_string(Format::Text, &sample_report(), PLAIN)
    );
}

#[test]
fn text_timeline_snapshot() {
    insta::assert_snapshot!(
        "text_timeline",
        render_to_string(Format::Text, &sample_report(), WITH_TIMELINE)
    );
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(
        "markdown",
        render_to_string(Format::Markdown, &sample_report(), PLAIN)
    );
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(
        "json",
        render_to_string(Format::Json, &sample_report(), PLAIN)
    );
}

#[test]
fn otlp_snapshot() {
    let line = render_to_string(Format::Otlp, &sample_report(), PLAIN);
    assert_eq!(line.lines().count(), 1, "one document on one line");
    assert!(!line.contains('\u{1b}'), "control characters are escaped");
    let doc: serde_json::Value = serde_json::from_str(&line).expect("json");
    insta::assert_snapshot!(
        "otlp",
        serde_json::to_string_pretty(&doc).expect("pretty") + "\n"
    );
    insta::assert_snapshot!(
        "empty_otlp",
        render_to_string(Format::Otlp, &empty_report(), PLAIN)
    );
}

/// A journal export stream with the binary length of each binary-safe field shown as
/// `<N bytes>`.
fn readable_export(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&rest[..nl]).into_owned();
        rest = &rest[nl + 1..];
        if line.is_empty() || line.contains('=') {
            out.push_str(&line);
            out.push('\n');
            continue;
        }
        let len = u64::from_le_bytes(rest[..8].try_into().expect("length")) as usize;
        let value = String::from_utf8_lossy(&rest[8..8 + len]);
        out.push_str(&format!("{line} <{len} bytes>\n{value}\n"));
        rest = &rest[8 + len + 1..];
    }
    out
}

#[test]
fn journal_export_snapshot() {
    let mut out = Vec::new();
    render(
        Format::JournalExport,
        &sample_report(),
        RULES,
        PLAIN,
        &mut out,
    )
    .expect("render");
    assert!(!out.contains(&0x1b), "control characters are escaped");
    let text = readable_export(&out);
    // The finding with only a time of day is stamped with the end of the input, and says so.
    assert!(
        text.contains("HERMES_FORENSICS_TIME_BASIS=input-end"),
        "{text}"
    );
    insta::assert_snapshot!("journal_export", text);
    let mut empty = Vec::new();
    render(
        Format::JournalExport,
        &empty_report(),
        RULES,
        PLAIN,
        &mut empty,
    )
    .expect("render");
    assert!(empty.is_empty());
}

#[test]
fn empty_report_snapshots() {
    let report = empty_report();
    let text = render_to_string(Format::Text, &report, PLAIN);
    assert!(text.starts_with("hermes-forensics 0.1.0\n"));
    assert!(text.contains("\nNo findings.\n"));
    insta::assert_snapshot!("empty_text", text);
    let md = render_to_string(Format::Markdown, &report, PLAIN);
    assert!(md.contains("No findings."));
    insta::assert_snapshot!("empty_markdown", md);
    let json = render_to_string(Format::Json, &report, PLAIN);
    insta::assert_snapshot!("empty_json", json);
}

#[test]
fn text_without_color_has_no_escape_bytes() {
    for opts in [PLAIN, WITH_TIMELINE] {
        let text = render_to_string(Format::Text, &sample_report(), opts);
        assert!(!text.contains('\x1b'), "escape byte in uncoloured text");
    }
    let md = render_to_string(Format::Markdown, &sample_report(), PLAIN);
    assert!(!md.contains('\x1b'), "escape byte in markdown");
}

#[test]
fn text_with_color_marks_severities() {
    let opts = RenderOptions {
        timeline: false,
        color: true,
    };
    let text = render_to_string(Format::Text, &sample_report(), opts);
    assert!(text.contains("\x1b[1;31m[HIGH]\x1b[0m misattributed-exhaustion"));
    assert!(text.contains("\x1b[2m[INFO]\x1b[0m pool-exhausted"));
    // Escapes from the log itself stay neutralised even with colour on.
    assert!(!text.contains("\x1b[33m"));
    assert!(text.contains("\\u{1b}[33m"));
}

#[test]
fn text_shows_time_text_and_profile_basis() {
    let text = render_to_string(Format::Text, &sample_report(), WITH_TIMELINE);
    assert!(text.contains("time: 18:41:08  request: r1  provider: openai-codex  profile: team"));
    assert!(text.contains("note: profile inferred from fingerprint"));
    assert!(text.contains("\n    journal.log:5     📋 Details: {"));
    assert!(text.contains("request r1 (openai-codex, failed)"));
    assert!(text.contains("team (fingerprint)"));
    // A `label` basis is not repeated.
    assert!(text.contains("openai-codex-oauth-2 "));
    assert!(!text.contains("(label)"));
    assert!(text.contains("2026-05-08 22:41:15.250Z"));
    assert!(!text.lines().any(|l| l.ends_with(' ')), "trailing blanks");
}

#[test]
fn markdown_fence_survives_backticks_in_evidence() {
    let md = render_to_string(Format::Markdown, &sample_report(), PLAIN);
    // The evidence holds a run of three backticks: the block must use a longer fence.
    let open = md.find("````text\n").expect("four-backtick fence");
    let rest = &md[open + "````text\n".len()..];
    let close = rest.find("\n````\n").expect("closing fence");
    let body = &rest[..close];
    assert!(body.contains("body | ```json <script>alert(1)</script>"));
    assert!(body.contains("journal.log:5  "));
    // Outside code blocks HTML is escaped.
    assert!(md.contains("&lt;different&gt; provider"));
    assert!(md.contains("<summary>request r2 (zai, fallback &lt;failed&gt;)</summary>"));
    assert!(md.contains("attempt 2/4 → 429 \\| cooled"));
    assert_eq!(md.matches("<details>").count(), 2);
    assert_eq!(md.matches("</details>").count(), 2);
}

#[test]
fn json_parses_back_with_contract_keys() {
    let json = render_to_string(Format::Json, &sample_report(), PLAIN);
    assert!(json.ends_with("}\n"));
    assert!(json.starts_with("{\n  \"schema_version\": 1,\n  \"tool\": {"));
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "hermes-forensics");
    assert_eq!(v["tool"]["version"], "0.1.0");
    assert_eq!(v["summary"]["findings_by_severity"]["high"], 2);
    let findings = v["findings"].as_array().expect("findings array");
    assert_eq!(findings.len(), 3);
    let keys = [
        "rule", "severity", "message", "time", "request", "provider", "profile", "evidence",
        "notes",
    ];
    for f in findings {
        for key in keys {
            assert!(f.get(key).is_some(), "finding lacks {key}");
        }
        for e in f["evidence"].as_array().expect("evidence array") {
            assert!(e["source"].is_string() && e["line"].is_u64() && e["text"].is_string());
        }
    }
    assert_eq!(findings[0]["time"], "2026-05-27T06:28:48Z");
    assert_eq!(findings[1]["time"], serde_json::Value::Null);
    assert_eq!(findings[1]["time_text"], "18:41:08");
    assert!(findings[0].get("time_text").is_none());
    assert_eq!(findings[2]["time"], "2026-05-08T22:41:15.250Z");
    assert_eq!(findings[2]["request"], serde_json::Value::Null);
    // The report carries timelines, so they are included even without --timeline.
    assert_eq!(v["timelines"].as_array().map(Vec::len), Some(2));
}

#[test]
fn json_timelines_key_follows_options() {
    let report = empty_report();
    let plain = render_to_string(Format::Json, &report, PLAIN);
    let v: serde_json::Value = serde_json::from_str(&plain).expect("valid JSON");
    assert!(v.get("timelines").is_none());
    let asked = render_to_string(Format::Json, &report, WITH_TIMELINE);
    let v: serde_json::Value = serde_json::from_str(&asked).expect("valid JSON");
    assert_eq!(v["timelines"], serde_json::json!([]));
}

#[test]
fn rendering_is_deterministic() {
    let report = sample_report();
    for format in [
        Format::Text,
        Format::Markdown,
        Format::Json,
        Format::Otlp,
        Format::JournalExport,
    ] {
        for opts in [PLAIN, WITH_TIMELINE] {
            // Bytes: a journal export's binary-safe fields carry their length in binary.
            let bytes = || {
                let mut out = Vec::new();
                render(format, &report, RULES, opts, &mut out).expect("render to memory");
                out
            };
            assert_eq!(bytes(), bytes());
        }
    }
}

#[test]
fn no_redact_is_announced() {
    let mut report = empty_report();
    report.summary.redacted = false;
    let text = render_to_string(Format::Text, &report, PLAIN);
    assert!(text.contains("\nsecrets NOT redacted (--no-redact)\n"));
    let md = render_to_string(Format::Markdown, &report, PLAIN);
    assert!(md.contains("Secrets NOT redacted (--no-redact)"));
}

#[test]
fn write_errors_are_returned() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }
    for format in [
        Format::Text,
        Format::Markdown,
        Format::Json,
        Format::Otlp,
        Format::JournalExport,
    ] {
        let err =
            render(format, &sample_report(), RULES, PLAIN, &mut Closed).expect_err("closed pipe");
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}

#[test]
fn multi_line_messages_stay_in_place() {
    let mut report = sample_report();
    report.findings[0].message = "first line\nsecond line".into();
    report.findings[0].notes = vec!["note one\nnote two".into()];
    let text = render_to_string(Format::Text, &report, PLAIN);
    assert!(text.contains("— first line\n    second line\n"));
    assert!(text.contains("  note: note one\n        note two\n"));
    assert!(
        text.contains("│ first line "),
        "table shows the first line only"
    );
    let md = render_to_string(Format::Markdown, &report, PLAIN);
    assert!(md.contains("| first line<br>second line |"));
    assert!(md.contains("- note one<br>note two\n"));
    let otlp = render_to_string(Format::Otlp, &report, PLAIN);
    assert!(otlp.contains(r#"{"stringValue":"first line\nsecond line\ninput.log:1: "#));
    let mut journal = Vec::new();
    render(Format::JournalExport, &report, RULES, PLAIN, &mut journal).expect("render");
    let journal = readable_export(&journal);
    assert!(
        journal.contains("\nfirst line\nsecond line\ninput.log:1: "),
        "{journal}"
    );
    assert!(journal.contains("HERMES_FORENSICS_NOTE <17 bytes>\nnote one\nnote two\n"));
}

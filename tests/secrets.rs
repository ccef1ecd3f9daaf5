//! Secrets planted in logs (attempt summaries, error bodies, `error=` fields, evidence lines a
//! finding quotes, unrecognized lines) and in auth.json (tokens, keys, an error message) never
//! reach any output: every `--format` value, with timelines, and the `events` stream. Hermes's
//! own masked form stays readable. `--no-redact` prints them and says so.

mod common;

use clap::ValueEnum;
use hermes_forensics::report::Format;
use std::process::Output;

/// What must never appear: the planted values carry `SECRET`, and the two values without it (a
/// JWT payload, a bare random token) are listed whole.
const LEAKS: &[&str] = &[
    "SECRET",
    "eyJzdWIiOiJTRUNSRVQifQ",
    "Q7xK2mP9vL4nR8tW3yZ6bC1dF5gH0jS2aE7uI9o",
];

/// Hermes's masked key form, which must stay recognizable.
const MASKED: &str = "sk-pro...EFGH";

fn run(args: &[&str]) -> Output {
    let dir = common::fixtures().join("secrets");
    let out = common::run_in(&dir, args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_clean(what: &str, out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for leak in LEAKS {
            assert!(!text.contains(leak), "{what} leaks {leak}:\n{text}");
        }
    }
    // SARIF carries locations, not the text of the evidence lines.
    if what != "sarif" {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(MASKED), "{what} lost {MASKED}:\n{stdout}");
    }
}

/// Every `--format` value (new formats are picked up automatically).
fn formats() -> Vec<String> {
    Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect()
}

#[test]
fn planted_secrets_are_planted_and_found() {
    let log = std::fs::read_to_string(common::fixtures().join("secrets/agent.log")).expect("log");
    for secret in [
        "sk-SECRET",
        "sk-proj-SECRET",
        "sk-ant-api03-SECRET",
        "rt_SECRET",
        "Bearer SECRET",
        "api_key=SECRET",
        "Authorization: SECRET",
        "'x-api-key': 'SECRET",
        "eyJhbGciOiJIUzI1NiJ9.",
        LEAKS[2],
    ] {
        assert!(log.contains(secret), "fixture lacks {secret}");
    }
    let out = run(&[
        "--format",
        "json",
        "--fail-on",
        "never",
        "agent.log",
        "auth.json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "the planted log must produce findings that quote its lines"
    );
}

#[test]
fn no_format_prints_a_secret() {
    let formats = formats();
    assert!(formats.len() >= 3, "{formats:?}");
    for format in &formats {
        let out = run(&["--format", format, "--timeline", "agent.log", "auth.json"]);
        assert_clean(format, &out);
    }
}

#[test]
fn events_stream_prints_no_secret() {
    let out = run(&["events", "--show-unrecognized", "agent.log", "auth.json"]);
    assert_clean("events", &out);
}

#[test]
fn strict_error_prints_no_secret() {
    let out = common::run_in(
        &common::fixtures().join("secrets"),
        &["--strict", "agent.log"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognized Hermes request line"), "{err}");
    for leak in LEAKS {
        assert!(!err.contains(leak), "{err}");
    }
}

#[test]
fn no_redact_prints_secrets_and_says_so() {
    let out = run(&["--no-redact", "--format", "json", "agent.log", "auth.json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["redacted"], false);
    assert!(String::from_utf8_lossy(&out.stdout).contains("SECRETapikey"));
    for format in ["text", "markdown"] {
        let out = run(&["--no-redact", "--format", format, "agent.log"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("NOT redacted"), "{format}: {text}");
    }
    // Secrets in auth.json are never even read.
    let out = run(&["--no-redact", "--format", "json", "--timeline", "auth.json"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SECRET"));
}

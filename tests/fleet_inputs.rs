//! Fleet exports of a journal read like the journal: Loki (`logcli --output=jsonl`),
//! Elasticsearch (`_search` responses, one hit per line) and OpenTelemetry (OTLP/JSON from the
//! Collector's file exporter) exports of the two-host journals of `fixtures/captured/two-host`
//! (made by `tools/fleet-fixtures/convert.py`, see `fixtures/fleet/README.md`) give, host by
//! host, the findings, requests and attempts the journal's own `-o json` rendering gives. They
//! are told by their content, whatever the file is called, and a broken line or document is
//! counted, never a crash.

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each export of a case, with the input format it must be read as.
const EXPORTS: &[(&str, &str)] = &[
    ("loki.jsonl", "loki"),
    ("loki-journal.jsonl", "loki"),
    ("ecs.ndjson", "ecs"),
    ("ecs-search.json", "ecs"),
    ("otlp.jsonl", "otlp"),
    ("otlp-pretty.json", "otlp"),
];

fn cases() -> Vec<PathBuf> {
    let root = common::fixtures().join("fleet");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/fleet")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 2, "fleet cases: {cases:?}");
    cases
}

/// The journal rendering an export was made from.
fn journal_of(case: &Path) -> PathBuf {
    let name = case.file_name().expect("case name");
    common::fixtures()
        .join("captured/two-host")
        .join(name)
        .join("render/json.txt")
}

/// What a report says, host by host: findings (rule, profile, request), requests, attempts.
#[derive(Debug, PartialEq, Eq, Default)]
struct PerHost {
    findings: BTreeSet<(String, String, String)>,
    requests: u64,
    attempts: u64,
}

fn per_host(report: &Value) -> BTreeMap<String, PerHost> {
    let timelines = report["timelines"].as_array().cloned().unwrap_or_default();
    let host_of = |request: &str| {
        timelines
            .iter()
            .find(|t| t["id"] == request)
            .and_then(|t| t["host"].as_str())
            .unwrap_or("none")
            .to_string()
    };
    let mut out: BTreeMap<String, PerHost> = BTreeMap::new();
    for t in &timelines {
        let h = out
            .entry(t["host"].as_str().unwrap_or("none").to_string())
            .or_default();
        h.requests += 1;
        h.attempts += t["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["what"] == "attempt")
            .count() as u64;
    }
    for f in report["findings"].as_array().into_iter().flatten() {
        let request = f["request"].as_str().unwrap_or_default();
        out.entry(host_of(request)).or_default().findings.insert((
            f["rule"].as_str().unwrap_or_default().to_string(),
            f["profile"].as_str().unwrap_or_default().to_string(),
            request.to_string(),
        ));
    }
    out
}

fn analyze(dir: &Path, file: &str) -> Value {
    common::analyze_json(dir, &["--timeline", file]).0
}

fn lines_in(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .expect("export")
        .lines()
        .count() as u64
}

/// The one source of a report: its format and line counts, which must add up.
fn source(report: &Value, lines: u64) -> (String, u64) {
    let s = &report["summary"]["sources"][0];
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} in {s}"));
    assert_eq!(n("lines_read"), lines, "{s}");
    assert_eq!(
        n("lines_used") + n("lines_other") + n("lines_unrecognized"),
        lines,
        "{s}"
    );
    (
        s["format"].as_str().unwrap_or_default().to_string(),
        n("lines_unrecognized"),
    )
}

#[test]
fn every_export_gives_each_host_what_the_journal_gives() {
    for case in cases() {
        let journal = journal_of(&case);
        let want = analyze(
            journal.parent().and_then(Path::parent).expect("case dir"),
            "render/json.txt",
        );
        let want_hosts = per_host(&want);
        assert_eq!(
            want_hosts
                .keys()
                .filter(|h| h.starts_with("hermes-gw-"))
                .count(),
            2,
            "{want_hosts:?}"
        );
        for (file, format) in EXPORTS {
            let what = format!("{}/{file}", case.display());
            let got = analyze(&case, file);
            let (read_as, unrecognized) = source(&got, lines_in(&case.join(file)));
            assert_eq!(read_as, *format, "{what}");
            assert_eq!(unrecognized, 0, "{what}");
            assert_eq!(per_host(&got), want_hosts, "{what}: host by host");
            for key in ["requests", "attempts", "rotations", "fallbacks"] {
                assert_eq!(got["summary"][key], want["summary"][key], "{what}: {key}");
            }
            let text = got.to_string();
            assert!(
                !text.contains("FAKESECRET"),
                "{what}: a secret in the report"
            );
        }
    }
}

#[test]
fn exports_are_told_by_content_under_any_name() {
    let case = cases().remove(0);
    let want = per_host(&analyze(&case, "loki.jsonl"));
    for (file, format) in EXPORTS {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::copy(case.join(file), tmp.path().join("export.txt")).expect("copy");
        std::fs::write(tmp.path().join("notes.txt"), "deploy notes, nothing else\n")
            .expect("notes");
        // Named on the command line.
        let got = analyze(tmp.path(), "export.txt");
        assert_eq!(per_host(&got), want, "{file} as export.txt");
        // Found in a directory: read for its content, the notes skipped.
        let (got, out) = common::analyze_json(tmp.path(), &["--timeline", "."]);
        let sources = got["summary"]["sources"].as_array().expect("sources");
        assert_eq!(sources.len(), 1, "{file}: {sources:?}");
        assert_eq!(sources[0]["format"], *format, "{file}");
        assert_eq!(per_host(&got), want, "{file} in a directory");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("notes.txt"),
            "{file}: the notes are said to be skipped"
        );
    }
    // JSON exports under a `.json` name are logs, not rejected as unknown JSON.
    let tmp = tempfile::tempdir().expect("tempdir");
    for (file, _) in EXPORTS {
        let name = format!("{}.json", file.replace('.', "-"));
        std::fs::copy(case.join(file), tmp.path().join(&name)).expect("copy");
        let got = analyze(tmp.path(), &name);
        assert_eq!(per_host(&got), want, "{file} as {name}");
    }
}

/// Replace line `no` (1-based) of `text` by its first half.
fn cut_line(text: &str, no: usize) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == no {
                format!("{}\n", &l[..l.len() / 2])
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[test]
fn a_broken_line_or_document_is_counted_not_a_crash() {
    let case = cases().remove(0);
    let tmp = tempfile::tempdir().expect("tempdir");
    for (file, format) in EXPORTS {
        let text = std::fs::read_to_string(case.join(file)).expect("export");
        let broken = if file.ends_with(".json") {
            // A pretty document cut short: its lines are unrecognized, a warning names them.
            let keep: Vec<&str> = text.lines().take(text.lines().count() / 2).collect();
            keep.join("\n") + "\n"
        } else {
            cut_line(&text, 3)
        };
        let name = format!("broken-{file}");
        std::fs::write(tmp.path().join(&name), &broken).expect("write");
        let lines = broken.lines().count() as u64;
        if file.ends_with(".json") {
            // Nothing else to read: a clear error naming the file and the document's lines.
            let out = common::run_in(tmp.path(), &["analyze", "--format", "json", &name]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(
                stderr.contains(&format!("{name}: line 1: not a readable"))
                    && stderr.contains(&format!("lines 1-{lines} counted as unrecognized")),
                "{name}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            // Next to a readable export, counted as unrecognized lines.
            std::fs::copy(case.join("loki.jsonl"), tmp.path().join("loki.jsonl")).expect("copy");
            let (got, _) = common::analyze_json(tmp.path(), &[&name, "loki.jsonl"]);
            let (read_as, unrecognized) = source(&got, lines);
            assert_eq!((read_as.as_str(), unrecognized), (*format, lines), "{name}");
            assert!(
                got["summary"]["warnings"]
                    .to_string()
                    .contains(&format!("{name}: line 1: not a readable")),
                "{name}: {}",
                got["summary"]["warnings"]
            );
        } else {
            let (got, _) = common::analyze_json(tmp.path(), &[&name]);
            let (read_as, unrecognized) = source(&got, lines);
            assert_eq!((read_as.as_str(), unrecognized), (*format, 1), "{name}");
            assert!(
                got["summary"]["attempts"].as_u64().unwrap_or(0) > 0,
                "{name}"
            );
        }
    }
}

#[test]
fn labels_and_attributes_are_redacted_like_messages() {
    const KEY: &str = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd";
    let msg = "WARNING [20261204_051141_38940b] agent.conversation_loop: API call failed (attempt 1/3): RateLimitError [HTTP 429]";
    let exports = [
        format!(
            r#"{{"labels":{{"host":"{KEY}","pid":"7"}},"line":"{msg}","timestamp":"2026-12-04T05:11:41.911818Z"}}"#
        ),
        format!(
            r#"{{"_id":"1","_source":{{"@timestamp":"2026-12-04T05:11:41.911Z","host":{{"name":"{KEY}"}},"process":{{"pid":7}},"message":"{msg}"}}}}"#
        ),
        format!(
            r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"host.name","value":{{"stringValue":"{KEY}"}}}}]}},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"1796361101911818000","body":{{"stringValue":"{msg}"}}}}]}}]}}]}}"#
        ),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, text) in exports.iter().enumerate() {
        let name = format!("export-{i}.txt");
        std::fs::write(tmp.path().join(&name), format!("{text}\n")).expect("write");
        let (report, _) = common::analyze_json(tmp.path(), &["--timeline", &name]);
        let hosts: Vec<&Value> = report["timelines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| &t["host"])
            .collect();
        assert_eq!(hosts.len(), 1, "{name}: {report}");
        assert!(
            hosts[0].as_str().is_some_and(|h| h.contains("REDACTED")),
            "{name}: {hosts:?}"
        );
        assert!(
            !report.to_string().contains(KEY),
            "{name}: the key in the report"
        );
        let out = common::run_in(
            tmp.path(),
            &["analyze", "--timeline", "--fail-on", "never", &name],
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(KEY),
            "{name}"
        );
    }
}

//! Findings into the fleet's log pipeline: `--format otlp` read back as OTLP `LogsData` by the
//! OpenTelemetry protobuf types, `--format journal-export` written into a journal file by the
//! real `systemd-journal-remote` and read back with `journalctl`, snapshots of both on the
//! two-host journal capture, and byte-identical output at any thread count.

mod common;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogsData;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The two-host capture: both gateways' journals in one `journalctl -o json` stream.
fn two_host() -> PathBuf {
    common::fixtures().join("captured/two-host/overlapping")
}

fn analyze(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = common::run_in(dir, &[&["--fail-on", "never"], args].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The batch run's findings (JSON report) of the two-host stream.
fn json_findings() -> Vec<Value> {
    let out = analyze(&two_host(), &["--format", "json", "render/json.txt"]);
    let report: Value = serde_json::from_slice(&out).expect("json report");
    report["findings"].as_array().cloned().expect("findings")
}

fn string_of(kv: &[KeyValue], key: &str) -> Option<String> {
    kv.iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Any::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
}

fn strings_of(kv: &[KeyValue], key: &str) -> Vec<String> {
    kv.iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Any::ArrayValue(a)) => Some(
                a.values
                    .iter()
                    .filter_map(|v| match &v.value {
                        Some(Any::StringValue(s)) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn otlp_parses_as_logs_data_one_record_per_finding() {
    let out = analyze(&two_host(), &["--format", "otlp", "render/json.txt"]);
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "one document on one line");
    let data: LogsData = serde_json::from_str(&text).expect("OTLP LogsData");
    let findings = json_findings();
    assert!(findings.len() >= 2, "{findings:?}");

    // One resource per host, hosts sorted; the scope is this tool.
    let hosts: Vec<Option<String>> = data
        .resource_logs
        .iter()
        .map(|r| {
            let attrs = &r.resource.as_ref().expect("resource").attributes;
            assert_eq!(
                string_of(attrs, "service.name").as_deref(),
                Some("hermes-agent")
            );
            string_of(attrs, "host.name")
        })
        .collect();
    assert_eq!(
        hosts,
        vec![Some("hermes-gw-1".to_string()), Some("hermes-gw-2".into())]
    );

    // Every finding is one log record, under its host, with its rule, request and evidence.
    let mut got: Vec<(String, String, String, Vec<String>, u64, i32)> = Vec::new();
    for r in &data.resource_logs {
        let host = string_of(
            &r.resource.as_ref().expect("resource").attributes,
            "host.name",
        )
        .unwrap_or_default();
        assert_eq!(r.scope_logs.len(), 1);
        let scope = r.scope_logs[0].scope.as_ref().expect("scope");
        assert_eq!(scope.name, "hermes-forensics");
        assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
        for rec in &r.scope_logs[0].log_records {
            let a = &rec.attributes;
            assert_eq!(
                string_of(a, "hermes_forensics.host").as_deref(),
                Some(host.as_str())
            );
            assert_eq!(rec.observed_time_unix_nano, 0, "no wall clock");
            let body = match rec.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(Any::StringValue(s)) => s.clone(),
                other => panic!("body {other:?}"),
            };
            got.push((
                host.clone(),
                string_of(a, "hermes_forensics.rule").expect("rule"),
                string_of(a, "hermes_forensics.request").expect("request"),
                strings_of(a, "hermes_forensics.evidence"),
                rec.time_unix_nano,
                rec.severity_number,
            ));
            assert!(body.lines().count() >= 2, "message plus evidence: {body}");
        }
    }
    assert_eq!(got.len(), findings.len());
    let mut want: Vec<(String, String, String, Vec<String>, u64, i32)> = findings
        .iter()
        .map(|f| {
            let nanos = f["time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .and_then(|t| t.timestamp_nanos_opt())
                .map_or(0, |n| n as u64);
            let severity = match f["severity"].as_str() {
                Some("high") => 17,
                Some("medium") => 13,
                _ => 9,
            };
            (
                f["host"].as_str().unwrap_or_default().to_string(),
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["request"].as_str().unwrap_or_default().to_string(),
                f["evidence"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| format!("{}:{}", e["source"].as_str().unwrap_or(""), e["line"]))
                    .collect(),
                nanos,
                severity,
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// The journal export stream made readable: the binary length of a binary-safe field is shown
/// as `<N bytes>`; the structure is checked on the way.
fn readable_export(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let nl = rest.iter().position(|&b| b == b'\n').expect("line ends");
        let line = std::str::from_utf8(&rest[..nl]).expect("utf-8 field");
        rest = &rest[nl + 1..];
        if line.is_empty() || line.contains('=') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Binary form: NAME, u64 LE length, bytes, newline.
        let len = u64::from_le_bytes(rest[..8].try_into().expect("length")) as usize;
        let value = std::str::from_utf8(&rest[8..8 + len]).expect("utf-8 value");
        assert_eq!(rest[8 + len], b'\n', "binary field ends with a newline");
        rest = &rest[8 + len + 1..];
        out.push_str(&format!("{line} <{len} bytes>\n{value}\n"));
    }
    out
}

/// Pretty-printed OTLP document (the output itself is one line).
fn pretty(bytes: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bytes).expect("json");
    serde_json::to_string_pretty(&v).expect("pretty") + "\n"
}

#[test]
fn two_host_otlp() {
    let out = analyze(&two_host(), &["--format", "otlp", "render/json.txt"]);
    insta::assert_snapshot!(pretty(&out));
}

#[test]
fn two_host_journal_export() {
    let out = analyze(
        &two_host(),
        &["--format", "journal-export", "render/json.txt"],
    );
    insta::assert_snapshot!(readable_export(&out));
}

#[test]
fn output_is_identical_at_any_thread_count() {
    for format in ["otlp", "journal-export"] {
        let run = |extra: &[&str]| {
            let args = [
                &["--format", format][..],
                extra,
                &["host-a.export", "host-b.export"],
            ]
            .concat();
            analyze(&two_host(), &args)
        };
        let one = run(&["--no-streaming", "--threads", "1"]);
        assert!(!one.is_empty(), "{format}");
        assert_eq!(one, run(&["--no-streaming", "--threads", "4"]), "{format}");
        assert_eq!(one, run(&[]), "{format}: streamed");
    }
}

const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

#[test]
fn journal_export_round_trips_through_systemd_journal_remote() {
    if !Path::new(JOURNAL_REMOTE).is_file() {
        eprintln!(
            "SKIP: {JOURNAL_REMOTE} is not installed (Debian package systemd-journal-remote)"
        );
        return;
    }
    if Command::new("journalctl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: journalctl is not installed");
        return;
    }
    let export = analyze(
        &two_host(),
        &["--format", "journal-export", "render/json.txt"],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("findings.journal");
    let mut child = Command::new(JOURNAL_REMOTE)
        .arg("-o")
        .arg(&file)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("systemd-journal-remote runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&export).expect("feed");
    }
    let done = child.wait_with_output().expect("journal-remote ends");
    let log = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{log}");
    assert!(!log.contains("invalid"), "an entry was refused: {log}");

    let read = Command::new("journalctl")
        .arg("--file")
        .arg(&file)
        .args(["-o", "json", "--no-pager", "--all"])
        .output()
        .expect("journalctl runs");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let entries: Vec<Value> = String::from_utf8_lossy(&read.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal json"))
        .collect();
    let findings = json_findings();
    assert_eq!(entries.len(), findings.len());
    let field = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    let mut got: Vec<BTreeMap<&str, String>> = entries
        .iter()
        .map(|e| {
            BTreeMap::from([
                ("MESSAGE", field(e, "MESSAGE")),
                ("PRIORITY", field(e, "PRIORITY")),
                ("MESSAGE_ID", field(e, "MESSAGE_ID")),
                ("HERMES_FORENSICS_RULE", field(e, "HERMES_FORENSICS_RULE")),
                (
                    "HERMES_FORENSICS_REQUEST",
                    field(e, "HERMES_FORENSICS_REQUEST"),
                ),
                ("_HOSTNAME", field(e, "_HOSTNAME")),
                ("SYSLOG_IDENTIFIER", field(e, "SYSLOG_IDENTIFIER")),
                ("__REALTIME_TIMESTAMP", field(e, "__REALTIME_TIMESTAMP")),
            ])
        })
        .collect();
    let mut want: Vec<BTreeMap<&str, String>> = findings
        .iter()
        .map(|f| {
            let rule = f["rule"].as_str().unwrap_or_default();
            let mut message = f["message"].as_str().unwrap_or_default().to_string();
            for e in f["evidence"].as_array().into_iter().flatten() {
                message.push_str(&format!(
                    "\n{}:{}: {}",
                    e["source"].as_str().unwrap_or_default(),
                    e["line"],
                    e["text"].as_str().unwrap_or_default()
                ));
            }
            let priority = match f["severity"].as_str() {
                Some("high") => "3",
                Some("medium") => "4",
                Some("low") => "5",
                _ => "6",
            };
            let micros = f["time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_micros().to_string())
                .unwrap_or_default();
            BTreeMap::from([
                ("MESSAGE", message),
                ("PRIORITY", priority.to_string()),
                (
                    "MESSAGE_ID",
                    hermes_forensics::report::journal_export::message_id(rule),
                ),
                ("HERMES_FORENSICS_RULE", rule.to_string()),
                (
                    "HERMES_FORENSICS_REQUEST",
                    f["request"].as_str().unwrap_or_default().to_string(),
                ),
                (
                    "_HOSTNAME",
                    f["host"].as_str().unwrap_or_default().to_string(),
                ),
                ("SYSLOG_IDENTIFIER", "hermes-forensics".to_string()),
                ("__REALTIME_TIMESTAMP", micros),
            ])
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(got.iter().all(|e| !e["_HOSTNAME"].is_empty()));
}

#[test]
fn the_follow_unit_runs_a_command_line_the_binary_accepts() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("contrib/systemd/hermes-forensics-follow.service"),
    )
    .expect("unit file");
    let exec = unit
        .split("\nExecStart=")
        .nth(1)
        .and_then(|s| s.split("\nRestart=").next())
        .expect("ExecStart");
    assert!(
        exec.contains("journalctl --follow --lines=0 --output=json"),
        "{exec}"
    );
    assert!(
        exec.contains("systemd-journal-remote --split-mode=none"),
        "{exec}"
    );
    // The hermes-forensics stage, between the pipes.
    let stage = exec
        .split('|')
        .find(|s| s.contains("/hermes-forensics "))
        .expect("hermes-forensics stage");
    let args: Vec<&str> = stage
        .split_whitespace()
        .filter(|w| *w != "\\")
        .skip(1)
        .collect();
    assert!(
        args.contains(&"--follow") && args.contains(&"journal-export"),
        "{args:?}"
    );
    let out = common::bin()
        .args(&args)
        .stdin(std::fs::File::open(two_host().join("render/json.txt")).expect("fixture"))
        .output()
        .expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = out.stdout.windows(2).filter(|w| w == b"\n\n").count();
    assert_eq!(entries, json_findings().len());
}

fn shipped_catalog() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd/hermes-forensics.catalog"),
    )
    .expect("catalog")
}

#[test]
fn the_shipped_catalog_is_the_generated_one() {
    let out = common::run_in(&common::fixtures(), &["rules", "--journal-catalog"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        shipped_catalog(),
        "regenerate contrib/systemd/hermes-forensics.catalog with \
         `hermes-forensics rules --journal-catalog`"
    );
}

#[test]
fn journalctl_compiles_the_catalog_with_every_message_id() {
    if Command::new("journalctl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: journalctl is not installed");
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("usr/lib/systemd/catalog");
    std::fs::create_dir_all(&dir).expect("catalog dir");
    std::fs::write(dir.join("hermes-forensics.catalog"), shipped_catalog()).expect("write");
    let run = |args: &[&str]| {
        let out = Command::new("journalctl")
            .arg(format!("--root={}", root.path().display()))
            .args(args)
            .output()
            .expect("journalctl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["--update-catalog"]);
    let listed = run(&["--list-catalog"]);
    let rules = hermes_forensics::rules::infos();
    assert_eq!(listed.lines().count(), rules.len(), "{listed}");
    for r in &rules {
        let id = hermes_forensics::report::journal_export::message_id(r.id);
        let want = format!("{id} hermes-forensics: {}: {}", r.id, r.summary);
        assert!(listed.lines().any(|l| l == want), "{want}\n{listed}");
        let text = run(&["--dump-catalog", &id]);
        assert!(text.contains("What it detects:"), "{text}");
        assert!(text.contains("Why it matters:"), "{text}");
    }
}

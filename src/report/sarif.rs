//! SARIF 2.1.0 report, for GitHub code scanning and other SARIF consumers.
//!
//! One run: `tool.driver` lists every registered rule (id, name, short and full description,
//! help text from the rule documentation, default level, precision and `problem.severity`);
//! each finding is a result with its level (high → `error`, medium → `warning`, low and info →
//! `note`), message, the first evidence line as location (the source path as given, as a
//! relative URI; the whole line as region), the other evidence lines as related locations, and
//! `partialFingerprints` from [`crate::fingerprint`] so alerts stay the same alert across runs.
//! Columns count Unicode code points (`columnKind`).
//!
//! Keys are emitted in a fixed order; the output depends only on the report and the rules.

use super::{doc_section, RenderOptions, TOOL_NAME};
use crate::fingerprint;
use crate::model::{Evidence, Finding, Report, RuleInfo, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, BufWriter, Write};

/// `$schema` of the document.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "hermesForensics/v1";

/// SARIF level of a severity.
pub fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `problem.severity` of a severity (`error`, `warning`, `recommendation`).
fn problem_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "recommendation",
    }
}

/// `missed-rotation` → `MissedRotation`.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A source path as a relative URI reference: unreserved characters and `/` are kept, every
/// other byte is percent-encoded (so `:` cannot be read as a scheme, and spaces are valid).
/// Backslashes become `/`.
pub fn path_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_descriptor(r: &RuleInfo) -> Value {
    let full = doc_section(r.doc, "What it detects").unwrap_or_else(|| r.summary.to_string());
    let help = if r.doc.trim().is_empty() {
        r.summary
    } else {
        r.doc
    };
    json!({
        "id": r.id,
        "name": pascal_case(r.id),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": full},
        "help": {"text": help, "markdown": help},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": ["reliability", "credential-pool"],
            "precision": "high",
            "problem.severity": problem_severity(r.severity),
        },
    })
}

/// A physical location for one evidence line (no region when the line number is unknown).
fn physical_location(e: &Evidence) -> Value {
    let mut loc = Map::new();
    loc.insert(
        "artifactLocation".into(),
        json!({"uri": path_uri(&e.source)}),
    );
    if e.line >= 1 {
        loc.insert(
            "region".into(),
            json!({
                "startLine": e.line,
                "startColumn": 1,
                "endLine": e.line,
                "endColumn": e.text.chars().count() + 1,
            }),
        );
    }
    Value::Object(loc)
}

fn result(f: &Finding, fingerprint: &str, rules: &[RuleInfo]) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), f.rule.into());
    if let Some(i) = rules.iter().position(|ri| ri.id == f.rule) {
        r.insert("ruleIndex".into(), i.into());
    }
    r.insert("level".into(), level(f.severity).into());
    r.insert("message".into(), json!({"text": f.message}));
    let mut evidence = f.evidence.iter();
    if let Some(first) = evidence.next() {
        r.insert(
            "locations".into(),
            json!([{"physicalLocation": physical_location(first)}]),
        );
        let related: Vec<Value> = evidence
            .enumerate()
            .map(|(i, e)| {
                json!({
                    "id": i + 1,
                    "physicalLocation": physical_location(e),
                    "message": {"text": e.text},
                })
            })
            .collect();
        if !related.is_empty() {
            r.insert("relatedLocations".into(), related.into());
        }
    }
    r.insert(
        "partialFingerprints".into(),
        json!({
            FINGERPRINT_KEY: fingerprint,
            "primaryLocationLineHash": fingerprint,
        }),
    );
    let mut props = Map::new();
    props.insert("severity".into(), f.severity.as_str().into());
    let optional = [
        (
            "time",
            f.time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        ),
        ("timeText", f.time_text.clone()),
        ("request", f.request.clone()),
        ("provider", f.provider.clone()),
        ("profile", f.profile.clone()),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            props.insert(k.into(), v.into());
        }
    }
    if !f.notes.is_empty() {
        props.insert("notes".into(), f.notes.clone().into());
    }
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

/// The SARIF document for `report`.
pub fn document(report: &Report, rules: &[RuleInfo]) -> Value {
    let fps = fingerprint::fingerprints(&report.findings);
    let results: Vec<Value> = report
        .findings
        .iter()
        .zip(&fps)
        .map(|(f, fp)| result(f, fp, rules))
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "semanticVersion": report.tool_version,
                "rules": rules.iter().map(rule_descriptor).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Write `report` as SARIF (pretty-printed, trailing newline).
pub fn render(
    report: &Report,
    rules: &[RuleInfo],
    _opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &document(report, rules))?;
    writeln!(w)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_levels_and_uris() {
        assert_eq!(
            pascal_case("client-defect-blamed-on-credential"),
            "ClientDefectBlamedOnCredential"
        );
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(path_uri("logs/agent.log"), "logs/agent.log");
        assert_eq!(path_uri("a b:c,d.log"), "a%20b%3Ac%2Cd.log");
        assert_eq!(path_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(path_uri("logs\\é.log"), "logs/%C3%A9.log");
    }
}

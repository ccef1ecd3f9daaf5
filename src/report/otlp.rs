//! OpenTelemetry logs: one OTLP/JSON `LogsData` document (the body of an OTLP/HTTP `POST
//! /v1/logs`, and a line of the Collector's `otlpjsonfile` format), written on one line.
//!
//! Encoding as the OTLP specification's JSON mapping wants it: lowerCamelCase keys, 64-bit
//! integers as decimal strings, enums as integers.
//!
//! - One `resourceLogs` per Hermes host the findings are about, hosts in sorted order, then the
//!   findings whose input names no host. The resource is that host: `host.name` (when known) and
//!   `service.name` = `hermes-agent` (the program whose behaviour the finding describes, whether
//!   it ran as the gateway or the CLI).
//! - One `scopeLogs` per resource: scope `hermes-forensics` with its version.
//! - One log record per finding, in report order: `timeUnixNano` = the finding's instant
//!   (absent when unknown); no `observedTimeUnixNano` (the output never reads the clock: the
//!   receiver stamps arrival); `severityNumber` / `severityText` from the severity (high →
//!   17 `ERROR`, medium → 13 `WARN`, low and info → 9 `INFO`; the attribute
//!   `hermes_forensics.severity` keeps low and info apart); `body` = the message, then one line
//!   per evidence line (`source:line: text`, see [`super::finding_body`]); attributes
//!   `hermes_forensics.rule`, `.severity`, `.request`, `.host`, `.provider`, `.profile` (each when
//!   known), `.time_text` (when only the time as written is known), `.evidence` (array of
//!   `source:line`) and `.notes` (array).
//!
//! Keys are emitted in a fixed order; the output depends only on the findings.

use super::{finding_body, visible, RenderOptions, TOOL_NAME};
use crate::model::{Finding, Report, RuleInfo, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, BufWriter, Write};

/// `service.name` of every resource: the findings are about the Hermes Agent on that host.
pub const SERVICE_NAME: &str = "hermes-agent";
/// Prefix of the attributes of a log record.
pub const ATTRIBUTE_PREFIX: &str = "hermes_forensics";

/// OTLP `severityNumber` and `severityText` of a severity.
pub fn severity(sev: Severity) -> (u8, &'static str) {
    match sev {
        Severity::High => (17, "ERROR"),
        Severity::Medium => (13, "WARN"),
        Severity::Low | Severity::Info => (9, "INFO"),
    }
}

/// Write the findings of `report` as one `LogsData` document on one line.
pub fn render(
    report: &Report,
    _rules: &[RuleInfo],
    _opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    write_line(&report.findings, report.tool_version, &mut w)?;
    w.flush()
}

/// Write `findings` as one `LogsData` document and a newline (also used by `--follow`, one
/// finding per document). The findings must already be redacted.
pub fn write_line(findings: &[Finding], version: &str, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &logs_data(findings, version))?;
    writeln!(out)
}

/// The `LogsData` document of `findings`.
pub fn logs_data(findings: &[Finding], version: &str) -> Value {
    // Known hosts in sorted order, then the findings of no known host.
    let mut hosts: Vec<Option<&str>> = findings.iter().map(|f| f.host.as_deref()).collect();
    hosts.sort_by_key(|h| (h.is_none(), *h));
    hosts.dedup();
    let resource_logs: Vec<Value> = hosts
        .into_iter()
        .map(|host| {
            let records: Vec<Value> = findings
                .iter()
                .filter(|f| f.host.as_deref() == host)
                .map(log_record)
                .collect();
            json!({
                "resource": {"attributes": resource_attributes(host)},
                "scopeLogs": [{
                    "scope": {"name": TOOL_NAME, "version": version},
                    "logRecords": records,
                }],
            })
        })
        .collect();
    json!({ "resourceLogs": resource_logs })
}

fn resource_attributes(host: Option<&str>) -> Vec<Value> {
    let mut attrs = Vec::new();
    if let Some(h) = host {
        attrs.push(string_attr("host.name", h));
    }
    attrs.push(string_attr("service.name", SERVICE_NAME));
    attrs
}

fn string_attr(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn array_attr(key: &str, values: impl IntoIterator<Item = String>) -> Value {
    let values: Vec<Value> = values
        .into_iter()
        .map(|v| json!({ "stringValue": v }))
        .collect();
    json!({"key": key, "value": {"arrayValue": {"values": values}}})
}

fn log_record(f: &Finding) -> Value {
    let mut r = Map::new();
    if let Some(nanos) = f
        .time
        .and_then(|t| t.timestamp_nanos_opt())
        .and_then(|n| u64::try_from(n).ok())
    {
        r.insert("timeUnixNano".into(), nanos.to_string().into());
    }
    let (number, text) = severity(f.severity);
    r.insert("severityNumber".into(), number.into());
    r.insert("severityText".into(), text.into());
    r.insert("body".into(), json!({ "stringValue": finding_body(f) }));
    let key = |name: &str| format!("{ATTRIBUTE_PREFIX}.{name}");
    let mut attrs = vec![
        string_attr(&key("rule"), f.rule),
        string_attr(&key("severity"), f.severity.as_str()),
    ];
    for (name, value) in [
        ("request", &f.request),
        ("host", &f.host),
        ("provider", &f.provider),
        ("profile", &f.profile),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            attrs.push(string_attr(&key(name), v));
        }
    }
    if f.time.is_none() {
        if let Some(t) = f.time_text.as_deref().filter(|t| !t.is_empty()) {
            attrs.push(string_attr(&key("time_text"), t));
        }
    }
    attrs.push(array_attr(
        &key("evidence"),
        f.evidence
            .iter()
            .map(|e| format!("{}:{}", e.source, e.line)),
    ));
    if !f.notes.is_empty() {
        attrs.push(array_attr(
            &key("notes"),
            f.notes.iter().map(|n| visible(n, true).into_owned()),
        ));
    }
    r.insert("attributes".into(), attrs.into());
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Evidence;
    use chrono::{TimeZone, Utc};

    fn finding(host: Option<&str>) -> Finding {
        Finding {
            rule: "pool-exhausted",
            severity: Severity::Medium,
            message: "every profile is cooling down".into(),
            time: Utc.timestamp_opt(1_796_361_101, 911_818_000).single(),
            time_text: None,
            request: Some("r1".into()),
            host: host.map(Into::into),
            provider: Some("openai-codex".into()),
            profile: None,
            evidence: vec![Evidence {
                source: "agent.log".into(),
                line: 7,
                text: "marking team exhausted".into(),
            }],
            notes: vec![],
        }
    }

    #[test]
    fn one_resource_per_host_in_sorted_order_then_no_host() {
        let doc = logs_data(
            &[finding(None), finding(Some("b")), finding(Some("a"))],
            "1.2.3",
        );
        let hosts: Vec<Value> = doc["resourceLogs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["resource"]["attributes"][0]["value"]["stringValue"].clone())
            .collect();
        assert_eq!(hosts, vec![json!("a"), json!("b"), json!(SERVICE_NAME)]);
        let rec = &doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(rec["timeUnixNano"], "1796361101911818000");
        assert_eq!(rec["severityNumber"], 13);
        assert_eq!(
            rec["body"]["stringValue"],
            "every profile is cooling down\nagent.log:7: marking team exhausted"
        );
        assert_eq!(
            doc["resourceLogs"][0]["scopeLogs"][0]["scope"]["version"],
            "1.2.3"
        );
    }

    #[test]
    fn unknown_time_has_no_time_field() {
        let mut f = finding(None);
        f.time = None;
        f.time_text = Some("18:41:08".into());
        let doc = logs_data(&[f], "0");
        let rec = &doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert!(rec.get("timeUnixNano").is_none());
        assert!(rec.get("observedTimeUnixNano").is_none());
        let attrs = rec["attributes"].to_string();
        assert!(attrs.contains("\"hermes_forensics.time_text\""), "{attrs}");
    }
}

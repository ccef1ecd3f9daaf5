//! systemd Journal Export Format (<https://systemd.io/JOURNAL_EXPORT_FORMATS/>): one entry per
//! finding, each ended by an empty line, for `systemd-journal-remote -o FILE.journal -` or any
//! reader of `journalctl -o export`.
//!
//! Fields of an entry, in this order:
//!
//! - `__REALTIME_TIMESTAMP`: the finding's instant in µs since the epoch. A finding with no
//!   instant (only a time of day is known) gets the latest instant of the input instead, marked
//!   `HERMES_FORENSICS_TIME_BASIS=input-end`; when the input has no instant at all the field is
//!   absent (`systemd-journal-remote` ignores such entries: give `--date` to date a time-of-day
//!   log). The output never reads the clock.
//! - `_HOSTNAME`: the Hermes host the finding is about, when the input names it.
//! - `MESSAGE`: the message, then one line per evidence line (`source:line: text`); a value with
//!   a newline or another control character is written in the binary form (`NAME\n`, its length
//!   as a little-endian 64-bit integer, the bytes, `\n`).
//! - `MESSAGE_ID`: fixed per rule ([`message_id`]), so `journalctl MESSAGE_ID=…` selects one rule.
//! - `PRIORITY`: syslog priority of the severity: high → 3 (err), medium → 4 (warning), low →
//!   5 (notice), info → 6 (info).
//! - `SYSLOG_IDENTIFIER=hermes-forensics`.
//! - `HERMES_FORENSICS_RULE`, `HERMES_FORENSICS_SEVERITY`, then `HERMES_FORENSICS_REQUEST`,
//!   `HERMES_FORENSICS_PROVIDER`, `HERMES_FORENSICS_PROFILE`, `HERMES_FORENSICS_TIME_TEXT` (each
//!   when known), `HERMES_FORENSICS_EVIDENCE=source:line` (once per evidence line) and
//!   `HERMES_FORENSICS_NOTE` (once per note).

use super::{finding_body, visible, RenderOptions, TOOL_NAME};
use crate::model::{Finding, Report, RuleInfo, Severity};
use chrono::{DateTime, Utc};
use std::io::{self, BufWriter, Write};

/// Namespace hashed with a rule id into its `MESSAGE_ID` (never to change).
pub const MESSAGE_ID_NAMESPACE: &str = "hermes-forensics/journal-message-id/";

/// Syslog priority of a severity.
pub fn priority(sev: Severity) -> u8 {
    match sev {
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// The journal `MESSAGE_ID` of a rule: 32 lowercase hex digits, the same forever. It is the
/// 128-bit FNV-1a hash of [`MESSAGE_ID_NAMESPACE`] followed by the rule id, with the version and
/// variant bits of an RFC 9562 UUIDv8 set (so it is also a valid UUID).
pub fn message_id(rule: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for b in MESSAGE_ID_NAMESPACE.bytes().chain(rule.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // Version 8 (bits 48..52 of the UUID), variant 0b10 (bits 64..66).
    h = (h & !(0xf << 76)) | (0x8 << 76);
    h = (h & !(0x3 << 62)) | (0x2 << 62);
    format!("{h:032x}")
}

/// The rules and their `MESSAGE_ID`s as a Markdown table (the README lists it).
pub fn message_id_table(rules: &[RuleInfo]) -> String {
    let mut s = String::from("| rule | PRIORITY | MESSAGE_ID |\n|---|---|---|\n");
    for r in rules {
        s.push_str(&format!(
            "| `{}` | {} | `{}` |\n",
            r.id,
            priority(r.severity),
            message_id(r.id)
        ));
    }
    s
}

/// Write the findings of `report`, one entry each.
pub fn render(
    report: &Report,
    _rules: &[RuleInfo],
    _opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    for f in &report.findings {
        write_entry(f, report.summary.last_time, &mut w)?;
    }
    w.flush()
}

/// Write one finding as an entry and the empty line that ends it. `input_end` is the latest
/// instant of the input, the time of a finding with no instant of its own. The finding must
/// already be redacted.
pub fn write_entry(
    f: &Finding,
    input_end: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (time, basis) = match (f.time, input_end) {
        (Some(t), _) => (Some(t), None),
        (None, Some(t)) => (Some(t), Some("input-end")),
        (None, None) => (None, None),
    };
    if let Some(us) = time
        .map(|t| t.timestamp_micros())
        .and_then(|us| u64::try_from(us).ok())
        .filter(|&us| us > 0)
    {
        field(out, "__REALTIME_TIMESTAMP", &us.to_string())?;
    }
    if let Some(h) = nonempty(&f.host) {
        field(out, "_HOSTNAME", h)?;
    }
    field(out, "MESSAGE", &finding_body(f))?;
    field(out, "MESSAGE_ID", &message_id(f.rule))?;
    field(out, "PRIORITY", &priority(f.severity).to_string())?;
    field(out, "SYSLOG_IDENTIFIER", TOOL_NAME)?;
    field(out, "HERMES_FORENSICS_RULE", f.rule)?;
    field(out, "HERMES_FORENSICS_SEVERITY", f.severity.as_str())?;
    for (name, value) in [
        ("HERMES_FORENSICS_REQUEST", &f.request),
        ("HERMES_FORENSICS_PROVIDER", &f.provider),
        ("HERMES_FORENSICS_PROFILE", &f.profile),
    ] {
        if let Some(v) = nonempty(value) {
            field(out, name, v)?;
        }
    }
    if f.time.is_none() {
        if let Some(t) = nonempty(&f.time_text) {
            field(out, "HERMES_FORENSICS_TIME_TEXT", t)?;
        }
    }
    if let Some(b) = basis {
        field(out, "HERMES_FORENSICS_TIME_BASIS", b)?;
    }
    for e in &f.evidence {
        field(
            out,
            "HERMES_FORENSICS_EVIDENCE",
            &format!("{}:{}", e.source, e.line),
        )?;
    }
    for n in &f.notes {
        field(out, "HERMES_FORENSICS_NOTE", &visible(n, true))?;
    }
    writeln!(out)
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.is_empty())
}

/// One field: `NAME=value\n`, or the binary form when the value has a newline or another
/// control character.
fn field(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    if value.chars().any(char::is_control) {
        out.write_all(name.as_bytes())?;
        out.write_all(b"\n")?;
        out.write_all(&(value.len() as u64).to_le_bytes())?;
        out.write_all(value.as_bytes())?;
        out.write_all(b"\n")
    } else {
        writeln!(out, "{name}={value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Evidence;

    #[test]
    fn message_ids_are_fixed_uuids() {
        let id = message_id("shared-retry-budget");
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(&id[12..13], "8", "{id}");
        assert!(matches!(&id[16..17], "8" | "9" | "a" | "b"), "{id}");
        // Published ids: these never change.
        assert_eq!(
            message_id("pool-exhausted"),
            "80918dbc127c86dcb59706145a71e731"
        );
        assert_ne!(id, message_id("pool-exhausted"));
    }

    #[test]
    fn multi_line_values_use_the_binary_form() {
        let f = Finding {
            rule: "pool-exhausted",
            severity: Severity::Info,
            message: "all cooling".into(),
            time: None,
            time_text: Some("18:41:08".into()),
            request: None,
            host: None,
            provider: None,
            profile: None,
            evidence: vec![Evidence {
                source: "a.log".into(),
                line: 3,
                text: "x".into(),
            }],
            notes: vec![],
        };
        let mut out = Vec::new();
        write_entry(&f, None, &mut out).unwrap_or_default();
        let body = "all cooling\na.log:3: x";
        let mut want = b"MESSAGE\n".to_vec();
        want.extend((body.len() as u64).to_le_bytes());
        want.extend(body.as_bytes());
        want.push(b'\n');
        assert!(out.starts_with(&want), "{}", String::from_utf8_lossy(&out));
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("\nPRIORITY=6\n"), "{text}");
        assert!(text.contains("\nHERMES_FORENSICS_TIME_TEXT=18:41:08\n"));
        assert!(!text.contains("__REALTIME_TIMESTAMP"));
        assert!(
            text.ends_with("\nHERMES_FORENSICS_EVIDENCE=a.log:3\n\n"),
            "{text}"
        );
    }
}

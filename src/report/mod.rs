//! Report formats: one file per format, each writes a [`Report`] to `&mut dyn Write`.
//!
//! Every string of a [`Report`] is redacted at this boundary ([`scrub`]) before a format sees
//! it; the formats only escape them for their medium. Output is byte-deterministic: it depends on the report, the rules and the
//! options only.
//!
//! Time display (text and markdown): instants are shown in UTC as `2026-05-08 22:41:08Z`; when
//! the instant has a non-zero millisecond part it is shown as `2026-05-08 22:41:08.250Z`
//! (sub-millisecond digits are dropped). When no instant is known the time as written in the log
//! (`time_text`) is shown, else `-`. JSON uses RFC 3339 (see [`json`]).

pub mod counts;
pub mod github;
pub mod html;
pub mod journal_export;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod otlp;
pub mod sarif;
pub mod scrub;
pub mod text;

use crate::model::{Finding, Report, RuleInfo, SnapshotChange, SnapshotSummary};
use chrono::{DateTime, Timelike, Utc};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Name of the tool as printed in report headers and in the JSON `tool.name` field.
pub const TOOL_NAME: &str = "hermes-forensics";

/// Output formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Terminal report: header, findings table, details.
    #[default]
    Text,
    /// Markdown for a GitHub issue.
    Markdown,
    /// JSON (`schema_version` 1).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations), then the text report.
    Github,
    /// One self-contained HTML page: findings, SVG swimlane timelines, impact.
    Html,
    /// OTLP/JSON `LogsData` (OpenTelemetry): a log record per finding, a resource per host.
    Otlp,
    /// systemd Journal Export Format (systemd-journal-remote): an entry per finding.
    JournalExport,
}

/// Rendering options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderOptions {
    /// Print per-request timelines (text/markdown; json always includes `report.timelines`).
    pub timeline: bool,
    /// ANSI colour (text only).
    pub color: bool,
}

/// Render `report` in `format`. `rules` is the rule registry (for docs / "why it matters").
pub fn render(
    format: Format,
    report: &Report,
    rules: &[RuleInfo],
    opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let report = &*scrub::report(report);
    match format {
        Format::Text => text::render(report, rules, opts, out),
        Format::Markdown => markdown::render(report, rules, opts, out),
        Format::Json => json::render(report, rules, opts, out),
        Format::Sarif => sarif::render(report, rules, opts, out),
        Format::Github => github::render(report, rules, opts, out),
        Format::Html => html::render(report, rules, opts, out),
        Format::Otlp => otlp::render(report, rules, opts, out),
        Format::JournalExport => journal_export::render(report, rules, opts, out),
    }
}

/// Formats an instant for display: `2026-05-08 22:41:08Z`, or `2026-05-08 22:41:08.250Z` when
/// the millisecond part is non-zero.
/// One snapshot of the header: its name, kind, the time it speaks for and how that was decided.
pub fn snapshot_line(s: &SnapshotSummary) -> String {
    format!(
        "{}: {}, {}, {} ({})",
        s.source,
        s.kind,
        s.time
            .as_deref()
            .map(|t| format!("at {t}"))
            .unwrap_or_else(|| "time unknown".into()),
        s.relation,
        s.basis
    )
}

/// One entry that changed between two snapshots, with the log line that changed it.
pub fn change_line(c: &SnapshotChange) -> String {
    format!(
        "{} {}: {} in {} -> {} in {}{} ({})",
        c.provider,
        c.profile,
        c.before,
        c.from_snapshot,
        c.after,
        c.to_snapshot,
        c.at.as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default(),
        c.evidence
            .as_deref()
            .map(|e| format!("changed by {e}"))
            .unwrap_or_else(|| "no log line shows this change".into())
    )
}

/// The zone reports print times in (`--tz`); UTC when unset. Set once, before rendering.
static DISPLAY_ZONE: std::sync::OnceLock<chrono_tz::Tz> = std::sync::OnceLock::new();

/// Print report times in `tz` (`--tz`) instead of UTC. The first call wins.
pub fn set_display_zone(tz: chrono_tz::Tz) {
    let _ = DISPLAY_ZONE.set(tz);
}

/// The name of the zone reports print times in: `UTC`, or the `--tz` zone.
pub fn display_zone_name() -> &'static str {
    DISPLAY_ZONE.get().map_or("UTC", |z| z.name())
}

/// A time as reports print it: UTC with `Z`, or in the `--tz` zone with its offset.
pub fn display_time(t: &DateTime<Utc>) -> String {
    display_time_in(t, DISPLAY_ZONE.get())
}

fn display_time_in(t: &DateTime<Utc>, zone: Option<&chrono_tz::Tz>) -> String {
    let ms = t.nanosecond() % 1_000_000_000 / 1_000_000;
    let frac = if ms == 0 {
        String::new()
    } else {
        format!(".{ms:03}")
    };
    match zone {
        Some(z) => {
            let local = t.with_timezone(z);
            let offset = local.format("%:z").to_string();
            let offset = if offset == "+00:00" {
                "Z".into()
            } else {
                offset
            };
            format!("{}{frac}{offset}", local.format("%Y-%m-%d %H:%M:%S"))
        }
        None => format!("{}{frac}Z", t.format("%Y-%m-%d %H:%M:%S")),
    }
}

/// The display time of a finding or timeline entry: the instant when known, else the time as
/// written in the log, else `-`.
pub fn display_when(time: Option<&DateTime<Utc>>, time_text: Option<&str>) -> String {
    match (time, time_text) {
        (Some(t), _) => display_time(t),
        (None, Some(text)) if !text.is_empty() => text.to_string(),
        _ => "-".to_string(),
    }
}

/// A finding as one text for log pipelines (OTLP `body`, journal `MESSAGE`): the message, then
/// one line per evidence line, `source:line: text`. Control characters are escaped
/// (`visible`); a multi-line message keeps its lines, an evidence line stays one line.
pub fn finding_body(f: &Finding) -> String {
    let mut body = visible(&f.message, true).into_owned();
    for e in &f.evidence {
        // Writing to a String cannot fail.
        let _ = write!(
            body,
            "\n{}:{}: {}",
            visible(&e.source, false),
            e.line,
            visible(&e.text, false)
        );
    }
    body
}

/// The display form of an optional field: the value, or `-`.
pub(crate) fn or_dash(v: Option<&str>) -> &str {
    v.filter(|s| !s.is_empty()).unwrap_or("-")
}

/// The items joined with `, `, or `-` when there are none.
pub(crate) fn join_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

/// Makes input-derived text safe to print: control characters (including ESC, so no terminal
/// escape sequence can pass through) become visible `\u{..}` escapes, tabs become a space and
/// carriage returns are dropped. Newlines are kept when `multiline`, else replaced by a space.
pub(crate) fn visible(s: &str, multiline: bool) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if multiline => out.push('\n'),
            '\n' | '\t' => out.push(' '),
            '\r' => {}
            c if c.is_control() => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Shortens `s` to at most `max` characters (respecting char boundaries), ending in `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", s[..end].trim_end()))
        }
    }
}

/// The rule summary for `id` from the registry, when the rule is known.
/// "Why it matters" for a rule: the `## Why it matters` section of its documentation, joined
/// into one paragraph, else its summary.
pub(crate) fn rule_summary(rules: &[RuleInfo], id: &str) -> Option<String> {
    let rule = rules.iter().find(|r| r.id == id)?;
    Some(doc_section(rule.doc, "Why it matters").unwrap_or_else(|| rule.summary.to_string()))
}

/// The `## {title}` section of a rule's documentation, joined into one paragraph.
pub(crate) fn doc_section(doc: &str, title: &str) -> Option<String> {
    doc.split("## ")
        .find_map(|s| s.strip_prefix(title))
        .map(|body| body.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_display_adds_millis_only_when_non_zero() {
        let t = Utc.with_ymd_and_hms(2026, 5, 8, 22, 41, 8).single();
        let t = t.unwrap_or_default();
        assert_eq!(display_time(&t), "2026-05-08 22:41:08Z");
        let t = t + chrono::Duration::milliseconds(250) + chrono::Duration::microseconds(7);
        assert_eq!(display_time(&t), "2026-05-08 22:41:08.250Z");
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            display_time_in(&t, Some(&ny)),
            "2026-05-08 18:41:08.250-04:00"
        );
        assert_eq!(display_when(None, Some("18:41:08")), "18:41:08");
        assert_eq!(display_when(None, None), "-");
    }

    #[test]
    fn visible_escapes_control_characters() {
        assert_eq!(visible("plain ✅", false), "plain ✅");
        assert_eq!(
            visible("\x1b[31mred\x1b[0m", false),
            "\\u{1b}[31mred\\u{1b}[0m"
        );
        assert_eq!(visible("a\r\nb\tc", false), "a b c");
        assert_eq!(visible("a\nb", true), "a\nb");
        assert_eq!(visible("\u{9b}", true), "\\u{9b}");
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("exactly10!", 10), "exactly10!");
        assert_eq!(truncate_chars("⚠️⚠️⚠️⚠️⚠️⚠️", 4), "⚠️⚠…");
        assert_eq!(truncate_chars("word word word", 7), "word w…");
    }
}

//! GitHub Actions output: workflow-command annotations, then the full text report.
//!
//! - A `::notice` summary comes first (so GitHub's per-step cap never drops it), then one
//!   annotation per finding: high → `::error`, medium → `::warning`, low and info → `::notice`,
//!   with `file`/`line` from the first evidence line and `title` = rule and severity. GitHub shows
//!   10 annotations per type per step; findings beyond that (9 notices, counting the summary) are
//!   only in the summary count and the text report.
//! - Log text is untrusted: messages are escaped like actions/toolkit `escapeData` (`%`, CR, LF)
//!   and properties like `escapeProperty` (also `:` and `,`), `%` first, so no log line can end an
//!   annotation and start a command of its own.
//! - The text report follows between `::stop-commands::TOKEN` and `::TOKEN::`: the runner
//!   processes no command in between. TOKEN is derived from the report body and chosen so that it
//!   does not occur in it, so the body cannot resume command processing; output stays
//!   deterministic.
//! - [`append_step_summary`] appends the Markdown report to `$GITHUB_STEP_SUMMARY`, cut at a
//!   finding boundary to fit GitHub's 1 MiB limit.

use super::{markdown, text, RenderOptions, TOOL_NAME};
use crate::fingerprint::hash_hex;
use crate::model::{Finding, Report, RuleInfo, Severity};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Annotations GitHub shows per type and step.
const PER_TYPE_CAP: usize = 10;
/// Largest job summary GitHub accepts per step.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Escapes a workflow-command message (actions/toolkit `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (actions/toolkit `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The annotation command of a severity.
fn command(sev: Severity) -> &'static str {
    match sev {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// One annotation line (without newline).
fn annotation(f: &Finding) -> String {
    let mut props = Vec::new();
    if let Some(e) = f.evidence.first() {
        props.push(format!("file={}", escape_property(&e.source)));
        if e.line >= 1 {
            props.push(format!("line={}", e.line));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} ({})", f.rule, f.severity.as_str()))
    ));
    let mut message = f.message.clone();
    for note in &f.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    for e in &f.evidence {
        message.push_str(&format!("\n{}:{}  {}", e.source, e.line, e.text));
    }
    format!(
        "::{} {}::{}",
        command(f.severity),
        props.join(","),
        escape_data(&message)
    )
}

/// A stop-commands token that does not occur in `body`.
fn stop_token(body: &str) -> String {
    let mut seed = body.to_string();
    loop {
        let token = format!("{TOOL_NAME}-{}", hash_hex(seed.as_bytes()));
        if !body.contains(&token) {
            return token;
        }
        seed.push('\0');
    }
}

/// Write `report` as GitHub workflow commands followed by the text report.
pub fn render(
    report: &Report,
    rules: &[RuleInfo],
    opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    let count = |cmd: &str| {
        report
            .findings
            .iter()
            .filter(|f| command(f.severity) == cmd)
            .count()
    };
    let (errors, warnings, notices) = (count("error"), count("warning"), count("notice"));
    let caps = [
        ("error", PER_TYPE_CAP),
        ("warning", PER_TYPE_CAP),
        // The summary below is a notice too.
        ("notice", PER_TYPE_CAP - 1),
    ];
    let hidden: usize = [errors, warnings, notices]
        .iter()
        .zip(caps)
        .map(|(n, (_, cap))| n.saturating_sub(cap))
        .sum();
    let mut summary = format!(
        "{} findings ({errors} error, {warnings} warning, {notices} notice)",
        report.findings.len()
    );
    if hidden > 0 {
        summary.push_str(&format!(
            "; {hidden} not annotated (GitHub shows {PER_TYPE_CAP} per type), see the full report in the log"
        ));
    }
    writeln!(
        w,
        "::notice title={}::{}",
        escape_property(TOOL_NAME),
        escape_data(&summary)
    )?;
    let mut shown = [0usize; 3];
    for f in &report.findings {
        let cmd = command(f.severity);
        let Some(i) = caps.iter().position(|(c, _)| *c == cmd) else {
            continue;
        };
        if shown[i] < caps[i].1 {
            shown[i] += 1;
            writeln!(w, "{}", annotation(f))?;
        }
    }
    let mut body = Vec::new();
    text::render(
        report,
        rules,
        RenderOptions {
            color: false,
            ..opts
        },
        &mut body,
    )?;
    let body = String::from_utf8_lossy(&body);
    let token = stop_token(&body);
    writeln!(w, "::stop-commands::{token}")?;
    write!(w, "{body}")?;
    writeln!(w, "::{token}::")?;
    w.flush()
}

/// The Markdown report, cut at the last finding section that fits in `limit` bytes (with a note
/// saying so) when it is larger.
pub fn step_summary(report: &Report, rules: &[RuleInfo], limit: usize) -> io::Result<String> {
    let report = &*super::scrub::report(report);
    let mut buf = Vec::new();
    markdown::render(report, rules, RenderOptions::default(), &mut buf)?;
    let full = String::from_utf8_lossy(&buf).into_owned();
    if full.len() <= limit {
        return Ok(full);
    }
    let note = "\n_Report truncated to fit the job summary; the full report is in the job log._\n";
    let room = limit.saturating_sub(note.len());
    let mut cut = room;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = full.get(..cut).unwrap_or("");
    let end = head
        .rfind("\n### ")
        .or_else(|| head.rfind('\n'))
        .unwrap_or(0);
    Ok(format!("{}{note}", full.get(..end + 1).unwrap_or("")))
}

/// Appends the Markdown report to the job summary file `path` (`$GITHUB_STEP_SUMMARY`).
pub fn append_step_summary(report: &Report, rules: &[RuleInfo], path: &Path) -> io::Result<()> {
    let text = step_summary(report, rules, STEP_SUMMARY_LIMIT)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_data("%0A::error::x"), "%250A::error::x");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn step_summary_is_cut_at_a_finding_boundary() {
        let finding = Finding {
            rule: "missed-rotation",
            severity: Severity::High,
            message: "retried the same credential ".repeat(4),
            time: None,
            time_text: None,
            request: None,
            host: None,
            provider: None,
            profile: None,
            evidence: Vec::new(),
            notes: Vec::new(),
        };
        let report = Report {
            tool_version: "0.0.0",
            summary: crate::model::Summary::default(),
            findings: vec![finding; 40],
            timelines: Vec::new(),
        };
        let full = step_summary(&report, &[], usize::MAX).unwrap_or_default();
        let limit = full.len() - 3000;
        let cut = step_summary(&report, &[], limit).unwrap_or_default();
        assert!(
            cut.len() <= limit && cut.len() > limit - 1000,
            "{}",
            cut.len()
        );
        assert!(cut.ends_with("the full report is in the job log._\n"));
        let kept = cut
            .rsplit_once("\n_Report truncated")
            .map_or("", |(k, _)| k);
        assert!(full.starts_with(kept));
        assert!(
            full[kept.len()..].starts_with("### "),
            "cut before a finding"
        );
    }

    #[test]
    fn stop_token_avoids_the_body() {
        let body = "plain";
        let t = stop_token(body);
        let hostile = format!("x {t} y");
        let t2 = stop_token(&hostile);
        assert!(!hostile.contains(&t2));
    }
}

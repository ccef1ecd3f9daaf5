//! Plain-text report for a terminal or a pipe: header, findings table, finding details and
//! (with `--timeline`) per-request timelines.
//!
//! ANSI colour is used only when [`RenderOptions::color`] is set, and only for severity tags;
//! input-derived text is passed through `visible` so no escape byte from a log line reaches the
//! terminal.

use super::{
    display_when, join_or_dash, or_dash, truncate_chars, visible, RenderOptions, TOOL_NAME,
};
use crate::model::{Finding, Report, RequestTimeline, RuleInfo, Severity, Summary};
use std::io::{self, BufWriter, Write};
use tabled::builder::Builder;
use tabled::settings::Style;

/// Longest message shown in the findings table; the full text follows in the details.
const TABLE_MESSAGE_CHARS: usize = 60;

/// Write `report` as text.
pub fn render(
    report: &Report,
    _rules: &[RuleInfo],
    opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    header(&mut w, report, opts)?;
    writeln!(w)?;
    if report.findings.is_empty() {
        writeln!(w, "No findings.")?;
    } else {
        write_table(&mut w, &findings_table(&report.findings), "")?;
        for f in &report.findings {
            writeln!(w)?;
            finding(&mut w, f, opts)?;
        }
    }
    if let Some(imp) = &report.summary.impact {
        writeln!(w)?;
        writeln!(
            w,
            "Impact: {}",
            super::visible(&crate::replay::impact_sentence(imp), false)
        )?;
    }
    if opts.timeline {
        writeln!(w)?;
        timelines(&mut w, &report.timelines)?;
    }
    w.flush()
}

/// The ANSI SGR code for a severity.
fn sgr(sev: Severity) -> &'static str {
    match sev {
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// `text` in the severity's colour when `color` is set.
fn paint(sev: Severity, color: bool, text: String) -> String {
    if color {
        format!("\x1b[{}m{text}\x1b[0m", sgr(sev))
    } else {
        text
    }
}

/// `[HIGH]`, coloured when asked.
fn tag(sev: Severity, color: bool) -> String {
    paint(
        sev,
        color,
        format!("[{}]", sev.as_str().to_ascii_uppercase()),
    )
}

fn header(w: &mut impl Write, report: &Report, opts: RenderOptions) -> io::Result<()> {
    let s: &Summary = &report.summary;
    writeln!(w, "{TOOL_NAME} {}", report.tool_version)?;
    if s.sources.is_empty() {
        writeln!(w, "sources: none")?;
    } else {
        writeln!(w, "sources:")?;
        for src in &s.sources {
            writeln!(
                w,
                "  {} [{}]: {} lines read, {} used, {} other, {} unrecognized",
                visible(&src.name, false),
                visible(&src.format, false),
                src.lines_read,
                src.lines_used,
                src.lines_other,
                src.lines_unrecognized
            )?;
        }
    }
    writeln!(
        w,
        "time span: {} → {}",
        display_when(s.first_time.as_ref(), None),
        display_when(s.last_time.as_ref(), None)
    )?;
    writeln!(
        w,
        "requests: {}, attempts: {}, rotations: {}, fallbacks: {}",
        s.requests,
        s.attempts,
        super::counts::rotations(s),
        s.fallbacks
    )?;
    let c = &s.findings_by_severity;
    let counts = [
        (Severity::High, c.high),
        (Severity::Medium, c.medium),
        (Severity::Low, c.low),
        (Severity::Info, c.info),
    ]
    .map(|(sev, n)| paint(sev, opts.color && n > 0, format!("{n} {}", sev.as_str())));
    writeln!(w, "findings: {}", counts.join(", "))?;
    writeln!(
        w,
        "hermes: {}",
        visible(&crate::release::describe(&s.hermes_release), false)
    )?;
    if !s.hermes_release.basis.is_empty() {
        writeln!(
            w,
            "  from: {}",
            visible(&s.hermes_release.basis.join("; "), false)
        )?;
    }
    if s.pools.is_empty() {
        writeln!(w, "pools: none known")?;
    } else {
        writeln!(w, "pools:")?;
        for p in &s.pools {
            writeln!(
                w,
                "  {}: {}{} (known from {})",
                visible(&p.provider, false),
                super::counts::pool_size(p),
                if p.profiles.is_empty() {
                    String::new()
                } else {
                    format!(": {}", visible(&join_or_dash(&p.profiles), false))
                },
                visible(&p.known_from, false)
            )?;
        }
    }
    if !s.snapshots.is_empty() {
        writeln!(w, "snapshots:")?;
        for snap in &s.snapshots {
            writeln!(w, "  {}", visible(&super::snapshot_line(snap), false))?;
        }
        for note in &s.snapshot_notes {
            writeln!(w, "  note: {}", visible(note, false))?;
        }
        for change in &s.snapshot_changes {
            writeln!(
                w,
                "  change: {}",
                visible(&super::change_line(change), false)
            )?;
        }
    }
    for warning in &s.warnings {
        writeln!(w, "warning: {}", visible(warning, false))?;
    }
    if !s.redacted {
        writeln!(w, "secrets NOT redacted (--no-redact)")?;
    }
    Ok(())
}

/// The findings overview: one row per finding, message cut to one short line.
fn findings_table(findings: &[Finding]) -> tabled::Table {
    let mut b = Builder::new();
    b.push_record(["severity", "rule", "time", "request", "message"]);
    for f in findings {
        let message = visible(f.message.lines().next().unwrap_or(""), false);
        b.push_record([
            f.severity.as_str().to_string(),
            f.rule.to_string(),
            display_when(f.time.as_ref(), f.time_text.as_deref()),
            visible(or_dash(f.request.as_deref()), false).into_owned(),
            truncate_chars(&message, TABLE_MESSAGE_CHARS).into_owned(),
        ]);
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t
}

/// Writes a rendered table line by line with `indent`, without trailing blanks.
fn write_table(w: &mut impl Write, table: &tabled::Table, indent: &str) -> io::Result<()> {
    for line in table.to_string().lines() {
        writeln!(w, "{indent}{}", line.trim_end())?;
    }
    Ok(())
}

/// Writes `text` with every line after the first indented by `indent`.
fn write_indented(w: &mut impl Write, text: &str, indent: &str) -> io::Result<()> {
    let text = visible(text, true);
    let mut lines = text.lines();
    writeln!(w, "{}", lines.next().unwrap_or(""))?;
    for line in lines {
        writeln!(w, "{indent}{line}")?;
    }
    Ok(())
}

fn finding(w: &mut impl Write, f: &Finding, opts: RenderOptions) -> io::Result<()> {
    write!(w, "{} {}", tag(f.severity, opts.color), f.rule)?;
    if f.message.is_empty() {
        writeln!(w)?;
    } else {
        write!(w, " — ")?;
        write_indented(w, &f.message, "    ")?;
    }
    writeln!(
        w,
        "  time: {}  request: {}  provider: {}  profile: {}",
        display_when(f.time.as_ref(), f.time_text.as_deref()),
        visible(or_dash(f.request.as_deref()), false),
        visible(or_dash(f.provider.as_deref()), false),
        visible(or_dash(f.profile.as_deref()), false)
    )?;
    for note in &f.notes {
        write!(w, "  note: ")?;
        write_indented(w, note, "        ")?;
    }
    if !f.evidence.is_empty() {
        writeln!(w, "  evidence:")?;
        for e in &f.evidence {
            writeln!(
                w,
                "    {}:{}  {}",
                visible(&e.source, false),
                e.line,
                visible(&e.text, false)
            )?;
        }
    }
    Ok(())
}

fn timelines(w: &mut impl Write, timelines: &[RequestTimeline]) -> io::Result<()> {
    if timelines.is_empty() {
        return writeln!(w, "No request timelines.");
    }
    for (i, tl) in timelines.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        writeln!(
            w,
            "request {} ({}, {})",
            visible(&tl.id, false),
            visible(or_dash(tl.provider.as_deref()), false),
            visible(&tl.outcome, false)
        )?;
        if tl.entries.is_empty() {
            writeln!(w, "  (no entries)")?;
            continue;
        }
        let mut b = Builder::new();
        for e in &tl.entries {
            let profile = match (e.profile.as_deref(), e.profile_basis.as_deref()) {
                (Some(p), Some(basis)) if basis != "label" => format!("{p} ({basis})"),
                (p, _) => or_dash(p).to_string(),
            };
            b.push_record([
                display_when(e.time.as_ref(), e.time_text.as_deref()),
                visible(&e.what, false).into_owned(),
                visible(&profile, false).into_owned(),
                visible(&e.text, false).into_owned(),
                format!("{}:{}", visible(&e.source, false), e.line),
            ]);
        }
        let mut t = b.build();
        t.with(Style::blank());
        write_table(w, &t, " ")?;
    }
    Ok(())
}

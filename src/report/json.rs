//! JSON report (issue contract, `schema_version` 1):
//!
//! ```text
//! {"schema_version": 1, "tool": {"name", "version"}, "summary": {...},
//!  "findings": [{"rule", "severity", "message", "time", ["time_text"], "request", "provider",
//!                "profile", "evidence": [{"source", "line", "text"}], "notes": [...]}],
//!  ["timelines": [...]]}
//! ```
//!
//! Keys appear in exactly this order (serialized from structs, never from maps). Times are
//! RFC 3339 UTC strings (`2026-05-08T22:41:08Z`, fractional seconds only when non-zero) or
//! `null`; `time_text` is present only when set. `timelines` is present when timelines were asked
//! for or the report carries any. Output is pretty-printed with 2-space indent plus a newline.
//!
//! `summary.hosts` (the hosts the lines name, in name order) is present only when some line
//! names one: a key added without a new `schema_version`, as readers of version 1 ignore keys
//! they do not know. `merge` ([`crate::shard`]) reads this document back: the summary, the
//! findings and the timelines are all it needs to render the other formats.

use super::{RenderOptions, TOOL_NAME};
use crate::model::{Finding, Report, RequestTimeline, RuleInfo, Summary};
use serde::Serialize;
use std::io::{self, BufWriter, Write};

/// Version of the JSON document shape.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    summary: &'a Summary,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    timelines: Option<&'a [RequestTimeline]>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
}

/// Write `report` as JSON.
pub fn render(
    report: &Report,
    _rules: &[RuleInfo],
    opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let include_timelines = opts.timeline || !report.timelines.is_empty();
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: TOOL_NAME,
            version: report.tool_version,
        },
        summary: &report.summary,
        findings: &report.findings,
        timelines: include_timelines.then_some(report.timelines.as_slice()),
    };
    let mut w = BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &doc)?;
    writeln!(w)?;
    w.flush()
}

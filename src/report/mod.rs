//! Report formats: one file per format, each writes a [`Report`] to `&mut dyn Write`.

pub mod json;
pub mod markdown;
pub mod text;

use crate::model::{Report, RuleInfo};
use std::io::{self, Write};

/// Output formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Json,
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
    match format {
        Format::Text => text::render(report, rules, opts, out),
        Format::Markdown => markdown::render(report, rules, opts, out),
        Format::Json => json::render(report, rules, opts, out),
    }
}

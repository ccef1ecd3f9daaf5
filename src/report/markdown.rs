use super::RenderOptions;
use crate::model::{Report, RuleInfo};
use std::io::{self, Write};

pub fn render(
    _report: &Report,
    _rules: &[RuleInfo],
    _opts: RenderOptions,
    _out: &mut dyn Write,
) -> io::Result<()> {
    Ok(())
}

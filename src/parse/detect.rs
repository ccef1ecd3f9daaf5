//! Format detection from the first lines of a source.

use super::{journal, paste, structured, InputFormat};
use crate::model::Shape;

/// A mode whose entries span several lines, from its first line: `__CURSOR=` (export), a
/// `verbose` header (a `short-full` stamp and the cursor in brackets), or `{` alone followed by
/// a `"FIELD" : value` line (json-pretty).
fn multi_line(first_lines: &[&str]) -> Option<InputFormat> {
    let mut lines = first_lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty() && !journal::is_meta(l));
    let first = lines.next()?;
    if first.starts_with("__CURSOR=") {
        return Some(InputFormat::JournalExport);
    }
    if journal::full_stamp(first).is_some_and(|(_, _, rest)| rest.starts_with("[s=")) {
        return Some(InputFormat::JournalVerbose);
    }
    (first.trim() == "{" && lines.next()?.trim_start().starts_with('"'))
        .then_some(InputFormat::JournalJsonPretty)
}

/// Detect the format of a source from its first (up to 50) non-empty lines: the shape most of
/// them have (first seen wins a tie). Only bare lines → `JournalCat`; no lines → `Auto`.
pub fn detect(first_lines: &[&str]) -> InputFormat {
    if let Some(f) = multi_line(first_lines) {
        return f;
    }
    let mut votes: Vec<(InputFormat, usize)> = Vec::new();
    let mut any = false;
    let lines = first_lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty() && !journal::is_meta(l))
        .take(50);
    for line in lines {
        any = true;
        let head =
            structured(line).or_else(|| paste::strip_grep_n(line, false).and_then(structured));
        let Some(shape) = head.map(|h| h.shape).filter(|s| *s != Shape::Bare) else {
            continue;
        };
        let format = InputFormat::of_shape(shape);
        match votes.iter_mut().find(|(f, _)| *f == format) {
            Some((_, n)) => *n += 1,
            None => votes.push((format, 1)),
        }
    }
    let best = votes
        .iter()
        .fold(None::<(InputFormat, usize)>, |best, &(f, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((f, n)),
        });
    match best {
        Some((f, _)) => f,
        None if any => InputFormat::JournalCat,
        None => InputFormat::Auto,
    }
}

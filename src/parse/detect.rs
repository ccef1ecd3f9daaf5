//! Format detection from the first lines of a source.

use super::{journal, paste, structured, InputFormat};
use crate::model::Shape;

/// Detect the format of a source from its first (up to 50) non-empty lines: the shape most of
/// them have (first seen wins a tie). Only bare lines → `JournalCat`; no lines → `Auto`.
pub fn detect(first_lines: &[&str]) -> InputFormat {
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

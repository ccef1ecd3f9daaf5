//! Hermes Desktop: `[2026-08-25T10:50:18.453Z] [hermes] message` and `[hermes] message`.

use super::inner;
use super::time::{date, offset, time_of_day, RawTime};
use super::Head;
use crate::model::Shape;
use nom::{character::complete::char, combinator::opt, sequence::tuple};
use std::borrow::Cow;

/// Parse a desktop line; the bracketed tag (`hermes`) becomes the `ident`.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    let (time, rest) = match line.strip_prefix("[hermes] ") {
        Some(_) => (RawTime::None, line),
        None => {
            let (rest, (_, d, _, (t, _), off, _, _)) = tuple((
                char('['),
                date,
                char('T'),
                time_of_day,
                opt(offset),
                char(']'),
                char(' '),
            ))(line)
            .ok()?;
            let ndt = d.and_time(t);
            let time = off.map_or(RawTime::Local(ndt), |o| RawTime::Offset(ndt, o));
            (time, rest)
        }
    };
    let (tag, msg) = match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
        Some((tag, msg)) if !tag.starts_with("subagent-") && !tag.contains(' ') => (Some(tag), msg),
        _ => (None, rest),
    };
    let mut h = Head::new(Shape::Desktop, time);
    h.ident = tag.map(Cow::Borrowed);
    inner::apply(&mut h, msg);
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desktop_forms() {
        let h = parse("[2026-08-25T10:50:18.453Z] [hermes] ⚠️ Model fallback: a").unwrap();
        assert_eq!(h.ident.as_deref(), Some("hermes"));
        assert_eq!(h.message, "⚠️ Model fallback: a");
        assert!(matches!(h.time, RawTime::Offset(_, 0)));
        let h = parse("[hermes] [subagent-3] ⏳ Retrying in 2.0s (attempt 1/3)...").unwrap();
        assert_eq!((h.subagent, h.time), (Some(3), RawTime::None));
        assert!(parse("[subagent-1] x").is_none());
    }
}

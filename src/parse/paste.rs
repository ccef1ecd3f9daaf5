//! Pasted fragments: `YYYY-MM-DD HH:MM:SS CST  message` (zone abbreviation, no level/logger),
//! stripped journal lines `HH:MM:SS ident[pid]: message`, and `grep -n` line-number prefixes.

use super::agent_log::is_level;
use super::time::{date, offset, time_of_day, zone, RawTime};
use super::{inner, journal, Head};
use crate::model::Shape;
use nom::{character::complete::char, sequence::tuple};

/// `YYYY-MM-DD HH:MM:SS[,mmm] [ZONE ]  message`; without a zone word the time is local.
pub(crate) fn parse_zoned(line: &str) -> Option<Head<'_>> {
    let (rest, (d, _, (t, _), _)) = tuple((date, char(' '), time_of_day, char(' ')))(line).ok()?;
    let ndt = d.and_time(t);
    let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
    if is_level(word) {
        return None;
    }
    let time = match offset(word) {
        Ok(("", off)) => RawTime::Offset(ndt, off),
        _ if (1..=5).contains(&word.len()) && word.bytes().all(|c| c.is_ascii_uppercase()) => {
            RawTime::Abbrev(ndt, zone(word))
        }
        _ => RawTime::Local(ndt),
    };
    let msg = match time {
        RawTime::Local(_) => rest,
        _ => after,
    };
    let mut h = Head::new(Shape::ZonedPaste, time);
    inner::apply(&mut h, msg.trim_start_matches(' '));
    Some(h)
}

/// `HH:MM:SS[.ffffff] [host ]ident[pid]: message` (journal prefix stripped to the time).
pub(crate) fn parse_stripped(line: &str) -> Option<Head<'_>> {
    let (rest, ((t, _), _)) = tuple((time_of_day, char(' ')))(line).ok()?;
    journal::with_tail(Shape::StrippedJournal, RawTime::TimeOfDay(t), line, rest)
}

/// `--` between `grep -A/-B/-C` groups.
pub(crate) fn is_group_separator(line: &str) -> bool {
    line.trim_end() == "--"
}

/// The rest of a line after a `grep -n` prefix (`1949: `, `1949:`; `1949-` context lines only
/// once grep output is established).
pub(crate) fn strip_grep_n(line: &str, established: bool) -> Option<&str> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = line.get(digits..)?;
    let rest = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix('-').filter(|_| established))?;
    // A reporter's single space after the prefix goes; indentation of the line stays.
    Some(match rest.strip_prefix(' ') {
        Some(r) if !r.starts_with(' ') => r,
        _ => rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::Zone;

    #[test]
    fn zoned_and_stripped() {
        let h =
            parse_zoned("2026-05-27 14:28:42 CST  Fallback activated: gpt-5.5 -> glm-5.1 (zai)")
                .unwrap();
        assert!(matches!(h.time, RawTime::Abbrev(_, Zone::Ambiguous("CST"))));
        assert_eq!(h.message, "Fallback activated: gpt-5.5 -> glm-5.1 (zai)");
        let h = parse_stripped("18:41:08 python[2844586]: ⚠️ API call failed").unwrap();
        assert_eq!(
            (h.pid, h.ident.as_deref()),
            (Some(2_844_586), Some("python"))
        );
        assert_eq!(strip_grep_n("1949: x", false), Some("x"));
        assert_eq!(strip_grep_n("1949-x", false), None);
        assert_eq!(strip_grep_n("1949-x", true), Some("x"));
    }
}

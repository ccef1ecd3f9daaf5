//! journalctl's `short` family: `<timestamp> [<host> ]<ident>[<pid>]: <message>` with the
//! timestamp of `short`, `short-precise`, `short-iso`, `short-iso-precise`, `short-full` or
//! `short-unix`, and `with-unit` (`short-full` with the unit in place of the identifier); plus
//! the separator (meta) lines.

use super::agent_log::is_level;
use super::inner;
use super::time::{date, num, offset, time_of_day, zone, RawTime};
use super::Head;
use crate::model::Shape;
use chrono::{NaiveDate, NaiveDateTime};
use nom::{
    bytes::complete::take_while_m_n, character::complete::char, combinator::opt, sequence::tuple,
};
use std::borrow::Cow;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `-- Boot … --`, `-- Reboot --`, `-- Journal begins at … --`, `-- No entries --`.
pub(crate) fn is_meta(line: &str) -> bool {
    line.len() >= 6 && line.starts_with("-- ") && line.trim_end().ends_with(" --")
}

/// `name[pid]:` or `name:` → (name, pid).
fn ident_token(tok: &str) -> Option<(&str, Option<u32>)> {
    let tok = tok.strip_suffix(':')?;
    match tok.strip_suffix(']') {
        Some(np) => {
            let (name, pid) = np.rsplit_once('[')?;
            (!name.is_empty()).then_some(())?;
            Some((name, Some(pid.parse().ok()?)))
        }
        None => (!tok.is_empty() && !tok.contains(['[', ']'])).then_some((tok, None)),
    }
}

/// The part after the timestamp: `[host ]ident[pid]: message` (a host is required when there
/// is no pid). Returns (host, ident, pid, message).
pub(crate) fn tail(i: &str) -> Option<(Option<&str>, &str, Option<u32>, &str)> {
    let (t1, rest) = i.split_once(' ').unwrap_or((i, ""));
    if let Some((name, pid @ Some(_))) = ident_token(t1) {
        return Some((None, name, pid, rest));
    }
    if t1.is_empty() || t1.ends_with(':') || is_level(t1) {
        return None;
    }
    let (t2, msg) = rest.split_once(' ').unwrap_or((rest, ""));
    let (name, pid) = ident_token(t2)?;
    Some((Some(t1), name, pid, msg))
}

/// Build a head from a timestamp and the text after it (`after` is a suffix of `line`).
pub(crate) fn with_tail<'a>(
    shape: Shape,
    time: RawTime<'a>,
    line: &str,
    after: &'a str,
) -> Option<Head<'a>> {
    let (host, ident, pid, msg) = tail(after)?;
    let mut h = Head::new(shape, time);
    h.host = host.map(Cow::Borrowed);
    h.ident = Some(Cow::Borrowed(ident));
    h.pid = pid;
    h.msg_col = Some(line.len() - msg.len());
    inner::apply(&mut h, msg);
    Some(h)
}

/// Parse any journal `short*` line.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    let b = line.as_bytes();
    match b.first()? {
        b'0'..=b'9' if b.get(10) == Some(&b'T') => iso(line),
        b'0'..=b'9' => unix(line),
        _ if b.get(3) == Some(&b' ') && b.get(8) == Some(&b'-') => full(line),
        _ => short(line),
    }
}

/// `2026-05-08T18:41:08[.ffffff](-0400|+00:00|Z) …`
fn iso(line: &str) -> Option<Head<'_>> {
    let (rest, (d, _, (t, frac), off, _)) =
        tuple((date, char('T'), time_of_day, offset, char(' ')))(line).ok()?;
    let shape = if frac {
        Shape::JournalShortIsoPrecise
    } else {
        Shape::JournalShortIso
    };
    with_tail(shape, RawTime::Offset(d.and_time(t), off), line, rest)
}

/// `1763906400.000962 …`
fn unix(line: &str) -> Option<Head<'_>> {
    let (rest, (secs, _, frac, _)) = tuple((
        take_while_m_n(1, 12, |c: char| c.is_ascii_digit()),
        char('.'),
        num(6),
        char(' '),
    ))(line)
    .ok()?;
    let us = secs
        .parse::<i64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(i64::from(frac))?;
    with_tail(
        Shape::JournalShortUnix,
        RawTime::EpochMicros(us),
        line,
        rest,
    )
}

/// The `short-full` / `verbose` timestamp `Sun 2025-11-23 14:00:00[.ffffff] UTC `: the date and
/// time, the zone word, and the rest after the space that follows it.
pub(crate) fn full_stamp(line: &str) -> Option<(NaiveDateTime, &str, &str)> {
    let (rest, (_, _, d, _, (t, _), _)) = tuple((
        take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()),
        char(' '),
        date,
        char(' '),
        time_of_day,
        char(' '),
    ))(line)
    .ok()?;
    let (zone_word, rest) = rest.split_once(' ')?;
    Some((d.and_time(t), zone_word, rest))
}

/// The time of a `short-full` stamp: a numeric offset or a zone abbreviation.
pub(crate) fn full_time(ndt: NaiveDateTime, zone_word: &str) -> Option<RawTime<'_>> {
    match offset(zone_word) {
        Ok(("", off)) => Some(RawTime::Offset(ndt, off)),
        _ if zone_word.bytes().all(|c| c.is_ascii_uppercase()) && !zone_word.is_empty() => {
            Some(RawTime::Abbrev(ndt, zone(zone_word)))
        }
        _ => None,
    }
}

/// `Sun 2025-11-23 14:00:00[.ffffff] UTC …` (zone abbreviation or numeric offset).
fn full(line: &str) -> Option<Head<'_>> {
    let (ndt, zone_word, rest) = full_stamp(line)?;
    let time = full_time(ndt, zone_word)?;
    let mut h = with_tail(Shape::JournalShortFull, time, line, rest)?;
    if h.ident.as_deref().is_some_and(is_unit) {
        h.shape = Shape::JournalWithUnit;
    }
    Some(h)
}

/// A systemd unit name (`hermes-gateway.service`, `system.slice/user@1000.service` for a user
/// unit): what `-o with-unit` prints in place of the identifier.
fn is_unit(name: &str) -> bool {
    const KINDS: [&str; 11] = [
        ".service",
        ".scope",
        ".socket",
        ".timer",
        ".slice",
        ".mount",
        ".target",
        ".path",
        ".swap",
        ".device",
        ".automount",
    ];
    KINDS.iter().any(|k| name.ends_with(k))
}

/// `May 08 18:41:08[.ffffff] …` (day may be space-padded: `May  8`).
fn short(line: &str) -> Option<Head<'_>> {
    let month = MONTHS
        .iter()
        .position(|m| line.starts_with(m))
        .and_then(|m| u32::try_from(m + 1).ok())?;
    let rest = line.get(3..)?;
    let (rest, (_, _, day, _, (t, frac), _)) = tuple((
        char(' '),
        opt(char(' ')),
        take_while_m_n(1, 2, |c: char| c.is_ascii_digit()),
        char(' '),
        time_of_day,
        char(' '),
    ))(rest)
    .ok()?;
    let day: u32 = day.parse().ok()?;
    // Valid in a leap year (the year is not known yet).
    NaiveDate::from_ymd_opt(2024, month, day)?;
    let shape = if frac {
        Shape::JournalShortPrecise
    } else {
        Shape::JournalShort
    };
    with_tail(shape, RawTime::NoYear(month, day, t), line, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_with_and_without_host() {
        assert_eq!(
            tail("gw-1 python[2844586]:    🔌 x"),
            Some((Some("gw-1"), "python", Some(2_844_586), "   🔌 x"))
        );
        assert_eq!(tail("python[7]: m"), Some((None, "python", Some(7), "m")));
        assert_eq!(
            tail("host kernel: m"),
            Some((Some("host"), "kernel", None, "m"))
        );
        assert_eq!(tail("host python[x]: m"), None);
        let h = parse("Fri 2026-05-08 22:41:08 UTC gw-1 hermes-gateway.service[7]: m").unwrap();
        assert_eq!(h.shape, Shape::JournalWithUnit);
        assert_eq!(h.ident.as_deref(), Some("hermes-gateway.service"));
        assert_eq!(tail("just words here"), None);
    }

    #[test]
    fn meta_lines() {
        assert!(is_meta("-- Boot 3f0a9c1e2b7d4e58a1b2c3d4e5f60718 --"));
        assert!(is_meta("-- No entries --"));
        assert!(!is_meta("-- not meta"));
    }
}

//! Hermes file logs (agent.log, errors.log, gateway.log):
//! `YYYY-MM-DD HH:MM:SS,mmm LEVEL [session] logger: message` (ms, tag and logger optional), and
//! the forms reporters abbreviate: `17:58:42,739 WARNING message` and `... INFO logger: message`.

use super::time::{date, fail, fraction, time_of_day, RawTime};
use super::Head;
use crate::model::{Level, Shape};
use chrono::{NaiveDateTime, Timelike};
use nom::{character::complete::char, sequence::tuple, IResult};
use std::borrow::Cow;
use std::cell::Cell;

/// `DEBUG` … `CRITICAL`.
pub(crate) fn level(i: &str) -> IResult<&str, Level> {
    // The names differ in their first letter: one comparison per line, with a name of known
    // length (compared inline, not by a call).
    let found = match i.as_bytes().first() {
        Some(b'D') => i.strip_prefix("DEBUG").map(|r| (r, Level::Debug)),
        Some(b'I') => i.strip_prefix("INFO").map(|r| (r, Level::Info)),
        Some(b'W') => i.strip_prefix("WARNING").map(|r| (r, Level::Warning)),
        Some(b'E') => i.strip_prefix("ERROR").map(|r| (r, Level::Error)),
        Some(b'C') => i.strip_prefix("CRITICAL").map(|r| (r, Level::Critical)),
        _ => None,
    };
    found.ok_or_else(|| fail(i))
}

/// True when `word` is a level name (so it is not read as a zone abbreviation or host).
pub(crate) fn is_level(word: &str) -> bool {
    level(word).is_ok_and(|(rest, _)| rest.is_empty())
}

/// Bytes allowed after the first of a logger name: ASCII letters, digits, `_` and `.`.
static LOGGER_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
        c += 1;
    }
    t
};

/// The first byte of `b` that may not be in a logger name (not in [`LOGGER_BYTE`]). Sixteen
/// bytes at a time with SSE2, which every x86-64 processor has: every record's logger is read
/// this way, and names run to twenty bytes and more.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn name_end(b: &[u8]) -> Option<usize> {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline.
    let found = super::sse::first_marked(b, |v| unsafe {
        // Signed comparisons: bytes from 0x80 on are negative, below every range here.
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
        );
        let upper = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'A' as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(b'Z' as i8 + 1)),
        );
        let lower = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(b'a' as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(b'z' as i8 + 1)),
        );
        let marks = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8)),
        );
        // The bytes that are none of these.
        !_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(digit, upper),
            _mm_or_si128(lower, marks),
        ))
    });
    match found {
        Ok(at) => Some(at),
        Err(at) => name_end_bytes(b.get(at..)?).map(|p| at + p),
    }
}

/// [`name_end`] without SSE2.
#[cfg(not(target_arch = "x86_64"))]
fn name_end(b: &[u8]) -> Option<usize> {
    name_end_bytes(b)
}

/// [`name_end`] a byte at a time.
fn name_end_bytes(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| !LOGGER_BYTE[usize::from(c)])
}

/// A Python logger name followed by `: ` (or `:` at end of line): a first character `_`, a
/// lower-case letter (or, with `any_case`, an upper-case one: only where the format guarantees
/// a logger), then letters, digits, `_` and `.`. Returns (rest, name).
fn logger(i: &str, any_case: bool) -> Option<(&str, &str)> {
    let b = i.as_bytes();
    let first = *b.first()?;
    if !(first == b'_' || first.is_ascii_lowercase() || (any_case && first.is_ascii_uppercase())) {
        return None;
    }
    // The name runs to the first byte that may not be in one, which must be the colon (no
    // name byte): most messages without a logger stop at their first space.
    let len = 1 + name_end(b.get(1..)?)?;
    if b.get(len) != Some(&b':') {
        return None;
    }
    let (name, rest) = (i.get(..len)?, i.get(len + 1..)?);
    if rest.is_empty() {
        return Some((rest, name));
    }
    Some((rest.strip_prefix(' ')?, name))
}

/// The fields after the timestamp: `LEVEL[ [sid]] [logger: ]`; returns the message as rest.
pub(crate) type Tail<'a> = (Level, Option<&'a str>, Option<&'a str>);

/// Parse `LEVEL[ [sid]] [logger: ]message`. A session tag is a non-empty ` [...]` right
/// after the level; a space must follow the level or the tag.
pub(crate) fn level_tail(any_case: bool) -> impl Fn(&str) -> IResult<&str, Tail<'_>> {
    move |i| {
        let (i, lvl) = level(i)?;
        let sid = i.strip_prefix(" [").and_then(|r| {
            let end = memchr::memchr(b']', r.as_bytes()).filter(|&e| e > 0)?;
            Some((r.get(end + 1..)?, r.get(..end)?))
        });
        let (after, sid) = match sid {
            Some((rest, s)) => (rest, Some(s)),
            None => (i, None),
        };
        let i = after.strip_prefix(' ').ok_or_else(|| fail(after))?;
        Ok(match logger(i, any_case) {
            Some((rest, lg)) => (rest, (lvl, sid, Some(lg))),
            None => (i, (lvl, sid, None)),
        })
    }
}

/// Build an agent-log head from the parsed tail.
#[inline(always)]
fn head<'a>(time: RawTime<'a>, (lvl, sid, lg): Tail<'a>, msg: &'a str) -> Head<'a> {
    let mut h = Head::new(Shape::AgentLog, time);
    h.level = Some(lvl);
    h.session = sid.map(Cow::Borrowed);
    h.logger = lg.map(Cow::Borrowed);
    h.message = Cow::Borrowed(msg);
    h
}

/// `YYYY-MM-DD HH:MM:SS[,mmm] LEVEL[ [sid]] [logger: ]message`.
#[inline(always)]
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    if line.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    // `date ' ' time_of_day ' ' level_tail`, step by step: this runs on every line.
    let (when, rest) = date_time(line)?;
    let (msg, tail) = level_tail(true)(rest.strip_prefix(' ')?).ok()?;
    Some(head(RawTime::Local(when), tail, msg))
}

thread_local! {
    /// The first 19 bytes (`YYYY-MM-DD HH:MM:SS`) of the last line whose time this thread
    /// read, and that second.
    static LAST_SECOND: Cell<Option<([u8; 19], NaiveDateTime)>> = const { Cell::new(None) };
}

/// `YYYY-MM-DD HH:MM:SS[,fff]` at the start of `line` (its byte 10 a space) and the rest of the
/// line: `date` and `time_of_day`'s answer. A log writes many lines per second, so the date and
/// second of the last line read on this thread serve the next one with the same first 19 bytes;
/// only the fraction is read again.
fn date_time(line: &str) -> Option<(NaiveDateTime, &str)> {
    let b = line.as_bytes();
    let key: [u8; 19] = b.get(..19)?.try_into().ok()?;
    let last = LAST_SECOND.with(Cell::get);
    let second = match last {
        Some((k, second)) if k == key => second,
        _ => {
            // In the minute of the last line read, only the seconds are new.
            let same_minute = last
                .filter(|(k, _)| k.get(..17) == key.get(..17))
                .and_then(|(_, second)| second.with_second(seconds_of(&key)?));
            let second = match same_minute {
                Some(second) => second,
                None => {
                    let (rest, d) = date(line).ok()?;
                    let (_, (t, _)) = time_of_day(rest.strip_prefix(' ')?.get(..8)?).ok()?;
                    d.and_time(t)
                }
            };
            LAST_SECOND.with(|c| c.set(Some((key, second))));
            second
        }
    };
    let (nanos, len) = fraction(b.get(19..)?).unwrap_or((0, 0));
    Some((second.with_nanosecond(nanos)?, line.get(19 + len..)?))
}

/// The seconds (`SS`, 00 to 59, as `time_of_day` reads them) of `YYYY-MM-DD HH:MM:SS`.
fn seconds_of(key: &[u8; 19]) -> Option<u32> {
    match (key.get(17), key.get(18)) {
        (Some(x @ b'0'..=b'5'), Some(y @ b'0'..=b'9')) => {
            Some(u32::from(x - b'0') * 10 + u32::from(y - b'0'))
        }
        _ => None,
    }
}

/// `HH:MM:SS[,mmm] LEVEL …` (date trimmed by the reporter) or `... LEVEL …` (timestamp elided).
pub(crate) fn parse_abbrev(line: &str) -> Option<Head<'_>> {
    if let Some(rest) = line.strip_prefix("... ") {
        let (msg, tail) = level_tail(false)(rest).ok()?;
        return Some(head(RawTime::None, tail, msg));
    }
    let (msg, ((t, _), _, tail)) = tuple((time_of_day, char(' '), level_tail(false)))(line).ok()?;
    Some(head(RawTime::TimeOfDay(t), tail, msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::{offset, reference};
    use nom::{
        branch::alt,
        bytes::complete::{tag, take_till1, take_while},
        character::complete::satisfy,
        combinator::{opt, recognize, value},
        sequence::{delimited, pair, terminated},
    };

    #[test]
    fn name_end_finds_the_first_byte_no_logger_name_has() {
        let mut m = crate::parse::mutate::Mutator::new(0x10C6_E2E4_D000_0001, &['a']);
        let alphabet = [
            b'a', b'z', b'A', b'Z', b'0', b'9', b'_', b'.', b'/', b':', b'@', b'[', b'`', b'{',
            b' ', 0x00, 0x2d, 0x7f, 0x80, 0xc3, 0xff,
        ];
        for len in 0..70 {
            for _ in 0..300 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        let c = alphabet[m.below(alphabet.len())];
                        if m.below(6) == 0 {
                            c
                        } else {
                            b'a' + (c % 26)
                        }
                    })
                    .collect();
                assert_eq!(name_end(&bytes), name_end_bytes(&bytes), "{bytes:?}");
            }
        }
        for c in 0..=u8::MAX {
            let mut bytes = vec![b'a'; 40];
            bytes[17] = c;
            let expected = if LOGGER_BYTE[usize::from(c)] {
                None
            } else {
                Some(17)
            };
            assert_eq!(name_end(&bytes), expected, "{c}");
        }
    }

    /// The nom grammar `level_tail` implements.
    fn reference_level_tail(any_case: bool) -> impl Fn(&str) -> IResult<&str, Tail<'_>> {
        move |i| {
            let level = alt((
                value(Level::Debug, tag("DEBUG")),
                value(Level::Info, tag("INFO")),
                value(Level::Warning, tag("WARNING")),
                value(Level::Error, tag("ERROR")),
                value(Level::Critical, tag("CRITICAL")),
            ));
            let logger = terminated(
                recognize(pair(
                    satisfy(|c| {
                        c == '_' || c.is_ascii_lowercase() || (any_case && c.is_ascii_uppercase())
                    }),
                    take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
                )),
                pair(char(':'), alt((tag(" "), nom::combinator::eof))),
            );
            let (i, (lvl, sid, _)) = tuple((
                level,
                opt(delimited(tag(" ["), take_till1(|c| c == ']'), char(']'))),
                char(' '),
            ))(i)?;
            let (i, lg) = opt(logger)(i)?;
            Ok((i, (lvl, sid, lg)))
        }
    }

    /// Strings near the shapes: seeds mutated with characters the grammar cares about.
    fn near_misses() -> Vec<String> {
        const SEEDS: [&str; 10] = [
            "2026-05-08 18:41:08,739 INFO [20260815_232112_71febe] agent.x: m",
            "2026-02-29 23:59:59.123456789012 WARNING run_agent: m",
            "2024-02-29 00:00:00 ERROR [] Root_x.y:",
            "18:41:08 CRITICAL [a]b: c",
            "18:41:08, DEBUG _a:b",
            "DEBUG [x] y: z",
            "INFO [] agent.tool_executor: tool",
            "WARNING gateway.run:",
            "ERROR [s]  x: y",
            "24:00:00.5 INFO é: x",
        ];
        const ALPHABET: &[char] = &[
            '0', '1', '2', '5', '9', ':', '.', ',', ' ', '-', '[', ']', '_', 'a', 'Z', 'é', 'I',
            'N', 'F', 'O', 'T', '\t',
        ];
        let mut m = crate::parse::mutate::Mutator::new(0x9E37_79B9_7F4A_7C15, ALPHABET);
        let mut out: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
        for _ in 0..60_000 {
            let mut chars: Vec<char> = SEEDS[m.below(SEEDS.len())].chars().collect();
            let edits = 1 + m.below(3);
            m.edit(&mut chars, edits);
            let s: String = chars.into_iter().collect();
            let cut = m.below(s.len() + 1);
            out.push(s.get(..cut).unwrap_or(&s).to_string());
            out.push(s);
        }
        out
    }

    /// Offsets and near misses.
    fn near_offsets() -> Vec<String> {
        const SEEDS: [&str; 8] = [
            "+05:30 x",
            "-0400",
            "Z",
            "+25",
            "+05:",
            "+05:3",
            "+0530 ",
            "-23:59:59",
        ];
        const ALPHABET: &[char] = &['0', '2', '5', '9', ':', '+', '-', 'Z', ' ', 'é'];
        let mut m = crate::parse::mutate::Mutator::new(0x1234_5678_9ABC_DEF1, ALPHABET);
        m.mutants(&SEEDS, 60_000, 3)
    }

    #[test]
    fn hand_written_lexers_match_the_nom_grammar() {
        let (mut dates, mut times, mut tails_ok) = (0, 0, 0);
        for s in near_misses() {
            let d = s.get(11..).unwrap_or("");
            for t in [s.as_str(), d] {
                assert_eq!(date(t).ok(), reference::date(t).ok(), "date {t:?}");
                dates += usize::from(date(t).is_ok());
                times += usize::from(time_of_day(t).is_ok());
                assert_eq!(
                    time_of_day(t).ok(),
                    reference::time_of_day(t).ok(),
                    "time {t:?}"
                );
            }
            let tails = [
                d.get(13..).unwrap_or(""),
                d.get(9..).unwrap_or(""),
                s.as_str(),
            ];
            for t in tails {
                for any_case in [false, true] {
                    assert_eq!(
                        level_tail(any_case)(t).ok(),
                        reference_level_tail(any_case)(t).ok(),
                        "tail {t:?}"
                    );
                    tails_ok += usize::from(level_tail(any_case)(t).is_ok());
                }
            }
        }
        let mut offsets = 0;
        for s in near_offsets() {
            assert_eq!(offset(&s).ok(), reference::offset(&s).ok(), "offset {s:?}");
            offsets += usize::from(offset(&s).is_ok());
        }
        assert!(offsets > 5_000 && offsets < 60_000, "offsets: {offsets}");
        // Both outcomes are well represented.
        assert!(dates > 10_000 && times > 10_000 && tails_ok > 10_000);
        assert!(dates < 100_000 && times < 100_000 && tails_ok < 300_000);
    }

    /// Lines in an order where many share their first 19 bytes with the line before: the
    /// second reused from the last line read gives what reading it again gives.
    #[test]
    fn a_reused_second_reads_as_the_line_itself() {
        fn uncached(line: &str) -> Option<(NaiveDateTime, &str)> {
            let (rest, d) = date(line).ok()?;
            let (rest, (t, _)) = time_of_day(rest.strip_prefix(' ')?).ok()?;
            Some((d.and_time(t), rest))
        }
        let (mut same_second, mut same_minute, mut read) = (0, 0, 0);
        let mut last: Option<String> = None;
        // Every line as generated, then each again after a line of the same minute with
        // other seconds (valid or not), so that only its seconds are read.
        let mut lines = Vec::new();
        for line in near_misses() {
            if let Some(head) = line.get(..17) {
                for seconds in ["00", "59", "60", "7x", "5"] {
                    lines.push(format!("{head}{seconds},1 INFO x: y"));
                    lines.push(line.clone());
                }
            }
            lines.push(line);
        }
        for line in lines {
            let reused = last.as_deref().and_then(|l| l.get(..19)) == line.get(..19);
            let minute = !reused && last.as_deref().and_then(|l| l.get(..17)) == line.get(..17);
            let got = date_time(&line);
            assert_eq!(got, uncached(&line), "{line:?}");
            same_second += usize::from(reused && got.is_some());
            same_minute += usize::from(minute && got.is_some());
            read += usize::from(got.is_some());
            last = Some(line);
        }
        assert!(
            same_second > 1_000 && same_minute > 1_000 && read > 5_000,
            "{same_second} and {same_minute} of {read}"
        );
    }

    #[test]
    fn full_line_with_elided_session_tag() {
        let h = parse("2026-05-26 16:00:48 INFO [cron_006bda9176a7...] agent.chat_completion_helpers: Fallback activated: a → b (zai)").unwrap();
        assert_eq!(h.session.as_deref(), Some("cron_006bda9176a7..."));
        assert_eq!(h.logger.as_deref(), Some("agent.chat_completion_helpers"));
        assert_eq!(h.message, "Fallback activated: a → b (zai)");
    }

    #[test]
    fn abbreviated_forms_keep_messages_with_colons() {
        let h = parse_abbrev(
            "17:58:45,683 INFO Fallback to nvidia/x: clearing primary credential pool",
        )
        .unwrap();
        assert_eq!(h.logger, None);
        assert_eq!(
            h.message,
            "Fallback to nvidia/x: clearing primary credential pool"
        );
        let h = parse_abbrev("... ERROR [20260422_121111_9c914d] root: Non-retryable client error")
            .unwrap();
        assert_eq!(h.logger.as_deref(), Some("root"));
        assert_eq!(h.time, RawTime::None);
        assert!(parse_abbrev("17:58:45 INFORMATION x").is_none());
    }
}

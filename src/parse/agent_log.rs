//! Hermes file logs (agent.log, errors.log, gateway.log):
//! `YYYY-MM-DD HH:MM:SS,mmm LEVEL [session] logger: message` (ms, tag and logger optional), and
//! the forms reporters abbreviate: `17:58:42,739 WARNING message` and `... INFO logger: message`.

use super::time::{date, time_of_day, RawTime};
use super::Head;
use crate::model::{Level, Shape};
use nom::{
    branch::alt,
    bytes::complete::{tag, take_till1, take_while},
    character::complete::{char, satisfy},
    combinator::{opt, recognize, value},
    sequence::{delimited, pair, terminated, tuple},
    IResult,
};
use std::borrow::Cow;

/// `DEBUG` … `CRITICAL`.
pub(crate) fn level(i: &str) -> IResult<&str, Level> {
    alt((
        value(Level::Debug, tag("DEBUG")),
        value(Level::Info, tag("INFO")),
        value(Level::Warning, tag("WARNING")),
        value(Level::Error, tag("ERROR")),
        value(Level::Critical, tag("CRITICAL")),
    ))(i)
}

/// True when `word` is a level name (so it is not read as a zone abbreviation or host).
pub(crate) fn is_level(word: &str) -> bool {
    level(word).is_ok_and(|(rest, _)| rest.is_empty())
}

/// A Python logger name followed by `: ` (or `:` at end of line). `any_case` allows an
/// upper-case first letter (only where the format guarantees a logger).
fn logger(any_case: bool) -> impl Fn(&str) -> IResult<&str, &str> {
    move |i| {
        terminated(
            recognize(pair(
                satisfy(|c| {
                    c == '_' || c.is_ascii_lowercase() || (any_case && c.is_ascii_uppercase())
                }),
                take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
            )),
            pair(char(':'), alt((tag(" "), nom::combinator::eof))),
        )(i)
    }
}

/// The fields after the timestamp: `LEVEL[ [sid]] [logger: ]`; returns the message as rest.
pub(crate) type Tail<'a> = (Level, Option<&'a str>, Option<&'a str>);

/// Parse `LEVEL[ [sid]] [logger: ]message`.
pub(crate) fn level_tail(any_case: bool) -> impl Fn(&str) -> IResult<&str, Tail<'_>> {
    move |i| {
        let (i, (lvl, sid, _)) = tuple((
            level,
            opt(delimited(tag(" ["), take_till1(|c| c == ']'), char(']'))),
            char(' '),
        ))(i)?;
        let (i, lg) = opt(logger(any_case))(i)?;
        Ok((i, (lvl, sid, lg)))
    }
}

/// Build an agent-log head from the parsed tail.
fn head<'a>(time: RawTime<'a>, (lvl, sid, lg): Tail<'a>, msg: &'a str) -> Head<'a> {
    let mut h = Head::new(Shape::AgentLog, time);
    h.level = Some(lvl);
    h.session = sid.map(Cow::Borrowed);
    h.logger = lg.map(Cow::Borrowed);
    h.message = Cow::Borrowed(msg);
    h
}

/// `YYYY-MM-DD HH:MM:SS[,mmm] LEVEL[ [sid]] [logger: ]message`.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    if line.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    let (msg, (d, _, (t, _), _, tail)) =
        tuple((date, char(' '), time_of_day, char(' '), level_tail(true)))(line).ok()?;
    Some(head(RawTime::Local(d.and_time(t)), tail, msg))
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

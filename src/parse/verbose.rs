//! CLI `-v` stderr: `HH:MM:SS - logger - LEVEL[ [sid]] - message` (also with a leading date
//! when no `datefmt` applied).

use super::agent_log::level;
use super::time::{date, time_of_day, RawTime};
use super::Head;
use crate::model::Shape;
use nom::{
    bytes::complete::{tag, take_till1},
    character::complete::char,
    combinator::opt,
    sequence::{delimited, terminated, tuple},
    IResult,
};
use std::borrow::Cow;

/// ` - logger - LEVEL[ [sid]] - `
fn fields(i: &str) -> IResult<&str, (&str, crate::model::Level, Option<&str>)> {
    let (i, (_, lg, _, lvl, sid, _)) = tuple((
        tag(" - "),
        take_till1(|c: char| c == ' '),
        tag(" - "),
        level,
        opt(delimited(tag(" ["), take_till1(|c| c == ']'), char(']'))),
        alt_sep,
    ))(i)?;
    Ok((i, (lg, lvl, sid)))
}

/// ` - ` before the message, or ` -` at end of line.
fn alt_sep(i: &str) -> IResult<&str, &str> {
    nom::branch::alt((tag(" - "), terminated(tag(" -"), nom::combinator::eof)))(i)
}

/// Parse a verbose stderr line.
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    let (rest, d) = opt(terminated(date, char(' ')))(line).ok()?;
    let (rest, (t, _)) = time_of_day(rest).ok()?;
    if !rest.starts_with(" - ") {
        return None;
    }
    let (msg, (lg, lvl, sid)) = fields(rest).ok()?;
    let time = d.map_or(RawTime::TimeOfDay(t), |d| RawTime::Local(d.and_time(t)));
    let mut h = Head::new(Shape::Verbose, time);
    h.level = Some(lvl);
    h.logger = Some(Cow::Borrowed(lg));
    h.session = sid.map(Cow::Borrowed);
    h.message = Cow::Borrowed(msg);
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_with_session() {
        let h = parse("14:17:12 - run_agent - WARNING [20260522_141707_c0c038] - Retrying API call in 4.2s (attempt 2/3)").unwrap();
        assert_eq!(h.logger.as_deref(), Some("run_agent"));
        assert_eq!(h.session.as_deref(), Some("20260522_141707_c0c038"));
        assert_eq!(h.message, "Retrying API call in 4.2s (attempt 2/3)");
        assert!(parse("14:17:12 - run_agent - NOTICE - x").is_none());
    }
}

//! Date/time lexing shared by the line parsers, and resolution of what a line wrote into a
//! [`Stamp`] under the [`TimeContext`] (`--tz`, `--date`, `--year`).

use super::TimeContext;
use crate::model::{Stamp, TimeBasis};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use nom::{bytes::complete::take_while_m_n, combinator::map_res, IResult};

/// A zone abbreviation as written after a time (`CST`, `UTC`, `CEST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone<'a> {
    /// Zero offset (`UTC`, `GMT`, `Z`): as good as an explicit offset.
    Utc,
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
    /// An abbreviation that names several zones (`CST`, `IST`) or one we do not know.
    Ambiguous(&'a str),
}

/// The time information a line carried, before the context is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RawTime<'a> {
    /// No time at all.
    #[default]
    None,
    /// Date and time with an explicit numeric offset (seconds east of UTC).
    Offset(NaiveDateTime, i32),
    /// Microseconds since the epoch (journal `short-unix`, `-o json`).
    EpochMicros(i64),
    /// Date and time followed by a zone abbreviation.
    Abbrev(NaiveDateTime, Zone<'a>),
    /// Date and time without any zone.
    Local(NaiveDateTime),
    /// Month, day and time without a year (journal `short`).
    NoYear(u32, u32, NaiveTime),
    /// Only a time of day.
    TimeOfDay(NaiveTime),
    /// Microseconds since boot (journal `short-monotonic`, `short-delta`): no wall-clock time.
    SinceBoot(i64),
}

/// Zone abbreviations and their offsets in minutes; `None` marks an ambiguous abbreviation.
const ZONES: &[(&str, Option<i32>)] = &[
    ("UTC", Some(0)),
    ("GMT", Some(0)),
    ("UT", Some(0)),
    ("Z", Some(0)),
    ("WET", Some(0)),
    ("WEST", Some(60)),
    ("BST", Some(60)),
    ("CET", Some(60)),
    ("CEST", Some(120)),
    ("MET", Some(60)),
    ("MEST", Some(120)),
    ("EET", Some(120)),
    ("EEST", Some(180)),
    ("MSK", Some(180)),
    ("EST", Some(-300)),
    ("EDT", Some(-240)),
    ("CDT", Some(-300)),
    ("MST", Some(-420)),
    ("MDT", Some(-360)),
    ("PST", Some(-480)),
    ("PDT", Some(-420)),
    ("AKST", Some(-540)),
    ("AKDT", Some(-480)),
    ("HST", Some(-600)),
    ("NST", Some(-210)),
    ("NDT", Some(-150)),
    ("JST", Some(540)),
    ("KST", Some(540)),
    ("HKT", Some(480)),
    ("SGT", Some(480)),
    ("AWST", Some(480)),
    ("ACST", Some(570)),
    ("ACDT", Some(630)),
    ("AEST", Some(600)),
    ("AEDT", Some(660)),
    ("NZST", Some(720)),
    ("NZDT", Some(780)),
    ("WIB", Some(420)),
    ("PKT", Some(300)),
    ("CST", None),
    ("IST", None),
    ("AST", None),
];

/// Look up a zone abbreviation; unknown all-caps words are `Ambiguous`.
pub fn zone(abbr: &str) -> Zone<'_> {
    match ZONES.iter().find(|(name, _)| *name == abbr) {
        Some((_, Some(0))) => Zone::Utc,
        Some((_, Some(min))) => Zone::Fixed(min * 60),
        _ => Zone::Ambiguous(abbr),
    }
}

/// Exactly `n` ASCII digits as a number.
pub fn num(n: usize) -> impl Fn(&str) -> IResult<&str, u32> {
    move |i| {
        map_res(
            take_while_m_n(n, n, |c: char| c.is_ascii_digit()),
            str::parse,
        )(i)
    }
}

/// A parse failure at `i` (recoverable: alternatives and `opt` go on).
pub(crate) fn fail(i: &str) -> nom::Err<nom::error::Error<&str>> {
    nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify))
}

/// Two ASCII digits at `at` as a number.
fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    match (b.get(at), b.get(at + 1)) {
        (Some(x @ b'0'..=b'9'), Some(y @ b'0'..=b'9')) => {
            Some(u32::from(x - b'0') * 10 + u32::from(y - b'0'))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD`; invalid calendar dates do not parse. (Hand-written: this runs on every line.)
pub fn date(i: &str) -> IResult<&str, NaiveDate> {
    let b = i.as_bytes();
    let parsed = (|| {
        let y = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
        (b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-')).then_some(())?;
        let (m, d) = (two_digits(b, 5)?, two_digits(b, 8)?);
        let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
        Some((i.get(10..)?, date))
    })();
    parsed.ok_or_else(|| fail(i))
}

/// `HH:MM:SS` with an optional `.ffffff` / `,mmm` fraction (up to 9 digits are read); the flag
/// tells whether a fraction was present. (Hand-written: this runs on every line.)
pub fn time_of_day(i: &str) -> IResult<&str, (NaiveTime, bool)> {
    let b = i.as_bytes();
    let parsed = (|| {
        let (h, m, s) = (two_digits(b, 0)?, two_digits(b, 3)?, two_digits(b, 6)?);
        (b.get(2) == Some(&b':') && b.get(5) == Some(&b':')).then_some(())?;
        let frac = fraction(b.get(8..).unwrap_or_default());
        let (nanos, len) = frac.unwrap_or((0, 0));
        let t = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
        Some((i.get(8 + len..)?, (t, frac.is_some())))
    })();
    parsed.ok_or_else(|| fail(i))
}

/// The fraction of a second that may follow `HH:MM:SS` (`b` starts right after the seconds):
/// `.` or `,` and one to nine digits are read, as nanoseconds (the digits padded with zeros to
/// nine) and the number of bytes taken; `None` without a digit.
pub(crate) fn fraction(b: &[u8]) -> Option<(u32, usize)> {
    /// Ten to the power of the index.
    const SCALE: [u32; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    if !matches!(b.first(), Some(b'.' | b',')) {
        return None;
    }
    let (mut value, mut n) = (0u32, 0usize);
    while let Some(d @ b'0'..=b'9') = b.get(1 + n).filter(|_| n < 9) {
        value = value * 10 + u32::from(d - b'0');
        n += 1;
    }
    // The digits padded with zeros to nine.
    let scale = SCALE.get(9 - n).filter(|_| n > 0)?;
    Some((value * scale, 1 + n))
}

/// The nom grammar `date`, `time_of_day` and `offset` implement, kept to check them against.
#[cfg(test)]
pub(crate) mod reference {
    use super::*;
    use nom::{
        character::complete::{char, one_of},
        combinator::{map_opt, opt},
        sequence::{preceded, tuple},
    };

    pub fn offset(i: &str) -> IResult<&str, i32> {
        if let Some(rest) = i.strip_prefix('Z') {
            return Ok((rest, 0));
        }
        map_opt(
            tuple((one_of("+-"), num(2), opt(preceded(opt(char(':')), num(2))))),
            |(sign, h, m)| {
                let secs = i32::try_from(h * 3600 + m.unwrap_or(0) * 60).ok()?;
                (h <= 23 && m.unwrap_or(0) <= 59).then_some(if sign == '-' { -secs } else { secs })
            },
        )(i)
    }

    pub fn date(i: &str) -> IResult<&str, NaiveDate> {
        map_opt(
            tuple((num(4), char('-'), num(2), char('-'), num(2))),
            |(y, _, m, _, d)| NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d),
        )(i)
    }

    pub fn time_of_day(i: &str) -> IResult<&str, (NaiveTime, bool)> {
        map_opt(
            tuple((
                num(2),
                char(':'),
                num(2),
                char(':'),
                num(2),
                opt(preceded(
                    one_of(".,"),
                    take_while_m_n(1, 9, |c: char| c.is_ascii_digit()),
                )),
            )),
            |(h, _, m, _, s, frac)| {
                let nanos = frac.map_or(0, |f: &str| {
                    f.bytes()
                        .chain(std::iter::repeat(b'0'))
                        .take(9)
                        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
                });
                NaiveTime::from_hms_nano_opt(h, m, s, nanos).map(|t| (t, frac.is_some()))
            },
        )(i)
    }
}

/// A numeric offset `Z`, `+HHMM`, `+HH:MM` or `+HH`, in seconds east of UTC.
/// (Hand-written: this runs on every journal `short-iso` line.)
pub fn offset(i: &str) -> IResult<&str, i32> {
    if let Some(rest) = i.strip_prefix('Z') {
        return Ok((rest, 0));
    }
    let b = i.as_bytes();
    let parsed = (|| {
        let sign = match b.first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let h = two_digits(b, 1)?;
        let (m, end) = match (two_digits(b, 3), b.get(3), two_digits(b, 4)) {
            (Some(m), _, _) => (m, 5),
            (None, Some(b':'), Some(m)) => (m, 6),
            _ => (0, 3),
        };
        (h <= 23 && m <= 59).then_some(())?;
        let secs = i32::try_from(h * 3600 + m * 60).ok()?;
        Some((i.get(end..)?, sign * secs))
    })();
    parsed.ok_or_else(|| fail(i))
}

/// Milliseconds since midnight of a time of day.
fn tod_ms(t: NaiveTime) -> u32 {
    t.num_seconds_from_midnight() * 1000 + (t.nanosecond() / 1_000_000).min(999)
}

/// Turns [`RawTime`]s into [`Stamp`]s; remembers warnings and whether zoned / unzoned times
/// were seen.
#[derive(Debug, Default)]
pub struct Clock {
    ctx: TimeContext,
    warnings: Vec<String>,
    /// Lines whose time carried an offset, epoch or zone abbreviation.
    pub zoned: u64,
    /// Lines with a date and time but no zone at all.
    pub unzoned: u64,
    /// Month of the last journal `short` line (no year), to see a Dec → Jan rollover.
    last_month: Option<u32>,
    /// Years added to `--year` / `--date`'s year by rollovers seen so far.
    year_shift: i32,
    /// The last day an epoch time fell on (days since 1970) and its date: consecutive journal
    /// entries mostly share a day, and finding a day's date is most of the conversion.
    epoch_day: Option<(i64, NaiveDate)>,
}

impl Clock {
    /// A clock for one source.
    pub fn new(ctx: TimeContext) -> Self {
        Clock {
            ctx,
            ..Clock::default()
        }
    }

    /// The state one line leaves for the next (the month of the last year-less line and the
    /// rollovers seen): what a clock started part-way through a source needs to resolve the
    /// rest as one started at the beginning would.
    pub fn carry(&self) -> (Option<u32>, i32) {
        (self.last_month, self.year_shift)
    }

    /// Start over with `carry` (see [`Clock::carry`]): no warnings, no counts.
    pub fn restart(&mut self, carry: (Option<u32>, i32)) {
        self.warnings.clear();
        self.zoned = 0;
        self.unzoned = 0;
        (self.last_month, self.year_shift) = carry;
    }

    /// Warnings collected so far (each distinct text once).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn warn(&mut self, text: String) {
        if !self.warnings.contains(&text) {
            self.warnings.push(text);
        }
    }

    /// Wall time in `--tz` (basis `Zone`), else read as UTC (`AssumedUtc`).
    fn local(&self, ndt: NaiveDateTime) -> (Option<DateTime<Utc>>, TimeBasis) {
        match self.ctx.tz {
            Some(tz) => {
                let utc = tz
                    .from_local_datetime(&ndt)
                    .earliest()
                    .map(|d| d.with_timezone(&Utc))
                    .or_else(|| {
                        // In a DST gap: shift by the offset in force at that UTC instant.
                        let off = tz.offset_from_utc_datetime(&ndt);
                        let secs = chrono::Offset::fix(&off).local_minus_utc();
                        shifted(ndt, secs)
                    });
                (utc, TimeBasis::Zone)
            }
            None => (Some(Utc.from_utc_datetime(&ndt)), TimeBasis::AssumedUtc),
        }
    }

    /// `DateTime::from_timestamp_micros(us)`, the date of the last day seen reused.
    fn epoch(&mut self, us: i64) -> Option<DateTime<Utc>> {
        let secs = us.div_euclid(1_000_000);
        let day = secs.div_euclid(86_400);
        let date = match self.epoch_day {
            Some((d, date)) if d == day => date,
            _ => {
                let date = DateTime::from_timestamp(day * 86_400, 0)?.date_naive();
                self.epoch_day = Some((day, date));
                date
            }
        };
        let second = u32::try_from(secs.rem_euclid(86_400)).ok()?;
        let nano = u32::try_from(us.rem_euclid(1_000_000) * 1_000).ok()?;
        let time = NaiveTime::from_num_seconds_from_midnight_opt(second, nano)?;
        Some(date.and_time(time).and_utc())
    }

    /// Resolve what a line wrote into a stamp.
    pub fn resolve(&mut self, raw: &RawTime<'_>) -> Stamp {
        let (utc, tod, basis) = match *raw {
            RawTime::None => (None, None, TimeBasis::None),
            RawTime::Offset(ndt, secs) => {
                self.zoned += 1;
                (shifted(ndt, secs), Some(ndt.time()), TimeBasis::Exact)
            }
            RawTime::EpochMicros(us) => {
                self.zoned += 1;
                let utc = self.epoch(us);
                (utc, utc.map(|d| d.time()), TimeBasis::Exact)
            }
            RawTime::Abbrev(ndt, zone) => {
                self.zoned += 1;
                match zone {
                    Zone::Utc => (shifted(ndt, 0), Some(ndt.time()), TimeBasis::Exact),
                    Zone::Fixed(secs) => (shifted(ndt, secs), Some(ndt.time()), TimeBasis::Zone),
                    Zone::Ambiguous(name) => {
                        if self.ctx.tz.is_none() {
                            self.warn(format!(
                                "zone abbreviation {name} is ambiguous or unknown; times read as UTC (pass --tz)"
                            ));
                        }
                        let (utc, basis) = self.local(ndt);
                        (utc, Some(ndt.time()), basis)
                    }
                }
            }
            RawTime::Local(ndt) => {
                self.unzoned += 1;
                let (utc, basis) = self.local(ndt);
                (utc, Some(ndt.time()), basis)
            }
            RawTime::NoYear(month, day, t) => {
                // Lines are in time order: a month far before the last one (Dec → Jan) starts
                // the next year.
                if self.last_month.is_some_and(|last| last > month + 6) {
                    self.year_shift += 1;
                }
                self.last_month = Some(month);
                let year = self
                    .ctx
                    .year
                    .or(self.ctx.date.map(|d| chrono::Datelike::year(&d)))
                    .map(|y| y + self.year_shift);
                match year.and_then(|y| NaiveDate::from_ymd_opt(y, month, day)) {
                    Some(d) => {
                        self.unzoned += 1;
                        let (utc, _) = self.local(d.and_time(t));
                        (utc, Some(t), TimeBasis::YearFromFlag)
                    }
                    None => {
                        self.warn(
                            "journal short lines carry no year; pass --year or --date for absolute times"
                                .to_string(),
                        );
                        (None, Some(t), TimeBasis::TimeOfDayOnly)
                    }
                }
            }
            RawTime::SinceBoot(_) => {
                self.warn(
                    "journal short-monotonic / short-delta lines carry seconds since boot, not wall-clock times: times are unknown, so cooldown comparisons are not possible"
                        .to_string(),
                );
                (None, None, TimeBasis::None)
            }
            RawTime::TimeOfDay(t) => match self.ctx.date {
                Some(d) => {
                    let (utc, _) = self.local(d.and_time(t));
                    (utc, Some(t), TimeBasis::DateFromFlag)
                }
                None => {
                    self.warn(
                        "some lines carry only a time of day; pass --date for absolute times"
                            .to_string(),
                    );
                    (None, Some(t), TimeBasis::TimeOfDayOnly)
                }
            },
        };
        Stamp {
            utc,
            tod_ms: tod.map(tod_ms),
            basis,
        }
    }
}

/// `ndt` minus `secs` east-of-UTC offset, as UTC (None on overflow).
fn shifted(ndt: NaiveDateTime, secs: i32) -> Option<DateTime<Utc>> {
    ndt.checked_sub_signed(TimeDelta::seconds(i64::from(secs)))
        .map(|d| Utc.from_utc_datetime(&d))
}

/// An RFC 3339 instant (`2026-12-04T05:11:41.911818123Z`, `…+01:00`), nanoseconds kept, as
/// fleet exports write it (Loki, Elasticsearch `@timestamp`).
pub(crate) fn rfc3339(s: &str) -> Option<RawTime<'static>> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    Some(RawTime::Offset(
        t.naive_local(),
        t.offset().local_minus_utc(),
    ))
}

/// Nanoseconds since the epoch (OTLP `timeUnixNano`), as UTC.
pub(crate) fn epoch_nanos(ns: u64) -> Option<RawTime<'static>> {
    let secs = i64::try_from(ns / 1_000_000_000).ok()?;
    let sub = u32::try_from(ns % 1_000_000_000).ok()?;
    let t = DateTime::from_timestamp(secs, sub)?;
    Some(RawTime::Offset(t.naive_utc(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_dates_times_offsets() {
        assert!(date("2026-02-30").is_err());
        assert!(date("2026-13-01").is_err());
        let (rest, (t, frac)) = time_of_day("18:41:08,739 x").unwrap();
        assert_eq!((rest, frac, tod_ms(t)), (" x", true, 67_268_739));
        assert_eq!(offset("-0400").unwrap().1, -14_400);
        assert_eq!(offset("+05:30").unwrap().1, 19_800);
        assert!(offset("+25").is_err());
        assert_eq!(zone("CST"), Zone::Ambiguous("CST"));
        assert_eq!(zone("EDT"), Zone::Fixed(-14_400));
    }

    #[test]
    fn ambiguous_zone_uses_tz_or_warns_once() {
        let ndt = NaiveDate::from_ymd_opt(2026, 5, 27)
            .unwrap()
            .and_hms_opt(14, 28, 42)
            .unwrap();
        let mut clock = Clock::new(TimeContext::default());
        let a = clock.resolve(&RawTime::Abbrev(ndt, Zone::Ambiguous("CST")));
        clock.resolve(&RawTime::Abbrev(ndt, Zone::Ambiguous("CST")));
        assert_eq!(a.basis, TimeBasis::AssumedUtc);
        assert_eq!(clock.warnings().len(), 1);
        let mut clock = Clock::new(TimeContext {
            tz: Some(chrono_tz::Asia::Shanghai),
            ..TimeContext::default()
        });
        let s = clock.resolve(&RawTime::Abbrev(ndt, Zone::Ambiguous("CST")));
        assert_eq!(s.basis, TimeBasis::Zone);
        assert_eq!(s.utc.unwrap().to_rfc3339(), "2026-05-27T06:28:42+00:00");
        assert!(clock.warnings().is_empty());
    }

    #[test]
    fn short_year_rolls_over_at_new_year() {
        let t = NaiveTime::from_hms_opt(23, 59, 58).unwrap();
        let mut clock = Clock::new(TimeContext {
            year: Some(2025),
            ..TimeContext::default()
        });
        let year = |s: Stamp| chrono::Datelike::year(&s.utc.unwrap());
        assert_eq!(year(clock.resolve(&RawTime::NoYear(12, 31, t))), 2025);
        assert_eq!(year(clock.resolve(&RawTime::NoYear(1, 1, t))), 2026);
        // A line slightly out of order does not move the year back or forward.
        assert_eq!(year(clock.resolve(&RawTime::NoYear(1, 1, t))), 2026);
        assert_eq!(year(clock.resolve(&RawTime::NoYear(2, 3, t))), 2026);
        assert_eq!(year(clock.resolve(&RawTime::NoYear(1, 30, t))), 2026);
    }

    #[test]
    fn since_boot_times_are_unknown_with_a_warning() {
        let mut clock = Clock::new(TimeContext::default());
        let s = clock.resolve(&RawTime::SinceBoot(12_345_678_901));
        assert_eq!((s.utc, s.tod_ms, s.basis), (None, None, TimeBasis::None));
        assert_eq!(clock.warnings().len(), 1);
    }

    #[test]
    fn epoch_times_read_as_chrono_reads_them() {
        let mut clock = Clock::default();
        let mut m = crate::parse::mutate::Mutator::new(0x2545_F491_4F6C_DD1D, &[]);
        let mut next = || m.next_u64();
        let mut us = 1_795_132_800_381_425i64;
        let edges = [
            0,
            -1,
            1,
            86_399_999_999,
            86_400_000_000,
            -86_400_000_000,
            -86_400_000_001,
            i64::MAX,
            i64::MIN,
            i64::MAX / 2,
            i64::MIN / 2,
            8_210_298_412_799_999_999,
            8_210_298_412_800_000_000,
            -8_334_601_228_800_000_000,
            -8_334_601_228_800_000_001,
        ];
        for t in edges {
            assert_eq!(clock.epoch(t), DateTime::from_timestamp_micros(t), "{t}");
        }
        for i in 0..200_000u64 {
            // Mostly small steps (the day cache's case), sometimes a jump anywhere.
            us = match i % 100 {
                0 => next() as i64,
                1 => (next() as i64) >> 20,
                _ => us.saturating_add((next() % 3_000_000_000) as i64 - 1_000_000_000),
            };
            assert_eq!(clock.epoch(us), DateTime::from_timestamp_micros(us), "{us}");
        }
    }
}

//! Which Hermes release wrote the logs: a fingerprint from the logs themselves.
//!
//! Hermes changes its logger names and its wording from release to release. Each [`SIGNALS`] row
//! is a line shape (logger and wording) with the releases whose source contains it, taken from
//! the logging calls of every published release (`tools/census/extract.py` over each release's
//! source, then checked against the captures in `fixtures/captured`). A line that matches a row
//! proves its range; the releases every matched row admits are the detected range. The absence
//! of a line proves nothing (a release writes a line only when its event happens).
//!
//! Ranges are per minor release: the rows were read from the newest patch of each minor
//! (0.15.2, 0.18.2).

use crate::model::{Event, HermesRelease, HostRelease};
use std::fmt;
use std::str::FromStr;

/// A Hermes release, compared by (major, minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HermesVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Default for HermesVersion {
    /// The newest published release.
    fn default() -> Self {
        NEWEST
    }
}

impl fmt::Display for HermesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for HermesVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let mut next = |name: &str| -> Result<u32, String> {
            match parts.next() {
                None | Some("") => Ok(0),
                Some(p) => p
                    .parse::<u32>()
                    .map_err(|_| format!("invalid Hermes version {s:?}: bad {name} part {p:?}")),
            }
        };
        let major = next("major")?;
        let minor = next("minor")?;
        let patch = next("patch")?;
        if major == 0 && minor == 0 {
            return Err(format!(
                "invalid Hermes version {s:?}: expected e.g. 0.19.0"
            ));
        }
        Ok(HermesVersion {
            major,
            minor,
            patch,
        })
    }
}

/// The published minor releases, oldest first, each as its newest patch.
pub const RELEASES: &[(u32, &str)] = &[
    (13, "0.13.0"),
    (14, "0.14.0"),
    (15, "0.15.2"),
    (16, "0.16.0"),
    (17, "0.17.0"),
    (18, "0.18.2"),
    (19, "0.19.0"),
];

/// The newest published release: the rules applied when the logs say nothing.
pub const NEWEST: HermesVersion = HermesVersion {
    major: 0,
    minor: 19,
    patch: 0,
};

/// One line shape and the minor releases that write it.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    /// Logger name the record must carry (None: any logger).
    pub logger: Option<&'static str>,
    /// Text the message starts with.
    pub starts: &'static str,
    /// Text the message must also contain, if any.
    pub contains: Option<&'static str>,
    /// Text the message must not contain, if any (a later release added it to the same line).
    pub lacks: Option<&'static str>,
    /// First and last minor release that write it (None: up to the newest).
    pub min: u32,
    pub max: Option<u32>,
    /// What the row is, for the report's basis.
    pub what: &'static str,
}

const fn row(
    logger: Option<&'static str>,
    starts: &'static str,
    min: u32,
    max: Option<u32>,
    what: &'static str,
) -> Signal {
    Signal {
        logger,
        starts,
        contains: None,
        lacks: None,
        min,
        max,
        what,
    }
}

/// Every signal, from the Hermes source of each release.
pub const SIGNALS: &[Signal] = &[
    row(
        Some("run_agent"),
        "conversation turn: ",
        13,
        Some(14),
        "`conversation turn:` from logger run_agent",
    ),
    row(
        Some("agent.conversation_loop"),
        "conversation turn: ",
        15,
        Some(16),
        "`conversation turn:` from logger agent.conversation_loop",
    ),
    row(
        Some("agent.turn_context"),
        "conversation turn: ",
        17,
        None,
        "`conversation turn:` from logger agent.turn_context",
    ),
    row(
        Some("run_agent"),
        "API call failed (attempt ",
        13,
        Some(14),
        "`API call failed (attempt …)` from logger run_agent",
    ),
    row(
        Some("agent.conversation_loop"),
        "API call failed (attempt ",
        15,
        None,
        "`API call failed (attempt …)` from logger agent.conversation_loop",
    ),
    row(
        Some("run_agent"),
        "API call #",
        13,
        Some(14),
        "`API call #N` from logger run_agent",
    ),
    row(
        Some("agent.conversation_loop"),
        "API call #",
        15,
        None,
        "`API call #N` from logger agent.conversation_loop",
    ),
    row(
        Some("run_agent"),
        "Retrying API call in ",
        13,
        Some(14),
        "`Retrying API call in …` from logger run_agent",
    ),
    Signal {
        logger: Some("agent.conversation_loop"),
        starts: "Retrying API call in ",
        contains: None,
        lacks: Some(" policy="),
        min: 15,
        max: Some(17),
        what: "`Retrying API call in …` without `policy=`",
    },
    Signal {
        logger: Some("agent.conversation_loop"),
        starts: "Retrying API call in ",
        contains: Some(" policy="),
        lacks: None,
        min: 18,
        max: None,
        what: "`Retrying API call in … policy=…`",
    },
    row(
        Some("root"),
        "Fallback activated: ",
        13,
        Some(14),
        "`Fallback activated:` from logger root",
    ),
    row(
        Some("agent.chat_completion_helpers"),
        "Fallback activated: ",
        15,
        None,
        "`Fallback activated:` from logger agent.chat_completion_helpers",
    ),
    row(
        Some("root"),
        "API call failed after ",
        13,
        Some(14),
        "`API call failed after N retries` from logger root",
    ),
    row(
        Some("agent.conversation_loop"),
        "API call failed after ",
        15,
        None,
        "`API call failed after N retries` from logger agent.conversation_loop",
    ),
    Signal {
        logger: Some("agent.credential_pool"),
        starts: "credential pool: marking ",
        contains: Some(" DEAD "),
        lacks: None,
        min: 16,
        max: None,
        what: "`credential pool: marking … DEAD`",
    },
    Signal {
        logger: None,
        starts: "Fallback to ",
        contains: Some("clearing primary credential pool"),
        lacks: None,
        min: 15,
        max: None,
        what: "`Fallback to …: clearing primary credential pool`",
    },
    Signal {
        logger: None,
        starts: "Fallback to ",
        contains: Some(": attached fallback credential pool"),
        lacks: None,
        min: 18,
        max: None,
        what: "`Fallback to …: attached fallback credential pool`",
    },
    row(
        None,
        "Credential pool provider mismatch: ",
        15,
        None,
        "`Credential pool provider mismatch`",
    ),
    Signal {
        logger: None,
        starts: "Upstream ",
        contains: Some("skipping credential rotation, deferring to fallback chain"),
        lacks: None,
        min: 18,
        max: None,
        what: "`Upstream … skipping credential rotation, deferring to fallback chain`",
    },
    row(
        None,
        "Restore could not reload primary credential pool",
        19,
        None,
        "`Restore could not reload primary credential pool`",
    ),
    Signal {
        logger: None,
        starts: "Fallback ",
        contains: Some(": reasoning_config resolved:"),
        lacks: None,
        min: 19,
        max: None,
        what: "`Fallback …: reasoning_config resolved:`",
    },
    row(
        None,
        "Turn ended with pending tool result",
        13,
        Some(16),
        "`Turn ended with pending tool result`",
    ),
];

impl Signal {
    fn matches(&self, logger: Option<&str>, message: &str) -> bool {
        // Every event is tried against every signal: most differ in the first byte.
        let lead = self.starts.as_bytes().first();
        if lead.is_some_and(|b| message.as_bytes().first() != Some(b)) {
            return false;
        }
        if let Some(l) = self.logger {
            if logger != Some(l) {
                return false;
            }
        }
        message.starts_with(self.starts)
            && self.contains.is_none_or(|c| message.contains(c))
            && self.lacks.is_none_or(|c| !message.contains(c))
    }

    fn range_text(&self) -> String {
        match self.max {
            Some(m) if m == self.min => format!("0.{m}"),
            Some(m) => format!("0.{}–0.{m}", self.min),
            None => format!("≥0.{}", self.min),
        }
    }
}

/// For each first byte of a message, the signals ([`SIGNALS`], one bit each) it may match: those
/// whose text starts with that byte or is empty.
static BY_LEAD: std::sync::LazyLock<[u64; 256]> = std::sync::LazyLock::new(|| {
    let mut table = [0u64; 256];
    for (byte, mask) in (0u8..=u8::MAX).zip(table.iter_mut()) {
        *mask = lead_mask(Some(byte));
    }
    table
});

/// The signals whose text may start with `lead` (`None`: an empty message).
fn lead_mask(lead: Option<u8>) -> u64 {
    (0..)
        .zip(SIGNALS)
        .filter(|(_, s)| s.starts.as_bytes().first().is_none_or(|&b| Some(b) == lead))
        .fold(0, |mask, (i, _)| mask | 1u64 << i)
}

/// The signals seen in an input, in any order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fingerprint {
    /// Indices into [`SIGNALS`], one bit each.
    seen: u64,
    /// The same per host named by the lines (journal hostname), for inputs that hold several.
    per_host: std::collections::BTreeMap<String, u64>,
}

impl Fingerprint {
    /// Look at one event's record.
    pub fn observe(&mut self, event: &Event) {
        let r = &event.record;
        let logger = r.logger.as_deref();
        // Only the signals whose text starts with the message's first byte are tried.
        let mut maybe = match r.message.as_bytes().first() {
            Some(&b) => BY_LEAD.get(usize::from(b)).copied().unwrap_or(u64::MAX),
            None => lead_mask(None),
        };
        while maybe != 0 {
            let i = maybe.trailing_zeros() as usize;
            maybe &= maybe - 1;
            let Some(s) = SIGNALS.get(i) else { break };
            if s.matches(logger, &r.message) {
                self.seen |= 1 << i;
                if let Some(h) = &r.host {
                    *self.per_host.entry(h.clone()).or_default() |= 1 << i;
                }
            }
        }
    }

    /// Add the signals of another part of the input (another host's shard).
    pub fn absorb(&mut self, other: &Fingerprint) {
        self.seen |= other.seen;
        for (h, bits) in &other.per_host {
            *self.per_host.entry(h.clone()).or_default() |= bits;
        }
    }

    /// The fingerprint a report's release `basis` lines stand for, as the lines of `host` (when
    /// named): the inverse of the basis [`resolve`] writes.
    pub fn from_basis(host: Option<&str>, basis: &[String]) -> Fingerprint {
        let mut fp = Fingerprint::default();
        for (i, s) in SIGNALS.iter().enumerate() {
            let text = format!("{} ({})", s.what, s.range_text());
            if basis.contains(&text) {
                fp.seen |= 1 << i;
                if let Some(h) = host {
                    *fp.per_host.entry(h.to_string()).or_default() |= 1 << i;
                }
            }
        }
        fp
    }

    /// The fingerprint of one host's lines.
    fn of_host(&self, host: &str) -> Fingerprint {
        Fingerprint {
            seen: self.per_host.get(host).copied().unwrap_or(0),
            per_host: Default::default(),
        }
    }

    fn hits(&self) -> impl Iterator<Item = &'static Signal> + '_ {
        SIGNALS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.seen & (1 << i) != 0)
            .map(|(_, s)| s)
    }

    /// The detected range of minor releases: None when nothing was seen; Err with the basis
    /// when the signals contradict each other (several releases, or one we do not know).
    fn range(&self) -> Option<Result<(u32, Option<u32>), ()>> {
        let mut lo = 0u32;
        let mut hi: Option<u32> = None;
        let mut any = false;
        for s in self.hits() {
            any = true;
            lo = lo.max(s.min);
            hi = match (hi, s.max) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if !any {
            return None;
        }
        Some(match hi {
            Some(h) if h < lo => Err(()),
            _ => Ok((lo, hi)),
        })
    }
}

fn release_of_minor(minor: u32) -> HermesVersion {
    RELEASES
        .iter()
        .find(|(m, _)| *m == minor)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(HermesVersion {
            major: 0,
            minor,
            patch: 0,
        })
}

fn name_of_minor(minor: u32) -> String {
    release_of_minor(minor).to_string()
}

/// The release to apply and what the logs say about it. `flag` is `--hermes-version`.
pub fn resolve(fp: &Fingerprint, flag: Option<HermesVersion>) -> (HermesRelease, Option<String>) {
    let basis: Vec<String> = fp
        .hits()
        .map(|s| format!("{} ({})", s.what, s.range_text()))
        .collect();
    let newest_minor = NEWEST.minor;
    let (min, max, detected) = match fp.range() {
        Some(Ok((lo, hi))) => {
            let hi_known = hi.unwrap_or(newest_minor).min(newest_minor.max(lo));
            (Some(lo), hi, Some(release_of_minor(hi_known)))
        }
        Some(Err(())) | None => (None, None, None),
    };
    let conflict = matches!(fp.range(), Some(Err(())));
    // Hosts whose own lines show a release, when they do not all show the same one.
    let mut hosts: Vec<HostRelease> = fp
        .per_host
        .keys()
        .filter_map(|h| match fp.of_host(h).range() {
            Some(Ok((lo, hi))) => Some(HostRelease {
                host: h.clone(),
                min: Some(name_of_minor(lo)),
                max: hi.map(name_of_minor),
            }),
            _ => None,
        })
        .collect();
    let alike = hosts
        .windows(2)
        .all(|w| w[0].min == w[1].min && w[0].max == w[1].max);
    if alike {
        hosts.clear();
    }
    let mut warning = None;
    let (applied, source) = match (flag, detected) {
        (Some(f), _) => {
            if let Some(lo) = min {
                let outside = f.minor < lo || max.is_some_and(|h| f.minor > h);
                if outside {
                    warning = Some(format!(
                        "--hermes-version {f} disagrees with the logs, which show Hermes {}: its rules are applied as asked",
                        range_text(min, max)
                    ));
                }
            }
            (f, "flag")
        }
        (None, Some(d)) => (d, "detected"),
        (None, None) => (NEWEST, "default"),
    };
    if !hosts.is_empty() && warning.is_none() {
        warning = Some(format!(
            "the hosts run different Hermes releases ({}): the rules of {applied} are applied to all",
            hosts
                .iter()
                .map(|h| format!("{} {}", h.host, range_text_of(h)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if conflict && warning.is_none() {
        warning = Some(format!(
            "the log shapes match no single Hermes release ({}): several releases wrote this input, or one newer than the ones known",
            basis.join("; ")
        ));
    }
    (
        HermesRelease {
            min: min.map(name_of_minor),
            max: max.map(name_of_minor),
            basis,
            applied: applied.to_string(),
            source: source.to_string(),
            hosts,
        },
        warning,
    )
}

fn range_text_of(h: &HostRelease) -> String {
    match (&h.min, &h.max) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        (Some(a), None) => format!("{a} or newer"),
        _ => "unknown".into(),
    }
}

fn range_text(min: Option<u32>, max: Option<u32>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a == b => name_of_minor(a),
        (Some(a), Some(b)) => format!("{}–{}", name_of_minor(a), name_of_minor(b)),
        (Some(a), None) => format!("{} or newer", name_of_minor(a)),
        _ => "unknown".to_string(),
    }
}

/// The header's one-line account of the release.
pub fn describe(r: &HermesRelease) -> String {
    let range = |r: &HermesRelease| match (&r.min, &r.max) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        (Some(a), None) => format!("{a} or newer"),
        _ => String::new(),
    };
    if !r.hosts.is_empty() {
        return format!(
            "the hosts run different releases ({}); rules of {} applied to all",
            r.hosts
                .iter()
                .map(|h| format!("{} {}", h.host, range_text_of(h)))
                .collect::<Vec<_>>()
                .join(", "),
            r.applied
        );
    }
    match r.source.as_str() {
        "detected" => format!(
            "Hermes {} (from log shapes); rules of {} applied",
            range(r),
            r.applied
        ),
        "flag" if r.min.is_some() => format!(
            "rules of {} applied (--hermes-version); the logs show Hermes {}",
            r.applied,
            range(r)
        ),
        "flag" => format!(
            "rules of {} applied (--hermes-version); no release shown by the logs",
            r.applied
        ),
        _ => format!(
            "release not shown by the logs; rules of the newest known release, {}, applied",
            r.applied
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        let v: HermesVersion = "0.19.0".parse().unwrap();
        assert_eq!((v.major, v.minor, v.patch), (0, 19, 0));
        let v: HermesVersion = "v0.14".parse().unwrap();
        assert_eq!((v.minor, v.patch), (14, 0));
        assert!("abc".parse::<HermesVersion>().is_err());
        assert!("0".parse::<HermesVersion>().is_err());
    }

    /// Every signal's range is exactly the releases whose logging calls write its line: checked
    /// against the census of each release's source (`fixtures/census/<release>.tsv`, written by
    /// `tools/census/extract.py`; columns release, module, logger (`?` when the call goes through
    /// another module's logger), level, template).
    #[test]
    fn every_signal_range_is_the_census_range() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/census");
        let mut errors = Vec::new();
        for s in SIGNALS {
            let mut present = Vec::new();
            for (minor, name) in RELEASES {
                let text = std::fs::read_to_string(dir.join(format!("{name}.tsv")))
                    .unwrap_or_else(|e| panic!("census of {name}: {e}"));
                let found = text.lines().any(|line| {
                    let f: Vec<&str> = line.split('\t').collect();
                    let (Some(logger), Some(template)) = (f.get(2), f.get(4)) else {
                        return false;
                    };
                    let logger_ok = match s.logger {
                        // `root` is the module-level `logging.info(...)`; `?` an unresolved one.
                        Some(l) => *logger == l || *logger == "?",
                        None => true,
                    };
                    // A leading placeholder is a prefix that is empty on the request's own
                    // lines (`%sAPI call failed after …`: a subagent tag).
                    let template = template
                        .strip_prefix("%s")
                        .or_else(|| template.strip_prefix("{}"))
                        .unwrap_or(template);
                    logger_ok
                        && template.starts_with(s.starts)
                        && s.contains.is_none_or(|c| template.contains(c))
                        && s.lacks.is_none_or(|c| !template.contains(c))
                });
                if found {
                    present.push(*minor);
                }
            }
            let expected: Vec<u32> = RELEASES
                .iter()
                .map(|(m, _)| *m)
                .filter(|m| *m >= s.min && s.max.is_none_or(|x| *m <= x))
                .collect();
            if present != expected {
                errors.push(format!(
                    "{}: census {present:?}, table {expected:?}",
                    s.what
                ));
            }
        }
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    #[test]
    fn every_signal_fits_the_bitset_and_the_known_releases() {
        assert!(SIGNALS.len() <= 64);
        for s in SIGNALS {
            assert!(RELEASES.iter().any(|(m, _)| *m == s.min), "{}", s.what);
            if let Some(m) = s.max {
                assert!(m >= s.min, "{}", s.what);
            }
        }
    }

    #[test]
    fn observing_tries_the_signals_the_first_byte_allows_and_finds_what_trying_all_finds() {
        let mut messages = vec![String::new(), " ".to_string(), "é".to_string()];
        for s in SIGNALS {
            messages.push(s.starts.to_string());
            messages.push(format!("{} {}", s.starts, s.contains.unwrap_or("")));
            messages.push(format!("x{}", s.starts));
            messages.push(s.starts.get(1..).unwrap_or("").to_string());
        }
        let mut loggers: Vec<Option<&str>> = SIGNALS.iter().map(|s| s.logger).collect();
        loggers.dedup();
        let (mut tried, mut found) = (0, 0);
        for message in &messages {
            for logger in &loggers {
                let mut record = crate::model::Record::empty();
                record.message = message.clone();
                record.logger = logger.map(str::to_string);
                record.host = Some("gw-1".to_string());
                let event = Event {
                    record,
                    kind: crate::model::EventKind::Other,
                };
                let mut fast = Fingerprint::default();
                fast.observe(&event);
                let mut all = Fingerprint::default();
                for (i, s) in SIGNALS.iter().enumerate() {
                    if s.matches(event.record.logger.as_deref(), &event.record.message) {
                        all.seen |= 1 << i;
                        *all.per_host.entry("gw-1".to_string()).or_default() |= 1 << i;
                    }
                }
                assert_eq!(fast, all, "{message:?} {logger:?}");
                tried += 1;
                found += usize::from(all.seen != 0);
            }
        }
        assert!(found > SIGNALS.len() && found < tried, "{found} of {tried}");
    }
}

/// What one range of releases does, as the captures of the real Hermes show it
/// (`fixtures/captured/hermes-<release>/<scenario>`, judged from the provider's request log).
#[derive(Debug, Clone, Copy)]
pub struct Semantics {
    /// First and last minor release of the row (None: up to the newest).
    pub min: u32,
    pub max: Option<u32>,
    /// A usage-limit 429 is retried once on the same key before the entry is marked and the
    /// pool rotates.
    pub retries_usage_limit_once: bool,
    /// A named custom provider's pool (`custom:NAME`) rotates; 0.15–0.16 compare the pool key with
    /// `custom` literally and skip every pool mutation (`Credential pool provider mismatch`).
    pub named_custom_pool_rotates: bool,
    /// The primary's entry is marked for the fallback provider's error.
    pub marks_primary_for_fallback_error: bool,
    /// The primary's credential pool is cleared when the request falls back
    /// (`Fallback to …: clearing primary credential pool`).
    pub clears_primary_pool_on_fallback: bool,
    /// The fixtures that show each behaviour of the row.
    pub fixtures: &'static str,
}

/// Release → behaviour, one row per range of releases that behave alike.
pub const SEMANTICS: &[Semantics] = &[
    Semantics {
        min: 13,
        max: Some(14),
        retries_usage_limit_once: true,
        named_custom_pool_rotates: true,
        marks_primary_for_fallback_error: true,
        clears_primary_pool_on_fallback: false,
        fixtures: "hermes-0.13.0 and hermes-0.14.0: healthy-rotation (key1, key1, key2), fallback-1113-single-key (prim-acct-1 marked for the fallback's 1113)",
    },
    Semantics {
        min: 15,
        max: Some(16),
        retries_usage_limit_once: false,
        named_custom_pool_rotates: false,
        marks_primary_for_fallback_error: false,
        clears_primary_pool_on_fallback: true,
        fixtures: "hermes-0.15.2 and hermes-0.16.0: healthy-rotation (key1 three times, `Credential pool provider mismatch … skipping pool mutation`), all-exhausted-fallback-ok (`clearing primary credential pool`)",
    },
    Semantics {
        min: 17,
        max: None,
        retries_usage_limit_once: false,
        named_custom_pool_rotates: true,
        marks_primary_for_fallback_error: false,
        clears_primary_pool_on_fallback: true,
        fixtures: "hermes-0.17.0, hermes-0.18.2 and hermes-0.19.0: healthy-rotation (key1, key2), fallback-1113-single-key (no mark after the fallback)",
    },
];

/// The behaviour row of `version`, when one covers it.
pub fn semantics(version: HermesVersion) -> Option<&'static Semantics> {
    if version.major != 0 {
        return None;
    }
    SEMANTICS
        .iter()
        .find(|s| version.minor >= s.min && s.max.is_none_or(|m| version.minor <= m))
}

impl Semantics {
    /// The row's releases, e.g. `0.15–0.16`.
    pub fn range(&self) -> String {
        match self.max {
            Some(m) if m == self.min => format!("0.{m}"),
            Some(m) => format!("0.{}–0.{m}", self.min),
            None => format!("0.{}+", self.min),
        }
    }
}

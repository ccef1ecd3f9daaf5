//! The template census (`fixtures/census/request-path.tsv`, written by `tools/census`): every
//! logging call and console print of Hermes' request-path modules, all releases. A record from a
//! request-path logger that no family recognises is `known` when it is one of these templates
//! and `unrecognized` when it is none of them; a console line matching a census print is
//! `known`.

use super::clean_message;
use memchr::memmem::Finder;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

/// The census, as committed.
pub const CENSUS_TSV: &str = include_str!("../../fixtures/census/request-path.tsv");

/// One census row.
#[derive(Debug, Clone)]
pub struct Template {
    /// Stable id (hash of channel, logger, level and text).
    pub id: &'static str,
    /// `request` (about a request's attempts, retries, rotation, fallback, quota or auth),
    /// `side` (the same words from a side client), `-` (neither).
    pub scope: &'static str,
    /// `log` or `console`.
    pub channel: &'static str,
    pub module: &'static str,
    pub logger: &'static str,
    pub level: &'static str,
    /// Oldest and newest release holding it, and every release holding it.
    pub first: &'static str,
    pub last: &'static str,
    pub releases: &'static str,
    /// The template text: placeholders as `{}` or `%s`-style, newlines as `\n`.
    pub text: &'static str,
}

/// A template as literal pieces between placeholders, for matching a message.
struct Pattern {
    row: usize,
    /// First line of the template (cleaned like messages), split on placeholders.
    pieces: Vec<Box<str>>,
    /// A searcher for each piece, built when the pattern is first tried (`str::find` sets one
    /// up on every call; most patterns are never tried on a given log).
    finders: OnceLock<Vec<Finder<'static>>>,
    /// Starts / ends with a placeholder.
    open_start: bool,
    open_end: bool,
    /// The bytes of the pieces together: no shorter message matches.
    min_len: usize,
    /// The first byte of a message that matches, when the pattern starts with a literal.
    lead: Option<u8>,
}

/// One logger's patterns, most specific first, and for each first byte of a message the ones
/// it may match (those starting with that byte or with a placeholder), in the same order.
struct Patterns {
    all: Vec<Pattern>,
    /// For each first byte, its list in `lists`: the first list holds the patterns that start
    /// with a placeholder (every byte no pattern starts with has only those), each other one
    /// adds those of one first byte.
    by_lead: [u16; 256],
    lists: Vec<Vec<u32>>,
}

impl Patterns {
    fn new(mut all: Vec<Pattern>) -> Patterns {
        // Longer literal text first: the most specific template wins.
        all.sort_by_key(|p| std::cmp::Reverse(p.min_len));
        let list = |lead: Option<u8>| {
            (0u32..)
                .zip(&all)
                .filter(|(_, p)| p.lead.is_none() || p.lead == lead)
                .map(|(i, _)| i)
                .collect::<Vec<u32>>()
        };
        let mut by_lead = [0u16; 256];
        let mut lists = vec![list(None)];
        for p in &all {
            let Some(lead) = p.lead else { continue };
            let Some(slot) = by_lead.get_mut(usize::from(lead)) else {
                continue;
            };
            if *slot == 0 {
                if let Ok(n) = u16::try_from(lists.len()) {
                    *slot = n;
                    lists.push(list(Some(lead)));
                }
            }
        }
        Patterns {
            all,
            by_lead,
            lists,
        }
    }

    /// The first pattern `msg` matches.
    fn matching(&self, msg: &str) -> Option<&Pattern> {
        let lead = msg.as_bytes().first().map_or(0, |b| usize::from(*b));
        self.lists
            .get(usize::from(*self.by_lead.get(lead)?))?
            .iter()
            .filter_map(|&i| self.all.get(i as usize))
            .find(|p| p.matches(msg))
    }
}

struct Census {
    rows: Vec<Template>,
    /// The logger names of the patterns, console patterns under `""`.
    loggers: LoggerIndex,
    /// The patterns of each logger of `loggers`, by its index.
    by_logger: Vec<Patterns>,
    /// Whether each logger of `loggers` is no side client's.
    request_path: Vec<bool>,
}

/// Slots of [`LoggerIndex`]'s table (many more than the census has loggers).
const LOGGER_SLOTS: usize = 1024;

/// The census's logger names in an open-addressing table: every record's logger is looked up,
/// and a lookup is one hash of a short name and, nearly always, one comparison. The names come
/// from the census alone; input only looks them up.
struct LoggerIndex {
    /// A name's index plus one, or 0 for an empty slot.
    slots: Box<[u16; LOGGER_SLOTS]>,
    names: Vec<&'static str>,
}

impl LoggerIndex {
    fn new(names: Vec<&'static str>) -> LoggerIndex {
        let mut slots = Box::new([0u16; LOGGER_SLOTS]);
        // Only the first LOGGER_SLOTS - 1 names fit with a slot left empty (the census has
        // about fifty).
        for (i, name) in names.iter().enumerate().take(LOGGER_SLOTS - 1) {
            let Ok(n) = u16::try_from(i + 1) else { break };
            let mut at = slot_of(name.as_bytes());
            while slots.get(at).is_some_and(|&s| s != 0) {
                at = (at + 1) % LOGGER_SLOTS;
            }
            if let Some(s) = slots.get_mut(at) {
                *s = n;
            }
        }
        LoggerIndex { slots, names }
    }

    /// The index of `name`.
    #[inline]
    fn find(&self, name: &str) -> Option<usize> {
        let mut at = slot_of(name.as_bytes());
        // The table always has an empty slot, which ends the probe.
        loop {
            let i = usize::from(*self.slots.get(at)?).checked_sub(1)?;
            if *self.names.get(i)? == name {
                return Some(i);
            }
            at = (at + 1) % LOGGER_SLOTS;
        }
    }
}

/// The slot a name hashes to: its eight-byte words (the last zero-padded) and its length,
/// mixed.
#[inline(always)]
fn slot_of(name: &[u8]) -> usize {
    let mix = |h: u64, bytes: &[u8]| {
        let mut b = [0u8; 8];
        if let Some(head) = b.get_mut(..bytes.len()) {
            head.copy_from_slice(bytes);
        }
        (h ^ u64::from_le_bytes(b))
            .wrapping_mul(0x0100_0000_01b3)
            .rotate_left(29)
    };
    let mut h = (name.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut words = name.chunks_exact(8);
    for w in &mut words {
        h = mix(h, w);
    }
    if !words.remainder().is_empty() {
        h = mix(h, words.remainder());
    }
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - LOGGER_SLOTS.trailing_zeros())) as usize
}

static CENSUS: LazyLock<Census> = LazyLock::new(build);

/// Every census row.
pub fn templates() -> &'static [Template] {
    &CENSUS.rows
}

/// Whether `logger` is a logger of a request-path module the census covers (its records are
/// `unrecognized` when they match no template).
pub fn is_request_path_logger(logger: &str) -> bool {
    let census = &*CENSUS;
    census
        .loggers
        .find(logger)
        .and_then(|i| census.request_path.get(i).copied())
        .unwrap_or(false)
}

/// The census template a message matches: a log record of `logger`, or a console line when
/// `logger` is `None`.
pub fn matching(logger: Option<&str>, msg: &str) -> Option<&'static Template> {
    let census = &*CENSUS;
    let pats = census
        .by_logger
        .get(census.loggers.find(logger.unwrap_or(""))?)?;
    let msg = first_line(msg);
    pats.matching(msg).and_then(|p| census.rows.get(p.row))
}

fn first_line(text: &str) -> &str {
    // Most messages are one line: no escaped newline to split on.
    if memchr::memchr(b'\\', text.as_bytes()).is_none() {
        return text.trim();
    }
    text.split("\\n")
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Split a template on its placeholders: `{}` and %-style conversions (`%%` is a literal `%`).
pub fn split_placeholders(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let mut cur = String::new();
    // Literal text from `from` on is not yet in `cur`; the search resumes at `at`.
    let (mut from, mut at) = (0, 0);
    while let Some(i) = memchr::memchr2(b'{', b'%', b.get(at..).unwrap_or_default()).map(|p| at + p)
    {
        let (end, placeholder) = if b.get(i) == Some(&b'{') {
            match b.get(i + 1) {
                Some(b'}') => (i + 2, true),
                _ => {
                    at = i + 1;
                    continue;
                }
            }
        } else if b.get(i + 1) == Some(&b'%') {
            // `%%`: one `%` of text.
            cur.push_str(text.get(from..=i).unwrap_or_default());
            (from, at) = (i + 2, i + 2);
            continue;
        } else {
            match conversion_len(text.get(i + 1..).unwrap_or_default()) {
                Some(n) => (i + 1 + n, true),
                None => {
                    at = i + 1;
                    continue;
                }
            }
        };
        if placeholder {
            cur.push_str(text.get(from..i).unwrap_or_default());
            pieces.push(std::mem::take(&mut cur));
        }
        (from, at) = (end, end);
    }
    cur.push_str(text.get(from..).unwrap_or_default());
    pieces.push(cur);
    pieces
}

/// The length of the %-style conversion `rest` starts with (after its `%`): flags, width and
/// precision, then a conversion letter.
fn conversion_len(rest: &str) -> Option<usize> {
    let n = rest.find(|ch: char| ch.is_ascii_alphabetic())?;
    let spec = rest.get(..n)?;
    if !spec.bytes().all(|ch| b"-+ #0.123456789".contains(&ch)) {
        return None;
    }
    b"sdifrxXeEgGcau"
        .contains(rest.as_bytes().get(n)?)
        .then_some(n + 1)
}

impl Pattern {
    fn new(row: usize, text: &str, console: bool) -> Option<Pattern> {
        let mut line = first_line(text);
        // The console helpers' leading `{}` is the log prefix: empty, or the `[subagent-N] `
        // the parser takes off. The message starts with what follows.
        if console {
            line = line.strip_prefix("{}").unwrap_or(line);
        }
        let mut pieces = split_placeholders(line);
        // Clean the leading literal as messages are cleaned (glyphs, markdown escapes).
        let mut open_start = pieces.first().is_some_and(String::is_empty) && pieces.len() > 1;
        if open_start {
            pieces.remove(0);
        }
        if let Some(p) = pieces.first_mut() {
            *p = clean_message(p).into_owned();
            // A glyph alone before a placeholder: the message starts with the value.
            if p.is_empty() && pieces.len() > 1 {
                pieces.remove(0);
                open_start = true;
            }
        }
        let open_end = pieces.len() > 1 && pieces.last().is_some_and(String::is_empty);
        if open_end {
            pieces.pop();
        }
        if let Some(p) = pieces.last_mut() {
            *p = p.trim_end().to_string();
        }
        pieces.retain(|p| !p.is_empty());
        // Too little literal text to tell a template from any other line.
        let literal: usize = pieces.iter().map(|p| p.trim().chars().count()).sum();
        if literal < 8 {
            return None;
        }
        let min_len = pieces.iter().map(String::len).sum();
        let lead = pieces
            .first()
            .filter(|_| !open_start)
            .and_then(|p| p.as_bytes().first().copied());
        Some(Pattern {
            row,
            pieces: pieces.into_iter().map(String::into_boxed_str).collect(),
            finders: OnceLock::new(),
            open_start,
            open_end,
            min_len,
            lead,
        })
    }

    fn matches(&self, msg: &str) -> bool {
        // A message shorter than the literal text cannot match (the first byte was checked
        // when the pattern was picked, see `Patterns::matching`).
        if msg.len() < self.min_len {
            return false;
        }
        let finders = self.finders.get_or_init(|| {
            self.pieces
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect()
        });
        let mut at = 0;
        let n = finders.len();
        for (i, finder) in finders.iter().enumerate() {
            let piece = finder.needle();
            let hay = msg.get(at..).unwrap_or("").as_bytes();
            let last = i + 1 == n;
            if i == 0 && !self.open_start {
                if !hay.starts_with(piece) {
                    return false;
                }
                at += piece.len();
                if last && !self.open_end {
                    return at == msg.len();
                }
                continue;
            }
            if last && !self.open_end {
                return hay.ends_with(piece);
            }
            // A match of a text in a text starts and ends on character boundaries.
            match finder.find(hay) {
                Some(j) => at += j + piece.len(),
                None => return false,
            }
        }
        true
    }
}

fn build() -> Census {
    let mut rows = Vec::new();
    // Logger names in order of first appearance, with their patterns.
    let mut names: Vec<&'static str> = Vec::new();
    let mut lists: HashMap<&'static str, Vec<Pattern>> = HashMap::new();
    for line in CENSUS_TSV.lines().skip(1) {
        // Nine tab-separated fields, then the text (which may hold tabs).
        let mut f = [""; 10];
        let mut fields = line.splitn(10, '\t');
        if f.iter_mut()
            .any(|slot| fields.next().map(|v| *slot = v).is_none())
        {
            continue;
        }
        let [id, scope, channel, module, logger, level, first, last, releases, text] = f;
        let row = rows.len();
        rows.push(Template {
            id,
            scope,
            channel,
            module,
            logger,
            level,
            first,
            last,
            releases,
            text,
        });
        let key = if channel == "console" { "" } else { logger };
        if !lists.contains_key(key) {
            names.push(key);
        }
        let pats = lists.entry(key).or_default();
        if let Some(p) = Pattern::new(row, text, channel == "console") {
            pats.push(p);
        }
    }
    let by_logger = names
        .iter()
        .map(|l| Patterns::new(lists.remove(l).unwrap_or_default()))
        .collect();
    let request_path = names
        .iter()
        .map(|l| !super::side::is_side_logger(l))
        .collect();
    Census {
        rows,
        loggers: LoggerIndex::new(names),
        by_logger,
        request_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            split_placeholders("a %s b {} c %.1f d %% e %d"),
            vec!["a ", " b ", " c ", " d % e ", ""]
        );
    }

    /// The character-by-character reading [`split_placeholders`] replaced.
    fn split_by_chars(text: &str) -> Vec<String> {
        let mut pieces = vec![String::new()];
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let cur = pieces.last_mut();
            match c {
                '{' if text.get(i + 1..i + 2) == Some("}") => {
                    chars.next();
                    pieces.push(String::new());
                }
                '%' => {
                    let rest = text.get(i + 1..).unwrap_or("");
                    if rest.starts_with('%') {
                        chars.next();
                        if let Some(p) = cur {
                            p.push('%');
                        }
                        continue;
                    }
                    let spec_len = rest
                        .find(|ch: char| ch.is_ascii_alphabetic())
                        .filter(|&n| {
                            rest.get(..n)
                                .is_some_and(|f| f.chars().all(|ch| "-+ #0.123456789".contains(ch)))
                        })
                        .filter(|&n| {
                            rest.get(n..n + 1)
                                .is_some_and(|ch| "sdifrxXeEgGcau".contains(ch))
                        });
                    match spec_len {
                        Some(n) => {
                            for _ in 0..=n {
                                chars.next();
                            }
                            pieces.push(String::new());
                        }
                        None => {
                            if let Some(p) = cur {
                                p.push('%');
                            }
                        }
                    }
                }
                _ => {
                    if let Some(p) = cur {
                        p.push(c);
                    }
                }
            }
        }
        pieces
    }

    #[test]
    fn placeholders_split_as_read_character_by_character() {
        let texts: Vec<&str> = templates().iter().map(|t| t.text).collect();
        for t in &texts {
            assert_eq!(split_placeholders(t), split_by_chars(t), "{t}");
        }
        const SEEDS: [&str; 5] = [
            "a %s b {} c %.1f d %% e %d",
            "%-5.2f%%{}{{}}%",
            "rate %+08.3e%x {%s} 100%",
            "é {} ✓ %é %5 %.s",
            "",
        ];
        const ALPHABET: &[char] = &['%', '{', '}', 's', 'd', '.', '1', '-', ' ', 'é', 'q', 'Z'];
        let mut m = crate::parse::mutate::Mutator::new(0x5EED_CE25_0000_0001, ALPHABET);
        for t in m.mutants(&SEEDS, 20_000, 4) {
            assert_eq!(split_placeholders(&t), split_by_chars(&t), "{t:?}");
        }
    }

    #[test]
    fn patterns_by_first_byte_are_those_that_may_match_it_in_order() {
        for pats in &CENSUS.by_logger {
            for b in 0..=u8::MAX {
                let expected: Vec<u32> = (0u32..)
                    .zip(&pats.all)
                    .filter(|(_, p)| p.lead.is_none_or(|l| l == b))
                    .map(|(i, _)| i)
                    .collect();
                let list = pats
                    .by_lead
                    .get(usize::from(b))
                    .and_then(|&i| pats.lists.get(usize::from(i)));
                assert_eq!(list, Some(&expected), "first byte {b}");
            }
        }
    }

    #[test]
    fn census_loads_and_matches() {
        assert!(templates().len() > 500);
        let t = matching(
            Some("agent.credential_pool"),
            "credential pool: pruning DEAD manual entry k1 (reason=x, age=3.0h) — re-add via `hermes auth add zai`",
        );
        assert!(t.is_some());
        assert!(matching(Some("agent.credential_pool"), "nothing like it at all").is_none());
    }

    #[test]
    fn logger_index_finds_exactly_the_census_loggers() {
        let census = &*CENSUS;
        let names = &census.loggers.names;
        assert!(names.len() > 20, "{}", names.len());
        let set: std::collections::HashSet<&str> = names.iter().copied().collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(census.loggers.find(name), Some(i), "{name}");
            // Every one-byte change, a byte more and a byte less.
            let b = name.as_bytes();
            let mut variants: Vec<Vec<u8>> = Vec::new();
            for at in 0..b.len() {
                for c in [b'.', b'_', b'a', b'z', b'0'] {
                    let mut v = b.to_vec();
                    v[at] = c;
                    variants.push(v);
                }
            }
            variants.push([b, b"x"].concat());
            variants.push(
                b.get(..b.len().saturating_sub(1))
                    .unwrap_or_default()
                    .to_vec(),
            );
            for v in variants {
                let v = String::from_utf8(v).unwrap_or_default();
                let expected = set.contains(v.as_str());
                assert_eq!(census.loggers.find(&v).is_some(), expected, "{v}");
            }
        }
        assert_eq!(census.loggers.find("not.a.census.logger"), None);
    }
}

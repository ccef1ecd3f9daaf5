//! journalctl `-o json` (NDJSON): one entry per line. Values are strings, arrays of byte
//! numbers (non-UTF-8 / unprintable), `null` (too long), or arrays of values (repeated fields).

use super::time::RawTime;
use super::{inner, Head};
use crate::model::Shape;
use memchr::memmem::Finder;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

/// A field as text: the string, the bytes decoded lossily, or the first of repeated values.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => items.first().and_then(text),
        _ => None,
    }
}

/// The first of `values` that reads as text.
fn field(values: &[&Option<Value>]) -> Option<String> {
    values.iter().find_map(|v| v.as_ref().and_then(text))
}

/// The fields of a journal entry the parser reads; each holds the last value given for its
/// key (as a JSON object read into a map would). Other fields are checked for syntax and
/// skipped without being built. `T` is a parsed JSON value ([`Entry`]) or text borrowed from
/// the line ([`Flat`]), or text a multi-line mode read ([`super::entry::Entry`]), which keeps
/// the first value of a repeated field instead.
#[derive(Debug)]
pub(crate) struct Fields<T> {
    pub realtime: Option<T>,
    pub hostname: Option<T>,
    pub syslog_identifier: Option<T>,
    pub comm: Option<T>,
    pub pid: Option<T>,
    pub syslog_pid: Option<T>,
    pub message: Option<T>,
}

impl<T> Default for Fields<T> {
    fn default() -> Self {
        Fields {
            realtime: None,
            hostname: None,
            syslog_identifier: None,
            comm: None,
            pid: None,
            syslog_pid: None,
            message: None,
        }
    }
}

/// The journal fields a head is made of, in every mode that prints them (`json`, `export`,
/// `verbose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Realtime,
    Hostname,
    SyslogIdentifier,
    Comm,
    Pid,
    SyslogPid,
    Message,
}

impl Field {
    /// The field named `name`; `None` for one the parsers do not read. The names differ in
    /// length: one comparison of known length decides.
    #[inline(always)]
    fn named(name: &[u8]) -> Option<Field> {
        Some(match name.len() {
            20 if name == b"__REALTIME_TIMESTAMP" => Field::Realtime,
            9 if name == b"_HOSTNAME" => Field::Hostname,
            17 if name == b"SYSLOG_IDENTIFIER" => Field::SyslogIdentifier,
            5 if name == b"_COMM" => Field::Comm,
            4 if name == b"_PID" => Field::Pid,
            10 if name == b"SYSLOG_PID" => Field::SyslogPid,
            7 if name == b"MESSAGE" => Field::Message,
            _ => return None,
        })
    }
}

impl<T> Fields<T> {
    /// Where the value of `key` goes; `None` for a field the parser does not read.
    pub(crate) fn slot(&mut self, key: &str) -> Option<&mut Option<T>> {
        self.slot_of(key.as_bytes())
    }

    /// [`Fields::slot`] for the bytes of a key.
    #[inline(always)]
    fn slot_of(&mut self, key: &[u8]) -> Option<&mut Option<T>> {
        Some(match Field::named(key)? {
            Field::Realtime => &mut self.realtime,
            Field::Hostname => &mut self.hostname,
            Field::SyslogIdentifier => &mut self.syslog_identifier,
            Field::Comm => &mut self.comm,
            Field::Pid => &mut self.pid,
            Field::SyslogPid => &mut self.syslog_pid,
            Field::Message => &mut self.message,
        })
    }
}

/// The fields as parsed by `serde_json`.
type Entry = Fields<Value>;

/// The fields as read by hand ([`flat`]): slices of the line, or decoded when escaped.
type Flat<'a> = Fields<Cow<'a, str>>;

impl<'de> Deserialize<'de> for Fields<Value> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a journal entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut e = Entry::default();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match e.slot(&key) {
                Some(slot) => *slot = Some(map.next_value::<Value>()?),
                None => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(e)
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, parsed as fully as into a [`Value`] (so the same inputs are rejected) but
/// not built.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        Skip::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

static REALTIME_KEY: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("\"__REALTIME_TIMESTAMP\""));
static MESSAGE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\"MESSAGE\""));

/// JSON whitespace from `i` on.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The first byte of `b` that ends a plain JSON string: a quote, a backslash or a control
/// character. Sixteen bytes at a time with SSE2, which every x86-64 processor has (the strings
/// of a journal entry are short: a call to a vector search costs more than it saves).
#[cfg(target_arch = "x86_64")]
fn string_stop(b: &[u8]) -> Option<usize> {
    let found = super::sse::first_marked(b, |v| {
        let (quotes, stops) = string_marks(v);
        quotes | stops
    });
    match found {
        Ok(at) => Some(at),
        Err(at) => string_stop_words(b.get(at..)?).map(|p| at + p),
    }
}

/// The quotes of the sixteen bytes in `v`, and their backslashes and control characters, one
/// bit each (the lowest for the first byte).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn string_marks(v: std::arch::x86_64::__m128i) -> (i32, i32) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline.
    unsafe {
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Below 0x20 (unsigned): the minimum with 0x1f is the byte itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        (
            _mm_movemask_epi8(quote),
            _mm_movemask_epi8(_mm_or_si128(backslash, control)),
        )
    }
}

/// [`string_stop`] without SSE2.
#[cfg(not(target_arch = "x86_64"))]
fn string_stop(b: &[u8]) -> Option<usize> {
    string_stop_words(b)
}

/// [`string_stop`] eight bytes at a time in a `u64`.
fn string_stop_words(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in the lowest byte of `x` below `n` (exact for the lowest such byte).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20);
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// Where a string of an entry lies in its line: between its quotes, and whether it holds an
/// escape (its text is then decoded).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

/// The string starting with the quote at `i` of `b` and the index after its closing quote. Its
/// escapes must be the one-letter ones or a `\u` below the surrogates: a control character, a
/// surrogate escape (a pair or a lone half, which `serde_json` judges) or anything malformed is
/// `None`.
#[inline(always)]
fn string_span(b: &[u8], i: usize) -> Option<(Span, usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let end = start + string_stop(b.get(start..)?)?;
    if b.get(end) == Some(&b'"') {
        let span = Span {
            start,
            end,
            escaped: false,
        };
        return Some((span, end + 1));
    }
    let end = escaped_end(b, end)?;
    let span = Span {
        start,
        end,
        escaped: true,
    };
    Some((span, end + 1))
}

/// The closing quote of a string whose first stop, at `at`, is no closing quote (see
/// [`string_span`]).
#[cold]
#[inline(never)]
fn escaped_end(b: &[u8], mut at: usize) -> Option<usize> {
    while b.get(at) == Some(&b'\\') {
        let from = at + escape(b, at)?.1;
        at = from + string_stop(b.get(from..)?)?;
        if b.get(at) == Some(&b'"') {
            return Some(at);
        }
    }
    // A control character.
    None
}

/// The character of the escape at `at` (a backslash) of `b`, and its length.
fn escape(b: &[u8], at: usize) -> Option<(char, usize)> {
    Some(match b.get(at + 1)? {
        b'"' => ('"', 2),
        b'\\' => ('\\', 2),
        b'/' => ('/', 2),
        b'b' => ('\u{8}', 2),
        b'f' => ('\u{c}', 2),
        b'n' => ('\n', 2),
        b'r' => ('\r', 2),
        b't' => ('\t', 2),
        b'u' => {
            let hex = b.get(at + 2..at + 6)?;
            let mut code = 0;
            for &h in hex {
                code = code * 16 + char::from(h).to_digit(16)?;
            }
            (char::from_u32(code)?, 6)
        }
        _ => return None,
    })
}

/// The text of `span` in `line`: a slice of it, or decoded.
#[inline(always)]
fn text_of(line: &str, span: Span) -> Option<Cow<'_, str>> {
    let text = line.get(span.start..span.end)?;
    if !span.escaped {
        return Some(Cow::Borrowed(text));
    }
    decoded(text).map(Cow::Owned)
}

/// The text of an escaped string, between its quotes.
#[cold]
#[inline(never)]
fn decoded(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', b.get(from..)?).map(|p| from + p) {
        out.push_str(text.get(from..at)?);
        let (c, len) = escape(b, at)?;
        out.push(c);
        from = at + len;
    }
    out.push_str(text.get(from..)?);
    Some(out)
}

/// JSON whitespace from `i` on, when the byte at `i` is not already `want` (journalctl writes
/// none).
#[inline(always)]
fn skip_to(b: &[u8], i: usize, want: u8) -> usize {
    if b.get(i) == Some(&want) {
        i
    } else {
        skip_ws(b, i)
    }
}

/// What journalctl writes for an entry whose fields are all printable: one flat object of
/// strings. Read by hand, from where its quotes are ([`plain_spans`]) or else string by string
/// ([`spans`]), the fields `parse` uses kept (the last of a repeated key, as [`Entry`] keeps);
/// anything else (a number, an array, `null`, nesting, a key spelled with escapes, a surrogate
/// escape, bad syntax) is `None` and goes through `serde_json`, which gives the same fields for
/// what this accepts.
fn flat(line: &str) -> Option<Flat<'_>> {
    let f = match plain_spans(line) {
        Some(f) => f,
        None => spans(line)?,
    };
    // `None` when a field's text cannot be had (it can: the spans were checked).
    let text = |s: Option<Span>| match s {
        None => Some(None),
        Some(s) => text_of(line, s).map(Some),
    };
    Some(Flat {
        realtime: text(f.realtime)?,
        hostname: text(f.hostname)?,
        syslog_identifier: text(f.syslog_identifier)?,
        comm: text(f.comm)?,
        pid: text(f.pid)?,
        syslog_pid: text(f.syslog_pid)?,
        message: text(f.message)?,
    })
}

/// The spans of the fields [`flat`] reads, string by string.
fn spans(line: &str) -> Option<Fields<Span>> {
    let b = line.as_bytes();
    let mut i = skip_to(b, 0, b'{');
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_to(b, i + 1, b'"');
    let mut f: Fields<Span> = Fields::default();
    if b.get(i) != Some(&b'}') {
        loop {
            let (key, j) = string_span(b, i)?;
            if key.escaped {
                return None;
            }
            i = skip_to(b, j, b':');
            if b.get(i) != Some(&b':') {
                return None;
            }
            let (value, j) = string_span(b, skip_to(b, i + 1, b'"'))?;
            if let Some(slot) = f.slot(line.get(key.start..key.end)?) {
                *slot = Some(value);
            }
            i = skip_to(b, j, b',');
            match b.get(i) {
                Some(b',') => i = skip_to(b, i + 1, b'"'),
                Some(b'}') => break,
                _ => return None,
            }
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return None;
    }
    Some(f)
}

/// [`spans`] for the entry journalctl writes most: `{"KEY":"value",…}` with no whitespace, no
/// escape and no control character. Such a line is read from where its quotes are, found 64
/// bytes at a time over the whole line: they come four to a field (key, value), and the single
/// bytes between them must be `{`, `:`, `,` and `}`. A line with a backslash or a control
/// character, or of any other shape, is `None`, for [`spans`] to read string by string; what
/// this accepts, that reads the same.
#[cfg(target_arch = "x86_64")]
fn plain_spans(line: &str) -> Option<Fields<Span>> {
    let b = line.as_bytes();
    let n = b.len();
    if n < 2 || b.first() != Some(&b'{') || b.last() != Some(&b'}') {
        return None;
    }
    let mut f: Fields<Span> = Fields::default();
    // The quotes of the field being read, and how many of its four were seen.
    let mut q = [0usize; 4];
    let mut seen = 0;
    // Where the next key's opening quote must be; after the last value, nowhere.
    let mut key_at = 1;
    let mut at = 0;
    // The last bytes, padded with spaces (neither quote nor stop) to a block.
    let mut tail = [b' '; 64];
    while at < n {
        let block = match b.get(at..at + 64) {
            Some(c) => c,
            None => {
                let rest = b.get(at..)?;
                tail.get_mut(..rest.len())?.copy_from_slice(rest);
                &tail
            }
        };
        let (mut marks, stops) = quote_marks(block);
        if stops {
            return None;
        }
        while marks != 0 {
            *q.get_mut(seen)? = at + marks.trailing_zeros() as usize;
            marks &= marks - 1;
            seen += 1;
            if seen < 4 {
                continue;
            }
            seen = 0;
            let [k0, k1, v0, v1] = q;
            if k0 != key_at || v0 != k1 + 2 || b.get(k1 + 1) != Some(&b':') {
                return None;
            }
            key_at = match b.get(v1 + 1) {
                Some(b',') => v1 + 2,
                Some(b'}') if v1 + 2 == n => usize::MAX,
                _ => return None,
            };
            if let Some(slot) = f.slot_of(b.get(k0 + 1..k1)?) {
                *slot = Some(Span {
                    start: v0 + 1,
                    end: v1,
                    escaped: false,
                });
            }
        }
        at += 64;
    }
    (key_at == usize::MAX && seen == 0).then_some(f)
}

/// The quotes of a 64-byte `block`, one bit each (the lowest for its first byte), and whether
/// it holds a backslash or a control character.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quote_marks(block: &[u8]) -> (u64, bool) {
    use std::arch::x86_64::_mm_loadu_si128;
    let mut quotes = 0u64;
    let mut stops = 0;
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: `chunk` is 16 readable bytes, the width of an unaligned SSE2 load; SSE2 is
        // part of the x86-64 baseline.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        let (q, s) = string_marks(v);
        quotes |= u64::from(q as u16) << (16 * i);
        stops |= s;
    }
    (quotes, stops != 0)
}

/// [`plain_spans`] without SSE2: every line is read string by string.
#[cfg(not(target_arch = "x86_64"))]
fn plain_spans(_line: &str) -> Option<Fields<Span>> {
    None
}

/// Parse one journal JSON entry; other JSON (an application's own structured line) is not a
/// journal entry and stays bare.
#[inline(always)]
pub(crate) fn parse(line: &str) -> Option<Head<'_>> {
    if let Some(f) = flat(line) {
        if f.message.is_none() && f.realtime.is_none() {
            return None;
        }
        let realtime = f.realtime.as_deref();
        let pid = f.pid.as_deref().or(f.syslog_pid.as_deref());
        let ident = f.syslog_identifier.or(f.comm);
        return Some(match f.message {
            // An escaped message is decoded text: the head owns it.
            Some(Cow::Owned(message)) => head_of(
                Shape::JournalJson,
                realtime,
                f.hostname,
                ident,
                pid,
                &message,
                false,
            )
            .owned_at(realtime_of(realtime)),
            // Plain strings are slices of the line: the head borrows them.
            Some(Cow::Borrowed(message)) => head_of(
                Shape::JournalJson,
                realtime,
                f.hostname,
                ident,
                pid,
                message,
                true,
            ),
            None => head_of(
                Shape::JournalJson,
                realtime,
                f.hostname,
                ident,
                pid,
                "",
                true,
            ),
        });
    }
    // Other JSON (no journal key anywhere) is rejected before serde_json reads it.
    let bytes = line.as_bytes();
    if REALTIME_KEY.find(bytes).is_none() && MESSAGE_KEY.find(bytes).is_none() {
        return None;
    }
    let e: Entry = serde_json::from_str(line).ok()?;
    if e.message.is_none() && e.realtime.is_none() {
        return None;
    }
    Some(head_from(
        Shape::JournalJson,
        field(&[&e.realtime]).as_deref(),
        field(&[&e.hostname]),
        field(&[&e.syslog_identifier, &e.comm]),
        field(&[&e.pid, &e.syslog_pid]).as_deref(),
        &field(&[&e.message]).unwrap_or_default(),
    ))
}

/// [`parse`] for a line that does not outlive the call.
pub(crate) fn parse_owned(line: &str) -> Option<Head<'static>> {
    let h = parse(line)?;
    // An entry's time is `__REALTIME_TIMESTAMP`'s microseconds or none: nothing borrowed.
    let time = match h.time {
        RawTime::EpochMicros(t) => RawTime::EpochMicros(t),
        _ => RawTime::None,
    };
    Some(h.owned_at(time))
}

/// A head from the journal fields an entry gives, in any output mode that prints them
/// (`json`, `export`, `verbose`): `__REALTIME_TIMESTAMP`, `_HOSTNAME`, `SYSLOG_IDENTIFIER` else
/// `_COMM`, `_PID` else `SYSLOG_PID`, and `MESSAGE`, whose lines after the first become
/// continuation entries.
pub(crate) fn head_from(
    shape: Shape,
    realtime: Option<&str>,
    host: Option<String>,
    ident: Option<String>,
    pid: Option<&str>,
    message: &str,
) -> Head<'static> {
    let h = head_of(
        shape,
        realtime,
        host.map(Cow::Owned),
        ident.map(Cow::Owned),
        pid,
        message,
        false,
    );
    h.owned_at(realtime_of(realtime))
}

/// The time `__REALTIME_TIMESTAMP` gives.
fn realtime_of(realtime: Option<&str>) -> RawTime<'static> {
    realtime
        .and_then(epoch_micros)
        .map_or(RawTime::None, RawTime::EpochMicros)
}

/// `text` read as an `i64` as `str::parse` reads it. Sixteen plain digits (journal times from
/// 2001 to 2286) are read eight at a time, up to 18 (any time until the year 33658) one at a
/// time; anything else goes through `parse`.
fn epoch_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if let (Some(hi), Some(lo)) = (eight_digits(b.get(..8)), eight_digits(b.get(8..))) {
        return Some(hi * 100_000_000 + lo);
    }
    if !b.is_empty() && b.len() <= 18 {
        let mut n = 0i64;
        for &d in b {
            let v = d.wrapping_sub(b'0');
            if v > 9 {
                return text.parse().ok();
            }
            n = n * 10 + i64::from(v);
        }
        return Some(n);
    }
    text.parse().ok()
}

/// The value of exactly eight ASCII digits, read in one `u64`.
fn eight_digits(b: Option<&[u8]>) -> Option<i64> {
    let mut word = [0u8; 8];
    word.copy_from_slice(b.filter(|b| b.len() == 8)?);
    let w = u64::from_le_bytes(word);
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 keeps it 3.
    let high = 0xF0F0_F0F0_F0F0_F0F0u64;
    if w & high != 0x3030_3030_3030_3030
        || w.wrapping_add(0x0606_0606_0606_0606) & high != 0x3030_3030_3030_3030
    {
        return None;
    }
    // The first digit is the lowest byte: pair up digits, then pairs, then quads.
    let d = w - 0x3030_3030_3030_3030;
    let pairs = (d * 10 + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    let all = (quads * 10_000 + (quads >> 32)) & 0xFFFF_FFFF;
    i64::try_from(all).ok()
}

/// [`head_from`] borrowing the fields and the message where it can.
#[inline(always)]
fn head_of<'a>(
    shape: Shape,
    realtime: Option<&str>,
    host: Option<Cow<'a, str>>,
    ident: Option<Cow<'a, str>>,
    pid: Option<&str>,
    message: &'a str,
    plain: bool,
) -> Head<'a> {
    let mut h = Head::new(shape, realtime_of(realtime));
    // Most messages are one line, which `lines()` would give back whole (a lone `\r` ends no
    // line): always one that was a plain JSON string (it holds no control character), else one
    // without `\n`.
    let one_line = plain || memchr::memchr(b'\n', message.as_bytes()).is_none();
    if one_line {
        inner::apply(&mut h, message);
    } else {
        let mut lines = message.lines();
        inner::apply(&mut h, lines.next().unwrap_or(""));
        h.continuation = lines.map(str::to_string).collect();
    }
    h.host = host;
    h.ident = ident;
    h.pid = pid.and_then(|p| p.parse().ok());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// The parse through a full `serde_json::Map` that `parse` must agree with.
    fn reference(line: &str) -> Option<Head<'_>> {
        if !line.contains("\"__REALTIME_TIMESTAMP\"") && !line.contains("\"MESSAGE\"") {
            return None;
        }
        let obj: Map<String, Value> = serde_json::from_str(line).ok()?;
        if !obj.contains_key("MESSAGE") && !obj.contains_key("__REALTIME_TIMESTAMP") {
            return None;
        }
        let get = |names: &[&str]| names.iter().find_map(|n| obj.get(*n).and_then(text));
        let time = get(&["__REALTIME_TIMESTAMP"])
            .and_then(|t| t.parse().ok())
            .map_or(RawTime::None, RawTime::EpochMicros);
        let mut h = Head::new(Shape::JournalJson, time);
        h.host = get(&["_HOSTNAME"]).map(Cow::Owned);
        h.ident = get(&["SYSLOG_IDENTIFIER", "_COMM"]).map(Cow::Owned);
        h.pid = get(&["_PID", "SYSLOG_PID"]).and_then(|p| p.parse().ok());
        let message = get(&["MESSAGE"]).unwrap_or_default();
        let mut lines = message.lines();
        let mut inner = Head::new(Shape::JournalJson, RawTime::None);
        inner::apply(&mut inner, lines.next().unwrap_or(""));
        let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        h.level = inner.level;
        h.session = inner.session.map(owned);
        h.logger = inner.logger.map(owned);
        h.subagent = inner.subagent;
        h.message = owned(inner.message);
        h.continuation = lines.map(str::to_string).collect();
        Some(h)
    }

    #[test]
    fn field_picking_matches_a_full_map() {
        const SEEDS: [&str; 8] = [
            r#"{"__REALTIME_TIMESTAMP":"1795132800381425","PRIORITY":"6","_PID":"15487","SYSLOG_IDENTIFIER":"python","_HOSTNAME":"gw-1","MESSAGE":"INFO [] agent.x: tool \"y\"\nsecond"}"#,
            r#"{"MESSAGE":[72,105,255],"_PID":7,"_COMM":"py","SYSLOG_IDENTIFIER":null,"MESSAGE":"dup"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1","X":{"a":[1,2.5e3,-7,true,null,{"b":"\u00e9"}]},"MESSAGE":null}"#,
            r#"{"MESS\u0041GE":"escaped key","_HOSTNAME":["h1","h2"],"SYSLOG_PID":"12"}"#,
            r#"{"__REALTIME_TIMESTAMP":"2","BIG":1e999,"MESSAGE":"m"}"#,
            r#"{"__REALTIME_TIMESTAMP":"3","S":"\ud800","MESSAGE":"m"}"#,
            r#"["MESSAGE","__REALTIME_TIMESTAMP"]"#,
            r#"{"MESSAGE":"WARNING [s] a.b: Retrying API call in 2s"} trailing"#,
        ];
        const ALPHABET: &[char] = &[
            '"', '\\', '{', '}', '[', ']', ':', ',', '0', '9', 'e', '-', '.', 'u', 'n', ' ', 'M',
            'é', '\u{1}', 'r',
        ];
        let mut m = crate::parse::mutate::Mutator::new(0x2545_F491_4F6C_DD1D, ALPHABET);
        let mut ok = 0;
        let inputs = m.mutants(&SEEDS, 40_000, 3);
        for line in &inputs {
            let (new, old) = (parse(line), reference(line));
            ok += usize::from(new.is_some());
            assert_eq!(format!("{new:?}"), format!("{old:?}"), "{line}");
        }
        assert!(ok > 5_000 && ok < 40_000, "parsed: {ok}");
    }

    /// Flat entries as journalctl writes them, and near misses of every kind.
    fn flat_inputs() -> Vec<String> {
        const SEEDS: [&str; 11] = [
            r#"{"__REALTIME_TIMESTAMP":"1795132800381425","PRIORITY":"6","_PID":"15487","SYSLOG_IDENTIFIER":"python","_HOSTNAME":"gw-1","_SYSTEMD_UNIT":"hermes-gateway.service","MESSAGE":"INFO [] agent.tool_executor: tool terminal completed in 7.82s (18185 chars)"}"#,
            r#"{"MESSAGE":"INFO gateway.run:\r","_PID":"2"}"#,
            r#"{"MESSAGE":"WARNING gateway.run: a\r\nb\r","_PID":"2"}"#,
            r#"{"__REALTIME_TIMESTAMP":"1795132801354469","_PID":"15487","MESSAGE":"INFO httpx: HTTP Request: POST https:\/\/x \"HTTP/1.1 200 OK\"\n\tat \\b\f\r\b"}"#,
            r#"{"MESS\u0041GE":"caf\u00e9 \u20ac \u0000","_HOST\u004eAME":"h\u0031","_PID":"\u0037"}"#,
            r#"{"MESSAGE":"pair \ud83d\ude42 lone \udc00 end","SYSLOG_PID":"3"}"#,
            r#"{ "MESSAGE" : "WARNING run_agent: Retrying API call in 2s" , "_COMM":"hermes", "SYSLOG_PID":"9" }  "#,
            r#"{"MESSAGE":"first","MESSAGE":"second","_PID":"1","_PID":"x"}"#,
            r#"{"__REALTIME_TIMESTAMP":"5","MESSAGE":"é ✓ 🙂"}"#,
            "{\t\"MESSAGE\":\"tab\"\r}",
            r#"{}"#,
        ];
        const ALPHABET: &[char] = &[
            '"', '\\', '{', '}', ':', ',', ' ', '\t', '\u{1}', '\u{7f}', '0', 'M', 'é', '[', 'n',
            'u', 'd', '8', 'f', '/', 'x', 'r',
        ];
        let mut m = crate::parse::mutate::Mutator::new(0x9E37_79B9_7F4A_7C15, ALPHABET);
        m.mutants(&SEEDS, 40_000, 3)
    }

    #[test]
    fn epoch_micros_reads_what_parse_reads() {
        const SEEDS: [&str; 6] = [
            "1795132800381425",
            "999999999999999999",
            "9223372036854775807",
            "+17",
            "-0",
            "",
        ];
        const ALPHABET: &[char] = &['0', '1', '9', '+', '-', ' ', 'x', 'é'];
        let mut m = crate::parse::mutate::Mutator::new(0x0BAD_5EED_1234_5678, ALPHABET);
        for t in m.mutants(&SEEDS, 20_000, 3) {
            assert_eq!(epoch_micros(&t), t.parse::<i64>().ok(), "{t:?}");
        }
        for n in [
            "0",
            "000000000000000000",
            "1",
            "123456789012345678",
            "0000000000000000",
            "9999999999999999",
            "1234567890123456",
            "1795132800381425",
            "1795132800381425/",
            "179513280038142:",
            "/795132800381425",
        ] {
            assert_eq!(epoch_micros(n), n.parse::<i64>().ok(), "{n:?}");
        }
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut m = crate::parse::mutate::Mutator::new(0x1234_5678_9ABC_DEF1, &['a']);
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xe9, 0xff,
        ];
        for len in 0..80 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        let c = alphabet[m.below(alphabet.len())];
                        if m.below(4) == 0 {
                            c
                        } else {
                            b'a' + (c % 26)
                        }
                    })
                    .collect();
                assert_eq!(string_stop(&bytes), naive(&bytes), "{bytes:?}");
                assert_eq!(string_stop_words(&bytes), naive(&bytes), "{bytes:?}");
            }
        }
    }

    #[test]
    fn flat_reading_agrees_with_serde() {
        let (mut flat_ok, mut decoded) = (0, 0);
        for line in flat_inputs() {
            let (new, old) = (parse(&line), reference(&line));
            assert_eq!(format!("{new:?}"), format!("{old:?}"), "{line}");
            let Some(f) = flat(&line) else { continue };
            flat_ok += 1;
            decoded += usize::from(matches!(f.message, Some(Cow::Owned(_))));
            // What the hand reader accepts, serde_json accepts with the same fields.
            let e: Entry = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
            let text = |v: &Option<Value>| v.as_ref().and_then(super::text);
            let pairs = [
                (f.realtime, text(&e.realtime)),
                (f.hostname, text(&e.hostname)),
                (f.syslog_identifier, text(&e.syslog_identifier)),
                (f.comm, text(&e.comm)),
                (f.pid, text(&e.pid)),
                (f.syslog_pid, text(&e.syslog_pid)),
                (f.message, text(&e.message)),
            ];
            for (a, b) in pairs {
                assert_eq!(a.map(Cow::into_owned), b, "{line}");
            }
        }
        assert!(
            flat_ok > 5_000 && flat_ok < 40_000,
            "read by hand: {flat_ok}"
        );
        assert!(decoded > 1_000, "decoded by hand: {decoded}");
    }

    #[test]
    fn plain_entries_read_as_string_by_string() {
        let mut plain = 0;
        let mut inputs = flat_inputs();
        // Entries as journalctl writes them, of every length around the 64-byte blocks.
        for n in 0..64 {
            let pad = "x".repeat(n);
            inputs.push(format!(
                r#"{{"_PID":"{n}","MESSAGE":"{pad}","__CURSOR":"s=1;i={pad}","_HOSTNAME":"h"}}"#
            ));
            inputs.push(format!(r#"{{"MESSAGE":"{pad}é"}}"#));
            inputs.push(format!(r#"{{"{pad}":"{pad}","MESSAGE":"m{pad}"}}"#));
        }
        for line in &inputs {
            let Some(fast) = plain_spans(line) else {
                continue;
            };
            plain += 1;
            assert_eq!(
                format!("{:?}", Some(fast)),
                format!("{:?}", spans(line)),
                "{line}"
            );
        }
        assert!(plain > 2_000, "read from its quotes: {plain}");
    }

    #[test]
    fn message_variants() {
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1778280068000000","_PID":"7","SYSLOG_IDENTIFIER":["python","x"],"MESSAGE":[72,105,255]}"#).unwrap();
        assert_eq!(h.message, "Hi\u{fffd}");
        assert_eq!((h.pid, h.ident.as_deref()), (Some(7), Some("python")));
        assert_eq!(h.time, RawTime::EpochMicros(1_778_280_068_000_000));
        // A lone `\r` ends no line (`lines()`); `\r\n` does.
        for (line, logger) in [
            (r#"{"MESSAGE":"INFO gateway.run:\r"}"#, None),
            (
                r#"{"MESSAGE":"INFO gateway.run:\r\n"}"#,
                Some("gateway.run"),
            ),
            (
                r#"{"MESSAGE":"INFO gateway.run:","X":1}"#,
                Some("gateway.run"),
            ),
        ] {
            let h = parse(line).unwrap();
            assert_eq!(h.logger.as_deref(), logger, "{line}");
            assert_eq!(
                format!("{h:?}"),
                format!("{:?}", reference(line).unwrap()),
                "{line}"
            );
        }
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":null}"#).unwrap();
        assert_eq!(h.message, "");
        assert!(parse(r#"{"event":"profile_rotation"}"#).is_none());
        assert!(parse(r#"{"MESSAGE":"trunc"#).is_none());
    }
}

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
/// skipped without being built.
#[derive(Default)]
struct Entry {
    realtime: Option<Value>,
    hostname: Option<Value>,
    syslog_identifier: Option<Value>,
    comm: Option<Value>,
    pid: Option<Value>,
    syslog_pid: Option<Value>,
    message: Option<Value>,
}

impl<'de> Deserialize<'de> for Entry {
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
            let slot = match key.as_ref() {
                "__REALTIME_TIMESTAMP" => &mut e.realtime,
                "_HOSTNAME" => &mut e.hostname,
                "SYSLOG_IDENTIFIER" => &mut e.syslog_identifier,
                "_COMM" => &mut e.comm,
                "_PID" => &mut e.pid,
                "SYSLOG_PID" => &mut e.syslog_pid,
                "MESSAGE" => &mut e.message,
                _ => {
                    map.next_value::<Skip>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<Value>()?);
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

/// Parse one journal JSON entry; other JSON (an application's own structured line) is not a
/// journal entry and stays bare.
pub(crate) fn parse(line: &str) -> Option<Head<'static>> {
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
    let time = realtime
        .and_then(|t| t.parse().ok())
        .map_or(RawTime::None, RawTime::EpochMicros);
    let mut h = Head::new(shape, time);
    h.host = host.map(Cow::Owned);
    h.ident = ident.map(Cow::Owned);
    h.pid = pid.and_then(|p| p.parse().ok());
    let mut lines = message.lines();
    let mut inner = Head::new(shape, RawTime::None);
    inner::apply(&mut inner, lines.next().unwrap_or(""));
    let owned = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
    h.level = inner.level;
    h.session = inner.session.map(owned);
    h.logger = inner.logger.map(owned);
    h.subagent = inner.subagent;
    h.message = owned(inner.message);
    h.continuation = lines.map(str::to_string).collect();
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
            'é', '\u{1}',
        ];
        let mut m = crate::parse::mutate::Mutator::new(0x2545_F491_4F6C_DD1D, ALPHABET);
        let mut ok = 0;
        let mut inputs: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
        for _ in 0..40_000 {
            let mut chars: Vec<char> = SEEDS[m.below(SEEDS.len())].chars().collect();
            let edits = m.below(3);
            m.edit(&mut chars, edits);
            inputs.push(chars.into_iter().collect());
        }
        for line in &inputs {
            let (new, old) = (parse(line), reference(line));
            ok += usize::from(new.is_some());
            assert_eq!(format!("{new:?}"), format!("{old:?}"), "{line}");
        }
        assert!(ok > 5_000 && ok < 40_000, "parsed: {ok}");
    }

    #[test]
    fn message_variants() {
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1778280068000000","_PID":"7","SYSLOG_IDENTIFIER":["python","x"],"MESSAGE":[72,105,255]}"#).unwrap();
        assert_eq!(h.message, "Hi\u{fffd}");
        assert_eq!((h.pid, h.ident.as_deref()), (Some(7), Some("python")));
        assert_eq!(h.time, RawTime::EpochMicros(1_778_280_068_000_000));
        let h = parse(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":null}"#).unwrap();
        assert_eq!(h.message, "");
        assert!(parse(r#"{"event":"profile_rotation"}"#).is_none());
        assert!(parse(r#"{"MESSAGE":"trunc"#).is_none());
    }
}

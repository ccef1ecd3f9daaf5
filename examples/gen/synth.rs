//! Synthetic Hermes traffic: a deterministic generator of realistic logs with injected
//! incidents and their ground truth.
//!
//! The output interleaves many gateway chats and sessions turn by turn, with tool and
//! housekeeping noise in realistic proportion and successful `API call #N` lines. Every
//! `incident_every` turns an incident is injected: a recorded failure (or healthy) shape taken
//! from the rule fixtures, re-timed to the current clock, with fresh session tags and shifted
//! `resets_at` epochs. The clock idles before an incident (so open requests close) and jumps
//! five hours after it (so cooldowns expire and incidents do not interact). Each incident is
//! recorded in the ground truth with the findings it must produce (none for healthy shapes).
//!
//! The same record stream is rendered as agent.log, `journalctl -o short-iso` or
//! `journalctl -o json` (the file-log line becomes the journal message, as the gateway's
//! stderr handler writes it).
//!
//! Some shapes need the pool's configuration besides the log: [`auth_snapshot`] is the
//! auth.json of the generated gateway, written when the traffic starts, and the ground truth
//! assumes the analysis is given it. It configures the pool the priority and rotation shapes
//! run on ([`SNAPSHOT_POOL`], three entries, strategy fill_first by default) and carries one
//! entry left `exhausted` after its reset: the `stale-exhaustion` incident, which lives in the
//! snapshot only (the rule reads auth.json snapshots, no log line can show it).

use std::io::{self, Write};

/// Output line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    AgentLog,
    JournalShortIso,
    JournalJson,
}

impl Format {
    /// Parse the `--format` value.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "agent-log" => Some(Format::AgentLog),
            "journal-short-iso" => Some(Format::JournalShortIso),
            "journal-json" => Some(Format::JournalJson),
            _ => None,
        }
    }
}

/// Traffic mix: what the clean traffic between incidents looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Interleaved chats: a dozen to two dozen open sessions, one to four calls per turn, about
    /// 87% of the lines tool and housekeeping noise.
    Default,
    /// As `default`, but every turn's first call fails with a transient `HTTP 503` that Hermes
    /// retries on the same credential after a short backoff, and the retry succeeds: a healthy
    /// recovery no rule reports.
    FailRecover,
    /// As `default`, but every turn runs on a new session tag, never seen before.
    Sessions,
    /// As `default`, with ten times the noise between turns: about 5% of the lines (at most 15%)
    /// say something about requests.
    Quiet,
}

impl Mix {
    /// Parse the `--mix` value.
    pub fn parse(s: &str) -> Option<Mix> {
        match s {
            "default" => Some(Mix::Default),
            "fail-recover" => Some(Mix::FailRecover),
            "sessions" => Some(Mix::Sessions),
            "quiet" => Some(Mix::Quiet),
            _ => None,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    pub seed: u64,
    /// Stop after the first turn that reaches this many bytes.
    pub size: u64,
    /// Inject an incident every this many turns.
    pub incident_every: u64,
}

/// One injected incident: the findings it must produce, where it is in the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    /// Template name.
    pub name: &'static str,
    /// Rules that must report it (empty for healthy shapes).
    pub rules: Vec<&'static str>,
    /// Session tags of the incident, in order of first appearance.
    pub sessions: Vec<String>,
    /// First and last output line of the incident (1-based, inclusive; `(0, 0)` for an
    /// incident that lives in the auth snapshot only).
    pub lines: (u64, u64),
    /// Labels of the auth snapshot entries the incident is about.
    pub entries: Vec<String>,
}

impl Injected {
    /// The ground-truth NDJSON line.
    pub fn to_json(&self) -> String {
        let quote = |s: &str| format!("\"{s}\"");
        let rules: Vec<String> = self.rules.iter().map(|r| quote(r)).collect();
        let sessions: Vec<String> = self.sessions.iter().map(|s| quote(s)).collect();
        let entries: Vec<String> = self.entries.iter().map(|s| quote(s)).collect();
        format!(
            "{{\"incident\":\"{}\",\"rules\":[{}],\"sessions\":[{}],\"first_line\":{},\"last_line\":{}{}}}",
            self.name,
            rules.join(","),
            sessions.join(","),
            self.lines.0,
            self.lines.1,
            if entries.is_empty() {
                String::new()
            } else {
                format!(",\"auth_entries\":[{}]", entries.join(","))
            }
        )
    }
}

/// An incident shape: a recorded log excerpt and what the analyzer must report about it.
struct Shape {
    name: &'static str,
    /// agent.log text of the excerpt (fixtures).
    text: &'static str,
    /// Rules that must report it (empty for healthy shapes).
    rules: &'static [&'static str],
    /// Provider renamed in this excerpt: a fallback scenario runs on a provider without a
    /// credential pool, as in the recording (the pool scenarios use `openai-codex`); a scenario
    /// that needs the configured pool runs on [`SNAPSHOT_POOL`]; one whose pool must not meet
    /// the others' entries runs on a provider of its own.
    rename: Option<(&'static str, &'static str)>,
    /// A request of the excerpt fails on a quota or rate limit without falling back: once a
    /// fallback chain is seen anywhere in the input, `fallback-not-activated` reports it too.
    quota_failure: bool,
}

const INCIDENTS: &[Shape] = &[
    Shape {
        name: "shared-retry-budget",
        text: include_str!("../../fixtures/corpus/real-0.19.0-shared-retry-budget/logs/agent.log"),
        rules: &["shared-retry-budget"],
        rename: None,
        quota_failure: true,
    },
    Shape {
        name: "healthy-rotation",
        text: include_str!("../../fixtures/corpus/real-0.19.0-healthy-rotation/logs/agent.log"),
        rules: &[],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "silent-rotation",
        text: include_str!("../../fixtures/rules/rotate-then-succeed/silent.log"),
        rules: &["silent-rotation"],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "rotate-then-succeed",
        text: include_str!("../../fixtures/rules/rotate-then-succeed/healthy.log"),
        rules: &[],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "wait-on-benched-seat",
        text: include_str!("../../fixtures/rules/wait-on-benched-seat/benched.log"),
        rules: &[
            "pool-exhausted",
            "retry-on-cooled-profile",
            "wait-on-benched-seat",
        ],
        rename: None,
        quota_failure: true,
    },
    Shape {
        name: "honoured-retry-after",
        text: include_str!("../../fixtures/rules/wait-on-benched-seat/honoured-retry-after.log"),
        rules: &[],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "fallback-to-same-backend",
        text: include_str!("../../fixtures/rules/fallback-to-same-backend/same-model.log"),
        rules: &["fallback-to-same-backend"],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "fallback-to-other-model",
        text: include_str!("../../fixtures/rules/fallback-to-same-backend/other-model.log"),
        rules: &[],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "rotation-on-transient-error",
        text: include_str!("../../fixtures/rules/per-profile-retry-budget/rotated.log"),
        rules: &["rotation-on-transient-error"],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "rotate-cap-exceeded",
        text: include_str!("../../fixtures/rules/rotate-cap-honored/exceeded.log"),
        rules: &["pool-exhausted", "retry-on-cooled-profile"],
        rename: None,
        quota_failure: true,
    },
    Shape {
        name: "fill-first-picks-cooled",
        text: include_str!("../../fixtures/rules/fill-first-still-works/picks-cooled.log"),
        rules: &["retry-on-cooled-profile"],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "restored-into-quota",
        text: include_str!("../../fixtures/rules/false-restore/restored-into-quota.log"),
        rules: &[
            "false-restore",
            "premature-restore",
            "retry-on-cooled-profile",
        ],
        rename: Some(("openai-codex", "copilot")),
        quota_failure: false,
    },
    Shape {
        name: "restored-after-reset",
        text: include_str!("../../fixtures/rules/premature-restore/restored-after-reset.log"),
        rules: &[],
        rename: Some(("openai-codex", "copilot")),
        quota_failure: false,
    },
    Shape {
        name: "fallback-flapping",
        text: include_str!("../../fixtures/rules/fallback-flapping/flapping.log"),
        rules: &[
            "fallback-flapping",
            "false-restore",
            "premature-restore",
            "retry-on-cooled-profile",
        ],
        rename: Some(("openai-codex", "copilot")),
        quota_failure: false,
    },
    Shape {
        name: "missed-rotation",
        text: include_str!("../../fixtures/rules/missed-rotation/same-account.log"),
        rules: &["missed-rotation", "retry-on-cooled-profile"],
        rename: Some(("openai-codex", SNAPSHOT_POOL)),
        quota_failure: false,
    },
    Shape {
        name: "premature-fallback",
        text: include_str!("../../fixtures/rules/premature-fallback/untried-profile.log"),
        rules: &["premature-fallback"],
        rename: Some(("openai-codex", SNAPSHOT_POOL)),
        quota_failure: false,
    },
    Shape {
        name: "fill-first-skips-priority",
        text: include_str!("../../fixtures/rules/fill-first-still-works/skips-priority.log"),
        rules: &["strategy-violation"],
        rename: Some(("openai-codex", SNAPSHOT_POOL)),
        quota_failure: false,
    },
    Shape {
        name: "misattributed-exhaustion",
        text: include_str!("../../fixtures/rules/misattributed-exhaustion/fallback-429.log"),
        rules: &["misattributed-exhaustion"],
        rename: Some(("openai-codex", "xai")),
        quota_failure: false,
    },
    Shape {
        name: "quota-reported-as-auth",
        text: include_str!("../../fixtures/rules/quota-reported-as-auth/gateway-quota-as-auth.log"),
        rules: &["quota-reported-as-auth"],
        rename: None,
        quota_failure: false,
    },
    Shape {
        name: "client-defect-blamed-on-credential",
        text: include_str!(
            "../../fixtures/corpus/openrouter-empty-key-401-exhausts-pool/input.log"
        ),
        rules: &["client-defect-blamed-on-credential", "pool-exhausted"],
        rename: None,
        quota_failure: false,
    },
];

/// Provider of the pool configured by [`auth_snapshot`] (the shapes that need priorities or
/// the pool's size run on it; no other traffic uses it).
pub const SNAPSHOT_POOL: &str = "anthropic";

/// Provider of the snapshot pool with the stale entry (no traffic uses it).
const STALE_POOL: &str = "gemini";

/// The snapshot entry left exhausted after its reset.
const STALE_ENTRY: &str = "gemini-oauth-1";

/// Number of incident shapes: the log shapes (a run of `count * incident_every` turns injects
/// each once) and the stale snapshot entry.
pub fn incident_count() -> usize {
    INCIDENTS.len() + 1
}

/// Clock of the first line: 2026-11-20 00:00:00 UTC, epoch milliseconds.
fn start_ms() -> i64 {
    days_from_civil(2026, 11, 20) * 86_400_000
}

/// The auth.json of the generated gateway, as written when the traffic starts (same for every
/// format and seed): [`SNAPSHOT_POOL`] with three healthy entries of priority 0, 1, 2, and a
/// [`STALE_POOL`] of two entries, the first still `exhausted` an hour after its reset when
/// `injected` holds the stale-exhaustion incident (clean traffic comes with a clean snapshot).
pub fn auth_snapshot(injected: &[Injected]) -> String {
    let stale = injected
        .iter()
        .any(|i| i.entries.iter().any(|e| e == STALE_ENTRY));
    let start = start_ms() / 1000;
    let entry = |id: &str, label: &str, priority: u32, exhausted: Option<i64>| {
        let state = match exhausted {
            Some(reset) => format!(
                "\"last_status\": \"exhausted\", \"last_status_at\": {}.5, \"last_error_code\": 429, \"last_error_reason\": \"usage_limit_reached\", \"last_error_message\": \"The usage limit has been reached\", \"last_error_reset_at\": {reset}.0",
                reset - 3600
            ),
            None => "\"last_status\": null, \"last_status_at\": null, \"last_error_code\": null, \"last_error_reason\": null, \"last_error_message\": null, \"last_error_reset_at\": null".to_string(),
        };
        let secret = label.to_ascii_uppercase().replace('-', "_");
        format!(
            "      {{\"id\": \"{id}\", \"label\": \"{label}\", \"auth_type\": \"oauth\", \"priority\": {priority}, \"source\": \"{}\",\n       \"access_token\": \"eyJhbGciOiJSUzI1NiJ9.FAKESECRET-{secret}.c2ln\", \"refresh_token\": \"rt_FAKESECRET_{secret}_0123456789\",\n       {state}, \"request_count\": {}}}",
            if priority == 0 { "device_code" } else { "manual:device_code" },
            10 + priority * 7
        )
    };
    let (y, m, d) = civil_from_days(start.div_euclid(86_400));
    let sod = start.rem_euclid(86_400);
    format!(
        "{{\n  \"version\": 1,\n  \"providers\": {{}},\n  \"credential_pool\": {{\n    \"{SNAPSHOT_POOL}\": [\n{},\n{},\n{}\n    ],\n    \"{STALE_POOL}\": [\n{},\n{}\n    ]\n  }},\n  \"updated_at\": \"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000+00:00\"\n}}\n",
        entry("a1a1a1", &format!("{SNAPSHOT_POOL}-oauth-1"), 0, None),
        entry("b2b2b2", &format!("{SNAPSHOT_POOL}-oauth-2"), 1, None),
        entry("c3c3c3", &format!("{SNAPSHOT_POOL}-oauth-3"), 2, None),
        entry("d4d4d4", STALE_ENTRY, 0, stale.then_some(start - 3600)),
        entry("e5e5e5", &format!("{STALE_POOL}-oauth-2"), 1, None),
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `YYYY-MM-DD HH:MM:SS,mmm ` at the start of an agent.log line → (epoch ms, rest).
fn split_stamp(line: &str) -> Option<(i64, &str)> {
    let num = |a: usize, b: usize| line.get(a..b)?.parse::<i64>().ok();
    let days = days_from_civil(num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let secs = days * 86_400 + num(11, 13)? * 3600 + num(14, 16)? * 60 + num(17, 19)?;
    let ms = num(20, 23)?;
    Some((secs * 1000 + ms, line.get(24..)?))
}

/// A session tag `YYYYMMDD_HHMMSS_hex` at the start of `s`: its length.
fn sid_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..8) && b.get(8) == Some(&b'_') && digits(9..15) && b.get(15) == Some(&b'_')) {
        return None;
    }
    let hex = b
        .get(16..)?
        .iter()
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    (hex >= 6).then_some(16 + hex)
}

/// A re-timable incident: lines as (offset ms from the first line, text after the stamp).
struct Template {
    shape: &'static Shape,
    lines: Vec<(i64, String)>,
    /// Epoch seconds of the first line (to shift `resets_at` values).
    start_s: i64,
    /// Session tags in order of appearance.
    sids: Vec<String>,
}

impl Template {
    fn new(shape: &'static Shape) -> Template {
        let stamped: Vec<(i64, &str)> = shape.text.lines().filter_map(split_stamp).collect();
        let start = stamped.first().map_or(0, |l| l.0);
        let mut sids: Vec<String> = Vec::new();
        for (_, rest) in &stamped {
            let mut i = 0;
            while let Some(pos) = rest
                .get(i..)
                .and_then(|r| r.find(|c: char| c.is_ascii_digit()))
            {
                let at = i + pos;
                match rest.get(at..).and_then(sid_len) {
                    Some(n) => {
                        let sid = &rest[at..at + n];
                        if !sids.iter().any(|s| s == sid) {
                            sids.push(sid.to_string());
                        }
                        i = at + n;
                    }
                    None => i = at + 1,
                }
            }
        }
        let rename = |r: &str| match shape.rename {
            Some((from, to)) => r.replace(from, to),
            None => r.to_string(),
        };
        Template {
            shape,
            lines: stamped
                .iter()
                .map(|(t, r)| (t - start, rename(r)))
                .collect(),
            start_s: start.div_euclid(1000),
            sids,
        }
    }
}

/// Shift every `'resets_at': N` epoch by `delta` seconds.
fn shift_resets(text: &str, delta: i64) -> String {
    const KEY: &str = "'resets_at': ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..n].parse::<i64>() {
            Ok(v) => out.push_str(&(v + delta).to_string()),
            Err(_) => out.push_str(&rest[..n]),
        }
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

/// A provider with a model and base URL, as clean traffic uses them.
const BACKENDS: &[(&str, &str, &str)] = &[
    (
        "openai-codex",
        "gpt-5.5",
        "https://chatgpt.com/backend-api/codex",
    ),
    (
        "openrouter",
        "anthropic/claude-sonnet-4.6",
        "https://openrouter.ai/api/v1",
    ),
    (
        "zai",
        "glm-5.1",
        "https://open.bigmodel.cn/api/coding/paas/v4",
    ),
    (
        "nous",
        "Hermes-4-405B",
        "https://inference-api.nousresearch.com/v1",
    ),
];

const PLATFORMS: &[&str] = &["telegram", "discord", "slack", "cli"];

const TOOLS: &[&str] = &[
    "web_search",
    "terminal",
    "read_file",
    "write_file",
    "browser_navigate",
    "memory",
    "todo",
    "vision_analyze",
];

const PROMPTS: &[&str] = &[
    "summarize the thread",
    "what changed in the build?",
    "book a table for two",
    "translate this to French",
    "check the nightly job",
    "draft a reply",
];

/// One open chat.
struct Session {
    sid: String,
    backend: usize,
    platform: &'static str,
    chat: u64,
    user: u64,
    turns: u32,
}

/// The generator state.
struct Gen<'w> {
    out: &'w mut dyn Write,
    format: Format,
    rng: Rng,
    /// Clock, epoch milliseconds.
    now: i64,
    line: u64,
    bytes: u64,
    /// Cached formatted second (`now / 1000`) and its text.
    stamp_s: i64,
    stamp: String,
    buf: String,
    sessions: Vec<Session>,
    thread: u64,
    pid: u32,
    mix: Mix,
    /// Sessions opened so far (the `sessions` mix numbers its tags with it).
    opened: u64,
    /// Last `__REALTIME_TIMESTAMP` written (microseconds): journald stamps entries in the
    /// order it receives them, so the stamps of a stream never go backwards.
    last_us: i64,
    /// What a journal entry carries besides its message and time (journal json only).
    journal: Journal,
}

/// The journal's side of a `-o json` entry: the fields journald gives every line a service
/// writes to its standard output, which `journalctl -o json` prints in an order of its own for
/// each entry (as the real captures under `fixtures/captured/*/journal/` show: systemd 252,
/// these 17 fields on every entry). Drawn from an RNG of its own, so an entry's fields and
/// their order leave the traffic (and its ground truth) as in the other formats.
struct Journal {
    rng: Rng,
    /// Seqnum id, boot id and stream id: 32 hex digits each.
    seqnum_id: String,
    boot_id: String,
    stream_id: String,
    /// Entries written so far (the cursor's `i=`).
    seqnum: u64,
    /// Boot time, epoch microseconds (`__MONOTONIC_TIMESTAMP` counts from it).
    boot_us: i64,
    /// The fields' order, shuffled for each entry.
    order: [JournalField; 17],
}

/// A field of an entry: one of the same text on every entry (`"KEY":"value"`), or one whose
/// value the entry gives.
#[derive(Clone, Copy)]
enum JournalField {
    Fixed(&'static str),
    Monotonic,
    Message,
    Pid,
    BootId,
    Realtime,
    StreamId,
    Cursor,
}

impl Journal {
    fn new(seed: u64, now_ms: i64) -> Journal {
        let mut rng = Rng(seed ^ 0x6a6f_7572_6e61_6c00);
        let hex32 = |rng: &mut Rng| format!("{:016x}{:016x}", rng.next(), rng.next());
        let seqnum_id = hex32(&mut rng);
        let boot_id = hex32(&mut rng);
        let stream_id = hex32(&mut rng);
        // Up for somewhere between an hour and three days.
        let boot_us = now_ms * 1000 - 3_600_000_000 - rng.below(255_600_000_000) as i64;
        use JournalField::*;
        Journal {
            rng,
            seqnum_id,
            boot_id,
            stream_id,
            seqnum: 0,
            boot_us,
            order: [
                Fixed(r#""_TRANSPORT":"stdout""#),
                Monotonic,
                Message,
                Fixed(r#""_UID":"1000""#),
                Fixed(r#""SYSLOG_FACILITY":"3""#),
                Pid,
                Fixed(r#""_SYSTEMD_UNIT":"hermes-gateway.service""#),
                BootId,
                Fixed(r#""_EXE":"/usr/bin/python3.11""#),
                Fixed(r#""_HOSTNAME":"gw-1""#),
                Fixed(r#""_COMM":"python""#),
                Realtime,
                Fixed(r#""SYSLOG_IDENTIFIER":"python""#),
                Fixed(r#""_GID":"1000""#),
                StreamId,
                Fixed(r#""PRIORITY":"6""#),
                Cursor,
            ],
        }
    }

    /// Write the entry of `message` (escaped here) stamped `us` into `buf`.
    fn entry(&mut self, buf: &mut String, us: i64, pid: u32, message: &str) {
        use std::fmt::Write as _;
        self.seqnum += 1;
        for i in (1..self.order.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            self.order.swap(i, j);
        }
        let mono = us - self.boot_us;
        buf.push('{');
        for (k, field) in self.order.iter().enumerate() {
            if k > 0 {
                buf.push(',');
            }
            let _ = match field {
                JournalField::Fixed(text) => {
                    buf.push_str(text);
                    Ok(())
                }
                JournalField::Monotonic => write!(buf, "\"__MONOTONIC_TIMESTAMP\":\"{mono}\""),
                JournalField::Message => {
                    buf.push_str("\"MESSAGE\":\"");
                    json_escape(buf, message);
                    buf.push('"');
                    Ok(())
                }
                JournalField::Pid => write!(buf, "\"_PID\":\"{pid}\""),
                JournalField::BootId => write!(buf, "\"_BOOT_ID\":\"{}\"", self.boot_id),
                JournalField::Realtime => write!(buf, "\"__REALTIME_TIMESTAMP\":\"{us}\""),
                JournalField::StreamId => write!(buf, "\"_STREAM_ID\":\"{}\"", self.stream_id),
                JournalField::Cursor => write!(
                    buf,
                    "\"__CURSOR\":\"s={};i={:x};b={};m={mono:x};t={us:x};x={:016x}\"",
                    self.seqnum_id,
                    self.seqnum,
                    self.boot_id,
                    // The entry's hash: any 64 bits.
                    self.rng.next()
                ),
            };
        }
        buf.push_str("}\n");
    }
}

/// `text` as the inside of a JSON string, as journalctl escapes it.
fn json_escape(buf: &mut String, text: &str) {
    use std::fmt::Write as _;
    for c in text.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => buf.push(c),
        }
    }
}

impl Gen<'_> {
    /// Write one record: `rest` is what follows the timestamp in agent.log
    /// (`LEVEL [sid] logger: message`).
    fn emit(&mut self, rest: &str) -> io::Result<()> {
        use std::fmt::Write as _;
        let secs = self.now.div_euclid(1000);
        if secs != self.stamp_s {
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let sod = secs.rem_euclid(86_400);
            self.stamp.clear();
            let _ = write!(
                self.stamp,
                "{y:04}-{m:02}-{d:02}{}{:02}:{:02}:{:02}",
                if self.format == Format::AgentLog {
                    ' '
                } else {
                    'T'
                },
                sod / 3600,
                sod / 60 % 60,
                sod % 60
            );
            self.stamp_s = secs;
        }
        let ms = self.now.rem_euclid(1000);
        self.buf.clear();
        match self.format {
            Format::AgentLog => {
                let _ = writeln!(self.buf, "{},{ms:03} {rest}", self.stamp);
            }
            Format::JournalShortIso => {
                let _ = writeln!(
                    self.buf,
                    "{}+0000 gw-1 python[{}]: {rest}",
                    self.stamp, self.pid
                );
            }
            Format::JournalJson => {
                let us = (self.now * 1000 + self.rng.below(1000) as i64).max(self.last_us + 1);
                self.last_us = us;
                self.journal.entry(&mut self.buf, us, self.pid, rest);
            }
        }
        self.out.write_all(self.buf.as_bytes())?;
        self.line += 1;
        self.bytes += self.buf.len() as u64;
        Ok(())
    }

    /// Advance the clock by `lo..hi` milliseconds.
    fn tick(&mut self, lo: u64, hi: u64) {
        self.now += (lo + self.rng.below(hi - lo)) as i64;
    }

    fn new_sid(&mut self) -> String {
        let secs = self.now.div_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        format!(
            "{y:04}{m:02}{d:02}_{:02}{:02}{:02}_{:06x}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60,
            self.rng.below(1 << 24)
        )
    }

    /// Housekeeping and tool lines that say nothing about requests.
    fn noise(&mut self, n: u64) -> io::Result<()> {
        for _ in 0..n {
            self.tick(5, 400);
            let k = self.rng.below(10);
            let other = self.rng.below(self.sessions.len() as u64) as usize;
            // A session's lines carry its tag; before the first session there is none.
            let tag = self
                .sessions
                .get(other)
                .map_or(String::new(), |s| format!("[{}] ", s.sid));
            let line = match k {
                // The scheduler's verbose tick (`cron/scheduler.py`: `%s - %s job(s) due`, `%s -
                // No jobs due`, the time of day first).
                0 => {
                    let sod = self.now.div_euclid(1000).rem_euclid(86_400);
                    let clock = format!("{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
                    match self.rng.below(3) {
                        0 => format!("INFO cron.scheduler: {clock} - No jobs due"),
                        n => format!("INFO cron.scheduler: {clock} - {n} job(s) due"),
                    }
                }
                1 => "INFO httpx: HTTP Request: POST https://api.telegram.org/bot<redacted>/sendMessage \"HTTP/1.1 200 OK\"".to_string(),
                2 => format!("INFO {tag}tools.terminal_tool: Executing command in /home/hermes/work: git status --short (timeout={}s)", 60 + self.rng.below(120)),
                3 => format!("INFO {tag}agent.tool_executor: tool {} completed in {}.{:02}s ({} chars)", self.rng.pick(TOOLS), self.rng.below(9), self.rng.below(100), 200 + self.rng.below(20_000)),
                4 => format!("DEBUG {tag}agent.context_compressor: context at {}% of 131,072 tokens, no compression needed", 5 + self.rng.below(60)),
                5 => format!("INFO gateway.platforms.{}: delivered message to chat {} ({} chars)", self.rng.pick(PLATFORMS), 100_000 + self.rng.below(900_000), 20 + self.rng.below(3000)),
                6 => format!("INFO {tag}agent.memory: saved {} memory item(s) to MEMORY.md", 1 + self.rng.below(4)),
                7 => "WARNING tools.registry: check_fn check_browser_requirements returned False; dependent tools will be unavailable this turn".to_string(),
                8 => format!("INFO {tag}tools.web_tools: search returned {} results in {}ms", self.rng.below(11), 80 + self.rng.below(2000)),
                _ => format!("DEBUG gateway.session_store: persisted session index ({} entries)", 10 + self.rng.below(500)),
            };
            self.emit(&line)?;
        }
        Ok(())
    }

    /// One successful turn of a random open session.
    fn turn(&mut self) -> io::Result<()> {
        let fresh = self.mix == Mix::Sessions;
        if fresh || self.sessions.len() < 12 || self.rng.below(50) == 0 {
            let sid = if fresh {
                self.numbered_sid()
            } else {
                self.new_sid()
            };
            let s = Session {
                sid,
                backend: self.rng.below(BACKENDS.len() as u64) as usize,
                platform: PLATFORMS[self.rng.below(PLATFORMS.len() as u64) as usize],
                chat: 100_000 + self.rng.below(900_000),
                user: 1_000 + self.rng.below(9_000),
                turns: 0,
            };
            if self.sessions.len() >= 24 {
                let i = self.rng.below(self.sessions.len() as u64) as usize;
                self.sessions.swap_remove(i);
            }
            self.sessions.push(s);
        }
        let i = if fresh {
            self.sessions.len() - 1
        } else {
            self.rng.below(self.sessions.len() as u64) as usize
        };
        let (sid, backend, platform, chat, user, history) = {
            let s = &mut self.sessions[i];
            s.turns += 1;
            (
                s.sid.clone(),
                s.backend,
                s.platform,
                s.chat,
                s.user,
                s.turns * 2 - 2,
            )
        };
        let (provider, model, url) = BACKENDS[backend];
        let prompt = *self.rng.pick(PROMPTS);
        let l = format!("INFO gateway.run: inbound message: platform={platform} user={user} chat={chat} msg='{prompt}'");
        self.emit(&l)?;
        self.tick(20, 200);
        let l = format!("INFO [{sid}] agent.turn_context: conversation turn: session={sid} model={model} provider={provider} platform={platform} history={history} msg='{prompt}'");
        self.emit(&l)?;
        let calls = 1 + self.rng.below(4);
        for call in 1..=calls {
            self.thread += 1;
            let thread = self.thread;
            self.tick(50, 600);
            let l = format!("INFO run_agent: OpenAI client created (chat_completion_stream_request, shared=False) thread=Thread-{thread} (_call):140241177016000 provider={provider} base_url={url} model={model}");
            self.emit(&l)?;
            if call == 1 && self.mix == Mix::FailRecover {
                self.transient_failure(&sid, thread, provider, model, url)?;
            }
            self.tick(300, 4000);
            let l = format!("INFO run_agent: OpenAI client closed (stream_request_complete, shared=False, tcp_force_closed=0) thread=Thread-{thread} (_call):140241177016000 provider={provider} base_url={url} model={model}");
            self.emit(&l)?;
            let (inp, out) = (1_000 + self.rng.below(30_000), 10 + self.rng.below(2_000));
            let l = format!("INFO [{sid}] agent.conversation_loop: API call #{call}: model={model} provider={provider} in={inp} out={out} total={} latency={}.{}s", inp + out, self.rng.below(5), self.rng.below(10));
            self.emit(&l)?;
            if call < calls {
                let tool = *self.rng.pick(TOOLS);
                let l = format!("INFO [{sid}] agent.tool_executor: Executing tool: {tool}");
                self.emit(&l)?;
                let n = 4 + self.rng.below(16);
                self.noise(n)?;
            }
        }
        self.tick(5, 50);
        let l = format!("INFO [{sid}] agent.conversation_loop: Turn ended: reason=text_response(finish_reason=stop) model={model} api_calls={calls}/90 budget={calls}/90 tool_turns={} last_msg_role=assistant response_len={} session={sid}", calls - 1, 20 + self.rng.below(4000));
        self.emit(&l)?;
        self.tick(5, 100);
        let l = format!("INFO gateway.run: response ready: platform={platform} chat={chat} session={sid} time={}.{}s api_calls={calls}", self.rng.below(30), self.rng.below(10));
        self.emit(&l)?;
        Ok(())
    }

    /// A call that fails before delivery with `HTTP 503` and is retried on the same credential
    /// after a short backoff (the retry's client line follows): Hermes' handling of a transient
    /// error, which no rule reports.
    fn transient_failure(
        &mut self,
        sid: &str,
        thread: u64,
        provider: &str,
        model: &str,
        url: &str,
    ) -> io::Result<()> {
        self.tick(100, 900);
        self.emit("INFO agent.chat_completion_helpers: Streaming failed before delivery: Error code: 503 - {'error': {'type': 'overloaded_error', 'message': 'Service Unavailable'}}")?;
        self.tick(2, 10);
        let l = format!("WARNING [{sid}] agent.conversation_loop: API call failed (attempt 1/3) error_type=InternalServerError thread=Thread-{} (run_agent):140241177016001 provider={provider} base_url={url} model={model} summary=HTTP 503: Service Unavailable", thread + 1);
        self.emit(&l)?;
        self.tick(1, 5);
        let wait = (2 + self.rng.below(3), self.rng.below(10));
        let l = format!("WARNING [{sid}] agent.conversation_loop: Retrying API call in {}.{}s (attempt 1/3) thread=Thread-{} (run_agent):140241177016001 provider={provider} base_url={url} model={model} policy=default error=Error code: 503", wait.0, wait.1, thread + 1);
        self.emit(&l)?;
        self.tick(
            wait.0 * 1000 + wait.1 * 100,
            wait.0 * 1000 + wait.1 * 100 + 50,
        );
        let l = format!("INFO run_agent: OpenAI client created (chat_completion_stream_request, shared=False) thread=Thread-{thread} (_call):140241177016000 provider={provider} base_url={url} model={model}");
        self.emit(&l)
    }

    /// A session tag no other turn has: the clock's second and the number of sessions opened.
    fn numbered_sid(&mut self) -> String {
        let secs = self.now.div_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        self.opened += 1;
        format!(
            "{y:04}{m:02}{d:02}_{:02}{:02}{:02}_{:06x}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60,
            self.opened % (1 << 24)
        )
    }

    /// Inject one incident at the current clock; returns its ground truth.
    fn incident(&mut self, t: &Template) -> io::Result<Injected> {
        // Let every open request of the clean traffic close first.
        self.now += 20 * 60 * 1000;
        let start = self.now;
        let delta_s = start.div_euclid(1000) - t.start_s;
        let mut sids = Vec::with_capacity(t.sids.len());
        for (k, _) in t.sids.iter().enumerate() {
            // Keep the tags distinct and ordered like the originals.
            self.now = start + k as i64 * 1000;
            sids.push(self.new_sid());
        }
        let first = self.line + 1;
        for (offset, rest) in &t.lines {
            self.now = start + offset;
            let mut text = shift_resets(rest, delta_s);
            for (old, new) in t.sids.iter().zip(&sids) {
                if text.contains(old.as_str()) {
                    text = text.replace(old.as_str(), new);
                }
            }
            self.emit(&text)?;
        }
        let last = self.line;
        // Cooldowns announced in the incident (four hours) expire before the next one.
        self.now += 5 * 3600 * 1000;
        Ok(Injected {
            name: t.shape.name,
            rules: t.shape.rules.to_vec(),
            sessions: sids,
            lines: (first, last),
            entries: Vec::new(),
        })
    }
}

/// Generate `opts.size` bytes of the default traffic into `out`; returns the incidents
/// injected.
#[allow(dead_code)] // the tests' entry point
pub fn generate(opts: &Options, out: &mut dyn Write) -> io::Result<Vec<Injected>> {
    generate_mix(opts, Mix::Default, out)
}

/// Generate `opts.size` bytes of traffic of the given mix into `out`; returns the incidents
/// injected (every mix injects them at the same rate; the clean traffic of every mix yields no
/// finding).
pub fn generate_mix(opts: &Options, mix: Mix, out: &mut dyn Write) -> io::Result<Vec<Injected>> {
    let templates: Vec<Template> = INCIDENTS.iter().map(Template::new).collect();
    let mut rng = Rng(opts.seed);
    let pid = 1000 + rng.below(60_000) as u32;
    let mut g = Gen {
        out,
        format: opts.format,
        rng,
        now: start_ms(),
        line: 0,
        bytes: 0,
        stamp_s: i64::MIN,
        stamp: String::new(),
        buf: String::new(),
        sessions: Vec::new(),
        thread: 10,
        pid,
        mix,
        opened: 0,
        last_us: i64::MIN,
        journal: Journal::new(opts.seed, start_ms()),
    };
    let mut injected = Vec::new();
    let mut turns = 0u64;
    while g.bytes < opts.size {
        // Housekeeping between turns: about 90% of all lines say nothing about requests.
        let n = match mix {
            Mix::Quiet => 100 + g.rng.below(600),
            _ => 10 + g.rng.below(60),
        };
        g.noise(n)?;
        g.turn()?;
        turns += 1;
        if opts.incident_every > 0 && turns % opts.incident_every == 0 {
            let t = &templates[injected.len() % templates.len()];
            injected.push((g.incident(t)?, t.shape));
        }
    }
    let chain_seen = injected
        .iter()
        .any(|(_, s)| s.text.contains("Fallback activated"));
    let mut injected: Vec<Injected> = injected
        .into_iter()
        .map(|(mut i, s)| {
            if chain_seen && s.quota_failure {
                i.rules.push("fallback-not-activated");
                i.rules.sort_unstable();
            }
            i
        })
        .collect();
    if !injected.is_empty() {
        injected.push(Injected {
            name: "stale-exhaustion",
            rules: vec!["stale-exhaustion"],
            sessions: Vec::new(),
            lines: (0, 0),
            entries: vec![STALE_ENTRY.to_string()],
        });
    }
    Ok(injected)
}

/// Parse a size such as `100MiB`, `1GiB`, `2MB`, `4096`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

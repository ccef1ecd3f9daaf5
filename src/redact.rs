//! Secret scrubbing applied to every string before any output format sees it.
//!
//! The token families of gitleaks' default rules that can appear in agent logs are replaced;
//! what identifies a secret by its *shape* keeps its short non-secret prefix and gets a stable
//! fingerprint, `<prefix>…[REDACTED:1a2b3c]` (six hex digits of a hash of the secret), so two
//! different keys stay two profiles and the same key reads the same in every field:
//! - prefixed keys and tokens: OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, OpenRouter
//!   `sk-or-…`, Google `AIza…`/`ya29.…`, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/
//!   `github_pat_`, GitLab `glpat-`, Hugging Face `hf_`, Slack `xoxa-`/`xoxb-`/`xoxe-`/`xoxp-`/
//!   `xoxr-`/`xoxs-`, Stripe `sk_live_`/`rk_live_`/`sk_test_`/`rk_test_`, `rt_…` refresh
//!   tokens;
//! - AWS access key ids (`AKIA…`, `ASIA…`, `ABIA…`, `ACCA…`, `A3T…`) → `AKIA…[REDACTED:…]`;
//! - JWTs (`eyJ…`, one to three dot-separated base64url parts) → `eyJ…[REDACTED:…]`;
//! - `Bearer <token>` → `Bearer [REDACTED:…]`;
//! - e-mail addresses → `a…[REDACTED:…]@example.com` (first character and domain kept);
//! - long high-entropy runs: 32+ characters of `[A-Za-z0-9+/_-]` with upper case, lower
//!   case and digits mixed like random data, or 32+ hex digits with letters and digits
//!   → `[REDACTED:…]`.
//!
//! What is recognized only by the name in front of it may be a guessable password, so it gets
//! the bare mark `[REDACTED]`, no fingerprint:
//! - values of secret-named keys, in `k=v`, `k: v` and `"k": "v"` form: `api_key`, `x-api-key`,
//!   `apikey`, `*_token`, `*_secret`, `*_key` (so `aws_secret_access_key`), `secret`,
//!   `password`, `Authorization` (the scheme word `Bearer`/`Basic` is kept) → `key=[REDACTED]`;
//! - secret query parameters `?token=`, `&key=`, `sig`, `signature`, `secret`, `password`,
//!   `pass`, `pwd`, `auth`, `code` (and every `*_token`/`*_key` name above) → `?token=[REDACTED]`;
//! - `Basic <base64>` credentials → `Basic [REDACTED]`;
//! - the password of URL credentials, `scheme://user:pass@host` → `scheme://user:[REDACTED]@host`.
//!
//! What is kept: values Hermes already masked (`sk-pro...EFGH`, `***`, `<REDACTED>`), `null`-like
//! values, key *names* (`OPENROUTER_API_KEY` is a variable name), session / cron / thread ids,
//! URLs without credentials, model names, pool labels and ids that are not secrets (`key-1`,
//! `primary`, `work@`), epoch numbers, and `sha256:` fingerprints (Hermes prints them as safe
//! account identifiers).
//!
//! `redact` is idempotent and returns `Cow::Borrowed` without allocating when the text has no
//! trigger substring and no long token.
//!
//! `--no-redact` switches scrubbing off for the whole run ([`disable`], called once at startup);
//! the report header then says so.

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use regex::{Captures, Regex};

use crate::classify::LiteralSet;

/// The replacement marker.
pub const MARK: &str = "[REDACTED]";

/// Prefixes of token formats whose short prefix is not secret, longest first where one is the
/// start of another (the pattern takes the first that matches).
const PREFIXES: [&str; 27] = [
    "sk-proj-",
    "sk-ant-",
    "sk-or-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "rk_test_",
    "rt_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "hf_",
    "AIza",
    "ya29.",
    "xoxa-",
    "xoxb-",
    "xoxe-",
    "xoxp-",
    "xoxr-",
    "xoxs-",
    "xoxe.",
    "xapp-",
];

/// Literal triggers besides the prefixes and words: JWT start, AWS key id prefixes, and the
/// `@` of e-mail addresses and URL credentials.
const LITERALS: [&str; 7] = ["eyJ", "AKIA", "ASIA", "ABIA", "ACCA", "A3T", "@"];

/// Words (lower case) that trigger the key/value, query and Bearer/Basic rules in any of their
/// three usual casings (`key`, `Key`, `KEY`).
const WORD_TRIGGERS: [&str; 10] = [
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "sig",
    "authorization",
    "bearer",
    "basic",
    "code=",
];

/// Literal substrings, one of which must be present for the pattern rules to run: the
/// prefixes, the other literals and each word trigger in its three casings.
fn trigger_words() -> Vec<String> {
    let words = WORD_TRIGGERS.iter().flat_map(|w| {
        let mut cap = w.to_string();
        cap[..1].make_ascii_uppercase();
        [w.to_string(), cap, w.to_ascii_uppercase()]
    });
    PREFIXES
        .iter()
        .chain(LITERALS.iter())
        .map(|p| p.to_string())
        .chain(words)
        .collect()
}

/// The trigger words searched in one pass.
static TRIGGERS: LazyLock<LiteralSet> = LazyLock::new(|| LiteralSet::new(&trigger_words()));

/// Minimum length of a bare high-entropy run.
const MIN_RUN: usize = 32;

static SECRET_RE: LazyLock<Regex> = LazyLock::new(|| {
    let prefixes = PREFIXES.map(regex::escape).join("|");
    let pattern = format!(
        concat!(
            // URL credentials: scheme, user and colon kept, then the password, then `@`.
            r#"(?P<url>(?-u:\b)[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"<>]+:)(?P<uval>[^/\s@'"<>]+)@"#,
            // key/value: the key, separator and optional quote are kept.
            r#"|(?P<kv>(?i-u:\b[a-z0-9_-]*(?:api[_-]?key|apikey|_token|_secret|_key|-key|password|passwd|secret)\b|\bauthorization\b)["']?[ \t]*[:=][ \t]*["']?)"#,
            r#"(?P<scheme>(?i:bearer|basic|token)[ \t]+)?(?P<kvval>[^\s"',;&}}\]]+)"#,
            // secret query parameters with short names.
            r#"|(?P<q>[?&;](?i-u:token|key|sig|signature|secret|password|passwd|pass|pwd|auth|code)=)(?P<qval>[^&\s"'#<>]+)"#,
            r"|(?P<bearer>(?-u:\b)(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \t]+)(?P<bval>[A-Za-z0-9._~+/=-]+)",
            r"|(?P<jwt>(?-u:\b)eyJ[A-Za-z0-9_-]{{10,}}(?:\.[A-Za-z0-9_=-]*){{0,2}})",
            r"|(?P<aws>(?-u:\b)(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{{16}}(?-u:\b))",
            r"|(?P<pfx>(?-u:\b)(?:{})(?P<pval>[A-Za-z0-9_-]{{10,}}))",
            r"|(?P<email>(?-u:\b)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}(?-u:\b))",
        ),
        prefixes
    );
    Regex::new(&pattern).unwrap_or_else(|e| unreachable!("secret pattern: {e}"))
});

/// Set once when the run asked for `--no-redact`.
static DISABLED: OnceLock<()> = OnceLock::new();

/// Turn redaction off for the rest of the process (`--no-redact`). Cannot be undone.
pub fn disable() {
    let _ = DISABLED.set(());
}

/// Whether [`redact`] scrubs secrets (true unless [`disable`] was called).
pub fn is_enabled() -> bool {
    DISABLED.get().is_none()
}

/// Replace secrets in `text` with a masked form (unless redaction was [`disable`]d).
pub fn redact(text: &str) -> Cow<'_, str> {
    if !is_enabled() {
        return Cow::Borrowed(text);
    }
    scrub(text)
}

/// Passes of [`scrub_once`] at most: a replacement can expose a new match (`Bearer k=v` whose
/// value was masked now reads as a Bearer token), so scrubbing repeats until nothing changes.
const MAX_PASSES: usize = 4;

/// The scrubbing behind [`redact`], regardless of `--no-redact`; idempotent.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = scrub_once(text);
    for _ in 1..MAX_PASSES {
        let Cow::Owned(prev) = &out else {
            break;
        };
        match scrub_once(prev) {
            Cow::Owned(next) if next != *prev => out = Cow::Owned(next),
            _ => break,
        }
    }
    out
}

/// One pass of the rules in the module docs.
fn scrub_once(text: &str) -> Cow<'_, str> {
    let literal = TRIGGERS.is_in(text.as_bytes());
    let mut out = Cow::Borrowed(text);
    if literal {
        if let Cow::Owned(s) = SECRET_RE.replace_all(text, replace_match) {
            if s != text {
                out = Cow::Owned(s);
            }
        }
    }
    if secret_runs(out.as_bytes()).next().is_some() {
        let mut s = String::with_capacity(out.len());
        let mut last = 0;
        for (start, end) in secret_runs(out.as_bytes()) {
            let run = out.get(start..end).unwrap_or_default();
            s.push_str(out.get(last..start).unwrap_or_default());
            s.push_str(&marked(run));
            last = end;
        }
        s.push_str(out.get(last..).unwrap_or_default());
        out = Cow::Owned(s);
    }
    out
}

/// A stable six-hex-digit fingerprint of `secret` (64-bit FNV-1a, folded): enough to tell the
/// keys of one log apart, far too little to recover or confirm a random key.
pub fn fingerprint(secret: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in secret.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:06x}", (h ^ (h >> 24) ^ (h >> 48)) & 0xff_ffff)
}

/// The mark with the fingerprint of `secret`: `[REDACTED:1a2b3c]`.
fn marked(secret: &str) -> String {
    format!("[REDACTED:{}]", fingerprint(secret))
}

fn replace_match(caps: &Captures) -> String {
    let all = caps.get(0).map_or("", |m| m.as_str());
    let text = |name: &str| caps.name(name).map_or("", |m| m.as_str());
    if let Some(val) = caps.name("uval") {
        if is_masked(val.as_str()) {
            return all.to_string();
        }
        return format!("{}{MARK}@", text("url"));
    }
    if let Some(val) = caps.name("kvval") {
        if is_masked(val.as_str()) || is_placeholder(val.as_str()) {
            return all.to_string();
        }
        return format!("{}{}{MARK}", text("kv"), text("scheme"));
    }
    if let Some(val) = caps.name("qval") {
        if is_masked(val.as_str()) || is_placeholder(val.as_str()) {
            return all.to_string();
        }
        return format!("{}{MARK}", text("q"));
    }
    if let Some(val) = caps.name("bval") {
        let v = val.as_str();
        let scheme = text("bearer");
        let basic = scheme.to_ascii_lowercase().starts_with("basic");
        if is_masked(v) {
            return all.to_string();
        }
        if basic {
            // `Basic` is an English word: only a base64 credential is masked.
            let (upper, lower) = (
                v.bytes().filter(u8::is_ascii_uppercase).count(),
                v.bytes().filter(u8::is_ascii_lowercase).count(),
            );
            let base64 = v.len() >= 8
                && (v.bytes().any(|b| b.is_ascii_digit() || b"+/=".contains(&b))
                    || (upper >= 2 && lower >= 2));
            return if base64 {
                format!("{scheme}{MARK}")
            } else {
                all.to_string()
            };
        }
        let token_like =
            v.len() >= 8 && v.bytes().any(|b| b.is_ascii_digit() || b"._-".contains(&b));
        if !token_like {
            return all.to_string();
        }
        return format!("{scheme}{}", marked(v));
    }
    if caps.name("jwt").is_some() {
        return format!("eyJ…{}", marked(all));
    }
    if caps.name("aws").is_some() {
        return format!("{}…{}", all.get(..4).unwrap_or_default(), marked(all));
    }
    if let Some(val) = caps.name("pval") {
        let prefix = all
            .get(..all.len() - val.as_str().len())
            .unwrap_or_default();
        return format!("{prefix}…{}", marked(all));
    }
    if caps.name("email").is_some() {
        let (local, domain) = all.split_once('@').unwrap_or((all, ""));
        let first = local.chars().next().map(String::from).unwrap_or_default();
        return format!("{first}…{}@{domain}", marked(all));
    }
    all.to_string()
}

/// Already masked by Hermes or by us: `sk-pro...EFGH`, `***`, `<REDACTED>`, `[REDACTED]`. A
/// value with an ellipsis counts as masked only when every part around it is short (Hermes keeps
/// six characters before and four after), so a secret glued to a masked one is still caught.
fn is_masked(v: &str) -> bool {
    const MAX_PART: usize = 12;
    v.contains("REDACTED")
        || v.bytes().all(|b| b == b'*')
        || ((v.contains("...") || v.contains('…'))
            && v.split("...")
                .flat_map(|p| p.split('…'))
                .all(|p| p.len() <= MAX_PART))
}

/// Values that carry no secret: `null`, `None`, booleans, `$VAR` / `<placeholder>` references.
fn is_placeholder(v: &str) -> bool {
    ["null", "none", "true", "false", "missing", "unset"]
        .iter()
        .any(|p| v.eq_ignore_ascii_case(p))
        || v.starts_with('$')
        || v.starts_with('<')
}

fn is_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/_-".contains(&b)
}

/// Byte ranges of runs that look like raw secrets (see module docs).
fn secret_runs(bytes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && is_run_byte(bytes[i]) {
                i += 1;
            }
            if i == start {
                i += 1;
                continue;
            }
            let run = &bytes[start..i];
            let after_sha = bytes.get(..start).is_some_and(|b| b.ends_with(b"sha256:"));
            if run.len() >= MIN_RUN && !after_sha && looks_random(run) {
                return Some((start, i));
            }
        }
        None
    })
}

/// Mixed-class random-looking data, or a long hex stretch with letters and digits.
fn looks_random(run: &[u8]) -> bool {
    let count = |f: fn(&u8) -> bool| run.iter().filter(|b| f(b)).count();
    let (upper, lower, digit) = (
        count(u8::is_ascii_uppercase),
        count(u8::is_ascii_lowercase),
        count(u8::is_ascii_digit),
    );
    let class = |b: u8| {
        (
            b.is_ascii_uppercase(),
            b.is_ascii_lowercase(),
            b.is_ascii_digit(),
        )
    };
    // Class changes between adjacent letters/digits: random data switches often, words and
    // `Model-Name-24B` style identifiers rarely. Separators are neutral.
    let changes = run
        .windows(2)
        .filter(|w| w.iter().all(u8::is_ascii_alphanumeric) && class(w[0]) != class(w[1]))
        .count();
    if upper >= 2 && lower >= 2 && digit >= 1 && changes * 10 >= run.len() * 3 {
        return true;
    }
    run.split(|b| !b.is_ascii_hexdigit()).any(|s| {
        s.len() >= MIN_RUN
            && s.iter().any(u8::is_ascii_digit)
            && s.iter().any(u8::is_ascii_alphabetic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use memchr::memmem;

    /// The scrub as it was with one `memmem` scan per trigger word: the reference the
    /// single-pass trigger search must agree with.
    fn old_scrub(text: &str) -> Cow<'_, str> {
        let mut out = old_scrub_once(text);
        for _ in 1..MAX_PASSES {
            let Cow::Owned(prev) = &out else {
                break;
            };
            match old_scrub_once(prev) {
                Cow::Owned(next) if next != *prev => out = Cow::Owned(next),
                _ => break,
            }
        }
        out
    }

    fn old_scrub_once(text: &str) -> Cow<'_, str> {
        static OLD_TRIGGERS: LazyLock<Vec<memmem::Finder<'static>>> = LazyLock::new(|| {
            trigger_words()
                .iter()
                .map(|t| memmem::Finder::new(t.as_bytes()).into_owned())
                .collect()
        });
        let bytes = text.as_bytes();
        let literal = OLD_TRIGGERS.iter().any(|f| f.find(bytes).is_some());
        let mut out = Cow::Borrowed(text);
        if literal {
            if let Cow::Owned(s) = SECRET_RE.replace_all(text, replace_match) {
                if s != text {
                    out = Cow::Owned(s);
                }
            }
        }
        if secret_runs(out.as_bytes()).next().is_some() {
            let mut s = String::with_capacity(out.len());
            let mut last = 0;
            for (start, end) in secret_runs(out.as_bytes()) {
                s.push_str(out.get(last..start).unwrap_or_default());
                s.push_str(&marked(out.get(start..end).unwrap_or_default()));
                last = end;
            }
            s.push_str(out.get(last..).unwrap_or_default());
            out = Cow::Owned(s);
        }
        out
    }

    /// xorshift64*: deterministic mutations without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Seed texts: the fixtures' secret-bearing lines, fuzz regressions and hand-made shapes.
    fn seeds() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seeds: Vec<String> = [
            "using key sk-FAKESECRET-prim-key1-7f3a9c2e01 for prim-acct-1",
            "Authorization: Bearer abc123def456ghi789",
            r#"{"Authorization": "Basic dXNlcjpwYXNz", "api_key": "FAKEKEY123456"}"#,
            "tok eyJhbGciOiJSUzI1NiJ9.FAKE-ACCESS-TOKEN.c2lnbmF0dXJl end",
            "refresh rt_FAKE_REFRESH_TOKEN_DO_NOT_PRINT_0123456789 done",
            "x-api-key: sk-pro...EFGH password=hunter2 client_secret='s3cr3t'",
            "sha256:0f3a9c2e01b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
            "run 8f14e45fceea167a5a36dedd4bea2543 and AbCdEf0123GhIjKl4567MnOpQr89StUv",
            "plain line with nothing to hide: model=gpt-5.5 provider=openrouter",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for dir in ["fixtures/secrets", "fixtures/fuzz-regressions/redact"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                if let Ok(bytes) = std::fs::read(e.path()) {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    seeds.push(text.clone());
                    seeds.extend(text.lines().map(str::to_string));
                }
            }
        }
        seeds
    }

    fn mutate(rng: &mut Rng, seed: &str, words: &[String]) -> String {
        const PIECES: &[&str] = &[
            "=",
            ": ",
            "\"",
            "'",
            " ",
            "\t",
            ".",
            "_",
            "-",
            "/",
            "+",
            "…",
            "...",
            "***",
            "Bearer ",
            "basic ",
            "token ",
            "<x>",
            "$V",
            "null",
            "ü",
            "\u{2014}",
            "sha256:",
            "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
            "0123456789abcdef0123456789abcdef",
        ];
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(6) {
                0 | 1 => {
                    let w = &words[rng.below(words.len())];
                    chars.splice(at..at, w.chars());
                }
                2 => {
                    let p = PIECES[rng.below(PIECES.len())];
                    chars.splice(at..at, p.chars());
                }
                3 => {
                    let end = (at + rng.below(12)).min(chars.len());
                    chars.drain(at..end);
                }
                4 => {
                    let end = (at + rng.below(40)).min(chars.len());
                    let copy: Vec<char> = chars[at..end].to_vec();
                    chars.splice(at..at, copy);
                }
                _ => {
                    let end = (at + rng.below(20)).min(chars.len());
                    for c in &mut chars[at..end] {
                        *c = if c.is_ascii_lowercase() {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        };
                    }
                }
            }
        }
        chars.into_iter().collect()
    }

    #[test]
    fn single_pass_triggers_match_the_old_scans() {
        let words = trigger_words();
        assert_eq!(
            words.len(),
            PREFIXES.len() + LITERALS.len() + 3 * WORD_TRIGGERS.len()
        );
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut compared = 0;
        let mut changed = 0;
        for seed in seeds() {
            for _ in 0..60 {
                let text = mutate(&mut rng, &seed, &words);
                let new = scrub(&text);
                assert_eq!(new, old_scrub(&text), "{text:?}");
                compared += 1;
                changed += usize::from(matches!(new, Cow::Owned(_)));
            }
            assert_eq!(scrub(&seed), old_scrub(&seed), "{seed:?}");
        }
        assert!(compared > 500 && changed > 100, "{compared} {changed}");
    }

    #[test]
    fn trigger_search_finds_every_word_anywhere() {
        for w in trigger_words() {
            for text in [
                w.clone(),
                format!("x{w}"),
                format!("{w}y"),
                format!("ü {w} ü"),
            ] {
                assert!(TRIGGERS.is_in(text.as_bytes()), "{text:?}");
            }
        }
        assert!(!TRIGGERS.is_in(b"model=gpt-5.5 provider=openrouter status=429"));
        assert!(!TRIGGERS.is_in(b""));
    }
}

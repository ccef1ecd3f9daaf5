//! Attempt family: failed attempts (log WARNING and console block), stream failures, scheduled
//! retries and waits, terminal failures, non-retryable errors, successes, invalid responses,
//! standalone `📋 Details:` lines and sanitized `<provider> returned <status>` lines.

use super::details::{parse_details, status_from_text};
use super::{attempt_of, continuation, field, key_values, leading_number, leading_u32, Needle};
use crate::model::{ErrorDetails, EventKind, Record};
use memchr::memmem::Finder;
use regex::Regex;
use std::sync::LazyLock;

static API_FAILED_AFTER: Needle = Needle::new(|| Finder::new("API call failed after "));
static RETURNED: Needle = Needle::new(|| Finder::new(" returned "));

/// Classify an attempt-family message (already cleaned).
pub(super) fn classify(msg: &str, rec: &Record) -> Option<EventKind> {
    if let Some(rest) = msg.strip_prefix("API call failed (attempt ") {
        return Some(attempt_failed(msg, rest, rec));
    }
    if let Some(i) = API_FAILED_AFTER.find(msg) {
        return Some(terminal_log(msg.get(i + "API call failed after ".len()..)?));
    }
    if let Some(rest) = msg.strip_prefix("Retrying API call in ") {
        return retry_log(msg, rest);
    }
    if let Some(rest) = msg.strip_prefix("Streaming failed before delivery: ") {
        return Some(EventKind::StreamFailed {
            status: status_from_text(rest),
            details: parse_details(rest),
            text: rest.trim().to_string(),
        });
    }
    if let Some(event) = non_retryable(msg) {
        return Some(event);
    }
    if let Some(event) = terminal_console(msg, rec) {
        return Some(event);
    }
    if let Some(event) = console_wait(msg) {
        return Some(event);
    }
    if let Some(rest) = msg
        .strip_prefix("Invalid API response (attempt ")
        .or_else(|| msg.strip_prefix("Invalid API response (retry "))
    {
        return Some(invalid_response(msg, rest, rec));
    }
    if let Some(rest) = msg.strip_prefix("API call #") {
        let [model, provider, _] = key_values(rest, ["model", "provider", "in"]);
        return Some(EventKind::Success {
            call: leading_u32(rest),
            model: model.and_then(field),
            provider: provider.and_then(field),
        });
    }
    if msg.starts_with("API call completed in ") {
        return Some(EventKind::Success {
            call: None,
            model: None,
            provider: None,
        });
    }
    if let Some(rest) = msg.strip_prefix("Details:") {
        return parse_details(rest).map(|details| EventKind::Details { details });
    }
    provider_error(msg)
}

/// Console `Provider: X  Model: Y`, `Endpoint: U`, `Error: S`, `Details: {...}` detail lines.
#[derive(Default)]
struct Block {
    provider: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
    summary: Option<String>,
    details: Option<Box<ErrorDetails>>,
    final_error: Option<String>,
}

fn block(rec: &Record) -> Block {
    let mut b = Block::default();
    for line in continuation(rec) {
        let line = line.as_ref();
        if let Some(rest) = line.strip_prefix("Provider:") {
            let (p, m) = rest.split_once("Model:").unwrap_or((rest, ""));
            b.provider = b.provider.or(field(p));
            b.model = b.model.or(field(m));
        } else if let Some(rest) = line.strip_prefix("Endpoint:") {
            b.base_url = b.base_url.or(field(rest));
        } else if let Some(rest) = line.strip_prefix("Error:") {
            b.summary = b.summary.or(field(rest));
        } else if let Some(rest) = line.strip_prefix("Provider message:") {
            b.summary = b.summary.or(field(rest));
        } else if let Some(rest) = line.strip_prefix("Details:") {
            b.details = b.details.or(parse_details(rest));
        } else if let Some(rest) = line.strip_prefix("Final error:") {
            b.final_error = b.final_error.or(field(rest));
        }
    }
    b
}

/// `API call failed (attempt k/N) error_type=... summary=...` or the console
/// `API call failed (attempt k/N): Type [HTTP s]` with its detail lines.
fn attempt_failed(msg: &str, rest: &str, rec: &Record) -> EventKind {
    let (attempt, max) = attempt_of(msg).unwrap_or((0, 0));
    let after = rest.split_once(')').map_or("", |(_, a)| a);
    if let Some(console) = after.strip_prefix(':') {
        let (etype, _) = console.split_once('[').unwrap_or((console, ""));
        let b = block(rec);
        let status =
            status_from_text(console).or_else(|| b.summary.as_deref().and_then(status_from_text));
        return EventKind::AttemptFailed {
            attempt,
            max,
            error_type: field(etype),
            status,
            provider: b.provider,
            model: b.model,
            base_url: b.base_url,
            thread: None,
            summary: b.summary,
            details: b.details,
        };
    }
    let [etype, thread, provider, base_url, model, summary] = key_values(
        after,
        [
            "error_type",
            "thread",
            "provider",
            "base_url",
            "model",
            "summary",
        ],
    );
    let summary = summary.and_then(field);
    let details = summary
        .as_deref()
        .filter(|s| s.contains('{'))
        .and_then(parse_details);
    EventKind::AttemptFailed {
        attempt,
        max,
        error_type: etype.and_then(field),
        status: summary.as_deref().and_then(status_from_text),
        provider: provider.and_then(field),
        model: model.and_then(field),
        base_url: base_url.and_then(field),
        thread: thread.and_then(field),
        summary,
        details,
    }
}

/// Console `Invalid API response (attempt n/max): details` or the log
/// `Invalid API response (retry n/max): details | Provider: name`.
fn invalid_response(msg: &str, rest: &str, rec: &Record) -> EventKind {
    let (k, rest) = rest.split_once('/').unwrap_or(("", rest));
    let (n, tail) = rest.split_once(')').unwrap_or((rest, ""));
    let tail = tail.trim_start_matches(':');
    let (text, provider) = match tail.rsplit_once("| Provider:") {
        Some((t, p)) => (t, field(p)),
        None => (tail, None),
    };
    let b = block(rec);
    EventKind::AttemptFailed {
        attempt: k.trim().parse().unwrap_or(0),
        max: n.trim().parse().unwrap_or(0),
        error_type: Some("InvalidResponse".to_string()),
        status: status_from_text(msg),
        provider: provider.or(b.provider),
        model: b.model,
        base_url: b.base_url,
        thread: None,
        summary: field(text).or(b.summary),
        details: b.details,
    }
}

/// `Retrying API call in Xs (attempt k/N) thread=.. provider=.. [policy=..] error=..`.
fn retry_log(msg: &str, rest: &str) -> Option<EventKind> {
    let wait_s = leading_number(rest)?;
    let (attempt, max) = attempt_of(msg).unzip();
    let tail = rest.split_once(')').map_or("", |(_, t)| t);
    let [_, _, _, _, policy, error] = key_values(
        tail,
        ["thread", "provider", "base_url", "model", "policy", "error"],
    );
    Some(EventKind::RetryScheduled {
        wait_s,
        attempt,
        max,
        policy: policy.and_then(field),
        details: error.and_then(parse_details),
        reset_hint: None,
    })
}

/// `N retries. SUMMARY | provider=P model=M msgs=.. tokens=~..` (after `API call failed after `).
/// The final chat reply printed in the stdout response panel (`... after N retries: SUMMARY`)
/// takes the same path.
fn terminal_log(rest: &str) -> EventKind {
    let body = rest
        .split_once("retries")
        .map_or("", |(_, b)| b.trim_start_matches(['.', ':']));
    let (summary, tail) = body.rsplit_once(" | ").unwrap_or((body, ""));
    let [provider, model, _, _] = key_values(tail, ["provider", "model", "msgs", "tokens"]);
    let summary = field(summary);
    EventKind::TerminalFailure {
        retries: leading_u32(rest),
        status: summary.as_deref().and_then(status_from_text),
        summary,
        provider: provider.and_then(field),
        model: model.and_then(field),
    }
}

/// Console terminal lines (`❌ Rate limited after N retries — S`, ...) and
/// `Invalid API response after N retries.`.
fn terminal_console(msg: &str, rec: &Record) -> Option<EventKind> {
    let (retries, summary) = if let Some(rest) = msg
        .strip_prefix("Rate limited after ")
        .or_else(|| msg.strip_prefix("API failed after "))
    {
        let summary = rest.split_once('—').and_then(|(_, s)| field(s));
        (leading_u32(rest), summary)
    } else if let Some(rest) = msg.strip_prefix("Billing or credits exhausted") {
        (None, rest.split_once('—').and_then(|(_, s)| field(s)))
    } else if let Some(rest) = msg.strip_prefix("Max retries (") {
        if !rest.contains("exceeded for invalid responses") {
            return None;
        }
        (leading_u32(rest), field(msg))
    } else if msg.starts_with("All API retries exhausted") {
        (None, field(msg))
    } else if let Some(rest) = msg.strip_prefix("Invalid API response after ") {
        (leading_u32(rest), field(msg))
    } else if msg.starts_with("The model provider failed after retries") {
        // Chat-facing sanitized reply (§2.5): the request failed for good.
        (None, field(msg))
    } else if msg.starts_with("The model provider is rate-limiting requests") {
        return Some(EventKind::TerminalFailure {
            retries: None,
            summary: field(msg),
            status: Some(429),
            provider: None,
            model: None,
        });
    } else {
        return None;
    };
    let summary = summary.or_else(|| block(rec).final_error);
    Some(EventKind::TerminalFailure {
        retries,
        status: summary.as_deref().and_then(status_from_text),
        summary,
        provider: None,
        model: None,
    })
}

/// `Non-retryable client error: <api error>` (log) and the console
/// `Non-retryable error (HTTP s): S` / `Non-retryable client error (HTTP s). Aborting.`.
fn non_retryable(msg: &str) -> Option<EventKind> {
    let rest = msg.strip_prefix("Non-retryable ")?;
    if let Some(text) = rest.strip_prefix("client error: ") {
        return Some(EventKind::NonRetryable {
            status: status_from_text(text),
            details: parse_details(text),
            text: text.trim().to_string(),
        });
    }
    let status = status_from_text(rest);
    let text = match rest.split_once("): ") {
        Some((_, s)) => s.trim(),
        None => msg,
    };
    Some(EventKind::NonRetryable {
        status,
        details: Some(text)
            .filter(|t| t.contains('{'))
            .and_then(parse_details),
        text: text.to_string(),
    })
}

/// Console waits: `Rate limited. [Resets in R. ]Waiting Xs (attempt k/N)[ (policy)]...`,
/// `Provider overloaded. ...`, `Rate limit reached. Waiting 4s before retry (attempt k/N)...`,
/// `Retrying in Xs (attempt k/N)...`, the newest live `rate limited — resets in R, retrying in
/// Xs (attempt k/N)` and `Transient E on P — rebuilt client, waiting Ns before ...`.
fn console_wait(msg: &str) -> Option<EventKind> {
    let starts = |p: &str| {
        msg.as_bytes()
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
    };
    let (wait_at, policy) = if starts("rate limit") || starts("provider overloaded") {
        if let Some(i) = msg.find("Waiting ") {
            (i + "Waiting ".len(), policy_note(msg))
        } else {
            (msg.find("retrying in ")? + "retrying in ".len(), None)
        }
    } else if starts("waiting on provider") {
        (msg.find("retrying in ")? + "retrying in ".len(), None)
    } else if msg.starts_with("Retrying in ") {
        ("Retrying in ".len(), None)
    } else if msg.starts_with("Transient ") {
        let i = msg.find("rebuilt client, waiting ")? + "rebuilt client, waiting ".len();
        (i, Some("rebuilt client".to_string()))
    } else {
        return None;
    };
    let wait_s = leading_number(msg.get(wait_at..)?)?;
    let (attempt, max) = attempt_of(msg).unzip();
    Some(EventKind::RetryScheduled {
        wait_s,
        attempt,
        max,
        policy,
        details: None,
        reset_hint: reset_hint(msg),
    })
}

/// `Resets in 3h 59m.` / `resets in 4h,` → `3h 59m` / `4h`.
fn reset_hint(msg: &str) -> Option<String> {
    let i = msg.find("esets in ")?;
    let rest = msg.get(i + "esets in ".len()..)?;
    let end = rest
        .find(". ")
        .or_else(|| rest.find(','))
        .unwrap_or(rest.len());
    field(rest.get(..end)?)
}

/// The parenthesised policy note after `(attempt k/N)`.
fn policy_note(msg: &str) -> Option<String> {
    let i = msg.find("(attempt ")?;
    let after = msg.get(i..)?.split_once(')')?.1.trim();
    let inner = after.trim_end_matches(['.', '…']).trim();
    field(inner.strip_prefix('(')?.strip_suffix(')')?)
}

static PROVIDER_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z0-9][\w.\-/:]*) returned ([45]\d\d)\b:?\s*(.*)$").expect("static regex")
});
static KV_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\b(code|type)=("[^"]*"|'[^']*'|\S+)"#).expect("static regex"));
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"]*)"|'([^']*)'"#).expect("static regex"));

/// Sanitized condensed lines: `zai returned 429 code=1113 "Insufficient balance ..."`.
fn provider_error(msg: &str) -> Option<EventKind> {
    if !RETURNED.is_in(msg) {
        return None;
    }
    let caps = PROVIDER_ERROR.captures(msg)?;
    let rest = caps.get(3).map_or("", |m| m.as_str());
    let status = caps.get(2).and_then(|m| m.as_str().parse().ok());
    let details = if rest.contains('{') {
        parse_details(rest)
    } else {
        let mut d = ErrorDetails::default();
        for c in KV_CODE.captures_iter(rest) {
            let v = c
                .get(2)
                .map_or("", |m| m.as_str())
                .trim_matches(['"', '\'']);
            let slot = if c.get(1).map(|m| m.as_str()) == Some("code") {
                &mut d.code
            } else {
                &mut d.etype
            };
            *slot = slot.take().or_else(|| field(v));
        }
        let without_kv = KV_CODE.replace_all(rest, "");
        d.message = QUOTED
            .captures(&without_kv)
            .and_then(|c| c.get(1).or(c.get(2)))
            .and_then(|m| field(m.as_str()))
            .or_else(|| field(without_kv.trim_matches([' ', ':', '-'])));
        (d != ErrorDetails::default()).then(|| Box::new(d))
    };
    Some(EventKind::ProviderError {
        provider: caps.get(1).map(|m| m.as_str().to_string()),
        status,
        details: details.map(|mut d| {
            d.status = d.status.or(status);
            d
        }),
        text: msg.to_string(),
    })
}

//! Request notices: empty-response retries, aggregator 429s that skip rotation on purpose,
//! credential refreshes, restore failures, and the other request-path lines about a request's
//! attempts, retries, fallback, quota or auth that the older families do not cover (the
//! `what` of a [`EventKind::RequestNotice`]). Every template is from the census
//! (`fixtures/census/request-path.tsv`); `fixtures/census/dispositions.tsv` names the kind
//! each becomes.

use super::{field, leading_u32, LiteralSet};
use crate::model::{EventKind, Record};
use std::sync::LazyLock;

/// How a notice literal must sit in the message.
#[derive(Clone, Copy)]
enum At {
    Start,
    Anywhere,
}

/// What a message holding a literal becomes.
#[derive(Clone, Copy)]
enum Becomes {
    Notice(&'static str),
    EmptyRetry,
    AggregatorSkip,
    Refreshed,
    RestoreFailed,
    Switching,
    AuthRejected,
}

use At::{Anywhere, Start};
use Becomes::{
    AggregatorSkip, AuthRejected, EmptyRetry, Notice, Refreshed, RestoreFailed, Switching,
};

/// Notice literals, most specific first (the leftmost match of one scan decides, so a literal
/// that starts a message precedes the ones inside it).
const NOTICES: &[(&str, At, Becomes)] = &[
    // empty responses
    (
        "Empty response (no content or reasoning) — retry ",
        Start,
        EmptyRetry,
    ),
    ("Empty response from model — retrying", Start, EmptyRetry),
    (
        "Empty response (no content or reasoning) after ",
        Start,
        Notice("empty_response_exhausted"),
    ),
    (
        "Empty response after tool calls",
        Start,
        Notice("empty_after_tool_calls"),
    ),
    (
        "Empty response after ",
        Start,
        Notice("empty_response_fallback"),
    ),
    (
        "Fallback activated after empty responses",
        Start,
        Notice("fallback_after_empty"),
    ),
    ("Model returning empty responses", Start, Switching),
    (
        "Model returned no content after all retries",
        Start,
        Notice("gave_up"),
    ),
    (
        "Model produced reasoning but no visible response",
        Start,
        Notice("reasoning_only_exhausted"),
    ),
    (
        "Reasoning-only response (no visible content) after exhausting",
        Start,
        Notice("reasoning_only_exhausted"),
    ),
    (
        "Reasoning exhausted the output token budget",
        Start,
        Notice("reasoning_budget_exhausted"),
    ),
    // rotation skipped on purpose, refreshes, restores
    ("Upstream provider ", Start, AggregatorSkip),
    ("Upstream aggregator 429", Start, AggregatorSkip),
    (
        "Nous 429 looks like upstream capacity",
        Start,
        Notice("nous_upstream_capacity"),
    ),
    ("Nous rate limit recorded", Start, Notice("nous_rate_guard")),
    (
        " — entitlement-shaped 403 ",
        Anywhere,
        Notice("entitlement_403_skip_refresh"),
    ),
    (
        "Credential auth failure persists after ",
        Start,
        Notice("auth_refresh_exhausted"),
    ),
    (
        "Credential auth failure — refreshed pool entry ",
        Start,
        Refreshed,
    ),
    (" refreshed after 401", Anywhere, Refreshed),
    ("credentials refreshed from ", Anywhere, Refreshed),
    (
        "paid access verified — refreshed runtime credentials",
        Anywhere,
        Refreshed,
    ),
    (
        "Failed to rebuild Anthropic client after credential refresh",
        Start,
        Notice("client_rebuild_failed"),
    ),
    (
        "Authentication failed and could not be refreshed",
        Start,
        Switching,
    ),
    ("Failed to restore primary runtime", Start, RestoreFailed),
    (
        "Restore could not reload primary credential pool",
        Start,
        RestoreFailed,
    ),
    (
        "switch_model: credential pool reload failed",
        Start,
        RestoreFailed,
    ),
    (
        "credential pool: pruning DEAD manual entry",
        Start,
        Notice("pool_pruned_dead"),
    ),
    ("credits ▸ ", Start, Notice("credits")),
    (
        "credentials failed; falling through to next provider",
        Anywhere,
        Notice("provider_credentials_failed"),
    ),
    // streams
    (
        "Streaming failed after partial delivery",
        Start,
        Notice("stream_failed_partial"),
    ),
    ("superseded", Anywhere, Notice("stream_superseded")),
    ("Killing connection", Anywhere, Notice("stale_call_killed")),
    (
        "Stream kept dropping mid tool-call",
        Start,
        Notice("stream_retries_exhausted"),
    ),
    (
        "Stream interrupted mid tool-call",
        Start,
        Notice("stream_retry"),
    ),
    (" — reconnecting, retry ", Anywhere, Notice("stream_retry")),
    ("Stream ", Start, Notice("stream_retry")),
    (
        "Provider returned malformed streaming data after ",
        Start,
        Notice("gave_up"),
    ),
    (
        "Connection to provider failed after ",
        Start,
        Notice("gave_up"),
    ),
    (
        "dead connection(s) in client pool",
        Anywhere,
        Notice("dead_connections"),
    ),
    // the loop
    ("Making API call #", Start, Notice("api_call_started")),
    (
        "Outer loop error in API call #",
        Start,
        Notice("outer_loop_error"),
    ),
    ("Retrying API call (", Start, Notice("retry_announced")),
    (
        "Codex response status=",
        Start,
        Notice("codex_status_fallback"),
    ),
    (
        "No fallback provider configured — retrying",
        Start,
        Notice("no_fallback_retry"),
    ),
    ("Content filter terminated stream", Start, Switching),
    ("Interrupt detected during ", Start, Notice("interrupted")),
    ("Interrupted during API call", Start, Notice("interrupted")),
    (
        "Conversation completed after ",
        Start,
        Notice("run_summary"),
    ),
    ("API Calls: ", Start, Notice("run_summary")),
    ("Fallback chain (", Start, Notice("fallback_configured")),
    ("Fallback model: ", Start, Notice("fallback_configured")),
    ("Switched to fallback: ", Start, Notice("fallback_switched")),
    (
        "Transient agent failure in session ",
        Start,
        Notice("gateway_transient_failure"),
    ),
    // payload repaired or compressed, then retried
    (
        "compression failed after ",
        Anywhere,
        Notice("compression_failed"),
    ),
    (
        "Max compression attempts ",
        Start,
        Notice("compression_failed"),
    ),
    ("Max retries (", Start, Notice("invalid_output_exhausted")),
    ("Compressed ", Start, Notice("payload_retry")),
    ("Context reduced to ", Start, Notice("payload_retry")),
    (
        "Compression could not reduce the request further",
        Start,
        Notice("payload_retry"),
    ),
    (
        "Context length exceeded at minimum tier",
        Start,
        Notice("payload_retry"),
    ),
    (
        "Request payload too large (413) — compression attempt",
        Start,
        Notice("payload_retry"),
    ),
    (
        "Encrypted reasoning replay was rejected",
        Start,
        Notice("payload_retry"),
    ),
    ("Output cap too large", Start, Notice("payload_retry")),
    ("Stripped invalid surrogate", Start, Notice("payload_retry")),
    ("Surrogate encoding error", Start, Notice("payload_retry")),
    ("System encoding is ASCII", Start, Notice("payload_retry")),
    (
        "Thinking block signature invalid",
        Start,
        Notice("payload_retry"),
    ),
    (
        "Truncated tool call detected",
        Start,
        Notice("payload_retry"),
    ),
    (
        "rejected tool schema grammar",
        Anywhere,
        Notice("payload_retry"),
    ),
    (
        "exceeded provider size limit",
        Anywhere,
        Notice("payload_retry"),
    ),
    (
        "Provider rejected list-type tool content",
        Start,
        Notice("payload_retry"),
    ),
    (
        "support the 1M-context beta",
        Anywhere,
        Notice("payload_retry"),
    ),
    // eager fallback lines without the dash the fallback family needs
    (" Trying fallback", Anywhere, Switching),
    // remediation hints printed under an auth, billing or non-retryable failure
    (
        "OAuth token was rejected (HTTP 401)",
        Anywhere,
        AuthRejected,
    ),
    ("Re-authenticate: ", Anywhere, Notice("remediation_hint")),
    (
        "Then run `hermes auth` to re-authenticate",
        Anywhere,
        Notice("remediation_hint"),
    ),
    (
        "expired, revoked, or your account may be out of credits",
        Start,
        Notice("remediation_hint"),
    ),
    (
        "re-authenticate with xAI Grok OAuth",
        Start,
        Notice("remediation_hint"),
    ),
    ("way on every retry", Start, Notice("remediation_hint")),
    ("• Check credits", Start, Notice("remediation_hint")),
    (
        "• Configure a fallback provider",
        Start,
        Notice("remediation_hint"),
    ),
    (
        "• For Claude Code: run 'claude /login'",
        Start,
        Notice("remediation_hint"),
    ),
    (
        "• Verify stored credentials: ",
        Start,
        Notice("remediation_hint"),
    ),
    ("Most likely: ", Start, Notice("remediation_hint")),
    (
        "Run `hermes doctor` for credential-chain diagnostics",
        Start,
        Notice("remediation_hint"),
    ),
    (
        "This type of error won't be fixed by retrying",
        Start,
        Notice("remediation_hint"),
    ),
    (
        "Try /new to start a fresh conversation",
        Start,
        Notice("remediation_hint"),
    ),
    ("hermes fallback add", Start, Notice("remediation_hint")),
    (
        "Could not normalize fallback model ",
        Start,
        Notice("fallback_model_unnormalized"),
    ),
    (
        "Pre-API compression: ",
        Start,
        Notice("pre_call_compression"),
    ),
    // the provider resolver (its placeholder-key line is the turn family's)
    (
        "resolve_provider_client: ",
        Start,
        Notice("provider_unresolved"),
    ),
    // cron
    (
        "': fallback resolved to ",
        Anywhere,
        Notice("cron_fallback_resolved"),
    ),
    (
        "': loaded credential pool for provider ",
        Anywhere,
        Notice("cron_pool_loaded"),
    ),
    (
        "': primary auth failed (",
        Anywhere,
        Notice("cron_primary_auth_failed"),
    ),
];

static LITERALS: LazyLock<LiteralSet> = LazyLock::new(|| {
    let words: Vec<&str> = NOTICES.iter().map(|(w, _, _)| *w).collect();
    LiteralSet::new(&words)
});

/// Classify a notice-family message (already cleaned).
pub(super) fn classify(msg: &str, _rec: &Record) -> Option<EventKind> {
    let bytes = msg.as_bytes();
    let mut at = 0;
    while let Some((i, start, _)) = LITERALS.find(bytes, at) {
        let (_, place, becomes) = NOTICES.get(i)?;
        if matches!(place, Anywhere) || start == 0 {
            return Some(event(*becomes, msg));
        }
        at = start + 1;
    }
    None
}

fn event(becomes: Becomes, msg: &str) -> EventKind {
    match becomes {
        Notice(what) => EventKind::RequestNotice {
            what,
            text: msg.to_string(),
        },
        EmptyRetry => {
            // `— retry 2/3 (model=m)` or `— retrying (2/3)`
            let tail = msg.rsplit_once("retry").map_or("", |(_, t)| t);
            let tail = tail.trim_start_matches(|c: char| c.is_alphabetic() || c == ' ' || c == '(');
            let attempt = leading_u32(tail);
            let max = tail.split_once('/').and_then(|(_, m)| leading_u32(m));
            EventKind::EmptyResponseRetry { attempt, max }
        }
        AggregatorSkip => {
            let provider = msg
                .strip_prefix("Upstream provider ")
                .and_then(|r| r.split_once(" rate-limited"))
                .and_then(|(p, _)| field(p));
            EventKind::AggregatorRateLimitSkipRotation { provider }
        }
        Refreshed => {
            let entry = msg
                .split_once("refreshed pool entry ")
                .and_then(|(_, e)| field(e));
            let provider = [
                " auth refreshed",
                " credentials refreshed",
                " agent key refreshed",
                " token refreshed",
            ]
            .iter()
            .find_map(|w| msg.split_once(w))
            .and_then(|(p, _)| field(p));
            EventKind::CredentialRefreshed { provider, entry }
        }
        RestoreFailed => EventKind::RestoreFailed {
            text: msg.to_string(),
        },
        AuthRejected => EventKind::AuthRejectedNotice {
            text: msg.to_string(),
        },
        Switching => {
            let reason = [" — ", "; ", " Trying fallback"]
                .iter()
                .filter_map(|d| msg.find(d))
                .min()
                .and_then(|i| msg.get(..i))
                .unwrap_or(msg);
            EventKind::FallbackSwitching {
                reason: reason.trim().to_string(),
            }
        }
    }
}

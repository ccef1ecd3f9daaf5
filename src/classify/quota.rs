//! The shared table of quota / usage-limit / balance / budget wording and provider codes, and the
//! failure classification every rule uses.

use crate::model::{ErrorDetails, Event, EventKind};
use serde::Serialize;

/// What a failed attempt says about its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// Quota / usage-limit wall (usage_limit_reached, insufficient_quota, Z.AI 1113, weekly limit,
    /// a reset hours away): profile-level.
    QuotaWall,
    /// 402 / billing / credits exhausted: profile-level.
    Billing,
    /// 401/403 auth invalid, revoked token: profile-level.
    AuthInvalid,
    /// A plain 429 without quota wording: transient on its first occurrence.
    RateLimit,
    /// 5xx, 529 overloaded, timeout, connection error.
    Transient,
    /// The request was sent without a usable credential (`Missing Authentication header`,
    /// empty key, `no-key-required` placeholder): no credential could have caused it.
    ClientDefect,
    /// Anything else (400 format errors, 404, unknown).
    Other,
}

impl FailureClass {
    /// Profile-level failures say "this credential cannot serve now".
    pub fn is_profile_level(self) -> bool {
        matches!(
            self,
            FailureClass::QuotaWall | FailureClass::Billing | FailureClass::AuthInvalid
        )
    }
}

/// Which wall a quota-table phrase describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaKind {
    /// Usage limit / quota / balance / resource package: waits for a reset.
    Quota,
    /// Billing, credits, spending or budget limits: needs money or an admin.
    Billing,
}

/// The one table of quota and billing wording (lowercase; matched as substrings of the
/// lowercased text). Shared by every rule through [`quota_kind`] / [`failure_class`].
pub const QUOTA_PHRASES: &[(&str, QuotaKind)] = &[
    ("usage_limit_reached", QuotaKind::Quota),
    ("usage limit", QuotaKind::Quota),
    ("hit your usage limit", QuotaKind::Quota),
    ("weekly usage limit", QuotaKind::Quota),
    ("session usage limit", QuotaKind::Quota),
    ("insufficient_quota", QuotaKind::Quota),
    ("exceeded your current quota", QuotaKind::Quota),
    ("quota exceeded", QuotaKind::Quota),
    ("quota exhausted", QuotaKind::Quota),
    ("quota_exceeded", QuotaKind::Quota),
    ("resource_exhausted", QuotaKind::Quota),
    ("insufficient balance", QuotaKind::Quota),
    ("no resource package", QuotaKind::Quota),
    ("gousagelimit", QuotaKind::Quota),
    // 403s and 429s of plan-metered providers (Copilot-style monthly caps, weekly plan quotas,
    // Moonshot `exceeded_current_quota_error`; `allocated quota exceeded` is matched by
    // `quota exceeded`).
    ("monthly limit", QuotaKind::Quota),
    ("monthly quota", QuotaKind::Quota),
    ("weekly quota", QuotaKind::Quota),
    ("weekly limit", QuotaKind::Quota),
    ("exceeded_current_quota", QuotaKind::Quota),
    ("usage/credit exhaustion", QuotaKind::Billing),
    ("billing", QuotaKind::Billing),
    ("payment required", QuotaKind::Billing),
    ("credits exhausted", QuotaKind::Billing),
    ("insufficient credits", QuotaKind::Billing),
    ("out of credits", QuotaKind::Billing),
    ("credit balance is too low", QuotaKind::Billing),
    ("budget limit exceeded", QuotaKind::Billing),
    ("budget exceeded", QuotaKind::Billing),
    ("spending limit", QuotaKind::Billing),
    ("key limit exceeded", QuotaKind::Billing),
    // OpenRouter 402 `This request requires more credits`; Alibaba `Arrearage` (overdue account).
    ("requires more credits", QuotaKind::Billing),
    ("arrearage", QuotaKind::Billing),
];

/// Provider error codes / types (lowercase, compared to the whole `code` or `type`) that mean a
/// quota wall. Z.AI `1113` is "Insufficient balance or no resource package".
pub const QUOTA_CODES: &[&str] = &[
    "1113",
    "usage_limit_reached",
    "insufficient_quota",
    "resource_exhausted",
    "gousagelimiterror",
    "quota_exceeded",
];

/// Wording that says the request carried no usable credential (lowercase substrings).
pub const CLIENT_DEFECT_PHRASES: &[&str] = &[
    "missing authentication header",
    "no-key-required",
    "no api key",
    "api key is empty",
    "empty api key",
    "provider not configured",
    "no codex credentials",
    "no credentials stored",
];

/// Wording of invalid / revoked credentials (lowercase substrings).
const AUTH_PHRASES: &[&str] = &[
    "invalid api key",
    "invalid_api_key",
    "incorrect api key",
    "invalid x-api-key",
    "token_revoked",
    "token revoked",
    "token_invalidated",
    "invalid_token",
    "invalid_grant",
    "refresh_token_reused",
    "authentication failed",
    "authenticationerror",
    "permissiondeniederror",
    "user not found",
];

/// Wording of transient, provider-side failures (lowercase substrings).
const TRANSIENT_PHRASES: &[&str] = &[
    "overloaded",
    "apiconnectionerror",
    "apitimeouterror",
    "internalservererror",
    "connection error",
    "timed out",
    "timeout",
    "service unavailable",
    "bad gateway",
];

/// A reset at least this far away (seconds) is a quota wall rather than a rate limit.
pub const QUOTA_RESET_THRESHOLD_S: f64 = 1800.0;

/// The quota-table entry the text matches, if any (ASCII case-insensitive).
pub fn quota_kind(text: &str) -> Option<QuotaKind> {
    let lower = text.to_ascii_lowercase();
    if has_code_1113(&lower) {
        return Some(QuotaKind::Quota);
    }
    QUOTA_PHRASES
        .iter()
        .find(|(p, _)| lower.contains(p))
        .map(|&(_, k)| k)
}

/// Z.AI code 1113 written as a standalone number next to the word `code`.
fn has_code_1113(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.contains("code")
        && lower.match_indices("1113").any(|(i, _)| {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 4);
            !before.is_some_and(u8::is_ascii_digit) && !after.is_some_and(u8::is_ascii_digit)
        })
}

/// True when the text carries quota / usage-limit / balance / budget wording or a provider quota
/// code.
pub fn is_quota_text(text: &str) -> bool {
    quota_kind(text).is_some()
}

/// Seconds until the reset written in a console hint: `3h 59m`, `4h`, `45m`, `30s`, `14400 s`,
/// `resets in 2 hr 5 min`. `None` when no duration is found.
pub fn reset_hint_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut found = false;
    let mut rest = text;
    while let Some(pos) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = rest.get(pos..).unwrap_or("");
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(tail.len());
        let value: f64 = tail.get(..end).unwrap_or("").parse().unwrap_or(0.0);
        let after = tail.get(end..).unwrap_or("").trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let scale = match after.get(..unit_len).unwrap_or("") {
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "d" | "day" | "days" => 86400.0,
            _ => 0.0,
        };
        if scale > 0.0 {
            total += value * scale;
            found = true;
        }
        rest = after.get(unit_len..).unwrap_or("");
    }
    found.then_some(total)
}

/// Classify a failure from its HTTP status, exception type, parsed body and free text.
///
/// Order: ClientDefect > quota/billing wording or codes (QuotaWall / Billing) > 402 Billing >
/// a reset ≥ [`QUOTA_RESET_THRESHOLD_S`] away (QuotaWall) > 401/403 or auth wording
/// (AuthInvalid) > overload/5xx/timeouts (Transient) > 429 / rate-limit wording (RateLimit) >
/// Other.
pub fn failure_class(
    status: Option<u16>,
    error_type: Option<&str>,
    details: Option<&ErrorDetails>,
    text: &str,
) -> FailureClass {
    let mut all = String::with_capacity(text.len() + 64);
    all.push_str(text);
    for part in [error_type]
        .into_iter()
        .chain(details.map(|d| d.etype.as_deref()))
        .chain(details.map(|d| d.code.as_deref()))
        .chain(details.map(|d| d.message.as_deref()))
        .flatten()
    {
        all.push(' ');
        all.push_str(part);
    }
    let lower = all.to_ascii_lowercase();
    let status = status.or(details.and_then(|d| d.status));

    if CLIENT_DEFECT_PHRASES.iter().any(|p| lower.contains(p)) {
        return FailureClass::ClientDefect;
    }
    let code_quota = details.is_some_and(|d| {
        [d.code.as_deref(), d.etype.as_deref()]
            .into_iter()
            .flatten()
            .any(|c| QUOTA_CODES.contains(&c.to_ascii_lowercase().as_str()))
    });
    match (code_quota, quota_kind(&lower)) {
        (true, _) | (false, Some(QuotaKind::Quota)) => return FailureClass::QuotaWall,
        (false, Some(QuotaKind::Billing)) => return FailureClass::Billing,
        (false, None) => {}
    }
    if status == Some(402) {
        return FailureClass::Billing;
    }
    let far_reset = details.is_some_and(|d| {
        d.resets_in_seconds
            .or(d.retry_after)
            .is_some_and(|s| s >= QUOTA_RESET_THRESHOLD_S)
    }) || lower
        .find("resets in")
        .and_then(|i| {
            let hint = lower.get(i..).unwrap_or("");
            let end = hint.find([',', ';', '(']).unwrap_or(hint.len());
            let hint = hint.get(..end).unwrap_or("");
            reset_hint_seconds(hint.split(". ").next().unwrap_or(""))
        })
        .is_some_and(|s| s >= QUOTA_RESET_THRESHOLD_S);
    if far_reset {
        return FailureClass::QuotaWall;
    }
    if matches!(status, Some(401 | 403)) || AUTH_PHRASES.iter().any(|p| lower.contains(p)) {
        return FailureClass::AuthInvalid;
    }
    if matches!(status, Some(500..=599)) || TRANSIENT_PHRASES.iter().any(|p| lower.contains(p)) {
        return FailureClass::Transient;
    }
    if status == Some(429)
        || ["ratelimiterror", "rate_limit", "rate limit"]
            .iter()
            .any(|p| lower.contains(p))
    {
        return FailureClass::RateLimit;
    }
    FailureClass::Other
}

/// A quota or billing wall: the credential cannot serve until a reset or a payment.
pub(crate) fn is_wall(c: FailureClass) -> bool {
    matches!(c, FailureClass::QuotaWall | FailureClass::Billing)
}

/// The quota wording an event carries: a terminal summary, a stream failure, an error body, a
/// wait's parsed body, a non-retryable error or a pool mark's reason.
pub(crate) fn says_quota(ev: &Event) -> bool {
    match &ev.kind {
        EventKind::TerminalFailure {
            summary: Some(s),
            status,
            ..
        } => is_wall(failure_class(*status, None, None, s)),
        EventKind::StreamFailed {
            status,
            details,
            text,
        }
        | EventKind::NonRetryable {
            status,
            text,
            details,
        } => is_wall(failure_class(*status, None, details.as_deref(), text)),
        EventKind::AttemptFailed {
            status,
            error_type,
            summary,
            details,
            ..
        } => is_wall(failure_class(
            *status,
            error_type.as_deref(),
            details.as_deref(),
            summary.as_deref().unwrap_or(""),
        )),
        EventKind::Details { details }
        | EventKind::RetryScheduled {
            details: Some(details),
            ..
        } => is_wall(failure_class(None, None, Some(details), "")),
        EventKind::PoolMarked {
            reason: Some(r), ..
        } => is_quota_text(r),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::details::parse_details;

    #[test]
    fn quota_table_positive() {
        for t in [
            "usage_limit_reached",
            "You exceeded your current quota, please check your plan",
            "Insufficient balance or no resource package",
            "code=1113",
            "GoUsageLimitError: weekly usage limit",
            "You have hit your usage limit",
            "Quota exceeded for metric",
            "RESOURCE_EXHAUSTED",
            "budget limit exceeded",
            "Key limit exceeded",
            "Billing or credits exhausted",
            "402 Payment Required",
            "HTTP 403: You have reached your monthly limit for this model",
            "Allocated quota exceeded, please increase your quota limit",
            "HTTP 400: Your credit balance is too low to access the Anthropic API",
            "This request requires more credits, or fewer max_tokens",
        ] {
            assert!(is_quota_text(t), "{t}");
        }
        assert_eq!(
            quota_kind("spending limit reached"),
            Some(QuotaKind::Billing)
        );
        assert_eq!(quota_kind("insufficient_quota"), Some(QuotaKind::Quota));
    }

    #[test]
    fn quota_table_negative() {
        for t in [
            "403 Forbidden",
            "Rate limit reached for requests",
            "HTTP 429: Too Many Requests",
            "Connection error.",
            "Missing Authentication header",
            "model gpt-5.4 not found (1114 tokens)",
            "Error code: 400 - context is 11130 tokens",
            "HTTP 403: Your organization does not have access to this model",
        ] {
            assert!(!is_quota_text(t), "{t}");
        }
    }

    #[test]
    fn classes() {
        use FailureClass::*;
        let usage = parse_details("Error code: 429 - {'error': {'type': 'usage_limit_reached', 'message': 'The usage limit has been reached'}}");
        assert_eq!(
            failure_class(Some(429), Some("RateLimitError"), usage.as_deref(), ""),
            QuotaWall
        );
        let plain = parse_details(
            "{'error': {'type': 'rate_limit_error', 'message': 'Rate limit reached for requests'}}",
        );
        assert_eq!(
            failure_class(
                Some(429),
                Some("RateLimitError"),
                plain.as_deref(),
                "HTTP 429: Rate limit reached for requests"
            ),
            RateLimit
        );
        let missing =
            parse_details("{'error': {'message': 'Missing Authentication header', 'code': 401}}");
        assert_eq!(
            failure_class(Some(401), None, missing.as_deref(), ""),
            ClientDefect
        );
        assert_eq!(
            failure_class(
                Some(401),
                Some("AuthenticationError"),
                None,
                "HTTP 401: Invalid API key"
            ),
            AuthInvalid
        );
        assert_eq!(
            failure_class(Some(403), None, None, "403 Forbidden"),
            AuthInvalid
        );
        assert_eq!(
            failure_class(Some(403), None, None, "Key limit exceeded"),
            Billing
        );
        assert_eq!(
            failure_class(Some(402), None, None, "Payment required"),
            Billing
        );
        assert_eq!(failure_class(Some(402), None, None, ""), Billing);
        assert_eq!(
            failure_class(
                Some(429),
                None,
                None,
                "zai returned 429 code=1113 \"Insufficient balance\""
            ),
            QuotaWall
        );
        assert_eq!(
            failure_class(Some(503), None, None, "Service Unavailable"),
            Transient
        );
        assert_eq!(
            failure_class(Some(529), None, None, "overloaded_error"),
            Transient
        );
        assert_eq!(
            failure_class(None, Some("APIConnectionError"), None, "Connection error."),
            Transient
        );
        assert_eq!(
            failure_class(None, Some("APITimeoutError"), None, "Request timed out."),
            Transient
        );
        assert_eq!(
            failure_class(
                Some(400),
                Some("BadRequestError"),
                None,
                "invalid_request_error"
            ),
            Other
        );
        assert_eq!(
            failure_class(Some(404), None, None, "404 page not found"),
            Other
        );
        assert_eq!(
            failure_class(None, None, None, "no-key-required"),
            ClientDefect
        );
        let far =
            parse_details("{'error': {'type': 'rate_limit_error', 'resets_in_seconds': 14400}}");
        assert_eq!(
            failure_class(Some(429), None, far.as_deref(), ""),
            QuotaWall
        );
        assert_eq!(
            failure_class(Some(429), None, None, "Rate limited. Resets in 3h 59m."),
            QuotaWall
        );
        assert_eq!(
            failure_class(Some(429), None, None, "Rate limited. Resets in 20s."),
            RateLimit
        );
    }

    #[test]
    fn reset_hints() {
        assert_eq!(reset_hint_seconds("3h 59m"), Some(14340.0));
        assert_eq!(reset_hint_seconds("resets in 4h, retrying"), Some(14400.0));
        assert_eq!(reset_hint_seconds("2 hr 5 min"), Some(7500.0));
        assert_eq!(reset_hint_seconds("soon"), None);
    }
}

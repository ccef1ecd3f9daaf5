//! One test per catalog template (exact catalog text) plus corpus lines: message → EventKind.

use hermes_forensics::classify::quota::FailureClass;
use hermes_forensics::classify::{classify, event_failure_class};
use hermes_forensics::model::{ErrorDetails, EventKind, Loc, Record, Shape, Stamp};
use EventKind::*;

/// A single-line record whose message is `msg`.
fn rec(msg: &str) -> Record {
    rec_with(msg, &[])
}

/// A record with continuation lines.
fn rec_with(msg: &str, cont: &[&str]) -> Record {
    Record {
        loc: Loc { source: 0, line: 1 },
        end_line: 1 + cont.len() as u32,
        shape: Shape::Bare,
        time: Stamp::default(),
        level: None,
        session: None,
        logger: None,
        host: None,
        ident: None,
        pid: None,
        subagent: None,
        message: msg.to_string(),
        continuation: cont
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u32 + 2, t.to_string()))
            .collect(),
        raw: msg.to_string(),
        shares_line: false,
    }
}

/// A fixture file: first line is the message, the rest are continuation lines.
fn fixture(name: &str) -> Record {
    let path = format!("{}/fixtures/classify/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    rec_with(first, &rest)
}

fn c(msg: &str) -> EventKind {
    classify(&rec(msg))
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn details(f: impl FnOnce(&mut ErrorDetails)) -> Option<Box<ErrorDetails>> {
    let mut d = ErrorDetails::default();
    f(&mut d);
    Some(Box::new(d))
}

fn wait(wait_s: f64, attempt: Option<(u32, u32)>) -> EventKind {
    RetryScheduled {
        wait_s,
        attempt: attempt.map(|a| a.0),
        max: attempt.map(|a| a.1),
        policy: None,
        details: None,
        reset_hint: None,
    }
}

fn terminal(retries: Option<u32>, summary: Option<&str>, status: Option<u16>) -> EventKind {
    TerminalFailure {
        retries,
        summary: summary.map(str::to_string),
        status,
        provider: None,
        model: None,
    }
}

// ---------------------------------------------------------------- §2.3 console error block

#[test]
fn console_attempt_block_folds_detail_lines() {
    assert_eq!(
        classify(&fixture("console-attempt-429.txt")),
        AttemptFailed {
            attempt: 1,
            max: 3,
            error_type: s("RateLimitError"),
            status: Some(429),
            provider: s("custom"),
            model: s("fake-model-1"),
            base_url: s("http://127.0.0.1:18081/v1"),
            thread: None,
            summary: s("HTTP 429: Rate limit reached for requests"),
            details: details(|d| {
                d.etype = s("rate_limit_error");
                d.message = s("Rate limit reached for requests");
            }),
        }
    );
}

#[test]
fn console_attempt_block_with_glyphs_stripped() {
    assert_eq!(
        classify(&fixture("console-attempt-stripped.txt")),
        AttemptFailed {
            attempt: 1,
            max: 3,
            error_type: s("APIConnectionError"),
            status: None,
            provider: s("openai-codex"),
            model: s("gpt-5.4"),
            base_url: s("https://chatgpt.com/backend-api/codex"),
            thread: None,
            summary: s("Connection error."),
            details: None,
        }
    );
}

#[test]
fn console_attempt_journal_compact_details() {
    let r = rec_with(
        "⚠️ API call failed (attempt 1/4): RateLimitError [HTTP 429]",
        &["   📋 Details: {'type':'usage_limit_reached','plan_type':'prolite','resets_at':1778538925}"],
    );
    let EventKind::AttemptFailed {
        attempt,
        max,
        status,
        details: Some(d),
        ..
    } = classify(&r)
    else {
        panic!("not an attempt");
    };
    assert_eq!((attempt, max, status), (1, 4, Some(429)));
    assert_eq!(d.fingerprint().as_deref(), Some("prolite@1778538925"));
    assert_eq!(d.etype.as_deref(), Some("usage_limit_reached"));
}

#[test]
fn console_waits() {
    assert_eq!(
        c("⏱️ Rate limited. Waiting 2.1s (attempt 2/4)..."),
        wait(2.1, Some((2, 4)))
    );
    assert_eq!(
        c("Rate limited. Waiting 2.1s (attempt 2/4)..."),
        wait(2.1, Some((2, 4)))
    );
    assert_eq!(
        c("⏳ Retrying in 2.4s (attempt 1/3)..."),
        wait(2.4, Some((1, 3)))
    );
    assert_eq!(
        c("⏱️ Rate limit reached. Waiting 4s before retry (attempt 2/3)..."),
        wait(4.0, Some((2, 3)))
    );
    assert_eq!(
        c("⏳ Retrying in 5.0s (upstream provider overloaded (503))..."),
        wait(5.0, None)
    );
    assert_eq!(
        c("⏱️ Provider overloaded. Waiting 12.0s (attempt 2/5) (Z.AI Coding overload short retry)..."),
        RetryScheduled {
            wait_s: 12.0,
            attempt: Some(2),
            max: Some(5),
            policy: s("Z.AI Coding overload short retry"),
            details: None,
            reset_hint: None,
        }
    );
}

#[test]
fn console_wait_with_reset_hint_and_policy() {
    assert_eq!(
        c("⏱️ Rate limited. Resets in 3h 59m. Waiting 60.0s (attempt 2/3) (Z.AI Coding overload adaptive long backoff)..."),
        RetryScheduled {
            wait_s: 60.0,
            attempt: Some(2),
            max: Some(3),
            policy: s("Z.AI Coding overload adaptive long backoff"),
            details: None,
            reset_hint: s("3h 59m"),
        }
    );
}

#[test]
fn live_wait_lines() {
    assert_eq!(
        c("⏳ rate limited — resets in 4h, retrying in 60s (attempt 2/3)"),
        RetryScheduled {
            wait_s: 60.0,
            attempt: Some(2),
            max: Some(3),
            policy: None,
            details: None,
            reset_hint: s("4h"),
        }
    );
    assert_eq!(
        c("⏳ waiting on provider — retrying in 8s (attempt 1/3)"),
        wait(8.0, Some((1, 3)))
    );
}

#[test]
fn invalid_response_console_and_log() {
    assert_eq!(
        classify(&fixture("console-invalid-response.txt")),
        AttemptFailed {
            attempt: 2,
            max: 3,
            error_type: s("InvalidResponse"),
            status: None,
            provider: s("openrouter"),
            model: None,
            base_url: None,
            thread: None,
            summary: s("response.choices is empty"),
            details: None,
        }
    );
    assert_eq!(
        c("Invalid API response (retry 1/3): response.choices is empty | Provider: openrouter"),
        AttemptFailed {
            attempt: 1,
            max: 3,
            error_type: s("InvalidResponse"),
            status: None,
            provider: s("openrouter"),
            model: None,
            base_url: None,
            thread: None,
            summary: s("response.choices is empty"),
            details: None,
        }
    );
    assert_eq!(
        c("Invalid API response after 3 retries."),
        terminal(Some(3), Some("Invalid API response after 3 retries."), None)
    );
}

#[test]
fn eager_fallback_switching_lines() {
    for (line, reason) in [
        ("⚠️ Rate limited — switching to fallback provider...", "Rate limited"),
        ("⚠️ Billing or credits exhausted — switching to fallback provider...", "Billing or credits exhausted"),
        (
            "⚠️ Provider reported usage/credit exhaustion (unverified — may be a content-filter rejection) — switching to fallback provider...",
            "Provider reported usage/credit exhaustion (unverified — may be a content-filter rejection)",
        ),
        ("⚠️ Provider unreachable — switching to fallback provider...", "Provider unreachable"),
        ("⚠️ Upstream aggregator rate-limited — switching to fallback model...", "Upstream aggregator rate-limited"),
        (
            "🔐 Authentication failed and could not be refreshed — switching to fallback provider...",
            "Authentication failed and could not be refreshed",
        ),
        ("⚠️ Non-retryable error (HTTP 400) — trying fallback...", "Non-retryable error (HTTP 400)"),
        ("⚠️ Provider safety filter blocked this request — trying fallback...", "Provider safety filter blocked this request"),
        ("⚠️ TLS certificate verification failed — trying fallback...", "TLS certificate verification failed"),
        ("⚠️ Max retries (4) exhausted — trying fallback...", "Max retries (4) exhausted"),
        ("⏳ Nous Portal rate limit active — resets in 3h. Trying fallback...", "Nous Portal rate limit active"),
        ("⚠️ Empty/malformed response — switching to fallback...", "Empty/malformed response"),
        ("⚠️ Max retries (3) for invalid responses — trying fallback...", "Max retries (3) for invalid responses"),
        ("Provider unreachable — switching to fallback provider...", "Provider unreachable"),
    ] {
        assert_eq!(c(line), FallbackSwitching { reason: reason.to_string() }, "{line}");
    }
    assert_eq!(c("Rate limited; trying fallback chain entries now"), Other);
    assert_eq!(
        c("Upstream provider zai rate-limited via aggregator — skipping credential rotation, deferring to fallback chain"),
        AggregatorRateLimitSkipRotation { provider: s("zai") }
    );
}

#[test]
fn console_terminal_lines() {
    assert_eq!(
        c("❌ Non-retryable error (HTTP 400): HTTP 400: Upstream request failed"),
        NonRetryable {
            status: Some(400),
            text: "HTTP 400: Upstream request failed".into(),
            details: None
        }
    );
    assert_eq!(
        classify(&fixture("console-non-retryable-400.txt")),
        NonRetryable {
            status: Some(401),
            text: "Non-retryable client error (HTTP 401). Aborting.".into(),
            details: None
        }
    );
    assert_eq!(
        c("❌ Billing or credits exhausted — HTTP 402: Insufficient credits"),
        terminal(None, Some("HTTP 402: Insufficient credits"), Some(402))
    );
    assert_eq!(
        c("❌ Rate limited after 3 retries — HTTP 429: The usage limit has been reached"),
        terminal(
            Some(3),
            Some("HTTP 429: The usage limit has been reached"),
            Some(429)
        )
    );
    assert_eq!(
        classify(&fixture("console-rate-limited-terminal.txt")),
        terminal(
            Some(3),
            Some("HTTP 429: Rate limit reached for requests"),
            Some(429)
        )
    );
    assert_eq!(
        classify(&rec_with(
            "❌ API failed after 3 retries — ...",
            &["   💀 Final error: HTTP 503: Service Unavailable"]
        )),
        terminal(Some(3), Some("HTTP 503: Service Unavailable"), Some(503))
    );
    assert_eq!(
        c("❌ Max retries (3) exceeded for invalid responses. Giving up."),
        terminal(
            Some(3),
            Some("Max retries (3) exceeded for invalid responses. Giving up."),
            None
        )
    );
    assert_eq!(
        c("❌ All API retries exhausted with no successful response."),
        terminal(
            None,
            Some("All API retries exhausted with no successful response."),
            None
        )
    );
}

#[test]
fn credential_refresh_and_rebuild_lines() {
    assert_eq!(
        c("🔐 Codex auth refreshed after 401. Retrying request..."),
        CredentialRefreshed {
            provider: s("Codex"),
            entry: None
        }
    );
    assert_eq!(
        c("🔐 Nous 401 — Portal authentication failed."),
        AuthRejectedNotice {
            text: "Nous 401 — Portal authentication failed.".into()
        }
    );
    assert_eq!(
        c("🔐 Anthropic 401 — authentication failed."),
        AuthRejectedNotice {
            text: "Anthropic 401 — authentication failed.".into()
        }
    );
    assert_eq!(
        c("💡 Your API key was rejected by the provider. Check:"),
        AuthRejectedNotice {
            text: "Your API key was rejected by the provider. Check:".into()
        }
    );
    assert_eq!(
        c("🔁 Transient APIConnectionError on openai-codex — rebuilt client, waiting 3s before one last primary attempt."),
        RetryScheduled {
            wait_s: 3.0,
            attempt: None,
            max: None,
            policy: s("rebuilt client"),
            details: None,
            reset_hint: None
        }
    );
}

#[test]
fn context_and_per_call_console_lines() {
    // Payload compression and the call announcement are notices of the request...
    for (line, what) in [
        (
            "⚠️  Request payload too large (413) — compression attempt 1/3...",
            "payload_retry",
        ),
        (
            "🗜️ Compressed 40 → 12 messages, retrying...",
            "payload_retry",
        ),
        ("🔄 Making API call #3/90...", "api_call_started"),
    ] {
        assert!(
            matches!(c(line), RequestNotice { what: w, .. } if w == what),
            "{line}"
        );
    }
    // ...the rest say nothing about its fate.
    for line in [
        "🗜️ Context too large (~210,000 tokens) — compressing (1/3)...",
        "⚠️  Context length exceeded — using provider limit: 200,000 → 128,000 tokens",
        "❌ Context length exceeded and cannot compress further.",
        "   💾 Cache: 76,544/77,511 tokens (99% hit, 0 written)",
        "🚫 This account is not entitled to gpt-5.5 via openai-codex; it will be skipped until restart...",
    ] {
        assert!(!c(line).is_request_event(), "{line}");
    }
    assert_eq!(
        c("⏱️  API call completed in 2.31s"),
        Success {
            call: None,
            model: None,
            provider: None
        }
    );
}

// ---------------------------------------------------------------- §2.4 / §2.5 notices

#[test]
fn model_fallback_notice() {
    let expected = FallbackNotice {
        from_model: s("gpt-5.5"),
        from_provider: s("openai-codex"),
        to_model: s("glm-5.1"),
        to_provider: s("zai"),
        reason: s("rate limit"),
    };
    assert_eq!(c("⚠️ Model fallback: gpt-5.5 via openai-codex unavailable (rate limit); using glm-5.1 via zai."), expected);
    assert_eq!(
        c("⚠️ Model fallback: gpt-5.5 via openai-codex unavailable (rate limit); using glm-5.1 via zai. Primary retry eligible in ~60 s; recovery is not guaranteed."),
        expected
    );
    assert_eq!(
        c("🔄 Primary model failed — switching to fallback: anthropic/claude-sonnet-4.6 via openrouter"),
        FallbackNotice {
            from_model: None,
            from_provider: None,
            to_model: s("anthropic/claude-sonnet-4.6"),
            to_provider: s("openrouter"),
            reason: s("primary model failed"),
        }
    );
}

#[test]
fn primary_restored_console_and_log() {
    let console = PrimaryRestored {
        model: "gpt-5.5".into(),
        provider: s("openai-codex"),
        console: true,
    };
    assert_eq!(
        c("✅ Primary model restored: gpt-5.5 via openai-codex; fallback glm-5.1 via zai is no longer active."),
        console
    );
    assert_eq!(
        c("✅ Primary model restored: gpt-5.5 via openai-codex; fallback is no longer active."),
        console
    );
    assert_eq!(
        c("Primary runtime restored for new turn: gpt-5.5 (openai-codex)"),
        PrimaryRestored {
            model: "gpt-5.5".into(),
            provider: s("openai-codex"),
            console: false
        }
    );
}

#[test]
fn chat_facing_sanitized_replies() {
    assert_eq!(
        c("⚠️ Provider authentication failed. Check the configured credentials; raw provider details are in the gateway logs."),
        AuthRejectedNotice {
            text: "Provider authentication failed. Check the configured credentials; raw provider details are in the gateway logs.".into()
        }
    );
    assert_eq!(
        c("⏱️ The model provider is rate-limiting requests. Please wait a moment and try again."),
        terminal(
            None,
            Some(
                "The model provider is rate-limiting requests. Please wait a moment and try again."
            ),
            Some(429)
        )
    );
    let msg = "The model provider failed after retries. I kept raw provider details out of chat; check gateway logs for diagnostics.";
    assert_eq!(c(&format!("⚠️ {msg}")), terminal(None, Some(msg), None));
}

// ---------------------------------------------------------------- §3 credential pool

#[test]
fn pool_lines() {
    assert_eq!(
        c("credential pool: no available entries (all exhausted or empty)"),
        PoolNoAvailable
    );
    assert_eq!(
        c("credential pool: marking prim-acct-1 exhausted (status=429), rotating"),
        PoolMarked {
            label: "prim-acct-1".into(),
            status: Some(429),
            dead: false,
            reason: None
        }
    );
    assert_eq!(
        c("credential pool: marking openai-codex-oauth-2 exhausted"),
        PoolMarked {
            label: "openai-codex-oauth-2".into(),
            status: None,
            dead: false,
            reason: None
        }
    );
    assert_eq!(
        c("credential pool: marking api-key-1 DEAD (status=401, reason=token_revoked) — permanently failed, will NOT re-enter rotation until re-auth"),
        PoolMarked { label: "api-key-1".into(), status: Some(401), dead: true, reason: s("token_revoked") }
    );
    assert_eq!(
        c("credential pool: rotated to prim-acct-2"),
        PoolRotated {
            to: "prim-acct-2".into()
        }
    );
    assert_eq!(
        c("credential pool: rotation returned the just-marked entry prim-acct-1 — treating as no-recovery so the failure surfaces"),
        PoolRotationReturnedSame { label: "prim-acct-1".into() }
    );
    assert_eq!(
        c("credential pool: claude-max-1 unavailable for model claude-opus-4.8; other models stay available"),
        PoolModelCooldown { label: "claude-max-1".into(), model: "claude-opus-4.8".into() }
    );
    assert_eq!(
        c("credential pool: failed credential identity matched no openrouter entry; rotating without marking any credential exhausted"),
        PoolIdentityNoMatch { provider: "openrouter".into() }
    );
    assert_eq!(
        c("credential pool: failed credential identity matched no openrouter entry for 3 consecutive rotations (pool size 2) — surfacing the error instead of rotating again"),
        PoolIdentityNoMatch { provider: "openrouter".into() }
    );
}

#[test]
fn pool_recovery_lines() {
    for (line, status, cause) in [
        (
            "Credential 429 (rate limit) — rotated to pool entry 3f9a1c",
            429,
            "rate limit",
        ),
        (
            "Credential 402 (billing) — rotated to pool entry 3f9a1c",
            402,
            "billing",
        ),
        (
            "Credential 429 (rate limit, pre-exhausted) — rotated to pool entry 3f9a1c",
            429,
            "rate limit, pre-exhausted",
        ),
        (
            "Credential 401 (auth refresh failed) — rotated to pool entry 3f9a1c",
            401,
            "auth refresh failed",
        ),
    ] {
        assert_eq!(
            c(line),
            PoolRecoveryRotated {
                status: Some(status),
                cause: cause.into(),
                to_id: "3f9a1c".into()
            },
            "{line}"
        );
    }
    assert_eq!(
        c("Credential already exhausted (last_status=exhausted) — rotating immediately instead of retrying"),
        PoolAlreadyExhausted { last_status: "exhausted".into() }
    );
    assert_eq!(
        c("Credential pool provider mismatch: pool=openai-codex, agent=zai — skipping pool mutation to avoid cross-provider contamination"),
        PoolProviderMismatch { pool: "openai-codex".into(), agent: "zai".into() }
    );
    assert_eq!(
        c("Credential auth failure — refreshed pool entry 3f9a1c"),
        CredentialRefreshed {
            provider: None,
            entry: s("3f9a1c")
        }
    );
}

#[test]
fn restore_pool_entry_lines() {
    assert_eq!(
        c("Restore re-selected pool entry 3f9a1c (openai-codex)"),
        RestorePoolEntry {
            entry: "3f9a1c".into(),
            provider: s("openai-codex"),
            skipped: false
        }
    );
    assert_eq!(
        c("Restore skipped pool entry 3f9a1c (zai): provider zai does not match primary provider openai-codex"),
        RestorePoolEntry { entry: "3f9a1c".into(), provider: s("zai"), skipped: true }
    );
}

#[test]
fn profile_rotation_single_and_multi_line() {
    let expected = ProfileRotation {
        provider: s("openai-codex"),
        from: s("<sha>"),
        to: s("<sha>"),
        reason: s("rate_limit"),
        attempt: Some(2),
        max: Some(4),
        remaining: Some(1),
    };
    assert_eq!(
        classify(&fixture("profile-rotation-multiline.txt")),
        expected
    );
    assert_eq!(
        c(
            r#"INFO {"event":"profile_rotation","provider":"openai-codex","from_profile":"<sha>","to_profile":"<sha>","reason":"rate_limit","attempt":2,"max":4,"remaining_profiles":1}"#
        ),
        expected
    );
    assert_eq!(c(r#"{"event":"other","profile_rotation":1}"#), Other);
}

// ---------------------------------------------------------------- §4.1 retry loop (log side)

#[test]
fn log_attempt_failed_full_context() {
    assert_eq!(
        c("API call failed (attempt 1/3) error_type=RateLimitError thread=Thread-4 (run_agent):140241067308736 provider=custom base_url=http://127.0.0.1:18081/v1 model=fake-model-1 summary=HTTP 429: Rate limit reached for requests"),
        AttemptFailed {
            attempt: 1,
            max: 3,
            error_type: s("RateLimitError"),
            status: Some(429),
            provider: s("custom"),
            model: s("fake-model-1"),
            base_url: s("http://127.0.0.1:18081/v1"),
            thread: s("Thread-4 (run_agent):140241067308736"),
            summary: s("HTTP 429: Rate limit reached for requests"),
            details: None,
        }
    );
}

#[test]
fn log_attempt_failed_empty_and_trimmed_context() {
    assert_eq!(
        c("API call failed (attempt 3/3) error_type=NotFoundError thread=MainThread:140319783430016 provider= base_url=https://api.minimaxi.com/anthropic model= summary=HTTP 404: 404 page not found"),
        AttemptFailed {
            attempt: 3,
            max: 3,
            error_type: s("NotFoundError"),
            status: Some(404),
            provider: None,
            model: None,
            base_url: s("https://api.minimaxi.com/anthropic"),
            thread: s("MainThread:140319783430016"),
            summary: s("HTTP 404: 404 page not found"),
            details: None,
        }
    );
    assert_eq!(
        c("API call failed (attempt 1/3) error_type=APIConnectionError provider=deepseek ... model=deepseek-v4-pro"),
        AttemptFailed {
            attempt: 1,
            max: 3,
            error_type: s("APIConnectionError"),
            status: None,
            provider: s("deepseek"),
            model: s("deepseek-v4-pro"),
            base_url: None,
            thread: None,
            summary: None,
            details: None,
        }
    );
}

#[test]
fn log_retry_scheduled_forms() {
    assert_eq!(
        c("Retrying API call in 2.1745378889606872s (attempt 1/3) thread=Thread-4 (run_agent):140241067308736 provider=custom base_url=http://127.0.0.1:18081/v1 model=fake-model-1 policy=default error=Error code: 429 - {'error': {'type': 'rate_limit_error', 'message': 'Rate limit reached for requests'}}"),
        RetryScheduled {
            wait_s: 2.1745378889606872,
            attempt: Some(1),
            max: Some(3),
            policy: s("default"),
            details: details(|d| {
                d.status = Some(429);
                d.etype = s("rate_limit_error");
                d.message = s("Rate limit reached for requests");
            }),
            reset_hint: None,
        }
    );
    assert_eq!(
        c("Retrying API call in 4.207433208483075s (attempt 2/3) thread=... error=404 page not found"),
        wait(4.207433208483075, Some((2, 3)))
    );
    assert_eq!(
        c("Retrying API call in 4s (attempt 2/3) thread=MainThread:1 provider=zai base_url=https://api.z.ai/api/coding/paas/v4 model=glm-5.1 error=Error code: 429 - {'error': {'code': '1113', 'message': 'Insufficient balance or no resource package. Please recharge.'}}"),
        RetryScheduled {
            wait_s: 4.0,
            attempt: Some(2),
            max: Some(3),
            policy: None,
            details: details(|d| {
                d.status = Some(429);
                d.code = s("1113");
                d.message = s("Insufficient balance or no resource package. Please recharge.");
            }),
            reset_hint: None,
        }
    );
}

#[test]
fn log_terminal_failure_forms() {
    let expected = TerminalFailure {
        retries: Some(3),
        summary: s("HTTP 429: Rate limit reached for requests"),
        status: Some(429),
        provider: s("custom"),
        model: s("fake-model-1"),
    };
    let line = "API call failed after 3 retries. HTTP 429: Rate limit reached for requests | provider=custom model=fake-model-1 msgs=2 tokens=~2,446";
    assert_eq!(c(line), expected);
    let mut sub = rec(line);
    sub.subagent = Some(2);
    assert_eq!(classify(&sub), expected);
    assert_eq!(
        c("API call failed after 3 retries. HTTP 404: 404 page not found | provider= model= msgs=2 tokens=~3,558"),
        TerminalFailure {
            retries: Some(3),
            summary: s("HTTP 404: 404 page not found"),
            status: Some(404),
            provider: None,
            model: None,
        }
    );
}

#[test]
fn stdout_response_panel_terminal_reply() {
    assert_eq!(
        c("API call failed after 3 retries: HTTP 429: Rate limit reached for"),
        TerminalFailure {
            retries: Some(3),
            summary: s("HTTP 429: Rate limit reached for"),
            status: Some(429),
            provider: None,
            model: None,
        }
    );
}

#[test]
fn log_non_retryable_client_error() {
    assert_eq!(
        c("Non-retryable client error: Error code: 401 - {'error': {'message': 'User not found.', 'code': 401}}"),
        NonRetryable {
            status: Some(401),
            text: "Error code: 401 - {'error': {'message': 'User not found.', 'code': 401}}".into(),
            details: details(|d| {
                d.status = Some(401);
                d.message = s("User not found.");
                d.code = s("401");
            }),
        }
    );
}

#[test]
fn log_success_and_turn_bracket() {
    assert_eq!(
        c("API call #20: model=deepseek/deepseek-v4-flash-0731 provider=openrouter in=77511 out=169 total=77680 latency=5.0s cache=76544/77511 (99%)"),
        Success { call: Some(20), model: s("deepseek/deepseek-v4-flash-0731"), provider: s("openrouter") }
    );
    assert_eq!(
        c("Turn ended: reason=text_response(finish_reason=stop) model=deepseek/deepseek-v4-flash-0731 api_calls=4/60 budget=4/60 tool_turns=17 last_msg_role=assistant response_len=682 session=20260815_232112_71febe"),
        TurnEnd { reason: s("text_response(finish_reason=stop)"), session: s("20260815_232112_71febe") }
    );
    assert_eq!(
        c("Turn ended with pending tool result (agent may appear stuck). Turn ended: reason=max_iterations model=m api_calls=60/60 budget=60/60 tool_turns=59 last_msg_role=tool response_len=0 session=20260815_232112_71febe task=t1 last_tool=terminal"),
        TurnEnd { reason: s("max_iterations"), session: s("20260815_232112_71febe") }
    );
    assert_eq!(
        c("conversation turn: session=20260815_232112_71febe model=deepseek/deepseek-v4-flash-0731 provider=openrouter platform=desktop history=46 msg='give the current one in this format'"),
        TurnStart {
            session: s("20260815_232112_71febe"),
            model: s("deepseek/deepseek-v4-flash-0731"),
            provider: s("openrouter"),
            platform: s("desktop"),
        }
    );
    assert_eq!(c("Error classified: reason=rate_limit status=429 retryable=True compress=False rotate=True fallback=True"), Other);
}

// ---------------------------------------------------------------- §4.2 fallback activation

#[test]
fn fallback_activated_forms() {
    let act = |from: &str, to: &str, p: Option<&str>| FallbackActivated {
        from_model: from.into(),
        to_model: to.into(),
        to_provider: p.map(str::to_string),
    };
    assert_eq!(
        c("Fallback activated: gpt-5.5 → glm-5.1 (zai)"),
        act("gpt-5.5", "glm-5.1", Some("zai"))
    );
    assert_eq!(
        c("Fallback activated: gpt-5.5 -> glm-5.1 (zai)"),
        act("gpt-5.5", "glm-5.1", Some("zai"))
    );
    assert_eq!(
        c("Fallback activated: deepseek-v4-pro → nvidia/nemotron-3-ultra-550b-a55b (nvidia)"),
        act(
            "deepseek-v4-pro",
            "nvidia/nemotron-3-ultra-550b-a55b",
            Some("nvidia")
        )
    );
    assert_eq!(
        c("Fallback activated: claude-opus-4.8 → deepseek-ai/DeepSeek-V4-Pro (sf)"),
        act("claude-opus-4.8", "deepseek-ai/DeepSeek-V4-Pro", Some("sf"))
    );
    assert_eq!(
        c("Fallback activated: gpt-5.5 → nemotron-3-super-120b-a12b:free"),
        act("gpt-5.5", "nemotron-3-super-120b-a12b:free", None)
    );
}

#[test]
fn fallback_pool_lines() {
    assert_eq!(
        c("Fallback to zai/glm-5.1: clearing primary credential pool (pool_provider=openai-codex) to prevent cross-provider contamination"),
        FallbackPoolCleared { provider: "zai".into(), model: s("glm-5.1"), pool_provider: s("openai-codex") }
    );
    assert_eq!(
        c("Fallback to nvidia/nvidia/nemotron-3-ultra-550b-a55b: clearing primary credential pool"),
        FallbackPoolCleared {
            provider: "nvidia".into(),
            model: s("nvidia/nemotron-3-ultra-550b-a55b"),
            pool_provider: None
        }
    );
    assert_eq!(
        c("Fallback to zai/glm-5.1: attached fallback credential pool"),
        FallbackPoolAttached {
            provider: "zai".into(),
            model: s("glm-5.1")
        }
    );
}

#[test]
fn fallback_failures_and_skips() {
    assert_eq!(
        c("Fallback to ollama failed: provider not configured"),
        FallbackFailed {
            target: "ollama".into(),
            text: "provider not configured".into()
        }
    );
    assert_eq!(
        c("Failed to activate fallback zai: missing API key"),
        FallbackFailed {
            target: "zai".into(),
            text: "missing API key".into()
        }
    );
    for (line, target, same) in [
        ("Fallback skip: zai previously marked unavailable", "zai", false),
        ("Fallback skip: openai-codex/gpt-5.5 was rejected as unentitled for this account", "openai-codex/gpt-5.5", false),
        ("Fallback skip: ollama/llama3 is not locally usable (no server); suppressing for this session", "ollama/llama3", false),
        ("Fallback skip: chain entry openrouter/glm-5.1 resolves to the same backend as the current one (openrouter)", "openrouter/glm-5.1", true),
    ] {
        assert_eq!(c(line), FallbackSkip { target: target.into(), same_backend: same }, "{line}");
    }
    assert_eq!(
        c("Fallback zai: reasoning_config resolved: {'effort': 'high'}"),
        Other
    );
}

// ---------------------------------------------------------------- §4.3 gateway

#[test]
fn gateway_primary_failed() {
    assert_eq!(
        c("Primary provider rate-limited (429): Codex provider quota exhausted (429); retry after 3600s. Credentials are still valid. — trying fallback"),
        GatewayPrimaryFailed {
            auth: false,
            text: "Codex provider quota exhausted (429); retry after 3600s. Credentials are still valid.".into()
        }
    );
    let text = "No Codex credentials stored. Run `hermes auth` to authenticate.";
    let expected = GatewayPrimaryFailed {
        auth: true,
        text: text.into(),
    };
    assert_eq!(
        c(
            r"Primary provider auth failed: No Codex credentials stored. Run \`hermes auth\` to authenticate."
        ),
        expected
    );
    assert_eq!(
        c(&format!(
            "Primary provider auth failed: {text} — trying fallback"
        )),
        expected
    );
}

#[test]
fn gateway_inbound_response_and_resolution() {
    assert_eq!(
        c("inbound message: platform=telegram user=DocA chat=5192807992 msg='h'"),
        GatewayInbound {
            platform: s("telegram"),
            user: s("DocA"),
            chat: s("5192807992")
        }
    );
    assert_eq!(
        c("inbound message: platform=telegram user=DocA chat=5192807992 msg='hi there' reply_to_id=None reply_to_text=None queued=False"),
        GatewayInbound { platform: s("telegram"), user: s("DocA"), chat: s("5192807992") }
    );
    assert_eq!(
        c("response ready: platform=telegram chat=5192807992 time=0.7s api_calls=1 response=75 chars"),
        GatewayResponse { platform: s("telegram"), chat: s("5192807992"), session: None, api_calls: Some(1) }
    );
    assert_eq!(
        c("response ready: platform=telegram chat=5192807992 session=20260422_121111_9c914d time=12.3s api_calls=4 response=812 chars"),
        GatewayResponse {
            platform: s("telegram"),
            chat: s("5192807992"),
            session: s("20260422_121111_9c914d"),
            api_calls: Some(4)
        }
    );
    assert_eq!(
        c("Fallback provider resolved: openrouter model=<X>"),
        FallbackResolved {
            provider: "openrouter".into(),
            model: s("<X>")
        }
    );
    assert_eq!(c("Received SIGTERM — initiating shutdown"), Other);
}

// ---------------------------------------------------------------- §4.4 cooldown, §4.5 client

#[test]
fn cooldown_notices() {
    for line in [
        "Rate-limit backoff level 2: cooldown 120 s (2.0 min, backoff#2, exponential fallback)",
        "Rate limit resets in 42 s (< fallback.min_switch_reset_seconds=60): staying on the primary",
        "Primary openai-codex rate-limited until 2026-05-08T22:41:08Z; staying on fallback zai/glm-5.1 until the reset elapses",
    ] {
        assert_eq!(c(line), CooldownNotice { text: line.into() }, "{line}");
    }
    assert_eq!(
        c("Model entitlement rejection: this account is not entitled to gpt-5.5 via openai-codex; treating it as unavailable for this session"),
        Other
    );
}

#[test]
fn client_lifecycle_and_stream_errors() {
    assert_eq!(
        c("OpenAI client created (chat_completion_stream_request, shared=False) thread=Thread-3 (_call):6199881728 provider=openrouter base_url=https://openrouter.ai/api/v1 model=nvidia/nemotron-3-super-120b-a12b:free"),
        ClientCreated {
            reason: "chat_completion_stream_request".into(),
            thread: s("Thread-3 (_call):6199881728"),
            provider: s("openrouter"),
            base_url: s("https://openrouter.ai/api/v1"),
            model: s("nvidia/nemotron-3-super-120b-a12b:free"),
        }
    );
    assert_eq!(
        c("OpenAI client closed (stream_request_complete, shared=False, tcp_force_closed=1) thread=Thread-3 (_call):6199881728 provider=openrouter base_url=https://openrouter.ai/api/v1 model=x"),
        Other
    );
    assert_eq!(
        c("Streaming failed before delivery: Error code: 401 - {'error': {'message': 'Missing Authentication header', 'code': 401}}"),
        StreamFailed {
            status: Some(401),
            details: details(|d| {
                d.status = Some(401);
                d.message = s("Missing Authentication header");
                d.code = s("401");
            }),
            text: "Error code: 401 - {'error': {'message': 'Missing Authentication header', 'code': 401}}".into(),
        }
    );
    assert_eq!(
        c("Streaming failed before delivery: Connection error."),
        StreamFailed {
            status: None,
            details: None,
            text: "Connection error.".into()
        }
    );
    let EventKind::StreamFailed { details: Some(d), .. } = c("Streaming failed before delivery: Error code: 429 - {'error': {'type': 'usage_limit_reached', 'message': 'The usage limit has been reached', 'plan_type': 'team', 'resets_at': 1795460507, 'resets_in_seconds': 14400}}") else {
        panic!("stream failed expected");
    };
    assert_eq!(d.fingerprint().as_deref(), Some("team@1795460507"));
    assert_eq!(d.resets_in_seconds, Some(14400.0));
}

// ---------------------------------------------------------------- sanitized / standalone

#[test]
fn provider_error_condensed_line() {
    let line = r#"zai returned 429 code=1113 "Insufficient balance or no resource package""#;
    assert_eq!(
        c(line),
        ProviderError {
            provider: s("zai"),
            status: Some(429),
            details: details(|d| {
                d.status = Some(429);
                d.code = s("1113");
                d.message = s("Insufficient balance or no resource package");
            }),
            text: line.into(),
        }
    );
    let EventKind::ProviderError {
        provider,
        status,
        details: Some(d),
        ..
    } = c("openrouter returned 402: {'error': {'message': 'Insufficient credits', 'code': 402}}")
    else {
        panic!("provider error expected");
    };
    assert_eq!(
        (provider.as_deref(), status, d.code.as_deref()),
        (Some("openrouter"), Some(402), Some("402"))
    );
    assert_eq!(c("the tool returned 3 results"), Other);
}

#[test]
fn standalone_details_line() {
    assert_eq!(
        c("   📋 Details: {'type': 'usage_limit_reached', 'plan_type': 'team', 'resets_at': 1778295076}"),
        Details {
            details: Box::new(ErrorDetails {
                etype: s("usage_limit_reached"),
                plan_type: s("team"),
                resets_at: Some(1778295076.0),
                ..ErrorDetails::default()
            })
        }
    );
}

// ---------------------------------------------------------------- corpus agent.log files

/// Message of an agent.log line: `YYYY-MM-DD HH:MM:SS,mmm LEVEL [sid] logger: message`.
fn agent_log_message(line: &str) -> &str {
    let rest = line.splitn(4, ' ').nth(3).unwrap_or("");
    let rest = if rest.starts_with('[') {
        rest.split_once("] ").map_or(rest, |r| r.1)
    } else {
        rest
    };
    rest.split_once(": ").map_or(rest, |r| r.1)
}

fn corpus_kinds(name: &str) -> Vec<&'static str> {
    let path = format!("{}/fixtures/classify/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| classify(&rec(agent_log_message(l))))
        .filter(EventKind::is_request_event)
        .map(|k| k.name())
        .collect()
}

#[test]
fn corpus_healthy_rotation_agent_log() {
    assert_eq!(
        corpus_kinds("agent-healthy-rotation.log"),
        [
            "client_created",
            "placeholder_key",
            "turn_start",
            "client_created",
            "stream_failed",
            "pool_marked",
            "pool_rotated",
            "pool_recovery_rotated",
            "client_created",
            "client_created",
            "success",
            "turn_end",
        ]
    );
}

#[test]
fn corpus_shared_retry_budget_agent_log() {
    let kinds = corpus_kinds("agent-shared-retry-budget.log");
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(count("attempt_failed"), 3);
    assert_eq!(count("retry_scheduled"), 2);
    assert_eq!(count("stream_failed"), 5);
    assert_eq!(count("pool_marked"), 2);
    assert_eq!(count("pool_rotated"), 2);
    assert_eq!(count("pool_recovery_rotated"), 2);
    assert_eq!(count("terminal_failure"), 1);
    assert_eq!(count("turn_start"), 1);
    assert_eq!(kinds.last(), Some(&"terminal_failure"));
}

/// Journal `short-iso` lines grouped into records: indented console detail lines continue the
/// previous record.
fn journal_records(name: &str) -> Vec<Record> {
    let path = format!("{}/fixtures/classify/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out: Vec<Record> = Vec::new();
    for line in text.lines() {
        let msg = line.split_once("]: ").map_or(line, |r| r.1);
        match out.last_mut() {
            Some(last) if msg.starts_with("   ") => last.continuation.push((0, msg.to_string())),
            _ => out.push(rec(msg)),
        }
    }
    out
}

#[test]
fn corpus_partial_rotation_journal() {
    let events: Vec<EventKind> = journal_records("journal-partial-rotation.log")
        .iter()
        .map(classify)
        .collect();
    let names: Vec<&str> = events.iter().map(EventKind::name).collect();
    assert_eq!(
        names,
        [
            "attempt_failed",
            "attempt_failed",
            "retry_scheduled",
            "attempt_failed",
            "retry_scheduled",
            "attempt_failed",
            "terminal_failure",
            "fallback_switching",
        ]
    );
    let fingerprints: Vec<Option<String>> = events
        .iter()
        .filter_map(|e| match e {
            AttemptFailed {
                provider, details, ..
            } => {
                assert_eq!(provider.as_deref(), Some("openai-codex"));
                Some(details.as_deref().and_then(ErrorDetails::fingerprint))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        fingerprints,
        [
            s("prolite@1778538925"),
            s("team@1778295076"),
            s("team@1778295076"),
            s("team@1778295076")
        ]
    );
    assert_eq!(events[2], wait(2.1, Some((2, 4))));
    assert_eq!(
        events[7],
        FallbackSwitching {
            reason: "Max retries (4) exhausted".into()
        }
    );
}

#[test]
fn corpus_pasted_fragments() {
    // fallback-429-exhausts-primary-pool (zoned paste, trimmed mark line)
    assert_eq!(
        c("Fallback activated: gpt-5.5 -> glm-5.1 (zai)"),
        FallbackActivated {
            from_model: "gpt-5.5".into(),
            to_model: "glm-5.1".into(),
            to_provider: s("zai")
        }
    );
    assert_eq!(
        c(r#"zai returned 429 code=1113 "Insufficient balance or no resource package""#).name(),
        "provider_error"
    );
    assert_eq!(
        c("credential pool: marking openai-codex-oauth-2 exhausted").name(),
        "pool_marked"
    );
    // healthy-cron-fallback-zai
    assert_eq!(
        c("Fallback activated: glm-5.1 → glm-4.7 (zai)").name(),
        "fallback_activated"
    );
    // openrouter-empty-key-401-exhausts-pool
    assert_eq!(
        c("credential pool: marking api-key-2 exhausted (status=401), rotating"),
        PoolMarked {
            label: "api-key-2".into(),
            status: Some(401),
            dead: false,
            reason: None
        }
    );
    // codex-connection-errors-negative: detail lines pasted as their own lines are no events
    // (census console templates: `known`)
    assert!(!c("Provider: openai-codex  Model: gpt-5.4").is_request_event());
    assert!(!c("Endpoint: https://chatgpt.com/backend-api/codex").is_request_event());
}

#[test]
fn tool_noise_is_other() {
    for line in [
        "Plugin 'memory' loaded (3 tools)",
        "check_fn for tool 'browser' returned False: missing dependency",
        "No .env file found. Using system environment variables.",
        "Cached context length fake-model-1@http://127.0.0.1:18081/v1 -> 131,072 tokens",
        "Vision auto-detect: using main provider fakeprimary (fake-model-1)",
        "",
        "⚠️",
    ] {
        assert_eq!(c(line), Other, "{line}");
    }
}

#[test]
fn truncated_templates_never_panic() {
    let path = format!(
        "{}/fixtures/classify/agent-shared-retry-budget.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| agent_log_message(l).to_string())
        .collect();
    lines.extend(
        [
            "⏱️ Rate limited. Resets in 3h 59m. Waiting 60.0s (attempt 2/3) (Z.AI Coding overload adaptive long backoff)...",
            "⚠️ Model fallback: gpt-5.5 via openai-codex unavailable (rate limit); using glm-5.1 via zai.",
            "credential pool: marking api-key-1 DEAD (status=401, reason=token_revoked) — permanently failed",
            "Fallback to zai/glm-5.1: clearing primary credential pool (pool_provider=openai-codex)",
            "Restore skipped pool entry 3f9a1c (zai): provider zai does not match primary provider openai-codex",
            r#"zai returned 429 code=1113 "Insufficient balance or no resource package""#,
            "⏳ rate limited — resets in 4h, retrying in 60s (attempt 2/3)",
        ]
        .map(str::to_string),
    );
    for line in &lines {
        for (i, _) in line.char_indices() {
            let _ = classify(&rec(&line[..i]));
            let _ = classify(&rec(&line[i..]));
        }
    }
    assert_eq!(c("Retrying API call in"), Other);
    assert_eq!(c("credential pool: marking"), Other);
}

#[test]
fn failure_classes_of_corpus_events() {
    let fc = |line: &str| event_failure_class(&c(line));
    assert_eq!(
        fc("Streaming failed before delivery: Error code: 429 - {'error': {'type': 'usage_limit_reached', 'message': 'The usage limit has been reached', 'plan_type': 'team', 'resets_at': 1795460507, 'resets_in_seconds': 14400}}"),
        Some(FailureClass::QuotaWall)
    );
    assert_eq!(
        fc("Streaming failed before delivery: Error code: 429 - {'error': {'type': 'rate_limit_error', 'message': 'Rate limit reached for requests'}}"),
        Some(FailureClass::RateLimit)
    );
    assert_eq!(
        fc("Streaming failed before delivery: Error code: 401 - {'error': {'message': 'Missing Authentication header', 'code': 401}}"),
        Some(FailureClass::ClientDefect)
    );
    assert_eq!(
        fc("Streaming failed before delivery: Connection error."),
        Some(FailureClass::Transient)
    );
    assert_eq!(
        fc(r#"zai returned 429 code=1113 "Insufficient balance or no resource package""#),
        Some(FailureClass::QuotaWall)
    );
    assert_eq!(
        fc("Non-retryable client error: Error code: 401 - {'error': {'message': 'User not found.', 'code': 401}}"),
        Some(FailureClass::AuthInvalid)
    );
    assert_eq!(
        fc("Primary provider auth failed: No Codex credentials stored. Run `hermes auth` to authenticate."),
        Some(FailureClass::ClientDefect)
    );
    assert_eq!(
        fc("Primary provider rate-limited (429): Codex provider quota exhausted (429). Credentials are still valid; retry after the usage limit resets. — trying fallback"),
        Some(FailureClass::QuotaWall)
    );
    assert_eq!(
        event_failure_class(&classify(&fixture("console-attempt-stripped.txt"))),
        Some(FailureClass::Transient)
    );
    assert_eq!(fc("credential pool: rotated to prim-acct-2"), None);
}

//! Secret scrubbing.

use std::borrow::Cow;

use hermes_forensics::redact::redact;

/// (input, secret substring that must disappear, expected output).
const SECRETS: &[(&str, &str, &str)] = &[
    (
        "using key sk-FAKESECRET-prim-key1-7f3a9c2e01 for prim-acct-1",
        "FAKESECRET",
        "using key sk-…[REDACTED] for prim-acct-1",
    ),
    (
        "key=sk-proj-AbCdEfGhIjKlMnOpQrStUv012345",
        "AbCdEf",
        "key=sk-…[REDACTED]",
    ),
    (
        "x sk-ant-api03-AbCdEfGhIjKlMnOp_qr-12 y",
        "AbCdEf",
        "x sk-…[REDACTED] y",
    ),
    (
        "refresh rt_FAKE_REFRESH_TOKEN_DO_NOT_PRINT_0123456789 done",
        "DO_NOT_PRINT",
        "refresh rt_…[REDACTED] done",
    ),
    (
        "tok eyJhbGciOiJSUzI1NiJ9.FAKE-ACCESS-TOKEN-DO-NOT-PRINT.c2lnbmF0dXJl end",
        "DO-NOT-PRINT",
        "tok eyJ…[REDACTED] end",
    ),
    (
        "headers: Bearer abc123def456ghi789",
        "abc123",
        "headers: Bearer [REDACTED]",
    ),
    (
        "Authorization: Bearer abc123def456ghi789",
        "abc123",
        "Authorization: Bearer [REDACTED]",
    ),
    (
        r#"{"Authorization": "Basic dXNlcjpwYXNz"}"#,
        "dXNlcjpwYXNz",
        r#"{"Authorization": "Basic [REDACTED]"}"#,
    ),
    ("api_key=FAKEKEY123456", "FAKEKEY", "api_key=[REDACTED]"),
    ("api_key: FAKEKEY123456", "FAKEKEY", "api_key: [REDACTED]"),
    (
        r#"{"api_key": "FAKEKEY123456", "n": 1}"#,
        "FAKEKEY",
        r#"{"api_key": "[REDACTED]", "n": 1}"#,
    ),
    (
        "x-api-key: FAKEKEY123456",
        "FAKEKEY",
        "x-api-key: [REDACTED]",
    ),
    (
        "OPENROUTER_API_KEY=FAKEKEY123456",
        "FAKEKEY",
        "OPENROUTER_API_KEY=[REDACTED]",
    ),
    (
        r#""refresh_token": "opaque-FAKE-refresh""#,
        "opaque",
        r#""refresh_token": "[REDACTED]""#,
    ),
    (
        "client_secret=hunter2hunter2",
        "hunter2",
        "client_secret=[REDACTED]",
    ),
    (
        "blob Zk9xR2tXb3VqTmR6QWx4Yk1QcVZ3ZkVnTDh5 end",
        "Zk9xR2",
        "blob [REDACTED] end",
    ),
    (
        "hex 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end",
        "9f86d0",
        "hex [REDACTED] end",
    ),
    (
        "github ghp_AbCdEfGhIjKlMnOpQrSt0123456789 x",
        "AbCdEf",
        "github ghp_…[REDACTED] x",
    ),
];

#[test]
fn every_secret_kind_is_removed() {
    for (input, secret, expected) in SECRETS {
        let out = redact(input);
        assert!(!out.contains(secret), "{input:?} -> {out:?}");
        assert_eq!(out, *expected, "{input:?}");
    }
}

/// Text that must come out unchanged (and without allocation).
const KEPT: &[&str] = &[
    "2026-11-23 15:03:43,371 INFO [20261123_150343_5dd629] agent.conversation_loop: API call #1",
    "cron session cron_85385abb646d_20260710_080024 started",
    "Thread-4 (run_agent):140241067308736 base_url=http://127.0.0.1:18081/v1",
    "provider=openai-codex base_url=https://chatgpt.com/backend-api/codex",
    "model=nvidia/nemotron-3-super-120b-a12b:free fallback deepseek/deepseek-v4-flash-0731",
    "model=mistralai/Mistral-Small-24B-Instruct-2501",
    "credential pool: marking openai-codex-oauth-2 exhausted (status=429), rotating",
    "Credential 429 (rate limit) — rotated to pool entry 0ddbb5",
    "label prim-acct-1 source env:OPENROUTER_API_KEY",
    "resets_at 1795460507 last_status_at 1795446107.9535077",
    "secret_fingerprint sha256:9b1f0c2d4e6a8b10",
    "already masked sk-pro...EFGH and ***",
    "Provider 'fakeprimary' has no resolvable api_key — request will be sent with placeholder",
    "check_fn check_web_api_key returned False; dependent tools will be unavailable",
    r#""auth_type": "api_key", "token_type": "Bearer", "api_key": null"#,
    "request_dump_20261123_150343_5dd629_20261123T150343Z.json",
    "trace 550e8400-e29b-41d4-a716-446655440000",
];

#[test]
fn non_secrets_are_kept() {
    for input in KEPT {
        assert_eq!(redact(input), *input);
    }
}

#[test]
fn no_trigger_borrows() {
    for input in [KEPT[0], KEPT[1], KEPT[3], KEPT[4], "", "plain text"] {
        assert!(matches!(redact(input), Cow::Borrowed(_)), "{input}");
    }
}

#[test]
fn masked_values_stay_recognizable() {
    assert_eq!(redact("api_key=sk-pro...EFGH"), "api_key=sk-pro...EFGH");
    assert_eq!(redact("Bearer ***"), "Bearer ***");
    assert_eq!(
        redact(r#""access_token": "<REDACTED>""#),
        r#""access_token": "<REDACTED>""#
    );
}

#[test]
fn idempotent() {
    let auth = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/auth/partial-rotation.json"
    ))
    .expect("fixture");
    let inputs = SECRETS
        .iter()
        .map(|(i, _, _)| *i)
        .chain(KEPT.iter().copied())
        .chain([auth.as_str()]);
    for input in inputs {
        let once = redact(input).into_owned();
        assert_eq!(redact(&once), once, "{input:?}");
    }
}

#[test]
fn whole_auth_file_loses_every_token() {
    let auth = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/auth/partial-rotation.json"
    ))
    .expect("fixture");
    let out = redact(&auth);
    assert!(!out.contains("FAKE"), "{out}");
    assert!(out.contains("openai-codex-oauth-2") && out.contains("\"request_count\": 97"));
}

#[test]
fn odd_input_does_not_panic() {
    let long = "A1b".repeat(10_000);
    for input in [
        "🔐 Bearer 🔑 api_key=🙂 sk-🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
        "\u{fffd}\u{fffd} eyJ\u{fffd}.x.y",
        "api_key=",
        "Bearer",
        "sk-",
        "\0\0 token: \0",
        long.as_str(),
    ] {
        let out = redact(input);
        assert_eq!(redact(&out), out);
    }
    assert_eq!(redact(&long), "[REDACTED]");
}

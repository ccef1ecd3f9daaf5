//! Secret scrubbing.

use std::borrow::Cow;

use hermes_forensics::redact::redact;

/// (input, secret substring that must disappear, expected output).
const SECRETS: &[(&str, &str, &str)] = &[
    (
        "using key sk-FAKESECRET-prim-key1-7f3a9c2e01 for prim-acct-1",
        "FAKESECRET",
        "using key sk-…[REDACTED:d2c05a] for prim-acct-1",
    ),
    (
        "key=sk-proj-AbCdEfGhIjKlMnOpQrStUv012345",
        "AbCdEf",
        "key=sk-proj-…[REDACTED:185332]",
    ),
    (
        "x sk-ant-api03-AbCdEfGhIjKlMnOp_qr-12 y",
        "AbCdEf",
        "x sk-ant-…[REDACTED:7b0a17] y",
    ),
    (
        "refresh rt_FAKE_REFRESH_TOKEN_DO_NOT_PRINT_0123456789 done",
        "DO_NOT_PRINT",
        "refresh rt_…[REDACTED:5220dc] done",
    ),
    (
        "tok eyJhbGciOiJSUzI1NiJ9.FAKE-ACCESS-TOKEN-DO-NOT-PRINT.c2lnbmF0dXJl end",
        "DO-NOT-PRINT",
        "tok eyJ…[REDACTED:30c42a] end",
    ),
    (
        "headers: Bearer abc123def456ghi789",
        "abc123",
        "headers: Bearer [REDACTED:8b693b]",
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
        "blob [REDACTED:b7cc4f] end",
    ),
    (
        "hex 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end",
        "9f86d0",
        "hex [REDACTED:16e822] end",
    ),
    (
        "github ghp_AbCdEfGhIjKlMnOpQrSt0123456789 x",
        "AbCdEf",
        "github ghp_…[REDACTED:28a8b8] x",
    ),
    // The token families of gitleaks' default rules that agent logs can carry.
    (
        "rotated to sk-or-v1-0123456789abcdefFAKE",
        "0123456789abcdef",
        "rotated to sk-or-…[REDACTED:47a448]",
    ),
    (
        "google AIzaSyA1234567890abcdefghijklmnopqrstu and ya29.a0AfH6SMBfakefakefake123",
        "SyA1234567890",
        "google AIza…[REDACTED:546fe9] and ya29.…[REDACTED:f9645e]",
    ),
    (
        "aws AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A",
        "IOSFODNN7",
        "aws AKIA…[REDACTED:f5e10b] ASIA…[REDACTED:05f4ca]",
    ),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "aws_secret_access_key = [REDACTED]",
    ),
    (
        "gh gho_16C7e42F292c6912E7710c ghu_abcdefghij0123 ghs_abcdefghij0123 ghr_abcdefghij0123 github_pat_11ABCDEFG0123456789_abcdef",
        "abcdefghij",
        "gh gho_…[REDACTED:0f5e22] ghu_…[REDACTED:028652] ghs_…[REDACTED:10be80] ghr_…[REDACTED:a5ebf8] github_pat_…[REDACTED:28dfe1]",
    ),
    (
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKl xoxp-1234567890-abc",
        "1234567890",
        "slack xoxb-…[REDACTED:7ead2a] xoxp-…[REDACTED:13159d]",
    ),
    (
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc rk_live_abcdefghij0123",
        "4eC39HqLyj",
        "stripe sk_live_…[REDACTED:8d35a4] rk_live_…[REDACTED:fd36b4]",
    ),
    (
        "header Basic YWxhZGRpbjpvcGVuc2VzYW1l end",
        "YWxhZGRpbjpv",
        "header Basic [REDACTED] end",
    ),
    (
        "url https://alice:s3cretpass@api.example.com/v1 and postgres://u:p@db:5432/x",
        "s3cretpass",
        "url https://alice:[REDACTED]@api.example.com/v1 and postgres://u:[REDACTED]@db:5432/x",
    ),
    (
        "https://x.example.com/v1?token=abc123&model=x&key=zzz&sig=ABCsig%3D&access_token=tok987",
        "abc123",
        "https://x.example.com/v1?token=[REDACTED]&model=x&key=[REDACTED]&sig=[REDACTED]&access_token=[REDACTED]",
    ),
    (
        "mail alice@example.com bob.smith+x@corp.example.org",
        "lice",
        "mail a…[REDACTED:c089e3]@example.com b…[REDACTED:67ce95]@corp.example.org",
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
    // Ordinary labels and addresses that are not secrets.
    "rotated to key-1, then primary, then work@ and user@localhost",
    "base_url=http://127.0.0.1:18081/v1 https://openrouter.ai/api/v1?model=x",
    "Basic auth failed for Basic Authentication",
    "Error code: 429 pwd=/home/agent",
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

/// Two keys of one family stay two: the fingerprint follows the secret, and the same secret
/// reads the same wherever it appears.
#[test]
fn masks_are_distinct_and_stable() {
    let a = redact("sk-proj-AAAAbbbb1111CCCCdddd2222");
    let b = redact("sk-proj-AAAAbbbb1111CCCCdddd2223");
    assert_ne!(a, b);
    assert!(a.starts_with("sk-proj-…[REDACTED:"), "{a}");
    assert_eq!(
        redact("rotated to sk-proj-AAAAbbbb1111CCCCdddd2222."),
        format!("rotated to {a}.")
    );
    assert_ne!(redact("ann@example.com"), redact("amy@example.com"));
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
    assert_eq!(redact(&long), "[REDACTED:c6bd98]");
}

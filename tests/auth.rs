//! auth.json snapshots and `hermes auth list` captures.

use hermes_forensics::auth::json::{looks_like_auth_json, parse_auth_json};
use hermes_forensics::auth::list::{looks_like_auth_list, parse_auth_list};
use hermes_forensics::auth::{AuthError, AuthListRow, AuthSnapshot, PoolEntry};

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/auth/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn snapshot(name: &str) -> AuthSnapshot {
    parse_auth_json(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn error(name: &str) -> AuthError {
    parse_auth_json(&fixture(name)).expect_err(name)
}

fn pool<'a>(s: &'a AuthSnapshot, key: &str) -> &'a [PoolEntry] {
    s.pools
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, e)| e.as_slice())
        .unwrap_or_else(|| panic!("no pool {key}"))
}

/// No secret value of any fixture may survive into the parsed model.
fn assert_no_secrets(s: &AuthSnapshot) {
    let debug = format!("{s:?}");
    let json = serde_json::to_string(s).expect("serialize");
    for text in [&debug, &json] {
        for needle in [
            "FAKE",
            "DO-NOT-PRINT",
            "DO_NOT_PRINT",
            "FAKESECRET",
            "eyJ",
            "rt_",
            "sk-",
            "<REDACTED>",
        ] {
            assert!(!text.contains(needle), "{needle} leaked: {text}");
        }
    }
}

const SNAPSHOTS: [&str; 5] = [
    "catalog-example.json",
    "partial-rotation.json",
    "shared-retry-budget.after.json",
    "healthy-rotation.after.json",
    "variants.json",
];

#[test]
fn no_secret_reaches_the_model() {
    for name in SNAPSHOTS {
        assert_no_secrets(&snapshot(name));
    }
}

#[test]
fn catalog_example_fields_and_lines() {
    let s = snapshot("catalog-example.json");
    assert_eq!(s.active_provider.as_deref(), Some("openai-codex"));
    assert_eq!(s.providers, ["openai-codex", "nous"]);
    let keys: Vec<&str> = s.pools.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["openai-codex", "openrouter", "anthropic"]);
    // 2026-08-20T08:05:55.612345+00:00
    let updated = s.updated_at.expect("updated_at");
    assert!((updated - 1_787_213_155.612_345).abs() < 1e-3, "{updated}");

    let codex = pool(&s, "openai-codex");
    let first = &codex[0];
    assert_eq!(first.id.as_deref(), Some("3f9a1c"));
    assert_eq!(first.label.as_deref(), Some("openai-codex-oauth-1"));
    assert_eq!(first.auth_type.as_deref(), Some("oauth"));
    assert_eq!(first.priority, Some(0));
    assert_eq!(first.source.as_deref(), Some("device_code"));
    assert_eq!(first.last_status.as_deref(), Some("exhausted"));
    assert_eq!(first.last_status_at, Some(1_787_213_155.48));
    assert_eq!(first.last_error_code, Some(429));
    assert_eq!(
        first.last_error_reason.as_deref(),
        Some("usage_limit_reached")
    );
    assert_eq!(
        first.last_error_message.as_deref(),
        Some("The usage limit has been reached")
    );
    assert_eq!(first.last_error_reset_at, Some(1_787_230_800.0));
    assert_eq!(
        first.base_url.as_deref(),
        Some("https://chatgpt.com/backend-api/codex")
    );
    assert_eq!(first.request_count, Some(41));
    assert_eq!(first.failure_reason.as_deref(), Some("rate_limit"));
    assert_eq!(first.line, 28);

    let second = &codex[1];
    assert_eq!((second.id.as_deref(), second.line), (Some("b71e02"), 47));
    assert_eq!(second.last_status.as_deref(), Some("dead"));
    assert_eq!(second.last_error_reset_at, None);

    let openrouter = &pool(&s, "openrouter")[0];
    assert_eq!(openrouter.label.as_deref(), Some("OPENROUTER_API_KEY"));
    assert_eq!(openrouter.source.as_deref(), Some("env:OPENROUTER_API_KEY"));
    assert_eq!(
        openrouter.secret_fingerprint.as_deref(),
        Some("sha256:9b1f0c2d4e6a8b10")
    );
    assert_eq!(openrouter.line, 65);

    let claude = &pool(&s, "anthropic")[0];
    assert_eq!(
        claude.model_cooldowns,
        [("claude-opus-4-8".to_string(), 1_787_216_755.0)]
    );
    assert_eq!(claude.line, 84);
}

#[test]
fn single_line_entries_in_real_snapshot() {
    let s = snapshot("partial-rotation.json");
    let codex = pool(&s, "openai-codex");
    let got: Vec<(&str, Option<i64>, Option<u64>, u32)> = codex
        .iter()
        .map(|e| {
            (
                e.id.as_deref().unwrap_or(""),
                e.priority,
                e.request_count,
                e.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a1b2c3", Some(0), Some(311), 12),
            ("d4e5f6", Some(1), Some(97), 16),
            ("0a9b8c", Some(2), Some(12), 20)
        ]
    );
    assert_eq!(s.providers, ["openai-codex"]);
}

#[test]
fn custom_pool_after_rate_limits() {
    let s = snapshot("shared-retry-budget.after.json");
    assert_eq!(s.active_provider, None);
    assert!(s.providers.is_empty());
    let entries = pool(&s, "custom:fakeprimary");
    assert_eq!(entries.len(), 4);
    let statuses: Vec<Option<&str>> = entries.iter().map(|e| e.last_status.as_deref()).collect();
    assert_eq!(statuses, [Some("exhausted"), Some("exhausted"), None, None]);
    assert_eq!(entries[1].last_status_at, Some(1_795_446_234.578_735));
    assert_eq!(
        entries[0].last_error_reason.as_deref(),
        Some("rate_limit_error")
    );
    assert_eq!(
        entries[0].base_url.as_deref(),
        Some("http://127.0.0.1:18081/v1")
    );
    let lines: Vec<u32> = entries.iter().map(|e| e.line).collect();
    assert_eq!(lines, [6, 22, 38, 54]);
    let after = snapshot("healthy-rotation.after.json");
    assert_eq!(
        pool(&after, "custom:fakeprimary")[0].last_error_reset_at,
        Some(1_795_460_507.0)
    );
}

#[test]
fn value_variants() {
    let s = snapshot("variants.json");
    assert_eq!(s.updated_at, Some(1_787_213_155.0));
    assert_eq!(s.providers, ["nous", "xai-oauth"]);
    let local = pool(&s, "custom:local");
    let a = &local[0];
    assert_eq!(a.priority, Some(2), "2.0 is an integer");
    assert_eq!(a.last_status_at, Some(1_787_212_800.0), "ISO with Z");
    assert_eq!(a.last_error_code, Some(429), "code as string");
    assert_eq!(a.last_error_reset_at, Some(1_787_230_800.0), "epoch ms");
    assert_eq!(
        a.status_cleared_at,
        Some(1_787_202_000.0),
        "ISO with +02:00"
    );
    assert_eq!(a.line, 10);
    let b = &local[1];
    assert_eq!(b.last_error_code, None, "non-numeric code");
    assert_eq!(
        b.last_status_at,
        Some(1_787_212_800.5),
        "ISO without offset is UTC"
    );
    assert_eq!(
        b.model_cooldowns,
        [
            ("m1".to_string(), 1_787_216_755.0),
            ("m3".to_string(), 1_787_216_400.0)
        ]
    );
    assert_eq!(b.line, 17);
    assert!(pool(&s, "empty").is_empty());
}

#[test]
fn errors_carry_position_and_path() {
    let cases: [(&str, usize, usize, &str); 7] = [
        ("truncated.json", 21, 0, "EOF while parsing an object"),
        ("missing-comma.json", 3, 3, r#"expected "," or "}""#),
        (
            "wrong-type.json",
            6,
            25,
            r#"credential_pool.openai-codex[1].priority: invalid type: string "high", expected an integer"#,
        ),
        (
            "huge-number.json",
            4,
            65,
            "credential_pool.openai-codex[0].priority: invalid value: floating point",
        ),
        ("huge-exponent.json", 1, 20, "number out of range"),
        (
            "bad-code.json",
            1,
            61,
            "credential_pool.openrouter[0].last_error_code: invalid value: integer",
        ),
        (
            "bad-time.json",
            1,
            66,
            r#"credential_pool.openrouter[0].last_status_at: invalid value: string "yesterday""#,
        ),
    ];
    for (name, line, column, message) in cases {
        let e = error(name);
        assert_eq!((e.line, e.column), (line, column), "{name}: {e}");
        assert!(e.message.starts_with(message), "{name}: {}", e.message);
        assert_eq!(e.to_string(), format!("{line}:{column}: {}", e.message));
    }
}

#[test]
fn odd_documents_error_without_panicking() {
    let e = parse_auth_json("\n  [1, 2]").expect_err("array");
    assert_eq!((e.line, e.column), (2, 3));
    assert!(parse_auth_json("").is_err());
    assert!(parse_auth_json("{\"credential_pool\": {\"p\": [{\"priority\": true}]}}").is_err());
    assert!(parse_auth_json("{\"credential_pool\": {\"p\": [1]}}").is_err());
    assert!(parse_auth_json("{\"updated_at\": 1} trailing").is_err());
    // Deep nesting inside a typed field is an error; inside skipped data it is harmless.
    let deep =
        |open: &str, close: &str| format!("{}{}", open.repeat(100_000), close.repeat(100_000));
    let typed = format!("{{\"credential_pool\": {}}}", deep("[", "]"));
    assert!(parse_auth_json(&typed).is_err());
    let skipped = format!(
        "{{\"providers\": {{\"x\": {}}}}}",
        deep("{\"a\":", "}").replace(":}", ":1}")
    );
    let s = parse_auth_json(&skipped).expect("nesting inside skipped provider state");
    assert_eq!(s.providers, ["x"]);
    let s = parse_auth_json("\u{feff}{\"active_provider\": \"nous\"}").expect("BOM");
    assert_eq!(s.active_provider.as_deref(), Some("nous"));
}

#[test]
fn sniffs_auth_json() {
    for name in SNAPSHOTS {
        assert!(looks_like_auth_json(&fixture(name)), "{name}");
    }
    assert!(!looks_like_auth_json(
        r#"{"__CURSOR":"s=1","MESSAGE":"providers"}"#
    ));
    assert!(!looks_like_auth_json(
        r#"{"event":"profile_rotation","provider":"x"}"#
    ));
    assert!(!looks_like_auth_json(
        "2026-05-08 12:00:00,000 INFO x: credential_pool"
    ));
}

fn list(name: &str) -> (Vec<AuthListRow>, u64) {
    parse_auth_list(&fixture(name))
}

#[test]
fn real_list_old_format() {
    let (rows, ignored) = list("auth-list.healthy-rotation.after.txt");
    assert_eq!(ignored, 0);
    assert_eq!(rows.len(), 3);
    let r = &rows[0];
    assert_eq!(r.provider.as_deref(), Some("custom:fakeprimary"));
    assert_eq!(
        (r.index, r.label.as_deref(), r.auth_type.as_deref()),
        (Some(1), Some("prim-acct-1"), Some("api_key"))
    );
    assert_eq!(
        (r.id.as_deref(), r.priority, r.source.as_deref()),
        (None, None, Some("manual"))
    );
    assert_eq!(
        (r.status.as_deref(), r.reason.as_deref()),
        (Some("rate-limited"), Some("usage_limit_reached"))
    );
    assert_eq!(
        (r.code, r.left_s, r.current, r.line),
        (Some(429), Some(3 * 3600 + 59 * 60), false, 2)
    );
    assert!(rows[1].current && rows[1].status.is_none());
    assert_eq!(rows[1].source.as_deref(), Some("manual"));
    assert_eq!(rows[2].line, 4);

    let (rows, _) = list("auth-list.shared-retry-budget.after.txt");
    let left: Vec<Option<u64>> = rows.iter().map(|r| r.left_s).collect();
    assert_eq!(left, [Some(59 * 60 + 54), Some(59 * 60 + 59), None, None]);
    assert!(rows[2].current);

    let (rows, _) = list("auth-list.v016.txt");
    assert_eq!(rows[0].label.as_deref(), Some("openai-codex-oauth-3"));
    assert_eq!(rows[0].source.as_deref(), Some("device_code"));
    assert_eq!(rows[0].left_s, Some(14 * 3600 + 34 * 60));
    assert!(rows[1].current);
}

#[test]
fn newest_list_format() {
    let (rows, ignored) = list("auth-list.newest.txt");
    assert_eq!(ignored, 3, "Reset/Removed/Added lines");
    assert_eq!(rows.len(), 5);
    let r = &rows[0];
    assert_eq!(r.provider.as_deref(), Some("openai-codex"));
    assert_eq!((r.id.as_deref(), r.priority), (Some("3f9a1c"), Some(0)));
    assert_eq!(
        (r.source.as_deref(), r.code, r.current),
        (Some("device_code"), Some(429), true)
    );
    assert_eq!(r.left_s, Some(14 * 3600 + 34 * 60));
    let r = &rows[1];
    assert_eq!(
        (r.status.as_deref(), r.reason.as_deref()),
        (Some("auth failed"), Some("refresh_token_reused"))
    );
    assert!(r.reauth_required && !r.ready_to_retry);
    assert_eq!(r.source.as_deref(), Some("manual:device_code"));
    let r = &rows[2];
    assert_eq!(r.label.as_deref(), Some("team member 3"));
    assert_eq!(
        (r.status.as_deref(), r.reason.as_deref()),
        (Some("exhausted"), None)
    );
    assert!(r.ready_to_retry);
    let r = &rows[3];
    assert_eq!(r.provider.as_deref(), Some("openrouter"));
    assert_eq!(
        (r.label.as_deref(), r.source.as_deref()),
        (Some("OPENROUTER_API_KEY"), Some("env:OPENROUTER_API_KEY"))
    );
    assert_eq!((r.code, r.left_s), (Some(402), Some(2 * 86_400 + 3 * 3600)));
    assert_eq!(
        (rows[4].left_s, rows[4].reason.as_deref()),
        (Some(250), None)
    );
    assert_eq!(rows[4].line, 8);
}

#[test]
fn fragment_row() {
    let (rows, ignored) = list("auth-list.fragment.txt");
    assert_eq!((rows.len(), ignored), (1, 0));
    let r = &rows[0];
    assert_eq!(
        (r.index, r.label.as_deref(), r.source.as_deref()),
        (None, None, Some("device_code"))
    );
    assert_eq!(
        (r.status.as_deref(), r.code, r.left_s),
        (Some("rate-limited"), Some(429), None)
    );
    assert_eq!(r.raw, "device_code rate-limited (429) (Xh Ym left)");
    let log_line =
        "credential pool: marking prim-acct-1 exhausted (status=429), rotating\nexhausted";
    assert_eq!(parse_auth_list(log_line), (vec![], 2));
}

#[test]
fn sniffs_auth_list() {
    for name in [
        "auth-list.newest.txt",
        "auth-list.v016.txt",
        "auth-list.healthy-rotation.after.txt",
    ] {
        let text = fixture(name);
        let lines: Vec<&str> = text.lines().take(5).collect();
        assert!(looks_like_auth_list(&lines), "{name}");
    }
    assert!(looks_like_auth_list(&[
        "  #1  prim-acct-1          api_key manual"
    ]));
    assert!(!looks_like_auth_list(&[
        "2026-05-08 12:00:00,000 INFO agent: #1 api_key"
    ]));
    assert!(!looks_like_auth_list(&[
        "Sun 2025-11-23 14:00:00 UTC host hermes[1]: (3 credentials):"
    ]));
}

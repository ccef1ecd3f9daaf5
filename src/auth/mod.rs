//! auth.json snapshots and `hermes auth list` captures → pool model. Secrets are never stored.

pub mod json;
pub mod list;

use serde::Serialize;

/// One credential pool entry, secrets dropped.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PoolEntry {
    pub id: Option<String>,
    pub label: Option<String>,
    pub auth_type: Option<String>,
    pub priority: Option<i64>,
    pub source: Option<String>,
    /// `ok`, `exhausted`, `dead`, or None.
    pub last_status: Option<String>,
    /// Epoch seconds.
    pub last_status_at: Option<f64>,
    pub last_error_code: Option<u16>,
    pub last_error_reason: Option<String>,
    pub last_error_message: Option<String>,
    /// Epoch seconds.
    pub last_error_reset_at: Option<f64>,
    pub base_url: Option<String>,
    pub request_count: Option<u64>,
    pub failure_reason: Option<String>,
    /// model → epoch seconds until.
    pub model_cooldowns: Vec<(String, f64)>,
    /// `status_cleared_at` tombstone written by `hermes auth reset` (epoch seconds).
    pub status_cleared_at: Option<f64>,
    /// `secret_fingerprint` (`sha256:<16 hex>`): identifies the account, not a secret.
    pub secret_fingerprint: Option<String>,
    /// 1-based line in the file where this entry starts (for evidence).
    pub line: u32,
}

/// A parsed auth.json.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AuthSnapshot {
    /// `updated_at` as epoch seconds, when present.
    pub updated_at: Option<f64>,
    pub active_provider: Option<String>,
    /// Providers that have a `providers.<name>` block (no secrets kept).
    pub providers: Vec<String>,
    /// Pool key (`openai-codex`, `custom:fakeprimary`) → entries in file order.
    pub pools: Vec<(String, Vec<PoolEntry>)>,
}

/// One row of `hermes auth list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AuthListRow {
    /// Provider header the row sits under (`custom:fakeprimary`), when the header was captured.
    pub provider: Option<String>,
    pub index: Option<u32>,
    pub label: Option<String>,
    pub auth_type: Option<String>,
    pub id: Option<String>,
    pub priority: Option<i64>,
    pub source: Option<String>,
    /// `rate-limited`, `auth failed`, `exhausted`, or None for healthy.
    pub status: Option<String>,
    pub reason: Option<String>,
    pub code: Option<u16>,
    /// Countdown `(3h 59m left)` in seconds.
    pub left_s: Option<u64>,
    /// `(ready to retry)`.
    pub ready_to_retry: bool,
    /// `(re-auth may be required)`.
    pub reauth_required: bool,
    /// `←` marker.
    pub current: bool,
    /// 1-based line number.
    pub line: u32,
    /// The row text (no secrets are ever printed by `hermes auth list`).
    pub raw: String,
}

/// A parse error in an auth file: rendered as `path:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct AuthError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

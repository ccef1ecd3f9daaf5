//! The shared table of quota / usage-limit / balance / budget wording and provider codes, and the
//! failure classification every rule uses.

use crate::model::ErrorDetails;
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

/// Classify a failure from its HTTP status, exception type, parsed body and free text.
pub fn failure_class(
    _status: Option<u16>,
    _error_type: Option<&str>,
    _details: Option<&ErrorDetails>,
    _text: &str,
) -> FailureClass {
    FailureClass::Other
}

/// True when the text carries quota / usage-limit / balance / budget wording or a provider quota
/// code.
pub fn is_quota_text(_text: &str) -> bool {
    false
}

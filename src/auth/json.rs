//! auth.json (catalog §5).

use super::{AuthError, AuthSnapshot};

/// Parse an auth.json document. Secrets are skipped by the deserializer and never stored.
pub fn parse_auth_json(_text: &str) -> Result<AuthSnapshot, AuthError> {
    Ok(AuthSnapshot::default())
}

/// Quick sniff: does this text look like an auth.json (a JSON object with `credential_pool` or
/// `providers`)?
pub fn looks_like_auth_json(_head: &str) -> bool {
    false
}

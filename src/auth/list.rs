//! `hermes auth list` captures (catalog §5.1), old and new row formats.

use super::AuthListRow;

/// Parse a capture. Lines that are not rows or provider headers are ignored (returned count).
pub fn parse_auth_list(_text: &str) -> (Vec<AuthListRow>, u64) {
    (Vec::new(), 0)
}

/// Quick sniff on the first lines.
pub fn looks_like_auth_list(_first_lines: &[&str]) -> bool {
    false
}

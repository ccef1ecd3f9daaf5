//! Console (stdout) attempt blocks: a failure line and the indented detail lines printed under it.

use super::Head;

/// Emoji that start a detail line (after indentation).
const DETAIL_EMOJI: [char; 8] = ['🔌', '🌐', '📝', '📋', '⏱', '💡', '💀', '🏢'];

/// Detail labels as left when a reporter strips the emoji.
const DETAIL_LABELS: [&str; 7] = [
    "Provider:",
    "Endpoint:",
    "Error:",
    "Details:",
    "Elapsed:",
    "Provider message:",
    "Final error:",
];

/// Console lines (emoji stripped) that open a block of detail lines.
const HEADS: [&str; 7] = [
    "API call failed (attempt",
    "Invalid API response",
    "Non-retryable",
    "Rate limited after",
    "API failed after",
    "Billing or credits exhausted",
    "Max retries (",
];

/// True when a line with `message` (`logged`: it has a level or a logger) is a console line
/// that detail lines may follow.
pub(crate) fn is_head_text(logged: bool, message: &str) -> bool {
    if logged {
        return false;
    }
    let m = message.trim_start();
    let text = m.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    m.starts_with('❌') || HEADS.iter().any(|h| text.starts_with(h))
}

/// True when `rec` looks like console output (emoji first, subagent prefix, or a block head),
/// which never continues a file-log record even in an agent-log source.
pub(crate) fn is_console(h: &Head<'_>) -> bool {
    h.subagent.is_some()
        || h.message.chars().next().is_some_and(|c| !c.is_ascii())
        || is_head_text(h.level.is_some() || h.logger.is_some(), &h.message)
}

/// True when `text` is a detail line: an indented emoji detail, or a bare detail label.
pub(crate) fn is_detail(text: &str) -> bool {
    let t = text.trim_start();
    let indented = t.len() < text.len();
    (indented && t.starts_with(DETAIL_EMOJI)) || DETAIL_LABELS.iter().any(|l| t.starts_with(l))
}

/// The header of the Desktop app's error receipt: `── Hermes error details ──`.
pub(crate) fn is_receipt(text: &str) -> bool {
    const TITLE: &str = "Hermes error details";
    // Asked of every record that opens: reject on the first visible byte, which is the title's
    // `H` or a rule's `─` (E2 94 80), found without decoding when the text starts with one.
    if text.len() < TITLE.len() {
        return false;
    }
    let first = match text.as_bytes().first() {
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => Some(b),
        _ => text.trim_start().as_bytes().first().copied(),
    };
    matches!(first, Some(b'H' | 0xE2)) && text.trim().trim_matches('─').trim() == TITLE
}

/// The rows of the Desktop app's error receipt, `key: value`.
pub(crate) const RECEIPT_KEYS: &[&str] = &[
    "time",
    "layer",
    "code",
    "status",
    "retryable",
    "provider",
    "model",
    "error",
    "message",
    "type",
    "request_id",
    "hint",
];

/// A receipt row: a known key, `: `, a value.
pub(crate) fn is_receipt_row(text: &str) -> bool {
    text.split_once(": ")
        .is_some_and(|(k, _)| RECEIPT_KEYS.contains(&k.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_header_and_rows() {
        assert!(is_receipt("── Hermes error details ──"));
        assert!(is_receipt("Hermes error details"));
        assert!(!is_receipt("Hermes error details follow"));
        assert!(is_receipt("  \u{2003}── Hermes error details ──  "));
        assert!(!is_receipt("  Hermes error details, see below"));
        assert!(is_receipt_row("code: 429"));
        assert!(is_receipt_row("error: Insufficient balance"));
        assert!(!is_receipt_row("reason: something"));
    }

    #[test]
    fn detail_lines_need_indent_for_emoji() {
        assert!(is_detail("   ⏱️  Elapsed: 0.59s"));
        assert!(!is_detail("⏱️ Rate limited. Waiting 2.1s (attempt 2/4)..."));
        assert!(is_detail("Provider: openai-codex  Model: gpt-5.4"));
        assert!(is_detail("   💀 Final error: HTTP 429"));
        assert!(!is_detail("   some other text"));
    }
}

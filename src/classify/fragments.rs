//! Shapes of bug-report fragments without the usual frame (issue #16): a bare
//! `Error code: NNN - {python dict}` (the exception text of a failed call, pasted without its
//! attempt line) and the resolver's `Provider '…' is set in config.yaml but no API key was
//! found.` (what the operator is told when no key of the provider is usable).

use super::{parse_details, status_from_text, Needle};
use crate::model::{EventKind, Record};
use memchr::memmem::Finder;

static NO_KEY: Needle =
    Needle::new(|| Finder::new("is set in config.yaml but no API key was found"));

/// Classify a fragment-family message (already cleaned).
pub(super) fn classify(msg: &str, rec: &Record) -> Option<EventKind> {
    // `RuntimeError: Provider 'openrouter' is set in config.yaml but no API key was found.`
    if NO_KEY.is_in(msg) {
        return Some(EventKind::AuthRejectedNotice {
            text: msg.to_string(),
        });
    }
    // The Desktop app's receipt `── Hermes error details ──` with its `key: value` rows (joined
    // as continuation lines): how the turn ended, as the app told the user.
    if crate::parse::console::is_receipt(msg) {
        return Some(receipt(rec));
    }
    // A bare `Error code: 402 - {...}`: one failed call of the request's client. A side
    // client's (auxiliary, vision, compression, title) is not a call of the request.
    let rest = msg.strip_prefix("Error code: ")?;
    let side = rec
        .logger
        .as_deref()
        .is_some_and(|l| l.contains("auxiliary") || l.contains("vision") || l.contains("title"));
    if side || !rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(EventKind::StreamFailed {
        status: status_from_text(msg),
        details: parse_details(msg),
        text: msg.to_string(),
    })
}

/// The receipt's rows as a terminal failure: `code` (or `status`) the status, `error` (or
/// `message`) the summary.
fn receipt(rec: &Record) -> EventKind {
    let row = |keys: &[&str]| {
        rec.continuation.iter().find_map(|(_, t)| {
            let (k, v) = t.split_once(": ")?;
            keys.contains(&k.trim())
                .then(|| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    let status = row(&["code", "status"]).and_then(|c| {
        c.split(|ch: char| !ch.is_ascii_digit())
            .find(|d| d.len() == 3)
            .and_then(|d| d.parse().ok())
    });
    let error = row(&["error", "message"]);
    EventKind::TerminalFailure {
        retries: None,
        summary: error.map(|e| match status {
            Some(s) => format!("HTTP {s}: {e}"),
            None => e,
        }),
        status,
        provider: row(&["provider"]),
        model: row(&["model"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(msg: &str, logger: Option<&str>) -> Record {
        let mut r = Record::empty();
        r.message = msg.to_string();
        r.logger = logger.map(str::to_string);
        r
    }

    #[test]
    fn bare_error_code_and_missing_key() {
        let m = "Error code: 402 - {'error': {'message': 'Insufficient credits', 'code': 402}}";
        match classify(m, &rec(m, None)) {
            Some(EventKind::StreamFailed {
                status, details, ..
            }) => {
                assert_eq!(status, Some(402));
                assert_eq!(
                    details.and_then(|d| d.message).as_deref(),
                    Some("Insufficient credits")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(classify(m, &rec(m, Some("agent.auxiliary_client"))), None);
        let m =
            "RuntimeError: Provider 'openrouter' is set in config.yaml but no API key was found.";
        assert!(matches!(
            classify(m, &rec(m, None)),
            Some(EventKind::AuthRejectedNotice { .. })
        ));
        assert_eq!(classify("Error code: unknown", &rec("", None)), None);
    }
}

//! Fallback family: activation, console notices, eager switching lines, resolution, failures,
//! skips, pool clearing/attaching and primary restoration.

use super::{field, Needle};
use crate::model::EventKind;
use memchr::memmem::Finder;

/// Suffixes of the eager-fallback status lines (§2.3); the reason is the text before the dash.
static SWITCH_MARKERS: [Needle; 3] = [
    Needle::new(|| Finder::new("switching to fallback")),
    Needle::new(|| Finder::new("trying fallback")),
    Needle::new(|| Finder::new("Trying fallback")),
];

/// The word every [`SWITCH_MARKERS`] entry holds: a message without it holds none of them.
static FALLBACK_WORD: Needle = Needle::new(|| Finder::new("fallback"));

/// Classify a fallback-family message (already cleaned).
pub(super) fn classify(msg: &str) -> Option<EventKind> {
    if let Some(rest) = msg.strip_prefix("Fallback ") {
        return fallback_line(rest);
    }
    if let Some(rest) = msg.strip_prefix("Failed to activate fallback ") {
        let (target, text) = rest.split_once(": ").unwrap_or((rest, ""));
        return Some(EventKind::FallbackFailed {
            target: target.trim().to_string(),
            text: text.trim().to_string(),
        });
    }
    if let Some(rest) = msg.strip_prefix("Model fallback: ") {
        return Some(model_fallback(rest));
    }
    if let Some(rest) = msg.strip_prefix("Primary model failed — switching to fallback: ") {
        let (to_model, to_provider) = via(rest.trim_end_matches(['.', '…']));
        return Some(EventKind::FallbackNotice {
            from_model: None,
            from_provider: None,
            to_model,
            to_provider,
            reason: Some("primary model failed".to_string()),
        });
    }
    if let Some(rest) = msg.strip_prefix("Primary model restored: ") {
        let head = rest.split_once(';').map_or(rest, |(h, _)| h);
        let (model, provider) = via(head);
        return Some(EventKind::PrimaryRestored {
            model: model.unwrap_or_default(),
            provider,
            console: true,
        });
    }
    if let Some(rest) = msg.strip_prefix("Primary runtime restored for new turn: ") {
        let (model, provider) = paren_tail(rest);
        return Some(EventKind::PrimaryRestored {
            model,
            provider,
            console: false,
        });
    }
    if !FALLBACK_WORD.is_in(msg) {
        return None;
    }
    let cut = SWITCH_MARKERS.iter().filter_map(|m| m.find(msg)).min()?;
    // The reason is the text before the last dash that precedes the marker (a reason may
    // itself contain a dash: `(unverified — may be a content-filter rejection)`).
    let head = msg.get(..cut).unwrap_or(msg);
    // Without a dash or a sentence break before the marker it is not a status line.
    let reason = last_dash(head).or_else(|| head.strip_suffix(". "))?;
    Some(EventKind::FallbackSwitching {
        reason: reason.trim().to_string(),
    })
}

/// The text before the last ` — ` / ` – ` / ` - ` of `text`.
fn last_dash(text: &str) -> Option<&str> {
    [" — ", " – ", " - "]
        .iter()
        .filter_map(|d| text.rfind(d))
        .max()
        .and_then(|i| text.get(..i))
}

/// Lines starting with `Fallback `.
fn fallback_line(rest: &str) -> Option<EventKind> {
    if let Some(body) = rest.strip_prefix("activated: ") {
        let (from, to) = body
            .split_once(" → ")
            .or_else(|| body.split_once(" -> "))
            .or_else(|| body.split_once('→'))?;
        let (to_model, to_provider) = paren_tail(to);
        return Some(EventKind::FallbackActivated {
            from_model: from.trim().to_string(),
            to_model,
            to_provider,
        });
    }
    if let Some(body) = rest.strip_prefix("provider resolved: ") {
        let (provider, model) = body.split_once(" model=").unwrap_or((body, ""));
        return Some(EventKind::FallbackResolved {
            provider: provider.trim().to_string(),
            model: field(model),
        });
    }
    if let Some(body) = rest.strip_prefix("skip: ") {
        let same_backend = body.contains("resolves to the same backend");
        let body = body.strip_prefix("chain entry ").unwrap_or(body);
        let target = body.split_whitespace().next().unwrap_or("").to_string();
        return Some(EventKind::FallbackSkip {
            target,
            same_backend,
        });
    }
    let body = rest.strip_prefix("to ")?;
    let (target, tail) = body
        .split_once(": ")
        .or_else(|| body.split_once(" failed"))?;
    if let Some(failed) = target.strip_suffix(" failed") {
        return Some(EventKind::FallbackFailed {
            target: failed.trim().to_string(),
            text: tail.trim().to_string(),
        });
    }
    if body.contains(" failed") && !tail.starts_with("clearing") && !tail.starts_with("attached") {
        return Some(EventKind::FallbackFailed {
            target: target.trim().to_string(),
            text: tail.trim().to_string(),
        });
    }
    let (provider, model) = match target.split_once('/') {
        Some((p, m)) => (p.to_string(), field(m)),
        None => (target.to_string(), None),
    };
    if tail.starts_with("clearing primary credential pool") {
        let pool_provider = tail
            .split_once("(pool_provider=")
            .and_then(|(_, p)| p.split_once(')'))
            .and_then(|(p, _)| field(p));
        return Some(EventKind::FallbackPoolCleared {
            provider,
            model,
            pool_provider,
        });
    }
    if tail.starts_with("attached fallback credential pool") {
        return Some(EventKind::FallbackPoolAttached { provider, model });
    }
    None
}

/// `M via P unavailable (reason); using M2 via P2.[ Primary retry eligible ...]`.
fn model_fallback(rest: &str) -> EventKind {
    let (old, new) = rest.split_once("; using ").unwrap_or((rest, ""));
    let (old, reason) = match old.split_once(" unavailable") {
        Some((o, r)) => {
            let r = r.trim();
            let r = r
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(r);
            (o, field(r))
        }
        None => (old, None),
    };
    let new = new.split_once(". ").map_or(new, |(n, _)| n);
    let (from_model, from_provider) = via(old);
    let (to_model, to_provider) = via(new.trim_end_matches('.'));
    EventKind::FallbackNotice {
        from_model,
        from_provider,
        to_model,
        to_provider,
        reason,
    }
}

/// `M via P` → (M, P).
fn via(text: &str) -> (Option<String>, Option<String>) {
    match text.rsplit_once(" via ") {
        Some((m, p)) => (field(m), field(p)),
        None => (field(text), None),
    }
}

/// `M (P)` → (M, Some(P)); `M` → (M, None).
fn paren_tail(text: &str) -> (String, Option<String>) {
    let text = text.trim();
    match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        Some((m, p)) => (m.trim().to_string(), field(p)),
        None => (text.to_string(), None),
    }
}

//! Turn family: turn start/end, client creation, cross-session cooldown notices and auth
//! rejection notices.

use super::{field, key_values, Needle};
use crate::model::EventKind;
use memchr::memmem::Finder;

static PLACEHOLDER: Needle = Needle::new(|| Finder::new("will be sent with placeholder"));
static DASHED_401: Needle = Needle::new(|| Finder::new(" 401 — "));

/// Prefixes of cross-session cooldown notices (§4.4).
const COOLDOWN_PREFIXES: &[&str] = &["Rate-limit backoff level ", "Rate limit resets in "];

/// Classify a turn-family message (already cleaned).
pub(super) fn classify(msg: &str) -> Option<EventKind> {
    if PLACEHOLDER.is_in(msg) {
        let provider = msg
            .split_once("provider '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(p, _)| p.to_string());
        return Some(EventKind::PlaceholderKey { provider });
    }
    if let Some(rest) = msg.strip_prefix("conversation turn: ") {
        let [session, model, provider, platform, _] = key_values(
            rest,
            ["session", "model", "provider", "platform", "history"],
        );
        return Some(EventKind::TurnStart {
            session: session.and_then(field),
            model: model.and_then(field),
            provider: provider.and_then(field),
            platform: platform.and_then(field),
        });
    }
    if msg.starts_with("Turn ended") {
        let [reason, _, session, _] = key_values(msg, ["reason", "model", "session", "task"]);
        let session = session.map(|s| s.split_whitespace().next().unwrap_or(""));
        return Some(EventKind::TurnEnd {
            reason: reason.and_then(field),
            session: session.and_then(field),
        });
    }
    if let Some(rest) = msg.strip_prefix("OpenAI client created (") {
        let (reason, tail) = rest.split_once(')').unwrap_or((rest, ""));
        let reason = reason.split_once(',').map_or(reason, |(r, _)| r);
        let [thread, provider, base_url, model] =
            key_values(tail, ["thread", "provider", "base_url", "model"]);
        return Some(EventKind::ClientCreated {
            reason: reason.trim().to_string(),
            thread: thread.and_then(field),
            provider: provider.and_then(field),
            base_url: base_url.and_then(field),
            model: model.and_then(field),
        });
    }
    let cooldown = COOLDOWN_PREFIXES.iter().any(|p| msg.starts_with(p))
        || (msg.starts_with("Primary ") && msg.contains(" rate-limited until "));
    if cooldown {
        return Some(EventKind::CooldownNotice {
            text: msg.to_string(),
        });
    }
    let auth_notice = msg.starts_with("Your API key was rejected by the provider")
        || msg.starts_with("Provider authentication failed")
        || (DASHED_401.is_in(msg) && msg.contains("authentication failed"));
    auth_notice.then(|| EventKind::AuthRejectedNotice {
        text: msg.to_string(),
    })
}

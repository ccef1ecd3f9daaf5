//! Gateway family (`gateway.run`): inbound messages, response ready, primary provider failures.

use super::{field, key_values};
use crate::model::EventKind;

/// Classify a gateway-family message (already cleaned).
pub(super) fn classify(msg: &str) -> Option<EventKind> {
    if let Some(rest) = msg.strip_prefix("inbound message: ") {
        let [platform, user, chat, _] = key_values(rest, ["platform", "user", "chat", "msg"]);
        return Some(EventKind::GatewayInbound {
            platform: platform.and_then(field),
            user: user.and_then(field),
            chat: chat.and_then(field),
        });
    }
    if let Some(rest) = msg.strip_prefix("response ready: ") {
        let [platform, chat, session, _, api_calls, _] = key_values(
            rest,
            [
                "platform",
                "chat",
                "session",
                "time",
                "api_calls",
                "response",
            ],
        );
        return Some(EventKind::GatewayResponse {
            platform: platform.and_then(field),
            chat: chat.and_then(field),
            session: session.and_then(field),
            api_calls: api_calls.and_then(|v| v.parse().ok()),
        });
    }
    let auth = if msg.starts_with("Primary provider rate-limited") {
        false
    } else if msg.starts_with("Primary provider auth failed") {
        true
    } else {
        return None;
    };
    let text = msg.split_once(": ").map_or("", |(_, t)| t);
    let text = text.strip_suffix(" — trying fallback").unwrap_or(text);
    Some(EventKind::GatewayPrimaryFailed {
        auth,
        text: text.trim().to_string(),
    })
}

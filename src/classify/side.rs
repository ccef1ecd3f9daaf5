//! Side clients: the auxiliary client (titles, compression, vision, web extraction), the vision
//! tool and the messaging adapters retry and fall back on their own. Their lines carry the same
//! words as the request's (`trying fallback`, `Retrying in Ns`) but say nothing about the
//! request's credential pool; they are told apart by logger and, where no logger is shown, by
//! wording, and never become request events.

/// Loggers of side clients (a prefix ending in `.` covers a package).
const SIDE_LOGGERS: &[&str] = &[
    "agent.auxiliary_client",
    "agent.title_generator",
    "agent.context_compressor",
    "tools.vision_tools",
    "tools.",
    "gateway.platforms.",
    "plugins.platforms.",
];

/// Lines of the provider resolver shared by the request's client and the side clients.
pub const SHARED_RESOLVER: &str = "resolve_provider_client: ";

/// Whether `logger` belongs to a side client.
pub fn is_side_logger(logger: &str) -> bool {
    SIDE_LOGGERS.iter().any(|p| {
        if p.ends_with('.') {
            logger.starts_with(p)
        } else {
            logger == *p
        }
    })
}

/// The side client a record comes from: by its logger, else by the wording of a message the
/// request's own lines never use. `None` for the request's client.
pub fn side_client(logger: Option<&str>, msg: &str) -> Option<&'static str> {
    // The provider resolver lives in the auxiliary client's module and serves the request's
    // own client too (`... will be sent with placeholder no-key-required`).
    if msg.starts_with(SHARED_RESOLVER) {
        return None;
    }
    if let Some(l) = logger {
        if l.starts_with("gateway.platforms.") || l.starts_with("plugins.platforms.") {
            return Some("messaging adapter");
        }
        if l == "tools.vision_tools" {
            return Some("vision");
        }
        if is_side_logger(l) {
            return Some("auxiliary");
        }
        return None;
    }
    if msg.starts_with("Auxiliary ") {
        return Some("auxiliary");
    }
    // `[Telegram] Primary api.telegram.org connection failed (...); trying fallback IPs ...`
    if msg.starts_with('[') && msg.contains("fallback IP") {
        return Some("messaging adapter");
    }
    // The vision tool's `Retrying in 2s...`: the request's own waits say why or which attempt.
    if let Some(rest) = msg.strip_prefix("Retrying in ") {
        let bare = rest
            .trim_end_matches(['.', '…'])
            .trim_end_matches('s')
            .parse::<f64>()
            .is_ok();
        if bare {
            return Some("vision");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_clients() {
        assert_eq!(
            side_client(Some("agent.auxiliary_client"), "x"),
            Some("auxiliary")
        );
        assert_eq!(side_client(Some("run_agent"), "x"), None);
        assert_eq!(
            side_client(
                Some("agent.auxiliary_client"),
                "resolve_provider_client: named custom provider 'p' has no resolvable api_key"
            ),
            None
        );
        assert_eq!(side_client(None, "Retrying in 2s..."), Some("vision"));
        assert_eq!(side_client(None, "Retrying in 2.0s (attempt 1/3)..."), None);
        assert_eq!(
            side_client(
                None,
                "[Telegram] Primary api.telegram.org connection failed (x); trying fallback IPs 1.2.3.4"
            ),
            Some("messaging adapter")
        );
    }
}

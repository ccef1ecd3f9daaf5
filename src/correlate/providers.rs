//! Provider names: normalising pool keys and inferring the provider of a pool label.

/// Provider names Hermes uses, longest first so that prefix matching picks the most specific.
const KNOWN_PROVIDERS: &[&str] = &[
    "openai-codex",
    "openrouter",
    "anthropic",
    "deepseek",
    "copilot",
    "minimax",
    "gemini",
    "nvidia",
    "vertex",
    "ollama",
    "custom",
    "openai",
    "nous",
    "kimi",
    "qwen",
    "zai",
    "xai",
];

/// Normalise a provider name or pool key: `custom:fakeprimary` runs as provider `custom`.
pub fn normalize(provider: &str) -> String {
    let p = provider.trim().to_ascii_lowercase();
    match p.split_once(':') {
        Some(("custom", _)) => "custom".to_string(),
        _ => p,
    }
}

/// Infer a provider from a pool label's prefix (`openai-codex-oauth-2` → `openai-codex`,
/// `OPENROUTER_API_KEY` → `openrouter`). None when the label names no known provider.
pub fn from_label(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase().replace('_', "-");
    let mut best: Option<&'static str> = None;
    for p in KNOWN_PROVIDERS {
        let matches = lower == *p
            || lower
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('-') || rest.starts_with(':'));
        if matches && best.is_none_or(|b| b.len() < p.len()) {
            best = Some(p);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_prefixes() {
        assert_eq!(from_label("openai-codex-oauth-2"), Some("openai-codex"));
        assert_eq!(from_label("OPENROUTER_API_KEY"), Some("openrouter"));
        assert_eq!(from_label("openai-key"), Some("openai"));
        assert_eq!(from_label("zai-coding-1"), Some("zai"));
        assert_eq!(from_label("api-key-2"), None);
        assert_eq!(from_label("prim-acct-1"), None);
        assert_eq!(from_label("zaibatsu"), None);
    }

    #[test]
    fn normalizes_custom_pool_keys() {
        assert_eq!(normalize("custom:fakeprimary"), "custom");
        assert_eq!(normalize("OpenAI-Codex"), "openai-codex");
    }
}

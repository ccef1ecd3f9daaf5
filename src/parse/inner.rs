//! The message inside a journal / desktop / bare line: a full agent-log or verbose line, a stderr logging
//! line `LEVEL logger: message`, or a console (stdout) line, possibly with a `[subagent-N] `
//! prefix.

use super::{agent_log, verbose, Head};
use std::borrow::Cow;

/// Fill level / session / logger / subagent and the message of `rec` from `msg`.
pub(crate) fn apply<'a>(rec: &mut Head<'a>, msg: &'a str) {
    if msg.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if let Some(h) = agent_log::parse(msg).or_else(|| verbose::parse(msg)) {
            rec.level = h.level;
            rec.session = h.session;
            rec.logger = h.logger;
            rec.message = h.message;
            return;
        }
    }
    if msg.as_bytes().first().is_some_and(u8::is_ascii_uppercase) {
        if let Ok((rest, (lvl, sid, lg))) = agent_log::level_tail(false)(msg) {
            rec.level = Some(lvl);
            rec.session = sid.map(Cow::Borrowed);
            rec.logger = lg.map(Cow::Borrowed);
            rec.message = Cow::Borrowed(rest);
            return;
        }
    }
    let (subagent, rest) = split_subagent(msg);
    rec.subagent = subagent;
    rec.message = Cow::Borrowed(rest);
}

/// Split a leading `[subagent-N] ` console prefix (after optional indentation) off `msg`.
pub(crate) fn split_subagent(msg: &str) -> (Option<u32>, &str) {
    let t = msg.trim_start();
    let parsed = t.strip_prefix("[subagent-").and_then(|r| {
        let (n, rest) = r.split_once(']')?;
        Some((n.parse().ok()?, rest.strip_prefix(' ').unwrap_or(rest)))
    });
    match parsed {
        Some((n, rest)) => (Some(n), rest),
        None => (None, msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Shape};
    use crate::parse::time::RawTime;

    fn rec(msg: &str) -> Head<'_> {
        let mut h = Head::new(Shape::Bare, RawTime::None);
        apply(&mut h, msg);
        h
    }

    #[test]
    fn stderr_console_and_subagent() {
        let r = rec("WARNING gateway.run: Primary provider auth failed: x");
        assert_eq!(
            (r.level, r.logger.as_deref()),
            (Some(Level::Warning), Some("gateway.run"))
        );
        assert_eq!(r.message, "Primary provider auth failed: x");
        let r = rec("[subagent-2] ⚠️  API call failed (attempt 1/3): RateLimitError");
        assert_eq!(r.subagent, Some(2));
        assert_eq!(
            r.message,
            "⚠️  API call failed (attempt 1/3): RateLimitError"
        );
        let r = rec("14:17:16 - agent.credential_pool - INFO - credential pool: rotated to b");
        assert_eq!(r.logger.as_deref(), Some("agent.credential_pool"));
        assert_eq!(r.message, "credential pool: rotated to b");
        let r = rec("Provider: openai-codex  Model: gpt-5.4");
        assert_eq!((r.level, r.logger), (None, None));
        assert_eq!(split_subagent("[subagent-x] m"), (None, "[subagent-x] m"));
    }
}

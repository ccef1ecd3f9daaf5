//! Credential pool family: `credential pool: ...` lines, pool recovery (`Credential ...`),
//! restore re-selection and the structured `profile_rotation` JSON event.

use super::{continuation, field, leading_u32, Needle};
use crate::model::{EventKind, Record};
use memchr::memmem::Finder;

static PROFILE_ROTATION: Needle = Needle::new(|| Finder::new("profile_rotation"));

/// Classify a pool-family message (already cleaned).
pub(super) fn classify(msg: &str, rec: &Record) -> Option<EventKind> {
    if let Some(rest) = msg.strip_prefix("credential pool: ") {
        return pool_line(rest);
    }
    if let Some(rest) = msg.strip_prefix("Credential pool provider mismatch: ") {
        let (pool, agent) = rest.split_once(", agent=")?;
        let agent = agent.split_once(" — ").map_or(agent, |(a, _)| a);
        return Some(EventKind::PoolProviderMismatch {
            pool: pool.trim_start_matches("pool=").trim().to_string(),
            agent: agent.trim().to_string(),
        });
    }
    if let Some(rest) = msg.strip_prefix("Credential already exhausted (last_status=") {
        let (status, _) = rest.split_once(')')?;
        return Some(EventKind::PoolAlreadyExhausted {
            last_status: status.trim().to_string(),
        });
    }
    if let Some(rest) = msg.strip_prefix("Credential ") {
        if let Some((head, to)) = rest.split_once(" — rotated to pool entry ") {
            let (status, cause) = head.split_once(" (").unwrap_or((head, ""));
            return Some(EventKind::PoolRecoveryRotated {
                status: status.trim().parse().ok(),
                cause: cause.trim_end_matches(')').trim().to_string(),
                to_id: to.trim().trim_end_matches('.').to_string(),
            });
        }
    }
    if let Some(rest) = msg
        .strip_prefix("Restore re-selected pool entry ")
        .map(|r| (r, false))
        .or_else(|| {
            msg.strip_prefix("Restore skipped pool entry ")
                .map(|r| (r, true))
        })
    {
        let (body, skipped) = rest;
        let (entry, tail) = body.split_once(" (").unwrap_or((body, ""));
        let provider = tail.split_once(')').and_then(|(p, _)| field(p));
        return Some(EventKind::RestorePoolEntry {
            entry: entry.trim().to_string(),
            provider,
            skipped,
        });
    }
    if PROFILE_ROTATION.is_in(msg) {
        return profile_rotation(msg, rec);
    }
    None
}

/// The text after `credential pool: `.
fn pool_line(rest: &str) -> Option<EventKind> {
    if rest.starts_with("no available entries") {
        return Some(EventKind::PoolNoAvailable);
    }
    if let Some(body) = rest.strip_prefix("marking ") {
        if let Some((label, tail)) = body.split_once(" DEAD") {
            let inner = tail
                .trim_start()
                .strip_prefix('(')
                .and_then(|t| t.split_once(')'))
                .map_or("", |(i, _)| i);
            let reason = inner
                .split_once("reason=")
                .and_then(|(_, r)| field(r.split(',').next().unwrap_or("")));
            return Some(EventKind::PoolMarked {
                label: label.trim().to_string(),
                status: status_field(inner),
                dead: true,
                reason,
            });
        }
        let (label, tail) = body.split_once(" exhausted")?;
        return Some(EventKind::PoolMarked {
            label: label.trim().to_string(),
            status: status_field(tail),
            dead: false,
            reason: None,
        });
    }
    if let Some(to) = rest.strip_prefix("rotated to ") {
        return Some(EventKind::PoolRotated {
            to: to.trim().to_string(),
        });
    }
    if let Some(body) = rest.strip_prefix("rotation returned the just-marked entry ") {
        let label = body.split_once(" — ").map_or(body, |(l, _)| l);
        return Some(EventKind::PoolRotationReturnedSame {
            label: label.trim().to_string(),
        });
    }
    if let Some(body) = rest.strip_prefix("failed credential identity matched no ") {
        let provider = body.split_once(" entry").map_or(body, |(p, _)| p);
        return Some(EventKind::PoolIdentityNoMatch {
            provider: provider.trim().to_string(),
        });
    }
    let (label, tail) = rest.split_once(" unavailable for model ")?;
    let model = tail.split_once(';').map_or(tail, |(m, _)| m);
    Some(EventKind::PoolModelCooldown {
        label: label.trim().to_string(),
        model: model.trim().to_string(),
    })
}

/// `status=429` inside a parenthesised tail.
fn status_field(text: &str) -> Option<u16> {
    let (_, v) = text.split_once("status=")?;
    leading_u32(v).and_then(|s| u16::try_from(s).ok())
}

/// `{"event":"profile_rotation", ...}`, possibly spread over continuation lines.
fn profile_rotation(msg: &str, rec: &Record) -> Option<EventKind> {
    let mut joined = msg.to_string();
    for line in continuation(rec) {
        joined.push(' ');
        joined.push_str(&line);
    }
    let start = joined.find('{')?;
    let end = joined.rfind('}')?;
    let value: serde_json::Value = serde_json::from_str(joined.get(start..=end)?).ok()?;
    if value.get("event").and_then(|v| v.as_str()) != Some("profile_rotation") {
        return None;
    }
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| value.get(*k).and_then(|v| v.as_str()))
            .map(str::to_string)
    };
    let num = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| value.get(*k).and_then(|v| v.as_u64()))
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(EventKind::ProfileRotation {
        provider: text(&["provider"]),
        from: text(&["from_profile", "from"]),
        to: text(&["to_profile", "to"]),
        reason: text(&["reason"]),
        attempt: num(&["attempt"]),
        max: num(&["max", "max_attempts"]),
        remaining: num(&["remaining_profiles", "remaining"]),
    })
}

//! missed-rotation: a profile-level failure on X, then the next attempt goes to X again while
//! another profile was available.

use super::{
    attempt_name, available_phrase, class_text, join_names, profile_note, FindingBuilder, Rule,
};
use crate::correlate::{providers, Analysis};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "missed-rotation",
        severity: Severity::High,
        summary: "After a profile-level failure the request retried the same credential although another one was available.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
After a profile-level failure (usage limit / quota 429, 402 billing, 401/403 auth) on profile X
of provider P, the next attempt of the same request goes to X again while another profile of P
was available (known, not cooled, not dead) at that moment. Knowledge that another profile
exists comes from auth.json, a `hermes auth list` capture, or earlier log lines naming it.

## Why it matters
A quota wall does not lift in seconds: every retry on X is wasted and the request may give up or
leave for the fallback chain while a healthy credential of the preferred provider sits unused.

## Example
```
18:41:08 python[2844586]: ⚠️ API call failed (attempt 1/4): RateLimitError [HTTP 429]
   📋 Details: {'type':'usage_limit_reached','plan_type':'team','resets_at':1778295076}
18:41:08 python[2844586]: ⚠️ API call failed (attempt 2/4): RateLimitError [HTTP 429]
   📋 Details: {'type':'usage_limit_reached','plan_type':'team','resets_at':1778295076}
```
with auth.json listing a third, healthy openai-codex profile.

## Lifecycle evidence used
Each attempt's profile (rotation line, mark line, account fingerprint) and, for calls on a
client rebuilt from the turn's runtime, the start-up key that client carries; the pool model's
members and cooldowns at each call's time (log marks, then snapshots valid at that time).

## Not triggered by
A single-profile pool; all other profiles cooled or dead at that time (see `pool-exhausted`); a
transient failure (5xx, timeout, a first plain 429), where retrying the same profile is correct.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    skipped_rotations(a, out);
    for req in &a.requests {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            if prev.succeeded || !prev.class.is_profile_level() {
                continue;
            }
            if prev.profile.is_none() || prev.profile != next.profile {
                continue;
            }
            if next.others_available.is_empty() {
                continue;
            }
            hits.push((w, w + 1));
        }
        let Some(&(first_prev, _)) = hits.first() else {
            continue;
        };
        let prev = &req.attempts[first_prev];
        let profile = prev.profile.clone().unwrap_or_default();
        let repeated: Vec<String> = hits
            .iter()
            .map(|&(_, n)| attempt_name(&req.attempts[n]))
            .collect();
        let last = &req.attempts[hits[hits.len() - 1].1];
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "{} went to {profile} again after its {} failure at {}, while {} available",
                join_names(&repeated),
                class_text(prev.class),
                attempt_name(prev),
                available_phrase(&last.others_available, last.availability_inferred)
            ),
        )
        .request(req)
        .provider(prev.provider.as_deref())
        .membership(
            prev.provider
                .as_deref()
                .map(providers::normalize)
                .as_deref(),
            &last.others_available,
        )
        .profile(Some(&profile))
        .at(req.attempts[hits[0].1].events[0])
        .events(prev.events.iter().copied());
        for &(_, n) in &hits {
            f = f.events(req.attempts[n].events.iter().copied());
        }
        if let Some(n) = profile_note(prev) {
            f = f.note(n);
        }
        if prev.class == crate::classify::quota::FailureClass::QuotaWall {
            f = f.release_semantics(|s| {
                s.retries_usage_limit_once
                    .then_some("retry a usage-limit 429 once on the same key before rotating")
            });
        }
        let guarded = req
            .events
            .iter()
            .any(|&e| matches!(a.events[e].kind, EventKind::PoolProviderMismatch { .. }));
        if guarded {
            f = f.release_semantics(|s| {
                (!s.named_custom_pool_rotates).then_some(
                    "never rotate a named custom provider's pool (`custom:NAME` is compared with `custom`)",
                )
            });
        }
        if last.availability_inferred {
            f = f.note(format!(
                "availability inferred: the pool lists {} profile(s) not cooled; accounts seen only by fingerprint are counted as some of them",
                last.others_available.len()
            ));
        }
        out.push(f.build());
    }
}

/// Hermes decided to rotate but its provider guard skipped the pool mutation
/// (`Credential pool provider mismatch: ... skipping pool mutation`), and the next call went out
/// with no rotation line — on the same credential — while the pool had other entries.
fn skipped_rotations(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let Some(provider) = req.primary_provider.as_deref().map(providers::normalize) else {
            continue;
        };
        let Some(pool) = a.pools.pool(&provider).filter(|p| p.size_known) else {
            continue;
        };
        let mut hits = Vec::new();
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            // The guard line sits between the stream failure and the attempt line of a call.
            let (Some(&p_first), Some(&n_first)) = (prev.events.first(), next.events.first())
            else {
                continue;
            };
            let between = req.between(p_first, n_first);
            let guard = between
                .iter()
                .copied()
                .find(|&e| matches!(a.events[e].kind, EventKind::PoolProviderMismatch { .. }));
            let rotated = between.iter().any(|&e| a.events[e].kind.is_rotation());
            // A transient failure is retried on the same credential by design.
            let transient = prev.class == crate::classify::quota::FailureClass::Transient;
            if prev.succeeded
                || transient
                || rotated
                || prev.profile.is_some()
                || next.profile.is_some()
            {
                continue;
            }
            if let Some(g) = guard {
                hits.push((w, g));
            }
        }
        let Some(&(first, _)) = hits.first() else {
            continue;
        };
        let t = req.attempts[first]
            .time
            .map(|t| t.timestamp_millis() as f64 / 1000.0);
        let host = req.attempts[first]
            .events
            .first()
            .and_then(|&e| a.events[e].record.host.as_deref());
        let available: Vec<String> = pool
            .members
            .iter()
            .filter(|m| !m.is_account && a.pools.cooled_at(&provider, &m.label, t, host).is_none())
            .map(|m| m.label.clone())
            .collect();
        if available.len() < 2 {
            continue;
        }
        let prev = &req.attempts[first];
        let retried: Vec<String> = hits
            .iter()
            .map(|&(w, _)| attempt_name(&req.attempts[w + 1]))
            .collect();
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "Hermes chose to rotate after the {} failure at {} but skipped the pool mutation; {} went out on the same credential while {} of {} entries were available",
                class_text(prev.class),
                attempt_name(prev),
                join_names(&retried),
                available.len(),
                pool.key
            ),
        )
        .request(req)
        .provider(Some(&provider))
        .membership(Some(&provider), &available)
        .release_semantics(|s| {
            (!s.named_custom_pool_rotates)
                .then_some("never rotate a named custom provider's pool (`custom:NAME` is compared with `custom`)")
        })
        .at(req.attempts[first + 1].events[0])
        .note("the credential is the same because no rotation line separates the calls; the log does not name it");
        for &(w, g) in &hits {
            f = f
                .events(req.attempts[w].events.iter().copied())
                .event(g)
                .events(req.attempts[w + 1].events.iter().copied());
        }
        out.push(f.build());
    }
}

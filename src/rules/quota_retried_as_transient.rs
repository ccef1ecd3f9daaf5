//! quota-retried-as-transient: a quota wall retried on the same credential with short backoff.

use super::{attempt_name, join_names, FindingBuilder, Rule};
use crate::correlate::{fmt_epoch, Analysis};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "quota-retried-as-transient",
        severity: Severity::Medium,
        summary: "A quota wall was retried on the same credential with short backoff, as if it were a transient rate limit.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A quota wall (usage_limit_reached, weekly/session usage limit, insufficient balance, a reset
hours away) is retried on the same credential with a short backoff (under 60 s) as if it were a
transient rate limit, and neither a rotation nor a fallback follows before the retry budget is
spent. The wall is read from the wording, not the status: a 400 or 403 whose body says the
credit balance or budget is gone is a wall too. A terminal summary alone
(`API call failed after 3 retries. HTTP 429: <quota wording>`, a bug-report fragment without the
attempt lines) stands for the retries it counts; the finding says it was judged from the summary.

## Why it matters
The provider already said when the quota returns. Seconds of backoff cannot outlast hours of
quota window: the retries only delay the failure (or the fallback) and burn the budget.

## Example
```
⚠️  API call failed (attempt 1/4): RateLimitError [HTTP 429]
   📋 Details: {'type': 'usage_limit_reached', 'plan_type': 'team', 'resets_at': 1778295076}
⏱️ Rate limited. Waiting 2.1s (attempt 2/4)...
⚠️  API call failed (attempt 2/4): RateLimitError [HTTP 429]
```

## Lifecycle evidence used
The profile of the quota failure and of the next call (same key = no rotation between them, no
client rebuild that could carry another key), and the waits between them.

## Not triggered by
A plain 429 without quota wording (retrying it is Hermes's design); a reset time shorter than the
wait; a rotation or fallback line right after the quota error.
";

const SHORT_WAIT_SECS: f64 = 60.0;

/// A rotation or a fallback: the request moved away from the credential.
fn is_move(k: &EventKind) -> bool {
    k.is_rotation()
        || matches!(
            k,
            EventKind::FallbackActivated { .. } | EventKind::FallbackSwitching { .. }
        )
}

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let mut hits = Vec::new();
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            if prev.succeeded || !crate::classify::quota::is_wall(prev.class) {
                continue;
            }
            let same = match (&prev.profile, &next.profile) {
                (Some(x), Some(y)) => x == y,
                // Neither named: the same credential unless the error bodies name different
                // accounts (no rotation line between them is checked below).
                (None, None) => match (&prev.details, &next.details) {
                    (Some(x), Some(y)) => crate::correlate::same_account(x, y) != Some(false),
                    _ => true,
                },
                _ => false,
            };
            if !same {
                continue;
            }
            let (Some(&p_last), Some(&n_first)) = (prev.events.last(), next.events.first()) else {
                continue;
            };
            let between = req.between(p_last, n_first);
            if between.iter().any(|&e| is_move(&a.events[e].kind)) {
                continue;
            }
            let wait = between.iter().find_map(|&e| match &a.events[e].kind {
                EventKind::RetryScheduled { wait_s, .. } => Some((*wait_s, e)),
                _ => None,
            });
            if let Some((secs, _)) = wait {
                if secs >= SHORT_WAIT_SECS {
                    continue;
                }
            }
            // A reset that comes before the retry makes the retry legitimate.
            let reset = prev.details.as_ref().and_then(|d| d.resets_at);
            let next_t = next.time.map(|t| t.timestamp() as f64);
            if let (Some(r), Some(t)) = (reset, next_t) {
                if r <= t {
                    continue;
                }
            }
            hits.push((w, wait));
        }
        let Some(&(first, _)) = hits.first() else {
            summarized(a, req, out);
            continue;
        };
        // A rotation after the retries means the wall was handled before the budget ran out.
        let last_retry = hits
            .last()
            .and_then(|&(w, _)| req.attempts[w + 1].events.last().copied())
            .unwrap_or(0);
        if req
            .between(last_retry, usize::MAX)
            .iter()
            .any(|&e| a.events[e].kind.is_rotation())
        {
            continue;
        }
        let prev = &req.attempts[first];
        let retried: Vec<String> = hits
            .iter()
            .map(|&(w, _)| attempt_name(&req.attempts[w + 1]))
            .collect();
        let waits: Vec<String> = hits
            .iter()
            .filter_map(|&(_, w)| w.map(|(s, _)| format!("{s:.1} s")))
            .collect();
        let reset = prev.details.as_ref().and_then(|d| d.resets_at);
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "a quota wall on {} was retried on the same credential ({}){}{}",
                prev.profile.as_deref().unwrap_or("the credential"),
                join_names(&retried),
                if waits.is_empty() {
                    String::new()
                } else {
                    format!(" after waits of {}", join_names(&waits))
                },
                reset
                    .map(|r| format!("; the quota resets at {}", fmt_epoch(r)))
                    .unwrap_or_default()
            ),
        )
        .request(req)
        .provider(prev.provider.as_deref())
        .profile(prev.profile.as_deref())
        .at(req.attempts[first + 1].events[0])
        .events(prev.events.iter().copied());
        for &(w, wait) in &hits {
            if let Some((_, e)) = wait {
                f = f.event(e);
            }
            f = f.events(req.attempts[w + 1].events.iter().copied());
        }
        if let Some(r) = reset {
            f = f.note(format!("resets_at {r:.0} = {}", fmt_epoch(r)));
        }
        out.push(f.build());
    }
}

/// A request known only from its terminal summary (`API call failed after 3 retries. HTTP 429:
/// <quota wording>`): the summary stands for the retries it counts. Judged only when no failed
/// attempt line of the request is in the input and nothing moved it (rotation, fallback) before
/// the summary.
fn summarized(a: &Analysis, req: &crate::correlate::Request, out: &mut Vec<Finding>) {
    if req.attempts.iter().any(|at| !at.succeeded) {
        return;
    }
    let Some((e, retries, class, status)) = super::summary::terminal_wall(a, req) else {
        return;
    };
    if req
        .events
        .iter()
        .any(|&x| x < e && is_move(&a.events[x].kind))
    {
        return;
    }
    let provider = match &a.events[e].kind {
        EventKind::TerminalFailure { provider, .. } => provider.clone(),
        _ => None,
    }
    .or_else(|| req.primary_provider.clone());
    out.push(
        FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "a {} wall{} on {} was retried {retries} time(s) before the request failed",
                super::class_text(class),
                status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
                provider.as_deref().unwrap_or("the provider"),
            ),
        )
        .request(req)
        .provider(provider.as_deref())
        .at(e)
        .event(e)
        .note(
            "judged from the terminal summary alone: its per-attempt lines are not in the input, \
             and no rotation or fallback line is either",
        )
        .build(),
    );
}

//! pool-exhausted: every profile of a provider is cooled or dead.

use super::{FindingBuilder, Rule};
use crate::correlate::{fmt_epoch, providers, Analysis};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "pool-exhausted",
        severity: Severity::Info,
        summary: "Every credential of a provider was cooled or dead at some moment.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
Every profile of a provider is cooled or dead at some moment: `credential pool: no available
entries (all exhausted or empty)`, or an auth.json snapshot whose entries for a provider are all
exhausted or dead. The finding gives the earliest time a profile returns, when known.

## Why it matters
Nothing in the pool can serve: requests go to the fallback chain or fail until the first reset.
It is often the consequence of another finding (a misattributed mark, a client defect).

## Example
```
INFO [s] agent.credential_pool: credential pool: no available entries (all exhausted or empty)
```

## Not triggered by
A pool with at least one available entry; a snapshot in which an exhausted entry's reset time
has already passed (see `stale-exhaustion`). Reported once per request.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let Some(&e) = req
            .events
            .iter()
            .find(|&&e| matches!(a.events[e].kind, EventKind::PoolNoAvailable))
        else {
            continue;
        };
        let provider = req.primary_provider.as_deref().map(providers::normalize);
        let earliest = provider
            .as_deref()
            .and_then(|p| a.pools.pool(p))
            .and_then(|p| {
                p.members
                    .iter()
                    .filter_map(|m| m.cooling.as_ref().and_then(|c| c.until))
                    .min_by(|x, y| x.total_cmp(y))
            });
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "no credential of {} was available{}",
                provider.as_deref().unwrap_or("the provider"),
                earliest
                    .map(|u| format!("; the earliest returns at {}", fmt_epoch(u)))
                    .unwrap_or_default()
            ),
        )
        .request(req)
        .provider(provider.as_deref())
        .at(e);
        if let Some(m) = req
            .events
            .iter()
            .rev()
            .find(|&&m| m < e && matches!(a.events[m].kind, EventKind::PoolMarked { .. }))
        {
            f = f.event(*m);
        }
        out.push(f.event(e).build());
    }
    at_rest(a, out);
}

fn at_rest(a: &Analysis, out: &mut Vec<Finding>) {
    for auth in &a.auths {
        let at = auth.snapshot.updated_at;
        for (key, entries) in &auth.snapshot.pools {
            if entries.is_empty() {
                continue;
            }
            let all_out = entries.iter().all(|e| match e.last_status.as_deref() {
                Some("dead") => true,
                Some("exhausted") => match (e.last_error_reset_at, at) {
                    (Some(r), Some(t)) => r > t,
                    _ => true,
                },
                _ => false,
            });
            if !all_out {
                continue;
            }
            let earliest = entries
                .iter()
                .filter_map(|e| e.last_error_reset_at)
                .min_by(|x, y| x.total_cmp(y));
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "every {key} credential is exhausted or dead in {}{}",
                    auth.name,
                    earliest
                        .map(|u| format!("; the earliest returns at {}", fmt_epoch(u)))
                        .unwrap_or_default()
                ),
            )
            .provider(Some(&providers::normalize(key)));
            for e in entries {
                f = f.evidence(
                    &auth.name,
                    e.line,
                    format!(
                        "{}: last_status={}",
                        e.label.clone().or(e.id.clone()).unwrap_or_default(),
                        e.last_status.clone().unwrap_or_default()
                    ),
                );
            }
            out.push(f.build());
        }
    }
}

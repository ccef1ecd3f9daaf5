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

## Lifecycle evidence used
None per call: pool marks, `no available entries` and snapshot states.

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
                    .filter_map(|m| until_as_of(a, &p.provider, m, e))
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
    listed(a, out);
}

/// When `m` returns, as the pool stood at event `e`: its last bench in the log up to `e`, else
/// the state a snapshot gave it. Benches after `e` (later exhaustions of the same pool) do not
/// tell when the pool exhausted at `e` comes back.
fn until_as_of(
    a: &Analysis,
    provider: &str,
    m: &crate::correlate::ProfileState,
    e: usize,
) -> Option<f64> {
    let named = |label: &str| m.label == label || m.id.as_deref() == Some(label);
    match a
        .pools
        .benches
        .iter()
        .filter(|b| b.event <= e && b.provider == provider && named(&b.label))
        .max_by_key(|b| b.event)
    {
        Some(b) if b.dead => None,
        Some(b) => b.until,
        None => m
            .cooling
            .as_ref()
            .filter(|c| c.since_event.is_none_or(|s| s <= e))
            .and_then(|c| c.until),
    }
}

/// A `hermes auth list` capture in which every credential of a provider is rate-limited or
/// exhausted with time left: the pool was exhausted when the capture was taken (its time is not
/// written in it; Hermes prints the countdown from the moment it runs).
fn listed(a: &Analysis, out: &mut Vec<Finding>) {
    let from_json: Vec<String> = out
        .iter()
        .filter(|f| f.rule == RULE.info.id && f.request.is_none())
        .filter_map(|f| f.provider.clone())
        .collect();
    for list in &a.lists {
        let mut groups: Vec<(Option<&str>, Vec<&crate::auth::AuthListRow>)> = Vec::new();
        for row in &list.rows {
            let key = row.provider.as_deref();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((key, vec![row])),
            }
        }
        for (key, rows) in groups {
            let out_of_service = |r: &&crate::auth::AuthListRow| {
                matches!(
                    r.status.as_deref(),
                    Some("rate-limited") | Some("exhausted")
                ) && !r.ready_to_retry
            };
            if rows.is_empty() || !rows.iter().all(out_of_service) {
                continue;
            }
            let provider = key.map(providers::normalize);
            if provider.as_ref().is_some_and(|p| from_json.contains(p)) {
                continue;
            }
            let soonest = rows.iter().filter_map(|r| r.left_s).min();
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "every {} credential is rate-limited or exhausted in {}{}",
                    key.unwrap_or("listed"),
                    list.name,
                    soonest
                        .map(|s| format!(
                            "; the first returns {} after the capture",
                            fmt_left(s)
                        ))
                        .unwrap_or_default()
                ),
            )
            .provider(provider.as_deref())
            .note(format!(
                "judged from the snapshot, as of the time {} was captured (not written in it): it says nothing of the pool before",
                list.name
            ));
            for r in rows {
                f = f.evidence(&list.name, r.line, r.raw.clone());
            }
            out.push(f.build());
        }
    }
}

/// `3h 59m`, `2d 4h`, `45s` from seconds.
fn fmt_left(s: u64) -> String {
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
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

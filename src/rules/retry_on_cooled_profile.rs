//! retry-on-cooled-profile: an attempt sent with a profile that is cooled at that moment.

use super::{attempt_name, cooling_text, join_names, profile_note, FindingBuilder, Rule};
use crate::correlate::Analysis;
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "retry-on-cooled-profile",
        severity: Severity::High,
        summary: "An attempt was sent with a credential that was still cooling down (or dead).",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
An attempt is sent with a profile that is cooled at the time of the attempt: it returned a
profile-level failure earlier in the log (e.g. `usage_limit_reached` with `resets_at` hours
ahead), a mark line benched it, or auth.json marks it exhausted/dead with a reset in the future.
This also covers the rotation cap: once every profile failed at profile level, any further
attempt against them is a retry on a cooled profile.

## Why it matters
The provider has already said when the credential comes back. Every call before then is wasted
latency, burns the retry budget and can push the request into the fallback chain.

## Example
```
2026-05-08T18:41:08-0400 gw-1 python[2844586]: ⚠️  API call failed (attempt 1/4): RateLimitError [HTTP 429]
2026-05-08T18:41:08-0400 gw-1 python[2844586]:    📋 Details: {'type': 'usage_limit_reached', 'plan_type': 'team', 'resets_at': 1778295076}
2026-05-08T18:41:10-0400 gw-1 python[2844586]: ⚠️  API call failed (attempt 2/4): RateLimitError [HTTP 429]
```

## Lifecycle evidence used
Each attempt's profile, including calls sent on a client rebuilt from the turn's runtime (they
carry the start-up key, even when the pool had rotated away from it); the cooldown of that
profile at the call's time (a log mark, or a snapshot whose state holds from its own time on).

## Not triggered by
An attempt after the cooldown ended; a retry after a transient failure (5xx, timeout); the
first same-key retry Hermes makes on purpose after a plain 429 with no quota wording and no
reset time.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        // One finding per (request, profile).
        let mut profiles: Vec<String> = Vec::new();
        for at in &req.attempts {
            if let (Some(p), Some(_)) = (&at.profile, &at.cooled) {
                if !profiles.contains(p) {
                    profiles.push(p.clone());
                }
            }
        }
        for p in profiles {
            let hits: Vec<_> = req
                .attempts
                .iter()
                .filter(|at| at.profile.as_ref() == Some(&p) && at.cooled.is_some())
                .collect();
            let Some(first) = hits.first() else { continue };
            let Some(cooling) = &first.cooled else {
                continue;
            };
            let names: Vec<String> = hits.iter().map(|h| attempt_name(h)).collect();
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "{} {} sent with {p}, which was cooled: {}",
                    join_names(&names),
                    if names.len() == 1 { "was" } else { "were" },
                    cooling_text(cooling)
                ),
            )
            .request(req)
            .provider(first.provider.as_deref())
            .profile(Some(&p))
            .at(first.events[0]);
            if let Some(since) = cooling.since_event {
                f = f.event(since);
            }
            if let Some(snap) = &cooling.since_snapshot {
                f = f.note(format!("cooldown known from the snapshot {snap}"));
                if let Some(m) = a
                    .pools
                    .pools
                    .iter()
                    .flat_map(|pl| pl.members.iter())
                    .find(|m| m.label == p)
                {
                    if let Some((src, line)) = &m.snapshot_line {
                        f = f.evidence(src, *line, format!("pool entry {p}: {}", cooling.reason));
                    }
                }
            }
            for h in &hits {
                f = f.events(h.events.iter().copied());
            }
            if let Some(n) = profile_note(first) {
                f = f.note(n);
            }
            if let Some(u) = cooling.until {
                f = f.note(format!(
                    "cooled until {} (epoch {u:.0})",
                    crate::correlate::fmt_epoch(u)
                ));
            } else if cooling.dead {
                f = f.note("dead until re-authenticated");
            }
            out.push(f.build());
        }
    }
}

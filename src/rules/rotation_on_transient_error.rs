//! rotation-on-transient-error: rotated to another profile after a transient failure.

use super::{attempt_name, FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::Analysis;
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "rotation-on-transient-error",
        severity: Severity::Medium,
        summary:
            "A healthy credential was rotated away from after a provider-side blip (5xx, timeout).",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
The request rotated to another profile after a transient failure (5xx, 529 overloaded, timeout,
connection error) where it should have retried the same profile within its budget.

## Why it matters
A provider-side blip says nothing about the credential. Rotating (and usually benching) a
healthy profile loses pool capacity for the length of its cooldown.

## Example
```
WARNING [s] agent.conversation_loop: API call failed (attempt 1/3) error_type=InternalServerError ... summary=HTTP 503: Service Unavailable
INFO [s] agent.credential_pool: credential pool: marking prim-acct-1 exhausted (status=503), rotating
INFO [s] agent.credential_pool: credential pool: rotated to prim-acct-2
```

## Lifecycle evidence used
The rotation line after the failing call and the profile of the call before it; a client rebuilt
for transport recovery is not a rotation.

## Not triggered by
A rotation after a profile-level failure (quota, billing, auth); a same-profile retry after a
transient failure (the correct behaviour).
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            if prev.succeeded || prev.class != FailureClass::Transient {
                continue;
            }
            let (Some(&p_last), Some(&n_first)) = (prev.events.last(), next.events.first()) else {
                continue;
            };
            let between = req.between(p_last, n_first);
            let rotation_lines: Vec<usize> = between
                .iter()
                .copied()
                .filter(|&e| a.events[e].kind.is_rotation())
                .collect();
            // A client rebuilt after the transport error carries the turn's start-up credential:
            // that change is no rotation (misattributed-exhaustion judges what follows).
            let rebuilt = next.basis == Some(crate::correlate::ProfileBasis::RebuiltClient);
            let profile_changed =
                !rebuilt && matches!((&prev.profile, &next.profile), (Some(x), Some(y)) if x != y);
            if rotation_lines.is_empty() && !profile_changed {
                continue;
            }
            let f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "rotated from {} to {} after a transient failure at {} ({})",
                    prev.profile.as_deref().unwrap_or("an unknown profile"),
                    next.profile.as_deref().unwrap_or("another profile"),
                    attempt_name(prev),
                    prev.status
                        .map(|s| format!("HTTP {s}"))
                        .or(prev.error_type.clone())
                        .unwrap_or_else(|| "transport error".into())
                ),
            )
            .request(req)
            .provider(prev.provider.as_deref())
            .profile(prev.profile.as_deref())
            .at(rotation_lines.first().copied().unwrap_or(n_first))
            .events(prev.events.iter().copied())
            .events(
                between
                    .iter()
                    .copied()
                    .filter(|&e| matches!(a.events[e].kind, EventKind::PoolMarked { .. })),
            )
            .events(rotation_lines.iter().copied())
            .build();
            out.push(f);
        }
    }
}

//! shared-retry-budget: rotation and retry share one attempt counter.

use super::{attempt_name, available_phrase, join_names, FindingBuilder, Rule};
use crate::correlate::{Analysis, Outcome};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "shared-retry-budget",
        severity: Severity::Medium,
        summary: "Rotating credentials consumed the request's single retry budget.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
Within one request, the attempt counter `k/N` continues across different profiles (1/3 on
profile A, 2/3 on profile B, 3/3 on profile C): rotation burns retries, and the request can give
up while some profile was never tried. The contract is a per-profile retry budget and a rotation
cap of the pool size. Severity rises to high when the request failed while a known, available
profile was never tried.

## Why it matters
A pool of four keys behaves like a pool of N-1: the request fails with a healthy credential
unused, and adding credentials does not add resilience.

## Example
```
WARNING [s] agent.conversation_loop: API call failed (attempt 1/3) ... (prim-acct-1)
INFO [s] agent.credential_pool: credential pool: rotated to prim-acct-2
WARNING [s] agent.conversation_loop: API call failed (attempt 2/3) ... (prim-acct-2)
INFO [s] agent.credential_pool: credential pool: rotated to prim-acct-3
WARNING [s] agent.conversation_loop: API call failed (attempt 3/3) ... (prim-acct-3)
ERROR [s] agent.conversation_loop: API call failed after 3 retries.
```

## Lifecycle evidence used
Each attempt's profile and the rotation lines between attempts; a call whose profile is unknown
(reason given in the timeline) is not counted against any profile.

## Not triggered by
All counted attempts on one profile; rotations that restart the counter per profile
(`attempt 1/4` again after the move); attempts whose profile is unknown.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let counted: Vec<_> = req
            .attempts
            .iter()
            .filter(|at| at.counter.is_some() && at.profile.is_some())
            .collect();
        let mut shared = false;
        for w in counted.windows(2) {
            let (x, y) = (w[0], w[1]);
            let (Some((kx, nx)), Some((ky, ny))) = (x.counter, y.counter) else {
                continue;
            };
            if x.profile != y.profile && ky > kx && nx == ny {
                shared = true;
            }
        }
        if !shared {
            continue;
        }
        let parts: Vec<String> = counted
            .iter()
            .map(|at| {
                format!(
                    "{} on {}",
                    attempt_name(at),
                    at.profile.as_deref().unwrap_or("?")
                )
            })
            .collect();
        let gave_up = req.outcome == Outcome::Failed;
        let mut msg = format!(
            "one retry budget was shared across profiles: {}",
            join_names(&parts)
        );
        let mut severity = RULE.info.severity;
        if gave_up && !req.untried_at_end.is_empty() {
            msg.push_str(&format!(
                "; the request gave up while {} never tried",
                available_phrase(&req.untried_at_end, req.untried_at_end_inferred)
            ));
            severity = Severity::High;
        }
        let mut f = FindingBuilder::new(a, &RULE.info, msg)
            .severity(severity)
            .request(req)
            .provider(counted.first().and_then(|at| at.provider.as_deref()))
            .at(counted.last().map(|at| at.events[0]).unwrap_or(0));
        for at in &counted {
            f = f.event(at.events[at.events.len() - 1]);
        }
        // The pool lines that tell which profile each attempt used.
        let first = counted.first().map(|at| at.events[0]).unwrap_or(0);
        let last = counted.last().map(|at| at.events[0]).unwrap_or(0);
        f = f.events(req.events.iter().copied().filter(|&e| {
            e > first
                && e < last
                && matches!(
                    a.events[e].kind,
                    EventKind::PoolMarked { .. }
                        | EventKind::PoolRotated { .. }
                        | EventKind::ProfileRotation { .. }
                )
        }));
        if let Some(end) = req.end_event {
            f = f.event(end);
        }
        if req.untried_at_end_inferred {
            f = f.note("the untried profile is inferred by counting pool entries against accounts seen only by fingerprint");
        }
        f = f.note(
            "profiles per attempt: ".to_string()
                + &counted
                    .iter()
                    .map(|at| {
                        format!(
                            "{} ← {}",
                            at.profile.as_deref().unwrap_or("?"),
                            at.basis.map(|b| b.describe()).unwrap_or("unknown")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
        );
        out.push(f.build());
    }
}

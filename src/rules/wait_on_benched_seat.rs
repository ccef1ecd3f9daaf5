//! wait-on-benched-seat: a long wait scheduled for a credential the pool already benched.

use super::{FindingBuilder, Rule};
use crate::correlate::Analysis;
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "wait-on-benched-seat",
        severity: Severity::Medium,
        summary: "A long wait was scheduled for a credential the pool had already benched.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A long wait (Retry-After or backoff of 60 s or more) is scheduled for a credential that the pool
already marked exhausted, or while the pool reported `no available entries`: the process sleeps
only to wake up on the same dead seat. The finding reports the wasted seconds.

## Why it matters
The user waits minutes for an answer that cannot come from that seat; the fallback chain (or an
error) would have answered at once.

## Example
```
INFO [s] agent.credential_pool: credential pool: marking prim-acct-1 exhausted (status=429), rotating
INFO [s] agent.credential_pool: credential pool: no available entries (all exhausted or empty)
WARNING [s] agent.conversation_loop: Retrying API call in 600s (attempt 2/3) ...
```

## Lifecycle evidence used
The profile the wait is scheduled for (the last call's) and its mark or the pool's
`no available entries` before the wait.

## Not triggered by
Short backoffs (under 60 s); long waits on a credential that is not benched and a pool that still
has entries.
";

const LONG_WAIT_SECS: f64 = 60.0;

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let mut benched: Option<usize> = None;
        let mut wasted = 0.0;
        let mut evidence = Vec::new();
        let mut first_wait = None;
        for &e in &req.events {
            match &a.events[e].kind {
                EventKind::PoolMarked { .. } | EventKind::PoolNoAvailable => benched = Some(e),
                k if k.is_rotation() => benched = None,
                EventKind::RetryScheduled { wait_s, .. } if *wait_s >= LONG_WAIT_SECS => {
                    if let Some(b) = benched {
                        wasted += wait_s;
                        evidence.push(b);
                        evidence.push(e);
                        first_wait.get_or_insert(e);
                    }
                }
                _ => {}
            }
        }
        let Some(w) = first_wait else { continue };
        out.push(
            FindingBuilder::new(
                a,
                &RULE.info,
                format!("{wasted:.0} s of waiting were scheduled on a credential the pool had already benched"),
            )
            .request(req)
            .provider(req.primary_provider.as_deref())
            .at(w)
            .events(evidence)
            .note(format!("wasted wait: {wasted:.1} s"))
            .build(),
        );
    }
}

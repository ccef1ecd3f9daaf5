//! false-restore: the primary is restored and fails again at once.

use super::{attempt_name, FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::{providers, Analysis};
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "false-restore",
        severity: Severity::High,
        summary:
            "The primary was restored, then failed again the same way before serving anything.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
`✅ Primary model restored` (or `Primary runtime restored for new turn`) is followed by the same
primary failing again — quota, rate limit, billing or auth — with no successful primary call in
between.

## Why it matters
The restore announced a recovery that had not happened: the next turn pays the failure, the
retries and the fallback again.

## Example
```
✅ Primary model restored: gpt-5.5 via openai-codex; fallback glm-5.1 via zai is no longer active.
⚠️  API call failed (attempt 1/3): RateLimitError [HTTP 429]
   🔌 Provider: openai-codex  Model: gpt-5.5
```

## Lifecycle evidence used
None per call: restore lines and the success or failure of the primary's next calls.

## Not triggered by
A restore followed by a successful primary call; a restore followed only by a transient failure
(5xx, timeout) of the primary; a restore of a provider that is never called again in the log.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    let index = super::attempt_index(a);
    for (i, p, model) in super::restores(a) {
        let next = index.iter().find(|(e, ri, ai)| {
            *e > i && {
                let at = &a.requests[*ri].attempts[*ai];
                at.provider.as_deref().map(providers::normalize).as_deref() == Some(p.as_str())
            }
        });
        let Some(&(_, ri, ai)) = next else { continue };
        let at = &a.requests[ri].attempts[ai];
        if at.succeeded
            || !matches!(
                at.class,
                FailureClass::QuotaWall
                    | FailureClass::RateLimit
                    | FailureClass::Billing
                    | FailureClass::AuthInvalid
            )
        {
            continue;
        }
        out.push(
            FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "{model} via {p} was restored, then failed again at {} ({}) with no successful call in between",
                    attempt_name(at),
                    at.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| super::class_text(at.class).into())
                ),
            )
            .request(&a.requests[ri])
            .provider(Some(&p))
            .profile(at.profile.as_deref())
            .at(i)
            .event(i)
            .events(at.events.iter().copied())
            .build(),
        );
    }
}

//! premature-restore: the primary restored before its known reset time.

use super::{FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::{fmt_epoch, providers, Analysis};
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "premature-restore",
        severity: Severity::Medium,
        summary: "The primary was restored before the reset time its provider had announced.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
The primary is restored before its known reset time (`resets_at`, `resets_in_seconds` from the
error body, or `last_error_reset_at` in auth.json), e.g. after a fixed 60 s local cooldown for a
quota that resets in 27 minutes.

## Why it matters
The provider said when it comes back; restoring earlier only buys another failure, another round
of retries and another fallback switch.

## Example
A `usage_limit_reached` body with `resets_in_seconds: 1620` at 10:00:00, then
`Primary runtime restored for new turn: gpt-5.5 (openai-codex)` at 10:01:00.

## Lifecycle evidence used
None per call: restore lines against the primary's cooldown.

## Not triggered by
A restore after the reset time; a restore when no reset time is known.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    let index = super::attempt_index(a);
    for (i, p, model) in super::restores(a) {
        let Some(t) = a.times[i] else { continue };
        let t_epoch = t.timestamp_millis() as f64 / 1000.0;
        // The latest quota error of the primary before the restore, with a reset time.
        let last = index
            .iter()
            .rev()
            .filter(|(e, _, _)| *e < i)
            .find_map(|&(e, ri, ai)| {
                let at = &a.requests[ri].attempts[ai];
                let same =
                    at.provider.as_deref().map(providers::normalize).as_deref() == Some(p.as_str());
                if !same || at.succeeded || at.class != FailureClass::QuotaWall {
                    return None;
                }
                let at_t = at.time.map(|x| x.timestamp_millis() as f64 / 1000.0);
                let reset = at
                    .details
                    .as_ref()
                    .and_then(|d| crate::correlate::reset_from_details(d, at_t))?;
                Some((e, reset))
            });
        let Some((err_ev, reset)) = last else {
            continue;
        };
        if reset <= t_epoch {
            continue;
        }
        let early = reset - t_epoch;
        out.push(
            FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "{model} via {p} was restored {:.0} min before its reset at {}",
                    early / 60.0,
                    fmt_epoch(reset)
                ),
            )
            .provider(Some(&p))
            .at(i)
            .event(err_ev)
            .event(i)
            .note(format!("restored {early:.0} s before the announced reset"))
            .build(),
        );
    }
}

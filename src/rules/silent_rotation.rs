//! silent-rotation: the profile changed between attempts with no line that says so.

use super::{attempt_name, profile_note, FindingBuilder, Rule};
use crate::correlate::Analysis;
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "silent-rotation",
        severity: Severity::Info,
        summary: "The credential changed between attempts without any log line saying so.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
The profile changed between two attempts of a request (different label, id or account
fingerprint) with no log line that says so (`rotated to`, `Credential ... rotated to pool
entry`, or a structured `{\"event\":\"profile_rotation\",...}` line). Emitted once per request.

## Why it matters
Operators cannot tell \"rotated to a healthy profile\" from \"rotated to an exhausted one\" from
\"no rotation happened\". Hermes should log every rotation.

## Example
Two `attempt 1/4` lines in the same second whose error bodies carry different accounts
(`plan_type: prolite` then `plan_type: team`) and no pool line between them.

## Lifecycle evidence used
Each attempt's profile and basis: a change of profile between two calls with no rotation line,
no mark and no client rebuild between them.

## Not triggered by
A rotation that is logged; attempts whose profile is unknown; a change of provider by fallback.
";

/// A line that explains a change of credential: a rotation, or a provider change by fallback
/// or restore.
fn is_rotation(k: &EventKind) -> bool {
    k.is_rotation()
        || matches!(
            k,
            EventKind::FallbackActivated { .. }
                | EventKind::FallbackNotice { .. }
                | EventKind::PrimaryRestored { .. }
        )
}

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            let (Some(x), Some(y)) = (&prev.profile, &next.profile) else {
                continue;
            };
            // A client rebuilt from the turn's runtime changes the credential by design of the
            // rebuild line (misattributed-exhaustion / retry-on-cooled-profile judge it).
            let rebuilt = next.basis == Some(crate::correlate::ProfileBasis::RebuiltClient);
            if x == y || prev.provider != next.provider || rebuilt {
                continue;
            }
            let (Some(&p_last), Some(&n_first)) = (prev.events.last(), next.events.first()) else {
                continue;
            };
            let logged = req
                .between(p_last, n_first)
                .iter()
                .any(|&e| is_rotation(&a.events[e].kind));
            if logged {
                continue;
            }
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "the credential changed from {x} ({}) to {y} ({}) with no rotation line",
                    attempt_name(prev),
                    attempt_name(next)
                ),
            )
            .request(req)
            .provider(next.provider.as_deref())
            .profile(Some(y))
            .at(n_first)
            .events(prev.events.iter().copied())
            .events(next.events.iter().copied());
            for n in [profile_note(prev), profile_note(next)]
                .into_iter()
                .flatten()
            {
                f = f.note(n);
            }
            out.push(f.build());
            break;
        }
    }
}

/// Rotations the log shows without a rotation line, for the report header's count: between two
/// calls of a request (or after its last call), a client rebuilt for `credential_rotation`, or a
/// change of profile as this rule judges it (same provider, both profiles known, no rotation,
/// fallback or restore line, not a client rebuilt from the turn's runtime). Each gap counts once.
pub fn inferred_rotations(a: &Analysis) -> u64 {
    let mut n = 0;
    for req in &a.requests {
        for (i, prev) in req.attempts.iter().enumerate() {
            let Some(&p_last) = prev.events.last() else {
                continue;
            };
            let next = req.attempts.get(i + 1);
            let hi = next
                .and_then(|x| x.events.first().copied())
                .unwrap_or(usize::MAX);
            let gap = req.between(p_last, hi);
            let kind = |e: usize| a.events.get(e).map(|ev| &ev.kind);
            if gap.iter().any(|&e| kind(e).is_some_and(is_rotation)) {
                continue;
            }
            let rebuilt_for_rotation = gap.iter().any(|&e| {
                matches!(kind(e), Some(EventKind::ClientCreated { reason, .. }) if reason == "credential_rotation")
            });
            let changed = next.is_some_and(|next| {
                matches!((&prev.profile, &next.profile), (Some(x), Some(y)) if x != y)
                    && prev.provider == next.provider
                    && next.basis != Some(crate::correlate::ProfileBasis::RebuiltClient)
            });
            if rebuilt_for_rotation || changed {
                n += 1;
            }
        }
    }
    n
}

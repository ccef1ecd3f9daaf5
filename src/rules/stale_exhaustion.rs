//! stale-exhaustion: an auth.json entry still exhausted after its reset time.

use super::{FindingBuilder, Rule};
use crate::correlate::cooldown::{exhausted_ttl, TtlCause};
use crate::correlate::{fmt_epoch, providers, Analysis};
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "stale-exhaustion",
        severity: Severity::Low,
        summary: "An auth.json entry was still marked exhausted after its reset time had passed.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
An auth.json snapshot shows an entry still `exhausted` although its reset time
(`last_error_reset_at`, else `last_status_at` + the cooldown TTL of the Hermes version) had
already passed when the snapshot was written (`updated_at`).

## Why it matters
Hermes clears expired cooldowns only when it selects again; a stale mark makes `hermes auth list`
and operators believe a credential is benched when it is usable.

## Example
`last_status: exhausted`, `last_error_reset_at: 1787230800` (10:20Z) in a snapshot whose
`updated_at` is 12:05Z.

## Lifecycle evidence used
None per call: snapshot states and the reset times they record.

## Not triggered by
Snapshots without `updated_at`; entries whose reset is still ahead; `dead` entries (they never
cool back).
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for auth in &a.auths {
        let Some(at) = auth.snapshot.updated_at else {
            continue;
        };
        for (key, entries) in &auth.snapshot.pools {
            let sole = entries
                .iter()
                .filter(|e| e.last_status.as_deref() != Some("dead"))
                .count()
                <= 1;
            for e in entries {
                if e.last_status.as_deref() != Some("exhausted") {
                    continue;
                }
                let cause = match e.last_error_code {
                    Some(401) => TtlCause::Status401,
                    Some(402) => TtlCause::Billing,
                    Some(429) => TtlCause::Status429,
                    _ => TtlCause::Other,
                };
                let until = e.last_error_reset_at.or_else(|| {
                    e.last_status_at
                        .map(|s| s + exhausted_ttl(a.opts.hermes_version, cause, sole))
                });
                let Some(until) = until else { continue };
                if until >= at {
                    continue;
                }
                let label = e.label.clone().or(e.id.clone()).unwrap_or_default();
                out.push(
                    FindingBuilder::new(
                        a,
                        &RULE.info,
                        format!(
                            "{label} is still exhausted in {} (written {}) although its cooldown ended at {}",
                            auth.name,
                            fmt_epoch(at),
                            fmt_epoch(until)
                        ),
                    )
                    .provider(Some(&providers::normalize(key)))
                    .profile(Some(&label))
                    .evidence(
                        &auth.name,
                        e.line,
                        format!("{key}: {label} last_status=exhausted reset={}", fmt_epoch(until)),
                    )
                    .note(if e.last_error_reset_at.is_some() {
                        "reset time from last_error_reset_at".to_string()
                    } else {
                        format!("reset time from last_status_at + the TTL of Hermes {}", a.opts.hermes_version)
                    })
                    .note(format!("stale for {:.0} s when the snapshot was written", at - until))
                    .build(),
                );
            }
        }
    }
}

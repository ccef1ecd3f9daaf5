//! fallback-not-activated: a request fails on a quota/rate limit with a fallback chain configured.

use super::{FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::{Analysis, Outcome};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "fallback-not-activated",
        severity: Severity::Medium,
        summary:
            "A request failed on a quota or rate limit although a fallback chain was configured.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A request ends in terminal failure on a quota or rate-limit error (`API call failed after N
retries`, `Rate limited after N retries`) with no fallback attempt, while the same log shows that
a fallback chain is configured (another request activated it, or `Fallback provider resolved`).

## Why it matters
The operator configured a fallback exactly for this; the user got an error instead of an answer.

## Example
One request logs `Fallback activated: glm-5.1 → glm-4.7 (zai)`; a later request fails with
`❌ Rate limited after 3 retries` and no fallback line.

## Lifecycle evidence used
None per call: the failure class of the last call or the terminal summary, and a line of the
same input showing a fallback chain.

## Not triggered by
A chain shown only by another host's lines (each gateway has its own configuration: knowledge
never crosses hosts); logs that show no fallback configuration; failures that are not quota or rate limits (transport
errors, 400s); requests that did try the fallback.
";

fn configured(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::FallbackActivated { .. }
            | EventKind::FallbackResolved { .. }
            | EventKind::FallbackPoolAttached { .. }
            | EventKind::FallbackNotice { .. }
    )
}

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    if !a.events.iter().any(|e| configured(&e.kind)) {
        return;
    }
    for req in &a.requests {
        // Knowledge of the chain never crosses hosts: each gateway has its own configuration.
        let Some(config_ev) = a.events.iter().position(|e| {
            configured(&e.kind)
                && match (&e.record.host, &req.host) {
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                }
        }) else {
            continue;
        };
        if req.outcome != Outcome::Failed || !req.fallbacks.is_empty() {
            continue;
        }
        if req.events.iter().any(|&e| configured(&a.events[e].kind)) {
            continue;
        }
        let Some(last) = req.attempts.iter().rev().find(|at| !at.succeeded) else {
            // Only the terminal summary is in the input (a grepped fragment): it stands for the
            // attempts it summarizes.
            if let Some((e, n, class, status)) = super::summary::terminal_wall(a, req) {
                out.push(
                    FindingBuilder::new(
                        a,
                        &RULE.info,
                        format!(
                            "the request failed on a {} error{} after {n} retries without trying the configured fallback chain",
                            super::class_text(class),
                            status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
                        ),
                    )
                    .request(req)
                    .provider(req.primary_provider.as_deref())
                    .at(e)
                    .event(e)
                    .event(config_ev)
                    .note("judged from the terminal summary: the attempt lines are not in the input")
                    .note(config_note(a, req, config_ev))
                    .build(),
                );
            }
            continue;
        };
        if !matches!(
            last.class,
            FailureClass::QuotaWall | FailureClass::RateLimit | FailureClass::Billing
        ) {
            continue;
        }
        let Some(end) = req.end_event else { continue };
        out.push(
            FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "the request failed on a {} error without trying the configured fallback chain",
                    super::class_text(last.class)
                ),
            )
            .request(req)
            .provider(last.provider.as_deref())
            .at(end)
            .events(last.events.iter().copied())
            .event(end)
            .event(config_ev)
            .note(config_note(a, req, config_ev))
            .build(),
        );
    }
}

/// How the fallback chain is known to be configured: from another request of the input, or from
/// a line of no request (start-up), quoted last in the evidence.
fn config_note(a: &Analysis, req: &crate::correlate::Request, config_ev: usize) -> String {
    match a
        .requests
        .iter()
        .find(|r| r.events.contains(&config_ev) || r.echo_events.contains(&config_ev))
    {
        Some(other) if other.id != req.id => format!(
            "the fallback chain is known to be configured from request {} (the line quoted last): knowledge from another request of the same input",
            other.id
        ),
        _ => "the fallback chain is known to be configured from the line quoted last".to_string(),
    }
}

//! fallback-to-same-backend: the fallback resolves to the failing primary's backend.

use super::{FindingBuilder, Rule};
use crate::correlate::{providers, Analysis};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "fallback-to-same-backend",
        severity: Severity::Low,
        summary: "The fallback target was the same provider and model as the failing primary.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
The fallback target resolves to the same provider and model (and so the same credentials and
base URL) as the failing primary, so it fails the same way. A same-provider fallback to a
different model after a profile-level failure (quota, billing, auth — which holds for every model
of that credential) is reported as `info`.

## Why it matters
The fallback chain exists to route around a failing backend; one that points back at it adds
latency and changes nothing.

## Example
```
Fallback activated: glm-5.1 → glm-5.1 (zai)
```
while the primary is zai / glm-5.1.

A fallback entry that names the primary's own custom provider (`fakeprimary` for the pool
`custom:fakeprimary`) counts as the same backend.

## Lifecycle evidence used
The provider and endpoint of the calls before and after the switch (`base_url=` on attempt
lines or client lines) and the pool the primary's calls drew from.

## Not triggered by
A fallback whose calls name another base URL than the primary's calls did (`base_url=` on the
attempt lines or the client lines before and after the switch); a fallback to a named custom
provider whose pool is not the one the primary's calls drew from; a fallback between two different named custom providers to another model (both run as provider `custom`,
so the name does not tell the backends apart); a same-provider fallback to another model after a transient or model-specific failure (a
designed configuration); Hermes's own guard `Fallback skip: ... resolves to the same backend`,
which shows the chain entry was skipped.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let Some(primary) = req.primary_provider.as_deref().map(providers::normalize) else {
            continue;
        };
        for &e in &req.events {
            let EventKind::FallbackActivated {
                from_model,
                to_model,
                to_provider: Some(q),
            } = &a.events[e].kind
            else {
                continue;
            };
            let target = providers::normalize(q);
            // A fallback entry naming the primary's own custom provider (`fakeprimary` for the
            // pool `custom:fakeprimary`) is that backend, whatever model it asks for.
            let named_custom = primary == "custom"
                && primary_pool(a, req, e).is_none_or(|k| k == format!("custom:{target}"))
                && a.pools
                    .pools
                    .iter()
                    .any(|p| p.key == format!("custom:{target}"));
            if target != primary && !named_custom {
                continue;
            }
            // The calls before and after name their endpoints: two base URLs are two backends.
            if let (Some(before), Some(after)) =
                (endpoint_before(a, req, e), endpoint_after(a, req, e))
            {
                if before != after {
                    continue;
                }
            }
            let profile_level = req
                .attempts
                .iter()
                .filter(|at| at.events.first().is_some_and(|&x| x < e))
                .any(|at| !at.succeeded && at.class.is_profile_level());
            let same_model = from_model == to_model;
            // Every named custom provider runs as `custom`: the name alone does not tell two
            // custom backends apart, so only a fallback to the same model is evidence there.
            if !same_model && (!profile_level || (target == "custom" && !named_custom)) {
                continue;
            }
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                if same_model {
                    format!("the fallback {to_model} via {q} is the failing primary itself")
                } else {
                    format!("the fallback {to_model} via {q} uses the same {primary} backend and credentials that just failed at profile level")
                },
            )
            .request(req)
            .provider(Some(&primary))
            .at(e)
            .event(e);
            if !same_model {
                f = f.severity(Severity::Info);
            }
            if named_custom {
                let key = format!("custom:{target}");
                let from: Vec<&str> = a
                    .pools
                    .pools
                    .iter()
                    .filter(|p| p.key == key)
                    .flat_map(|p| &p.members)
                    .map(|m| m.known_from.as_str())
                    .collect();
                if let Some(k) = from.first() {
                    f = f.note(format!(
                        "the primary's pool key {key} (the named custom provider {q}) is known from {k}"
                    ));
                }
            }
            out.push(f.build());
        }
    }
}

/// The pool key of the profiles the request's calls used before event `e`, when one is known.
fn primary_pool(a: &Analysis, req: &crate::correlate::Request, e: usize) -> Option<String> {
    req.attempts
        .iter()
        .filter(|at| at.events.first().is_some_and(|&x| x < e))
        .filter_map(|at| at.profile.as_deref())
        .find_map(|label| {
            a.pools
                .pools
                .iter()
                .find(|p| p.members.iter().any(|m| m.label == label))
                .map(|p| p.key.clone())
        })
}

fn norm(u: &str) -> String {
    u.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn endpoint_of(kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::AttemptFailed {
            base_url: Some(u), ..
        }
        | EventKind::ClientCreated {
            base_url: Some(u), ..
        } => Some(norm(u)),
        _ => None,
    }
}

/// The endpoint of the last call line before the fallback.
fn endpoint_before(a: &Analysis, req: &crate::correlate::Request, e: usize) -> Option<String> {
    req.events
        .iter()
        .rev()
        .filter(|&&x| x < e)
        .find_map(|&x| endpoint_of(&a.events[x].kind))
}

/// The endpoint of the first call line after the fallback.
fn endpoint_after(a: &Analysis, req: &crate::correlate::Request, e: usize) -> Option<String> {
    req.events
        .iter()
        .filter(|&&x| x > e)
        .find_map(|&x| endpoint_of(&a.events[x].kind))
}

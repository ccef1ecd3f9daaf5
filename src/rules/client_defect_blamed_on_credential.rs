//! client-defect-blamed-on-credential: a credential benched for an error no credential caused.

use super::{FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::{Analysis, Attempt};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "client-defect-blamed-on-credential",
        severity: Severity::High,
        summary:
            "A credential was benched or blamed for a request that was sent without any credential.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A credential is marked exhausted or dead — or the operator is told the key was rejected
(`💡 Your API key was rejected by the provider`) — for an error that no credential could have
caused: the request was sent without one (`Missing Authentication header`, an empty key, a
placeholder key such as `no-key-required`, `provider not configured`).

## Why it matters
The key is fine; the client never sent it. Benching it empties the pool for nothing, and the
advice to check the key sends the operator the wrong way.

## Example
```
INFO agent.chat_completion_helpers: Streaming failed before delivery: Error code: 401 - {'error': {'message': 'Missing Authentication header', 'code': 401}}
INFO [s] agent.credential_pool: credential pool: marking api-key-2 exhausted (status=401), rotating
```

A call refused with 401/403 right after Hermes announced it would send a placeholder key
(`... will be sent with placeholder no-key-required ...`) counts as sent without a credential.

## Lifecycle evidence used
What the call carried: a placeholder-key announcement (`… will be sent with placeholder
no-key-required …`) just before a refused call, or error wording that says no credential was
sent; the mark or notice that blamed a key afterwards.

## Not triggered by
A 401 whose body shows the credential was sent and refused (invalid or revoked key); a client
defect that nothing benched or blamed on a credential.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let mut defect: Option<(&Attempt, Option<usize>)> = None;
        let mut placeholder: Option<usize> = None;
        let mut blame: Option<(usize, String, Option<String>)> = None;
        for &e in &req.events {
            if let Some(at) = req.attempt_at(e).map(|i| &req.attempts[i]) {
                // A placeholder key announced just before a call that the provider refused:
                // the call carried no credential.
                let refused = matches!(at.status, Some(401) | Some(403))
                    || matches!(
                        at.class,
                        FailureClass::AuthInvalid | FailureClass::ClientDefect
                    );
                defect = if !at.succeeded && at.class == FailureClass::ClientDefect {
                    Some((at, None))
                } else if !at.succeeded && refused && placeholder.is_some() {
                    Some((at, placeholder))
                } else {
                    None
                };
                placeholder = None;
                continue;
            }
            match &a.events[e].kind {
                EventKind::PlaceholderKey { .. } => placeholder = Some(e),
                EventKind::PoolMarked { label, dead, .. } if defect.is_some() => {
                    let what = format!(
                        "credential {label} was marked {}",
                        if *dead { "DEAD" } else { "exhausted" }
                    );
                    blame.get_or_insert((e, what, Some(label.clone())));
                }
                _ if defect.is_some() && crate::model::auth_blame_text(&a.events[e]).is_some() => {
                    blame.get_or_insert((
                        e,
                        "the operator was told the API key was rejected".into(),
                        None,
                    ));
                }
                _ => {}
            }
        }
        // A console capture of the same run may carry the notice that blamed the key.
        if blame.is_none() && defect.is_some() {
            if let Some(&e) = req
                .echo_events
                .iter()
                .find(|&&e| crate::model::auth_blame_text(&a.events[e]).is_some())
            {
                blame = Some((
                    e,
                    "the operator was told the API key was rejected".into(),
                    None,
                ));
            }
        }
        let (Some((at, ph)), Some((e, what, label))) = (defect, blame) else {
            summarized(a, req, out);
            continue;
        };
        let cause = match ph {
            Some(_) => {
                " (Hermes announced it would send the placeholder key no-key-required)".to_string()
            }
            None => at
                .details
                .as_ref()
                .and_then(|d| d.message.as_ref())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
        };
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "{what} for an error no credential caused: the request was sent without one{cause}"
            ),
        )
        .request(req)
        .provider(at.provider.as_deref().or(req.primary_provider.as_deref()))
        .profile(label.as_deref())
        .at(e);
        if let Some(p) = ph {
            f = f.event(p);
        }
        out.push(
            f.events(at.events.iter().copied())
                .event(e)
                .note("check how the runtime resolves the key (empty key, placeholder, missing Authorization header)")
                .build(),
        );
    }
}

/// A request known only by its terminal line, which says the call carried no credential
/// (`Non-retryable client error: Error code: 401 - {... 'Missing Authentication header' ...}`),
/// followed by the notice that blamed the key.
fn summarized(a: &Analysis, req: &crate::correlate::Request, out: &mut Vec<Finding>) {
    let Some((d, wording)) = super::summary::terminal_defect(a, req) else {
        return;
    };
    let Some(blame) = super::summary::blame_after(a, d) else {
        return;
    };
    out.push(
        FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "the operator was told the API key was rejected for an error no credential \
                 caused: the request was sent without one (the error says {wording:?})"
            ),
        )
        .request(req)
        .provider(req.primary_provider.as_deref())
        .at(blame)
        .event(d)
        .event(blame)
        .note("judged from the terminal line: the attempt lines are not in the input")
        .note("check how the runtime resolves the key (empty key, placeholder, missing Authorization header)")
        .build(),
    );
}

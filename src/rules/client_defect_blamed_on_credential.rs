//! client-defect-blamed-on-credential: a credential benched for an error no credential caused.

use super::{FindingBuilder, Rule};
use crate::classify::quota::FailureClass;
use crate::correlate::Analysis;
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

## Not triggered by
A 401 whose body shows the credential was sent and refused (invalid or revoked key); a client
defect that nothing benched or blamed on a credential.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let mut last_defect: Option<&crate::correlate::Attempt> = None;
        let mut reported = false;
        let starts = req.attempts_by_start();
        for &e in &req.events {
            if let Some(&at) = starts.get(&e) {
                last_defect =
                    (!at.succeeded && at.class == FailureClass::ClientDefect).then_some(at);
            }
            let blamed = match &a.events[e].kind {
                EventKind::PoolMarked { label, dead, .. } => Some(format!(
                    "credential {label} was marked {}",
                    if *dead { "DEAD" } else { "exhausted" }
                )),
                _ if super::auth_blame_text(&a.events[e]).is_some() => {
                    Some("the operator was told the API key was rejected".into())
                }
                _ => None,
            };
            let (Some(what), Some(at)) = (blamed, last_defect) else {
                continue;
            };
            if reported {
                continue;
            }
            reported = true;
            let label = match &a.events[e].kind {
                EventKind::PoolMarked { label, .. } => Some(label.as_str()),
                _ => None,
            };
            out.push(
                FindingBuilder::new(
                    a,
                    &RULE.info,
                    format!(
                        "{what} for an error no credential caused: the request was sent without one{}",
                        at.details
                            .as_ref()
                            .and_then(|d| d.message.as_ref())
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default()
                    ),
                )
                .request(req)
                .provider(at.provider.as_deref().or(req.primary_provider.as_deref()))
                .profile(label)
                .at(e)
                .events(at.events.iter().copied())
                .event(e)
                .note("check how the runtime resolves the key (empty key, placeholder, missing Authorization header)")
                .build(),
            );
        }
    }
}

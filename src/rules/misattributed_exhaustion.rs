//! misattributed-exhaustion: a pool entry of provider P benched for an error of provider Q.

use super::{FindingBuilder, Rule};
use crate::correlate::{is_rebuild, providers, Analysis, ProfileBasis};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "misattributed-exhaustion",
        severity: Severity::High,
        summary:
            "A credential of one provider was marked exhausted because of another provider's error.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A pool entry of provider P is marked exhausted or dead because of an error that came from a
different provider Q. Typical path: fallback switches the active provider from P to Q, Q returns
429/402, and the still-loaded P pool is mutated (`credential pool: marking <P-entry> exhausted`).
Also at rest: an auth.json entry of P whose `last_error_*` carries a signature only Q produces
(Z.AI code 1113 \"Insufficient balance\" inside an `openai-codex` entry) when the logs show a
fallback to Q.

## Why it matters
`hermes auth list` then shows a healthy credential as rate-limited with the other provider's
error, and operators debug the wrong provider. The benched entry is skipped until its cooldown
ends although it never failed.

## Example
```
2026-05-27 14:28:42 CST  Fallback activated: gpt-5.5 -> glm-5.1 (zai)
2026-05-27 14:28:43 CST  zai returned 429 code=1113 \"Insufficient balance or no resource package\"
2026-05-27 14:28:48 CST  credential pool: marking openai-codex-oauth-2 exhausted
```

Same provider, another key: after a transport error Hermes rebuilds its client from the turn's
primary runtime (`OpenAI client created (primary_recovery, …)`), so the next call carries the
credential the turn started with, while the pool still points at the entry it rotated to; the
mark that follows names that entry for an error its key never received.

## Lifecycle evidence used
Each attempt's profile and basis (rotation line, mark line, fingerprint, rebuilt client) and
its provider; the order attempt → mark across a fallback; the endpoint each call used
(`base_url=` on attempt lines, the call's client line); a client rebuilt from the turn's runtime
(`OpenAI client created (primary_recovery|restore_primary …)`), whose calls carry the start-up
key. A pool entry's stored `base_url` is read only to say where a call went, never as evidence
by itself.

## Not triggered by
A mark of P after a P error; a mark of Q's own entry after a Q error; a fallback with no later
mark; a mark whose provider cannot be told (no auth.json, no provider prefix, no context).
The provider of the marked entry comes from auth.json, else from the label's prefix, else from
the request's provider; the finding says which. A difference between an entry's stored
`base_url` and the provider's configured endpoint is not evidence on its own: the error must be
shown to come from another backend (the order of attempts and marks across a fallback, the
failing attempt's own endpoint) or another key (a rebuilt client).
";

/// Error signatures only one provider produces.
const SIGNATURES: &[(&str, &[&str])] = &[(
    "zai",
    &["1113", "insufficient balance", "no resource package"],
)];

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    stale_client(a, out);
    for req in &a.requests {
        let primary = req.primary_provider.as_deref().map(providers::normalize);
        let mut active = primary.clone();
        let mut fallback_ev: Option<usize> = None;
        let mut last_error: Option<(Option<String>, usize)> = None;
        let mut last_url: Option<String> = None;
        // Endpoints the primary's own calls went to before any fallback.
        let mut primary_urls: std::collections::BTreeSet<String> = Default::default();
        for &e in &req.events {
            match &a.events[e].kind {
                EventKind::FallbackActivated { to_provider, .. } => {
                    if let Some(p) = to_provider {
                        active = Some(providers::normalize(p));
                    }
                    fallback_ev = Some(e);
                    last_url = None;
                }
                EventKind::FallbackNotice {
                    to_provider: Some(p),
                    ..
                } => {
                    active = Some(providers::normalize(p));
                    fallback_ev.get_or_insert(e);
                }
                EventKind::PrimaryRestored { .. } => {
                    active = primary.clone();
                    fallback_ev = None;
                }
                EventKind::AttemptFailed { provider, .. }
                | EventKind::ProviderError { provider, .. } => {
                    // After a fallback, attempt lines may still carry the primary's name.
                    let named = provider
                        .as_deref()
                        .filter(|p| !p.is_empty())
                        .map(providers::normalize);
                    let p = if fallback_ev.is_some() {
                        active.clone().or(named)
                    } else {
                        named.or_else(|| active.clone())
                    };
                    if let EventKind::AttemptFailed {
                        base_url: Some(u), ..
                    } = &a.events[e].kind
                    {
                        last_url = Some(u.trim_end_matches('/').to_string());
                        if fallback_ev.is_none() {
                            primary_urls.insert(u.trim_end_matches('/').to_string());
                        }
                    }
                    last_error = Some((p, e));
                }
                EventKind::StreamFailed { .. } => last_error = Some((active.clone(), e)),
                EventKind::PoolMarked { label, .. } => {
                    let label = a.pools.canonical(label);
                    let Some((owner, basis)) = a.pools.provider_of_label(&label) else {
                        continue;
                    };
                    let Some((Some(err_provider), err_ev)) = &last_error else {
                        continue;
                    };
                    // Two named custom providers share the name `custom`: their base URLs tell
                    // them apart (the entry's from auth.json, the error's from its attempt line).
                    let entry_url = entry_base_url(a, &label);
                    // The attempt line of the failing call may follow the mark line.
                    let last_url = call_base_url(a, req, *err_ev).or_else(|| last_url.clone());
                    // Evidence, not configuration: the marked entry's endpoint is where the
                    // primary's calls went before the fallback, and the error came from another
                    // one. An entry whose stored base_url merely differs from the endpoint a
                    // call used (a base_url override in config.yaml) proves nothing.
                    let other_backend = matches!(
                        (&entry_url, &last_url),
                        (Some(x), Some(y)) if fallback_ev.is_some() && x != y && primary_urls.contains(x)
                    );
                    if *err_provider == owner && !other_backend {
                        continue;
                    }
                    let mut f = FindingBuilder::new(
                        a,
                        &RULE.info,
                        format!(
                            "{owner} pool entry {label} was marked exhausted after an error from {err_provider}{}",
                            fallback_ev
                                .map(|_| " (the active provider after fallback)".to_string())
                                .unwrap_or_default()
                        ),
                    )
                    .request(req)
                    .provider(Some(&owner))
                    .profile(Some(&label))
                    .at(e)
                    .note(format!("provider of {label} is known from {basis}"))
                    .release_semantics(|s| {
                        (fallback_ev.is_some() && s.marks_primary_for_fallback_error)
                            .then_some("mark the primary's entry for the fallback provider's error")
                    });
                    if other_backend {
                        f = f.note(format!(
                            "same provider name, different backend: the error came from {} while {label} serves {}",
                            last_url.as_deref().unwrap_or("?"),
                            entry_url.as_deref().unwrap_or("?")
                        ));
                    }
                    if let Some(fb) = fallback_ev {
                        f = f.event(fb);
                    }
                    if let Some(sig) = signature_note(a, *err_ev) {
                        f = f.note(sig);
                    }
                    out.push(f.event(*err_ev).event(e).build());
                }
                _ => {}
            }
        }
    }
    at_rest(a, out);
}

fn signature_note(a: &Analysis, ev: usize) -> Option<String> {
    let text = a.events.get(ev)?.record.message.to_ascii_lowercase();
    SIGNATURES.iter().find_map(|(p, sigs)| {
        sigs.iter().any(|s| text.contains(s)).then(|| {
            format!("the error is {p}'s balance/resource-package condition, not a quota of the marked entry's provider")
        })
    })
}

/// An auth.json entry of P carrying Q's error signature, with a fallback to Q in the logs.
fn at_rest(a: &Analysis, out: &mut Vec<Finding>) {
    for (q, sigs) in SIGNATURES {
        let Some(fb) = a.events.iter().position(|e| {
            matches!(&e.kind, EventKind::FallbackActivated { to_provider: Some(p), .. } if providers::normalize(p) == *q)
        }) else {
            continue;
        };
        for auth in &a.auths {
            for (key, entries) in &auth.snapshot.pools {
                let owner = providers::normalize(key);
                if owner == *q {
                    continue;
                }
                for e in entries {
                    let text = format!(
                        "{} {} {}",
                        e.last_error_code.map(|c| c.to_string()).unwrap_or_default(),
                        e.last_error_reason.clone().unwrap_or_default(),
                        e.last_error_message.clone().unwrap_or_default()
                    )
                    .to_ascii_lowercase();
                    if !sigs.iter().any(|s| text.contains(s)) {
                        continue;
                    }
                    let label = e.label.clone().or(e.id.clone()).unwrap_or_default();
                    out.push(
                        FindingBuilder::new(
                            a,
                            &RULE.info,
                            format!("{owner} pool entry {label} in {} carries a {q} error ({}) after a fallback to {q}", auth.name, text.trim()),
                        )
                        .provider(Some(&owner))
                        .profile(Some(&label))
                        .at(fb)
                        .event(fb)
                        .evidence(&auth.name, e.line, format!("{key}: label={label} last_status={} last_error={}", e.last_status.clone().unwrap_or_default(), text.trim()))
                        .build(),
                    );
                }
            }
        }
    }
}

/// The base URL auth.json records for a pool entry (label or id), without a trailing slash.
fn entry_base_url(a: &Analysis, label: &str) -> Option<String> {
    a.auths.iter().find_map(|auth| {
        auth.snapshot.pools.iter().find_map(|(_, entries)| {
            entries
                .iter()
                .find(|e| e.label.as_deref() == Some(label) || e.id.as_deref() == Some(label))
                .and_then(|e| e.base_url.as_deref())
                .map(|u| u.trim_end_matches('/').to_string())
        })
    })
}

/// Base URL of the call that an error event belongs to, from its attempt line.
fn call_base_url(a: &Analysis, req: &crate::correlate::Request, ev: usize) -> Option<String> {
    let at = req.attempts.iter().find(|at| at.events.contains(&ev))?;
    at.events.iter().find_map(|&e| match &a.events[e].kind {
        EventKind::AttemptFailed {
            base_url: Some(u), ..
        } => Some(u.trim_end_matches('/').to_string()),
        _ => None,
    })
}

/// Same provider, another key: a call sent on a client rebuilt from the turn's runtime carries
/// the turn's start-up credential, and Hermes marks the entry the pool had rotated to.
fn stale_client(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        for &e in &req.events {
            let EventKind::PoolMarked { label, .. } = &a.events[e].kind else {
                continue;
            };
            let label = a.pools.canonical(label);
            let Some(prev) = req
                .attempts
                .iter()
                .rev()
                .find(|at| at.events.first().is_some_and(|&f| f < e))
            else {
                continue;
            };
            if prev.succeeded || prev.basis != Some(ProfileBasis::RebuiltClient) {
                continue;
            }
            let Some(sent) = prev.profile.as_deref().filter(|p| *p != label) else {
                continue;
            };
            let rebuild = req.events.iter().copied().rev().find(|&x| {
                prev.events.first().is_some_and(|&f| x < f)
                    && matches!(&a.events[x].kind, EventKind::ClientCreated { reason, .. } if is_rebuild(reason))
            });
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "{} pool entry {label} was marked exhausted for an error its key never received: the call went out on a rebuilt client carrying {sent}",
                    prev.provider.as_deref().unwrap_or("the provider")
                ),
            )
            .request(req)
            .provider(prev.provider.as_deref())
            .profile(Some(&label))
            .at(e)
            .note(format!(
                "the client was rebuilt from the turn's primary runtime after a transport error; it carries the credential the turn started with ({sent}), not the entry the pool had rotated to ({label})"
            ));
            if let Some(r) = rebuild {
                f = f.event(r);
            }
            out.push(f.events(prev.events.iter().copied()).event(e).build());
        }
    }
}

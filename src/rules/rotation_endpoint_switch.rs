//! rotation-endpoint-switch: a credential rotation moves the provider's calls to another endpoint.

use super::{FindingBuilder, Rule};
use crate::correlate::{Analysis, Request};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "rotation-endpoint-switch",
        severity: Severity::Medium,
        summary: "A credential rotation moved the provider's calls to another endpoint (the pool entry's stored base_url).",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
Within one provider and one request, the calls before a credential rotation went to one endpoint
and the client built for the rotated-to entry (`OpenAI client created (credential_rotation, …)
base_url=…`), or the next call's attempt line, names another. Hermes swaps in the pool entry's
stored `base_url` on rotation (`_swap_credential`), while the turn started on the endpoint
config.yaml gives the provider: an entry added before config.yaml moved the provider (to a
proxy, a gateway, a regional endpoint) sends every call after the rotation to the old endpoint.

## Why it matters
Calls after the rotation bypass the configured endpoint: a proxy's accounting, routing or
allow-list, or a backend the operator moved away from. Errors from there are charged to the pool
entry while the configured backend never saw the call.

## Example
```
OpenAI client created (chat_completion_stream_request, …) provider=custom base_url=http://proxy:8081/v1
credential pool: marking key-1 exhausted (status=429), rotating
credential pool: rotated to key-2
OpenAI client created (credential_rotation, shared=True) … provider=custom base_url=https://api.example.com/v1
```

## Lifecycle evidence used
The endpoint of each client the request built (`OpenAI client created`, with its reason) and the
`base_url=` of each attempt line, in order; the rotation line between them. When auth.json is
given, the rotated-to entry's stored `base_url` is quoted as the likely source.

## Not triggered by
A fallback or a primary restore between the two endpoints (a provider change is the fallback
chain's job); a difference of a trailing slash; an auth.json entry whose stored `base_url`
differs from the configured endpoint while the calls stay on the configured one (configuration
drift alone is no evidence).
";

/// An observation of the endpoint a provider's calls go to.
struct Seen {
    ev: usize,
    provider: Option<String>,
    url: String,
}

fn norm(u: &str) -> String {
    u.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn endpoint_of(kind: &EventKind) -> Option<(Option<String>, &str, bool)> {
    match kind {
        EventKind::ClientCreated {
            reason,
            provider,
            base_url: Some(u),
            ..
        } => Some((
            provider.clone(),
            u.as_str(),
            reason == "credential_rotation",
        )),
        EventKind::AttemptFailed {
            provider,
            base_url: Some(u),
            ..
        } => Some((provider.clone(), u.as_str(), false)),
        _ => None,
    }
}

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        check_request(a, req, out);
    }
}

fn check_request(a: &Analysis, req: &Request, out: &mut Vec<Finding>) {
    // The endpoint last seen before the pending rotation, and the rotation line.
    let mut before: Option<Seen> = None;
    let mut rotation: Option<(usize, String)> = None;
    let mut reported: Vec<(String, String)> = Vec::new();
    for &e in &req.events {
        let kind = &a.events[e].kind;
        match kind {
            EventKind::FallbackActivated { .. }
            | EventKind::FallbackSwitching { .. }
            | EventKind::PrimaryRestored { .. } => {
                before = None;
                rotation = None;
                continue;
            }
            EventKind::PoolRotated { to } => {
                if before.is_none() {
                    before = call_client_before(a, req);
                }
                if before.is_some() {
                    rotation = Some((e, to.clone()));
                }
                continue;
            }
            _ => {}
        }
        let Some((provider, url, rotated_client)) = endpoint_of(kind) else {
            continue;
        };
        let url_n = norm(url);
        let same_provider = |b: &Seen| match (&b.provider, &provider) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            _ => true,
        };
        match (&before, &rotation) {
            (Some(b), Some((rot, to))) if same_provider(b) && norm(&b.url) != url_n => {
                let key = (norm(&b.url), url_n.clone());
                if !reported.contains(&key) {
                    reported.push(key);
                    out.push(finding(a, req, b, *rot, to, e, url, rotated_client));
                }
                before = Some(Seen {
                    ev: e,
                    provider,
                    url: url.to_string(),
                });
                rotation = None;
            }
            (_, Some(_)) if !rotated_client => {
                // A call after the rotation on the same endpoint: nothing moved.
                before = Some(Seen {
                    ev: e,
                    provider,
                    url: url.to_string(),
                });
                rotation = None;
            }
            (_, Some(_)) => {}
            _ => {
                before = Some(Seen {
                    ev: e,
                    provider,
                    url: url.to_string(),
                })
            }
        }
    }
}

/// The client line of the request's first call when it precedes the request's first event: the
/// worker thread logs `OpenAI client created (chat_completion_stream_request …)` untagged, just
/// before the call whose failure opens the request. Same source and host, nothing of another
/// request in between, at most a few seconds earlier.
fn call_client_before(a: &Analysis, req: &Request) -> Option<Seen> {
    let &first = req.events.first()?;
    let here = &a.events.get(first)?.record;
    let t0 = a.times.get(first).copied().flatten()?;
    for x in (first.saturating_sub(16)..first).rev() {
        let ev = a.events.get(x)?;
        if ev.record.loc.source != here.loc.source || ev.record.host != here.host {
            continue;
        }
        if ev.record.session.is_some() && ev.record.session != here.session {
            return None;
        }
        let t = a.times.get(x).copied().flatten()?;
        if (t0 - t).num_milliseconds() > 120_000 {
            return None;
        }
        if let EventKind::ClientCreated {
            reason,
            provider,
            base_url: Some(u),
            ..
        } = &ev.kind
        {
            if reason != "credential_rotation" {
                return Some(Seen {
                    ev: x,
                    provider: provider.clone(),
                    url: u.clone(),
                });
            }
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn finding(
    a: &Analysis,
    req: &Request,
    b: &Seen,
    rot: usize,
    to: &str,
    e: usize,
    url: &str,
    rotated_client: bool,
) -> Finding {
    let to = a.pools.canonical(to);
    let provider = b.provider.as_deref();
    let how = if rotated_client {
        "the client built for it"
    } else {
        "the next call"
    };
    let mut f = FindingBuilder::new(
        a,
        &RULE.info,
        format!(
            "after rotating to {to}, {how} went to {url} instead of {}, the endpoint the {} calls before the rotation used",
            b.url,
            provider.unwrap_or("provider's")
        ),
    )
    .request(req)
    .provider(provider)
    .profile(Some(&to))
    .at(e)
    .event(b.ev)
    .event(rot)
    .event(e);
    // The first later line that shows a call on the new endpoint (the worker thread's client
    // line is untagged: look in the same source up to the request's last event).
    let last = req.events.last().copied().unwrap_or(e);
    let src = a.events[e].record.loc.source;
    if let Some(next) = (e + 1..=last).find(|&x| {
        a.events[x].record.loc.source == src
            && endpoint_of(&a.events[x].kind)
                .is_some_and(|(_, u, rotated)| !rotated && norm(u) == norm(url))
    }) {
        f = f.event(next);
    }
    for auth in &a.auths {
        for entries in auth.snapshot.pools.iter().map(|(_, v)| v) {
            for entry in entries {
                let named = entry.label.as_deref() == Some(to.as_str())
                    || entry.id.as_deref() == Some(to.as_str());
                if named && entry.base_url.as_deref().map(norm) == Some(norm(url)) {
                    f = f.note(format!(
                        "{} stores base_url {url} for {to}: Hermes swaps in the entry's stored endpoint on rotation",
                        auth.name
                    ));
                }
            }
        }
    }
    f.build()
}

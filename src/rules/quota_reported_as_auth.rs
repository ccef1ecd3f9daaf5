//! quota-reported-as-auth: a quota or rate condition reported as an authentication failure.

use super::{FindingBuilder, Rule};
use crate::classify::quota::{is_quota_text, FailureClass};
use crate::correlate::{providers, Analysis, Request};
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "quota-reported-as-auth",
        severity: Severity::Medium,
        summary: "A quota or rate-limit condition was reported as an authentication failure.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A quota or rate condition (429, usage limit, budget/spend limit 402/403) is reported as an
authentication failure: `Primary provider auth failed: No Codex credentials stored`, \"Provider
authentication failed\", \"Your API key was rejected\" — while the error itself carries quota
wording, the failing call returned 429/402, or a pool snapshot (`hermes auth list`, auth.json)
shows the provider's credential rate-limited at the same time. A `Non-retryable client error`
401/403, a `Model fallback: X unavailable (authentication failed)` notice or a fallback failed on
authentication count as such reports when the request's own lines just before them (a terminal
summary, an error body) carry quota wording with no rotation or fallback between. High when a snapshot or the error
body corroborates the quota state; medium when only the status code does.

## Why it matters
It sends operators to re-authenticate valid credentials (or suspect leaked tokens) while the real
cause is a quota window that re-auth cannot lift.

## Example
```
WARNING gateway.run: Primary provider auth failed: No Codex credentials stored. Run `hermes auth` to authenticate.
```
with `hermes auth list` showing `device_code rate-limited (429) (3h 12m left)`.

## Not triggered by
A genuine 401/403 with no quota wording and no rate-limited snapshot (a lone `403 Forbidden` is
not a misreport); auth failures caused by a missing credential (see
`client-defect-blamed-on-credential`); a rejection of a call that went to another endpoint than
the request's first call (a fallback with its own backend): a benched primary pool says nothing
about that backend's key.

## Lifecycle evidence used
The endpoint of each call (`base_url=` on attempt lines, or the client line built for the call),
to tell whether the rejected call went to the benched pool's backend; the pool's marks and their
times (a bench counts only when it precedes the rejection).
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for (i, ev) in a.events.iter().enumerate() {
        let Some(text) = super::summary::auth_told_text(ev) else {
            continue;
        };
        let request = a
            .request_of
            .get(i)
            .copied()
            .flatten()
            .map(|r| &a.requests[r])
            .or_else(|| a.requests.iter().find(|r| r.echo_events.contains(&i)));
        let mentioned = mentioned_provider(text).or_else(|| {
            request.and_then(|r| r.primary_provider.as_deref().map(providers::normalize))
        });
        // 1. The message itself carries quota wording.
        let own_quota = is_quota_text(text);
        // 2. The failing call of the same request returned a quota / rate status.
        // An untimed console block that repeats the request (an echo) was printed after its
        // calls, whatever index its lines got.
        let echo = request.is_some_and(|r| r.echo_events.contains(&i));
        let failing = request.and_then(|r| {
            r.attempts
                .iter()
                .rev()
                .find(|at| !at.succeeded && (echo || at.events.first().is_some_and(|&e| e < i)))
        });
        let status_quota = failing.filter(|at| {
            matches!(
                at.class,
                FailureClass::QuotaWall | FailureClass::Billing | FailureClass::RateLimit
            ) || matches!(at.status, Some(429) | Some(402))
        });
        // The rejected call went to another backend than the request's first call (a fallback
        // with its own endpoint): what it was told concerns that backend, not the benched pool.
        let elsewhere = match (request, failing) {
            (Some(r), Some(at)) => r.attempts.first().is_some_and(|first| {
                match (
                    super::attempt_endpoint(a, r, first),
                    super::attempt_endpoint(a, r, at),
                ) {
                    (Some(x), Some(y)) => x != y,
                    _ => false,
                }
            }),
            _ => false,
        };
        // 3. A pool snapshot shows the provider's credential rate-limited.
        let snapshot_row = a.lists.iter().find_map(|l| {
            l.rows.iter().find_map(|row| {
                let limited = matches!(
                    row.status.as_deref(),
                    Some("rate-limited") | Some("exhausted")
                ) || matches!(row.code, Some(429) | Some(402));
                let provider_ok = match (&row.provider, &mentioned) {
                    (Some(rp), Some(m)) => providers::normalize(rp) == *m,
                    _ => true,
                };
                // A call rejected at another backend: only that backend's own row counts.
                let provider_ok = provider_ok
                    && (!elsewhere
                        || match (&row.provider, failing.and_then(|at| at.provider.as_deref())) {
                            (Some(rp), Some(fp)) => {
                                rp.to_ascii_lowercase().ends_with(&fp.to_ascii_lowercase())
                            }
                            _ => false,
                        });
                (limited && provider_ok && !row.ready_to_retry).then_some((l, row))
            })
        });
        // 4. The log had benched every credential of the provider for quota before this line.
        let pool_provider = mentioned.clone().or_else(|| {
            request.and_then(|r| r.primary_provider.as_deref().map(providers::normalize))
        });
        let pool_benches = pool_provider
            .as_deref()
            .filter(|_| !elsewhere)
            .map(|p| quota_benched_pool(a, p, i, request))
            .unwrap_or_default();
        // 5. Lines of the same request before it carry quota wording (a terminal summary, an
        //    error body) although no attempt line is in the input.
        let quota_lines = match status_quota {
            Some(_) => Vec::new(),
            None => {
                let own = request
                    .map(|r| super::summary::quota_lines_before(a, r, i))
                    .unwrap_or_default();
                if own.is_empty() {
                    super::summary::quota_lines_near(a, i, mentioned.as_deref())
                } else {
                    own
                }
            }
        };
        if !own_quota
            && status_quota.is_none()
            && snapshot_row.is_none()
            && pool_benches.is_empty()
            && quota_lines.is_empty()
        {
            continue;
        }
        let who = mentioned.clone().unwrap_or_else(|| "the provider".into());
        let mut why = Vec::new();
        if own_quota {
            why.push("the message itself carries quota wording".to_string());
        }
        if let Some(at) = status_quota {
            why.push(format!(
                "the failing call returned {}",
                at.status
                    .map(|s| format!("HTTP {s}"))
                    .unwrap_or_else(|| "a rate-limit error".into())
            ));
        }
        if let Some((l, row)) = snapshot_row {
            why.push(format!(
                "{} shows the credential {}{}",
                l.name,
                row.status.clone().unwrap_or_default(),
                row.code.map(|c| format!(" ({c})")).unwrap_or_default()
            ));
        }
        if !pool_benches.is_empty() {
            why.push(format!(
                "every {} credential had been benched for quota before it",
                pool_provider.as_deref().unwrap_or("pool")
            ));
        }
        if !quota_lines.is_empty() {
            why.push("the request's own lines before it carry quota wording".to_string());
        }
        let corroborated = own_quota
            || snapshot_row.is_some()
            || !pool_benches.is_empty()
            || !quota_lines.is_empty();
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "{who} was reported as an authentication failure, but {}",
                why.join("; ")
            ),
        )
        .severity(if corroborated {
            Severity::High
        } else {
            Severity::Medium
        })
        .provider(mentioned.as_deref())
        .at(i)
        .event(i)
        .note("re-authenticating will not help: the credential is in a quota window");
        if let Some(r) = request {
            f = f.request(r);
        }
        if let Some(at) = status_quota {
            f = f.events(at.events.iter().copied());
        }
        if let Some((l, row)) = snapshot_row {
            f = f.evidence(&l.name, row.line, row.raw.clone()).note(format!(
                "{} was captured at or after the end of the log (a capture's time is not written \
                 in it): its state is what held then",
                l.name
            ));
        }
        f = f.events(pool_benches).events(quota_lines);
        out.push(f.build());
    }
}

/// The log events that benched each labelled credential of `provider` for a quota or rate
/// limit before event `before`; empty unless every one of them was.
/// An untimed line (a console copy) is placed by its request: the benches up to that request's
/// end came before the failure it reports.
fn quota_benched_pool(
    a: &Analysis,
    provider: &str,
    before: usize,
    request: Option<&Request>,
) -> Vec<usize> {
    let Some(pool) = a.pools.pool(provider) else {
        return Vec::new();
    };
    let t = a
        .times
        .get(before)
        .copied()
        .flatten()
        .map(|t| t.timestamp_millis() as f64 / 1000.0);
    let mut events = Vec::new();
    let mut members = pool.members.iter().filter(|m| !m.is_account).peekable();
    if members.peek().is_none() {
        return Vec::new();
    }
    for m in members {
        let bench = a
            .pools
            .cooled_at(
                provider,
                &m.label,
                t,
                a.events[before].record.host.as_deref(),
            )
            .and_then(|c| c.since_event)
            .filter(|&e| {
                let earlier = match (t, request) {
                    (None, Some(r)) => r.events.last().is_some_and(|&last| e <= last),
                    _ => e < before,
                };
                earlier && quota_bench(a, e)
            });
        match bench {
            Some(e) => events.push(e),
            None => return Vec::new(),
        }
    }
    events.sort_unstable();
    events.dedup();
    events
}

/// Did event `e` bench its credential for a quota or rate limit (not for a rejected key)?
fn quota_bench(a: &Analysis, e: usize) -> bool {
    match &a.events[e].kind {
        EventKind::PoolMarked {
            status,
            dead,
            reason,
            ..
        } => {
            !*dead
                && (matches!(status, Some(429) | Some(402))
                    || reason.as_deref().is_some_and(is_quota_text))
        }
        _ => a
            .request_of
            .get(e)
            .copied()
            .flatten()
            .and_then(|r| {
                let req = &a.requests[r];
                req.attempt_at(e).map(|i| &req.attempts[i])
            })
            .is_some_and(|at| {
                matches!(
                    at.class,
                    FailureClass::QuotaWall | FailureClass::Billing | FailureClass::RateLimit
                ) || matches!(at.status, Some(429) | Some(402))
            }),
    }
}

/// A provider named in the wording (`No Codex credentials` → openai-codex).
fn mentioned_provider(text: &str) -> Option<String> {
    let t = text.to_ascii_lowercase();
    const NAMES: &[(&str, &str)] = &[
        ("codex", "openai-codex"),
        ("openrouter", "openrouter"),
        ("anthropic", "anthropic"),
        ("claude", "anthropic"),
        ("nous", "nous"),
        ("z.ai", "zai"),
        ("zai", "zai"),
    ];
    NAMES
        .iter()
        .find(|(k, _)| t.contains(k))
        .map(|(_, p)| p.to_string())
}

//! What a request's own lines say when the per-attempt lines are missing (a bug-report fragment,
//! a `grep` of errors.log): a terminal summary `API call failed after N retries. HTTP s: …`
//! stands for the attempts it summarizes, and the lines that told the operator about a
//! credential are read against the quota wording that came before them.

use crate::classify::quota::{
    failure_class, is_wall, says_quota, FailureClass, CLIENT_DEFECT_PHRASES,
};
use crate::correlate::{Analysis, Request};
use crate::model::{Event, EventKind};

/// A terminal summary of retries on a quota or billing wall: (event, retries, class, status).
/// The class is read from the summary's wording first (a 400 or 403 whose body says the balance
/// or budget is gone is a wall); the status stays what the line says.
pub(crate) fn terminal_wall(
    a: &Analysis,
    req: &Request,
) -> Option<(usize, u32, FailureClass, Option<u16>)> {
    req.events.iter().find_map(|&e| match &a.events[e].kind {
        EventKind::TerminalFailure {
            retries: Some(n),
            summary: Some(s),
            status,
            ..
        } if *n > 0 => {
            let class = failure_class(*status, None, None, s);
            is_wall(class).then_some((e, *n, class, *status))
        }
        _ => None,
    })
}

/// Events of `req` right before event `before` that carry quota wording: walking back from it,
/// up to the first line that moved the request (rotation, fallback) or a failed call that was no
/// quota wall (then that call, not a quota, is what the later line reports).
pub(crate) fn quota_lines_before(a: &Analysis, req: &Request, before: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for &e in req.events.iter().rev().filter(|&&e| e < before) {
        let kind = &a.events[e].kind;
        if kind.is_rotation()
            || matches!(
                kind,
                EventKind::FallbackActivated { .. }
                    | EventKind::FallbackNotice { .. }
                    | EventKind::FallbackSwitching { .. }
                    | EventKind::FallbackPoolCleared { .. }
                    | EventKind::FallbackPoolAttached { .. }
            )
        {
            break;
        }
        if says_quota(&a.events[e]) {
            out.push(e);
        } else if let Some(at) = req.attempt_at(e).map(|k| &req.attempts[k]) {
            if !at.succeeded && !is_wall(at.class) {
                break;
            }
        }
    }
    out.reverse();
    out
}

/// Text of a line that tells the operator a credential is at fault, beyond the notices
/// [`crate::model::auth_blame_text`] knows: a non-retryable 401/403 whose body carries no
/// quota wording and no sign that the request went without a credential, a fallback notice that
/// gives `authentication failed` as the reason, a failed fallback blamed on authentication.
pub(crate) fn auth_told_text(ev: &Event) -> Option<&str> {
    if let Some(t) = crate::model::auth_blame_text(ev) {
        return Some(t);
    }
    match &ev.kind {
        EventKind::NonRetryable {
            status: s @ Some(401 | 403),
            text,
            details,
        } => (failure_class(*s, None, details.as_deref(), text) == FailureClass::AuthInvalid)
            .then_some(text.as_str()),
        EventKind::FallbackNotice {
            reason: Some(r), ..
        } if r.contains("authentication failed") => Some(r.as_str()),
        EventKind::FallbackFailed { text, .. } if text.contains("authentication failed") => {
            Some(text.as_str())
        }
        _ => None,
    }
}

/// A request's terminal line (`Non-retryable client error`, a terminal summary) that says the
/// call went out without a credential (`Missing Authentication header`, an empty key), when no
/// failed attempt line of the request is in the input.
/// Returns the line and the wording that says so.
pub(crate) fn terminal_defect(a: &Analysis, req: &Request) -> Option<(usize, &'static str)> {
    if req.attempts.iter().any(|at| !at.succeeded) {
        return None;
    }
    req.events.iter().find_map(|&e| {
        let text = match &a.events[e].kind {
            EventKind::NonRetryable { text, details, .. } => {
                let mut t = continued(&a.events[e], text);
                if let Some(m) = details.as_ref().and_then(|d| d.message.as_deref()) {
                    t.push(' ');
                    t.push_str(m);
                }
                t
            }
            EventKind::TerminalFailure {
                summary: Some(s), ..
            } => s.clone(),
            _ => return None,
        };
        let lower = text.to_ascii_lowercase();
        CLIENT_DEFECT_PHRASES
            .iter()
            .find(|p| lower.contains(*p))
            .map(|p| (e, *p))
    })
}

/// A line's text with its continuation lines (a console block's `📝 Error:` line).
fn continued(ev: &Event, text: &str) -> String {
    let mut all = text.to_string();
    for (_, t) in &ev.record.continuation {
        all.push(' ');
        all.push_str(t);
    }
    all
}

/// Seconds within which a notice printed after a terminal line still reports it.
const NOTICE_WINDOW_S: i64 = 5;

/// The line that told the operator the key was at fault for event `e`: `e` itself (a console
/// block with its `💡` line), or a notice of the same source and session right after it.
pub(crate) fn blame_after(a: &Analysis, e: usize) -> Option<usize> {
    if crate::model::auth_blame_text(&a.events[e]).is_some() {
        return Some(e);
    }
    let rec = &a.events[e].record;
    let t0 = a.times.get(e).copied().flatten();
    a.events
        .iter()
        .enumerate()
        .skip(e + 1)
        .take(8)
        .take_while(|(j, ev)| {
            ev.record.loc.source == rec.loc.source
                && ev.record.session == rec.session
                && match (t0, a.times.get(*j).copied().flatten()) {
                    (Some(x), Some(y)) => (y - x).num_seconds() <= NOTICE_WINDOW_S,
                    _ => true,
                }
        })
        .find(|(_, ev)| crate::model::auth_blame_text(ev).is_some())
        .map(|(j, _)| j)
}

/// Seconds between a request's last line and a later line that still reports on it.
const NEAR_WINDOW_S: i64 = 600;

/// Quota lines of the request that ended last before event `i` in the same source (and session,
/// when `i` names one), when `i` itself is in no request that has them: a notice printed after
/// its request closed (`WARNING gateway.run: Provider authentication failed`, the resolver's
/// `no API key was found`). The request must have failed (not served anything), ended at most
/// [`NEAR_WINDOW_S`] before, and be of `provider` when both are known.
pub(crate) fn quota_lines_near(a: &Analysis, i: usize, provider: Option<&str>) -> Vec<usize> {
    let rec = &a.events[i].record;
    let t = a.times.get(i).copied().flatten();
    let prev = a
        .requests
        .iter()
        .filter(|r| {
            r.events
                .last()
                .is_some_and(|&l| l < i && a.events[l].record.loc.source == rec.loc.source)
        })
        .max_by_key(|r| r.events.last().copied());
    let Some(r) = prev else {
        return Vec::new();
    };
    let last = r.events.last().copied().unwrap_or(0);
    let same_session = match (&rec.session, &a.events[last].record.session) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let close = match (a.times.get(last).copied().flatten(), t) {
        (Some(x), Some(y)) => (y - x).num_seconds() <= NEAR_WINDOW_S,
        _ => true,
    };
    let same_provider = match (provider, r.primary_provider.as_deref()) {
        (Some(p), Some(q)) => crate::correlate::providers::normalize(q) == p,
        _ => true,
    };
    if !same_session || !close || !same_provider || r.outcome == crate::correlate::Outcome::Success
    {
        return Vec::new();
    }
    quota_lines_before(a, r, usize::MAX)
}

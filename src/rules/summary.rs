//! What a request's own lines say when the per-attempt lines are missing (a bug-report fragment,
//! a `grep` of errors.log): a terminal summary `API call failed after N retries. HTTP s: …`
//! stands for the attempts it summarizes, and the lines that told the operator about a
//! credential are read against the quota wording that came before them.

use crate::classify::quota::{failure_class, is_quota_text, FailureClass};
use crate::correlate::{Analysis, Request};
use crate::model::{Event, EventKind};

/// A quota or billing wall: the credential cannot serve until a reset or a payment.
pub(crate) fn is_wall(c: FailureClass) -> bool {
    matches!(c, FailureClass::QuotaWall | FailureClass::Billing)
}

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

/// The quota wording an event carries: a terminal summary, a stream failure, an error body, a
/// wait's parsed body, a non-retryable error or a pool mark's reason.
pub(crate) fn says_quota(ev: &Event) -> bool {
    match &ev.kind {
        EventKind::TerminalFailure {
            summary: Some(s),
            status,
            ..
        } => is_wall(failure_class(*status, None, None, s)),
        EventKind::StreamFailed {
            status,
            details,
            text,
        }
        | EventKind::NonRetryable {
            status,
            text,
            details,
        } => is_wall(failure_class(*status, None, details.as_ref(), text)),
        EventKind::AttemptFailed {
            status,
            error_type,
            summary,
            details,
            ..
        } => is_wall(failure_class(
            *status,
            error_type.as_deref(),
            details.as_ref(),
            summary.as_deref().unwrap_or(""),
        )),
        EventKind::Details { details }
        | EventKind::RetryScheduled {
            details: Some(details),
            ..
        } => is_wall(failure_class(None, None, Some(details), "")),
        EventKind::PoolMarked {
            reason: Some(r), ..
        } => is_quota_text(r),
        _ => false,
    }
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
/// [`super::auth_blame_text`] knows: a non-retryable 401/403 whose body carries no quota wording
/// and no sign that the request went without a credential, a fallback notice that gives
/// `authentication failed` as the reason, a failed fallback blamed on authentication.
pub(crate) fn auth_told_text(ev: &Event) -> Option<&str> {
    if let Some(t) = super::auth_blame_text(ev) {
        return Some(t);
    }
    match &ev.kind {
        EventKind::NonRetryable {
            status: s @ Some(401 | 403),
            text,
            details,
        } => (failure_class(*s, None, details.as_ref(), text) == FailureClass::AuthInvalid)
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

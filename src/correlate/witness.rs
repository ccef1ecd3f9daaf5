//! One call, however many witnesses: a logger record and its console counterpart.
//!
//! Hermes 0.16+ holds its console notices (`⚠️  API call failed (attempt k/N)`, `⏳ Retrying in
//! Ns`, `❌ API failed after N retries`) back and prints them when the turn fails, seconds after
//! the logger records of the same calls; with `hermes chat -v` (or a gateway whose journal takes
//! both streams) both witnesses are in the input, the console copy late, often after the logger's
//! last attempt or even after its terminal line. A console block that repeats a logger record of
//! the same request is a witness of that record, not another call: it joins the request's echo
//! lines (still evidence, never counted). Counters, retry ordinals and statuses tell genuine
//! repeats apart: a console attempt only stands for a logger attempt with the same counter and a
//! compatible status that no other console block stood for yet.

use super::{Attempt, Request};
use crate::model::{Event, EventKind};

/// A line Hermes printed on its console (no logger name).
fn console(ev: &Event) -> bool {
    ev.record.logger.is_none()
}

fn logged(a: &Attempt, events: &[Event]) -> bool {
    a.events.iter().any(|&e| !console(&events[e]))
}

fn console_only(a: &Attempt, events: &[Event]) -> bool {
    a.events.iter().all(|&e| console(&events[e]))
}

fn compatible(x: Option<u16>, y: Option<u16>) -> bool {
    match (x, y) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Within each request: console attempts, waits and terminal lines that repeat logger records of
/// the same request become echo lines. Returns the number of console attempts merged.
pub fn merge_console_witnesses(requests: &mut [Request], events: &[Event]) -> u64 {
    let mut merged = 0;
    for req in requests.iter_mut() {
        merged += merge_in(req, events);
    }
    merged
}

fn merge_in(req: &mut Request, events: &[Event]) -> u64 {
    if !req.attempts.iter().any(|a| logged(a, events)) {
        return 0;
    }
    let mut taken = vec![false; req.attempts.len()];
    let mut echo: Vec<usize> = Vec::new();
    let mut drop_attempt = vec![false; req.attempts.len()];
    for (c, a) in req.attempts.iter().enumerate() {
        if a.counter.is_none() || !console_only(a, events) {
            continue;
        }
        let found = (0..req.attempts.len()).find(|&l| {
            let b = &req.attempts[l];
            !taken[l]
                && l != c
                && logged(b, events)
                && b.counter == a.counter
                && compatible(b.status, a.status)
        });
        if let Some(l) = found {
            taken[l] = true;
            drop_attempt[c] = true;
            echo.extend(a.events.iter().copied());
        }
    }
    if echo.is_empty() {
        return 0;
    }
    // Waits: a console `⏳ Retrying in Ns (attempt k/N)` repeats the logger's `Retrying API call
    // in Ns (attempt k/N)` with the same ordinal.
    let waits = |from_console: bool| -> Vec<(usize, Option<u32>, Option<u32>)> {
        req.events
            .iter()
            .filter(|&&e| console(&events[e]) == from_console)
            .filter_map(|&e| match &events[e].kind {
                EventKind::RetryScheduled { attempt, max, .. } => Some((e, *attempt, *max)),
                _ => None,
            })
            .collect()
    };
    let mut logger_waits = waits(false);
    for (e, k, n) in waits(true) {
        if let Some(p) = logger_waits
            .iter()
            .position(|&(_, lk, ln)| lk == k && (ln == n || ln.is_none() || n.is_none()))
        {
            logger_waits.remove(p);
            echo.push(e);
        }
    }
    // Terminal lines: the console's `❌ API failed after N retries` repeats the logger's.
    let terminal = |from_console: bool| {
        req.events.iter().copied().find(|&e| {
            console(&events[e]) == from_console
                && matches!(events[e].kind, EventKind::TerminalFailure { .. })
        })
    };
    if let (Some(c), Some(l)) = (terminal(true), terminal(false)) {
        echo.push(c);
        if req.end_event == Some(c) {
            req.end_event = Some(l);
        }
    }
    let merged = drop_attempt.iter().filter(|&&d| d).count() as u64;
    let mut k = 0;
    req.attempts.retain(|_| {
        let keep = !drop_attempt[k];
        k += 1;
        keep
    });
    echo.sort_unstable();
    echo.dedup();
    req.events.retain(|e| echo.binary_search(e).is_err());
    req.echo_events.extend(echo);
    req.echo_events.sort_unstable();
    req.echo_events.dedup();
    merged
}

/// A counted attempt: its `k/N` counter and its status.
type Counted = (Option<(u32, u32)>, Option<u16>);

/// Attempts of a request as (counter, status), counted ones only.
fn signature(r: &Request) -> Vec<Counted> {
    r.attempts
        .iter()
        .filter(|a| a.counter.is_some())
        .map(|a| (a.counter, a.status))
        .collect()
}

/// Seconds after a logged request's last line within which its console copy may still arrive
/// (the copy is printed when the turn ends; a gateway flushes it at the latest on exit).
const LOOK_BACK_SECS: i64 = 120;

/// A request made only of console lines, printed after a logged request of the same emitter
/// whose attempts include every one of its attempts: the late console copy of that request.
/// Its lines become the logged request's echo lines and it is dropped. Returns the number of
/// requests dropped.
pub fn drop_late_console_requests(
    requests: &mut Vec<Request>,
    events: &[Event],
    times: &[Option<chrono::DateTime<chrono::Utc>>],
) -> u64 {
    let time = |e: usize| times.get(e).copied().flatten();
    let first_time = |r: &Request| r.events.iter().find_map(|&e| time(e));
    let last_time = |r: &Request| r.events.iter().rev().find_map(|&e| time(e));
    let console_req = |r: &Request| {
        !r.attempts.is_empty()
            && r.attempts.iter().all(|a| console_only(a, events))
            && r.events.iter().all(|&e| console(&events[e]))
    };
    let mut echo_of: Vec<Option<usize>> = vec![None; requests.len()];
    for i in 0..requests.len() {
        let r = &requests[i];
        let Some(t) = first_time(r) else { continue };
        if !console_req(r) {
            continue;
        }
        let sig = signature(r);
        if sig.is_empty() {
            continue;
        }
        let target = (0..requests.len()).rev().find(|&j| {
            let q = &requests[j];
            if j == i || console_req(q) || echo_of[j].is_some() {
                return false;
            }
            let hosts_ok = match (&q.host, &r.host) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            let window = match (first_time(q), last_time(q)) {
                (Some(a), Some(b)) => {
                    t >= a - chrono::Duration::seconds(5)
                        && t <= b + chrono::Duration::seconds(LOOK_BACK_SECS)
                }
                _ => false,
            };
            if !hosts_ok || !window {
                return false;
            }
            // Every console attempt stands for a logged attempt of that request.
            let mut pool = signature(q);
            sig.iter().all(
                |s| match pool.iter().position(|p| p.0 == s.0 && compatible(p.1, s.1)) {
                    Some(k) => {
                        pool.remove(k);
                        true
                    }
                    None => false,
                },
            )
        });
        echo_of[i] = target;
    }
    super::group::fold_echoes(requests, &echo_of)
}

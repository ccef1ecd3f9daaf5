//! Snapshots in time: the moment each auth snapshot speaks for, how its marks agree with the
//! log's, and what changed between two snapshots of the same pool.
//!
//! An auth.json or `hermes auth list` capture is an observation at a time: what it says held
//! when it was written, never before. The pool model applies each entry's state only from the
//! time the entry records (see `pool::Observation`); this module tells the reader which time
//! that is and reconciles the snapshots with the log instead of letting either overwrite the
//! other.

use super::pool::{fmt_epoch, LogBench, SNAPSHOT_SKEW_SECS};
use super::{providers, Analysis, AuthInput};
use crate::auth::PoolEntry;
use crate::model::{SnapshotChange, SnapshotSummary};

/// Two reset instants closer than this are the same reset (a provider recomputes "now + window"
/// per response).
const SAME_RESET_SECS: f64 = 300.0;

/// What the snapshots of an analysis say, for the report header.
#[derive(Debug, Default)]
pub struct SnapshotReview {
    pub snapshots: Vec<SnapshotSummary>,
    /// Agreements and disagreements between snapshots and the log.
    pub notes: Vec<String>,
    /// Entries whose state differs between an earlier and a later auth.json.
    pub changes: Vec<SnapshotChange>,
}

/// The log's time span (epoch seconds), when known.
#[derive(Debug, Clone, Copy)]
pub struct LogSpan {
    pub first: Option<f64>,
    pub last: Option<f64>,
}

/// When an auth.json speaks for, and how that was decided: its `updated_at`, else the newest
/// status time it records (it was written at or after that), else unknown.
fn auth_time(auth: &AuthInput) -> (Option<f64>, bool, &'static str) {
    if let Some(t) = auth.snapshot.updated_at {
        return (Some(t), true, "its updated_at field");
    }
    let newest = auth
        .snapshot
        .pools
        .iter()
        .flat_map(|(_, entries)| entries)
        .flat_map(|e| [e.last_status_at, e.status_cleared_at])
        .flatten()
        .max_by(|a, b| a.total_cmp(b));
    match newest {
        Some(t) => (
            Some(t),
            false,
            "the newest status time among its entries (written at or after it)",
        ),
        None => (
            None,
            false,
            "no time recorded in it: taken as at or after the end of the log",
        ),
    }
}

fn relation(at: Option<f64>, exact: bool, span: LogSpan) -> &'static str {
    let (Some(at), Some(first), Some(last)) = (at, span.first, span.last) else {
        return "after the log (assumed)";
    };
    if at + SNAPSHOT_SKEW_SECS < first && exact {
        "before the log"
    } else if at > last + SNAPSHOT_SKEW_SECS {
        "after the log"
    } else if exact {
        "inside the log: an after-snapshot for everything before it"
    } else {
        "at or after a time inside the log"
    }
}

fn entry_label(e: &PoolEntry) -> String {
    e.label
        .clone()
        .or_else(|| e.id.clone())
        .unwrap_or_else(|| format!("entry@{}", e.line))
}

fn entry_state(e: &PoolEntry) -> String {
    match e.last_status.as_deref() {
        Some(s @ ("exhausted" | "dead")) => match &e.last_error_reason {
            Some(r) => format!("{s} ({r})"),
            None => s.to_string(),
        },
        Some(s) => s.to_string(),
        None => "ok".to_string(),
    }
}

fn is_benched(e: &PoolEntry) -> bool {
    matches!(e.last_status.as_deref(), Some("exhausted" | "dead"))
}

/// The log bench of `label` (by label or entry id) closest to `at`, within the skew.
fn matching_bench<'a>(a: &'a Analysis, label: &str, at: f64) -> Option<&'a LogBench> {
    a.pools
        .benches
        .iter()
        .filter(|b| a.pools.canonical(&b.label) == label)
        .filter_map(|b| Some((b, (b.at? - at).abs())))
        .filter(|(_, d)| *d <= SNAPSHOT_SKEW_SECS)
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(b, _)| b)
}

/// `source:line` of an event.
fn evidence_of(a: &Analysis, event: usize) -> String {
    let line = a.events.get(event).map(|e| e.record.loc.line).unwrap_or(0);
    format!("{}:{line}", a.source_name(event))
}

/// Review every snapshot of `a` against the log.
pub fn review(a: &Analysis, span: LogSpan) -> SnapshotReview {
    let mut out = SnapshotReview::default();
    let mut auths: Vec<(&AuthInput, Option<f64>, bool)> = Vec::new();
    for auth in &a.auths {
        let (at, exact, basis) = auth_time(auth);
        out.snapshots.push(SnapshotSummary {
            source: auth.name.clone(),
            kind: "auth.json".into(),
            time: at.map(fmt_epoch),
            basis: basis.into(),
            relation: relation(at, exact, span).into(),
        });
        auths.push((auth, at, exact));
        reconcile(a, auth, span, &mut out.notes);
    }
    for list in &a.lists {
        out.snapshots.push(SnapshotSummary {
            source: list.name.clone(),
            kind: "hermes auth list".into(),
            time: None,
            basis: "a capture's time is not written in it: taken as at or after the end of the log"
                .into(),
            relation: "after the log (assumed)".into(),
        });
    }
    // Before/after pairs: consecutive auth.json snapshots in time order.
    auths.sort_by(|x, y| {
        x.1.unwrap_or(f64::MAX)
            .total_cmp(&y.1.unwrap_or(f64::MAX))
            .then(x.0.source.cmp(&y.0.source))
    });
    for pair in auths.windows(2) {
        diff(a, pair[0].0, pair[1].0, &mut out.changes);
    }
    out
}

/// Notes on each benched entry of `auth` whose recorded time lies inside the log (or before
/// it): confirmed by a log mark, or not shown by any log line, or with another reset time.
fn reconcile(a: &Analysis, auth: &AuthInput, span: LogSpan, notes: &mut Vec<String>) {
    let (Some(first), Some(last)) = (span.first, span.last) else {
        return;
    };
    for (key, entries) in &auth.snapshot.pools {
        for e in entries.iter().filter(|e| is_benched(e)) {
            let Some(at) = e.last_status_at else {
                continue;
            };
            let label = entry_label(e);
            let state = entry_state(e);
            if at + SNAPSHOT_SKEW_SECS < first {
                let until = e.last_error_reset_at.filter(|u| *u > first);
                if let Some(u) = until {
                    notes.push(format!(
                        "{}: {key} {label} was {state} from {} (before the log) until {}: \
                         applied to the log's calls before that reset",
                        auth.name,
                        fmt_epoch(at),
                        fmt_epoch(u)
                    ));
                }
                continue;
            }
            if at > last + SNAPSHOT_SKEW_SECS {
                continue;
            }
            match matching_bench(a, &label, at) {
                Some(b) => {
                    let reset_differs = match (b.until, e.last_error_reset_at) {
                        (Some(x), Some(y)) => (x - y).abs() > SAME_RESET_SECS,
                        _ => false,
                    };
                    if reset_differs {
                        notes.push(format!(
                            "{}: {key} {label} {state} at {} matches {}, but its reset time {} \
                             differs from the {} the log implies",
                            auth.name,
                            fmt_epoch(at),
                            evidence_of(a, b.event),
                            e.last_error_reset_at.map(fmt_epoch).unwrap_or_default(),
                            b.until.map(fmt_epoch).unwrap_or_default()
                        ));
                    }
                }
                None => notes.push(format!(
                    "{}: {key} {label} was recorded {state} at {}, inside the log, but no log \
                     line shows that mark (a mark the log does not explain: a misattributed \
                     mark persisted, or a log that is incomplete)",
                    auth.name,
                    fmt_epoch(at)
                )),
            }
        }
    }
}

/// Entries whose state changed between `before` and `after`, each tied to the log line that
/// changed it, or flagged when none did.
fn diff(a: &Analysis, before: &AuthInput, after: &AuthInput, out: &mut Vec<SnapshotChange>) {
    for (key, entries) in &after.snapshot.pools {
        let old = before
            .snapshot
            .pools
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, es)| es.as_slice())
            .unwrap_or(&[]);
        for e in entries {
            let label = entry_label(e);
            let prev = old
                .iter()
                .find(|o| entry_label(o) == label || (o.id.is_some() && o.id == e.id));
            let (from_state, from_at) = match prev {
                Some(p) => (entry_state(p), p.last_status_at),
                None => ("not in the pool".to_string(), None),
            };
            let to_state = entry_state(e);
            if from_state == to_state && from_at == e.last_status_at {
                continue;
            }
            let bench = e
                .last_status_at
                .filter(|_| is_benched(e))
                .and_then(|at| matching_bench(a, &label, at));
            out.push(SnapshotChange {
                provider: providers::normalize(key),
                profile: label,
                before: from_state,
                after: to_state,
                at: e.last_status_at.map(fmt_epoch),
                from_snapshot: before.name.clone(),
                to_snapshot: after.name.clone(),
                evidence: bench.map(|b| evidence_of(a, b.event)),
            });
        }
    }
}

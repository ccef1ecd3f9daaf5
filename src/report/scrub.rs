//! The report boundary of redaction: every string of a [`Report`] passes the one redactor
//! ([`crate::redact::redact`]) before any format sees it — labels, provider names, hosts,
//! request ids, evidence, notes, warnings, snapshot reviews, timelines, counterfactuals.
//!
//! The walk destructures every struct completely, so a field added to the model does not
//! compile until it is decided here. Producers may redact too (evidence and messages are
//! redacted where findings are built); redaction is idempotent, so passing twice is harmless.
//! Labels stay distinct: a secret-shaped label keeps its prefix and gains a fingerprint of the
//! secret (see [`crate::redact`]), and the same label reads the same in every field.

use crate::model::{
    Counterfactual, Evidence, Finding, HermesRelease, HostRelease, Impact, PoolSummary, Report,
    RequestTimeline, SnapshotChange, SnapshotSummary, SourceSummary, Summary, TimelineEntry,
};
use crate::redact::redact;
use std::borrow::Cow;

/// A copy of `report` with every string redacted; borrowed as is under `--no-redact`.
pub fn report(report: &Report) -> Cow<'_, Report> {
    if !crate::redact::is_enabled() {
        return Cow::Borrowed(report);
    }
    let mut r = report.clone();
    scrub_report(&mut r);
    Cow::Owned(r)
}

fn s(v: &mut String) {
    if let Cow::Owned(r) = redact(v) {
        *v = r;
    }
}

fn opt(v: &mut Option<String>) {
    if let Some(v) = v {
        s(v);
    }
}

fn all(v: &mut [String]) {
    v.iter_mut().for_each(s);
}

fn scrub_report(r: &mut Report) {
    let Report {
        tool_version: _,
        summary,
        findings,
        timelines,
    } = r;
    scrub_summary(summary);
    findings.iter_mut().for_each(finding);
    timelines.iter_mut().for_each(timeline);
}

/// Redact every string of a finding in place (also used by `--follow`, which prints findings
/// one by one).
pub fn finding(f: &mut Finding) {
    if !crate::redact::is_enabled() {
        return;
    }
    let Finding {
        rule: _,
        severity: _,
        message,
        time: _,
        time_text,
        request,
        host,
        provider,
        profile,
        evidence,
        notes,
    } = f;
    s(message);
    opt(time_text);
    opt(request);
    opt(host);
    opt(provider);
    opt(profile);
    evidence.iter_mut().for_each(scrub_evidence);
    all(notes);
}

fn scrub_evidence(e: &mut Evidence) {
    let Evidence {
        source,
        line: _,
        text,
    } = e;
    s(source);
    s(text);
}

fn scrub_summary(sm: &mut Summary) {
    let Summary {
        sources,
        hosts,
        first_time: _,
        last_time: _,
        requests: _,
        attempts: _,
        rotations: _,
        rotations_inferred: _,
        fallbacks: _,
        findings_by_severity: _,
        hermes_version,
        hermes_release,
        pools,
        snapshots,
        snapshot_notes,
        snapshot_changes,
        warnings,
        redacted: _,
        impact,
    } = sm;
    sources.iter_mut().for_each(source);
    all(hosts);
    s(hermes_version);
    release(hermes_release);
    pools.iter_mut().for_each(pool);
    snapshots.iter_mut().for_each(snapshot);
    all(snapshot_notes);
    snapshot_changes.iter_mut().for_each(change);
    all(warnings);
    if let Some(i) = impact {
        let Impact {
            failed_requests: _,
            avoidable_failures: _,
            avoidable_fallbacks: _,
            wasted_attempts: _,
            wasted_wait_s: _,
            undecided: _,
            served_by,
        } = i;
        served_by.iter_mut().for_each(|(label, _)| s(label));
    }
}

fn source(x: &mut SourceSummary) {
    let SourceSummary {
        name,
        format,
        lines_read: _,
        lines_used: _,
        lines_other: _,
        lines_unrecognized: _,
        events: _,
    } = x;
    s(name);
    s(format);
}

fn release(x: &mut HermesRelease) {
    let HermesRelease {
        min,
        max,
        basis,
        applied,
        source,
        hosts,
    } = x;
    opt(min);
    opt(max);
    all(basis);
    s(applied);
    s(source);
    for h in hosts {
        let HostRelease { host, min, max } = h;
        s(host);
        opt(min);
        opt(max);
    }
}

fn pool(x: &mut PoolSummary) {
    let PoolSummary {
        provider,
        profiles,
        by_fingerprint,
        known_from,
    } = x;
    s(provider);
    all(profiles);
    all(by_fingerprint);
    s(known_from);
}

fn snapshot(x: &mut SnapshotSummary) {
    let SnapshotSummary {
        source,
        kind,
        time,
        basis,
        relation,
    } = x;
    s(source);
    s(kind);
    opt(time);
    s(basis);
    s(relation);
}

fn change(x: &mut SnapshotChange) {
    let SnapshotChange {
        provider,
        profile,
        before,
        after,
        at,
        from_snapshot,
        to_snapshot,
        evidence,
    } = x;
    s(provider);
    s(profile);
    s(before);
    s(after);
    opt(at);
    s(from_snapshot);
    s(to_snapshot);
    opt(evidence);
}

fn timeline(x: &mut RequestTimeline) {
    let RequestTimeline {
        id,
        host,
        provider,
        outcome,
        entries,
        counterfactual,
    } = x;
    s(id);
    opt(host);
    opt(provider);
    s(outcome);
    for e in entries {
        let TimelineEntry {
            time: _,
            time_text,
            source,
            line: _,
            what,
            profile,
            profile_basis,
            text,
        } = e;
        opt(time_text);
        s(source);
        s(what);
        opt(profile);
        opt(profile_basis);
        s(text);
    }
    if let Some(c) = counterfactual {
        let Counterfactual {
            outcome,
            served_by,
            attempts: _,
            wasted_attempts: _,
            wasted_wait_s: _,
            fallback_needed: _,
            notes,
        } = c;
        s(outcome);
        opt(served_by);
        all(notes);
    }
}

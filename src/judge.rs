//! Judge: run the rules over each host's correlated analysis and assemble the run's
//! [`Report`]: findings (selected rules, `--request`, severity overrides, baseline), the summary
//! and, when asked for, each request's timeline. The entry point is [`judge`].

use crate::baseline::Baseline;
use crate::correlate::{Analysis, StreamTotals};
use crate::error::Error;
use crate::ingest::Ingested;
use crate::model::{
    EventKind, Finding, FindingCounts, PoolSummary, Report, RequestTimeline, Severity,
    SourceSummary, Summary, TimelineEntry,
};
use crate::redact::redact;
use crate::rules;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which findings to report and how, built once from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run only these rules (none: every rule).
    pub rules: Vec<String>,
    /// Skip these rules.
    pub ignore: Vec<String>,
    /// Severity per rule id, over the rule's own.
    pub severity_overrides: BTreeMap<String, Severity>,
    /// Only this request's findings and timeline.
    pub request: Option<String>,
    /// Build each request's timeline.
    pub timelines: bool,
    /// Report only findings whose fingerprint is not in this baseline file.
    pub baseline: Option<PathBuf>,
    /// Record the fingerprints of the findings in this baseline file.
    pub write_baseline: Option<PathBuf>,
    /// The lowest severity that fails the run (exit code 1), if any.
    pub fail_on: Option<Severity>,
}

/// The result of `analyze`.
pub struct Outcome {
    pub report: Report,
    pub exit_code: i32,
}

/// The findings and report of a run: each host's analysis (in host order) judged alone, then
/// combined; `ing` brings the sources and the input's own warnings.
pub fn judge(
    shards: Vec<(crate::shard::HostKey, Analysis, StreamTotals)>,
    ing: Ingested,
    opts: &Options,
) -> Result<Outcome, Error> {
    let enabled = |id: &str| {
        (opts.rules.is_empty() || opts.rules.iter().any(|r| r == id))
            && !opts.ignore.iter().any(|r| r == id)
    };
    // Each host's report, in host order (the same at any thread count), then the whole.
    let parts: Vec<Report> = {
        use rayon::prelude::*;
        shards
            .par_iter()
            .map(|(_, analysis, totals)| {
                let mut r = shard_report(analysis, totals, &enabled, opts.timelines);
                // The sources of the whole run: they order the timelines of several hosts.
                r.summary.sources = ing.summaries.clone();
                r
            })
            .collect()
    };
    let ids: Vec<String> = shards
        .iter()
        .flat_map(|(_, a, _)| a.requests.iter().map(|r| r.id.clone()))
        .collect();
    let several_hosts = parts
        .iter()
        .flat_map(|p| p.summary.hosts.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    drop(shards);
    let Report {
        summary: mut combined,
        mut findings,
        mut timelines,
        ..
    } = crate::shard::combine(parts);
    if let Some(id) = &opts.request {
        let known = |k: &str| timelines.iter().any(|t| t.id == k);
        if !known(id) {
            let ids: Vec<String> = if several_hosts {
                timelines.iter().map(|t| t.id.clone()).collect()
            } else {
                ids
            };
            return Err(Error::Usage(unknown_request(id, &ids)));
        }
        findings.retain(|f| f.request.as_ref() == Some(id));
        timelines.retain(|tl| &tl.id == id);
    }
    let mut warnings = ing.warnings;
    for f in &mut findings {
        if let Some(sev) = opts.severity_overrides.get(f.rule) {
            f.severity = *sev;
        }
    }
    // Loaded before writing, so one file can be both compared against and updated.
    let baseline = opts
        .baseline
        .as_deref()
        .map(|path| Baseline::load(path).map(|b| (path, b)))
        .transpose()?;
    if let Some(path) = &opts.write_baseline {
        Baseline::of(&findings).save(path)?;
    }
    if let Some((path, baseline)) = baseline {
        let known = baseline.retain_new(&mut findings);
        if known > 0 {
            warnings.push(format!(
                "{known} finding(s) recorded in baseline {} not reported",
                path.display()
            ));
        }
    }
    let threshold = opts.fail_on;
    let exit_code = match threshold {
        Some(t) if findings.iter().any(|f| f.severity >= t) => 1,
        _ => 0,
    };
    warnings.append(&mut combined.warnings);
    combined.warnings = warnings;
    combined.sources = ing.summaries;
    combined.findings_by_severity = crate::shard::counts(&findings);
    Ok(Outcome {
        report: Report {
            tool_version: env!("CARGO_PKG_VERSION"),
            summary: combined,
            findings,
            timelines,
        },
        exit_code,
    })
}

/// One shard's report: its findings (before `--request`, severity overrides and baselines),
/// its summary (without the sources and the input's own warnings, which belong to the whole
/// run) and, when asked for, its timelines.
fn shard_report(
    analysis: &Analysis,
    totals: &StreamTotals,
    enabled: &(dyn Fn(&str) -> bool + Sync),
    want_timelines: bool,
) -> Report {
    let findings = rules::run(analysis, enabled);
    let mut summary = summarize(analysis, totals, Vec::new(), Vec::new(), &findings);
    let counterfactuals = crate::replay::all(analysis);
    summary.impact = Some(crate::replay::impact(analysis, &counterfactuals));
    let timelines = if want_timelines {
        let mut tls = timelines(analysis);
        for (tl, cf) in tls.iter_mut().zip(counterfactuals) {
            tl.counterfactual = Some(cf);
        }
        tls
    } else {
        Vec::new()
    };
    Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        summary,
        findings,
        timelines,
    }
}

/// `--request ID` names no request: say so, with the closest id or the first few ids.
fn unknown_request(id: &str, ids: &[String]) -> String {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let close = ids
        .iter()
        .map(|k| (strsim::levenshtein(id, k), *k))
        .filter(|(d, _)| *d <= (id.chars().count() / 3).max(2))
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let list = if ids.is_empty() {
        "the input holds no request".to_string()
    } else {
        let mut l = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        if ids.len() > 5 {
            l.push_str(&format!(", … {} in all", ids.len()));
        }
        format!("requests: {l}")
    };
    format!("--request {id}: no such request{close}; {list}")
}

fn summarize(
    a: &Analysis,
    totals: &StreamTotals,
    sources: Vec<SourceSummary>,
    mut warnings: Vec<String>,
    findings: &[Finding],
) -> Summary {
    let mut counts = FindingCounts::default();
    for f in findings {
        match f.severity {
            Severity::High => counts.high += 1,
            Severity::Medium => counts.medium += 1,
            Severity::Low => counts.low += 1,
            Severity::Info => counts.info += 1,
        }
    }
    if a.duplicates_dropped > 0 {
        warnings.push(format!(
            "{} records repeated across files (agent.log / errors.log / gateway.log) were counted once",
            a.duplicates_dropped
        ));
    }
    let epoch =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis() as f64 / 1000.0);
    let review = crate::correlate::review_snapshots(
        a,
        crate::correlate::LogSpan {
            first: epoch(totals.first_time),
            last: epoch(totals.last_time),
        },
    );
    if let Some(w) = &a.release_warning {
        warnings.push(w.clone());
    }
    let (merged, late) = a.console_witnesses;
    if merged + late > 0 {
        warnings.push(format!(
            "{merged} console attempt block(s) repeat a logger record of the same call and {late} late console-only request(s) repeat a logged one: each call counted once"
        ));
    }
    if a.echo_requests_dropped > 0 {
        warnings.push(format!(
            "{} request(s) in untimed console output repeat a timed log and were merged into it",
            a.echo_requests_dropped
        ));
    }
    let inferred_rotations = rules::inferred_rotations(a);
    Summary {
        sources,
        hosts: totals.hosts.iter().cloned().collect(),
        first_time: totals.first_time,
        last_time: totals.last_time,
        requests: a.requests.len() as u64 + totals.dropped_requests,
        attempts: a
            .requests
            .iter()
            .map(|r| r.attempts.len() as u64)
            .sum::<u64>()
            + totals.dropped_attempts,
        rotations: totals.rotations + inferred_rotations,
        rotations_inferred: inferred_rotations,
        fallbacks: a.requests.iter().map(|r| r.fallbacks.len() as u64).sum(),
        findings_by_severity: counts,
        hermes_version: a.opts.hermes_version.to_string(),
        hermes_release: a.release.clone(),
        pools: a
            .pools
            .pools
            .iter()
            .map(|p| PoolSummary {
                provider: p.key.clone(),
                profiles: p.members.iter().map(|m| m.label.clone()).collect(),
                by_fingerprint: p
                    .members
                    .iter()
                    .filter(|m| m.is_account)
                    .map(|m| m.label.clone())
                    .collect(),
                known_from: {
                    let mut from: Vec<&str> =
                        p.members.iter().map(|m| m.known_from.as_str()).collect();
                    from.sort();
                    from.dedup();
                    from.join(", ")
                },
            })
            .collect(),
        snapshots: review.snapshots,
        snapshot_notes: review.notes,
        snapshot_changes: review.changes,
        warnings,
        redacted: crate::redact::is_enabled(),
        impact: None,
    }
}

/// Per-request timelines for `--timeline`.
pub fn timelines(a: &Analysis) -> Vec<RequestTimeline> {
    a.requests
        .iter()
        .map(|r| {
            // Lines folded into an attempt (its attempt line after the stream failure).
            let secondary: std::collections::HashSet<usize> = r
                .attempts
                .iter()
                .flat_map(|at| at.events.iter().skip(1).copied())
                .collect();
            let mut entries = Vec::new();
            for &e in &r.events {
                let ev = &a.events[e];
                let attempt = r.attempt_at(e).map(|i| &r.attempts[i]);
                let what = match (&ev.kind, attempt) {
                    (_, Some(at)) if at.succeeded => "success",
                    (_, Some(_)) => "attempt",
                    (
                        EventKind::PoolRotated { .. }
                        | EventKind::PoolRecoveryRotated { .. }
                        | EventKind::ProfileRotation { .. },
                        _,
                    ) => "rotation",
                    (EventKind::PoolMarked { .. }, _) => "mark",
                    (EventKind::RetryScheduled { .. }, _) => "wait",
                    (
                        EventKind::FallbackActivated { .. }
                        | EventKind::FallbackNotice { .. }
                        | EventKind::FallbackSwitching { .. }
                        | EventKind::GatewayPrimaryFailed { .. },
                        _,
                    ) => "fallback",
                    (EventKind::PrimaryRestored { .. }, _) => "restore",
                    (EventKind::TerminalFailure { .. } | EventKind::NonRetryable { .. }, _) => {
                        "failure"
                    }
                    (EventKind::PoolNoAvailable, _) => "pool empty",
                    (k, _) => k.name(),
                };
                if attempt.is_none() && secondary.contains(&e) {
                    continue;
                }
                // A client built for one call is part of that call; a rebuilt client (rotation,
                // transport recovery, restore, refresh, model switch) changes what later calls
                // carry and where they go: the timeline shows it.
                let rebuild = match &ev.kind {
                    EventKind::ClientCreated {
                        reason, base_url, ..
                    } if is_client_rebuild(reason) => Some(format!(
                        "client rebuilt ({reason}){}",
                        base_url
                            .as_deref()
                            .map(|u| format!(" base_url={u}"))
                            .unwrap_or_default()
                    )),
                    EventKind::ClientCreated { .. } => continue,
                    _ => None,
                };
                let what = if rebuild.is_some() { "rebuild" } else { what };
                let text = match attempt {
                    Some(at) => {
                        let mut s = match at.counter {
                            Some((k, n)) => format!("attempt {k}/{n}"),
                            None if at.succeeded => "call".to_string(),
                            None => "uncounted call".to_string(),
                        };
                        if let Some(st) = at.status {
                            s.push_str(&format!(" HTTP {st}"));
                        }
                        if !at.succeeded {
                            s.push_str(&format!(" ({})", rules::class_text(at.class)));
                        }
                        if let Some(c) = &at.cooled {
                            s.push_str(&format!(" — profile cooled: {}", c.reason));
                        }
                        s
                    }
                    None => match &ev.kind {
                        EventKind::RetryScheduled {
                            wait_s,
                            attempt,
                            max,
                            ..
                        } => format!(
                            "wait {wait_s:.1} s{}",
                            match (attempt, max) {
                                (Some(k), Some(n)) => format!(" (attempt {k}/{n})"),
                                _ => String::new(),
                            }
                        ),
                        _ => {
                            // Redacted before the cut: a cut secret no longer matches.
                            rebuild.unwrap_or_else(|| {
                                redact(&ev.record.message).chars().take(160).collect()
                            })
                        }
                    },
                };
                entries.push(TimelineEntry {
                    time: a.times.get(e).copied().flatten(),
                    time_text: if ev.record.time.utc.is_none() {
                        ev.record.time.tod_ms.map(rules::fmt_tod)
                    } else {
                        None
                    },
                    source: a.source_name(e).to_string(),
                    line: ev.record.loc.line,
                    what: what.to_string(),
                    profile: attempt.and_then(|at| at.profile.clone()),
                    profile_basis: attempt.map(|at| match (at.basis, at.unknown_reason) {
                        (Some(b), _) => b.describe().to_string(),
                        (None, Some(why)) => format!("unknown: {why}"),
                        (None, None) => {
                            "unknown: no rotation, mark or account fingerprint names it".to_string()
                        }
                    }),
                    text: redact(&text).into_owned(),
                });
            }
            RequestTimeline {
                id: r.id.clone(),
                host: r.host.clone(),
                provider: r.primary_provider.clone(),
                outcome: r.outcome.as_str().to_string(),
                entries,
                counterfactual: None,
            }
        })
        .collect()
}

/// A client built to replace the request's client, not for one call.
fn is_client_rebuild(reason: &str) -> bool {
    matches!(
        reason,
        "credential_rotation"
            | "primary_recovery"
            | "restore_primary"
            | "switch_model"
            | "fallback_timeout_apply"
            | "credential_pool_refresh_failure"
    ) || reason.ends_with("_credential_refresh")
}

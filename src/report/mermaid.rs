//! Mermaid sequence diagrams of a request: participants are the gateway, each profile used (by
//! label) and the provider; each call is a message from its profile to the provider, waits,
//! marks, rotations, fallbacks and restores are notes, and each finding is a note where its
//! evidence sits. Requests with many calls are folded (`… 37 more attempts …`).
//!
//! All text is already redacted; it passes the redactor again (labels included) and is escaped
//! for Mermaid (`#`, `;`, `<`, `>` and quotes become entity codes, newlines become spaces).

use super::{truncate_chars, visible};
use crate::model::{Finding, RequestTimeline};
use crate::redact::redact;
use std::fmt::Write as _;

/// Attempts shown at each end of a folded request.
pub const FOLD_KEEP: usize = 6;

/// Escapes `s` for a Mermaid message, note or participant label.
pub fn esc(s: &str) -> String {
    let s = redact(s);
    let s = visible(&s, false);
    let s = truncate_chars(&s, 120);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '"' => out.push_str("#quot;"),
            '%' => out.push_str("#37;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            c => out.push(c),
        }
    }
    let t = out.trim();
    if t.is_empty() {
        "-".to_string()
    } else {
        t.to_string()
    }
}

/// Whether `f` belongs to `tl`.
pub fn finding_in(f: &Finding, tl: &RequestTimeline) -> bool {
    f.request.as_deref() == Some(tl.id.as_str())
}

/// The index of the timeline entry a finding is anchored at: its evidence line at the finding's
/// instant (the decisive event), else its last evidence line in the timeline, else the last
/// entry.
pub fn anchor(f: &Finding, tl: &RequestTimeline) -> usize {
    let is_evidence = |e: &crate::model::TimelineEntry| {
        f.evidence
            .iter()
            .any(|ev| ev.line == e.line && ev.source == e.source)
    };
    tl.entries
        .iter()
        .position(|e| f.time.is_some() && e.time == f.time && is_evidence(e))
        .or_else(|| tl.entries.iter().rposition(is_evidence))
        .unwrap_or(tl.entries.len().saturating_sub(1))
}

/// The participant index (1-based) of the profile a line names, longest label first.
fn named(profiles: &[String], text: &str) -> Option<usize> {
    profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| text.contains(p.as_str()))
        .max_by_key(|(_, p)| p.len())
        .map(|(i, _)| i + 1)
}

/// The sequence diagram of `tl` with `findings` anchored in it (without the fence).
pub fn diagram(tl: &RequestTimeline, findings: &[&Finding]) -> String {
    let mut profiles: Vec<String> = Vec::new();
    for e in &tl.entries {
        if matches!(e.what.as_str(), "attempt" | "success") {
            let p = e
                .profile
                .clone()
                .unwrap_or_else(|| "unknown profile".into());
            if !profiles.contains(&p) {
                profiles.push(p);
            }
        }
    }
    let provider = tl.provider.clone().unwrap_or_else(|| "provider".into());
    let mut d = String::from("sequenceDiagram\n");
    let _ = writeln!(d, "    participant G as gateway");
    for (i, p) in profiles.iter().enumerate() {
        let _ = writeln!(d, "    participant P{} as {}", i + 1, esc(p));
    }
    let _ = writeln!(d, "    participant X as {}", esc(&provider));
    let attempt_idx: Vec<usize> = tl
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.what.as_str(), "attempt" | "success"))
        .map(|(i, _)| i)
        .collect();
    // Entries strictly inside (fold_from, fold_to) are folded away.
    let fold = (attempt_idx.len() > 2 * FOLD_KEEP + 1).then(|| {
        (
            attempt_idx[FOLD_KEEP - 1],
            attempt_idx[attempt_idx.len() - FOLD_KEEP],
            attempt_idx.len() - 2 * FOLD_KEEP,
        )
    });
    let mut anchored: Vec<(usize, &Finding)> =
        findings.iter().map(|f| (anchor(f, tl), *f)).collect();
    anchored.sort_by_key(|(i, _)| *i);
    let mut pending: Vec<&Finding> = Vec::new();
    for (i, e) in tl.entries.iter().enumerate() {
        let folded = fold.is_some_and(|(lo, hi, _)| i > lo && i < hi);
        if let Some((lo, _, n)) = fold {
            if i == lo + 1 {
                let _ = writeln!(d, "    Note over G,X: … {n} more attempts …");
            }
        }
        if !folded {
            let text = esc(&e.text);
            match e.what.as_str() {
                "attempt" | "success" => {
                    let p = e
                        .profile
                        .clone()
                        .unwrap_or_else(|| "unknown profile".into());
                    let pi = profiles.iter().position(|q| *q == p).unwrap_or(0) + 1;
                    if e.what == "success" {
                        let _ = writeln!(d, "    P{pi}->>X: {text}");
                        let _ = writeln!(d, "    X-->>P{pi}: served");
                    } else {
                        let _ = writeln!(d, "    P{pi}-xX: {text}");
                    }
                }
                "wait" => {
                    let _ = writeln!(d, "    Note over G: {text}");
                }
                "rotation" => match named(&profiles, &e.text) {
                    Some(pi) => {
                        let _ = writeln!(d, "    G->>P{pi}: rotation: {text}");
                    }
                    None => {
                        let _ = writeln!(d, "    Note over G,X: rotation: {text}");
                    }
                },
                "mark" => match named(&profiles, &e.text) {
                    Some(pi) => {
                        let _ = writeln!(d, "    Note over P{pi}: mark: {text}");
                    }
                    None => {
                        let _ = writeln!(d, "    Note over G,X: mark: {text}");
                    }
                },
                "pool empty" => {
                    let _ = writeln!(d, "    Note over G,X: {}: {text}", e.what);
                }
                "fallback" | "restore" | "failure" => {
                    let _ = writeln!(d, "    Note over G,X: {}: {text}", e.what);
                }
                _ => {}
            }
        }
        pending.extend(anchored.iter().filter(|(a, _)| *a == i).map(|(_, f)| *f));
        if !folded || fold.is_some_and(|(_, hi, _)| i + 1 == hi) {
            for f in pending.drain(..) {
                let _ = writeln!(
                    d,
                    "    Note over G,X: ⚑ {} ({}): {}",
                    esc(f.rule),
                    f.severity.as_str(),
                    esc(&f.message)
                );
            }
        }
    }
    for f in pending {
        let _ = writeln!(
            d,
            "    Note over G,X: ⚑ {}: {}",
            esc(f.rule),
            esc(&f.message)
        );
    }
    if tl.entries.is_empty() {
        let _ = writeln!(d, "    Note over G,X: no timeline entries");
    }
    d
}

/// Every diagram of a report: one per timeline with a finding, with the request id.
pub fn diagrams(timelines: &[RequestTimeline], findings: &[Finding]) -> Vec<(String, String)> {
    timelines
        .iter()
        .filter_map(|tl| {
            let fs: Vec<&Finding> = findings.iter().filter(|f| finding_in(f, tl)).collect();
            (!fs.is_empty()).then(|| (tl.id.clone(), diagram(tl, &fs)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Severity, TimelineEntry};

    fn entry(what: &str, profile: Option<&str>, text: &str, line: u32) -> TimelineEntry {
        TimelineEntry {
            time: None,
            time_text: None,
            source: "agent.log".into(),
            line,
            what: what.into(),
            profile: profile.map(str::to_string),
            profile_basis: None,
            text: text.into(),
        }
    }

    #[test]
    fn long_requests_are_folded_and_text_is_escaped() {
        let mut entries = Vec::new();
        for i in 0..40 {
            entries.push(entry("attempt", Some("k1"), "attempt; #1 <x>", i));
        }
        let tl = RequestTimeline {
            id: "s#1".into(),
            host: None,
            provider: Some("custom".into()),
            outcome: "failed".into(),
            entries,
            counterfactual: None,
        };
        let f = Finding {
            rule: "missed-rotation",
            severity: Severity::High,
            message: "m".into(),
            time: None,
            time_text: None,
            request: Some("s#1".into()),
            host: None,
            provider: None,
            profile: None,
            evidence: vec![],
            notes: vec![],
        };
        let d = diagram(&tl, &[&f]);
        assert!(d.contains("… 28 more attempts …"), "{d}");
        assert_eq!(d.matches("P1-xX").count(), 12);
        assert!(d.contains("attempt#59; #35;1 #lt;x#gt;"));
        assert!(d.contains("⚑ missed-rotation"));
    }
}

//! The rule engine: one file per rule id, registered in [`RULES`]. Each rule is a pure function
//! from the correlated [`Analysis`] to findings.

mod client_defect_blamed_on_credential;
mod fallback_flapping;
mod fallback_not_activated;
mod fallback_to_same_backend;
mod false_restore;
mod misattributed_exhaustion;
mod missed_rotation;
mod pool_exhausted;
mod premature_fallback;
mod premature_restore;
mod quota_reported_as_auth;
mod quota_retried_as_transient;
mod retry_on_cooled_profile;
mod rotation_endpoint_switch;
mod rotation_on_transient_error;
mod shared_retry_budget;
mod silent_rotation;
mod stale_exhaustion;
mod strategy_violation;
mod summary;
mod wait_on_benched_seat;

pub use silent_rotation::inferred_rotations;

use crate::classify::quota::FailureClass;
use crate::correlate::{Analysis, Attempt, Cooling, Request};
use crate::model::{EventKind, Evidence, Finding, RuleInfo, Severity};
use crate::redact::redact;
use chrono::{DateTime, Utc};

/// A registered rule.
pub struct Rule {
    pub info: RuleInfo,
    pub check: fn(&Analysis, &mut Vec<Finding>),
}

/// Every rule, in catalog order.
pub static RULES: &[Rule] = &[
    misattributed_exhaustion::RULE,
    missed_rotation::RULE,
    retry_on_cooled_profile::RULE,
    shared_retry_budget::RULE,
    rotation_on_transient_error::RULE,
    rotation_endpoint_switch::RULE,
    premature_fallback::RULE,
    silent_rotation::RULE,
    strategy_violation::RULE,
    quota_reported_as_auth::RULE,
    quota_retried_as_transient::RULE,
    wait_on_benched_seat::RULE,
    false_restore::RULE,
    fallback_flapping::RULE,
    premature_restore::RULE,
    fallback_not_activated::RULE,
    client_defect_blamed_on_credential::RULE,
    pool_exhausted::RULE,
    stale_exhaustion::RULE,
    fallback_to_same_backend::RULE,
];

/// The static descriptions of all rules.
pub fn infos() -> Vec<RuleInfo> {
    RULES.iter().map(|r| r.info).collect()
}

/// The rule list as a Markdown table (the README's rules section).
pub fn markdown_table() -> String {
    let mut s = String::from("| rule | severity | what it reports |\n|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.info.id,
            r.info.severity.as_str(),
            r.info.summary
        ));
    }
    s
}

/// Look a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.info.id == id)
}

/// Run the selected rules and return findings sorted by time, then severity (high first), rule
/// and request, so output is deterministic.
pub fn run(analysis: &Analysis, enabled: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        if enabled(rule.info.id) {
            (rule.check)(analysis, &mut findings);
        }
    }
    sort(&mut findings);
    findings
}

/// Put findings in report order: time, then severity (high first), rule, request and first
/// evidence line. Stable: findings equal in all of these keep their order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(b.rule))
            .then(a.request.cmp(&b.request))
            .then(a.evidence.first().cmp(&b.evidence.first()))
    });
}

/// Evidence lines listed per finding; a request with thousands of retries keeps its report
/// readable (the count of the rest is noted).
const MAX_EVIDENCE: usize = 40;

/// Builds a finding with evidence drawn from events.
pub(crate) struct FindingBuilder<'a> {
    analysis: &'a Analysis,
    finding: Finding,
    anchor: Option<usize>,
}

impl<'a> FindingBuilder<'a> {
    pub fn new(analysis: &'a Analysis, info: &RuleInfo, message: String) -> Self {
        FindingBuilder {
            analysis,
            finding: Finding {
                rule: info.id,
                severity: info.severity,
                message,
                time: None,
                time_text: None,
                request: None,
                host: None,
                provider: None,
                profile: None,
                evidence: Vec::new(),
                notes: Vec::new(),
            },
            anchor: None,
        }
    }

    /// Say which snapshots list the pool members `names` of `provider` when no log line does:
    /// a snapshot tells who is in the pool, and its members are taken to have been members
    /// during the log.
    pub fn membership(mut self, provider: Option<&str>, names: &[String]) -> Self {
        let Some(pool) = provider.and_then(|p| self.analysis.pools.pool(p)) else {
            return self;
        };
        let mut from: Vec<&str> = pool
            .members
            .iter()
            .filter(|m| names.contains(&m.label))
            .filter_map(|m| {
                m.known_from
                    .strip_prefix("auth.json ")
                    .or_else(|| m.known_from.strip_prefix("hermes auth list "))
            })
            .collect();
        from.sort_unstable();
        from.dedup();
        if !from.is_empty() {
            let note = format!(
                "pool members {} are listed by {}, not by the log; a snapshot's members are taken as members during the log",
                join_names(names),
                from.join(", ")
            );
            self = self.note(note);
        }
        self
    }

    /// Say which release behaviour (`release::SEMANTICS`) the finding matches, when the applied
    /// release's row has it: `pick` returns the sentence for that row, or None.
    pub fn release_semantics(
        mut self,
        pick: impl Fn(&crate::release::Semantics) -> Option<&'static str>,
    ) -> Self {
        let version = self.analysis.opts.hermes_version;
        if let Some(s) = crate::release::semantics(version) {
            if let Some(what) = pick(s) {
                let how = match self.analysis.release.source.as_str() {
                    "flag" => "given with --hermes-version",
                    "detected" => "read from the logs",
                    _ => "the newest release, not shown by the logs",
                };
                let note = format!(
                    "Hermes {} {what} (release semantics of {version}, {how})",
                    s.range()
                );
                self = self.note(note);
            }
        }
        self
    }

    pub fn severity(mut self, s: Severity) -> Self {
        self.finding.severity = s;
        self
    }

    pub fn request(mut self, r: &Request) -> Self {
        self.finding.request = Some(r.id.clone());
        self.finding.host = r.host.clone();
        self
    }

    pub fn provider(mut self, p: Option<&str>) -> Self {
        self.finding.provider = p.map(str::to_string);
        self
    }

    pub fn profile(mut self, p: Option<&str>) -> Self {
        self.finding.profile = p.map(str::to_string);
        self
    }

    /// The decisive event: gives the finding its time.
    pub fn at(mut self, ev: usize) -> Self {
        self.anchor = Some(ev);
        self
    }

    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.finding.notes.push(n.into());
        self
    }

    /// Add an event (and its continuation lines) as evidence.
    pub fn event(mut self, ev: usize) -> Self {
        if let Some(e) = self.analysis.events.get(ev) {
            let source = self.analysis.source_name(ev).to_string();
            let r = &e.record;
            self.finding.evidence.push(Evidence {
                source: source.clone(),
                line: r.loc.line,
                text: redact(&r.raw).into_owned(),
            });
            for (line, text) in &r.continuation {
                self.finding.evidence.push(Evidence {
                    source: source.clone(),
                    line: *line,
                    text: redact(text).into_owned(),
                });
            }
        }
        self
    }

    pub fn events(mut self, evs: impl IntoIterator<Item = usize>) -> Self {
        for e in evs {
            self = self.event(e);
        }
        self
    }

    /// Evidence that is not a log line (an auth snapshot entry), described in `text`.
    pub fn evidence(mut self, source: &str, line: u32, text: String) -> Self {
        self.finding.evidence.push(Evidence {
            source: source.to_string(),
            line,
            text: redact(&text).into_owned(),
        });
        self
    }

    pub fn build(mut self) -> Finding {
        if let Some(ev) = self.anchor {
            self.finding.time = self.analysis.times.get(ev).copied().flatten();
            if let Some(e) = self.analysis.events.get(ev) {
                if e.record.time.utc.is_none() {
                    self.finding.time_text = e.record.time.tod_ms.map(fmt_tod);
                    if self.finding.time.is_some() {
                        self.finding.notes.push(
                            "time taken from the nearest timed line of the same source".into(),
                        );
                    }
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        self.finding
            .evidence
            .retain(|e| seen.insert((e.source.clone(), e.line)));
        self.finding.evidence.sort();
        if self.finding.evidence.len() > MAX_EVIDENCE {
            let omitted = self.finding.evidence.len() - MAX_EVIDENCE;
            let last = self.finding.evidence.pop();
            self.finding.evidence.truncate(MAX_EVIDENCE - 1);
            self.finding.evidence.extend(last);
            self.finding.notes.push(format!(
                "{omitted} more evidence lines of the same kind are not listed (the first and the last are)"
            ));
        }
        self.finding.message = redact(&self.finding.message).into_owned();
        for n in &mut self.finding.notes {
            *n = redact(n).into_owned();
        }
        self.finding
    }
}

/// `HH:MM:SS` (with `.mmm` when non-zero) from milliseconds since midnight.
pub fn fmt_tod(ms: u32) -> String {
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if milli == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{milli:03}")
    }
}

/// The endpoint (base URL, without a trailing slash, lower case) a call went to: its attempt
/// line's `base_url=`, else the client line built for it (`OpenAI client created (…)`) between
/// the previous call and this one.
pub fn attempt_endpoint(a: &Analysis, req: &Request, at: &Attempt) -> Option<String> {
    let norm = |u: &str| u.trim().trim_end_matches('/').to_ascii_lowercase();
    let own = at.events.iter().find_map(|&e| match &a.events[e].kind {
        EventKind::AttemptFailed {
            base_url: Some(u), ..
        } => Some(norm(u)),
        _ => None,
    });
    if own.is_some() {
        return own;
    }
    let &first = at.events.first()?;
    let prev = req
        .attempts
        .iter()
        .filter_map(|x| x.events.first().copied())
        .filter(|&x| x < first)
        .max();
    req.events
        .iter()
        .rev()
        .filter(|&&e| e < first && prev.is_none_or(|p| e > p))
        .find_map(|&e| match &a.events[e].kind {
            EventKind::ClientCreated {
                base_url: Some(u), ..
            } => Some(norm(u)),
            _ => None,
        })
}

/// `attempt k/N` or `an uncounted call` for messages.
pub fn attempt_name(a: &Attempt) -> String {
    match a.counter {
        Some((k, n)) => format!("attempt {k}/{n}"),
        None => "an uncounted call".to_string(),
    }
}

/// Note describing how an attempt's profile was known.
pub fn profile_note(a: &Attempt) -> Option<String> {
    let basis = a.basis?;
    let profile = a.profile.as_deref()?;
    Some(if basis.is_inferred() {
        format!(
            "profile {profile} is inferred from the account fingerprint (plan_type + resets_at) in the error body, not from a pool label"
        )
    } else if basis == crate::correlate::ProfileBasis::RebuiltClient {
        format!(
            "profile {profile} is inferred: the call went out on a client rebuilt from the turn's primary runtime, which carries the credential the turn started with ({profile}), not the entry the pool had rotated to"
        )
    } else {
        format!("profile {profile} is known from a {}", basis.describe())
    })
}

/// A sentence about a cooldown, with its reset time.
pub fn cooling_text(c: &Cooling) -> String {
    let mut s = c.reason.clone();
    if c.inferred {
        s.push_str(" (the log has no date for this line: compared by request order)");
    }
    s
}

/// Every attempt as (first event, request index, attempt index), in event order.
pub(crate) fn attempt_index(a: &Analysis) -> Vec<(usize, usize, usize)> {
    let mut idx: Vec<(usize, usize, usize)> = a
        .requests
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| {
            r.attempts
                .iter()
                .enumerate()
                .filter_map(move |(ai, at)| at.events.first().map(|&e| (e, ri, ai)))
        })
        .collect();
    idx.sort();
    idx
}

/// Restores of a primary whose provider is named: (event, normalised provider, model).
pub(crate) fn restores(a: &Analysis) -> impl Iterator<Item = (usize, String, &str)> {
    a.events
        .iter()
        .enumerate()
        .filter_map(|(i, ev)| match &ev.kind {
            EventKind::PrimaryRestored {
                provider: Some(p),
                model,
                ..
            } => Some((i, crate::correlate::providers::normalize(p), model.as_str())),
            _ => None,
        })
}

/// Wording for a failure class in messages.
pub fn class_text(c: FailureClass) -> &'static str {
    match c {
        FailureClass::QuotaWall => "quota / usage-limit",
        FailureClass::Billing => "billing",
        FailureClass::AuthInvalid => "authentication",
        FailureClass::RateLimit => "plain rate-limit",
        FailureClass::Transient => "transient",
        FailureClass::ClientDefect => "client-side (no credential sent)",
        FailureClass::Other => "other",
    }
}

/// Format an instant for messages.
pub fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "an unknown time".into())
}

/// "X was", "X and Y were", or "at least one of X, Y and Z was" when availability is inferred.
pub fn available_phrase(names: &[String], inferred: bool) -> String {
    if inferred && names.len() > 1 {
        format!("at least one of {} was", join_names(names))
    } else if names.len() == 1 {
        format!("{} was", join_names(names))
    } else {
        format!("{} were", join_names(names))
    }
}

/// Join names for messages: `a`, `a and b`, `a, b and c`; long lists keep their first and last
/// few names and count the rest.
pub fn join_names(names: &[String]) -> String {
    const KEEP: usize = 4;
    if names.len() > 2 * KEEP + 1 {
        return format!(
            "{}, … {} more …, {} and {}",
            names[..KEEP].join(", "),
            names.len() - KEEP - (KEEP - 1) - 1,
            names[names.len() - KEEP..names.len() - 1].join(", "),
            names[names.len() - 1]
        );
    }
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_ids_are_unique_and_documented() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.info.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for r in RULES {
            for section in [
                "## What it detects",
                "## Why it matters",
                "## Example",
                "## Not triggered by",
            ] {
                assert!(
                    r.info.doc.contains(section),
                    "{} lacks {section}",
                    r.info.id
                );
            }
            assert!(!r.info.summary.is_empty());
        }
    }

    #[test]
    fn tod_format() {
        assert_eq!(fmt_tod(67_268_000), "18:41:08");
        assert_eq!(fmt_tod(67_268_123), "18:41:08.123");
    }
}

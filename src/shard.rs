//! Fleet scale: one analysis per emitter host, and reports of several hosts combined into one.
//!
//! A run over a journal of several hosts analyzes each host's lines alone (in parallel), then
//! [`combine`]s the per-host reports in host order: the report is byte-identical at any thread
//! count, and each host's findings are those its lines give alone. `merge` combines JSON
//! reports made elsewhere (one CI job per host) with the same [`combine`], so merging the
//! per-host reports gives the report of one run over all their input.
//!
//! Which shard a record belongs to ([`Partition`]):
//! - a record that names its host (journal hostname) belongs to that host;
//! - when the input names at most one host, everything (agent.log, errors.log, console output,
//!   snapshots) belongs to that one host: the files of one machine read together, as always;
//! - when it names several, a record without a host cannot be placed on a machine: its lines
//!   form a shard of their own (no host), which sees none of the hosts' pools;
//! - an auth.json snapshot or `hermes auth list` capture belongs to the host its path names
//!   (`gw-2/auth.json`, `auth-gw-2.json`) when it names exactly one; otherwise it goes with the
//!   records without a host. A snapshot is one machine's pool: it never proves a cooldown, a
//!   pool size or a mark on another host.

use crate::correlate::{self, Analysis, AuthInput, AuthListInput, CorrelateOptions, StreamTotals};
use crate::model::Event;
use crate::model::{FindingCounts, Impact, PoolSummary, Report, Severity};
use crate::release::Fingerprint;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A shard's host: `None` for the lines that name no host.
pub type HostKey = Option<String>;

/// Where snapshots go once the hosts are known.
pub struct Partition {
    /// Named hosts of the input, in name order.
    pub hosts: Vec<String>,
}

impl Partition {
    /// Whether the input is split at all (two or more named hosts).
    pub fn split(&self) -> bool {
        self.hosts.len() > 1
    }

    /// The shard of a record naming `host`.
    pub fn of_record(&self, host: Option<&str>) -> HostKey {
        if self.split() {
            host.map(str::to_string)
        } else {
            self.hosts.first().cloned()
        }
    }

    /// The shard of a snapshot read from `name`: the one host its path names, else the shard
    /// without a host (or the only host when there is one).
    pub fn of_snapshot(&self, name: &str) -> HostKey {
        if !self.split() {
            return self.hosts.first().cloned();
        }
        let named: Vec<&String> = self
            .hosts
            .iter()
            .filter(|h| path_names_host(name, h))
            .collect();
        match named.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    }

    /// Hand each snapshot to its shard; a warning for each snapshot of a split input that
    /// names no host.
    pub fn snapshots(
        &self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<HostKey, (Vec<AuthInput>, Vec<AuthListInput>)> {
        let mut out: BTreeMap<HostKey, (Vec<AuthInput>, Vec<AuthListInput>)> = BTreeMap::new();
        let mut unplaced = |name: &str, key: &HostKey| {
            if self.split() && key.is_none() {
                warnings.push(format!(
                    "{name}: names none of the hosts ({}), so it says nothing about their pools; put each host's snapshot under a directory named after the host",
                    self.hosts.join(", ")
                ));
            }
        };
        for a in auths {
            let key = self.of_snapshot(&a.name);
            unplaced(&a.name, &key);
            out.entry(key).or_default().0.push(a);
        }
        for l in lists {
            let key = self.of_snapshot(&l.name);
            unplaced(&l.name, &key);
            out.entry(key).or_default().1.push(l);
        }
        out
    }
}

/// The whole-input path: partition the events by host (see [`crate::shard`]) and correlate
/// each host's events alone, in parallel; (host, analysis, totals) in host order.
pub fn correlate_shards(
    events: Vec<Event>,
    sources: Vec<String>,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    copts: CorrelateOptions,
    warnings: &mut Vec<String>,
) -> Vec<(crate::shard::HostKey, Analysis, StreamTotals)> {
    use rayon::prelude::*;
    let mut hosts: Vec<String> = events
        .iter()
        .filter_map(|e| e.record.host.clone())
        .collect();
    hosts.sort();
    hosts.dedup();
    let partition = crate::shard::Partition { hosts };
    let mut by_host: BTreeMap<crate::shard::HostKey, Vec<Event>> = BTreeMap::new();
    let mut fleet = crate::release::Fingerprint::default();
    let split = partition.split();
    for e in events {
        if split {
            fleet.observe(&e);
        }
        by_host
            .entry(partition.of_record(e.record.host.as_deref()))
            .or_default()
            .push(e);
    }
    let mut snaps = partition.snapshots(auths, lists, warnings);
    for k in snaps.keys() {
        by_host.entry(k.clone()).or_default();
    }
    if by_host.is_empty() {
        by_host.insert(partition.of_record(None), Vec::new());
    }
    let shards: Vec<_> = by_host
        .into_iter()
        .map(|(h, evs)| {
            let (a, l) = snaps.remove(&h).unwrap_or_default();
            (h, evs, a, l)
        })
        .collect();
    shards
        .into_par_iter()
        .map(|(h, evs, a, l)| {
            let mut opts = copts.clone();
            if split {
                opts.fleet_fingerprint = Some(fleet.clone());
            }
            let analysis = correlate::correlate(evs, sources.clone(), a, l, opts);
            let totals = totals_of(&analysis);
            (h, analysis, totals)
        })
        .collect()
}

/// Counts over every event of a whole-input analysis (a streamed one counts as it goes).
fn totals_of(a: &Analysis) -> StreamTotals {
    let mut totals = StreamTotals::default();
    for (e, t) in a.events.iter().zip(&a.times) {
        totals.count(e, *t);
    }
    totals
}

/// Whether a path names a host: a component equal to it, or a file name holding it between
/// separators (`auth-gw-2.json`, `gw-2.auth.json`).
fn path_names_host(name: &str, host: &str) -> bool {
    Path::new(name).components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c == host
            || c.split(|ch: char| !(ch.is_alphanumeric() || ch == '-' || ch == '_'))
                .any(|part| part == host)
            || c.strip_prefix("auth-")
                .or_else(|| c.strip_prefix("auth_"))
                .is_some_and(|rest| rest.split('.').next() == Some(host))
    })
}

/// Combine reports of disjoint parts of one input (one per host, in host order) into the report
/// of the whole: counts add up, lists are joined, findings are put in report order, request ids
/// get their host prefix when several hosts are present (as a run over all of them names them).
pub fn combine(parts: Vec<Report>) -> Report {
    let mut hosts: Vec<String> = parts
        .iter()
        .flat_map(|p| p.summary.hosts.iter().cloned())
        .collect();
    hosts.sort();
    hosts.dedup();
    let several = hosts.len() > 1;
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Report {
            tool_version: env!("CARGO_PKG_VERSION"),
            summary: Default::default(),
            findings: Vec::new(),
            timelines: Vec::new(),
        };
    };
    let rest: Vec<Report> = parts.collect();
    let releases_agree = rest
        .iter()
        .all(|p| p.summary.hermes_release == first.summary.hermes_release);
    let mut fingerprint = Fingerprint::default();
    let mut flag = None;
    let mut out = first;
    out.tool_version = env!("CARGO_PKG_VERSION");
    if !releases_agree {
        flag = flagged(&out);
        fingerprint.absorb(&fingerprint_of(&out));
    }
    let mut warnings = Warnings::default();
    warnings.extend(std::mem::take(&mut out.summary.warnings));
    let mut lanes = vec![std::mem::take(&mut out.timelines)];
    for p in rest {
        let s = p.summary;
        let o = &mut out.summary;
        if !releases_agree {
            let part = Report {
                tool_version: "",
                summary: s.clone(),
                findings: Vec::new(),
                timelines: Vec::new(),
            };
            flag = flag.or(flagged(&part));
            fingerprint.absorb(&fingerprint_of(&part));
        }
        for src in s.sources {
            if !o.sources.contains(&src) {
                o.sources.push(src);
            }
        }
        o.first_time = min_opt(o.first_time, s.first_time);
        o.last_time = o.last_time.max(s.last_time);
        o.requests += s.requests;
        o.attempts += s.attempts;
        o.rotations += s.rotations;
        o.rotations_inferred += s.rotations_inferred;
        o.fallbacks += s.fallbacks;
        for pool in s.pools {
            add_pool(&mut o.pools, pool);
        }
        extend_new(&mut o.snapshots, s.snapshots);
        extend_new(&mut o.snapshot_notes, s.snapshot_notes);
        extend_new(&mut o.snapshot_changes, s.snapshot_changes);
        warnings.extend(s.warnings);
        o.redacted &= s.redacted;
        o.impact = match (o.impact.take(), s.impact) {
            (Some(a), Some(b)) => Some(add_impact(a, b)),
            (a, b) => a.or(b),
        };
        out.findings.extend(p.findings);
        lanes.push(p.timelines);
    }
    out.timelines = interleave(lanes, &out.summary.sources);
    out.summary.hosts = hosts;
    if !releases_agree {
        let (release, warning) = crate::release::resolve(&fingerprint, flag);
        out.summary.hermes_version = release.applied.clone();
        out.summary.hermes_release = release;
        if let Some(w) = warning {
            warnings.extend([w]);
        }
    }
    let mut warnings = warnings.into_vec();
    // In the order one run gives them: about the input, the baseline, then the analysis.
    warnings.sort_by_key(|w| warning_rank(w));
    out.summary.warnings = warnings;
    if several {
        for f in &mut out.findings {
            let Some(h) = &f.host else { continue };
            if let Some(id) = &mut f.request {
                prefix(id, h);
            }
            prefix_mentions(&mut f.message, h);
            f.notes.iter_mut().for_each(|n| prefix_mentions(n, h));
        }
        for t in &mut out.timelines {
            let Some(h) = &t.host else { continue };
            prefix(&mut t.id, h);
            if let Some(cf) = &mut t.counterfactual {
                cf.notes.iter_mut().for_each(|n| prefix_mentions(n, h));
            }
        }
    }
    crate::rules::sort(&mut out.findings);
    out.summary.findings_by_severity = counts(&out.findings);
    out
}

/// Where a warning stands in a report: those about the input first, then the baseline's, then
/// the analysis' (repeated records, the release, console witnesses, echoed requests), as
/// `analyze` writes them.
fn warning_rank(w: &str) -> u8 {
    let counted = |what: &str| {
        w.trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with(what)
    };
    if counted(" finding(s) recorded in baseline ") {
        1
    } else if counted(" records repeated across files") {
        2
    } else if w.starts_with("the hosts run different Hermes releases")
        || w.starts_with("the log shapes match no single Hermes release")
        || (w.starts_with("--hermes-version ") && w.contains("disagrees with the logs"))
    {
        3
    } else if counted(" console attempt block(s)") {
        4
    } else if counted(" request(s) in untimed console output") {
        5
    } else {
        0
    }
}

/// The timelines of several parts in the order one run lists its requests: by their first
/// line in the merged order (untimed first, then time, source, line); each part keeps its own
/// order.
fn interleave(
    lanes: Vec<Vec<crate::model::RequestTimeline>>,
    sources: &[crate::model::SourceSummary],
) -> Vec<crate::model::RequestTimeline> {
    let source_at = |name: &str| sources.iter().position(|s| s.name == name);
    let key = |t: &crate::model::RequestTimeline| {
        t.entries
            .first()
            .map(|e| (e.time, source_at(&e.source), e.line))
    };
    let mut lanes: Vec<std::collections::VecDeque<_>> = lanes.into_iter().map(Into::into).collect();
    let mut out = Vec::new();
    loop {
        let next = lanes
            .iter()
            .enumerate()
            .filter_map(|(k, l)| l.front().map(|t| (key(t), k)))
            .min();
        let Some((_, k)) = next else { break };
        if let Some(t) = lanes[k].pop_front() {
            out.push(t);
        }
    }
    out
}

/// Severity counts of findings.
pub fn counts(findings: &[crate::model::Finding]) -> FindingCounts {
    let mut c = FindingCounts::default();
    for f in findings {
        match f.severity {
            Severity::High => c.high += 1,
            Severity::Medium => c.medium += 1,
            Severity::Low => c.low += 1,
            Severity::Info => c.info += 1,
        }
    }
    c
}

/// A request id of one host's run (`pid 3101#1`) as a run over several hosts names it
/// (`gw-2 pid 3101#1`).
fn prefix(id: &mut String, host: &str) {
    if id.starts_with("pid ") {
        *id = format!("{host} {id}");
    }
}

/// Mentions of another request of the same host in a text (`from request pid 3101#2`), named as
/// a run over several hosts names them.
fn prefix_mentions(text: &mut String, host: &str) {
    if text.contains("request pid ") {
        *text = text.replace("request pid ", &format!("request {host} pid "));
    }
}

/// The `--hermes-version` a report was made with, if any.
fn flagged(r: &Report) -> Option<crate::correlate::HermesVersion> {
    let rel = &r.summary.hermes_release;
    (rel.source == "flag")
        .then(|| rel.applied.parse().ok())
        .flatten()
}

/// The release signals a report's summary shows, as its host's lines (when it has one host).
fn fingerprint_of(r: &Report) -> Fingerprint {
    let host = match r.summary.hosts.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    Fingerprint::from_basis(host, &r.summary.hermes_release.basis)
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn extend_new<T: PartialEq>(to: &mut Vec<T>, from: Vec<T>) {
    for x in from {
        if !to.contains(&x) {
            to.push(x);
        }
    }
}

/// One provider's pool as several hosts know it: every member any host names.
fn add_pool(pools: &mut Vec<PoolSummary>, pool: PoolSummary) {
    let Some(known) = pools.iter_mut().find(|p| p.provider == pool.provider) else {
        pools.push(pool);
        return;
    };
    extend_new(&mut known.profiles, pool.profiles);
    extend_new(&mut known.by_fingerprint, pool.by_fingerprint);
    let mut from: Vec<String> = known
        .known_from
        .split(", ")
        .chain(pool.known_from.split(", "))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    from.sort();
    from.dedup();
    known.known_from = from.join(", ");
}

fn add_impact(mut a: Impact, b: Impact) -> Impact {
    a.failed_requests += b.failed_requests;
    a.avoidable_failures += b.avoidable_failures;
    a.avoidable_fallbacks += b.avoidable_fallbacks;
    a.wasted_attempts += b.wasted_attempts;
    a.wasted_wait_s += b.wasted_wait_s;
    a.undecided += b.undecided;
    let mut by: BTreeMap<String, u64> = a.served_by.into_iter().collect();
    for (label, n) in b.served_by {
        *by.entry(label).or_default() += n;
    }
    a.served_by = by.into_iter().collect();
    a
}

/// Warnings of several parts: a warning that opens with a count (`3 records repeated …`) is
/// one warning whose counts add up; any other is kept once.
#[derive(Default)]
struct Warnings {
    list: Vec<(String, Vec<u64>, String)>,
}

impl Warnings {
    fn extend(&mut self, ws: impl IntoIterator<Item = String>) {
        for w in ws {
            let counted = w.starts_with(|c: char| c.is_ascii_digit());
            let (template, numbers) = if counted {
                split_numbers(&w)
            } else {
                (w.clone(), Vec::new())
            };
            match self.list.iter_mut().find(|(t, _, _)| *t == template) {
                Some((_, sum, text)) if counted && sum.len() == numbers.len() => {
                    for (s, n) in sum.iter_mut().zip(&numbers) {
                        *s += n;
                    }
                    *text = fill(&template, sum);
                }
                Some(_) => {}
                None => self.list.push((template, numbers, w)),
            }
        }
    }

    fn into_vec(self) -> Vec<String> {
        self.list.into_iter().map(|(_, _, w)| w).collect()
    }
}

/// A text with each run of digits replaced by `#`, and the numbers.
fn split_numbers(text: &str) -> (String, Vec<u64>) {
    let mut template = String::with_capacity(text.len());
    let mut numbers = Vec::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\u{0}')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            numbers.push(digits.parse().unwrap_or(0));
            digits.clear();
            template.push('#');
        }
        if c != '\u{0}' {
            template.push(c);
        }
    }
    (template, numbers)
}

fn fill(template: &str, numbers: &[u64]) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut n = numbers.iter();
    for c in template.chars() {
        match (c, n.clone().next()) {
            ('#', Some(v)) => {
                n.next();
                out.push_str(&v.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// Why `merge` refused its input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot read: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a hermes-forensics JSON report ({why}); make one with `--format json`")]
    NotAReport { path: String, why: String },
    #[error(
        "{path}: JSON report of schema_version {found}, this build reads {expected}; re-run the analysis with this version"
    )]
    Schema {
        path: String,
        found: u64,
        expected: u32,
    },
    #[error("{first} and {second} are the same report: give each shard once")]
    Same { first: String, second: String },
    #[error(
        "{first} and {second} overlap: both cover host {host} from {from} to {to}; merge shards of a host only when their times do not overlap"
    )]
    Overlap {
        first: String,
        second: String,
        host: String,
        from: String,
        to: String,
    },
    #[error("merge needs at least one report")]
    Nothing,
}

/// One report read back for `merge`.
struct Shard {
    path: String,
    text: String,
    report: Report,
}

/// Read a JSON report written by `--format json`.
fn load(path: &Path) -> Result<Shard, MergeError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| MergeError::Io {
        path: name.clone(),
        err,
    })?;
    let not = |why: String| MergeError::NotAReport {
        path: name.clone(),
        why,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| not(format!("not JSON: {e}")))?;
    let tool = value
        .pointer("/tool/name")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if tool != crate::report::TOOL_NAME {
        return Err(not("no `tool.name` \"hermes-forensics\"".into()));
    }
    let version = value
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| not("no `schema_version`".into()))?;
    let expected = crate::report::json::SCHEMA_VERSION;
    if version != u64::from(expected) {
        return Err(MergeError::Schema {
            path: name,
            found: version,
            expected,
        });
    }
    let doc: Document = serde_json::from_value(value).map_err(|e| not(e.to_string()))?;
    let findings = doc
        .findings
        .into_iter()
        .map(|f| {
            let rule = crate::rules::find(&f.rule)
                .ok_or_else(|| not(format!("unknown rule id {:?}", f.rule)))?;
            Ok(crate::model::Finding {
                rule: rule.info.id,
                severity: f.severity,
                message: f.message,
                time: f.time,
                time_text: f.time_text,
                request: f.request,
                host: f.host,
                provider: f.provider,
                profile: f.profile,
                evidence: f.evidence,
                notes: f.notes,
            })
        })
        .collect::<Result<Vec<_>, MergeError>>()?;
    Ok(Shard {
        path: name,
        text,
        report: Report {
            tool_version: env!("CARGO_PKG_VERSION"),
            summary: doc.summary,
            findings,
            timelines: doc.timelines.unwrap_or_default(),
        },
    })
}

/// The parts of a JSON report `merge` reads back (see [`crate::report::json`]).
#[derive(serde::Deserialize)]
struct Document {
    summary: crate::model::Summary,
    findings: Vec<FindingDoc>,
    #[serde(default)]
    timelines: Option<Vec<crate::model::RequestTimeline>>,
}

/// A finding as the JSON report writes it (see [`crate::model::Finding`]).
#[derive(serde::Deserialize)]
struct FindingDoc {
    rule: String,
    severity: Severity,
    message: String,
    time: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    time_text: Option<String>,
    request: Option<String>,
    #[serde(default)]
    host: Option<String>,
    provider: Option<String>,
    profile: Option<String>,
    evidence: Vec<crate::model::Evidence>,
    notes: Vec<String>,
}

/// `merge`: read the reports, refuse a report given twice and shards of one host whose times
/// overlap, and combine them in host order (then time).
/// `need_timelines`: the output draws timelines (`--timeline`, markdown, html, github); a report
/// of requests without them is named in a warning.
pub fn merge(paths: &[PathBuf], need_timelines: bool) -> Result<Report, MergeError> {
    if paths.is_empty() {
        return Err(MergeError::Nothing);
    }
    let shards = paths
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, a) in shards.iter().enumerate() {
        for b in &shards[i + 1..] {
            if a.text == b.text {
                return Err(MergeError::Same {
                    first: a.path.clone(),
                    second: b.path.clone(),
                });
            }
            if let Some(host) = shared_host(&a.report, &b.report) {
                let (sa, sb) = (&a.report.summary, &b.report.summary);
                let overlap = match (sa.first_time, sa.last_time, sb.first_time, sb.last_time) {
                    (Some(a0), Some(a1), Some(b0), Some(b1)) => a0 <= b1 && b0 <= a1,
                    // A shard without times cannot be placed: it may overlap anything.
                    _ => true,
                };
                if overlap {
                    let t = |t: Option<chrono::DateTime<chrono::Utc>>| {
                        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                            .unwrap_or_else(|| "an unknown time".into())
                    };
                    return Err(MergeError::Overlap {
                        first: a.path.clone(),
                        second: b.path.clone(),
                        host,
                        from: t(sa.first_time.max(sb.first_time)),
                        to: t(min_opt(sa.last_time, sb.last_time)),
                    });
                }
            }
        }
    }
    let bare: Vec<String> = shards
        .iter()
        .filter(|s| s.report.timelines.is_empty() && s.report.summary.requests > 0)
        .map(|s| s.path.clone())
        .collect();
    let mut reports: Vec<Report> = shards.into_iter().map(|s| s.report).collect();
    reports.sort_by(|a, b| {
        a.summary
            .hosts
            .cmp(&b.summary.hosts)
            .then(a.summary.first_time.cmp(&b.summary.first_time))
    });
    let mut merged = combine(reports);
    if need_timelines && !bare.is_empty() {
        merged.summary.warnings.push(format!(
            "{}: report(s) without timelines, so their requests are not drawn (make them with `--format json --timeline`)",
            bare.join(", ")
        ));
    }
    Ok(merged)
}

/// A host both reports cover (a report naming no host covers the unnamed one).
fn shared_host(a: &Report, b: &Report) -> Option<String> {
    let (ha, hb) = (&a.summary.hosts, &b.summary.hosts);
    if ha.is_empty() && hb.is_empty() {
        return Some("(unnamed)".into());
    }
    ha.iter().find(|h| hb.contains(h)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_warnings_add_up_and_others_stay_once() {
        let mut w = Warnings::default();
        w.extend(["3 records repeated across files".to_string(), "a".into()]);
        w.extend(["4 records repeated across files".to_string(), "a".into()]);
        assert_eq!(
            w.into_vec(),
            vec!["7 records repeated across files".to_string(), "a".into()]
        );
    }

    #[test]
    fn a_snapshot_belongs_to_the_host_its_path_names() {
        let p = Partition {
            hosts: vec!["gw-1".into(), "gw-2".into()],
        };
        assert_eq!(p.of_snapshot("gw-2/auth.json"), Some("gw-2".into()));
        assert_eq!(p.of_snapshot("auth-gw-1.json"), Some("gw-1".into()));
        assert_eq!(p.of_snapshot("auth.json"), None);
        let close = Partition {
            hosts: vec!["gw-1".into(), "gw-10".into()],
        };
        assert_eq!(close.of_snapshot("auth-gw-10.json"), Some("gw-10".into()));
        assert_eq!(
            close.of_snapshot("snap/gw-1/auth.json"),
            Some("gw-1".into())
        );
        let one = Partition {
            hosts: vec!["gw-1".into()],
        };
        assert_eq!(one.of_snapshot("auth.json"), Some("gw-1".into()));
    }
}

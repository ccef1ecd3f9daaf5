//! A model of each provider's credential pool: members, priorities and cooldowns, built from
//! auth snapshots and log lines and replayed through the log in time order.

use super::cooldown::{exhausted_ttl, TtlCause};
use super::{providers, AuthInput, AuthListInput, Cooling, FallbackExit, Request};
use crate::classify::quota::FailureClass;
use crate::model::{ErrorDetails, Event, EventKind};
use crate::release::HermesVersion;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

/// Display name of an account known only by its fingerprint.
pub fn account_name(plan_type: &str, resets_at: Option<f64>) -> String {
    match resets_at {
        Some(r) => format!("account[plan_type={plan_type}, resets_at={r:.0}]"),
        None => format!("account[plan_type={plan_type}]"),
    }
}

/// Cooldown status of a profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    Exhausted,
    Dead,
}

/// One profile (pool entry, or an account known only by its fingerprint).
#[derive(Debug, Clone)]
pub struct ProfileState {
    pub label: String,
    pub id: Option<String>,
    pub priority: Option<i64>,
    /// Known only from an account fingerprint in error bodies (label unknown).
    pub is_account: bool,
    /// Where the member is known from (`auth.json NAME`, `hermes auth list NAME`, `log lines`).
    pub known_from: String,
    pub status: Status,
    pub cooling: Option<Cooling>,
    /// The auth snapshot line of this entry, for evidence.
    pub snapshot_line: Option<(String, u32)>,
    /// What snapshots said of this entry, each holding from the time it records.
    pub observed: Vec<Observation>,
    /// Hosts whose log lines named this member (empty: lines that name no host, or snapshots).
    pub seen_on: BTreeSet<String>,
}

/// What one snapshot said of one entry. A snapshot is an observation at a time: the state holds
/// from the time it records (the entry's `last_status_at`, a `hermes auth reset`), never before;
/// a state without a recorded time is taken as at or after the end of the log.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Epoch seconds from which the state holds; None = unknown (at or after the log's end).
    pub from: Option<f64>,
    pub status: Status,
    /// Cooling details of an exhausted or dead state.
    pub cooling: Option<Cooling>,
    /// Snapshot name.
    pub source: String,
    /// 1-based line of the entry or row in the snapshot.
    pub line: u32,
}

/// A profile benched by the log (a profile-level failure or a mark line), for reconciling
/// snapshots with the log.
#[derive(Debug, Clone)]
pub struct LogBench {
    pub provider: String,
    pub label: String,
    pub event: usize,
    pub at: Option<f64>,
    pub until: Option<f64>,
    pub dead: bool,
}

impl ProfileState {
    /// Bench this profile from event `since` at `at`: dead (until re-auth) or exhausted until
    /// `until`.
    fn bench(
        &mut self,
        since: usize,
        at: (Option<f64>, Option<String>),
        dead: bool,
        until: Option<f64>,
        reason: String,
    ) {
        let (at, host) = at;
        self.status = if dead {
            Status::Dead
        } else {
            Status::Exhausted
        };
        self.cooling = Some(Cooling {
            since_event: Some(since),
            since_snapshot: None,
            until: if dead { None } else { until },
            from: at,
            host,
            dead,
            reason,
            inferred: false,
        });
    }

    fn new(label: String, known_from: String, is_account: bool) -> Self {
        ProfileState {
            label,
            id: None,
            priority: None,
            is_account,
            known_from,
            status: Status::Ok,
            cooling: None,
            snapshot_line: None,
            observed: Vec::new(),
            seen_on: BTreeSet::new(),
        }
    }
}

/// One provider's pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Normalised provider (`custom`, `openai-codex`).
    pub provider: String,
    /// Pool key as written in auth.json (`custom:fakeprimary`), or the provider.
    pub key: String,
    pub members: Vec<ProfileState>,
    /// Members came from an auth snapshot or an auth list (the pool's size is known).
    pub size_known: bool,
}

impl Pool {
    /// The member a snapshot lists as `label` (or `id`), created when new.
    fn snapshot_member(
        &mut self,
        label: &str,
        id: Option<&str>,
        priority: Option<i64>,
        known_from: impl FnOnce() -> String,
        line: (&str, u32),
    ) -> &mut ProfileState {
        let found = self.members.iter().position(|m| {
            !m.is_account && (m.label == label || (id.is_some() && m.id.as_deref() == id))
        });
        let i = match found {
            Some(i) => i,
            None => {
                let mut m = ProfileState::new(label.to_string(), known_from(), false);
                m.id = id.map(str::to_string);
                m.snapshot_line = Some((line.0.to_string(), line.1));
                self.members.push(m);
                self.members.len() - 1
            }
        };
        let m = &mut self.members[i];
        if m.priority.is_none() {
            m.priority = priority;
        }
        if m.id.is_none() {
            m.id = id.map(str::to_string);
        }
        m
    }
}

/// Profiles available at a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Availability {
    /// Candidate names.
    pub names: Vec<String>,
    /// How many of them are really available; less than `names.len()` when seen accounts of
    /// unknown label may be some of the candidates.
    pub count: usize,
    pub inferred: bool,
}

/// All pools, plus the aliases learnt from the log.
#[derive(Debug, Clone, Default)]
pub struct PoolModel {
    pub pools: Vec<Pool>,
    /// Entry id → label.
    pub id_alias: HashMap<String, String>,
    /// Canonical account name → label, learnt when a labelled attempt carried the account's
    /// fingerprint.
    pub fp_alias: HashMap<String, String>,
    /// Accounts seen by fingerprint: plan type, reset instant, canonical name.
    pub accounts: Vec<(String, Option<f64>, String)>,
    /// Every bench the log caused, in replay order.
    pub benches: Vec<LogBench>,
}

/// Two error bodies whose reset instants differ by at most this much come from the same
/// account: a provider computes "now + window" per response, so the instant drifts by the
/// seconds between calls, while different accounts' windows end hours apart.
pub const SAME_ACCOUNT_RESET_TOLERANCE_SECS: f64 = 300.0;

/// Do two error bodies carry the same account fingerprint (plan type and reset instant)?
pub fn same_account(a: &ErrorDetails, b: &ErrorDetails) -> Option<bool> {
    let (pa, pb) = (a.plan_type.as_deref()?, b.plan_type.as_deref()?);
    Some(
        pa == pb
            && match (a.resets_at, b.resets_at) {
                (Some(x), Some(y)) => (x - y).abs() <= SAME_ACCOUNT_RESET_TOLERANCE_SECS,
                (None, None) => true,
                _ => false,
            },
    )
}

fn epoch(t: Option<DateTime<Utc>>) -> Option<f64> {
    t.map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// Pool name for attempts whose provider no line names.
pub const UNKNOWN_PROVIDER: &str = "(provider not named in the log)";

/// Render epoch seconds as UTC text.
pub fn fmt_epoch(e: f64) -> String {
    DateTime::<Utc>::from_timestamp(e.floor() as i64, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{e}"))
}

impl PoolModel {
    /// Build the pools from every snapshot: a snapshot's entries are its pool's members, and
    /// what it says of each entry is kept as an observation that holds from the time it
    /// records, never before (see `Observation`).
    pub fn from_snapshots(
        auths: &[AuthInput],
        lists: &[AuthListInput],
        version: HermesVersion,
    ) -> Self {
        let mut model = PoolModel::default();
        let mut order: Vec<&AuthInput> = auths.iter().collect();
        order.sort_by(|a, b| {
            let ka = a.snapshot.updated_at.unwrap_or(f64::MAX);
            let kb = b.snapshot.updated_at.unwrap_or(f64::MAX);
            ka.total_cmp(&kb).then(a.source.cmp(&b.source))
        });
        for auth in &order {
            for (key, entries) in &auth.snapshot.pools {
                for e in entries {
                    if let (Some(id), Some(label)) = (&e.id, &e.label) {
                        model.id_alias.insert(id.clone(), label.clone());
                    }
                }
                let pi = model.snapshot_pool(key);
                for e in entries {
                    let label = e
                        .label
                        .clone()
                        .or_else(|| e.id.clone())
                        .unwrap_or_else(|| format!("entry@{}", e.line));
                    let m = model.pools[pi].snapshot_member(
                        &label,
                        e.id.as_deref(),
                        e.priority,
                        || format!("auth.json {}", auth.name),
                        (&auth.name, e.line),
                    );
                    m.observed
                        .extend(snapshot_observations(e, &auth.name, version));
                }
            }
        }
        for list in lists {
            for row in &list.rows {
                let (Some(key), Some(label)) = (&row.provider, &row.label) else {
                    continue;
                };
                let pi = model.snapshot_pool(key);
                let m = model.pools[pi].snapshot_member(
                    label,
                    row.id.as_deref(),
                    row.priority,
                    || format!("hermes auth list {}", list.name),
                    (&list.name, row.line),
                );
                // A capture's time is not written in it: its states hold at or after the
                // end of the log.
                if row.status.is_some() && !row.ready_to_retry {
                    m.observed.push(Observation {
                        from: None,
                        status: Status::Exhausted,
                        cooling: Some(Cooling {
                            since_event: None,
                            since_snapshot: Some(list.name.clone()),
                            until: None,
                            from: None,
                            host: None,
                            dead: false,
                            reason: format!(
                                "{} in {}",
                                row.status.clone().unwrap_or_default(),
                                list.name
                            ),
                            inferred: true,
                        }),
                        source: list.name.clone(),
                        line: row.line,
                    });
                }
            }
        }
        model
    }

    /// Index of the snapshot pool `key`, created when new.
    fn snapshot_pool(&mut self, key: &str) -> usize {
        if let Some(i) = self.pools.iter().position(|p| p.key == key) {
            self.pools[i].size_known = true;
            return i;
        }
        self.pools.push(Pool {
            provider: providers::normalize(key),
            key: key.to_string(),
            members: Vec::new(),
            size_known: true,
        });
        self.pools.len() - 1
    }

    /// The canonical name of the account an error body's fingerprint belongs to, registering
    /// a new account when none matches. None when the body carries no plan type.
    pub fn account(&mut self, d: &ErrorDetails) -> Option<String> {
        let plan = d.plan_type.as_deref()?;
        let found = self.accounts.iter().find(|(p, r, _)| {
            p == plan
                && match (r, d.resets_at) {
                    (Some(x), Some(y)) => (x - y).abs() <= SAME_ACCOUNT_RESET_TOLERANCE_SECS,
                    (None, None) => true,
                    _ => false,
                }
        });
        if let Some((_, _, name)) = found {
            return Some(name.clone());
        }
        let name = account_name(plan, d.resets_at);
        self.accounts
            .push((plan.to_string(), d.resets_at, name.clone()));
        Some(name)
    }

    /// The label for an entry id or fingerprint alias, else the name itself.
    pub fn canonical(&self, name: &str) -> String {
        if let Some(l) = self.id_alias.get(name) {
            return l.clone();
        }
        name.to_string()
    }

    /// Provider of a pool label and how it is known (the snapshot that lists it, or the label
    /// prefix).
    pub fn provider_of_label(&self, label: &str) -> Option<(String, String)> {
        for p in &self.pools {
            if !p.size_known {
                continue;
            }
            if let Some(m) = p
                .members
                .iter()
                .find(|m| m.label == label || m.id.as_deref() == Some(label))
            {
                return Some((p.provider.clone(), m.known_from.clone()));
            }
        }
        providers::from_label(label).map(|p| (p.to_string(), "the label prefix".to_string()))
    }

    pub fn pool(&self, provider: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.provider == provider)
    }

    fn pool_mut(&mut self, provider: &str) -> &mut Pool {
        if let Some(i) = self.pools.iter().position(|p| p.provider == provider) {
            return &mut self.pools[i];
        }
        self.pools.push(Pool {
            provider: provider.to_string(),
            key: provider.to_string(),
            members: Vec::new(),
            size_known: false,
        });
        let n = self.pools.len() - 1;
        &mut self.pools[n]
    }

    /// The member `label` of `provider`, created from log evidence when new.
    pub fn member_mut(
        &mut self,
        provider: &str,
        label: &str,
        is_account: bool,
    ) -> &mut ProfileState {
        let pool = self.pool_mut(provider);
        if let Some(i) = pool
            .members
            .iter()
            .position(|m| m.label == label || m.id.as_deref() == Some(label))
        {
            return &mut pool.members[i];
        }
        pool.members.push(ProfileState::new(
            label.to_string(),
            if is_account {
                "account fingerprint in error bodies".into()
            } else {
                "log lines".into()
            },
            is_account,
        ));
        let n = pool.members.len() - 1;
        &mut pool.members[n]
    }

    /// Bench `label` of `provider` at event `at.0` (time `at.1`, host `at.2`), and remember it.
    #[allow(clippy::too_many_arguments)]
    fn bench(
        &mut self,
        provider: &str,
        label: &str,
        is_account: bool,
        at: (usize, Option<f64>, Option<String>),
        dead: bool,
        until: Option<f64>,
        reason: String,
    ) {
        let m = self.member_mut(provider, label, is_account);
        if let Some(h) = &at.2 {
            m.seen_on.insert(h.clone());
        }
        m.bench(at.0, (at.1, at.2), dead, until, reason);
        self.benches.push(LogBench {
            provider: provider.to_string(),
            label: label.to_string(),
            event: at.0,
            at: at.1,
            until,
            dead,
        });
    }

    /// Is `label` of `provider` cooled at `t` (epoch seconds; None = unknown instant) for the
    /// gateway on `host`?
    pub fn cooled_at(
        &self,
        provider: &str,
        label: &str,
        t: Option<f64>,
        host: Option<&str>,
    ) -> Option<Cooling> {
        let pool = self.pool(provider)?;
        let m = pool
            .members
            .iter()
            .find(|m| m.label == label || m.id.as_deref() == Some(label))?;
        member_cooled(m, t, host)
    }

    /// Other available profiles of `provider` at `t`, excluding `exclude`; `tried` are the
    /// profiles tried earlier in the same request (for the untried count).
    pub fn availability(
        &self,
        provider: &str,
        (t, host): (Option<f64>, Option<&str>),
        exclude: &str,
        tried: &BTreeSet<String>,
    ) -> (Availability, Availability) {
        let Some(pool) = self.pool(provider) else {
            return (Availability::default(), Availability::default());
        };
        // A member only another host's lines named is not known to be in this host's pool.
        let here = |m: &&ProfileState| match host {
            Some(h) => m.snapshot_line.is_some() || m.seen_on.is_empty() || m.seen_on.contains(h),
            None => true,
        };
        let labeled: Vec<&ProfileState> = pool
            .members
            .iter()
            .filter(|m| !m.is_account)
            .filter(here)
            .collect();
        let accounts: Vec<&ProfileState> = pool
            .members
            .iter()
            .filter(|m| m.is_account)
            .filter(here)
            .collect();
        // With labelled entries known, accounts seen only by fingerprint are some of them;
        // without, the accounts are the candidates.
        let candidates = if labeled.is_empty() {
            &accounts
        } else {
            &labeled
        };
        // An account whose announced reset has passed is no longer known to be distinct.
        let others: Vec<String> = candidates
            .iter()
            .filter(|m| {
                m.label != exclude
                    && member_cooled(m, t, host).is_none()
                    && !(m.is_account && reset_passed(m, t))
            })
            .map(|m| m.label.clone())
            .collect();
        let untried: Vec<String> = others
            .iter()
            .filter(|n| !tried.contains(*n))
            .cloned()
            .collect();
        // Conservatively, every cooled account, every account tried in this request and the
        // excluded one shadow a distinct labelled candidate.
        let shadow = |include_tried: bool| {
            if labeled.is_empty() {
                return 0;
            }
            accounts
                .iter()
                .filter(|a| {
                    a.label == exclude
                        || member_cooled(a, t, host).is_some()
                        || (include_tried && tried.contains(&a.label))
                })
                .count()
        };
        let inferred = !labeled.is_empty() && !accounts.is_empty();
        (
            Availability {
                count: others.len().saturating_sub(shadow(false)),
                names: others,
                inferred,
            },
            Availability {
                count: untried.len().saturating_sub(shadow(true)),
                names: untried,
                inferred,
            },
        )
    }
}

/// An account known only by its fingerprint whose announced reset has passed: once reset it
/// fails under a new fingerprint, so it cannot be told apart from accounts seen since and is
/// not counted as a separate available one.
fn reset_passed(m: &ProfileState, t: Option<f64>) -> bool {
    let until = m.cooling.as_ref().and_then(|c| c.until);
    matches!((until, t), (Some(u), Some(t)) if u <= t)
}

/// A snapshot's recorded time and a log line's time for the same change may differ by this
/// much (the mark is written milliseconds after the call it follows; journald stamps a line when
/// it arrives): an observation holds only from this long after its recorded time.
pub const SNAPSHOT_SKEW_SECS: f64 = 5.0;

/// Is `m` cooled at `t`? The newest statement that holds at `t` decides: the log's own bench,
/// or a snapshot observation from its recorded time on. Snapshot states never reach back before
/// the time they record, nor to calls of unknown time.
fn member_cooled(m: &ProfileState, t: Option<f64>, host: Option<&str>) -> Option<Cooling> {
    let snap = t.and_then(|t| {
        m.observed
            .iter()
            .filter(|o| o.from.is_some_and(|f| f + SNAPSHOT_SKEW_SECS <= t))
            .max_by(|a, b| {
                a.from
                    .unwrap_or(f64::MIN)
                    .total_cmp(&b.from.unwrap_or(f64::MIN))
            })
    });
    // Another host's bench says nothing of this host's pool.
    let other_host =
        |c: &Cooling| matches!((c.host.as_deref(), host), (Some(a), Some(b)) if a != b);
    let log_from = m
        .cooling
        .as_ref()
        .filter(|c| m.status != Status::Ok && !other_host(c))
        .map(|c| c.from);
    let snapshot_newer = match (snap, log_from) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(o), Some(lf)) => matches!((o.from, lf), (Some(of), Some(lf)) if of > lf),
    };
    match snap {
        Some(o) if snapshot_newer => state_cooled(&o.status, o.cooling.as_ref(), t),
        _ if log_from.is_none() => None,
        _ => state_cooled(&m.status, m.cooling.as_ref(), t),
    }
}

fn state_cooled(status: &Status, cooling: Option<&Cooling>, t: Option<f64>) -> Option<Cooling> {
    let c = cooling?.clone();
    match status {
        Status::Ok => None,
        Status::Dead => Some(c),
        Status::Exhausted => match (c.until, t) {
            (Some(u), Some(t)) => (u > t).then_some(c),
            _ => Some(Cooling {
                inferred: true,
                ..c
            }),
        },
    }
}

/// What an auth.json entry says, as observations at the times it records.
fn snapshot_observations(
    e: &crate::auth::PoolEntry,
    name: &str,
    version: HermesVersion,
) -> Vec<Observation> {
    let mut out = Vec::new();
    let at = e.last_status_at;
    let observation = |status: Status, cooling: Option<Cooling>| Observation {
        from: at,
        status,
        cooling,
        source: name.to_string(),
        line: e.line,
    };
    match e.last_status.as_deref() {
        Some("dead") => out.push(observation(
            Status::Dead,
            Some(Cooling {
                since_event: None,
                since_snapshot: Some(name.to_string()),
                until: None,
                from: at,
                host: None,
                dead: true,
                reason: format!(
                    "dead in {name} ({})",
                    e.last_error_reason.clone().unwrap_or_default()
                ),
                inferred: false,
            }),
        )),
        Some("exhausted") => {
            let until = e.last_error_reset_at.or_else(|| {
                let cause = match e.last_error_code {
                    Some(401) => TtlCause::Status401,
                    Some(402) => TtlCause::Billing,
                    Some(429) => TtlCause::Status429,
                    _ => TtlCause::Other,
                };
                at.map(|at| at + exhausted_ttl(version, cause, false))
            });
            out.push(observation(
                Status::Exhausted,
                Some(Cooling {
                    since_event: None,
                    since_snapshot: Some(name.to_string()),
                    until,
                    from: at,
                    host: None,
                    dead: false,
                    reason: format!(
                        "exhausted in {name} ({}{})",
                        e.last_error_reason
                            .clone()
                            .unwrap_or_else(|| "no reason".into()),
                        until
                            .map(|u| format!(", until {}", fmt_epoch(u)))
                            .unwrap_or_default()
                    ),
                    inferred: false,
                }),
            ))
        }
        Some(_) if at.is_some() => out.push(observation(Status::Ok, None)),
        _ => {}
    }
    // `hermes auth reset` clears the status and records when.
    if let Some(cleared) = e.status_cleared_at {
        out.push(Observation {
            from: Some(cleared),
            status: Status::Ok,
            cooling: None,
            source: name.to_string(),
            line: e.line,
        });
    }
    out
}

/// Reset instant from an error body (epoch seconds).
pub fn reset_from_details(d: &ErrorDetails, at: Option<f64>) -> Option<f64> {
    d.resets_at
        .or_else(|| Some(at? + d.resets_in_seconds?))
        .or_else(|| Some(at? + d.retry_after?))
}

fn ttl_cause(status: Option<u16>, class: FailureClass) -> TtlCause {
    match (status, class) {
        (_, FailureClass::Billing) | (Some(402), _) => TtlCause::Billing,
        (Some(401), _) => TtlCause::Status401,
        (Some(429), _) => TtlCause::Status429,
        _ => TtlCause::Other,
    }
}

/// The latest failure of a request, for the mark line that follows it.
#[derive(Clone)]
struct LastError {
    class: FailureClass,
    details: Option<Box<ErrorDetails>>,
    at: Option<f64>,
}

/// Profiles of `provider` available and not tried by `req` at `t`, excluding its last profile;
/// empty unless more remain than the request's calls of unknown profile could have used. The
/// flag says whether the count rests on accounts known only by fingerprint.
fn untried_of(
    pools: &PoolModel,
    req: &Request,
    provider: &str,
    at: (Option<f64>, Option<&str>),
    tried: &BTreeSet<String>,
    unknown: usize,
) -> (Vec<String>, bool) {
    let last = req
        .attempts
        .iter()
        .rev()
        .find_map(|a| a.profile.as_deref())
        .unwrap_or_default();
    let (_, untried) = pools.availability(provider, at, last, tried);
    if untried.count > unknown {
        (untried.names, untried.inferred)
    } else {
        (Vec::new(), untried.inferred)
    }
}

/// Replay every request in global event order: compute, for each attempt, whether its profile
/// was cooled and which others were available; bench profiles on profile-level failures and
/// mark lines.
pub fn replay(
    requests: &mut [Request],
    events: &[Event],
    times: &[Option<DateTime<Utc>>],
    pools: &mut PoolModel,
    version: HermesVersion,
) {
    #[derive(Clone, Copy)]
    enum Item {
        Attempt(usize, usize),
        Event(usize, usize),
    }
    let mut items: Vec<(usize, Item)> = Vec::new();
    for (ri, r) in requests.iter().enumerate() {
        for (ai, a) in r.attempts.iter().enumerate() {
            if let Some(&e) = a.events.first() {
                items.push((e, Item::Attempt(ri, ai)));
            }
        }
        for &e in &r.events {
            let relevant = matches!(
                events[e].kind,
                EventKind::PoolMarked { .. }
                    | EventKind::FallbackActivated { .. }
                    | EventKind::FallbackSwitching { .. }
                    | EventKind::FallbackNotice { .. }
                    | EventKind::GatewayPrimaryFailed { .. }
                    | EventKind::TerminalFailure { .. }
            );
            if relevant {
                items.push((e, Item::Event(ri, e)));
            }
        }
    }
    items.sort_by_key(|(e, _)| *e);

    let mut tried: HashMap<usize, BTreeSet<String>> = HashMap::new();
    let mut last_error: HashMap<usize, LastError> = HashMap::new();
    let mut fallback_seen: HashMap<usize, bool> = HashMap::new();
    let mut unknown_tried: HashMap<usize, usize> = HashMap::new();

    for (_, item) in items {
        match item {
            Item::Attempt(ri, ai) => {
                let primary = requests[ri].primary_provider.clone();
                let a = &requests[ri].attempts[ai];
                let provider =
                    a.provider.clone().or_else(|| primary.clone()).or_else(|| {
                        (pools.pools.len() == 1).then(|| pools.pools[0].provider.clone())
                    });
                // Attempts whose provider nothing names still share one pool of their own.
                let provider = provider
                    .map(|p| providers::normalize(&p))
                    .unwrap_or_else(|| UNKNOWN_PROVIDER.to_string());
                let t = epoch(a.time);
                let host = a
                    .events
                    .first()
                    .and_then(|&e| events[e].record.host.clone());
                let Some(profile) = a.profile.clone() else {
                    // A call whose profile is unknown may have used any entry: it shadows one
                    // "untried" entry when a fallback or the end of the request is judged.
                    // Calls with no rotation line between them used one credential.
                    let new_segment = ai == 0 || {
                        let r = &requests[ri];
                        let prev_last = r.attempts[ai - 1].events.last().copied().unwrap_or(0);
                        let first = r.attempts[ai].events.first().copied().unwrap_or(0);
                        r.attempts[ai - 1].profile.is_some()
                            || r.between(prev_last, first)
                                .iter()
                                .any(|&e| events[e].kind.is_rotation())
                    };
                    if new_segment {
                        *unknown_tried.entry(ri).or_default() += 1;
                    }
                    if !a.succeeded {
                        last_error.insert(
                            ri,
                            LastError {
                                class: a.class,
                                details: a.details.clone(),
                                at: t,
                            },
                        );
                    }
                    continue;
                };
                let is_account = a.basis == Some(super::ProfileBasis::Fingerprint);
                let m = pools.member_mut(&provider, &profile, is_account);
                if let Some(h) = &host {
                    m.seen_on.insert(h.clone());
                }
                let tried_set = tried.entry(ri).or_default().clone();
                let cooled = pools.cooled_at(&provider, &profile, t, host.as_deref());
                let (others, untried) =
                    pools.availability(&provider, (t, host.as_deref()), &profile, &tried_set);
                let a = &mut requests[ri].attempts[ai];
                if a.provider.is_none() {
                    a.provider = Some(provider.clone());
                    a.provider_basis = if primary.is_some() {
                        "request context"
                    } else {
                        "only pool known"
                    };
                }
                a.cooled = cooled;
                a.others_available = if others.count > 0 {
                    others.names
                } else {
                    Vec::new()
                };
                a.untried_available = if untried.count > 0 {
                    untried.names
                } else {
                    Vec::new()
                };
                a.availability_inferred = others.inferred || untried.inferred;
                tried.entry(ri).or_default().insert(profile.clone());
                if !a.succeeded {
                    let e = a.events.first().copied().unwrap_or(0);
                    last_error.insert(
                        ri,
                        LastError {
                            class: a.class,
                            details: a.details.clone(),
                            at: t,
                        },
                    );
                    if a.class.is_profile_level() {
                        let until = a
                            .details
                            .as_ref()
                            .and_then(|d| reset_from_details(d, t))
                            .or_else(|| {
                                let sole = pools.pool(&provider).is_some_and(|p| {
                                    p.members
                                        .iter()
                                        .filter(|m| m.status != Status::Dead)
                                        .count()
                                        <= 1
                                });
                                t.map(|t| {
                                    t + exhausted_ttl(version, ttl_cause(a.status, a.class), sole)
                                })
                            });
                        let reason = format!(
                            "{} at attempt{}{}",
                            a.details
                                .as_ref()
                                .and_then(|d| d.etype.clone().or(d.code.clone()))
                                .unwrap_or_else(|| format!("{:?}", a.class).to_lowercase()),
                            a.counter
                                .map(|(k, n)| format!(" {k}/{n}"))
                                .unwrap_or_default(),
                            until
                                .map(|u| format!(", resets {}", fmt_epoch(u)))
                                .unwrap_or_default()
                        );
                        let dead = a.class == FailureClass::AuthInvalid
                            && a.details.as_deref().is_some_and(is_dead_reason);
                        pools.bench(
                            &provider,
                            &profile,
                            is_account,
                            (e, t, host.clone()),
                            dead,
                            until,
                            reason,
                        );
                    }
                }
            }
            Item::Event(ri, e) => {
                let t = epoch(times.get(e).copied().flatten());
                let host = events[e].record.host.clone();
                match &events[e].kind {
                    EventKind::PoolMarked {
                        label,
                        status,
                        dead,
                        reason,
                    } => {
                        let label = pools.canonical(label);
                        let provider =
                            pools.provider_of_label(&label).map(|(p, _)| p).or_else(|| {
                                requests[ri]
                                    .primary_provider
                                    .clone()
                                    .map(|p| providers::normalize(&p))
                            });
                        let Some(provider) = provider else { continue };
                        let prev = last_error.get(&ri).cloned();
                        let until = prev
                            .as_ref()
                            .and_then(|p| {
                                p.details
                                    .as_ref()
                                    .and_then(|d| reset_from_details(d, p.at.or(t)))
                            })
                            .or_else(|| {
                                let cause = ttl_cause(
                                    *status,
                                    prev.as_ref()
                                        .map(|p| p.class)
                                        .unwrap_or(FailureClass::Other),
                                );
                                t.map(|t| t + exhausted_ttl(version, cause, false))
                            });
                        let reason = format!(
                            "marked {}{}{}",
                            if *dead { "DEAD" } else { "exhausted" },
                            reason
                                .as_ref()
                                .map(|r| format!(" ({r})"))
                                .unwrap_or_default(),
                            until
                                .filter(|_| !*dead)
                                .map(|u| format!(" until {}", fmt_epoch(u)))
                                .unwrap_or_default()
                        );
                        pools.bench(&provider, &label, false, (e, t, host), *dead, until, reason);
                    }
                    EventKind::TerminalFailure { .. } => {
                        let Some(provider) = requests[ri]
                            .primary_provider
                            .clone()
                            .map(|p| providers::normalize(&p))
                        else {
                            continue;
                        };
                        if fallback_seen.get(&ri).copied().unwrap_or(false) {
                            continue;
                        }
                        let unknown = unknown_tried.get(&ri).copied().unwrap_or(0);
                        let (names, inferred) = untried_of(
                            pools,
                            &requests[ri],
                            &provider,
                            (t, host.as_deref()),
                            tried.entry(ri).or_default(),
                            unknown,
                        );
                        if !names.is_empty() {
                            let r = &mut requests[ri];
                            r.untried_at_end = names;
                            r.untried_at_end_inferred = inferred;
                        }
                    }
                    _ => {
                        // Leaving the primary for the fallback chain.
                        let first_exit = !fallback_seen.get(&ri).copied().unwrap_or(false);
                        fallback_seen.insert(ri, true);
                        if !first_exit {
                            continue;
                        }
                        let primary = requests[ri]
                            .primary_provider
                            .clone()
                            .map(|p| providers::normalize(&p))
                            .or_else(|| {
                                (pools.pools.len() == 1).then(|| pools.pools[0].provider.clone())
                            });
                        let unknown = unknown_tried.get(&ri).copied().unwrap_or(0);
                        let (untried, inferred) = match &primary {
                            Some(p) => untried_of(
                                pools,
                                &requests[ri],
                                p,
                                (t, host.as_deref()),
                                tried.entry(ri).or_default(),
                                unknown,
                            ),
                            None => (Vec::new(), false),
                        };
                        // The failures that led to this exit (not the fallback's own).
                        let failed: Vec<FailureClass> = requests[ri]
                            .attempts
                            .iter()
                            .filter(|a| !a.succeeded && a.events.first().is_some_and(|&f| f < e))
                            .map(|a| a.class)
                            .collect();
                        let transport_only = !failed.is_empty()
                            && failed.iter().all(|c| *c == FailureClass::Transient);
                        requests[ri].fallbacks.push(FallbackExit {
                            event: e,
                            provider: primary,
                            untried_available: untried,
                            availability_inferred: inferred,
                            transport_only,
                        });
                    }
                }
            }
        }
    }
}

fn is_dead_reason(d: &ErrorDetails) -> bool {
    const DEAD: &[&str] = &[
        "token_invalidated",
        "token_revoked",
        "invalid_token",
        "invalid_grant",
        "unauthorized_client",
        "refresh_token_reused",
    ];
    [d.etype.as_deref(), d.code.as_deref()]
        .into_iter()
        .flatten()
        .any(|v| DEAD.contains(&v))
}

//! Correlator: merges sources by time, drops cross-file duplicates, groups events into
//! requests, assigns a profile to every attempt and replays a pool model per provider.
//!
//! The result, [`Analysis`], is what every rule reads.

pub mod cooldown;
mod group;
mod merge;
mod pool;
mod profile;
pub mod providers;
mod snapshot;
mod stream;
mod witness;

use crate::auth::{AuthListRow, AuthSnapshot};
use crate::classify::quota::FailureClass;
use crate::model::{ErrorDetails, Event, HermesRelease, SourceId};
use crate::release::{self, Fingerprint};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use crate::release::HermesVersion;
pub use group::IDLE_CLOSE_SECS;
pub use pool::{fmt_epoch, reset_from_details, same_account, PoolModel, ProfileState};
pub use profile::is_rebuild;
pub use snapshot::{review as review_snapshots, LogSpan};
pub use stream::{Followed, Orderer, StreamTotals, Streamer, FOLLOW_REMEMBER};

/// An auth.json snapshot given as input.
#[derive(Debug, Clone)]
pub struct AuthInput {
    pub source: SourceId,
    pub name: String,
    pub snapshot: AuthSnapshot,
}

/// A `hermes auth list` capture given as input.
#[derive(Debug, Clone)]
pub struct AuthListInput {
    pub source: SourceId,
    pub name: String,
    pub rows: Vec<AuthListRow>,
}

/// Options that change how the correlated model is built.
#[derive(Debug, Clone, Default)]
pub struct CorrelateOptions {
    /// Cooldown rules of this Hermes version (the flag's, else the detected one).
    pub hermes_version: HermesVersion,
    /// `--hermes-version`, when given.
    pub hermes_flag: Option<HermesVersion>,
    /// Pool strategy per provider (`fill_first` when absent).
    pub strategies: BTreeMap<String, String>,
    /// The release signals of the whole input, when this analysis is one host's shard of it:
    /// the release is decided over every host (as an unsharded run decides it), not the shard's.
    pub fleet_fingerprint: Option<Fingerprint>,
}

/// Pool strategies `--strategy` accepts.
pub const STRATEGIES: &[&str] = &["fill_first", "round_robin", "random", "least_used"];

/// A pool strategy as `--strategy` and the configuration file give it (`PROVIDER=STRATEGY`):
/// the normalised provider and the strategy; the error says what is wrong, for `--strategy`.
pub fn parse_strategy(s: &str) -> Result<(String, String), String> {
    let Some((p, strat)) = s.split_once('=') else {
        return Err(format!("--strategy {s}: expected PROVIDER=STRATEGY"));
    };
    const KNOWN: &[&str] = STRATEGIES;
    if !KNOWN.contains(&strat) {
        return Err(format!(
            "--strategy {s}: unknown strategy {strat:?} (one of {})",
            KNOWN.join(", ")
        ));
    }
    Ok((providers::normalize(p), strat.to_string()))
}

/// How the profile of an attempt was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProfileBasis {
    /// A `profile_rotation` structured event named it.
    RotationEvent,
    /// A pool line (`rotated to L`, `Credential ... rotated to pool entry ID`).
    RotationLine,
    /// A `credential pool: marking L exhausted` line right after the attempt.
    MarkLine,
    /// The client was rebuilt from the turn's primary runtime (`OpenAI client created
    /// (primary_recovery|restore_primary, …)`): it carries the credential the turn started with,
    /// not the entry the pool last rotated to.
    RebuiltClient,
    /// The account fingerprint (`plan_type` + `resets_at`) from the error body.
    Fingerprint,
}

impl ProfileBasis {
    pub fn describe(self) -> &'static str {
        match self {
            ProfileBasis::RotationEvent => "profile_rotation event",
            ProfileBasis::RotationLine => "rotation line",
            ProfileBasis::MarkLine => "mark line",
            ProfileBasis::Fingerprint => "account fingerprint",
            ProfileBasis::RebuiltClient => "rebuilt client (the turn's start-up credential)",
        }
    }

    /// True when the profile is only inferred (not named by Hermes).
    pub fn is_inferred(self) -> bool {
        self == ProfileBasis::Fingerprint
    }
}

/// Why a profile was cooled at some moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Cooling {
    /// Event that benched it (an error or a mark line), when it came from the log.
    pub since_event: Option<usize>,
    /// Snapshot source that showed it exhausted, when it came from auth.json / auth list.
    pub since_snapshot: Option<String>,
    /// Until when (epoch seconds); None = dead (until re-auth) or unknown.
    pub until: Option<f64>,
    /// From when this state holds (epoch seconds): the benching call or mark, or the time a
    /// snapshot recorded for the entry. None = unknown.
    pub from: Option<f64>,
    /// Host whose log line benched it (a pool's state is per gateway: one host's marks say
    /// nothing of another host's pool). None: no host named, or a snapshot.
    pub host: Option<String>,
    pub dead: bool,
    /// Wording: `usage_limit_reached until 2026-05-09 02:51:16Z`, ...
    pub reason: String,
    /// The comparison with the attempt time could not be made exactly (no date in the log).
    pub inferred: bool,
}

/// One API call of a request.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Events that describe this call (stream failure line, attempt line, success line).
    pub events: Vec<usize>,
    /// `attempt k/N` when printed.
    pub counter: Option<(u32, u32)>,
    pub succeeded: bool,
    pub status: Option<u16>,
    pub class: FailureClass,
    pub error_type: Option<String>,
    pub provider: Option<String>,
    /// How the provider was known (`attempt line`, `request context`, `only pool known`).
    pub provider_basis: &'static str,
    pub details: Option<Box<ErrorDetails>>,
    pub profile: Option<String>,
    pub basis: Option<ProfileBasis>,
    /// Why the profile is unknown, when a line seemed to name it but does not prove it.
    pub unknown_reason: Option<&'static str>,
    pub time: Option<DateTime<Utc>>,
    /// The profile was cooled when this call was sent.
    pub cooled: Option<Cooling>,
    /// Other profiles of the provider that were available (not cooled, not dead) at that time.
    pub others_available: Vec<String>,
    /// Of those, the ones not tried earlier in this request.
    pub untried_available: Vec<String>,
    /// Availability rests on fingerprint counting (labels of seen accounts unknown).
    pub availability_inferred: bool,
}

/// A point where the request left its provider for the fallback chain.
#[derive(Debug, Clone)]
pub struct FallbackExit {
    pub event: usize,
    pub provider: Option<String>,
    pub untried_available: Vec<String>,
    pub availability_inferred: bool,
    /// The failures before it were transport failures affecting the provider as a whole.
    pub transport_only: bool,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failed,
    /// End of input, a new turn or a long gap without an ending line.
    Open,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Open => "no ending line",
        }
    }
}

/// One user-request cycle.
#[derive(Debug, Clone)]
pub struct Request {
    /// Display id: `<session|pid N|source>#<n>`.
    pub id: String,
    /// Grouping key (session, pid, subagent, source).
    pub lane: String,
    /// All events of the request, in order.
    pub events: Vec<usize>,
    pub attempts: Vec<Attempt>,
    /// Provider of the first attempt / the primary.
    pub primary_provider: Option<String>,
    pub fallbacks: Vec<FallbackExit>,
    pub outcome: Outcome,
    /// The terminal event, if any.
    pub end_event: Option<usize>,
    /// Untried available profiles of the primary at the terminal failure.
    pub untried_at_end: Vec<String>,
    pub untried_at_end_inferred: bool,
    /// Events of an untimed console capture that repeats this request (dropped as a request of
    /// its own); its notices still belong to this request.
    pub echo_events: Vec<usize>,
    /// The host that emitted the request, when its lines name one (journal hostname column,
    /// `_HOSTNAME`).
    pub host: Option<String>,
}

impl Request {
    /// The request's events strictly between two event indices (events are in ascending order).
    pub fn between(&self, lo: usize, hi: usize) -> &[usize] {
        let start = self.events.partition_point(|&e| e <= lo);
        let end = self.events.partition_point(|&e| e < hi);
        self.events.get(start..end.max(start)).unwrap_or(&[])
    }

    /// Index of the attempt whose first event is `ev` (attempts are in ascending order).
    pub fn attempt_at(&self, ev: usize) -> Option<usize> {
        let i = self
            .attempts
            .partition_point(|a| a.events.first().is_some_and(|&f| f < ev));
        self.attempts
            .get(i)
            .filter(|a| a.events.first() == Some(&ev))
            .map(|_| i)
    }
}

/// The correlated model every rule reads.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Source display names by [`SourceId`].
    pub sources: Vec<String>,
    /// Merged, de-duplicated, time-ordered events.
    pub events: Vec<Event>,
    /// Effective instant of each event (its own, else carried from its neighbours in the
    /// same source).
    pub times: Vec<Option<DateTime<Utc>>>,
    pub requests: Vec<Request>,
    pub auths: Vec<AuthInput>,
    pub lists: Vec<AuthListInput>,
    pub pools: PoolModel,
    pub opts: CorrelateOptions,
    /// Number of records dropped as cross-file duplicates.
    pub duplicates_dropped: u64,
    /// Requests dropped because an untimed console capture repeated a timed log's request.
    pub echo_requests_dropped: u64,
    /// Console blocks that repeat a logger record of the same call (attempts merged), and late
    /// console-only requests that repeat a logged one (dropped as requests of their own).
    pub console_witnesses: (u64, u64),
    /// Request index of each event, if it belongs to one.
    pub request_of: Vec<Option<usize>>,
    /// The release the logs show and whose rules were applied.
    pub release: HermesRelease,
    /// Set when the flag disagrees with the logs, or the logs with each other.
    pub release_warning: Option<String>,
}

impl Analysis {
    /// Display name of an event's source.
    pub fn source_name(&self, ev: usize) -> &str {
        self.events
            .get(ev)
            .and_then(|e| self.sources.get(e.record.loc.source as usize))
            .map(String::as_str)
            .unwrap_or("<unknown>")
    }

    /// The strategy configured for a provider (`fill_first` by default).
    pub fn strategy(&self, provider: &str) -> &str {
        self.opts
            .strategies
            .get(provider)
            .map(String::as_str)
            .unwrap_or("fill_first")
    }
}

/// Build the correlated model.
pub fn correlate(
    events: Vec<Event>,
    sources: Vec<String>,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    opts: CorrelateOptions,
) -> Analysis {
    let merged = merge::merge(events);
    let requests = group::group(&merged.events, &merged.times, &sources);
    let mut fingerprint = Fingerprint::default();
    for e in &merged.events {
        fingerprint.observe(e);
    }
    finish(
        Grouped {
            events: merged.events,
            times: merged.times,
            requests,
            duplicates: merged.duplicates,
        },
        sources,
        auths,
        lists,
        (opts, &fingerprint),
    )
}

/// Merged events and the requests grouped from them, before profiles and the pool replay.
pub(crate) struct Grouped {
    pub events: Vec<Event>,
    pub times: Vec<Option<DateTime<Utc>>>,
    pub requests: Vec<Request>,
    pub duplicates: u64,
}

/// Assign profiles, replay the pools and index the requests.
fn finish(
    g: Grouped,
    sources: Vec<String>,
    auths: Vec<AuthInput>,
    lists: Vec<AuthListInput>,
    (mut opts, fingerprint_of_shard): (CorrelateOptions, &Fingerprint),
) -> Analysis {
    let fingerprint = opts.fleet_fingerprint.take();
    let fleet = fingerprint.is_some();
    let fingerprint = fingerprint.as_ref().unwrap_or(fingerprint_of_shard);
    let (release, release_warning) = release::resolve(fingerprint, opts.hermes_flag);
    if let Ok(v) = release.applied.parse() {
        opts.hermes_version = v;
    }
    let Grouped {
        events,
        times,
        mut requests,
        duplicates,
    } = g;
    let mut pools = PoolModel::from_snapshots(&auths, &lists, opts.hermes_version);
    // A shard of a fleet names its requests as the run over every host does.
    group::name_hosts(&mut requests, &events, fleet);
    let console_witnesses = witness::merge_console_witnesses(&mut requests, &events);
    let late_console = witness::drop_late_console_requests(&mut requests, &events, &times);
    let echo_dropped = group::drop_echo_requests(&mut requests, &events, &times);
    for req in &mut requests {
        profile::assign(req, &events, &mut pools);
    }
    pool::replay(
        &mut requests,
        &events,
        &times,
        &mut pools,
        opts.hermes_version,
    );
    let mut request_of = vec![None; events.len()];
    for (ri, r) in requests.iter().enumerate() {
        for &e in &r.events {
            if let Some(slot) = request_of.get_mut(e) {
                *slot = Some(ri);
            }
        }
    }
    Analysis {
        request_of,
        sources,
        events,
        times,
        requests,
        auths,
        lists,
        pools,
        opts,
        duplicates_dropped: duplicates,
        echo_requests_dropped: echo_dropped,
        console_witnesses: (console_witnesses, late_console),
        release,
        release_warning,
    }
}

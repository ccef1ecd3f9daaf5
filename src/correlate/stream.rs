//! Streamed correlation in bounded memory.
//!
//! Each source's events arrive in line order; an [`Orderer`] per source puts them in time order
//! and the sources are merged by (time, source, line) — the whole-input merge's order. The
//! grouper builds requests as events come, and a request is settled once no later line can
//! change it (see [`Grouper::is_final`]). A settled request that only says a
//! call succeeded (turn lines, client creation, success, response) is counted and dropped with
//! its lines; every other request, and every line outside a request that a rule may read, is
//! kept for the final analysis, which then runs the same profile assignment, pool replay and
//! rules as the whole-input path. Memory is the reorder and settling window plus what is kept:
//! flat for healthy traffic, growing only with the incidents themselves.

use super::group::{self, Events, Grouper};
use super::providers;
use super::{AuthInput, AuthListInput, CorrelateOptions, Grouped, Request};
use crate::model::auth_blame_text;
use crate::model::{Event, EventKind, Record};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, VecDeque};
use std::ops::Index;

/// A console block repeats a logger record at most this long after it (the late-console
/// look-back, with a margin): a recovered request is dropped only once this long has passed
/// with no console line in the input.
const CONSOLE_HOLD_SECS: i64 = 180;

/// Lines may come this much out of time order and still be put in order.
const REORDER_SECS: i64 = 900;
/// Settled requests are looked for after this many events.
const SETTLE_EVERY: usize = 512;

/// What the streamed run counted of the events it did not keep, for the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamTotals {
    /// Requests (and their calls) settled as plain successes and dropped.
    pub dropped_requests: u64,
    pub dropped_attempts: u64,
    /// Rotations over every event (the whole-input path counts them from its events).
    pub rotations: u64,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    /// Events that came more than the reorder window behind earlier ones: analysed where they
    /// came.
    pub late_events: u64,
    /// Hosts named by the lines counted.
    pub hosts: std::collections::BTreeSet<String>,
    /// The last event counted was a rotation (a `rotated to pool entry` line repeats it).
    prev_rotated: bool,
    /// Line shapes that tell the Hermes release.
    pub fingerprint: crate::release::Fingerprint,
}

impl StreamTotals {
    /// Count an event (in merged order, with its effective time) into the rotations and the
    /// time span.
    pub fn count(&mut self, event: &Event, time: Option<DateTime<Utc>>) {
        self.fingerprint.observe(event);
        if let Some(h) = &event.record.host {
            if !self.hosts.contains(h) {
                self.hosts.insert(h.clone());
            }
        }
        match &event.kind {
            EventKind::PoolRotated { .. } | EventKind::ProfileRotation { .. } => {
                self.rotations += 1;
                self.prev_rotated = true;
            }
            EventKind::PoolRecoveryRotated { .. } => {
                if !self.prev_rotated {
                    self.rotations += 1;
                }
                self.prev_rotated = false;
            }
            _ => self.prev_rotated = false,
        }
        if let Some(t) = time {
            self.first_time = Some(self.first_time.map_or(t, |f| f.min(t)));
            self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Keep,
    Drop,
}

#[derive(Clone)]
struct Slot {
    event: Event,
    time: Option<DateTime<Utc>>,
    fate: Fate,
}

/// Events by global index: a window of recent ones and the kept ones before it.
#[derive(Clone)]
struct Store {
    base: usize,
    window: VecDeque<Slot>,
    /// Kept events before the window, with their global indices and times (parallel vectors,
    /// handed to the final analysis without a copy).
    kept: Vec<Event>,
    kept_at: Vec<usize>,
    kept_times: Vec<Option<DateTime<Utc>>>,
    /// The last success / fallback / restore line that left the window was a success: further
    /// dropped successes add nothing to the fallback-flapping rule, which resets on them.
    success_run: bool,
    /// Returned for an index no longer held (never read by the grouper, which only looks at
    /// lines of unsettled requests).
    missing: Event,
}

impl Index<usize> for Store {
    type Output = Event;
    fn index(&self, i: usize) -> &Event {
        match i.checked_sub(self.base) {
            Some(k) => self.window.get(k).map(|s| &s.event),
            None => self
                .kept_at
                .binary_search(&i)
                .ok()
                .and_then(|k| self.kept.get(k)),
        }
        .unwrap_or(&self.missing)
    }
}

impl Events for Store {
    fn time_of(&self, i: usize) -> Option<DateTime<Utc>> {
        match i.checked_sub(self.base) {
            Some(k) => self.window.get(k).and_then(|s| s.time),
            None => self
                .kept_at
                .binary_search(&i)
                .ok()
                .and_then(|k| self.kept_times.get(k).copied().flatten()),
        }
    }
}

impl Store {
    /// An empty event (what an index no longer held reads as).
    fn default_missing() -> Event {
        Event {
            record: Record::empty(),
            kind: EventKind::Other,
        }
    }

    fn push(&mut self, event: Event, time: Option<DateTime<Utc>>) -> usize {
        self.window.push_back(Slot {
            event,
            time,
            fate: Fate::Pending,
        });
        self.base + self.window.len() - 1
    }

    fn set_fate(&mut self, i: usize, fate: Fate) {
        if let Some(s) = i
            .checked_sub(self.base)
            .and_then(|k| self.window.get_mut(k))
        {
            s.fate = fate;
        }
    }

    /// Move settled lines out of the front of the window.
    fn advance(&mut self) {
        while self.window.front().is_some_and(|s| s.fate != Fate::Pending) {
            let Some(mut s) = self.window.pop_front() else {
                break;
            };
            let i = self.base;
            self.base += 1;
            let flap = matches!(
                s.event.kind,
                EventKind::Success { .. }
                    | EventKind::FallbackActivated { .. }
                    | EventKind::PrimaryRestored { .. }
            );
            let success = matches!(s.event.kind, EventKind::Success { .. });
            if success && s.fate == Fate::Drop && !self.success_run {
                s.fate = Fate::Keep;
            }
            if flap {
                self.success_run = success;
            }
            if s.fate == Fate::Keep {
                self.kept.push(s.event);
                self.kept_at.push(i);
                self.kept_times.push(s.time);
            }
        }
    }
}

/// A line that, outside a request or in a plain successful one, no rule reads. A client rebuilt
/// for `credential_rotation` is kept: the header counts it as a rotation when no rotation line
/// goes with it (see [`crate::rules::inferred_rotations`]).
fn droppable(ev: &Event) -> bool {
    let rotation_client = matches!(&ev.kind, EventKind::ClientCreated { reason, .. } if reason == "credential_rotation");
    matches!(
        ev.kind,
        EventKind::TurnStart { .. }
            | EventKind::GatewayInbound { .. }
            | EventKind::ClientCreated { .. }
            | EventKind::Success { .. }
            | EventKind::TurnEnd { .. }
            | EventKind::GatewayResponse { .. }
    ) && !rotation_client
        && auth_blame_text(ev).is_none()
}

/// A line a recovered request may hold besides the lines of a plain success: its failed calls'
/// lines (attempt, stream failure, error details, the retry's wait), when none names an account
/// (plan, reset) or a quota.
fn recovery_line(ev: &Event) -> bool {
    let no_account = |d: Option<&crate::model::ErrorDetails>| {
        d.is_none_or(|d| {
            d.plan_type.is_none() && d.resets_at.is_none() && d.resets_in_seconds.is_none()
        })
    };
    let kind_ok = match &ev.kind {
        EventKind::AttemptFailed { details, .. } | EventKind::StreamFailed { details, .. } => {
            no_account(details.as_deref())
        }
        EventKind::Details { details } => no_account(Some(details)),
        EventKind::RetryScheduled {
            details,
            reset_hint,
            ..
        } => no_account(details.as_deref()) && reset_hint.is_none(),
        _ => false,
    };
    kind_ok && !crate::classify::quota::says_quota(ev) && auth_blame_text(ev).is_none()
}

/// A settled request that failed on a transient error (5xx, overload, timeout, connection) and
/// then succeeded on the same credential, with nothing else to say: Hermes' intended handling of
/// a provider-side blip, which no rule reports. Every line is a logger record (no console copy
/// to match) and a plain-success or failed-call line; no line rotates, marks, falls back,
/// restores, names a profile, an account or a quota. Such a request leaves the pool and every
/// other request as they were: no profile is assigned to its calls (no rotation, mark or
/// account fingerprint names one), so the pool replay records nothing across requests for them,
/// and every rule that reads a request needs a profile, a profile-level or quota failure, a
/// fallback, a rotation, a pool line or a terminal failure in it.
fn recovered(req: &Request, store: &Store) -> bool {
    let ended_well =
        req.outcome == super::Outcome::Success && req.attempts.last().is_some_and(|a| a.succeeded);
    let transient = req.attempts.iter().all(|a| {
        a.succeeded
            || (a.class == crate::classify::quota::FailureClass::Transient
                && a.profile.is_none()
                && a.details.as_ref().is_none_or(|d| d.plan_type.is_none()))
    });
    ended_well
        && transient
        && req.events.iter().all(|&e| {
            let ev = &store[e];
            let rebuilt = matches!(&ev.kind, EventKind::ClientCreated { reason, .. } if super::profile::is_rebuild(reason));
            ev.record.logger.is_some() && !rebuilt && (droppable(ev) || recovery_line(ev))
        })
}

/// An event waiting in the reorder window.
#[derive(Clone)]
struct Waiting {
    time: DateTime<Utc>,
    event: Box<Event>,
}

/// Puts one source's events in time order and gives each its effective time: its own, else the
/// source's previous one, else its next one (the whole-input merge's rule). Lines may come up to
/// the reorder window out of order; later ones are passed on where they came and counted.
#[derive(Default, Clone)]
pub struct Orderer {
    /// Leading events with no time before the source's first timed one.
    /// (Kept boxed: they leave as they came, and moving a box is moving a pointer.)
    #[allow(clippy::vec_box)]
    leading: Vec<Box<Event>>,
    /// Sorted by (time, arrival). Lines mostly come in order, so a new one is appended; one
    /// that came early is inserted in place.
    waiting: VecDeque<Waiting>,
    /// Latest own time of the source, in line order (the time of untimed lines after it).
    last_own: Option<DateTime<Utc>>,
    /// Latest time released.
    released: Option<DateTime<Utc>>,
    /// Events that came later than the reorder window allows.
    pub late: u64,
}

impl Orderer {
    /// Take the source's next event (line order); `out` receives events in time order.
    pub fn push(
        &mut self,
        event: Box<Event>,
        out: &mut dyn FnMut(Option<DateTime<Utc>>, Box<Event>),
    ) {
        let time = match event.record.time.utc {
            Some(t) => {
                self.last_own = Some(t);
                // Untimed lines before the first timed one take its time.
                for ev in std::mem::take(&mut self.leading) {
                    self.wait(t, ev);
                }
                t
            }
            None => match self.last_own {
                Some(t) => t,
                None => {
                    self.leading.push(event);
                    return;
                }
            },
        };
        if self.released.is_some_and(|r| time < r) {
            self.late += 1;
            out(Some(time), event);
            return;
        }
        self.wait(time, event);
        let horizon = time - Duration::seconds(REORDER_SECS);
        while self.waiting.front().is_some_and(|w| w.time < horizon) {
            if let Some(w) = self.waiting.pop_front() {
                self.released = Some(w.time);
                out(Some(w.time), w.event);
            }
        }
    }

    fn wait(&mut self, time: DateTime<Utc>, event: Box<Event>) {
        let w = Waiting { time, event };
        // Equal times keep arrival order: insert after every entry not later than this one.
        if self.waiting.back().is_none_or(|b| b.time <= time) {
            self.waiting.push_back(w);
        } else {
            let at = self.waiting.partition_point(|x| x.time <= time);
            self.waiting.insert(at, w);
        }
    }

    /// End of the source: release everything (a source with no time at all keeps line order,
    /// untimed).
    pub fn finish(&mut self, out: &mut dyn FnMut(Option<DateTime<Utc>>, Box<Event>)) {
        for ev in std::mem::take(&mut self.leading) {
            out(None, ev);
        }
        while let Some(w) = self.waiting.pop_front() {
            self.released = Some(w.time);
            out(Some(w.time), w.event);
        }
    }
}

/// Correlates one streamed log source (see the module documentation).
#[derive(Clone)]
pub struct Streamer {
    grouper: Grouper<Store>,
    /// Records dropped as repeated across files.
    duplicates: u64,
    /// Latest time handed to the grouper ("now" for settling).
    now: Option<DateTime<Utc>>,
    since_settle: usize,
    settle_every: usize,
    kept_requests: Vec<(usize, Request)>,
    totals: StreamTotals,
    /// Providers restored as primary whose next call has not been seen yet.
    restored: BTreeSet<String>,
    /// Success lines that are the first call of a restored provider: their requests are kept
    /// (the false-restore rule reads them).
    pinned: BTreeSet<usize>,
    /// A logger record of a request came without any time (a `-v` journal in `cat`,
    /// `short-monotonic` or `short-delta`): healthy requests are kept, since such a copy repeats
    /// their success lines too and is matched against the timed request only at the end. (A
    /// console copy repeats failed calls only, which are kept anyway.)
    untimed_requests: bool,
    /// A console line (no logger name) of a request came: recovered requests are kept, since a
    /// late console copy of their failed calls is matched to them only at the end.
    console_requests: bool,
    /// Recovered requests (see [`recovered`]) waiting out the console look-back before they are
    /// dropped, with the time of their last line; their lines stay in the window.
    recovering: VecDeque<(DateTime<Utc>, usize, Request)>,
}

impl Streamer {
    /// `sources`: display names of every input, by source id.
    pub fn new(sources: Vec<String>) -> Self {
        let missing = Store::default_missing();
        let store = Store {
            base: 0,
            window: VecDeque::new(),
            kept: Vec::new(),
            kept_at: Vec::new(),
            kept_times: Vec::new(),
            success_run: false,
            missing,
        };
        Streamer {
            grouper: Grouper::new(store, sources),
            duplicates: 0,
            now: None,
            since_settle: 0,
            settle_every: SETTLE_EVERY,
            kept_requests: Vec::new(),
            totals: StreamTotals::default(),
            restored: BTreeSet::new(),
            pinned: BTreeSet::new(),
            untimed_requests: false,
            console_requests: false,
            recovering: VecDeque::new(),
        }
    }

    /// Look for settled requests after every `n` events (1 in tests, to settle as early as
    /// possible).
    pub fn settle_every(mut self, n: usize) -> Self {
        self.settle_every = n.max(1);
        self
    }

    /// Lines that came later than a source's reorder window allowed.
    pub fn note_late(&mut self, n: u64) {
        self.totals.late_events += n;
    }

    /// The release signals of the lines accepted so far.
    pub fn fingerprint(&self) -> &crate::release::Fingerprint {
        &self.totals.fingerprint
    }

    /// Records dropped as repeated across files.
    pub fn note_duplicates(&mut self, n: u64) {
        self.duplicates += n;
    }

    /// Take the next event in merged (time) order, with its effective time.
    pub fn accept(&mut self, event: Box<Event>, time: Option<DateTime<Utc>>) {
        self.totals.count(&event, time);
        if let Some(t) = time {
            self.now = Some(self.now.map_or(t, |n| n.max(t)));
        }
        let drop_if_alone = droppable(&event);
        if time.is_none() && event.record.logger.is_some() && event.kind.is_request_event() {
            self.untimed_requests = true;
        }
        if event.record.logger.is_none() && event.kind.is_request_event() {
            self.console_requests = true;
        }
        let restored = match &event.kind {
            EventKind::PrimaryRestored {
                provider: Some(p), ..
            } => Some(providers::normalize(p)),
            _ => None,
        };
        let first_call = match &event.kind {
            EventKind::Success {
                provider: Some(p), ..
            } => self.restored.remove(&providers::normalize(p)),
            _ => false,
        };
        let i = self.grouper.events.push(*event, time);
        if let Some(p) = restored {
            self.restored.insert(p);
        }
        if first_call {
            self.pinned.insert(i);
        }
        self.grouper.step(i);
        for r in std::mem::take(&mut self.grouper.released) {
            self.grouper.events.set_fate(r, Fate::Drop);
        }
        if self.grouper.held {
            // A lane's lead: its fate is its request's, or dropped when released.
        } else if self.grouper.placed.is_none() {
            let fate = if drop_if_alone {
                Fate::Drop
            } else {
                Fate::Keep
            };
            self.grouper.events.set_fate(i, fate);
        }
        self.since_settle += 1;
        if self.since_settle >= self.settle_every {
            self.since_settle = 0;
            self.settle(false);
        }
    }

    /// Settle the requests no later line can change (all of them at the end of input).
    fn settle(&mut self, all: bool) {
        let now = self.now;
        let done: Vec<usize> = self
            .grouper
            .requests
            .indices()
            .filter(|&r| all || self.grouper.is_final(r, now))
            .collect();
        for r in done {
            let Some(mut req) = self.grouper.requests.take(r) else {
                continue;
            };
            if req.events.is_empty() {
                continue;
            }
            let store = &self.grouper.events;
            group::settle(&mut req, store);
            let pinned = req
                .events
                .iter()
                .filter(|&&e| self.pinned.remove(&e))
                .count()
                > 0;
            let plain = !pinned
                && !self.untimed_requests
                && req.echo_events.is_empty()
                && req.attempts.iter().all(|a| a.succeeded)
                && req.events.iter().all(|&e| droppable(&store[e]));
            let end = req.events.last().and_then(|&e| store.time_of(e));
            let recovering = match end {
                Some(end) if !plain => (!pinned
                    && !self.untimed_requests
                    && !self.console_requests
                    && req.echo_events.is_empty()
                    && recovered(&req, store))
                .then_some(end),
                _ => None,
            };
            if let Some(end) = recovering {
                // Decided once the console look-back has passed (see `release_recovered`).
                self.recovering.push_back((end, r, req));
                continue;
            }
            let fate = if plain { Fate::Drop } else { Fate::Keep };
            for &e in &req.events {
                self.grouper.events.set_fate(e, fate);
            }
            if plain {
                self.totals.dropped_requests += 1;
                self.totals.dropped_attempts += req.attempts.len() as u64;
            } else {
                self.kept_requests.push((r, req));
            }
        }
        self.release_recovered(all);
        self.grouper.events.advance();
        if !all {
            self.grouper.expire_lanes(now);
            for r in std::mem::take(&mut self.grouper.released) {
                self.grouper.events.set_fate(r, Fate::Drop);
            }
        }
    }

    /// Decide the recovered requests whose console look-back has passed (all of them at the
    /// end of input): dropped and counted like plain successes while the input has shown no
    /// console line of a request, kept otherwise.
    fn release_recovered(&mut self, all: bool) {
        let horizon = self.now.map(|n| n - Duration::seconds(CONSOLE_HOLD_SECS));
        while let Some((end, _, _)) = self.recovering.front() {
            let due = all || self.console_requests || horizon.is_some_and(|h| *end < h);
            if !due {
                break;
            }
            let Some((_, r, req)) = self.recovering.pop_front() else {
                break;
            };
            let keep = self.console_requests;
            let fate = if keep { Fate::Keep } else { Fate::Drop };
            for &e in &req.events {
                self.grouper.events.set_fate(e, fate);
            }
            if keep {
                self.kept_requests.push((r, req));
            } else {
                self.totals.dropped_requests += 1;
                self.totals.dropped_attempts += req.attempts.len() as u64;
            }
        }
    }

    /// Requests kept for the final analysis (settled, not plain successes).
    pub fn kept_requests(&self) -> usize {
        self.kept_requests.len()
    }

    /// Forget the oldest kept requests beyond the newest `keep`, with their lines and the
    /// lines outside requests that came before the oldest request still kept (a run that never
    /// ends keeps its memory bounded; what is forgotten no longer counts in the analysis).
    pub fn forget_oldest(&mut self, keep: usize) {
        if self.kept_requests.len() <= keep {
            return;
        }
        self.kept_requests.sort_by_key(|(r, _)| *r);
        let n = self.kept_requests.len() - keep;
        let mut gone: Vec<usize> = Vec::new();
        for (_, r) in self.kept_requests.drain(..n) {
            gone.extend(r.events.iter().chain(&r.echo_events));
        }
        gone.sort_unstable();
        let store = &mut self.grouper.events;
        let floor = self
            .kept_requests
            .iter()
            .filter_map(|(_, r)| r.events.first().copied())
            .min()
            .unwrap_or(store.base)
            .min(store.base);
        let old = (
            std::mem::take(&mut store.kept),
            std::mem::take(&mut store.kept_at),
            std::mem::take(&mut store.kept_times),
        );
        for ((event, at), time) in old.0.into_iter().zip(old.1).zip(old.2) {
            if at >= floor && gone.binary_search(&at).is_err() {
                store.kept.push(event);
                store.kept_at.push(at);
                store.kept_times.push(time);
            }
        }
        self.pinned.retain(|&i| i >= floor);
    }

    /// End of input: settle everything and build the analysis of what was kept.
    pub fn finish(
        mut self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        opts: CorrelateOptions,
    ) -> (super::Analysis, StreamTotals) {
        self.settle(true);
        let store = &mut self.grouper.events;
        // Every line is settled now; nothing stays in the window.
        for s in &mut store.window {
            if s.fate == Fate::Pending {
                s.fate = Fate::Keep;
            }
        }
        store.advance();
        let events = std::mem::take(&mut store.kept);
        let times = std::mem::take(&mut store.kept_times);
        let globals = std::mem::take(&mut store.kept_at);
        let dense = |g: usize| globals.binary_search(&g).unwrap_or(0);
        self.kept_requests.sort_by_key(|(r, _)| *r);
        let requests: Vec<Request> = self
            .kept_requests
            .into_iter()
            .map(|(_, mut r)| {
                for e in r.events.iter_mut().chain(r.echo_events.iter_mut()) {
                    *e = dense(*e);
                }
                for a in &mut r.attempts {
                    for e in &mut a.events {
                        *e = dense(*e);
                    }
                }
                r.end_event = r.end_event.map(dense);
                r
            })
            .collect();
        let sources = std::mem::take(&mut self.grouper.sources);
        let analysis = super::finish(
            Grouped {
                events,
                times,
                requests,
                duplicates: self.duplicates,
            },
            sources,
            auths,
            lists,
            (opts, &self.totals.fingerprint),
        );
        (analysis, self.totals)
    }
}

/// One log source read live (`--follow`): the batch run's streamed loop for a single source —
/// its [`Orderer`] puts the events in time order and the [`Streamer`] groups and settles them,
/// carrying pool, cooldown and fallback history across requests exactly as a whole-file run
/// does. [`Followed::snapshot`] is the analysis a run ending here would make, without ending
/// it; [`Followed::finish`] ends it.
#[derive(Clone)]
pub struct Followed {
    orderer: Orderer,
    streamer: Streamer,
    /// Kept requests remembered at most (see [`Followed::remember`]).
    remember: usize,
}

/// Requests with something to report that a live run remembers by default.
pub const FOLLOW_REMEMBER: usize = 1000;

impl Followed {
    /// `sources`: display names of every input, by source id (the followed log is one of them).
    pub fn new(sources: Vec<String>) -> Self {
        Followed {
            orderer: Orderer::default(),
            streamer: Streamer::new(sources),
            remember: FOLLOW_REMEMBER,
        }
    }

    /// Remember at most about `n` settled requests that have something to report (plain
    /// successes are never kept): beyond that the oldest are forgotten, a tenth at a time, so
    /// that a run of days keeps its memory and its analyses bounded. State older than what is
    /// remembered (a profile benched by a forgotten request) no longer counts.
    pub fn remember(mut self, n: usize) -> Self {
        self.remember = n.max(1);
        self
    }

    /// Look for settled requests after every `n` events (see [`Streamer::settle_every`]).
    pub fn settle_every(mut self, n: usize) -> Self {
        self.streamer = self.streamer.settle_every(n);
        self
    }

    /// Requests with something to report remembered now.
    pub fn remembered(&self) -> usize {
        self.streamer.kept_requests()
    }

    /// Take the source's next event, in line order.
    pub fn push(&mut self, event: Box<Event>) {
        let streamer = &mut self.streamer;
        self.orderer.push(event, &mut |t, e| streamer.accept(e, t));
        if self.streamer.kept_requests() > self.remember + self.remember / 10 {
            self.streamer.forget_oldest(self.remember);
        }
    }

    /// The analysis of everything pushed so far, as if the input ended here; the run goes on.
    pub fn snapshot(
        &self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        opts: CorrelateOptions,
    ) -> (super::Analysis, StreamTotals) {
        self.clone().finish(auths, lists, opts)
    }

    /// End of input: release what the orderer holds and build the analysis.
    pub fn finish(
        mut self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        opts: CorrelateOptions,
    ) -> (super::Analysis, StreamTotals) {
        let streamer = &mut self.streamer;
        self.orderer.finish(&mut |t, e| streamer.accept(e, t));
        self.streamer.note_late(self.orderer.late);
        self.streamer.finish(auths, lists, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(line: u32, secs: Option<i64>) -> Box<Event> {
        let mut e = Store::default_missing();
        e.record.loc.line = line;
        e.record.time.utc = secs.and_then(|s| Utc.timestamp_opt(s, 0).single());
        Box::new(e)
    }

    fn order(input: &[(u32, Option<i64>)]) -> (Vec<(u32, Option<i64>)>, u64) {
        let mut o = Orderer::default();
        let mut out = Vec::new();
        let mut take = |t: Option<DateTime<Utc>>, e: Box<Event>| {
            out.push((e.record.loc.line, t.map(|t| t.timestamp())));
        };
        for &(line, secs) in input {
            o.push(event(line, secs), &mut take);
        }
        o.finish(&mut take);
        (out, o.late)
    }

    #[test]
    fn lines_out_of_order_within_the_window_are_sorted_stably() {
        let (out, late) = order(&[
            (1, Some(100)),
            (2, Some(50)),
            (3, Some(100)),
            (4, None),
            (5, Some(2000)),
        ]);
        assert_eq!(
            out,
            vec![
                (2, Some(50)),
                (1, Some(100)),
                (3, Some(100)),
                (4, Some(100)),
                (5, Some(2000))
            ]
        );
        assert_eq!(late, 0);
    }

    #[test]
    fn leading_untimed_lines_take_the_first_time_and_untimed_sources_keep_line_order() {
        let (out, _) = order(&[(1, None), (2, None), (3, Some(10))]);
        assert_eq!(out, vec![(1, Some(10)), (2, Some(10)), (3, Some(10))]);
        let (out, _) = order(&[(1, None), (2, None)]);
        assert_eq!(out, vec![(1, None), (2, None)]);
    }

    #[test]
    fn a_line_behind_what_was_released_is_passed_on_where_it_came_and_counted() {
        // Line 2 releases line 1 (more than the window earlier); line 3 is older than line 1.
        let (out, late) = order(&[(1, Some(1000)), (2, Some(9000)), (3, Some(500))]);
        assert_eq!(out, vec![(1, Some(1000)), (3, Some(500)), (2, Some(9000))]);
        assert_eq!(late, 1);
    }
}

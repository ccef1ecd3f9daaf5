//! Group events into requests (catalog §6): by session tag, pid (+ subagent), source, and time.

use super::{Attempt, Outcome, Request};
use crate::classify::quota::{failure_class, FailureClass};
use crate::model::{elapsed, Event, EventKind};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::fmt::Write;

/// The grouper's maps, keyed by lane names and sources from the input: every event looks its
/// lane up, and SipHash cost more than the lookup. foldhash is seeded per process like SipHash,
/// and nothing here depends on a map's order.
type HashMap<K, V> = foldhash::HashMap<K, V>;
use std::ops::Index;

/// A request left without an ending line is closed when its lane is quiet this long.
pub const IDLE_CLOSE_SECS: i64 = 900;
/// An untagged request (worker-thread lines) is adopted by a tagged lane within this window.
const ADOPT_SECS: i64 = 10;

/// A fallback line this soon after a terminal failure continues the failed request.
const REOPEN_SECS: i64 = 5;

#[derive(Default, Clone)]
struct Lane {
    open: Option<usize>,
    last_time: Option<DateTime<Utc>>,
    /// An untimed line was placed in the lane (and no timed one yet, when `last_time` is None).
    untimed: bool,
    /// The request closed last by a terminal failure, for a fallback line that follows it.
    failed: Option<usize>,
    /// Process id of the lane's last event (journal lines carry one).
    pid: Option<u32>,
    /// Host of the lane's last tagged event (journal lines carry one).
    host: Option<String>,
    /// A call's client line (`OpenAI client created (chat_completion_stream_request …)`, logged
    /// untagged by the worker thread) seen while no request was open: it shows the endpoint of
    /// the call whose failure opens the next request.
    lead: Option<usize>,
}

/// How long before the request's first line its call's client line may come.
const LEAD_SECS: i64 = 120;

/// Events by global index, with their effective times: the whole merged input, or the window of
/// a streamed one.
pub(super) trait Events: Index<usize, Output = Event> {
    fn time_of(&self, i: usize) -> Option<DateTime<Utc>>;
}

/// The whole merged input.
struct Slices<'a> {
    events: &'a [Event],
    times: &'a [Option<DateTime<Utc>>],
}

impl Index<usize> for Slices<'_> {
    type Output = Event;
    fn index(&self, i: usize) -> &Event {
        &self.events[i]
    }
}

impl Events for Slices<'_> {
    fn time_of(&self, i: usize) -> Option<DateTime<Utc>> {
        self.times.get(i).copied().flatten()
    }
}

/// Requests by index; a streamed run takes finished ones out from the front.
#[derive(Default, Clone)]
pub(super) struct Slab {
    base: usize,
    slots: VecDeque<Option<Request>>,
}

impl Slab {
    /// Index the next request gets.
    pub fn len(&self) -> usize {
        self.base + self.slots.len()
    }

    fn push(&mut self, r: Request) {
        self.slots.push_back(Some(r));
    }

    pub fn get(&self, i: usize) -> Option<&Request> {
        self.slots.get(i.checked_sub(self.base)?)?.as_ref()
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Request> {
        self.slots.get_mut(i.checked_sub(self.base)?)?.as_mut()
    }

    /// Take request `i` out; the front is trimmed past taken slots.
    pub fn take(&mut self, i: usize) -> Option<Request> {
        let r = self.slots.get_mut(i.checked_sub(self.base)?)?.take();
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.base += 1;
        }
        r
    }

    /// Indices of the requests still held.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(move |(k, _)| self.base + k)
    }

    /// All requests still held, with their indices, in order.
    pub fn drain(&mut self) -> Vec<(usize, Request)> {
        let base = self.base;
        self.base += self.slots.len();
        self.slots
            .drain(..)
            .enumerate()
            .filter_map(|(k, s)| s.map(|r| (base + k, r)))
            .collect()
    }
}

/// A session tag `YYYYMMDD_HHMMSS_xxxxxx` (six lower-case hex digits, a valid date and time) as
/// one number: the lane `session TAG` of a forgotten session in eight bytes. Distinct tags give
/// distinct numbers (mixed radix over the fields' ranges, below 2^63).
fn packed_session(lane: &str) -> Option<u64> {
    let tag = lane.strip_prefix("session ")?.as_bytes();
    if tag.len() != 22 || tag[8] != b'_' || tag[15] != b'_' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let d = tag.get(r)?;
        d.iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let hex = tag[16..].iter().try_fold(0u64, |n, &c| {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some(n * 16 + u64::from(v))
    })?;
    let when = ((((y * 12 + mo - 1) * 31 + d - 1) * 24 + h) * 60 + mi) * 61 + se;
    Some(when << 24 | hex)
}

/// Request counters of lanes: of live lanes by name, and of forgotten ones (an idle session
/// whose lane expired) compactly, since the next request of a session that comes back continues
/// its numbering. A forgotten session tag costs twelve bytes (a sorted vector, fed from a small
/// ordered map); other lane names are kept whole.
#[derive(Default, Clone)]
struct Counters {
    live: HashMap<String, u32>,
    keys: Vec<u64>,
    counts: Vec<u32>,
    recent: std::collections::BTreeMap<u64, u32>,
    named: HashMap<String, u32>,
}

/// Forgotten session counters gathered before they are merged into the sorted vector.
const RECENT_COUNTERS: usize = 4096;

impl Counters {
    /// Number the lane's next request.
    fn next(&mut self, lane: &str) -> u32 {
        if let Some(n) = self.live.get_mut(lane) {
            *n += 1;
            return *n;
        }
        let n = self.forgotten(lane) + 1;
        self.live.insert(lane.to_string(), n);
        n
    }

    /// Requests numbered in a forgotten lane (0 for a lane never seen).
    fn forgotten(&mut self, lane: &str) -> u32 {
        match packed_session(lane) {
            Some(k) => match self.recent.get(&k) {
                Some(&n) => n,
                None => self
                    .keys
                    .binary_search(&k)
                    .ok()
                    .and_then(|i| self.counts.get(i).copied())
                    .unwrap_or(0),
            },
            None => self.named.get(lane).copied().unwrap_or(0),
        }
    }

    /// The lane is forgotten: keep only its count.
    fn retire(&mut self, lane: &str) {
        let Some(n) = self.live.remove(lane) else {
            return;
        };
        let Some(k) = packed_session(lane) else {
            self.named.insert(lane.to_string(), n);
            return;
        };
        if let Ok(i) = self.keys.binary_search(&k) {
            if let Some(c) = self.counts.get_mut(i) {
                *c = n;
            }
            return;
        }
        self.recent.insert(k, n);
        if self.recent.len() >= RECENT_COUNTERS {
            self.merge();
        }
    }

    /// Merge the recent counters into the sorted vectors (in place, from the back).
    fn merge(&mut self) {
        let recent = std::mem::take(&mut self.recent);
        let old = self.keys.len();
        self.keys.resize(old + recent.len(), 0);
        self.counts.resize(old + recent.len(), 0);
        let (mut i, mut w) = (old, old + recent.len());
        for (k, n) in recent.into_iter().rev() {
            while i > 0 && self.keys[i - 1] > k {
                i -= 1;
                w -= 1;
                self.keys[w] = self.keys[i];
                self.counts[w] = self.counts[i];
            }
            w -= 1;
            self.keys[w] = k;
            self.counts[w] = n;
        }
    }
}

#[derive(Clone)]
pub(super) struct Grouper<E: Events> {
    pub events: E,
    /// Display names of the inputs, by source id.
    pub sources: Vec<String>,
    /// Request the last stepped event joined, if any.
    pub placed: Option<usize>,
    pub requests: Slab,
    lanes: HashMap<String, Lane>,
    last_active: Option<String>,
    /// The lane each source fed last: an untagged line of a file that carries no process id
    /// never joins a journal process lane another source fed.
    last_by_source: HashMap<u32, String>,
    counters: Counters,
    /// The last stepped event is held as a lane's lead: neither placed nor dropped yet.
    pub held: bool,
    /// Leads no request took (replaced, too old, lane forgotten): nothing reads them.
    pub released: Vec<usize>,
}

/// The lane of a process: its PID on its host (`pid 2101@gw-1`), never a PID alone — two hosts
/// (containers) easily share one. [`name_hosts`] renders it for display.
fn pid_lane(pid: u32, host: Option<&str>, sub: &str) -> String {
    match host {
        Some(h) => format!("pid {pid}@{h}{sub}"),
        None => format!("pid {pid}{sub}"),
    }
}

/// Request ids name the host only when the input holds several: `gw-2 pid 3101#1`; with one
/// host, `pid 3101#1`. `fleet`: this is one host's shard of an input of several.
pub(super) fn name_hosts<E: Index<usize, Output = Event> + ?Sized>(
    requests: &mut [Request],
    events: &E,
    fleet: bool,
) {
    let host_of = |id: &str| -> Option<String> {
        let rest = id.strip_prefix("pid ")?;
        let (_, after) = rest.split_once('@')?;
        let end = after.find(['/', '#']).unwrap_or(after.len());
        Some(after[..end].to_string())
    };
    let mut hosts: Vec<String> = requests.iter().filter_map(|r| host_of(&r.id)).collect();
    hosts.sort();
    hosts.dedup();
    for r in requests.iter_mut() {
        r.host =
            host_of(&r.id).or_else(|| r.events.iter().find_map(|&e| events[e].record.host.clone()));
        let Some(h) = host_of(&r.id) else { continue };
        let plain = r.id.replacen(&format!("@{h}"), "", 1);
        r.id = if hosts.len() > 1 || fleet {
            format!("{h} {plain}")
        } else {
            plain
        };
    }
}

/// The client a worker thread builds for one provider call.
fn is_call_client(reason: &str) -> bool {
    matches!(
        reason,
        "chat_completion_stream_request"
            | "chat_completion_request"
            | "codex_stream_request"
            | "anthropic_stream_request"
    )
}

fn lane_of(ev: &Event) -> Option<String> {
    let r = &ev.record;
    let sub = r
        .subagent
        .map(|n| format!("/subagent-{n}"))
        .unwrap_or_default();
    if let Some(s) = &r.session {
        // Built by hand: this runs for every event, and `format!` costs several times more.
        let mut lane = String::with_capacity("session ".len() + s.len() + sub.len());
        lane.push_str("session ");
        lane.push_str(s);
        lane.push_str(&sub);
        return Some(lane);
    }
    if let Some(p) = r.pid {
        return Some(pid_lane(p, r.host.as_deref(), &sub));
    }
    if r.subagent.is_some() {
        return Some(format!("src{}{sub}", r.loc.source));
    }
    None
}

fn new_attempt(i: usize, ev: &Event, time: Option<DateTime<Utc>>) -> Option<Attempt> {
    let mut a = Attempt {
        events: vec![i],
        counter: None,
        succeeded: false,
        status: None,
        class: FailureClass::Other,
        error_type: None,
        provider: None,
        provider_basis: "attempt line",
        details: None,
        profile: None,
        basis: None,
        unknown_reason: None,
        time,
        cooled: None,
        others_available: Vec::new(),
        untried_available: Vec::new(),
        availability_inferred: false,
    };
    match &ev.kind {
        EventKind::AttemptFailed {
            attempt,
            max,
            error_type,
            status,
            provider,
            summary,
            details,
            ..
        } => {
            a.counter = Some((*attempt, *max));
            a.error_type = error_type.clone();
            a.status = status.or(details.as_ref().and_then(|d| d.status));
            a.provider = provider.clone().filter(|p| !p.is_empty());
            a.details = details.clone();
            let text = summary.as_deref().unwrap_or(&ev.record.message);
            a.class = failure_class(a.status, error_type.as_deref(), details.as_deref(), text);
        }
        EventKind::StreamFailed {
            status,
            details,
            text,
        } => {
            a.status = status.or(details.as_ref().and_then(|d| d.status));
            a.details = details.clone();
            a.class = failure_class(a.status, None, details.as_deref(), text);
        }
        EventKind::ProviderError {
            provider,
            status,
            details,
            text,
        } => {
            a.status = *status;
            a.provider = provider.clone();
            a.details = details.clone();
            a.class = failure_class(*status, None, details.as_deref(), text);
        }
        EventKind::Success { provider, .. } => {
            a.succeeded = true;
            a.provider = provider.clone().filter(|p| !p.is_empty());
        }
        _ => return None,
    }
    Some(a)
}

impl<E: Events> Grouper<E> {
    pub fn new(events: E, sources: Vec<String>) -> Self {
        Grouper {
            events,
            sources,
            placed: None,
            requests: Slab::default(),
            lanes: HashMap::default(),
            last_active: None,
            last_by_source: HashMap::default(),
            counters: Counters::default(),
            held: false,
            released: Vec::new(),
        }
    }

    fn time(&self, i: usize) -> Option<DateTime<Utc>> {
        self.events.time_of(i)
    }

    /// Forget lanes quiet for longer than a request can stay open, whose requests are all
    /// settled (taken out): the next line of such a lane finds it as a new lane would (the
    /// request counter is kept). The most recently active lane is kept (its freshness decides
    /// where untagged lines go).
    pub fn expire_lanes(&mut self, now: Option<DateTime<Utc>>) {
        let Some(now) = now else { return };
        let requests = &self.requests;
        let last_active = self.last_active.as_deref();
        let released = &mut self.released;
        let counters = &mut self.counters;
        self.lanes.retain(|name, l| {
            let quiet = l
                .last_time
                .is_some_and(|a| elapsed(now, a).num_seconds() > IDLE_CLOSE_SECS);
            let settled = |r: Option<usize>| r.is_none_or(|r| requests.get(r).is_none());
            let forget =
                quiet && settled(l.open) && settled(l.failed) && Some(name.as_str()) != last_active;
            if quiet {
                released.extend(l.lead.take());
            }
            if forget {
                counters.retire(name);
            }
            !forget
        });
        let lanes = &self.lanes;
        self.last_by_source.retain(|_, l| lanes.contains_key(l));
    }

    /// Whether request `r` can no longer change once the input has reached `now` (later events
    /// are no earlier): it was closed and cannot be reopened, or its lane has been quiet long
    /// enough that the next line of the lane closes it.
    pub fn is_final(&self, r: usize, now: Option<DateTime<Utc>>) -> bool {
        let Some(req) = self.requests.get(r) else {
            return true;
        };
        let Some(l) = self.lanes.get(&req.lane) else {
            return true;
        };
        // A lane of untimed lines only is done once timed lines come: sources with no time at
        // all are merged before every timed one.
        let quiet = |limit: i64| match (l.last_time, now) {
            (Some(a), Some(b)) => elapsed(b, a).num_seconds() > limit,
            (None, Some(_)) => l.untimed,
            _ => false,
        };
        if l.open == Some(r) {
            return quiet(IDLE_CLOSE_SECS);
        }
        if l.failed == Some(r) && l.open.is_none() {
            return quiet(REOPEN_SECS);
        }
        true
    }

    fn open_request(&mut self, lane: &str, i: usize) -> usize {
        let n = self.counters.next(lane);
        // `<lane>#<n>`, a source lane (`src<id>[/<sub>]`) named by its source: built by hand,
        // once per request.
        let mut id = String::with_capacity(lane.len() + 8);
        if let Some(src) = lane.strip_prefix("src") {
            let source: usize = src
                .split('/')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            id.push_str(
                self.sources
                    .get(source)
                    .map(String::as_str)
                    .unwrap_or("input"),
            );
            if let Some((_, sub)) = lane.split_once('/') {
                id.push('/');
                id.push_str(sub);
            }
        } else {
            id.push_str(lane);
        }
        id.push('#');
        // Writing to a String cannot fail.
        let _ = write!(id, "{n}");
        let idx = self.requests.len();
        self.requests.push(Request {
            id,
            lane: lane.to_string(),
            events: Vec::new(),
            attempts: Vec::new(),
            primary_provider: None,
            fallbacks: Vec::new(),
            outcome: Outcome::Open,
            end_event: None,
            untried_at_end: Vec::new(),
            untried_at_end_inferred: false,
            echo_events: Vec::new(),
            host: None,
        });
        let t = self.time(i);
        let l = self.lanes.entry(lane.to_string()).or_default();
        l.open = Some(idx);
        if let Some(lead) = l.lead.take() {
            let recent = match (self.events.time_of(lead), t) {
                (Some(a), Some(b)) => elapsed(b, a).num_seconds() <= LEAD_SECS,
                _ => false,
            };
            match self.requests.get_mut(idx) {
                Some(req) if recent && lead < i => req.events.push(lead),
                _ => self.released.push(lead),
            }
        }
        idx
    }

    fn close(&mut self, lane: &str, outcome: Outcome, end: Option<usize>) {
        if let Some(l) = self.lanes.get_mut(lane) {
            if let Some(r) = l.open.take() {
                l.failed = (outcome == Outcome::Failed).then_some(r);
                if let Some(req) = self.requests.get_mut(r) {
                    req.outcome = outcome;
                    req.end_event = end;
                }
            }
        }
    }

    /// Resolve the lane of event `i`: its own tag, else the most recently active lane, else its
    /// source's untagged lane. A tagged lane adopts a young untagged request of the same source.
    fn resolve_lane(&mut self, i: usize) -> String {
        let ev = &self.events[i];
        let t = self.time(i);
        if let Some(lane) = self.session_of_pid(ev, t) {
            return lane;
        }
        if let Some(lane) = lane_of(ev) {
            if ev.record.session.is_some() {
                let l = self.lanes.entry(lane.clone()).or_default();
                l.pid = ev.record.pid;
                l.host = ev.record.host.clone();
            }
            let has_open = self.lanes.get(&lane).is_some_and(|l| l.open.is_some());
            if !has_open {
                // Worker-thread lines before the session's first tagged line: in a journal
                // they carry the process id (`pid N` lane), elsewhere only their source.
                let sub = ev
                    .record
                    .subagent
                    .map(|n| format!("/subagent-{n}"))
                    .unwrap_or_default();
                let candidates = [
                    ev.record
                        .pid
                        .map(|p| pid_lane(p, ev.record.host.as_deref(), &sub)),
                    Some(format!("src{}", ev.record.loc.source)),
                ];
                let young = candidates.into_iter().flatten().find_map(|untagged| {
                    let l = self.lanes.get(&untagged)?;
                    let r = l.open?;
                    let fresh = match (l.last_time, t) {
                        (Some(a), Some(b)) => elapsed(b, a).num_seconds() <= ADOPT_SECS,
                        _ => true,
                    };
                    fresh.then_some((untagged, r))
                });
                if let Some((untagged, r)) = young {
                    if let Some(l) = self.lanes.get_mut(&untagged) {
                        l.open = None;
                    }
                    if let Some(req) = self.requests.get_mut(r) {
                        req.lane = lane.clone();
                        let n = self.counters.next(&lane);
                        req.id = format!("{lane}#{n}");
                    }
                    self.lanes.entry(lane.clone()).or_default().open = Some(r);
                }
            }
            return lane;
        }
        let mut last_active = self.last_active.as_ref();
        if ev.record.pid.is_none() && last_active.is_some_and(|l| l.starts_with("pid ")) {
            if let Some(own) = self.last_by_source.get(&ev.record.loc.source) {
                last_active = Some(own);
            }
        }
        if let Some(last) = last_active {
            let same_source_lane = last
                .strip_prefix("src")
                .and_then(|s| s.split('/').next())
                .and_then(|s| s.parse::<u32>().ok())
                == Some(ev.record.loc.source);
            let tagged = last.starts_with("session ") || last.starts_with("pid ");
            let fresh = match (self.lanes.get(last).and_then(|l| l.last_time), t) {
                (Some(a), Some(b)) => elapsed(b, a).num_seconds().abs() <= IDLE_CLOSE_SECS,
                _ => true,
            };
            if fresh && (tagged || same_source_lane) {
                return last.clone();
            }
        }
        format!("src{}", ev.record.loc.source)
    }

    /// An untagged journal line (a worker thread of the process) belongs to the session that
    /// process logged last, when that session lane is still fresh.
    fn session_of_pid(&self, ev: &Event, t: Option<DateTime<Utc>>) -> Option<String> {
        let r = &ev.record;
        if r.session.is_some() || r.subagent.is_some() {
            return None;
        }
        let pid = r.pid?;
        let last = self.last_active.as_ref()?;
        let lane = self.lanes.get(last)?;
        let fresh = match (lane.last_time, t) {
            (Some(a), Some(b)) => elapsed(b, a).num_seconds().abs() <= IDLE_CLOSE_SECS,
            _ => true,
        };
        // One emitter is (host, process): two hosts' gateways easily share a PID.
        (last.starts_with("session ") && lane.pid == Some(pid) && lane.host == r.host && fresh)
            .then(|| last.clone())
    }

    fn ensure_open(&mut self, lane: &str, i: usize) -> usize {
        match self.lanes.get(lane).and_then(|l| l.open) {
            Some(r) => r,
            None => self.open_request(lane, i),
        }
    }

    /// The request this lane closed by a terminal failure just now, if no request is open.
    fn recent_failed(&self, lane: &str, t: Option<DateTime<Utc>>) -> Option<usize> {
        let l = self.lanes.get(lane)?;
        if l.open.is_some() {
            return None;
        }
        let recent = match (l.last_time, t) {
            (Some(a), Some(b)) => elapsed(b, a).num_seconds() <= REOPEN_SECS,
            _ => true,
        };
        l.failed.filter(|_| recent)
    }

    /// Continue the request that just failed when a fallback line follows its terminal line.
    fn reopen_failed(&mut self, lane: &str, t: Option<DateTime<Utc>>) {
        if let Some(r) = self.recent_failed(lane, t) {
            let Some(l) = self.lanes.get_mut(lane) else {
                return;
            };
            l.failed = None;
            l.open = Some(r);
            if let Some(req) = self.requests.get_mut(r) {
                req.outcome = Outcome::Open;
            }
        }
    }

    fn push_event(&mut self, r: usize, i: usize) {
        if let Some(req) = self.requests.get_mut(r) {
            req.events.push(i);
            self.placed = Some(r);
        }
    }

    fn on_attempt(&mut self, lane: &str, i: usize, att: Attempt) {
        let ev = &self.events[i];
        // Merge an attempt line into the stream failure it reports.
        if let (EventKind::AttemptFailed { .. }, Some(r)) =
            (&ev.kind, self.lanes.get(lane).and_then(|l| l.open))
        {
            let merge = self.requests.get(r).is_some_and(|req| {
                let last_att = req.attempts.last();
                let last_ev = req.events.last().copied();
                match last_att {
                    Some(a) => {
                        a.counter.is_none()
                            && !a.succeeded
                            && matches!(
                                self.events[a.events[0]].kind,
                                EventKind::StreamFailed { .. }
                            )
                            && last_ev.is_some_and(|le| {
                                let k = &self.events[le].kind;
                                a.events.contains(&le)
                                    || !(k.is_rotation()
                                        || matches!(
                                            k,
                                            EventKind::PoolMarked { .. }
                                                | EventKind::StreamFailed { .. }
                                                | EventKind::Success { .. }
                                        ))
                            })
                    }
                    None => false,
                }
            });
            if merge {
                if let Some(req) = self.requests.get_mut(r) {
                    if let Some(a) = req.attempts.last_mut() {
                        a.events.push(i);
                        a.counter = att.counter;
                        a.error_type = att.error_type.clone();
                        if a.provider.is_none() {
                            a.provider = att.provider.clone();
                        }
                        if a.status.is_none() {
                            a.status = att.status;
                        }
                        if a.details.is_none() {
                            a.details = att.details.clone();
                        }
                        if a.class == FailureClass::Other {
                            a.class = att.class;
                        }
                    }
                    req.events.push(i);
                    self.placed = Some(r);
                }
                return;
            }
            // A counter that restarts is a new request unless the account changed or a rotation
            // was logged since the previous counted attempt.
            if let Some(req) = self.requests.get(r) {
                let prev = req.attempts.iter().rev().find(|a| a.counter.is_some());
                if let (Some(prev), Some((k, _))) = (prev, att.counter) {
                    let prev_k = prev.counter.map(|c| c.0).unwrap_or(0);
                    if k <= prev_k {
                        let changed_account = match (&prev.details, &att.details) {
                            (Some(a), Some(b)) => super::pool::same_account(a, b) == Some(false),
                            _ => false,
                        };
                        let last_prev_ev = prev.events.last().copied().unwrap_or(0);
                        let rotated = req.between(last_prev_ev, usize::MAX).iter().any(|&e| {
                            let k = &self.events[e].kind;
                            k.is_rotation()
                                || matches!(
                                    k,
                                    EventKind::PoolMarked { .. }
                                        | EventKind::FallbackActivated { .. }
                                        | EventKind::FallbackNotice { .. }
                                        | EventKind::FallbackSwitching { .. }
                                        | EventKind::GatewayPrimaryFailed { .. }
                                )
                        });
                        let changed_provider = matches!(
                            (&prev.provider, &att.provider),
                            (Some(a), Some(b)) if a != b
                        );
                        // A console block (no logger name) that repeats a logged attempt of
                        // this request with the same counter is a late witness of that call,
                        // not a restart (0.16+ hold console notices back to the turn's end).
                        let witness = self.events[i].record.logger.is_none()
                            && req.attempts.iter().any(|a| {
                                a.counter == att.counter
                                    && a.events
                                        .iter()
                                        .any(|&e| self.events[e].record.logger.is_some())
                            });
                        // Console blocks held back to the turn's end come in one burst: a
                        // counter restarting inside the burst (a rebuilt client, a fallback)
                        // is the same turn.
                        let console = |e: usize| self.events[e].record.logger.is_none();
                        let burst = console(i)
                            && prev.events.iter().all(|&e| console(e))
                            && match (prev.time, att.time) {
                                (Some(a), Some(b)) => {
                                    elapsed(b, a).num_milliseconds().abs() <= 1000
                                }
                                _ => false,
                            };
                        // A console attempt k/N after the previous block spent its budget
                        // (N/N) with no terminal line between: Hermes moved on within the
                        // turn (transport recovery, fallback), which prints no such line.
                        let spent = console(i)
                            && prev.events.iter().all(|&e| console(e))
                            && prev.counter.is_some_and(|(k, n)| k == n)
                            && !req.between(last_prev_ev, usize::MAX).iter().any(|&e| {
                                matches!(
                                    self.events[e].kind,
                                    EventKind::TerminalFailure { .. }
                                        | EventKind::NonRetryable { .. }
                                )
                            });
                        if !changed_account
                            && !rotated
                            && !changed_provider
                            && !witness
                            && !burst
                            && !spent
                        {
                            self.close(lane, Outcome::Open, None);
                        }
                    }
                }
            }
        }
        let r = self.ensure_open(lane, i);
        if let Some(req) = self.requests.get_mut(r) {
            req.events.push(i);
            req.attempts.push(att);
            self.placed = Some(r);
        }
    }

    pub fn step(&mut self, i: usize) {
        self.placed = None;
        self.held = false;
        let t = self.time(i);
        let kind = &self.events[i].kind;
        if !kind.is_request_event() {
            return;
        }
        let lane = self.resolve_lane(i);
        // Close a request whose lane went quiet for long.
        if let Some(l) = self.lanes.get(&lane) {
            let quiet = match (l.last_time, t) {
                (Some(a), Some(b)) => elapsed(b, a).num_seconds() > IDLE_CLOSE_SECS,
                // Untimed lines (merged before every timed one) end where timed ones begin; a
                // lane just made (a tagged lane adopting a request) has no lines yet.
                (None, Some(_)) => l.untimed,
                _ => false,
            };
            if quiet && l.open.is_some() {
                self.close(&lane, Outcome::Open, None);
            }
        }
        let kind = &self.events[i].kind;
        match kind {
            EventKind::TurnStart { .. } | EventKind::GatewayInbound { .. } => {
                self.close(&lane, Outcome::Open, None);
            }
            EventKind::AttemptFailed { .. }
            | EventKind::StreamFailed { .. }
            | EventKind::ProviderError { .. } => {
                if let Some(att) = new_attempt(i, &self.events[i], t) {
                    self.on_attempt(&lane, i, att);
                }
            }
            EventKind::Success { .. } => {
                if let Some(att) = new_attempt(i, &self.events[i], t) {
                    self.on_attempt(&lane, i, att);
                }
                self.close(&lane, Outcome::Success, Some(i));
            }
            EventKind::TerminalFailure { .. } | EventKind::NonRetryable { .. } => {
                // A second terminal line (the console panel repeats it) joins the failed request.
                if let Some(r) = self.recent_failed(&lane, t) {
                    self.push_event(r, i);
                    return;
                }
                let r = self.ensure_open(&lane, i);
                self.push_event(r, i);
                self.close(&lane, Outcome::Failed, Some(i));
            }
            EventKind::TurnEnd { .. } | EventKind::GatewayResponse { .. } => {
                if let Some(r) = self.lanes.get(&lane).and_then(|l| l.open) {
                    self.push_event(r, i);
                    let succeeded = self
                        .requests
                        .get(r)
                        .is_some_and(|q| q.attempts.last().is_some_and(|a| a.succeeded));
                    let outcome = if succeeded {
                        Outcome::Success
                    } else {
                        Outcome::Open
                    };
                    self.close(&lane, outcome, Some(i));
                }
            }
            EventKind::Details { details } => {
                let details = details.clone();
                if let Some(r) = self.lanes.get(&lane).and_then(|l| l.open) {
                    self.placed = Some(r);
                    if let Some(req) = self.requests.get_mut(r) {
                        req.events.push(i);
                        if let Some(a) = req.attempts.last_mut() {
                            if a.details.is_none() {
                                a.details = Some(details);
                            }
                        }
                    }
                }
            }
            EventKind::ClientCreated { reason, .. }
                if is_call_client(reason)
                    && self.lanes.get(&lane).and_then(|l| l.open).is_none() =>
            {
                let l = self.lanes.entry(lane.clone()).or_default();
                if let Some(old) = l.lead.replace(i) {
                    self.released.push(old);
                }
                self.held = true;
            }
            EventKind::ClientCreated { .. }
            | EventKind::PlaceholderKey { .. }
            | EventKind::CooldownNotice { .. }
            | EventKind::AuthRejectedNotice { .. }
            | EventKind::FallbackResolved { .. }
            | EventKind::PrimaryRestored { .. }
            | EventKind::RestorePoolEntry { .. }
            | EventKind::PoolModelCooldown { .. }
            // Census notices join the open request; alone they open none.
            | EventKind::EmptyResponseRetry { .. }
            | EventKind::AggregatorRateLimitSkipRotation { .. }
            | EventKind::CredentialRefreshed { .. }
            | EventKind::RestoreFailed { .. }
            | EventKind::RequestNotice { .. } => {
                if let Some(r) = self.lanes.get(&lane).and_then(|l| l.open) {
                    self.push_event(r, i);
                }
            }
            EventKind::FallbackActivated { .. }
            | EventKind::FallbackNotice { .. }
            | EventKind::FallbackSwitching { .. }
            | EventKind::GatewayPrimaryFailed { .. } => {
                self.reopen_failed(&lane, t);
                let r = self.ensure_open(&lane, i);
                self.push_event(r, i);
            }
            _ => {
                // Waits, pool and rotation lines belong to the open request (or open one).
                let r = self.ensure_open(&lane, i);
                self.push_event(r, i);
            }
        }
        let l = self.lanes.entry(lane.clone()).or_default();
        if t.is_some() {
            l.last_time = t;
        } else {
            l.untimed = true;
        }
        self.last_by_source
            .insert(self.events[i].record.loc.source, lane.clone());
        self.last_active = Some(lane);
    }
}

/// Group the merged events into requests.
pub fn group(
    events: &[Event],
    times: &[Option<DateTime<Utc>>],
    sources: &[String],
) -> Vec<Request> {
    let mut g = Grouper::new(Slices { events, times }, sources.to_vec());
    for i in 0..events.len() {
        g.step(i);
    }
    let mut requests: Vec<Request> = g.requests.drain().into_iter().map(|(_, r)| r).collect();
    requests.retain(|r| !r.events.is_empty());
    for r in &mut requests {
        settle(r, events);
    }
    requests
}

/// A finished request's primary provider and outcome, from its events.
pub(super) fn settle<E: Index<usize, Output = Event> + ?Sized>(r: &mut Request, events: &E) {
    r.primary_provider = r
        .attempts
        .iter()
        .find_map(|a| a.provider.clone())
        .or_else(|| context_provider(r, events));
    if r.outcome == Outcome::Open {
        if let Some(&last) = r.events.last() {
            if matches!(events[last].kind, EventKind::TerminalFailure { .. }) {
                r.outcome = Outcome::Failed;
            }
        }
    }
}

/// Provider named by context lines of the request (client created, turn start, terminal line).
fn context_provider<E: Index<usize, Output = Event> + ?Sized>(
    r: &Request,
    events: &E,
) -> Option<String> {
    r.events.iter().find_map(|&e| match &events[e].kind {
        EventKind::ClientCreated { provider, .. }
        | EventKind::TurnStart { provider, .. }
        | EventKind::TerminalFailure { provider, .. } => provider.clone().filter(|p| !p.is_empty()),
        _ => None,
    })
}

/// An untimed console capture (stdout) repeats the attempts of a timed log of the same run.
/// Drop such echo requests: same attempt counters and statuses as a request with times.
pub fn drop_echo_requests(
    requests: &mut Vec<Request>,
    events: &[Event],
    times: &[Option<DateTime<Utc>>],
) -> u64 {
    type Signature = Vec<(Option<(u32, u32)>, Option<u16>)>;
    let signature = |r: &Request| -> Signature {
        r.attempts
            .iter()
            .filter(|a| a.counter.is_some())
            .map(|a| (a.counter, a.status))
            .collect()
    };
    let untimed = |r: &Request| {
        r.events
            .iter()
            .all(|&e| times.get(e).copied().flatten().is_none())
    };
    // Console lines, from a terminal copy or a journal without wall-clock times (`cat`,
    // `short-monotonic`, `short-delta`, which still name the process).
    let console = |r: &Request| r.events.iter().all(|&e| events[e].record.logger.is_none());
    // Untimed logger records (a `-v` journal's stderr in `cat` or `short-monotonic`) name their
    // session: they repeat only a request of that session.
    let session = |r: &Request| {
        r.events
            .iter()
            .find_map(|&e| events[e].record.session.as_deref())
    };
    // A journal's copy names its host: it repeats only a request of that host or of none.
    let host = |r: &Request| {
        r.events
            .iter()
            .find_map(|&e| events[e].record.host.as_deref())
    };
    let sigs: Vec<Signature> = requests.iter().map(signature).collect();
    let mut echo_of: Vec<Option<usize>> = vec![None; requests.len()];
    let echo_like: Vec<bool> = requests
        .iter()
        .zip(&sigs)
        .map(|(r, s)| untimed(r) && (console(r) || session(r).is_some()) && !s.is_empty())
        .collect();
    let timed_match = |i: usize, sig: &Signature| {
        (0..requests.len()).find(|&j| {
            !untimed(&requests[j])
                && sigs[j] == *sig
                && host(&requests[j]).is_none_or(|h| host(&requests[i]).is_none_or(|g| g == h))
                && session(&requests[i]).is_none_or(|s| session(&requests[j]) == Some(s))
        })
    };
    // An untimed request without attempts whose logger records a timed request holds too (pool
    // lines before the turn, in a `-v` journal without wall-clock times).
    let same_record = |a: &Event, b: &Event| {
        let (a, b) = (&a.record, &b.record);
        a.loc.source != b.loc.source
            && a.message == b.message
            && a.logger == b.logger
            && a.session == b.session
            && a.level == b.level
    };
    for i in 0..requests.len() {
        let r = &requests[i];
        if !sigs[i].is_empty() || !untimed(r) {
            continue;
        }
        let logged: Vec<&Event> = r
            .events
            .iter()
            .map(|&e| &events[e])
            .filter(|e| e.record.logger.is_some())
            .collect();
        if logged.is_empty() {
            continue;
        }
        echo_of[i] = (0..requests.len()).find(|&j| {
            !untimed(&requests[j])
                && logged.iter().all(|a| {
                    requests[j]
                        .events
                        .iter()
                        .any(|&b| same_record(a, &events[b]))
                })
        });
    }
    for i in 0..requests.len() {
        if !echo_like[i] || echo_of[i].is_some() {
            continue;
        }
        if let Some(j) = timed_match(i, &sigs[i]) {
            echo_of[i] = Some(j);
            continue;
        }
        // A console copy may split one logged request in several (a counter that restarts
        // after a rebuilt client or a fallback): consecutive console requests of the same
        // source whose attempts, together, are the logged request's.
        let source = requests[i].lane.clone();
        let mut joined = sigs[i].clone();
        let mut run = vec![i];
        for k in i + 1..requests.len() {
            if !echo_like[k] || requests[k].lane != source {
                break;
            }
            joined.extend(sigs[k].iter().copied());
            run.push(k);
            if let Some(j) = timed_match(i, &joined) {
                for &r in &run {
                    echo_of[r] = Some(j);
                }
                break;
            }
        }
    }
    fold_echoes(requests, &echo_of)
}

/// Drop every request `i` with `echo_of[i] == Some(j)`: a copy of request `j`. Its lines
/// (console notices such as `💡 Your API key was rejected`) stay reachable from `j` as echo lines.
/// Returns the number of requests dropped.
pub(super) fn fold_echoes(requests: &mut Vec<Request>, echo_of: &[Option<usize>]) -> u64 {
    for (i, target) in echo_of.iter().enumerate() {
        if let Some(j) = *target {
            let evs = requests[i].events.clone();
            let echo = &mut requests[j].echo_events;
            echo.extend(evs);
            echo.sort_unstable();
            echo.dedup();
        }
    }
    let before = requests.len();
    let mut idx = 0;
    requests.retain(|_| {
        let keep = echo_of.get(idx).is_none_or(Option::is_none);
        idx += 1;
        keep
    });
    (before - requests.len()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tags_pack_to_distinct_numbers_and_others_do_not_pack() {
        let a = packed_session("session 20261120_000000_abcdef");
        let b = packed_session("session 20261120_000001_abcdef");
        let c = packed_session("session 20261120_000000_abcdee");
        assert!(a.is_some() && b.is_some() && c.is_some());
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert!(packed_session("session 99991231_235960_ffffff").is_some_and(|k| k < 1 << 63));
        for lane in [
            "session 20261120_000000_ABCDEF",
            "session 20261320_000000_abcdef",
            "session 20261120_000000_abcdef/subagent-1",
            "session 20261120_000000_abcdef0",
            "pid 4242@gw-1",
            "src0",
        ] {
            assert_eq!(packed_session(lane), None, "{lane}");
        }
    }

    #[test]
    fn forgotten_lanes_continue_their_numbering() {
        let mut c = Counters::default();
        let mut reference: HashMap<String, u32> = HashMap::default();
        let lane = |k: u32| {
            let (h, m, s) = (k / 3600 % 24, k / 60 % 60, k % 60);
            format!("session 20261120_{h:02}{m:02}{s:02}_{:06x}", k * 31 % 4096)
        };
        // Many sessions, forgotten in an order unlike their tags', some coming back.
        for round in 0..3u32 {
            for k in (0..10_000u32).rev().step_by(1 + round as usize) {
                for l in [lane(k * 7919 % 10_000), format!("pid {}@h", k % 7)] {
                    let want = reference.entry(l.clone()).or_insert(0);
                    *want += 1;
                    assert_eq!(c.next(&l), *want, "{l}");
                    c.retire(&l);
                }
            }
        }
        assert!(c.keys.len() > RECENT_COUNTERS);
        assert!(c.keys.windows(2).all(|w| w[0] < w[1]));
        for (l, n) in &reference {
            assert_eq!(c.forgotten(l), *n, "{l}");
        }
    }
}

//! The streamed run's ingest: every input read at once, a thread each, merged by time into the
//! per-host streamed correlation ([`Router`]), with the records Hermes writes to several files
//! counted once ([`Dedupe`]).

use super::{ingest_one, Ingested, Item, Options};
use crate::correlate::{
    Analysis, AuthInput, AuthListInput, CorrelateOptions, Orderer, StreamTotals, Streamer,
};
use crate::error::Error;
use crate::model::{elapsed, Event};
use crate::read::InputSpec;
use chrono::{DateTime, Utc};

/// An event of one source, released in time order: (effective time, line order, event).
type Released = (Option<DateTime<Utc>>, u64, Box<Event>);

/// Events of one source are handed to the merge in batches of this many (one channel operation
/// per batch, not per event) ...
const MERGE_BATCH: usize = 256;
/// ... and at most this many batches wait per source (bounds the memory of a source read ahead
/// of the others).
const MERGE_CHANNEL: usize = 4;

/// Read every input at once (a thread each), put each source's events in time order and merge
/// them by (time, source, line) — the whole-input merge's order — into `streamer`, dropping the
/// records Hermes writes to several files (agent.log / errors.log / gateway.log). Events outside
/// `keep` (the `--since`/`--until` window) are not passed on.
pub fn ingest_merged(
    opts: &Options,
    specs: Vec<InputSpec>,
    keep: &(dyn Fn(&Event) -> bool + Sync),
    streamer: &mut Router,
) -> Result<Ingested, Error> {
    let ctx = opts.time.clone();
    let n = specs.len();
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        for (id, spec) in specs.into_iter().enumerate() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Released>>(MERGE_CHANNEL);
            receivers.push(rx);
            let ctx = &ctx;
            workers.push(scope.spawn(move || {
                let mut orderer = Orderer::default();
                let mut seq = 0u64;
                let mut batch = Vec::with_capacity(MERGE_BATCH);
                // A closed channel means the merge stopped: nothing left to deliver to.
                let mut send = |t: Option<DateTime<Utc>>, e: Box<Event>| {
                    seq += 1;
                    batch.push((t, seq, e));
                    if batch.len() >= MERGE_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(MERGE_BATCH));
                        let _ = tx.send(full);
                    }
                };
                let one = ingest_one(id as u32, spec, opts, ctx, &mut |_, item| {
                    if let Item::Event(e) = item {
                        if keep(&e) {
                            orderer.push(e, &mut send);
                        }
                    }
                })?;
                orderer.finish(&mut send);
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok::<_, Error>((one, orderer.late))
            }));
        }
        let mut heads: Vec<std::collections::VecDeque<Released>> =
            (0..n).map(|_| Default::default()).collect();
        let mut done = vec![false; n];
        let mut dedupe = Dedupe::default();
        loop {
            for k in 0..n {
                while !done[k] && heads[k].is_empty() {
                    match receivers[k].recv() {
                        Ok(batch) => heads[k].extend(batch),
                        Err(_) => done[k] = true,
                    }
                }
            }
            // Untimed sources (no time at all) first, then by time, source and line.
            let next = heads
                .iter()
                .enumerate()
                .filter_map(|(k, h)| h.front().map(|(t, seq, _)| (*t, k, *seq)))
                .min();
            let Some((_, k, _)) = next else { break };
            let Some((t, _, event)) = heads[k].pop_front() else {
                break;
            };
            dedupe.push(t, event, streamer);
        }
        dedupe.flush(streamer);
        streamer.note_duplicates(dedupe.dropped);
        let mut out = Ingested::default();
        for w in workers {
            let (one, late) = w
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            out.add(one);
            streamer.note_late(late);
        }
        out.finish(opts)
    })
}

/// Takes events in merged order.
trait Accept {
    fn accept(&mut self, event: Box<Event>, time: Option<DateTime<Utc>>);
}

impl Accept for Streamer {
    fn accept(&mut self, event: Box<Event>, time: Option<DateTime<Utc>>) {
        Streamer::accept(self, event, time);
    }
}

/// The streamed run's shards: one [`Streamer`] per host (see [`crate::shard`]). Until a second
/// host shows up every event goes to the first shard (one host's files read together); after
/// that, events without a host go to a shard of their own. Events without a host that came
/// before the second host were placed in the first host's shard: the run is then `mixed`, and
/// a run over files reads them again whole.
pub struct Router {
    names: Vec<String>,
    settle_every: Option<usize>,
    shards: Vec<(crate::shard::HostKey, Streamer)>,
    /// The first shard took events without a host.
    first_has_hostless: bool,
    /// Events without a host went to the first shard, and then another host showed up.
    pub mixed: bool,
}

impl Router {
    pub fn new(names: Vec<String>, settle_every: Option<usize>) -> Self {
        Router {
            names,
            settle_every,
            shards: Vec::new(),
            first_has_hostless: false,
            mixed: false,
        }
    }

    fn streamer(&self) -> Streamer {
        let s = Streamer::new(self.names.clone());
        match self.settle_every {
            Some(n) => s.settle_every(n),
            None => s,
        }
    }

    fn first(&mut self) -> &mut Streamer {
        if self.shards.is_empty() {
            let s = self.streamer();
            self.shards.push((None, s));
        }
        &mut self.shards[0].1
    }

    fn note_duplicates(&mut self, n: u64) {
        self.first().note_duplicates(n);
    }

    fn note_late(&mut self, n: u64) {
        self.first().note_late(n);
    }

    /// End every shard: (host, analysis, totals) in host order, the release decided over all.
    pub(crate) fn finish(
        mut self,
        auths: Vec<AuthInput>,
        lists: Vec<AuthListInput>,
        copts: CorrelateOptions,
        warnings: &mut Vec<String>,
    ) -> Vec<(crate::shard::HostKey, Analysis, StreamTotals)> {
        self.first();
        let hosts: Vec<String> = self.shards.iter().filter_map(|(h, _)| h.clone()).collect();
        let partition = crate::shard::Partition { hosts };
        let split = partition.split();
        let mut fleet = crate::release::Fingerprint::default();
        for (_, s) in &self.shards {
            fleet.absorb(s.fingerprint());
        }
        let mut snaps = partition.snapshots(auths, lists, warnings);
        let mut shards = self.shards;
        if split && snaps.contains_key(&None) && !shards.iter().any(|(h, _)| h.is_none()) {
            let s = Streamer::new(self.names.clone());
            shards.push((None, s));
        }
        shards.sort_by(|a, b| a.0.cmp(&b.0));
        use rayon::prelude::*;
        shards
            .into_iter()
            .map(|(h, s)| {
                let (a, l) = snaps.remove(&h).unwrap_or_default();
                (h, s, a, l)
            })
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(h, s, a, l)| {
                let mut opts = copts.clone();
                if split {
                    opts.fleet_fingerprint = Some(fleet.clone());
                }
                let (analysis, totals) = s.finish(a, l, opts);
                (h, analysis, totals)
            })
            .collect()
    }
}

impl Accept for Router {
    fn accept(&mut self, event: Box<Event>, time: Option<DateTime<Utc>>) {
        let host = event.record.host.clone();
        self.first();
        let k = match host {
            None if self.shards.len() == 1 => {
                self.first_has_hostless = true;
                0
            }
            None => match self.shards.iter().position(|(h, _)| h.is_none()) {
                Some(k) if k > 0 => k,
                _ => {
                    let s = self.streamer();
                    self.shards.push((None, s));
                    self.shards.len() - 1
                }
            },
            Some(h) => {
                if self.shards[0].0.is_none() && self.shards.len() == 1 {
                    self.shards[0].0 = Some(h.clone());
                }
                match self.shards.iter().position(|(k, _)| k.as_ref() == Some(&h)) {
                    Some(k) => k,
                    None => {
                        self.mixed |= self.first_has_hostless;
                        let s = self.streamer();
                        self.shards.push((Some(h), s));
                        self.shards.len() - 1
                    }
                }
            }
        };
        self.shards[k].1.accept(event, time);
    }
}

/// Drops a record already seen from another source at the same instant (same millisecond,
/// logger, session and message): Hermes writes warnings to agent.log and errors.log, gateway
/// lines to agent.log and gateway.log. A copy whose time has whole seconds only (a journal's
/// `short-iso` stamp, the `-v` stderr's `HH:MM:SS`) is the same record as one of another source
/// less than a second away: once each (two genuine repeats stay two). Events come in time order;
/// the last second's are held back to be compared, then passed on in order.
#[derive(Default)]
struct Dedupe {
    recent: std::collections::VecDeque<(Option<DateTime<Utc>>, Box<Event>, bool)>,
    dropped: u64,
}

/// Two records of different sources that may be one record printed twice.
fn same_record(a: &crate::model::Record, b: &crate::model::Record) -> bool {
    a.loc.source != b.loc.source
        // Two hosts never print one record (a line without a host may be a host's copy).
        && (a.host.is_none() || b.host.is_none() || a.host == b.host)
        && a.message == b.message
        && a.logger == b.logger
        && a.session == b.session
        && a.level == b.level
}

/// Same record seen twice: the same millisecond; or less than a second apart when one of the
/// two stamps has whole seconds only, or when the later one is a journal's arrival stamp and the
/// earlier the record's own time (a `-v` journal's copy of an agent.log record).
fn same_instant(a: &crate::model::Record, b: &crate::model::Record) -> Option<bool> {
    let (ta, tb) = (a.time.utc?, b.time.utc?);
    let d = elapsed(ta, tb).num_milliseconds();
    if d == 0 {
        return Some(true);
    }
    let whole = |t: DateTime<Utc>| t.timestamp_subsec_millis() == 0;
    let (early, late) = if d < 0 { (a, b) } else { (b, a) };
    let arrival = late.shape.stamped_on_arrival() && !early.shape.stamped_on_arrival();
    (d.abs() < 1000 && (whole(ta) || whole(tb) || arrival)).then_some(false)
}

impl Dedupe {
    fn push(&mut self, t: Option<DateTime<Utc>>, e: Box<Event>, streamer: &mut impl Accept) {
        if let Some(own) = e.record.time.utc {
            while let Some((_, front, _)) = self.recent.front() {
                // An untimed record has no copy to wait for: it is passed on.
                let old = front
                    .record
                    .time
                    .utc
                    .is_none_or(|f| elapsed(own, f).num_milliseconds() >= 1000);
                if !old {
                    break;
                }
                if let Some((ft, fe, _)) = self.recent.pop_front() {
                    streamer.accept(fe, ft);
                }
            }
            let r = &e.record;
            let copy = self.recent.iter_mut().find_map(|(_, g, used)| {
                let exact = same_instant(&g.record, r).filter(|&exact| exact || !*used)?;
                same_record(&g.record, r).then_some((exact, used))
            });
            if let Some((exact, used)) = copy {
                if !exact {
                    *used = true;
                }
                self.dropped += 1;
                return;
            }
        }
        self.recent.push_back((t, e, false));
    }

    fn flush(&mut self, streamer: &mut impl Accept) {
        for (t, e, _) in self.recent.drain(..) {
            streamer.accept(e, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventKind, Record};
    use chrono::TimeZone;

    fn event(source: u32, line: u32, secs: Option<i64>) -> Box<Event> {
        let mut record = Record::empty();
        record.loc = crate::model::Loc { source, line };
        record.message = format!("line {line}");
        record.time.utc = secs.and_then(|s| Utc.timestamp_opt(s, 0).single());
        Box::new(Event {
            record,
            kind: EventKind::Other,
        })
    }

    /// An untimed record (merged first) has no copy to wait for: it does not hold back the
    /// records after it, so the window stays one second long.
    #[test]
    fn an_untimed_record_does_not_hold_the_duplicate_window_open() {
        let mut streamer = Streamer::new(vec!["console".into(), "agent.log".into()]);
        let mut dedupe = Dedupe::default();
        dedupe.push(None, event(0, 1, None), &mut streamer);
        for k in 0..100 {
            let t = 1_800_000_000 + 2 * k;
            let at = Utc.timestamp_opt(t, 0).single();
            dedupe.push(at, event(1, k as u32 + 1, Some(t)), &mut streamer);
            assert!(dedupe.recent.len() <= 1, "{} held", dedupe.recent.len());
        }
    }
}

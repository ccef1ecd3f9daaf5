//! Merge all sources by time (stable) and drop the duplicates Hermes writes to several files.

use crate::model::Event;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub struct Merged {
    pub events: Vec<Event>,
    pub times: Vec<Option<DateTime<Utc>>>,
    pub duplicates: u64,
}

/// Effective time of each event: its own instant, else the previous instant of the same source,
/// else the next one. Sources with no instant at all keep `None` (and sort first, in order).
fn effective_times(events: &[Event]) -> Vec<Option<DateTime<Utc>>> {
    let mut out: Vec<Option<DateTime<Utc>>> = events.iter().map(|e| e.record.time.utc).collect();
    let mut last: HashMap<u32, DateTime<Utc>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        match out[i] {
            Some(t) => {
                last.insert(e.record.loc.source, t);
            }
            None => out[i] = last.get(&e.record.loc.source).copied(),
        }
    }
    let mut next: HashMap<u32, DateTime<Utc>> = HashMap::new();
    for (i, e) in events.iter().enumerate().rev() {
        match out[i] {
            Some(t) => {
                next.insert(e.record.loc.source, t);
            }
            None => out[i] = next.get(&e.record.loc.source).copied(),
        }
    }
    out
}

/// Merge events (given grouped by source, each source in line order) into one time-ordered
/// stream. Ties keep input order, so equal times stay in source order.
pub fn merge(events: Vec<Event>) -> Merged {
    let times = effective_times(&events);
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| times[i]);

    // Duplicate key: exact instant, level, logger, session and message, seen in another source.
    type Key<'a> = (i64, Option<&'a str>, Option<&'a str>, &'a str);
    let mut seen: HashMap<Key, u32> = HashMap::new();
    type Near<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        Option<crate::model::Level>,
    );
    // (ms, source, used, stamped on arrival)
    let mut near: HashMap<Near, Vec<(i64, u32, bool, bool)>> = HashMap::new();
    let mut keep = vec![true; events.len()];
    let mut duplicates = 0;
    // Duplicates come from different files: one source has none.
    let first_source = events.first().map(|e| e.record.loc.source);
    let single_source = events
        .iter()
        .all(|e| Some(e.record.loc.source) == first_source);
    for &i in order.iter().filter(|_| !single_source) {
        let r = &events[i].record;
        let Some(t) = r.time.utc else { continue };
        let key = (
            t.timestamp_millis(),
            r.logger.as_deref(),
            r.session.as_deref(),
            r.message.as_str(),
        );
        match seen.get(&key) {
            Some(&src) if src != r.loc.source => {
                keep[i] = false;
                duplicates += 1;
                continue;
            }
            Some(_) => continue,
            None => {
                seen.insert(key, r.loc.source);
            }
        }
        // A copy whose stamp has whole seconds only (a journal's `short-iso`, the `-v` stderr's
        // `HH:MM:SS`), or a journal's arrival stamp after the record's own time: the same record
        // as one of another source less than a second away, once.
        let coarse_key = (
            r.logger.as_deref(),
            r.session.as_deref(),
            r.message.as_str(),
            r.level,
        );
        let whole = |t: DateTime<Utc>| t.timestamp_subsec_millis() == 0;
        let list = near.entry(coarse_key).or_default();
        let arrival = r.shape.stamped_on_arrival();
        list.retain(|&(ms, _, _, _)| t.timestamp_millis() - ms < 1000);
        let partner = list.iter_mut().find(|(ms, src, used, early_arrival)| {
            !*used
                && *src != r.loc.source
                && *ms != t.timestamp_millis()
                && (whole(t) || *ms % 1000 == 0 || (arrival && !*early_arrival))
        });
        match partner {
            Some(p) => {
                p.2 = true;
                keep[i] = false;
                duplicates += 1;
            }
            None => list.push((t.timestamp_millis(), r.loc.source, false, arrival)),
        }
    }
    drop(seen);
    drop(near);

    let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
    let mut out_events = Vec::with_capacity(order.len());
    let mut out_times = Vec::with_capacity(order.len());
    for i in order {
        if !keep[i] {
            continue;
        }
        if let Some(ev) = slots[i].take() {
            out_events.push(ev);
            out_times.push(times[i]);
        }
    }
    Merged {
        events: out_events,
        times: out_times,
        duplicates,
    }
}

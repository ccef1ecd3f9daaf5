//! The analysis, top to bottom: [`crate::ingest`] the inputs into events and snapshots,
//! [`crate::correlate`] them into requests, attempts and pool state (per host, see
//! [`crate::shard`]), [`crate::judge`] them with the rules into a [`Report`] (rendered by
//! [`crate::report`]).
//!
//! A streamed run reads every input at once and correlates as it reads; a whole-input run
//! (timelines, `--no-streaming`) reads everything, then correlates. Both give the same report.

use crate::correlate::CorrelateOptions;
use crate::ingest::{self, Router};
use crate::model::{Event, Severity};
use crate::rules;
use chrono::{DateTime, Utc};

pub use crate::error::Error;
pub use crate::judge::Outcome;

#[cfg(doc)]
use crate::model::Report;

/// Everything an analysis needs to know, built once from the command line (see
/// [`crate::app::options`]); each stage gets its part.
#[derive(Debug, Clone)]
pub struct Options {
    /// What to read and how.
    pub ingest: ingest::Options,
    /// Only events at or after this instant (`--since`).
    pub since: Option<DateTime<Utc>>,
    /// Only events at or before this instant (`--until`).
    pub until: Option<DateTime<Utc>>,
    /// How the correlated model is built.
    pub correlate: CorrelateOptions,
    /// Which findings to report and how.
    pub judge: crate::judge::Options,
    /// Hold the whole input in memory instead of streaming it.
    pub no_streaming: bool,
    /// Streamed runs look for settled requests after this many events.
    pub settle_every: Option<usize>,
}

impl Default for Options {
    /// The command line's defaults: the newest release's rules, every rule, `--fail-on low`.
    fn default() -> Self {
        Options {
            ingest: ingest::Options::default(),
            since: None,
            until: None,
            correlate: CorrelateOptions {
                hermes_version: crate::release::NEWEST,
                ..Default::default()
            },
            judge: crate::judge::Options {
                fail_on: Some(Severity::Low),
                ..Default::default()
            },
            no_streaming: false,
            settle_every: None,
        }
    }
}

/// Run the whole analysis.
pub fn analyze(opts: &Options) -> Result<Outcome, Error> {
    for id in opts.judge.rules.iter().chain(&opts.judge.ignore) {
        if rules::find(id).is_none() {
            return Err(Error::Usage(crate::config::unknown_rule(id)));
        }
    }
    let (since, until) = (opts.since, opts.until);
    let in_window = |e: &Event| match e.record.time.utc {
        Some(t) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
        // Lines without an instant cannot be placed in the window: kept.
        None => true,
    };
    let specs = ingest::input_specs(&opts.ingest)?;
    let all_files = specs.iter().all(|s| s.path.is_some());
    let streaming = !opts.no_streaming && !opts.judge.timelines;
    // Ingest and correlate: streamed (read at once, correlated as read), or whole.
    let (mut ing, shards) = if streaming {
        let names = specs.iter().map(|s| s.name.clone()).collect();
        let mut router = Router::new(names, opts.settle_every);
        let mut ing = ingest::ingest_merged(&opts.ingest, specs, &in_window, &mut router)?;
        if router.mixed && all_files {
            // Lines without a host were read before a second host showed up: read the whole
            // input again, so they land where the whole-input run puts them.
            let whole = Options {
                no_streaming: true,
                ..opts.clone()
            };
            return analyze(&whole);
        }
        if router.mixed {
            ing.warnings.push(
                "lines without a host came before a second host showed up and were analyzed with the first host's lines (save the input to a file to have it split by host)".into(),
            );
        }
        let auths = std::mem::take(&mut ing.auths);
        let lists = std::mem::take(&mut ing.lists);
        let copts = opts.correlate.clone();
        let shards = router.finish(auths, lists, copts, &mut ing.warnings);
        (ing, shards)
    } else {
        let (mut ing, mut events) = ingest::ingest_collect_specs(&opts.ingest, specs)?;
        events.retain(in_window);
        let sources = std::mem::take(&mut ing.sources);
        let auths = std::mem::take(&mut ing.auths);
        let lists = std::mem::take(&mut ing.lists);
        let copts = opts.correlate.clone();
        let shards =
            crate::shard::correlate_shards(events, sources, auths, lists, copts, &mut ing.warnings);
        (ing, shards)
    };
    ing.check_not_empty(&opts.ingest)?;
    let late_events: u64 = shards.iter().map(|(_, _, t)| t.late_events).sum();
    if late_events > 0 && all_files {
        // Files can be read again: sort the whole input rather than analyze lines out of order.
        let whole = Options {
            no_streaming: true,
            ..opts.clone()
        };
        return analyze(&whole);
    }
    if late_events > 0 {
        ing.warnings.push(format!(
            "{late_events} lines of standard input came more than 15 minutes behind earlier lines and were analyzed where they came (save the input to a file to have it sorted whole)"
        ));
    }
    // Judge: the rules over each host's analysis, then the report of the whole.
    crate::judge::judge(shards, ing, &opts.judge)
}

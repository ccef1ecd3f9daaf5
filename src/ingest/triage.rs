//! Parse and classify one log source: every record is a request event, an unrecognized line or
//! other, and every line is counted. A large source in a format that [`parse::splits`] is read
//! in parts on several threads (see [`crate::read::chunks`]) with the same records, counts and order
//! as one parser over the whole of it.

use crate::model::{Event, EventKind, Record, Shape};
use crate::parse::{self, Carry, InputFormat, ParseStats, Parser, TimeContext};
use crate::read::{self, chunks};
use crate::redact::redact;
use std::io::BufRead;

/// What a record is to the analysis.
#[allow(clippy::large_enum_variant)]
pub enum Sorted {
    /// A request event (boxed: events pass through several queues before the correlator).
    Event(Box<Event>),
    /// A Hermes record that matches no template, or a line of no known shape.
    Unrecognized(Record),
}

/// The counts of the records sorted so far.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    pub lines_used: u64,
    pub events: u64,
    pub lines_unrecognized: u64,
    pub lines_other: u64,
    /// Bare records with a Hermes message (the parser counts the structured ones).
    pub bare_hermes: u64,
    /// `--strict`: the first unrecognized request-looking line (number, redacted text) and how
    /// many more followed.
    pub strict: Option<(u32, String, u64)>,
}

impl Counts {
    /// Add the counts of a later part of the same source.
    fn add(&mut self, o: Counts) {
        self.lines_used += o.lines_used;
        self.events += o.events;
        self.lines_unrecognized += o.lines_unrecognized;
        self.lines_other += o.lines_other;
        self.bare_hermes += o.bare_hermes;
        match (&mut self.strict, o.strict) {
            (Some((_, _, more)), Some((_, _, m))) => *more += 1 + m,
            (None, s) => self.strict = s,
            (Some(_), None) => {}
        }
    }

    fn strict_hit(&mut self, r: &Record) {
        match &mut self.strict {
            Some((_, _, more)) => *more += 1,
            None => self.strict = Some((r.loc.line, redact(&r.raw).into_owned(), 0)),
        }
    }

    /// Sort one record: request events and unrecognized records go to `out`, the rest are
    /// counted.
    fn sort(&mut self, r: Record, strict: bool, out: &mut dyn FnMut(Sorted)) {
        let kind = super::classify_kept(&r);
        let lines = parse::record_lines(&r);
        if r.shape == Shape::Bare
            && (kind != EventKind::Other || crate::intake::is_hermes_text(&r.raw))
        {
            self.bare_hermes += 1;
        }
        if kind.is_request_event() {
            self.lines_used += lines;
            self.events += 1;
            out(Sorted::Event(Box::new(Event { record: r, kind })));
        } else if kind == EventKind::Unrecognized {
            // A request-path Hermes record that matches no census template.
            self.lines_unrecognized += lines;
            if strict {
                self.strict_hit(&r);
            }
            out(Sorted::Unrecognized(r));
        } else if r.shape == Shape::Bare && !matches!(kind, EventKind::Known { .. }) {
            self.lines_unrecognized += lines;
            if strict && super::looks_like_request_line(&r.raw) {
                self.strict_hit(&r);
            }
            out(Sorted::Unrecognized(r));
        } else {
            self.lines_other += lines;
        }
    }
}

/// What parsing a source gave besides its records.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Lines read.
    pub lines: u64,
    pub counts: Counts,
    pub stats: ParseStats,
    /// Parser warnings, each distinct text once, in order of first occurrence.
    pub warnings: Vec<String>,
}

/// How to parse one source.
pub struct Setup<'a> {
    pub source: u32,
    pub format: InputFormat,
    pub ctx: &'a TimeContext,
    /// Added to every line number (a source that follows held lines).
    pub offset: u32,
    pub strict: bool,
    /// Threads that parse parts of the source at once.
    pub workers: usize,
    /// Bytes of a part (see [`chunks::PART_BYTES`]).
    pub part_bytes: usize,
    /// Parts read ahead of the one being taken (see [`chunks::IN_FLIGHT`]).
    pub read_ahead: usize,
}

/// A parser for `setup`, returning only what the classifier wants.
pub(crate) fn parser(setup: &Setup<'_>) -> Parser {
    let mut p = Parser::new(setup.source, setup.format, setup.ctx.clone());
    p.set_filter(super::keep_record);
    p
}

/// Parse and sort every line of `reader` (named `name`), handing events and unrecognized
/// records to `out` in line order. A read error ends the input where it happened: what came
/// before it is parsed and counted, and the error comes back with the counts.
pub fn parse_source(
    reader: &mut (dyn BufRead + Send),
    name: &str,
    setup: &Setup<'_>,
    out: &mut dyn FnMut(Sorted),
) -> (Parsed, Option<read::ReadError>) {
    if parse::splits(setup.format) {
        parse_parts(reader, name, setup, out)
    } else {
        parse_whole(reader, name, setup, out)
    }
}

/// One parser over the whole source, on this thread, every record judged by its message: how
/// a source that does not split is parsed, and what parsing in parts must give.
pub fn parse_whole(
    reader: &mut (dyn BufRead + Send),
    name: &str,
    setup: &Setup<'_>,
    out: &mut dyn FnMut(Sorted),
) -> (Parsed, Option<read::ReadError>) {
    let mut parser = parser(setup);
    let mut feed = Feed::new(setup);
    let n = read::for_each_line(reader, name, &mut |no, line| {
        feed.line(&mut parser, no, line, out);
    });
    let counts = feed.finish(&mut parser, out);
    let (lines, err) = match n {
        Ok(n) => (n, None),
        Err(e) => (0, Some(e)),
    };
    let parsed = Parsed {
        lines,
        counts,
        stats: parser.stats(),
        warnings: parser.warnings(),
    };
    (parsed, err)
}

/// Lines into a parser, its records sorted in batches: the loop of every run, whole, in parts
/// or followed.
pub(crate) struct Feed {
    records: Vec<Record>,
    counts: Counts,
    strict: bool,
    offset: u32,
    /// Records held before they are sorted.
    batch: usize,
}

/// Records held before sorting in a batch run.
const BATCH: usize = 256;

impl Feed {
    pub(crate) fn new(setup: &Setup<'_>) -> Self {
        Feed {
            records: Vec::new(),
            counts: Counts::default(),
            strict: setup.strict,
            offset: setup.offset,
            batch: BATCH,
        }
    }

    /// A feed that sorts each record as soon as it is complete (a followed input: the findings
    /// must not wait for later lines).
    pub(crate) fn at_once(mut self) -> Self {
        self.batch = 1;
        self
    }

    /// Feed line `no` (before the setup's offset).
    pub(crate) fn line(
        &mut self,
        parser: &mut Parser,
        no: u32,
        line: &str,
        out: &mut dyn FnMut(Sorted),
    ) {
        parser.push(no.saturating_add(self.offset), line, &mut self.records);
        if self.records.len() >= self.batch {
            self.sort(out);
        }
    }

    /// The input paused or ended: the pending record is complete; sort it and what is held.
    pub(crate) fn flush(&mut self, parser: &mut Parser, out: &mut dyn FnMut(Sorted)) {
        parser.finish(&mut self.records);
        self.sort(out);
    }

    fn sort(&mut self, out: &mut dyn FnMut(Sorted)) {
        for r in self.records.drain(..) {
            self.counts.sort(r, self.strict, out);
        }
    }

    /// The end of the lines: the last records sorted, the counts.
    pub(crate) fn finish(mut self, parser: &mut Parser, out: &mut dyn FnMut(Sorted)) -> Counts {
        self.flush(parser, out);
        self.counts
    }
}

/// What a worker made of one part, assuming the carry it started with.
struct PartOut {
    assumed: Carry,
    carry: Carry,
    sorted: Vec<Sorted>,
    counts: Counts,
    stats: ParseStats,
    warnings: Vec<String>,
}

/// A worker's state: its parser, whose record slot serves its later parts, and the
/// number of records its last part gave (the next one's output is allocated to about that, not
/// grown by copying).
struct Worker {
    parser: Parser,
    last: usize,
}

/// Parse one part with `parser` restarted at `carry`; `room` is the expected number of records.
fn parse_part(
    part: &chunks::Part,
    parser: &mut Parser,
    carry: Carry,
    setup: &Setup<'_>,
    room: usize,
) -> PartOut {
    parser.restart(carry);
    let mut sorted = Vec::with_capacity(room);
    let mut feed = Feed::new(setup);
    for (no, line) in part.lines() {
        feed.line(parser, no, line, &mut |s| sorted.push(s));
    }
    let counts = feed.finish(parser, &mut |s| sorted.push(s));
    PartOut {
        assumed: carry,
        carry: parser.carry(),
        sorted,
        counts,
        stats: parser.stats(),
        warnings: parser.warnings(),
    }
}

/// The source in parts, parsed on `setup.workers` threads, each restarted at a cut point
/// ([`parse::is_cut_point`]) with no carry; a part whose real carry (that of every line before
/// it) differs from that is parsed again here, with it.
fn parse_parts(
    reader: &mut (dyn BufRead + Send),
    name: &str,
    setup: &Setup<'_>,
    out: &mut dyn FnMut(Sorted),
) -> (Parsed, Option<read::ReadError>) {
    let format = setup.format;
    let work = |w: &mut Worker, part: &chunks::Part| {
        let done = parse_part(
            part,
            &mut w.parser,
            Carry::default(),
            setup,
            w.last + w.last / 8,
        );
        w.last = done.sorted.len();
        done
    };
    let mut parsed = Parsed::default();
    let mut carry = Carry::default();
    let mut again = parser(setup);
    let mut take = |part: &chunks::Part, done: PartOut| {
        let done = if done.assumed == carry {
            done
        } else {
            parse_part(part, &mut again, carry, setup, done.sorted.len())
        };
        carry = done.carry;
        parsed.counts.add(done.counts);
        parsed.stats.add(&done.stats);
        for w in done.warnings {
            if !parsed.warnings.contains(&w) {
                parsed.warnings.push(w);
            }
        }
        for s in done.sorted {
            out(s);
        }
    };
    let n = chunks::run(
        reader,
        name,
        setup.part_bytes,
        setup.read_ahead,
        setup.workers,
        &|line: &str| parse::is_cut_point(format, line),
        &|| Worker {
            parser: parser(setup),
            last: 0,
        },
        &work,
        &mut take,
    );
    match n {
        Ok(n) => {
            parsed.lines = n;
            (parsed, None)
        }
        Err(e) => (parsed, Some(e)),
    }
}

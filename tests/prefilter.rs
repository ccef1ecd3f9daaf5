//! The literal prefilter (`classify::may_be_event`) and the parser filter built on it: every
//! record of every fixture and of generated traffic that classifies as a request event passes
//! the prefilter, and a filtered parse returns exactly the records an unfiltered one keeps,
//! with the same line accounting. Records that pass the prefilter classify the same without
//! the second gate scan (`classify_gated`), structured records the classifier wants classify
//! the same without the gate or logger looked up again (`classify_wanted`), structured records
//! it does not want are neither request events nor unrecognized, and every gate word is needed
//! by some fixture event.

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

use hermes_forensics::classify::{
    classify, classify_gated, classify_wanted, may_be_event, wants, wants_message, GATE_WORDS,
};
use hermes_forensics::model::{EventKind, Record, Shape};
use hermes_forensics::parse::{detect, record_lines, InputFormat, ParseStats, Parser, TimeContext};
use hermes_forensics::read::{self, InputSpec, SourceHint};
use std::path::{Path, PathBuf};

/// The pipeline's filter, as the parser asks it when a record opens.
fn keep(shape: Shape, logger: Option<&str>, message: &str) -> bool {
    shape == Shape::Bare || wants_message(logger, message)
}

/// [`keep`] asked of a finished record.
fn keeps(r: &Record) -> bool {
    keep(r.shape, r.logger.as_deref(), &r.message)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The lines of a file as the pipeline reads them (decompressed, lossily decoded, capped).
fn read_lines(path: &Path) -> Vec<String> {
    let spec = InputSpec::file(path.to_path_buf(), SourceHint::Unknown);
    let mut lines = Vec::new();
    let Ok(mut reader) = read::open(&spec) else {
        return lines;
    };
    let _ = read::for_each_line(&mut *reader, &spec.name, &mut |_, l| {
        lines.push(l.to_string())
    });
    lines
}

fn parse(lines: &[String], format: InputFormat, filter: bool) -> (Vec<Record>, ParseStats) {
    let mut parser = Parser::new(0, format, TimeContext::default());
    if filter {
        parser.set_filter(keep);
    }
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        parser.push(u32::try_from(i + 1).unwrap_or(u32::MAX), l, &mut out);
    }
    parser.finish(&mut out);
    (out, parser.stats())
}

/// Checks one input under `format`; returns the number of request events seen and marks in
/// `used` the gate words found in their messages.
fn check(name: &str, lines: &[String], format: InputFormat, used: &mut [bool]) -> usize {
    let (all, stats) = parse(lines, format, false);
    let mut events = 0;
    for r in &all {
        let kind = classify(r);
        if may_be_event(r) {
            assert_eq!(
                classify_gated(r),
                kind,
                "{name}:{}: gated classification differs: {:?}",
                r.loc.line,
                r.raw
            );
        }
        if r.shape != Shape::Bare && wants(r) {
            assert_eq!(
                classify_wanted(r),
                kind,
                "{name}:{}: classification of a wanted record differs: {:?}",
                r.loc.line,
                r.raw
            );
        }
        if r.shape != Shape::Bare && !wants(r) {
            assert!(
                !kind.is_request_event() && kind != EventKind::Unrecognized,
                "{name}:{}: a record the classifier does not want is {kind:?}: {:?}",
                r.loc.line,
                r.raw
            );
        }
        if kind.is_request_event() {
            events += 1;
            assert!(
                may_be_event(r),
                "{name}:{}: request event fails the prefilter: {:?}",
                r.loc.line,
                r.raw
            );
            for (flag, word) in used.iter_mut().zip(GATE_WORDS) {
                *flag |= r.message.contains(word);
            }
        }
    }
    let (kept, fstats) = parse(lines, format, true);
    let expected: Vec<&Record> = all.iter().filter(|r| keeps(r)).collect();
    assert_eq!(
        kept.iter().collect::<Vec<_>>(),
        expected,
        "{name} ({format:?}): filtered records differ"
    );
    let dropped: Vec<&Record> = all.iter().filter(|r| !keeps(r)).collect();
    assert_eq!(fstats.filtered, dropped.len() as u64, "{name}");
    assert_eq!(
        fstats.filtered_lines,
        dropped.iter().map(|r| record_lines(r)).sum::<u64>(),
        "{name}"
    );
    assert_eq!(
        ParseStats {
            filtered: 0,
            filtered_lines: 0,
            ..fstats
        },
        stats,
        "{name} ({format:?}): accounting differs"
    );
    events
}

#[test]
fn fixtures_request_events_pass_the_prefilter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("fixtures"), &mut paths);
    files(&root.join("tests/data"), &mut paths);
    paths.sort();
    assert!(paths.len() > 100, "fixtures found: {}", paths.len());
    let mut events = 0;
    let mut used = vec![false; GATE_WORDS.len()];
    for path in &paths {
        let lines = read_lines(path);
        let name = path.display().to_string();
        let head: Vec<&str> = lines.iter().take(20).map(String::as_str).collect();
        let detected = detect(&head);
        for format in [detected, InputFormat::Auto, InputFormat::AgentLog] {
            events += check(&name, &lines, format, &mut used);
        }
    }
    assert!(events > 1000, "request events seen: {events}");
    // A gate word no fixture event holds is either dead (drop it) or guards a template with no
    // fixture line (add one).
    let unused: Vec<&str> = GATE_WORDS
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(w, _)| *w)
        .collect();
    assert!(
        unused.is_empty(),
        "gate words no fixture event holds: {unused:?}"
    );
}

#[test]
fn generated_request_events_pass_the_prefilter() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in [
        synth::Format::AgentLog,
        synth::Format::JournalShortIso,
        synth::Format::JournalJson,
    ] {
        let path = dir.path().join("gen.log");
        let opts = synth::Options {
            format,
            seed: 11,
            size: 2 * 1024 * 1024,
            incident_every: 200,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        synth::generate(&opts, &mut file).expect("generate");
        std::io::Write::flush(&mut file).expect("flush");
        drop(file);
        let lines = read_lines(&path);
        let head: Vec<&str> = lines.iter().take(20).map(String::as_str).collect();
        let mut used = vec![false; GATE_WORDS.len()];
        let events = check(&format!("{format:?}"), &lines, detect(&head), &mut used);
        assert!(events > 100, "{format:?}: request events seen: {events}");
    }
}

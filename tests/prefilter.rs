//! The literal prefilter (`classify::may_be_event`) and the parser filter built on it: every
//! record of every fixture and of generated traffic that classifies as a request event passes
//! the prefilter, and a filtered parse returns exactly the records an unfiltered one keeps,
//! with the same line accounting.

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

use hermes_forensics::classify::{classify, may_be_event};
use hermes_forensics::model::{Record, Shape};
use hermes_forensics::parse::{detect, record_lines, InputFormat, ParseStats, Parser, TimeContext};
use hermes_forensics::read::{self, InputSpec, SourceHint};
use std::path::{Path, PathBuf};

fn keep(r: &Record) -> bool {
    r.shape == Shape::Bare || may_be_event(r)
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

/// Checks one input under `format`; returns the number of request events seen.
fn check(name: &str, lines: &[String], format: InputFormat) -> usize {
    let (all, stats) = parse(lines, format, false);
    let mut events = 0;
    for r in &all {
        if classify(r).is_request_event() {
            events += 1;
            assert!(
                may_be_event(r),
                "{name}:{}: request event fails the prefilter: {:?}",
                r.loc.line,
                r.raw
            );
        }
    }
    let (kept, fstats) = parse(lines, format, true);
    let expected: Vec<&Record> = all.iter().filter(|r| keep(r)).collect();
    assert_eq!(
        kept.iter().collect::<Vec<_>>(),
        expected,
        "{name} ({format:?}): filtered records differ"
    );
    let dropped: Vec<&Record> = all.iter().filter(|r| !keep(r)).collect();
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
    for path in &paths {
        let lines = read_lines(path);
        let name = path.display().to_string();
        let head: Vec<&str> = lines.iter().take(20).map(String::as_str).collect();
        let detected = detect(&head);
        for format in [detected, InputFormat::Auto, InputFormat::AgentLog] {
            events += check(&name, &lines, format);
        }
    }
    assert!(events > 1000, "request events seen: {events}");
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
        let events = check(&format!("{format:?}"), &lines, detect(&head));
        assert!(events > 100, "{format:?}: request events seen: {events}");
    }
}

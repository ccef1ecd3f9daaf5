//! A source parsed in parts on several threads gives what one parser over the whole of it
//! gives: the same records in the same order, the same line counts, stats and warnings, on
//! every fixture file and on generated traffic, cut at every cut point and at a few sizes.

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

use hermes_forensics::ingest::triage::{self, Setup, Sorted};
use hermes_forensics::parse::{self, InputFormat, TimeContext};
use std::path::{Path, PathBuf};

/// Everything `parse_source` gives (`parse_whole` with 0 workers), in a comparable form.
fn parse_all(text: &[u8], format: InputFormat, workers: usize, part_bytes: usize) -> String {
    let ctx = TimeContext::default();
    let setup = Setup {
        source: 0,
        format,
        ctx: &ctx,
        offset: 0,
        strict: true,
        workers,
        part_bytes,
        read_ahead: hermes_forensics::read::chunks::IN_FLIGHT,
    };
    let mut reader = std::io::Cursor::new(text.to_vec());
    let mut out = String::new();
    let mut sink = |s: Sorted| match s {
        Sorted::Event(e) => out.push_str(&format!("E {e:?}\n")),
        Sorted::Unrecognized(r) => out.push_str(&format!("U {r:?}\n")),
    };
    let (parsed, err) = if workers == 0 {
        triage::parse_whole(&mut reader, "t", &setup, &mut sink)
    } else {
        triage::parse_source(&mut reader, "t", &setup, &mut sink)
    };
    assert!(err.is_none());
    out.push_str(&format!("{parsed:?}\n"));
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The formats to read `text` as: the detected one when it splits, and the line formats that
/// split (any text may be forced to one).
fn formats_for(text: &[u8]) -> Vec<InputFormat> {
    let head = String::from_utf8_lossy(text);
    let first: Vec<&str> = head.lines().take(20).collect();
    let mut formats = vec![InputFormat::AgentLog, InputFormat::JournalJson];
    let detected = parse::detect(&first);
    if parse::splits(detected) && !formats.contains(&detected) {
        formats.push(detected);
    }
    formats
}

/// Compare one parser with parts of each of `sizes` bytes (1: a part at every cut point).
fn check(name: &str, text: &[u8], sizes: &[(usize, usize)]) {
    for format in formats_for(text) {
        let whole = parse_all(text, format, 0, usize::MAX);
        for &(workers, bytes) in sizes.iter().chain(&[(1, usize::MAX)]) {
            let parts = parse_all(text, format, workers, bytes);
            assert!(
                whole == parts,
                "{name} as {format:?}, {workers} workers, parts of {bytes} bytes: differs from one parser"
            );
        }
    }
}

#[test]
fn every_fixture_parses_the_same_in_parts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut all = Vec::new();
    files(&root, &mut all);
    let mut checked = 0;
    for path in all {
        let Ok(text) = std::fs::read(&path) else {
            continue;
        };
        if text.len() > 4 << 20 {
            continue;
        }
        check(&path.display().to_string(), &text, &[(2, 1)]);
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} fixture files");
}

const FORMATS: [synth::Format; 3] = [
    synth::Format::AgentLog,
    synth::Format::JournalShortIso,
    synth::Format::JournalJson,
];

/// Generated traffic and the incidents injected into it.
fn traffic(
    format: synth::Format,
    seed: u64,
    size: u64,
    every: u64,
) -> (Vec<u8>, Vec<synth::Injected>) {
    let opts = synth::Options {
        format,
        seed,
        size,
        incident_every: every,
    };
    let mut text = Vec::new();
    let injected = synth::generate(&opts, &mut text).expect("generate");
    (text, injected)
}

#[test]
fn generated_traffic_parses_the_same_in_parts() {
    for format in FORMATS {
        let (text, _) = traffic(format, 11, 512 << 10, 20);
        check(
            &format!("{format:?} traffic"),
            &text,
            &[(2, 1), (3, 300), (2, 8192)],
        );
    }
}

#[test]
fn a_year_less_line_after_a_cut_still_sees_the_year_before_it() {
    // Journal `short` lines carry no year: a December line in one part and a January line in
    // the next must still roll the year over.
    let text = "\
2026-12-31T23:59:58+00:00 gw hermes[1]: 2026-12-31 23:59:58,000 INFO run_agent: API call #1 completed in 1.0s
Dec 31 23:59:59 gw hermes[1]: ⚠️ API call failed (attempt 1/3): RateLimitError
2026-12-31T23:59:59+00:00 gw hermes[1]: 2026-12-31 23:59:59,500 INFO run_agent: API call #2 completed in 1.0s
Jan 01 00:00:01 gw hermes[1]: ⚠️ API call failed (attempt 2/3): RateLimitError
";
    check("rollover", text.as_bytes(), &[(2, 1)]);
}

/// The report on generated traffic is the same bytes with one, two and three parsing threads,
/// from a file and from standard input, on inputs of several parts.
#[test]
fn reports_are_the_same_bytes_at_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in FORMATS {
        let (text, injected) = traffic(format, 5, 2 << 20, 10);
        let log = dir.path().join("traffic.log");
        let auth = dir.path().join("auth.json");
        std::fs::write(&log, &text).expect("write log");
        std::fs::write(&auth, synth::auth_snapshot(&injected)).expect("write auth");
        let run = |threads: &str, stdin: bool| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hermes-forensics"));
            cmd.args([
                "--format",
                "json",
                "--fail-on",
                "never",
                "--threads",
                threads,
            ]);
            cmd.arg("--auth").arg(&auth);
            if stdin {
                cmd.stdin(std::fs::File::open(&log).expect("open log"));
            } else {
                cmd.arg(&log);
            }
            let out = cmd.output().expect("run hermes-forensics");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        for stdin in [false, true] {
            let one = run("1", stdin);
            assert!(!one.is_empty());
            for threads in ["2", "3"] {
                assert!(
                    run(threads, stdin) == one,
                    "{format:?} (stdin: {stdin}): --threads {threads} differs from --threads 1"
                );
            }
        }
    }
}

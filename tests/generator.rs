//! The synthetic traffic generator (`examples/gen`) against the analyzer: every injected
//! incident is reported with the rules its ground truth names, at its request or lines (or at
//! its auth.json entries), and nothing else is reported — clean traffic yields no finding. The
//! analysis is given the generator's auth.json snapshot, as the ground truth assumes. Clean
//! traffic holds no unrecognized line: every line it writes is a template of the real Hermes.

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

use hermes_forensics::cli::{AnalyzeArgs, FailOn, IngestArgs};
use hermes_forensics::model::Finding;
use hermes_forensics::report::Format as ReportFormat;
use hermes_forensics::{app, pipeline};
use std::collections::BTreeSet;
use std::path::Path;

const FORMATS: [synth::Format; 3] = [
    synth::Format::AgentLog,
    synth::Format::JournalShortIso,
    synth::Format::JournalJson,
];

fn generate(format: synth::Format, size: u64, every: u64, path: &Path) -> Vec<synth::Injected> {
    generate_mix(format, synth::Mix::Default, size, every, path)
}

fn generate_mix(
    format: synth::Format,
    mix: synth::Mix,
    size: u64,
    every: u64,
    path: &Path,
) -> Vec<synth::Injected> {
    // `size` is of agent.log traffic: the same traffic as journal json entries (17 fields each,
    // as journalctl prints them) is about 2.5 times as large.
    let size = match format {
        synth::Format::JournalJson => size * 5 / 2,
        _ => size,
    };
    let opts = synth::Options {
        format,
        seed: 7,
        size,
        incident_every: every,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let injected = synth::generate_mix(&opts, mix, &mut file).expect("generate");
    std::io::Write::flush(&mut file).expect("flush");
    injected
}

/// Findings for the traffic at `path` and the auth.json snapshot that goes with `injected`.
fn findings(path: &Path, injected: &[synth::Injected]) -> Vec<Finding> {
    report(path, injected).findings
}

/// The report on the traffic at `path` and the auth.json snapshot that goes with `injected`.
fn report(path: &Path, injected: &[synth::Injected]) -> hermes_forensics::model::Report {
    let auth = path.with_extension("auth.json");
    std::fs::write(&auth, synth::auth_snapshot(injected)).expect("write auth.json");
    let args = AnalyzeArgs {
        ingest: IngestArgs {
            paths: vec![path.to_path_buf(), auth],
            ..Default::default()
        },
        format: ReportFormat::Json,
        fail_on: FailOn::Never,
        ..Default::default()
    };
    pipeline::analyze(&app::options(&args).expect("options"))
        .expect("analysis runs")
        .report
}

/// Clean traffic's report: no finding, and every line one the real Hermes writes (a template
/// of the census, or no Hermes logger's).
fn check_clean(what: &str, clean: &hermes_forensics::model::Report) {
    assert!(
        clean.findings.is_empty(),
        "{what}: {:?}",
        clean.findings.first()
    );
    let log = &clean.summary.sources[0];
    assert_eq!(log.lines_unrecognized, 0, "{what}: unrecognized lines");
}

/// The finding belongs to the incident: its rule is expected there, and its request is one of
/// the incident's sessions, its evidence lies in the incident's lines, or it is about one of
/// the incident's auth.json entries.
fn belongs(f: &Finding, i: &synth::Injected) -> bool {
    let at_request = f.request.as_deref().is_some_and(|r| {
        i.sessions
            .iter()
            .any(|s| r.starts_with(&format!("session {s}#")))
    });
    let in_lines = f.evidence.iter().any(|e| {
        e.source.ends_with(".log") && (i.lines.0..=i.lines.1).contains(&u64::from(e.line))
    });
    let at_entry = f.request.is_none()
        && f.profile.as_ref().is_some_and(|p| i.entries.contains(p))
        && f.evidence.iter().all(|e| e.source.ends_with("auth.json"));
    i.rules.contains(&f.rule) && (at_request || in_lines || at_entry)
}

/// Every injected incident is reported with its rules at its place, and nothing else.
fn check_truth(what: &str, found: &[Finding], injected: &[synth::Injected]) {
    for i in injected {
        for rule in &i.rules {
            let reported = found.iter().any(|f| f.rule == *rule && belongs(f, i));
            assert!(
                reported,
                "{what}: {rule} not reported for {} ({:?}, lines {:?})",
                i.name, i.sessions, i.lines
            );
        }
    }
    for f in found {
        assert!(
            injected.iter().any(|i| belongs(f, i)),
            "{what}: unexpected {} at {:?}: {}",
            f.rule,
            f.request,
            f.message
        );
    }
}

#[test]
fn every_mix_yields_its_incidents_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = [
        (synth::Format::AgentLog, synth::Mix::FailRecover),
        (synth::Format::JournalShortIso, synth::Mix::FailRecover),
        (synth::Format::JournalJson, synth::Mix::FailRecover),
        (synth::Format::AgentLog, synth::Mix::Sessions),
        (synth::Format::JournalJson, synth::Mix::Sessions),
        (synth::Format::AgentLog, synth::Mix::Quiet),
    ];
    for (format, mix) in runs {
        let what = format!("{format:?} {mix:?}");
        let path = dir.path().join("traffic.log");
        // Clean traffic of the mix: no finding.
        let size = if mix == synth::Mix::Quiet {
            2 << 20
        } else {
            300 << 10
        };
        assert!(generate_mix(format, mix, size, 0, &path).is_empty());
        let clean = report(&path, &[]);
        check_clean(&what, &clean);
        let text = std::fs::read_to_string(&path).expect("read");
        let turns = text.matches("conversation turn: session=").count();
        assert!(turns >= 10, "{what}: {turns} turns");
        match mix {
            synth::Mix::FailRecover => {
                // Every turn's first call fails once, transiently, and is retried.
                // A request per call (each `API call #N` closes one), an attempt more per turn.
                assert_eq!(text.matches("API call failed (attempt 1/3)").count(), turns);
                let calls = text.matches("agent.conversation_loop: API call #").count();
                assert_eq!(clean.summary.requests as usize, calls, "{what}");
                assert_eq!(clean.summary.attempts as usize, calls + turns, "{what}");
            }
            synth::Mix::Sessions => {
                let tags: BTreeSet<&str> = text
                    .split("conversation turn: session=")
                    .skip(1)
                    .filter_map(|t| t.split_whitespace().next())
                    .collect();
                assert_eq!(tags.len(), turns, "{what}: a new session per turn");
            }
            synth::Mix::Quiet => {
                let s = &clean.summary.sources[0];
                assert!(
                    s.lines_used * 100 <= s.lines_read * 15,
                    "{what}: {} of {} lines about requests",
                    s.lines_used,
                    s.lines_read
                );
            }
            synth::Mix::Default => {}
        }
        // With every incident shape: each reported where it was injected, nothing else.
        let size = if mix == synth::Mix::Quiet {
            2 << 20
        } else {
            640 << 10
        };
        let injected = generate_mix(format, mix, size, 1, &path);
        let names: BTreeSet<&str> = injected.iter().map(|i| i.name).collect();
        assert_eq!(names.len(), synth::incident_count(), "{what}");
        check_truth(&what, &findings(&path, &injected), &injected);
    }
}

#[test]
fn every_injected_incident_is_found_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in FORMATS {
        let path = dir.path().join("traffic.log");
        let injected = generate(format, 640 << 10, 1, &path);
        let names: BTreeSet<&str> = injected.iter().map(|i| i.name).collect();
        assert_eq!(
            names.len(),
            synth::incident_count(),
            "{format:?}: every shape injected"
        );
        let found = findings(&path, &injected);
        for i in &injected {
            for rule in &i.rules {
                let reported = found.iter().any(|f| f.rule == *rule && belongs(f, i));
                assert!(
                    reported,
                    "{format:?}: {rule} not reported for {} ({:?}, lines {:?})",
                    i.name, i.sessions, i.lines
                );
            }
        }
        for f in &found {
            assert!(
                injected.iter().any(|i| belongs(f, i)),
                "{format:?}: unexpected {} at {:?}: {}",
                f.rule,
                f.request,
                f.message
            );
        }
    }
}

#[test]
fn clean_traffic_has_no_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in FORMATS {
        let path = dir.path().join("clean.log");
        assert!(generate(format, 300 << 10, 0, &path).is_empty());
        check_clean(&format!("{format:?}"), &report(&path, &[]));
    }
}

#[test]
fn output_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let ia = generate(synth::Format::JournalJson, 64 << 10, 5, &a);
    let ib = generate(synth::Format::JournalJson, 64 << 10, 5, &b);
    assert_eq!(ia, ib);
    assert_eq!(std::fs::read(&a).ok(), std::fs::read(&b).ok());
    assert_eq!(synth::parse_size("100MiB"), Some(100 << 20));
    assert_eq!(synth::parse_size("2GB"), Some(2_000_000_000));
    assert_eq!(synth::parse_size("1XB"), None);
}

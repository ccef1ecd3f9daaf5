//! `--follow` and the batch run report the same findings: over every log fixture the batch tests
//! read (corpus and rule cases, every capture's agent.log, the journal renderings of the
//! captures) and over the generator's stream, the findings follow mode has printed by the end of
//! the input are exactly the batch run's — same rule, request, profile, evidence and message,
//! as many times. Follow mode is driven through the library as a slow live stream would drive
//! it: an analysis after every line that may close a request.

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

mod common;

use clap::Parser as _;
use hermes_forensics::cli::{AnalyzeArgs, Cli, FailOn};
use hermes_forensics::follow::Live;
use hermes_forensics::model::Finding;
use hermes_forensics::read::{self, InputSpec, SourceHint};
use hermes_forensics::{app, pipeline};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The findings, as comparable keys (the whole finding), sorted.
fn keys(findings: &[Finding]) -> Vec<String> {
    let mut k: Vec<String> = findings
        .iter()
        .map(|f| serde_json::to_string(f).expect("finding serializes"))
        .collect();
    k.sort();
    k
}

/// The analysis options of a command line.
fn options(args: &AnalyzeArgs) -> pipeline::Options {
    app::options(args).expect("options")
}

/// Follow mode over `args`' one log, analysing after every line that may close a request;
/// everything printed by the end of the input.
fn follow(args: &AnalyzeArgs) -> Vec<Finding> {
    follow_split(args).concat()
}

/// Follow mode: the findings printed while the input was read, and those printed at its end.
fn follow_split(args: &AnalyzeArgs) -> [Vec<Finding>; 2] {
    let log = args.ingest.paths.first().expect("one log");
    let name = log.display().to_string();
    let mut live = Live::new(&options(args), &name).expect("follow starts");
    let mut printed = Vec::new();
    let mut reader = read::open(&InputSpec::file(log.clone(), SourceHint::Unknown)).expect("open");
    read::for_each_line(&mut *reader, &name, &mut |no, line| {
        if live.push_line(no, line) {
            printed.extend(live.checkpoint(false));
        }
    })
    .expect("read");
    [printed, live.finish()]
}

/// Batch and follow over one log; a description of the difference, if any.
fn compare(label: &str, args: &AnalyzeArgs) -> Option<String> {
    let batch = match app::options(args).and_then(|o| pipeline::analyze(&o)) {
        Ok(o) => o.report.findings,
        Err(e) => return Some(format!("{label}: batch run failed: {e}")),
    };
    let (b, f) = (keys(&batch), keys(&follow(args)));
    if b == f {
        return None;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        let mut rest = b.to_vec();
        a.iter()
            .filter(|k| match rest.iter().position(|x| x == *k) {
                Some(i) => {
                    rest.remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    Some(format!(
        "{label}: batch only {:#?}\nfollow only {:#?}",
        only(&b, &f),
        only(&f, &b)
    ))
}

/// Analyze arguments from a command line run in `dir` (paths made absolute).
fn args_in(dir: &Path, argv: &[String]) -> AnalyzeArgs {
    let cli = Cli::try_parse_from(
        std::iter::once("hermes-forensics".to_string()).chain(argv.iter().cloned()),
    )
    .expect("case arguments parse");
    let mut args = cli.analyze;
    let abs = |p: &mut PathBuf| *p = dir.join(&*p);
    args.ingest.paths.iter_mut().for_each(abs);
    args.ingest.auth.iter_mut().for_each(abs);
    args.ingest.auth_list.iter_mut().for_each(abs);
    args.fail_on = FailOn::Never;
    args
}

/// Every `cases.json` case under `fixtures/<tree>` that reads one log file (follow mode reads
/// one stream); returns the count compared and the differences.
fn cases_of(tree: &str) -> (usize, Vec<String>) {
    let root = common::fixtures().join(tree);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixture tree")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cases.json").is_file())
        .collect();
    dirs.sort();
    let (mut n, mut diffs) = (0, Vec::new());
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases.json");
        let cases: Value = serde_json::from_str(&text).expect("cases.json parses");
        for case in cases.as_array().into_iter().flatten() {
            let argv: Vec<String> = case["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            let args = args_in(&dir, &argv);
            // Auth snapshots and issue bodies given as paths are not log streams.
            let one_log = matches!(args.ingest.paths.as_slice(),
                [p] if p.is_file() && !p.extension().is_some_and(|e| e == "json" || e == "md"));
            if !one_log || args.config.is_some() || args.baseline.is_some() {
                continue;
            }
            n += 1;
            let label = format!("{}: {}", dir.display(), argv.join(" "));
            diffs.extend(compare(&label, &args));
        }
    }
    (n, diffs)
}

#[test]
fn case_fixtures_match_the_batch_run() {
    let mut total = 0;
    let mut diffs = Vec::new();
    for tree in ["corpus", "rules", "fragments"] {
        let (n, d) = cases_of(tree);
        total += n;
        diffs.extend(d);
    }
    assert!(total >= 60, "only {total} single-log cases compared");
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// A capture's log with the snapshots taken before the run and its Hermes release.
fn capture_args(capture: &Path, run: &Path, log: &Path) -> AnalyzeArgs {
    let mut argv = vec![
        "--hermes-version".to_string(),
        common::release_of(capture),
        log.display().to_string(),
    ];
    if run.join("auth.before.json").is_file() {
        argv.extend(["--auth".into(), "auth.before.json".into()]);
    }
    if run.join("auth-list.before.txt").is_file() {
        argv.extend(["--auth-list".into(), "auth-list.before.txt".into()]);
    }
    args_in(run, &argv)
}

/// Each capture's runs: the capture itself and its journal runs (`journal/plain`, `journal/verbose`).
fn runs(capture: &Path) -> Vec<PathBuf> {
    let mut out = vec![capture.to_path_buf()];
    for mode in ["plain", "verbose"] {
        let run = capture.join("journal").join(mode);
        if run.is_dir() {
            out.push(run);
        }
    }
    out
}

#[test]
fn every_capture_agent_log_matches_the_batch_run() {
    let mut n = 0;
    let mut diffs = Vec::new();
    for capture in common::captures() {
        for run in runs(&capture) {
            let log = run.join("logs/agent.log");
            if !log.is_file() {
                continue;
            }
            n += 1;
            diffs.extend(compare(
                &log.display().to_string(),
                &capture_args(&capture, &run, &log),
            ));
        }
    }
    assert!(n >= 150, "only {n} agent.log compared");
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

#[test]
fn journal_renderings_match_the_batch_run() {
    let mut n = 0;
    let mut diffs = Vec::new();
    for capture in common::captures() {
        for run in runs(&capture).into_iter().skip(1) {
            for render in ["short-iso.txt", "json.txt"] {
                let log = run.join("render").join(render);
                if !log.is_file() {
                    continue;
                }
                n += 1;
                diffs.extend(compare(
                    &log.display().to_string(),
                    &capture_args(&capture, &run, &log),
                ));
            }
        }
    }
    for case in ["overlapping", "sequential"] {
        let dir = common::fixtures()
            .join("captured/two-host")
            .join(case)
            .join("render");
        for entry in std::fs::read_dir(&dir)
            .expect("two-host renderings")
            .flatten()
        {
            let log = entry.path();
            if log.extension().is_some_and(|e| e == "txt") {
                n += 1;
                let args = args_in(&dir, &[log.display().to_string()]);
                diffs.extend(compare(&log.display().to_string(), &args));
            }
        }
    }
    assert!(n >= 60, "only {n} journal renderings compared");
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// Findings per rule.
fn per_rule(findings: &[Finding]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.rule).or_insert(0) += 1;
    }
    m
}

/// The generator's stream (≈ 300 requests, an incident every turn) and its auth.json, in `dir`;
/// the arguments that analyze it.
fn generated(dir: &Path) -> AnalyzeArgs {
    let opts = synth::Options {
        format: synth::Format::AgentLog,
        seed: 7,
        size: 1 << 20,
        incident_every: 1,
    };
    let path = dir.join("traffic.log");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let injected = synth::generate(&opts, &mut file).expect("generate");
    std::io::Write::flush(&mut file).expect("flush");
    drop(file);
    std::fs::write(
        dir.join("traffic.auth.json"),
        synth::auth_snapshot(&injected),
    )
    .expect("auth.json");
    args_in(
        dir,
        &[
            "traffic.log".into(),
            "--auth".into(),
            "traffic.auth.json".into(),
        ],
    )
}

/// The generator's stream: the same findings per rule, and the same findings. Pool and cooldown
/// state must carry across requests: analysed one request at a time, a retry on a profile
/// benched by an earlier request is still seen.
#[test]
fn generated_stream_matches_the_batch_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = generated(dir.path());
    let outcome = pipeline::analyze(&options(&args)).expect("batch run");
    assert!(
        outcome.report.summary.requests >= 300,
        "a stream of 300 requests"
    );
    let batch = outcome.report.findings;
    let [early, late] = follow_split(&args);
    // Printed as their requests closed, not held to the end.
    assert!(
        early.len() >= 9 * (early.len() + late.len()) / 10,
        "{} findings printed while reading, {} at the end: {:?}",
        early.len(),
        late.len(),
        late.iter()
            .map(|f| (f.rule, f.request.clone(), f.time))
            .collect::<Vec<_>>()
    );
    let followed = [early, late].concat();
    let (b, f) = (per_rule(&batch), per_rule(&followed));
    assert!(
        b.get("retry-on-cooled-profile").copied().unwrap_or(0) >= 20,
        "the stream carries cooled-profile retries: {b:?}"
    );
    assert_eq!(b, f, "findings per rule, batch vs follow");
    assert_eq!(keys(&batch), keys(&followed));
}

/// The same through the binary: the stream piped to `--follow` prints, per rule, as many
/// findings as the batch run reports.
#[test]
fn generated_stream_through_the_binary_matches_the_batch_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    generated(dir.path());
    let count = |out: &[u8], batch: bool| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        let text = String::from_utf8_lossy(out);
        let rules: Vec<String> = if batch {
            let v: Value = serde_json::from_str(&text).expect("JSON report");
            v["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect()
        } else {
            text.lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).expect("NDJSON finding");
                    v["rule"].as_str().unwrap_or_default().to_string()
                })
                .collect()
        };
        for r in rules {
            *m.entry(r).or_insert(0) += 1;
        }
        m
    };
    let common_args = [
        "--format",
        "json",
        "--fail-on",
        "never",
        "--auth",
        "traffic.auth.json",
    ];
    let batch = common::bin()
        .current_dir(dir.path())
        .args(common_args)
        .arg("traffic.log")
        .output()
        .expect("batch run");
    assert_eq!(batch.status.code(), Some(0));
    let input = std::fs::File::open(dir.path().join("traffic.log")).expect("open");
    let followed = common::bin()
        .current_dir(dir.path())
        .arg("--follow")
        .args(common_args)
        .stdin(input)
        .output()
        .expect("follow run");
    assert_eq!(followed.status.code(), Some(0));
    let (b, f) = (count(&batch.stdout, true), count(&followed.stdout, false));
    assert!(
        b.get("retry-on-cooled-profile").copied().unwrap_or(0) >= 20,
        "{b:?}"
    );
    assert_eq!(b, f, "findings per rule, batch vs --follow");
}

/// A run that never ends keeps its memory bounded: beyond the requests it remembers, the oldest
/// are forgotten, and findings keep coming.
#[test]
fn a_long_follow_remembers_a_bounded_number_of_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = generated(dir.path());
    let log = args.ingest.paths.first().expect("log").clone();
    let name = log.display().to_string();
    let mut live = Live::new(&options(&args), &name)
        .expect("follow starts")
        .remember(20);
    let (mut most, mut printed) = (0, 0);
    let mut reader = read::open(&InputSpec::file(log, SourceHint::Unknown)).expect("open");
    read::for_each_line(&mut *reader, &name, &mut |no, line| {
        if live.push_line(no, line) {
            printed += live.checkpoint(false).len();
        }
        most = most.max(live.remembered());
    })
    .expect("read");
    assert!(most <= 22, "{most} requests remembered");
    assert!(printed >= 100, "only {printed} findings printed");
    // Unbounded, the same stream keeps more than that.
    let mut live = Live::new(&options(&args), &name).expect("follow starts");
    let mut reader = read::open(&InputSpec::file(
        dir.path().join("traffic.log"),
        SourceHint::Unknown,
    ))
    .expect("open");
    read::for_each_line(&mut *reader, &name, &mut |no, line| {
        live.push_line(no, line);
    })
    .expect("read");
    assert!(live.remembered() > 50, "{}", live.remembered());
}

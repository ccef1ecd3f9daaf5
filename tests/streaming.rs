//! A single log source is analyzed streamed (requests settled and plain successes dropped as
//! the input goes); the report must be byte for byte the one of the whole-input analysis.
//! Checked over every fixture case, every log of every real capture on its own, and synthetic
//! traffic with every incident shape, settling as eagerly as possible (`--settle-every 1`).

mod common;

#[path = "../examples/gen/synth.rs"]
#[allow(dead_code)]
mod synth;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The JSON report (bytes) of `analyze` in `dir` with `args` and `extra`.
fn report(dir: &Path, args: &[String], extra: &[&str]) -> Vec<u8> {
    // Logs without a single log line (console captures of healthy runs, mangled files) are
    // compared as empty runs.
    let mut all: Vec<&str> = vec!["analyze", "--format", "json", "--fail-on", "never"];
    if !args.iter().any(|a| a == "--allow-empty") {
        all.push("--allow-empty");
    }
    all.extend(args.iter().map(String::as_str));
    all.extend_from_slice(extra);
    let out = common::run_in(dir, &all);
    assert!(
        out.status.code() == Some(0),
        "{} {:?}: {}",
        dir.display(),
        all,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Compare the whole-input report with streamed ones; returns a description of any difference.
fn compare(dir: &Path, args: &[String]) -> Option<String> {
    let whole = report(dir, args, &["--no-streaming"]);
    for extra in [&[][..], &["--settle-every", "1"][..]] {
        let streamed = report(dir, args, extra);
        if streamed != whole {
            let w: Value = serde_json::from_slice(&whole).unwrap_or(Value::Null);
            let s: Value = serde_json::from_slice(&streamed).unwrap_or(Value::Null);
            return Some(format!(
                "{} {:?} {:?}:\n whole findings {}\n streamed findings {}\n whole summary {}\n streamed summary {}",
                dir.display(),
                args,
                extra,
                w["findings"],
                s["findings"],
                w["summary"],
                s["summary"]
            ));
        }
    }
    None
}

fn files_with_ext(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_with_ext(&p, exts, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
        {
            out.push(p);
        }
    }
}

#[test]
fn fixture_cases_stream_to_the_same_report() {
    let mut cases = Vec::new();
    files_with_ext(&common::fixtures(), &["json"], &mut cases);
    let mut failures = Vec::new();
    let mut runs = 0;
    for file in cases.iter().filter(|p| p.ends_with("cases.json")) {
        let dir = file.parent().expect("case dir");
        let text = std::fs::read_to_string(file).expect("cases.json");
        let list: Value = serde_json::from_str(&text).expect("cases.json parses");
        for case in list.as_array().into_iter().flatten() {
            let args: Vec<String> = case["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            runs += 1;
            failures.extend(compare(dir, &args));
        }
    }
    assert!(runs > 40, "only {runs} cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_log_alone_streams_to_the_same_report() {
    let mut logs = Vec::new();
    for sub in ["captured", "corpus", "rules", "shapes", "mangled"] {
        files_with_ext(
            &common::fixtures().join(sub),
            &["log", "txt", "jsonl"],
            &mut logs,
        );
    }
    let mut failures = Vec::new();
    for log in &logs {
        let dir = log.parent().expect("dir");
        let name = log
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        failures.extend(compare(dir, &[name]));
    }
    assert!(logs.len() > 100, "only {} logs found", logs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn synthetic_traffic_streams_to_the_same_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in [
        synth::Format::AgentLog,
        synth::Format::JournalShortIso,
        synth::Format::JournalJson,
    ] {
        let path = dir.path().join("traffic.log");
        let opts = synth::Options {
            format,
            seed: 11,
            size: 600 << 10,
            incident_every: 1,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        synth::generate(&opts, &mut file).expect("generate");
        std::io::Write::flush(&mut file).expect("flush");
        drop(file);
        let failure = compare(dir.path(), &["traffic.log".to_string()]);
        assert!(
            failure.is_none(),
            "{format:?}: {}",
            failure.unwrap_or_default()
        );
    }
}

#[test]
fn out_of_order_input_is_sorted_whole_from_a_file_and_named_from_stdin() {
    let dir = common::fixtures().join("mangled");
    // From a file: read again and sorted whole, so the report is the whole-input one.
    assert!(compare(&dir, &["timestamps.log".to_string()]).is_none());
    // From standard input: analyzed where the late line came, and the summary says so.
    let text = std::fs::read(dir.join("timestamps.log")).expect("fixture");
    let mut child = common::bin()
        .args(["analyze", "--format", "json", "--fail-on", "never"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &text).expect("write");
    let out = child.wait_with_output().expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let warnings = report["summary"]["warnings"].to_string();
    assert!(
        warnings.contains("1 lines of standard input came more than 15 minutes behind"),
        "{warnings}"
    );
}

#[test]
fn captures_with_every_input_stream_to_the_same_report() {
    // agent.log and errors.log repeat each other's warnings, stdout.txt repeats the attempts
    // untimed, and auth snapshots come before and after: the merged stream must dedupe and
    // order them exactly as the whole-input merge does.
    let root = common::fixtures().join("captured");
    let mut expected = Vec::new();
    files_with_ext(&root, &["json"], &mut expected);
    let mut failures = Vec::new();
    let mut runs = 0;
    for file in expected.iter().filter(|p| p.ends_with("expected.json")) {
        let dir = file.parent().expect("capture dir");
        let text = std::fs::read_to_string(file).expect("expected.json");
        let e: Value = serde_json::from_str(&text).expect("expected.json parses");
        let mut args = vec![
            "--hermes-version".to_string(),
            e["hermes_version"].as_str().unwrap_or("0.19.0").to_string(),
        ];
        for input in e["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .filter(|i| dir.join(i).exists())
        {
            if input.contains("auth-list") {
                args.push("--auth-list".into());
            }
            args.push(input.to_string());
        }
        runs += 1;
        failures.extend(compare(dir, &args));
        // The logs directory as a whole, as `hermes-forensics ~/.hermes/logs` reads it.
        runs += 1;
        failures.extend(compare(dir, &["logs".to_string()]));
    }
    assert!(runs >= 100, "only {runs} runs");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Write the generator's traffic of `mix` (and its auth.json) into `dir`.
fn generate_mix(dir: &Path, format: synth::Format, mix: synth::Mix, every: u64, size: u64) {
    let opts = synth::Options {
        format,
        seed: 13,
        size,
        incident_every: every,
    };
    let path = dir.join("traffic.log");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let injected = synth::generate_mix(&opts, mix, &mut file).expect("generate");
    std::io::Write::flush(&mut file).expect("flush");
    std::fs::write(
        dir.join("traffic.auth.json"),
        synth::auth_snapshot(&injected),
    )
    .expect("auth.json");
}

#[test]
fn every_traffic_mix_streams_to_the_same_report() {
    // Recovered requests (a transient failure retried and served) are dropped as they settle,
    // forgotten sessions leave only their request counters: the report must not change, with
    // the incidents' pool, cooldown and fallback state around them.
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = [
        (synth::Format::AgentLog, synth::Mix::FailRecover, 2),
        (synth::Format::JournalShortIso, synth::Mix::FailRecover, 3),
        (synth::Format::JournalJson, synth::Mix::FailRecover, 1),
        (synth::Format::AgentLog, synth::Mix::Sessions, 2),
        (synth::Format::JournalJson, synth::Mix::Sessions, 1),
        (synth::Format::AgentLog, synth::Mix::Quiet, 1),
    ];
    for (format, mix, every) in runs {
        generate_mix(dir.path(), format, mix, every, 600 << 10);
        let args = ["traffic.log".to_string(), "traffic.auth.json".to_string()];
        let failure = compare(dir.path(), &args);
        assert!(
            failure.is_none(),
            "{format:?} {mix:?}: {}",
            failure.unwrap_or_default()
        );
    }
}

#[test]
fn recovered_requests_are_dropped_as_they_settle_unless_a_console_copy_may_follow() {
    use hermes_forensics::cli::IngestArgs;
    use hermes_forensics::correlate::{CorrelateOptions, Orderer, Streamer};
    let dir = tempfile::tempdir().expect("tempdir");
    generate_mix(
        dir.path(),
        synth::Format::AgentLog,
        synth::Mix::FailRecover,
        0,
        200 << 10,
    );
    let log = dir.path().join("traffic.log");
    // Untimed sources first (as the merge puts them), then the log in time order.
    let run = |paths: Vec<PathBuf>| {
        let args = IngestArgs {
            paths,
            ..Default::default()
        };
        let opts = hermes_forensics::app::ingest_options(&args).expect("options");
        let (ingested, events) = hermes_forensics::ingest::ingest_collect(&opts).expect("ingest");
        let mut orderer = Orderer::default();
        let mut streamer = Streamer::new(ingested.sources.clone()).settle_every(1);
        let (untimed, timed): (Vec<_>, Vec<_>) = events
            .into_iter()
            .partition(|e| e.record.time.utc.is_none());
        for e in untimed {
            streamer.accept(Box::new(e), None);
        }
        let mut peak = 0;
        for e in timed {
            orderer.push(Box::new(e), &mut |t, e| streamer.accept(e, t));
            peak = peak.max(streamer.kept_requests());
        }
        orderer.finish(&mut |t, e| streamer.accept(e, t));
        let (analysis, totals) =
            streamer.finish(Vec::new(), Vec::new(), CorrelateOptions::default());
        (peak, analysis.requests.len(), totals.dropped_requests)
    };
    let (peak, kept, dropped) = run(vec![log.clone()]);
    assert_eq!((peak, kept), (0, 0), "every request recovered");
    assert!(dropped > 20, "{dropped} requests dropped");
    // A console line of a request in the input: the recovered requests are kept (a console copy
    // of a failed call is matched to its logged request at the end).
    let console = dir.path().join("console.txt");
    std::fs::write(
        &console,
        "⚠️  API call failed (attempt 1/3): InternalServerError [HTTP 503]\n",
    )
    .expect("write");
    let (_, kept, dropped) = run(vec![log, console]);
    assert!(kept > 20, "{kept} requests kept, {dropped} dropped");
}

#[test]
fn a_late_console_copy_of_a_recovered_call_streams_to_the_same_report() {
    // A journal of recovered calls, and a console block printed after one of them (its copy,
    // seconds to minutes late): requests recovered well before it are dropped, the ones it may
    // repeat are kept, and the report is the whole-input one.
    let dir = tempfile::tempdir().expect("tempdir");
    generate_mix(
        dir.path(),
        synth::Format::JournalShortIso,
        synth::Mix::FailRecover,
        0,
        300 << 10,
    );
    let text = std::fs::read_to_string(dir.path().join("traffic.log")).expect("read");
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("API call failed (attempt 1/3)"))
        .collect();
    assert!(failed.len() > 20);
    for (k, late_s) in [(3, 1), (8, 30), (15, 150), (failed.len() - 1, 5)] {
        let line = failed[k];
        let (stamp, rest) = line.split_at(24);
        let t = chrono::DateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%z").expect("stamp")
            + chrono::Duration::seconds(late_s);
        let emitter = rest.split(": ").next().unwrap_or_default();
        let copy = format!(
            "{}{emitter}: ⚠️  API call failed (attempt 1/3): InternalServerError [HTTP 503]\n",
            t.format("%Y-%m-%dT%H:%M:%S%z")
        );
        std::fs::write(dir.path().join("console.log"), copy).expect("write");
        let args = [
            "traffic.log".to_string(),
            "console.log".to_string(),
            "traffic.auth.json".to_string(),
        ];
        let failure = compare(dir.path(), &args);
        assert!(failure.is_none(), "{k}: {}", failure.unwrap_or_default());
    }
}

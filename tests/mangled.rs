//! Hostile input through the binary: every mangled file ends with exit 0/1 and a line count
//! that adds up, or with a clear exit-2 error — never a panic, a hang or unbounded memory.
//! Small cases live in `fixtures/mangled/`; big ones are generated into a temporary directory.

mod common;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Longest a single run may take before the test fails as a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

const SESSION: &str =
    "2026-11-23 15:03:47,107 WARNING [20261123_150343_5dd629] agent.conversation_loop: ";

fn mangled(name: &str) -> PathBuf {
    common::fixtures().join("mangled").join(name)
}

/// Run the binary with a hang guard; fails on timeout or on a panic message.
fn run(args: &[&str]) -> Output {
    let child = common::bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let out = wait_with_timeout(child, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    out
}

fn wait_with_timeout(mut child: Child, args: &[&str]) -> Output {
    let start = Instant::now();
    // Drain stdout on a thread so a large report cannot block the child on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("{args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = child.wait_with_output().expect("output");
    out.stdout = reader.join().expect("reader").expect("stdout");
    out
}

/// `analyze --format json` on `paths`; asserts exit 0/1 and returns the report.
fn analyze(paths: &[&Path]) -> Value {
    let mut args = vec!["--format", "json"];
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json report")
}

/// Lines in a file as the reader counts them (a last line without newline counts).
fn file_lines(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read fixture");
    let nl = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    nl + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Each source's used + other + unrecognized lines add up to the lines read, which equal the
/// lines in the file.
fn assert_counts(report: &Value, paths: &[&Path]) {
    let sources = report["summary"]["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), paths.len(), "{report}");
    for (s, path) in sources.iter().zip(paths) {
        let read = num(s, "lines_read");
        assert_eq!(read, file_lines(path), "{}: {s}", path.display());
        assert_eq!(
            num(s, "lines_used") + num(s, "lines_other") + num(s, "lines_unrecognized"),
            read,
            "{}: {s}",
            path.display()
        );
    }
}

/// Check one file end to end; returns the report.
fn check_file(path: &Path) -> Value {
    let report = analyze(&[path]);
    assert_counts(&report, &[path]);
    report
}

#[test]
fn small_mangled_files_are_accounted_for() {
    let expect_unrecognized = [
        ("crlf-mixed.log", Some(0)),
        ("huge-number-details.log", Some(0)),
        ("invalid-utf8.log", Some(0)),
        ("nul-bytes.log", Some(0)),
        ("timestamps.log", Some(0)),
        ("truncated-last-line.log", Some(0)),
    ];
    for (name, unrecognized) in expect_unrecognized {
        let report = check_file(&mangled(name));
        if let Some(n) = unrecognized {
            assert_eq!(
                num(&report["summary"]["sources"][0], "lines_unrecognized"),
                n,
                "{name}"
            );
        }
    }
    // Nothing to analyze: exit 2 and why (a binary file is skipped, an empty one read).
    for (name, why) in [
        ("binary-garbage.log", "binary-garbage.log: binary content"),
        ("empty.log", "no Hermes log line in"),
    ] {
        let path = mangled(name).display().to_string();
        let out = run(&["--format", "json", &path]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{name}: {err}");
        assert!(err.contains("nothing to analyze"), "{name}: {err}");
    }
    // Accepted as empty, the empty file is still accounted for.
    let empty = mangled("empty.log");
    let out = run(&[
        "--format",
        "json",
        "--allow-empty",
        &empty.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_counts(&report, &[&empty]);
}

#[test]
fn crlf_lines_are_read_like_lf_lines() {
    let report = check_file(&mangled("crlf-mixed.log"));
    assert_eq!(report["summary"]["attempts"], 3, "{report}");
    assert_eq!(report["summary"]["rotations"], 1, "{report}");
}

#[test]
fn reversed_and_impossible_timestamps_keep_their_lines() {
    let report = check_file(&mangled("timestamps.log"));
    assert_eq!(num(&report["summary"]["sources"][0], "lines_used"), 7);
}

#[test]
fn same_file_twice_is_counted_per_source_and_merged() {
    let path = common::fixtures().join("classify/agent-shared-retry-budget.log");
    let once = analyze(&[&path]);
    let twice = analyze(&[&path, &path]);
    assert_counts(&twice, &[&path, &path]);
    assert_eq!(twice["summary"]["attempts"], once["summary"]["attempts"]);
    assert_eq!(
        twice["findings"].as_array().map(Vec::len),
        once["findings"].as_array().map(Vec::len)
    );
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}

#[test]
fn ten_mib_line_is_cut_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = format!("{SESSION}API call failed (attempt 1/3) summary=").into_bytes();
    text.extend(std::iter::repeat_n(b'A', 10 << 20));
    text.extend_from_slice(format!("\n{SESSION}next line\n").as_bytes());
    let path = write(dir.path(), "long.log", &text);
    let report = check_file(&path);
    assert_eq!(num(&report["summary"]["sources"][0], "lines_read"), 2);
    assert_eq!(report["summary"]["attempts"], 1);
}

#[test]
fn deeply_nested_and_huge_number_details_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let depth = 100_000;
    let body = format!("{}1{}", "{\"a\": ".repeat(depth), "}".repeat(depth));
    let text = format!(
        "{SESSION}Streaming failed before delivery: Error code: 429 - {body}\n\
         {SESSION}API call failed (attempt 1/3) error_type=RateLimitError summary=HTTP 429 {}\n\
         {SESSION}Retrying API call in 1e999999s (attempt 1/3) error=Error code: 429 - {{'error': {{'resets_at': {}}}}}\n",
        "[".repeat(depth),
        "9".repeat(400),
    );
    let path = write(dir.path(), "deep.log", text.as_bytes());
    check_file(&path);
}

#[test]
fn deeply_nested_auth_json_is_skipped_or_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let depth = 100_000;
    let text = format!(
        "{{\"credential_pool\": {{\"openai\": [{{\"id\": \"a\", \"extra\": {}1{}}}]}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let path = write(dir.path(), "auth.json", text.as_bytes());
    let out = run(&["--fail-on", "never", "--auth", &path.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        // Unknown keys are skipped whatever they hold.
        Some(0) => {}
        Some(2) => assert!(err.contains("auth.json:1:"), "{err}"),
        code => panic!("exit {code:?}: {err}"),
    }
}

#[test]
fn huge_numbers_in_auth_json_are_read_or_rejected_cleanly() {
    for name in ["huge-number.json", "huge-exponent.json"] {
        let path = common::fixtures().join("auth").join(name);
        let out = run(&["--format", "json", "--auth", &path.display().to_string()]);
        assert!(
            matches!(out.status.code(), Some(0..=2)),
            "{name}: {:?}",
            out.status
        );
    }
}

/// One request with `n` console attempts; the analysis must stay linear in `n`.
fn check_one_request_with(n: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("attempts.log");
    {
        let file = std::fs::File::create(&path).expect("create");
        let mut w = std::io::BufWriter::new(file);
        for k in 1..=n {
            writeln!(
                w,
                "⚠️  API call failed (attempt {k}/{n}): RateLimitError [HTTP 429]"
            )
            .expect("write");
        }
        w.flush().expect("flush");
    }
    let start = Instant::now();
    let report = check_file(&path);
    assert_eq!(report["summary"]["attempts"], n);
    eprintln!("{n} attempts in one request: {:?}", start.elapsed());
}

/// A hundred thousand attempts: a quadratic step would take minutes here, not seconds.
#[test]
fn a_hundred_thousand_attempts_in_one_request_finish_quickly() {
    check_one_request_with(100_000);
}

/// The full million (about 8 s and 1.3 GB in a release build; too slow for a debug test run):
/// `cargo test --release --test mangled -- --ignored`.
#[test]
#[ignore]
fn a_million_attempts_in_one_request_finish_quickly() {
    check_one_request_with(1_000_000);
}

#[test]
fn input_errors_exit_2_with_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir");
    let corrupt = write(
        dir.path(),
        "corrupt.json",
        b"{\"credential_pool\": {\"x\": [}",
    );
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    // A dangling link where a log should be: unreadable whatever the user's rights.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("gone"), logs.join("agent.log")).expect("symlink");
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![missing.display().to_string()],
            missing.display().to_string(),
        ),
        (
            vec!["--auth".into(), corrupt.display().to_string()],
            format!("{}:1:", corrupt.display()),
        ),
        #[cfg(unix)]
        (vec![logs.display().to_string()], "agent.log".to_string()),
    ];
    for (args, expect) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: partial output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&expect), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn strict_rejects_unrecognized_request_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "odd.log",
        b"something else entirely\nthe API call went sideways with api_key=sk-abcdefghijklmnop123456\n",
    );
    let p = path.display().to_string();
    // No line of a log shape: only accepted as an empty run.
    let out = run(&["--fail-on", "never", "--allow-empty", &p]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["--strict", &p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{p}:2: unrecognized Hermes request line:")),
        "{err}"
    );
    assert!(!err.contains("abcdefghijklmnop"), "secret in error: {err}");
    let out = run(&["events", "--strict", &p]);
    assert_eq!(out.status.code(), Some(2));
}

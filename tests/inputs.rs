//! Inputs judged by content: a directory's logs are read whatever their names, what is not a log
//! is skipped with a reason, and a run with nothing to analyze fails (exit 2) instead of
//! reporting "No findings" (fixtures under `fixtures/inputs/`).

mod common;

use std::io::Write;
use std::process::{Child, ChildStdin, Output, Stdio};

fn inputs() -> std::path::PathBuf {
    common::fixtures().join("inputs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A journal of the corpus (short-iso), as bytes.
fn journal_fixture() -> Vec<u8> {
    std::fs::read(
        common::fixtures()
            .join("corpus")
            .join("partial-rotation-journal")
            .join("journal-short-iso.log"),
    )
    .expect("fixture")
}

/// The analysis with `args`, reading standard input from the returned pipe.
fn on_standard_input(args: &[&str]) -> (Child, ChildStdin) {
    let mut child = common::bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdin = child.stdin.take().expect("stdin");
    (child, stdin)
}

#[test]
fn a_journal_saved_as_journal_log_in_a_directory_is_analyzed() {
    let (report, out) = common::analyze_json(&inputs(), &["journal-named-log"]);
    let rules = common::rule_ids(&report);
    assert!(
        rules.contains(&"retry-on-cooled-profile".to_string()),
        "{rules:?}"
    );
    let sources: Vec<&str> = report["summary"]["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(sources, ["journal-named-log/journal.log"]);
    // What was left out is said, with why.
    let err = stderr(&out);
    assert!(
        err.contains("skipped: journal-named-log/core.bin: binary content"),
        "{err}"
    );
    assert!(
        err.contains(
            "skipped: journal-named-log/notes.txt: no Hermes log line in the first 50 lines"
        ),
        "{err}"
    );
}

#[test]
fn an_empty_directory_fails_unless_allow_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("captured-logs");
    std::fs::create_dir(&empty).expect("mkdir");
    let out = common::run_in(dir.path(), &["captured-logs"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("captured-logs: empty directory, nothing to analyze"),
        "{err}"
    );
    let out = common::run_in(dir.path(), &["--allow-empty", "captured-logs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No findings"));
}

#[test]
fn a_binary_file_alone_fails_and_is_skipped_beside_logs() {
    let out = common::run_in(&inputs(), &["binary-only"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("skipped: binary-only/core.bin: binary content"),
        "{err}"
    );
    assert!(err.contains("nothing to analyze"), "{err}");
    // Named on the command line: the same.
    let out = common::run_in(&inputs(), &["binary-only/core.bin"]);
    assert_eq!(out.status.code(), Some(2));
    // Beside a log, it is only skipped (see the first test).
    let out = common::run_in(
        &inputs(),
        &[
            "--fail-on",
            "never",
            "binary-only/core.bin",
            "journal-named-log/journal.log",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped: binary-only/core.bin"));
}

#[test]
fn unrelated_text_only_fails_and_allow_empty_accepts_it() {
    let out = common::run_in(&inputs(), &["unrelated-text"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("skipped: unrelated-text/notes.txt"), "{err}");
    assert!(err.contains("skipped: unrelated-text/todo.md"), "{err}");
    assert!(err.contains("nothing to analyze"), "{err}");
    // Text named on the command line is read whole, then found to hold no log line.
    let out = common::run_in(&inputs(), &["unrelated-text/notes.txt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no Hermes log line in unrelated-text/notes.txt (2 lines)"),
        "{err}"
    );
    let out = common::run_in(&inputs(), &["--allow-empty", "unrelated-text"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_empty_capture_on_stdin_fails_loudly() {
    let out = common::run_in(&inputs(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no Hermes log line in <stdin> (0 lines)"),
        "{}",
        stderr(&out)
    );
    let out = common::run_in(&inputs(), &["--allow-empty"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_bogus_json_is_an_error_naming_it() {
    let out = common::run_in(&inputs(), &["bogus-json/package.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "bogus-json/package.json: JSON that is neither an auth.json snapshot nor a journal"
        ),
        "{err}"
    );
    // Held by a directory, it is skipped with the same reason.
    let out = common::run_in(&inputs(), &["bogus-json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("skipped: bogus-json/package.json: JSON that is neither"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_baseline_is_written_when_the_run_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("baseline.json");
    let b = baseline.to_str().expect("utf-8 path");
    for args in [
        &["--write-baseline", b, "unrelated-text"][..],
        &["--write-baseline", b, "bogus-json/package.json"][..],
        &["--write-baseline", b, "binary-only"][..],
    ] {
        let out = common::run_in(&inputs(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!baseline.exists(), "{args:?} wrote a baseline");
    }
    // An empty capture piped in: no baseline either.
    let mut child = common::bin()
        .current_dir(inputs())
        .args(["--write-baseline", b])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"")
        .expect("write");
    assert_eq!(child.wait().expect("exit").code(), Some(2));
    assert!(!baseline.exists());
    // A run with something to analyze writes it.
    let out = common::run_in(
        &inputs(),
        &[
            "--fail-on",
            "never",
            "--write-baseline",
            b,
            "journal-named-log",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(baseline.exists());
}

#[test]
fn standard_input_is_read_once_whole_in_a_whole_input_analysis() {
    // More than the 64 KiB read ahead to tell an issue body from a log: all of it is analyzed.
    let one = journal_fixture();
    let lines = one.iter().filter(|&&b| b == b'\n').count() * 100;
    let (child, mut stdin) =
        on_standard_input(&["--no-streaming", "--format", "json", "--fail-on", "never"]);
    let writer = std::thread::spawn(move || stdin.write_all(&one.repeat(100)));
    let out = child.wait_with_output().expect("exit");
    writer.join().expect("writer").expect("write");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["summary"]["sources"][0]["lines_read"], lines as u64,
        "{}",
        report["summary"]["sources"]
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_pipe_on_standard_input_is_widened_to_a_mebibyte() {
    // With the kernel's 64 KiB, a writer and the analysis take turns on every 64 KiB.
    let limit = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    if limit.is_none_or(|l| l < 1 << 20) {
        eprintln!("skipped: this kernel lets a user's pipe hold less than 1 MiB ({limit:?})");
        return;
    }
    let text = journal_fixture();
    let (child, mut stdin) = on_standard_input(&["--format", "json", "--fail-on", "never"]);
    assert_eq!(
        rustix::pipe::fcntl_getpipe_size(&stdin).expect("pipe size"),
        64 << 10
    );
    // The pipe stays open until the size is read back, so the analysis is still reading it.
    let mut size = 0;
    for _ in 0..1000 {
        size = rustix::pipe::fcntl_getpipe_size(&stdin).expect("pipe size");
        if size == 1 << 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stdin.write_all(&text).expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("exit");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        size,
        1 << 20,
        "the pipe on standard input kept {size} bytes"
    );
}

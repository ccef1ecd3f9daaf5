//! A self-documenting command line: exit codes and examples in `--help` and the manual page,
//! rule ids completed by the shell and checked with a "did you mean", no hidden option in the
//! completions, values of `--hermes-version` / `--strategy` in help, output errors reported, a
//! hint and progress on standard input, `--request`, request ids in `events`, `--tz` for
//! printed times.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn corpus(case: &str) -> std::path::PathBuf {
    common::fixtures().join("corpus").join(case)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn long_help() -> String {
    let out = common::run_in(&common::fixtures(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    text(&out.stdout)
}

#[test]
fn help_text() {
    insta::assert_snapshot!(long_help());
}

#[test]
fn help_and_man_page_give_exit_codes_and_examples() {
    let help = long_help();
    for needle in [
        "Exit codes:",
        "  2  usage or input error",
        "Examples:",
        "hermes-forensics explain missed-rotation",
    ] {
        assert!(help.contains(needle), "{needle:?} missing from --help");
    }
    let out = common::run_in(&common::fixtures(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let man = text(&out.stdout);
    assert!(man.starts_with(".ie") || man.contains(".TH"), "not roff");
    assert!(
        man.contains("Exit codes:"),
        "exit codes missing from the man page"
    );
    assert!(
        man.contains("Examples:"),
        "examples missing from the man page"
    );
}

#[test]
fn help_lists_hermes_versions_and_strategies() {
    let help = long_help();
    for (_, release) in hermes_forensics::release::RELEASES {
        assert!(help.contains(release), "{release} missing from --help");
    }
    for s in hermes_forensics::cli::STRATEGIES {
        assert!(help.contains(s), "{s} missing from --help");
    }
}

#[test]
fn completions_offer_rule_ids_and_no_hidden_option() {
    for shell in ["bash", "zsh", "fish"] {
        let out = common::run_in(&common::fixtures(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        let script = text(&out.stdout);
        for r in hermes_forensics::rules::RULES {
            assert!(
                script.contains(r.info.id),
                "{shell}: rule {} not completed",
                r.info.id
            );
        }
        assert!(script.contains("0.19.0"), "{shell}: releases not completed");
        assert!(
            !script.contains("settle-every"),
            "{shell}: hidden option completed"
        );
    }
}

#[test]
fn rule_typos_get_a_did_you_mean() {
    for args in [
        &["--rule", "missed-rotaton", "-"][..],
        &["--ignore", "missed-rotaton", "-"][..],
        &["explain", "missed-rotaton"][..],
    ] {
        let out = common::run_in(&common::fixtures(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("unknown rule \"missed-rotaton\" (did you mean `missed-rotation`?)"),
            "{args:?}: {err}"
        );
    }
}

/// Run with standard output on `/dev/full`: every write fails with "no space left".
fn to_full_device(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    common::bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(full)
        .output()
        .expect("the binary runs")
}

#[test]
fn help_completions_and_man_report_write_errors() {
    for args in [
        &["--help"][..],
        &["-h"][..],
        &["--version"][..],
        &["completions", "bash"][..],
        &["man"][..],
    ] {
        let out = to_full_device(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("cannot write output"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn help_to_a_closed_pipe_exits_quietly() {
    let mut child = common::bin()
        .arg("--help")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let status = child.wait().expect("exit");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// Run `command` (a shell command line) on a pseudo-terminal with `script`, typing `input`
/// after a moment; None when `script` is not installed. The terminal's output is returned.
fn in_pty(command: &str, input: &[u8]) -> Option<String> {
    let probe = Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("script (util-linux) is not installed: pseudo-terminal test not run");
        return None;
    }
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script runs");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(Duration::from_millis(700));
    stdin.write_all(input).expect("type");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{command}: still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    Some(text(&reader.join().expect("reader")))
}

#[test]
fn reading_stdin_from_a_terminal_says_so_and_one_ctrl_d_ends_it() {
    let bin = env!("CARGO_BIN_EXE_hermes-forensics");
    // Ctrl-D (0x04) once: the run ends (nothing to analyze, accepted) and prints its report.
    let Some(out) = in_pty(&format!("{bin} --allow-empty --format json"), b"\x04") else {
        return;
    };
    assert!(
        out.contains("reading Hermes log lines from stdin (Ctrl-D to end"),
        "{out}"
    );
    assert!(out.contains("\"schema_version\""), "{out}");
}

#[test]
fn reading_stdin_from_a_pipe_shows_progress_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.log");
    let one = std::fs::read(corpus("partial-rotation-journal").join("journal-short-iso.log"))
        .expect("fixture");
    std::fs::write(&big, one.repeat(400)).expect("write");
    let bin = env!("CARGO_BIN_EXE_hermes-forensics");
    let Some(out) = in_pty(
        &format!(
            "cat {} | {bin} --fail-on never --format json > /dev/null",
            big.display()
        ),
        b"",
    ) else {
        return;
    };
    let re = regex::Regex::new(r"<stdin>: [\d.]+ (B|KiB|MiB) read").expect("regex");
    assert!(re.is_match(&out), "{out}");
    // Standard input is a pipe: no hint.
    assert!(!out.contains("Ctrl-D"), "{out}");
}

#[test]
fn request_shows_one_request_timeline() {
    let dir = corpus("partial-rotation-journal");
    let out = common::run_in(
        &dir,
        &[
            "--fail-on",
            "never",
            "--request",
            "pid 2844586#1",
            "journal-short-iso.log",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("request pid 2844586#1 (openai-codex"),
        "{report}"
    );
    assert!(report.contains("attempt 3/4 HTTP 429"), "{report}");
    let out = common::run_in(
        &dir,
        &["--request", "pid 2844586#9", "journal-short-iso.log"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--request pid 2844586#9: no such request (did you mean `pid 2844586#1`?)"),
        "{err}"
    );
}

#[test]
fn every_events_line_names_its_request() {
    let out = common::run_in(
        &corpus("partial-rotation-journal"),
        &["events", "--show-unrecognized", "journal-short-iso.log"],
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    assert!(!lines.is_empty());
    for v in &lines {
        let obj = v.as_object().expect("object");
        assert!(obj.contains_key("request"), "{v}");
        if v["kind"] == "attempt_failed" {
            assert_eq!(v["request"], "pid 2844586#1", "{v}");
        }
    }
}

#[test]
fn tz_sets_the_zone_reports_print_times_in() {
    let dir = corpus("partial-rotation-journal");
    let args = ["--fail-on", "never", "--timeline", "journal-short-iso.log"];
    let utc = text(&common::run_in(&dir, &args).stdout);
    assert!(
        utc.contains("time span: 2026-05-08 22:41:08Z → 2026-05-08 22:41:15Z"),
        "{utc}"
    );
    let ny =
        text(&common::run_in(&dir, &[&["--tz", "America/New_York"][..], &args].concat()).stdout);
    assert!(
        ny.contains("time span: 2026-05-08 18:41:08-04:00 → 2026-05-08 18:41:15-04:00"),
        "{ny}"
    );
    assert!(ny.contains("  2026-05-08 18:41:15-04:00   attempt"), "{ny}");
}

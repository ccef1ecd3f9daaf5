//! `--follow` through a real pipe: a finding is printed as soon as its request closes, before
//! the input ends; end of input flushes and exits with the usual code; memory stays bounded on
//! a long stream. `--follow FILE` tails the file through growth, truncation and rotation.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn spawn_follow(args: &[&str]) -> Child {
    let mut all = vec!["--follow", "--format", "json", "--idle", "2"];
    all.extend_from_slice(args);
    common::bin()
        .args(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Lines of stdout, delivered through a channel as they are printed.
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn request_lines() -> Vec<String> {
    let path = common::fixtures().join("corpus/real-0.19.0-shared-retry-budget/logs/agent.log");
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn prints_a_finding_when_its_request_closes_before_input_ends() {
    let auth = common::fixtures().join("corpus/real-0.19.0-shared-retry-budget/auth.before.json");
    let mut child = spawn_follow(&["--auth", auth.to_str().expect("utf-8 path")]);
    let lines = stdout_lines(&mut child);
    let mut stdin = child.stdin.take().expect("stdin");
    for (i, line) in request_lines().iter().enumerate() {
        writeln!(stdin, "{line}").expect("write");
        if i % 10 == 0 {
            stdin.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    stdin.flush().expect("flush");
    // The request ended with `API call failed after 3 retries`: its finding comes while stdin
    // is still open.
    let first = lines
        .recv_timeout(Duration::from_secs(20))
        .expect("a finding before end of input");
    let v: serde_json::Value = serde_json::from_str(&first).expect("NDJSON finding");
    assert_eq!(v["rule"], "shared-retry-budget");
    assert!(
        child.try_wait().expect("status").is_none(),
        "still following"
    );
    drop(stdin);
    let status = child.wait().expect("exit");
    assert_eq!(status.code(), Some(1), "findings at or above --fail-on low");
}

#[test]
fn idle_input_flushes_an_open_request() {
    let mut child = spawn_follow(&[]);
    let lines = stdout_lines(&mut child);
    let mut stdin = child.stdin.take().expect("stdin");
    // A retry on a cooled profile with no ending line: judged after --idle 2.
    let paste = common::fixtures().join("corpus/partial-rotation-journal/journal-short-iso.log");
    let text = std::fs::read_to_string(paste).expect("fixture");
    for line in text.lines().take(14) {
        writeln!(stdin, "{line}").expect("write");
    }
    stdin.flush().expect("flush");
    let got: Vec<String> = (0..3)
        .filter_map(|_| lines.recv_timeout(Duration::from_secs(15)).ok())
        .collect();
    assert!(
        got.iter().any(|l| l.contains("retry-on-cooled-profile")),
        "idle flush printed {got:?}"
    );
    drop(stdin);
    assert_eq!(child.wait().expect("exit").code(), Some(1));
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn memory_stays_bounded_on_a_long_stream() {
    let template = request_lines();
    let mut child = spawn_follow(&["--fail-on", "never"]);
    let lines = stdout_lines(&mut child);
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    // 400 requests (≈ 30,000 lines), each with its own session and minute.
    for n in 0..400u32 {
        let sid = format!("20261123_{:06}_{:06x}", n, n);
        for line in &template {
            let line = line.replace("20261123_150343_5dd629", &sid);
            let line = line.replacen(
                "2026-11-23 15:",
                &format!("2026-11-{:02} {:02}:", 1 + n / 1440 % 28, n / 60 % 24),
                1,
            );
            writeln!(stdin, "{line}").expect("write");
        }
    }
    stdin.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(500));
    let peak = vm_hwm_kib(pid);
    drop(stdin);
    let status = child.wait().expect("exit");
    assert_eq!(status.code(), Some(0));
    let printed = lines.try_iter().count();
    assert!(printed >= 400, "one finding per request, got {printed}");
    if let Some(kib) = peak {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB on a long stream");
    }
}

/// Kills the child when the test ends, whatever happened (a broken follow must not outlive it).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The fixture request as it would be logged by session `n` on day `n` (its own session tag
/// and date, so each copy is a request of its own).
fn request_copy(template: &[String], n: u32) -> String {
    let sid = format!("20261123_{n:06}_{n:06x}");
    let mut out = String::new();
    for line in template {
        let line = line.replace("20261123_150343_5dd629", &sid).replacen(
            "2026-11-23 ",
            &format!("2026-11-{:02} ", 1 + n),
            1,
        );
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

/// Wait (at most 30 s) for a finding of session `n`'s request; returns its JSON.
fn finding_of(lines: &mpsc::Receiver<String>, n: u32) -> serde_json::Value {
    let sid = format!("20261123_{n:06}_{n:06x}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        let v: serde_json::Value = serde_json::from_str(&line).expect("NDJSON finding");
        if v["request"].as_str().is_some_and(|r| r.contains(&sid)) {
            return v;
        }
    }
    panic!("no finding for the request of session {sid}");
}

#[test]
fn follow_file_tails_through_truncation_and_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.log");
    let template = request_lines();
    append(&path, &request_copy(&template, 1));
    let auth = common::fixtures().join("corpus/real-0.19.0-shared-retry-budget/auth.before.json");
    let child = common::bin()
        .args(["--follow", "--format", "json", "--idle", "1", "--auth"])
        .arg(&auth)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = KillOnDrop(child);
    let lines = stdout_lines(&mut child.0);
    // What was there at the start.
    let first = finding_of(&lines, 1);
    assert_eq!(first["rule"], "shared-retry-budget");
    // Appended after the end was reached.
    append(&path, &request_copy(&template, 2));
    finding_of(&lines, 2);
    // Truncated, then written again from its start: read from the start, lines numbered anew.
    std::fs::write(&path, request_copy(&template, 3)).expect("truncate and write");
    let third = finding_of(&lines, 3);
    let evidence_lines: Vec<u64> = third["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert!(
        evidence_lines.iter().all(|&l| l <= template.len() as u64),
        "lines of the new content: {evidence_lines:?}"
    );
    // Rotated: renamed, a last request written to the old file, then a new file by the same name.
    let rotated = dir.path().join("agent.log.1");
    std::fs::rename(&path, &rotated).expect("rename");
    append(&rotated, &request_copy(&template, 4));
    append(&path, &request_copy(&template, 5));
    finding_of(&lines, 4);
    finding_of(&lines, 5);
    // Still following: a file is followed until the run is interrupted.
    assert!(
        child.0.try_wait().expect("status").is_none(),
        "still following"
    );
    append(&path, &request_copy(&template, 6));
    finding_of(&lines, 6);
    // SIGTERM ends it, with the usual exit code.
    let pid = child.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("status") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1), "findings at or above --fail-on low");
}

/// `--tz` sets the zone follow prints times in, as it does for the batch report: the same
/// finding shows the same time in both.
#[test]
fn follow_prints_times_in_the_tz_zone_like_the_batch_report() {
    let dir = common::fixtures().join("corpus/real-0.19.0-shared-retry-budget");
    let auth = dir.join("auth.before.json");
    let log = dir.join("logs/agent.log");
    let args = [
        "--tz",
        "Asia/Kolkata",
        "--auth",
        auth.to_str().expect("utf-8 path"),
    ];
    let followed = common::bin()
        .arg("--follow")
        .args(args)
        .stdin(std::fs::File::open(&log).expect("fixture"))
        .output()
        .expect("follow run");
    let batch = common::bin()
        .args(args)
        .arg(&log)
        .output()
        .expect("batch run");
    let times = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("time: "))
            .filter_map(|l| l.split("  ").next().map(str::to_string))
            .collect()
    };
    let (f, b) = (times(&followed.stdout), times(&batch.stdout));
    assert!(
        !f.is_empty(),
        "{}",
        String::from_utf8_lossy(&followed.stdout)
    );
    assert!(f.iter().all(|t| t.ends_with("+05:30")), "{f:?}");
    assert_eq!(f, b, "follow and batch print the same times");
}

/// Runs the binary with `args`, standard input read from `input`.
fn run_fed(args: &[&str], input: &std::path::Path) -> Vec<u8> {
    let out = common::bin()
        .args(args)
        .stdin(std::fs::File::open(input).expect("fixture"))
        .output()
        .expect("the binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The log records of OTLP `LogsData` lines, each with its resource's attributes.
fn otlp_records(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("one LogsData per line");
        for r in doc["resourceLogs"].as_array().into_iter().flatten() {
            for s in r["scopeLogs"].as_array().into_iter().flatten() {
                for rec in s["logRecords"].as_array().into_iter().flatten() {
                    out.push(format!("{} {} {}", r["resource"], s["scope"], rec));
                }
            }
        }
    }
    out.sort();
    out
}

/// The entries of a journal export stream (binary-safe fields included), sorted.
fn journal_entries(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut entry = Vec::new();
    let mut rest = bytes;
    while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
        let line = &rest[..nl];
        if line.is_empty() {
            entries.push(std::mem::take(&mut entry));
            rest = &rest[1..];
            continue;
        }
        let mut end = nl + 1;
        if !line.contains(&b'=') {
            let len = u64::from_le_bytes(rest[end..end + 8].try_into().expect("length"));
            end += 8 + len as usize + 1;
        }
        entry.extend_from_slice(&rest[..end]);
        rest = &rest[end..];
    }
    assert!(
        entry.is_empty() && rest.is_empty(),
        "the last entry is ended"
    );
    entries.sort();
    entries
}

#[test]
fn follow_emits_otlp_and_journal_export_one_per_finding_as_the_batch_run() {
    let cases = [
        common::fixtures().join("captured/two-host/overlapping/render/json.txt"),
        common::fixtures().join("corpus/real-0.19.0-shared-retry-budget/logs/agent.log"),
    ];
    for input in &cases {
        let batch_json = run_fed(&["--format", "json"], input);
        let report: serde_json::Value = serde_json::from_slice(&batch_json).expect("json");
        let n = report["findings"].as_array().map_or(0, Vec::len);
        assert!(n >= 1, "{input:?} has findings");

        let follow =
            |format: &str| run_fed(&["--follow", "--idle", "2", "--format", format], input);
        let batch = |format: &str| run_fed(&["--format", format], input);

        // One LogsData document per line, one finding each; the same records as the batch run.
        let live = String::from_utf8(follow("otlp")).expect("utf-8");
        assert_eq!(live.lines().count(), n, "{input:?}: {live}");
        let whole = String::from_utf8(batch("otlp")).expect("utf-8");
        assert_eq!(otlp_records(&live), otlp_records(&whole), "{input:?}");

        // One journal entry per finding; the same entries as the batch run.
        let live = journal_entries(&follow("journal-export"));
        assert_eq!(live.len(), n, "{input:?}");
        assert_eq!(live, journal_entries(&batch("journal-export")), "{input:?}");
    }
}

#[test]
fn journal_export_and_otlp_entries_come_before_input_ends() {
    use std::io::Read;
    let auth = common::fixtures().join("corpus/real-0.19.0-shared-retry-budget/auth.before.json");
    for format in ["journal-export", "otlp"] {
        let mut child = common::bin()
            .args(["--follow", "--idle", "2", "--format", format, "--auth"])
            .arg(&auth)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let mut out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut stdin = child.stdin.take().expect("stdin");
        for line in request_lines() {
            writeln!(stdin, "{line}").expect("write");
        }
        stdin.flush().expect("flush");
        // The request ended with `API call failed after 3 retries`: its entry comes, whole and
        // flushed, while stdin is still open (at the latest after --idle).
        let mut got = Vec::new();
        let end: &[u8] = if format == "otlp" { b"\n" } else { b"\n\n" };
        while !got.ends_with(end) {
            let chunk = rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("{format}: an entry before end of input"));
            got.extend(chunk);
        }
        assert!(
            child.try_wait().expect("status").is_none(),
            "still following"
        );
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains("shared-retry-budget"), "{format}: {text}");
        drop(stdin);
        assert_eq!(child.wait().expect("exit").code(), Some(1), "{format}");
    }
}

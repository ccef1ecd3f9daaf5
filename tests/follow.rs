//! `--follow` through a real pipe: a finding is printed as soon as its request closes, before
//! the input ends; end of input flushes and exits with the usual code; memory stays bounded on
//! a long stream.

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

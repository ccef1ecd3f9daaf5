//! Conservation across witnesses: the same run of the real Hermes, recorded by journald
//! (`tools/capture/run_journald.py`) and rendered by `journalctl` in every output mode, must never
//! show more attempts than the fake provider received, nor more requests than `agent.log` alone
//! shows. With `-v` the journal holds every logger record, so there it must show every attempt.
//!
//! Ground truth is the run's own `requests.log` (each journal run is a run of its own): one line
//! per chat-completion call the provider received; a connection the provider dropped (the
//! `APIConnectionError` attempts) is there too, with status 0.
//!
//! Where the analyzer does not hold this yet, the case is listed in `KNOWN_FAILURES` with what it
//! reports, so that the test stays green and the list stays precise.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `capture run render check` — `capture` relative to `fixtures/captured`, `run` is `plain` or
/// `verbose`, `render` a journalctl mode (or `*`: every mode), `check` one of `attempts`,
/// `requests`, `agent-log`. Each names a case where the analyzer breaks conservation; none does
/// today. (With `-v`, each failed attempt has two witnesses in the journal, the logger record on
/// stderr at once and the console block on stdout seconds later, held back to the turn's end:
/// `correlate::witness` counts them once.)
const KNOWN_FAILURES: &[&str] = &[];

/// `case mode host` — `case` a directory of `fixtures/captured/two-host`, `mode` `short-iso` or
/// `json`, `host` a host name (its findings differ from its capture's alone) or `mixed` (a finding
/// joins both hosts' lines). Each names a case where the analyzer mixes the hosts; none does
/// today (both gateways are `hermes[1]`: untagged lines join a session of the same host only, and
/// a fallback chain one host shows proves nothing for the other).
const KNOWN_TWO_HOST_FAILURES: &[&str] = &[];

const RUNS: &[&str] = &["plain", "verbose"];

/// Chat-completion calls the fake provider received in this run.
fn truth(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("requests.log")).expect("requests.log");
    text.lines()
        .filter(|l| {
            l.split('\t')
                .nth(5)
                .is_some_and(|p| p.ends_with("/chat/completions"))
        })
        .count()
}

/// The year of the run (journalctl `short` prints none), from the first line of requests.log.
fn year(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("requests.log")).expect("requests.log");
    text.chars().take(4).collect()
}

fn counts(report: &Value) -> (u64, u64) {
    let s = &report["summary"];
    (
        s["attempts"].as_u64().unwrap_or(0),
        s["requests"].as_u64().unwrap_or(0),
    )
}

/// Every journal run with renderings: `<capture>/journal/<run>/render/`.
fn journal_runs() -> Vec<(String, &'static str, PathBuf)> {
    let root = common::fixtures().join("captured");
    let mut out = Vec::new();
    for capture in common::captures() {
        for run in RUNS {
            let dir = capture.join("journal").join(run);
            if dir.join("render").is_dir() {
                let name = capture
                    .strip_prefix(&root)
                    .unwrap_or(&capture)
                    .display()
                    .to_string();
                out.push((name, *run, dir));
            }
        }
    }
    out
}

fn renderings(dir: &Path) -> Vec<String> {
    let mut modes: Vec<String> = std::fs::read_dir(dir.join("render"))
        .expect("render dir")
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".txt"))
                .map(str::to_string)
        })
        .collect();
    modes.sort();
    modes
}

fn known(capture: &str, run: &str, mode: &str, check: &str) -> bool {
    KNOWN_FAILURES.iter().any(|k| {
        let f: Vec<&str> = k.split_whitespace().collect();
        f.len() == 4
            && f[0] == capture
            && f[1] == run
            && (f[2] == mode || f[2] == "*")
            && f[3] == check
    })
}

#[test]
fn every_rendering_conserves_the_attempts_the_provider_saw() {
    let runs = journal_runs();
    assert!(
        runs.len() >= 30,
        "only {} journal runs with renderings",
        runs.len()
    );
    let mut failures: Vec<String> = Vec::new();
    let mut hit: Vec<String> = Vec::new();
    let mut checked = 0;
    for (capture, run, dir) in &runs {
        let truth = truth(dir);
        let year = year(dir);
        let (agent_attempts, agent_requests) =
            counts(&common::analyze_json(dir, &["logs/agent.log"]).0);
        let mut fail = |mode: &str, check: &str, what: String| {
            let key = format!("{capture} {run} {mode} {check}");
            if known(capture, run, mode, check) {
                hit.push(key);
            } else {
                failures.push(format!("{key}: {what}"));
            }
        };
        if agent_attempts as usize != truth {
            fail(
                "agent.log",
                "agent-log",
                format!(
                    "agent.log alone: {agent_attempts} attempts, the provider saw {truth} calls"
                ),
            );
        }
        let modes = renderings(dir);
        assert!(modes.len() >= 15, "{}: {modes:?}", dir.display());
        for mode in modes {
            checked += 1;
            let file = format!("render/{mode}.txt");
            let (report, _) = common::analyze_json(dir, &["--year", &year, &file]);
            let (attempts, requests) = counts(&report);
            // -v writes every logger record to stderr: the journal holds every attempt.
            let exact = *run == "verbose";
            if attempts as usize > truth || (exact && attempts as usize != truth) {
                fail(
                    &mode,
                    "attempts",
                    format!("{attempts} attempts reported, the provider saw {truth} calls"),
                );
            }
            if requests > agent_requests {
                fail(
                    &mode,
                    "requests",
                    format!("{requests} requests reported, agent.log alone gives {agent_requests}"),
                );
            }
            let text = serde_json::to_string(&report).unwrap_or_default();
            assert!(
                !text.contains("FAKESECRET"),
                "{capture} {run} {mode}: a secret in the report"
            );
        }
    }
    eprintln!(
        "{} journal runs, {checked} renderings; {} known failures hit",
        runs.len(),
        hit.len()
    );
    for k in KNOWN_FAILURES {
        let f: Vec<&str> = k.split_whitespace().collect();
        let prefix = format!("{} {} ", f[0], f[1]);
        if !hit
            .iter()
            .any(|h| h.starts_with(&prefix) && h.ends_with(f[3]))
        {
            eprintln!("known failure no longer fails, remove it from KNOWN_FAILURES: {k}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} conservation failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// --------------------------------------------------------------------------- two hosts

/// Hermes session ids (`20261204_051141_38940b`) in a text.
fn session_ids(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\b\d{8}_\d{6}_[0-9a-f]{6}\b").expect("regex");
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// Which host each session id of a `short-iso` rendering was logged on.
fn session_hosts(rendering: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(rendering).expect("short-iso rendering");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(host) = line.split(' ').nth(1) else {
            continue;
        };
        for id in session_ids(line) {
            out.entry(id).or_insert_with(|| host.to_string());
        }
    }
    out
}

/// The host a finding belongs to: the one host its evidence lines and the session of its request
/// name; `mixed` when they name several (a finding must never join two hosts' lines, nor judge
/// one host's lines as another host's session), `none` when they name none.
fn host_of(finding: &Value, hosts: &[String], sessions: &BTreeMap<String, String>) -> String {
    let text = finding["evidence"].to_string();
    let mut named: Vec<&String> = hosts.iter().filter(|h| text.contains(h.as_str())).collect();
    for id in session_ids(finding["request"].as_str().unwrap_or_default()) {
        if let Some(h) = sessions.get(&id) {
            if !named.contains(&h) {
                named.push(h);
            }
        }
    }
    match named.as_slice() {
        [one] => (*one).clone(),
        [] => "none".to_string(),
        _ => "mixed".to_string(),
    }
}

fn rules_sorted(findings: Vec<&Value>) -> Vec<String> {
    let mut ids: Vec<String> = findings
        .into_iter()
        .map(|f| format!("{} {}", f["rule"].as_str().unwrap_or("?"), f["severity"]))
        .collect();
    ids.sort();
    ids
}

#[test]
fn two_hosts_in_one_journal_give_each_host_its_own_findings() {
    let root = common::fixtures().join("captured").join("two-host");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/captured/two-host")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("hosts.json").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 2, "two-host cases: {cases:?}");
    let mut errors = Vec::new();
    let mut hit = Vec::new();
    for case in &cases {
        let case_name = case.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let mut fail = |key: String, what: String| {
            if KNOWN_TWO_HOST_FAILURES.contains(&key.as_str()) {
                hit.push(key);
            } else {
                errors.push(format!("{key}: {what}"));
            }
        };
        let hosts: BTreeMap<String, String> = serde_json::from_str(
            &std::fs::read_to_string(case.join("hosts.json")).expect("hosts.json"),
        )
        .expect("hosts.json parses");
        let names: Vec<String> = hosts.keys().cloned().collect();
        let sessions = session_hosts(&case.join("render/short-iso.txt"));
        for mode in ["short-iso", "json"] {
            let file = format!("render/{mode}.txt");
            let (merged, _) = common::analyze_json(case, &[&file]);
            let findings: Vec<&Value> = merged["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            for (host, capture) in &hosts {
                let alone_dir = common::fixtures().join("captured").join(capture);
                let (alone, _) = common::analyze_json(&alone_dir, &[&file]);
                let want =
                    rules_sorted(alone["findings"].as_array().into_iter().flatten().collect());
                let got = rules_sorted(
                    findings
                        .iter()
                        .copied()
                        .filter(|f| host_of(f, &names, &sessions) == *host)
                        .collect(),
                );
                if got != want {
                    fail(
                        format!("{case_name} {mode} {host}"),
                        format!("merged gives {got:?}, {capture} alone gives {want:?}"),
                    );
                }
            }
            for f in &findings {
                let host = host_of(f, &names, &sessions);
                if !hosts.contains_key(&host) {
                    fail(
                        format!("{case_name} {mode} {host}"),
                        format!(
                            "a finding whose evidence names {host} hosts: {} {} ({})",
                            f["rule"], f["request"], f["message"]
                        ),
                    );
                }
            }
        }
    }
    for k in KNOWN_TWO_HOST_FAILURES {
        if !hit.iter().any(|h| h == k) {
            eprintln!("known failure no longer fails, remove it from KNOWN_TWO_HOST_FAILURES: {k}");
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// --------------------------------------------------------------------------- re-conversion

fn tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(path))
            .find(|p| p.is_file())
    })
}

/// `__CURSOR` and `__SEQNUM_ID` hold the seqnum id journal-remote draws at random for each new
/// file; JSON objects come out in hash-table order. Compare without them, fields sorted.
fn normalize(mode: &str, text: &str) -> Vec<String> {
    if mode.starts_with("json") {
        let body: String = text
            .lines()
            .map(|l| l.trim_start_matches('\u{1e}'))
            .map(|l| l.strip_prefix("data: ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        return serde_json::Deserializer::from_str(&body)
            .into_iter::<Value>()
            .map(|v| match v {
                Ok(Value::Object(m)) => {
                    let sorted: BTreeMap<String, Value> = m
                        .into_iter()
                        .filter(|(k, _)| k != "__CURSOR" && k != "__SEQNUM_ID")
                        .collect();
                    serde_json::to_string(&sorted).unwrap_or_default()
                }
                other => format!("{other:?}"),
            })
            .collect();
    }
    text.lines()
        .map(|l| {
            if let Some(i) = l.find("[s=") {
                if let Some(j) = l[i..].find(';') {
                    return format!("{}[s=*{}", &l[..i], &l[i + j..]);
                }
            }
            if let Some(rest) = l.strip_prefix("__CURSOR=s=") {
                return format!("__CURSOR=s=*{}", &rest[rest.find(';').unwrap_or(0)..]);
            }
            if l.starts_with("__SEQNUM_ID=") {
                return "__SEQNUM_ID=*".to_string();
            }
            l.to_string()
        })
        .collect()
}

#[test]
fn a_committed_export_converts_to_the_committed_renderings() {
    let (Some(remote), Some(journalctl)) = (
        tool("/lib/systemd/systemd-journal-remote"),
        tool("journalctl"),
    ) else {
        eprintln!(
            "SKIPPED: /lib/systemd/systemd-journal-remote or journalctl not installed \
             (apt-get install systemd-journal-remote); the committed renderings were not re-made"
        );
        return;
    };
    let dir =
        common::fixtures().join("captured/hermes-0.19.0/same-provider-fallback/journal/verbose");
    let version = Command::new(&journalctl)
        .arg("--version")
        .output()
        .expect("journalctl --version");
    let version = String::from_utf8_lossy(&version.stdout);
    let made_by = std::fs::read_to_string(dir.join("render/SYSTEMD_VERSION")).unwrap_or_default();
    if version
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        != made_by.split_whitespace().nth(1)
    {
        eprintln!(
            "SKIPPED: journalctl here is {:?}, the renderings were made by {:?}; modes change between releases",
            version.lines().next().unwrap_or(""),
            made_by.trim()
        );
        return;
    }
    let tmp = std::env::temp_dir().join(format!("hf-journal-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let journal = tmp.join("hermes.journal");
    let out = Command::new(&remote)
        .arg("--split-mode=none")
        .arg("-o")
        .arg(&journal)
        .arg(dir.join("hermes.export"))
        .output()
        .expect("systemd-journal-remote runs");
    assert!(
        out.status.success(),
        "systemd-journal-remote failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut errors = Vec::new();
    for mode in renderings(&dir) {
        let out = Command::new(&journalctl)
            .env("TZ", "UTC")
            .env("LC_ALL", "C.UTF-8")
            .env("SYSTEMD_COLORS", "0")
            .args(["--utc", "--no-pager", "--file"])
            .arg(&journal)
            .args(["-o", &mode])
            .output()
            .expect("journalctl runs");
        let committed =
            std::fs::read_to_string(dir.join(format!("render/{mode}.txt"))).expect("rendering");
        let fresh = String::from_utf8_lossy(&out.stdout);
        if normalize(&mode, &fresh) != normalize(&mode, &committed) {
            errors.push(format!(
                "{mode}: the rendering differs from the committed one"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Rules that rest on what the operator was told (a console notice such as `💡 Your API key was
/// rejected`): only the console copy can show it, so adding the copy may add these.
const TOLD_RULES: &[&str] = &[
    "client-defect-blamed-on-credential",
    "quota-reported-as-auth",
];

/// What a reporter attaches: `agent.log` plus the gateway's journal (the console copy, and with
/// `-v` the logger records again), in any output mode — with whole-second, precise or no
/// wall-clock times. Together they give the provider's calls once, no more requests than
/// `agent.log` alone, and the findings of `agent.log` alone plus at most those resting on what
/// the operator was told.
#[test]
fn agent_log_plus_its_journal_gives_what_agent_log_gives_alone() {
    let mut failures = Vec::new();
    let mut pairs = 0;
    let rules = |r: &Value| {
        let mut v = common::rule_ids(r);
        v.sort();
        v.dedup();
        v
    };
    for (capture, run, dir) in journal_runs() {
        let year = year(&dir);
        let (alone, _) = common::analyze_json(&dir, &["logs/agent.log"]);
        let truth = truth(&dir);
        let (_, alone_requests) = counts(&alone);
        let a = rules(&alone);
        for mode in renderings(&dir) {
            pairs += 1;
            let journal = format!("render/{mode}.txt");
            let (both, _) =
                common::analyze_json(&dir, &["--year", &year, "logs/agent.log", &journal]);
            let mut fail = |check: &str, what: String| {
                failures.push(format!("{capture} {run} {mode} {check}: {what}"));
            };
            let (attempts, requests) = counts(&both);
            if attempts as usize != truth || requests > alone_requests {
                fail("conservation", format!(
                    "agent.log + journal gives {attempts} attempts / {requests} requests; the provider saw {truth} calls, agent.log alone gives {alone_requests} requests"
                ));
            }
            let b = rules(&both);
            let lost: Vec<&String> = a.iter().filter(|r| !b.contains(r)).collect();
            let added: Vec<&String> = b
                .iter()
                .filter(|r| !a.contains(r) && !TOLD_RULES.contains(&r.as_str()))
                .collect();
            if !lost.is_empty() || !added.is_empty() {
                fail(
                    "findings",
                    format!("with the journal, lost {lost:?}, added {added:?}"),
                );
            }
        }
    }
    assert!(
        pairs >= 672,
        "only {pairs} agent.log + journal pairs checked"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `journalctl -p warning` keeps the entries whose `PRIORITY` is 4 or less (here: the stream of
/// stderr, with the `-v` logger records of every level); the committed `-o json` rendering,
/// filtered on that field, is that journal. Whatever it keeps, it never reports more calls than
/// the provider saw, nor more requests than agent.log alone.
#[test]
fn a_journal_of_warnings_and_above_never_reports_more_than_the_truth() {
    let tmp = std::env::temp_dir().join(format!("hf-priority-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut failures = Vec::new();
    let mut kept_any = 0;
    for (capture, run, dir) in journal_runs() {
        let text = std::fs::read_to_string(dir.join("render/json.txt")).expect("json rendering");
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<Value>(l).is_ok_and(|v| {
                    v["PRIORITY"]
                        .as_str()
                        .and_then(|p| p.parse::<u8>().ok())
                        .is_some_and(|p| p <= 4)
                })
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        kept_any += 1;
        let file = tmp.join(format!("{}-{run}.json", capture.replace('/', "-")));
        std::fs::write(&file, kept.join("\n") + "\n").expect("write filtered journal");
        let truth = truth(&dir);
        let (_, alone_requests) = counts(&common::analyze_json(&dir, &["logs/agent.log"]).0);
        let path = file.to_string_lossy().to_string();
        let (report, _) = common::analyze_json(&dir, &[path.as_str()]);
        let (attempts, requests) = counts(&report);
        if attempts as usize > truth || requests > alone_requests {
            failures.push(format!(
                "{capture} {run}: -p warning gives {attempts} attempts / {requests} requests; the provider saw {truth} calls, agent.log alone gives {alone_requests} requests"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        kept_any >= 20,
        "only {kept_any} runs kept entries at -p warning"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

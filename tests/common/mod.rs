//! Helpers shared by the end-to-end tests: run the binary, read `cases.json` fixtures and check
//! the findings they name.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hermes-forensics"))
}

/// Every capture of the real Hermes: `fixtures/captured/hermes-<release>/<scenario>/` with an
/// `expected.json`, sorted.
pub fn captures() -> Vec<PathBuf> {
    let root = fixtures().join("captured");
    let mut out = Vec::new();
    for version in std::fs::read_dir(&root).expect("captured dir").flatten() {
        if !version.path().is_dir() {
            continue;
        }
        for scenario in std::fs::read_dir(version.path())
            .expect("version dir")
            .flatten()
        {
            if scenario.path().join("expected.json").is_file() {
                out.push(scenario.path());
            }
        }
    }
    out.sort();
    out
}

/// The release a capture was written by (`hermes-0.19.0/...` → `0.19.0`).
pub fn release_of(capture: &Path) -> String {
    capture
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("hermes-"))
        .unwrap_or_default()
        .to_string()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Run the binary in `dir` with `args`, no stdin.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// Run `analyze --format json` and parse the report.
pub fn analyze_json(dir: &Path, args: &[&str]) -> (Value, Output) {
    let mut all = vec!["analyze", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let out = run_in(dir, &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {:?} failed: {}",
        dir.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output parses");
    (v, out)
}

pub fn rule_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn severity_rank(s: &str) -> i32 {
    match s {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        _ => -1,
    }
}

/// Check one case object (`name`, `args`, `must`, `must_not`, optional `max_severity`,
/// `severity`, `mentions`, `requests`) against the report for it. Returns failures as text.
pub fn check_case(dir: &Path, case: &Value) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let args = strings(&case["args"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (report, _) = analyze_json(dir, &args);
    let ids = rule_ids(&report);
    let mut errors = Vec::new();
    let ctx = format!("{} / {name}", dir.display());
    for want in strings(&case["must"]) {
        let alternatives: Vec<&str> = want.split('|').collect();
        if !ids.iter().any(|id| alternatives.contains(&id.as_str())) {
            errors.push(format!("{ctx}: expected {want}, got {ids:?}"));
        }
    }
    for bad in strings(&case["must_not"]) {
        if ids.contains(&bad) {
            errors.push(format!("{ctx}: must not report {bad}, got {ids:?}"));
        }
    }
    if let Some(max) = case["max_severity"].as_str() {
        let limit = if max == "none" {
            -1
        } else {
            severity_rank(max)
        };
        for f in report["findings"].as_array().into_iter().flatten() {
            let s = f["severity"].as_str().unwrap_or("");
            if severity_rank(s) > limit {
                errors.push(format!("{ctx}: finding above {max}: {f}"));
            }
        }
    }
    if let Some(sev) = case["severity"].as_object() {
        for (rule, want) in sev {
            let got: Vec<&str> = report["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["rule"] == rule.as_str())
                .filter_map(|f| f["severity"].as_str())
                .collect();
            if !got.iter().any(|g| Some(*g) == want.as_str()) {
                errors.push(format!(
                    "{ctx}: {rule} severity {want} expected, got {got:?}"
                ));
            }
        }
    }
    let text = report["findings"].to_string();
    for m in strings(&case["mentions"]) {
        if !text.contains(&m) {
            errors.push(format!("{ctx}: findings should mention {m:?}"));
        }
    }
    if let Some(n) = case["requests"].as_u64() {
        let got = report["summary"]["requests"].as_u64();
        if got != Some(n) {
            errors.push(format!("{ctx}: expected {n} requests, got {got:?}"));
        }
    }
    errors
}

/// Run every `cases.json` found directly in the subdirectories of `root`.
pub fn check_tree(root: &Path) -> (usize, Vec<String>) {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("fixture dir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cases.json").is_file())
        .collect();
    dirs.sort();
    let mut n = 0;
    let mut errors = Vec::new();
    for d in dirs {
        let text = std::fs::read_to_string(d.join("cases.json")).expect("cases.json readable");
        let cases: Value = serde_json::from_str(&text).expect("cases.json parses");
        for case in cases.as_array().into_iter().flatten() {
            n += 1;
            errors.extend(check_case(&d, case));
        }
    }
    (n, errors)
}

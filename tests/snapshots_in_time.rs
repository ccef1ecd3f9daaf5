//! Snapshots are observations at a time: every real capture analyzed with its logs alone, with
//! the auth snapshot taken before the run, after it, or both (and the same with the `hermes auth
//! list` captures) reports the same findings about the attempts in the log. A snapshot may add
//! only what it knows at its own time (statements resting on the snapshot alone) and who is in
//! the pool — and a finding that rests on that membership says which snapshot it came from.

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (rule, request, profile) of one finding.
type Key = (String, String, String);

/// The capture's log inputs (everything but its auth snapshots) and its release.
fn logs_of(dir: &Path) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let e: Value = serde_json::from_str(&text).expect("expected.json parses");
    let logs = e["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .filter(|i| !i.starts_with("auth"))
        .filter(|i| dir.join(i).exists())
        .map(str::to_string)
        .collect();
    let version = e["hermes_version"].as_str().unwrap_or("0.19.0").to_string();
    (logs, version)
}

const SNAPSHOT_FILES: &[&str] = &[
    "auth.before.json",
    "auth.after.json",
    "auth-list.before.txt",
    "auth-list.after.txt",
];

/// A statement at snapshot time: every evidence line comes from a snapshot.
fn at_snapshot_time(f: &Value) -> bool {
    let ev = f["evidence"].as_array().cloned().unwrap_or_default();
    !ev.is_empty()
        && ev
            .iter()
            .all(|e| SNAPSHOT_FILES.contains(&e["source"].as_str().unwrap_or("")))
}

struct Way {
    name: &'static str,
    findings: BTreeSet<Key>,
    /// Notes and evidence sources of each finding, for the membership check.
    notes: Vec<(Key, Vec<String>)>,
}

fn analyze(dir: &Path, name: &'static str, args: &[String]) -> Way {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (report, _) = common::analyze_json(dir, &args);
    let mut findings = BTreeSet::new();
    let mut notes = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        if at_snapshot_time(f) {
            continue;
        }
        let key = (
            f["rule"].as_str().unwrap_or_default().to_string(),
            f["request"].as_str().unwrap_or_default().to_string(),
            f["profile"].as_str().unwrap_or_default().to_string(),
        );
        // Notes and evidence sources: either may name the snapshot a finding rests on.
        let n = f["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_string))
            .chain(
                f["evidence"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["source"].as_str().map(str::to_string)),
            )
            .collect();
        findings.insert(key.clone());
        notes.push((key, n));
    }
    Way {
        name,
        findings,
        notes,
    }
}

fn show(keys: &BTreeSet<Key>) -> String {
    keys.iter()
        .map(|(r, q, p)| format!("{r} @ {q} [{p}]"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Analyze one capture every way; return what breaks the rules above.
fn check_capture(dir: &Path) -> Vec<String> {
    let (logs, version) = logs_of(dir);
    let base: Vec<String> = ["--hermes-version".to_string(), version]
        .into_iter()
        .chain(logs)
        .collect();
    let with = |extra: &[&str]| -> Vec<String> {
        let mut v = base.clone();
        for x in extra {
            if x.starts_with("auth-list") {
                v.push("--auth-list".into());
            }
            v.push(x.to_string());
        }
        v
    };
    let name = dir
        .strip_prefix(common::fixtures().join("captured"))
        .unwrap_or(dir)
        .display()
        .to_string();
    let logs_alone = analyze(dir, "logs alone", &base);
    let json_ways = [
        analyze(dir, "+ auth.before.json", &with(&["auth.before.json"])),
        analyze(dir, "+ auth.after.json", &with(&["auth.after.json"])),
        analyze(
            dir,
            "+ both auth.json",
            &with(&["auth.before.json", "auth.after.json"]),
        ),
    ];
    let list_ways = [
        analyze(
            dir,
            "+ auth-list.before.txt",
            &with(&["auth-list.before.txt"]),
        ),
        analyze(
            dir,
            "+ auth-list.after.txt",
            &with(&["auth-list.after.txt"]),
        ),
        analyze(
            dir,
            "+ both auth lists",
            &with(&["auth-list.before.txt", "auth-list.after.txt"]),
        ),
    ];
    let mut errors = Vec::new();
    for group in [&json_ways, &list_ways] {
        // Before, after or both: the same findings about the log's attempts.
        for way in &group[1..] {
            if way.findings != group[0].findings {
                let extra: BTreeSet<Key> = way
                    .findings
                    .difference(&group[0].findings)
                    .cloned()
                    .collect();
                let missing: BTreeSet<Key> = group[0]
                    .findings
                    .difference(&way.findings)
                    .cloned()
                    .collect();
                errors.push(format!(
                    "{name}: {} differs from {}: added [{}], lost [{}]",
                    way.name,
                    group[0].name,
                    show(&extra),
                    show(&missing)
                ));
            }
        }
        // What a snapshot adds over the logs rests on the pool's membership and says so. A
        // finding the logs alone make about another profile is the same finding re-attributed
        // (the snapshot tells which pool a label belongs to), not an addition.
        for way in group.iter() {
            for (key, notes) in &way.notes {
                let reattributed = logs_alone
                    .findings
                    .iter()
                    .any(|(r, q, _)| *r == key.0 && *q == key.1);
                if reattributed {
                    continue;
                }
                let cites = notes
                    .iter()
                    .any(|n| SNAPSHOT_FILES.iter().any(|s| n.contains(s)));
                if !cites {
                    errors.push(format!(
                        "{name}: {} adds {} @ {} [{}] without naming the snapshot it rests on",
                        way.name, key.0, key.1, key.2
                    ));
                }
            }
        }
    }
    errors
}

#[test]
fn snapshots_change_no_finding_about_the_logs_attempts() {
    let dirs = common::captures();
    assert!(dirs.len() >= 30, "only {} captures", dirs.len());
    let mut errors = Vec::new();
    for dir in &dirs {
        errors.extend(check_capture(dir));
    }
    assert!(
        errors.is_empty(),
        "{} problems over {} captures:\n{}",
        errors.len(),
        dirs.len(),
        errors.join("\n")
    );
}

/// A healthy rotation stays quiet whatever snapshot is attached.
#[test]
fn healthy_rotation_stays_quiet_with_any_snapshot() {
    // Healthy by its ground truth: the request log shows a clean rotation, nothing to report.
    let healthy = common::captures().into_iter().filter(|d| {
        let text = std::fs::read_to_string(d.join("expected.json")).unwrap_or_default();
        let e: Value = serde_json::from_str(&text).unwrap_or_default();
        d.ends_with("healthy-rotation") && e["must_report"].as_array().is_some_and(Vec::is_empty)
    });
    let mut checked = 0;
    for dir in healthy {
        checked += 1;
        let (logs, version) = logs_of(&dir);
        for extra in [
            vec![],
            vec!["auth.after.json"],
            vec!["auth.before.json"],
            vec!["auth.before.json", "auth.after.json"],
            vec!["--auth-list", "auth-list.after.txt"],
        ] {
            let mut args: Vec<String> = vec!["--hermes-version".into(), version.clone()];
            args.extend(logs.iter().cloned());
            args.extend(extra.iter().map(|s| s.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (report, _) = common::analyze_json(&dir, &args);
            let high: Vec<String> = report["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| {
                    matches!(
                        f["rule"].as_str(),
                        Some("retry-on-cooled-profile" | "strategy-violation")
                    )
                })
                .map(|f| f["message"].to_string())
                .collect();
            assert!(
                high.is_empty(),
                "{} with {extra:?}: {high:?}",
                dir.display()
            );
        }
    }
    assert!(checked >= 2, "only {checked} healthy rotations");
}

fn snapshot_case(name: &str) -> PathBuf {
    common::fixtures().join("snapshots").join(name)
}

/// A cooldown recorded the day before the log holds for the log's calls until its reset.
#[test]
fn a_cooldown_from_before_the_log_applies_to_its_calls() {
    let dir = snapshot_case("previous-day-cooldown");
    let (report, _) = common::analyze_json(&dir, &["agent.log", "auth.json"]);
    let hit = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "retry-on-cooled-profile")
        .expect("retry-on-cooled-profile");
    assert_eq!(hit["profile"], "prim-acct-1");
    assert!(
        hit["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["source"] == "auth.json"),
        "the snapshot line is evidence: {hit}"
    );
    let snap = &report["summary"]["snapshots"][0];
    assert_eq!(snap["relation"], "before the log");
    // Without the snapshot the log alone shows a healthy rotation.
    let (alone, _) = common::analyze_json(&dir, &["agent.log"]);
    assert!(common::rule_ids(&alone).is_empty(), "{alone}");
}

/// A mark the snapshot records inside the log, which no log line shows, is said, not applied.
#[test]
fn a_persisted_mark_no_log_line_explains_is_noted() {
    let dir = snapshot_case("unexplained-mark");
    let (report, _) =
        common::analyze_json(&dir, &["agent.log", "auth.before.json", "auth.after.json"]);
    assert!(common::rule_ids(&report).is_empty(), "{report}");
    let summary = &report["summary"];
    let notes: Vec<&str> = summary["snapshot_notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("prim-acct-3") && n.contains("no log line shows that mark")),
        "{notes:?}"
    );
    let changes = summary["snapshot_changes"].as_array().expect("changes");
    let by_profile = |p: &str| {
        changes
            .iter()
            .find(|c| c["profile"] == p)
            .unwrap_or_else(|| panic!("no change for {p}: {changes:?}"))
    };
    // prim-acct-1's mark is the log's own; prim-acct-3's has no line behind it.
    assert_eq!(by_profile("prim-acct-1")["evidence"], "agent.log:44");
    assert!(by_profile("prim-acct-3")["evidence"].is_null());
    let text = common::run_in(
        &dir,
        &[
            "--fail-on",
            "never",
            "agent.log",
            "auth.before.json",
            "auth.after.json",
        ],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("no log line shows this change"),
        "the header lists the unexplained change:\n{text}"
    );
}

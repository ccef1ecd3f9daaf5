//! The Hermes release is read from the logs: every capture of the real Hermes reports, without
//! any flag, a release range that contains the release that wrote it; a flag that disagrees is
//! warned about; logs that show nothing say so instead of presenting a default as a fact.

mod common;

use serde_json::Value;
use std::path::PathBuf;

fn release_key(r: &str) -> Vec<u32> {
    r.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn inputs(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let e: Value = serde_json::from_str(&text).expect("parses");
    let mut args = Vec::new();
    for i in e["inputs"].as_array().into_iter().flatten() {
        let i = i.as_str().unwrap_or_default();
        if !dir.join(i).exists() {
            continue;
        }
        if i.contains("auth-list") {
            args.push("--auth-list".to_string());
        }
        args.push(i.to_string());
    }
    args
}

#[test]
fn every_capture_reports_a_range_holding_its_release() {
    let all: Vec<(String, PathBuf)> = common::captures()
        .into_iter()
        .map(|d| (common::release_of(&d), d))
        .collect();
    assert!(all.len() >= 30, "only {} captures", all.len());
    let mut errors = Vec::new();
    let mut releases = std::collections::BTreeSet::new();
    for (release, dir) in &all {
        releases.insert(release.clone());
        let args = inputs(dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (report, _) = common::analyze_json(dir, &args);
        let r = &report["summary"]["hermes_release"];
        let name = dir.display();
        if r["source"] != "detected" {
            errors.push(format!("{name}: release not detected: {r}"));
            continue;
        }
        let min = r["min"].as_str().unwrap_or("0");
        let holds_min = release_key(min) <= release_key(release);
        let holds_max = r["max"]
            .as_str()
            .is_none_or(|max| release_key(release) <= release_key(max));
        if !holds_min || !holds_max {
            errors.push(format!("{name}: detected {r} does not hold {release}"));
        }
        if report["summary"]["hermes_version"] != r["applied"] {
            errors.push(format!("{name}: applied rules differ from the summary"));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(releases.len() >= 4, "{releases:?}");
}

#[test]
fn a_flag_that_disagrees_with_the_logs_is_warned_about() {
    let dir = common::fixtures().join("captured/hermes-0.14.0/healthy-rotation");
    let (report, _) = common::analyze_json(&dir, &["--hermes-version", "0.19.0", "logs/agent.log"]);
    let s = &report["summary"];
    assert_eq!(s["hermes_release"]["source"], "flag");
    assert_eq!(s["hermes_version"], "0.19.0");
    let warned = s["warnings"].as_array().into_iter().flatten().any(|w| {
        w.as_str()
            .is_some_and(|w| w.contains("--hermes-version 0.19.0 disagrees"))
    });
    assert!(warned, "{s}");
}

#[test]
fn logs_that_show_no_release_say_so() {
    let dir = common::fixtures().join("corpus/fallback-429-exhausts-primary-pool");
    let (report, _) = common::analyze_json(&dir, &["input.log"]);
    let r = &report["summary"]["hermes_release"];
    assert_eq!(r["source"], "default", "{r}");
    assert!(r["min"].is_null() && r["max"].is_null(), "{r}");
    let text = common::run_in(&dir, &["--fail-on", "never", "input.log"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("release not shown by the logs"),
        "the header does not present the default as a fact:\n{text}"
    );
}

/// Provider calls of a capture as `key:status`, from its request log.
fn calls(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("requests.log")).expect("requests.log");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if !f.get(5)?.contains("chat/completions") {
                return None;
            }
            Some(format!(
                "{}:{}",
                f.get(6)?.strip_prefix("key=")?,
                f.get(11)?
            ))
        })
        .collect()
}

/// Every row of the release semantics table holds on the captures of its releases.
#[test]
fn release_semantics_hold_on_the_captures() {
    use hermes_forensics::release::{semantics, RELEASES};
    let root = common::fixtures().join("captured");
    let mut checked = 0;
    for (_, name) in RELEASES {
        let dir = root.join(format!("hermes-{name}"));
        if !dir.is_dir() {
            continue;
        }
        let s = semantics(name.parse().expect("release")).expect("a row covers every release");
        let healthy = calls(&dir.join("healthy-rotation"));
        let rotated = healthy.last().map(String::as_str) == Some("key2:200");
        assert_eq!(s.named_custom_pool_rotates, rotated, "{name}: {healthy:?}");
        if rotated {
            let once = healthy.starts_with(&["key1:429".into(), "key1:429".into()]);
            assert_eq!(s.retries_usage_limit_once, once, "{name}: {healthy:?}");
        }
        let after = std::fs::read_to_string(dir.join("fallback-1113-single-key/auth.after.json"))
            .expect("auth.after.json");
        let after: Value = serde_json::from_str(&after).expect("parses");
        let entry = &after["credential_pool"]["custom:fakeprimary"][0];
        let marked_for_1113 = entry["last_error_reason"] == "1113";
        assert_eq!(
            s.marks_primary_for_fallback_error, marked_for_1113,
            "{name}"
        );
        let log = std::fs::read_to_string(dir.join("all-exhausted-fallback-ok/logs/agent.log"))
            .expect("agent.log");
        assert_eq!(
            s.clears_primary_pool_on_fallback,
            log.contains("clearing primary credential pool"),
            "{name}"
        );
        assert!(
            s.fixtures.contains(&format!("hermes-{name}")),
            "{name}: {}",
            s.fixtures
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} releases captured");
}

/// A journal of two hosts that run different releases (the same PID on both) reports each
/// host's release and says that one set of rules was applied to both.
#[test]
fn hosts_on_different_releases_are_told_apart() {
    let dir = common::fixtures().join("release");
    let (report, _) = common::analyze_json(&dir, &["two-hosts.journal"]);
    let r = &report["summary"]["hermes_release"];
    let hosts = r["hosts"].as_array().expect("per-host releases");
    let of = |h: &str| {
        hosts
            .iter()
            .find(|x| x["host"] == h)
            .unwrap_or_else(|| panic!("{h} in {r}"))
    };
    assert_eq!(of("gw-old")["min"], "0.13.0");
    assert_eq!(of("gw-old")["max"], "0.14.0");
    assert_eq!(of("gw-new")["min"], "0.17.0");
    assert!(of("gw-new")["max"].is_null());
    let text = common::run_in(&dir, &["--fail-on", "never", "two-hosts.journal"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("the hosts run different releases"), "{text}");
}

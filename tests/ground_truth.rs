//! Our per-attempt reconstruction against the fake provider's request log, the ground truth of
//! every capture of the real Hermes: one provider call is one attempt (conservation), and each
//! attempt's profile is the key the provider saw — or unknown with a reason, never a wrong name.
//! An account known only by its fingerprint must stand for one key.

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One chat-completion call the provider received: (role, key label).
fn truth(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("requests.log")).expect("requests.log");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let path = f.get(5)?;
            if !path.contains("chat/completions") {
                return None;
            }
            let key = f.get(6)?.strip_prefix("key=")?;
            Some((f.get(2)?.to_string(), key.to_string()))
        })
        .collect()
}

/// The pool label the harness gives key N (`prim-acct-N`); None for fallback and placeholder
/// keys, which belong to no pool entry.
fn label_of(key: &str) -> Option<String> {
    key.strip_prefix("key").map(|n| format!("prim-acct-{n}"))
}

enum Inputs {
    AgentLog,
    AllLogs,
    Everything,
}

fn args_of(dir: &Path, inputs: &Inputs) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let e: Value = serde_json::from_str(&text).expect("parses");
    let mut args = Vec::new();
    for i in e["inputs"].as_array().into_iter().flatten() {
        let i = i.as_str().unwrap_or_default();
        let keep = match inputs {
            Inputs::AgentLog => i == "logs/agent.log",
            Inputs::AllLogs => !i.starts_with("auth"),
            Inputs::Everything => true,
        };
        if !keep || !dir.join(i).exists() {
            continue;
        }
        if i.contains("auth-list") {
            args.push("--auth-list".to_string());
        }
        args.push(i.to_string());
    }
    args
}

#[derive(Default)]
struct Tally {
    calls: usize,
    right: usize,
    unknown: usize,
    fingerprinted: usize,
    errors: Vec<String>,
}

/// Analyze one capture; return its request count.
fn check(dir: &Path, inputs: Inputs, tally: &mut Tally) -> usize {
    let name = dir
        .strip_prefix(common::fixtures().join("captured"))
        .unwrap_or(dir)
        .display()
        .to_string();
    let mut args = vec!["--timeline".to_string()];
    args.extend(args_of(dir, &inputs));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (report, _) = common::analyze_json(dir, &args);
    let mut ours: Vec<&Value> = report["timelines"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["entries"].as_array().into_iter().flatten())
        .filter(|e| matches!(e["what"].as_str(), Some("attempt" | "success")))
        .collect();
    ours.sort_by(|a, b| a["time"].as_str().cmp(&b["time"].as_str()));
    let truth = truth(dir);
    tally.calls += truth.len();
    if ours.len() != truth.len() {
        tally.errors.push(format!(
            "{name} {args:?}: {} attempts reported, the provider saw {} calls",
            ours.len(),
            truth.len()
        ));
        return report["summary"]["requests"].as_u64().unwrap_or(0) as usize;
    }
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (attempt, (role, key)) in ours.iter().zip(&truth) {
        let at = attempt["time"].as_str().unwrap_or("-");
        match attempt["profile"].as_str() {
            None => {
                tally.unknown += 1;
                let basis = attempt["profile_basis"].as_str().unwrap_or_default();
                if !basis.starts_with("unknown: ") {
                    tally.errors.push(format!(
                        "{name} {args:?}: the call at {at} has no profile and no reason"
                    ));
                }
            }
            Some(p) if p.starts_with("account[") => {
                tally.fingerprinted += 1;
                accounts
                    .entry(p.to_string())
                    .or_default()
                    .insert(key.clone());
            }
            Some(p) if Some(p.to_string()) == label_of(key) => tally.right += 1,
            Some(p) => tally.errors.push(format!(
                "{name} {args:?}: the call at {at} is given {p}; the provider saw {role} {key}"
            )),
        }
    }
    for (account, keys) in accounts {
        if keys.len() > 1 {
            tally.errors.push(format!(
                "{name} {args:?}: {account} stands for several keys {keys:?}"
            ));
        }
    }
    report["summary"]["requests"].as_u64().unwrap_or(0) as usize
}

#[test]
fn every_call_is_one_attempt_with_the_key_the_provider_saw() {
    let dirs = common::captures();
    assert!(dirs.len() >= 100, "only {} captures", dirs.len());
    let mut tally = Tally::default();
    for dir in &dirs {
        let alone = check(dir, Inputs::AgentLog, &mut tally);
        let logs = check(dir, Inputs::AllLogs, &mut tally);
        let all = check(dir, Inputs::Everything, &mut tally);
        if logs > alone || all > alone {
            tally.errors.push(format!(
                "{}: {alone} requests from agent.log alone, {logs} from every log, {all} with snapshots",
                dir.display()
            ));
        }
    }
    eprintln!(
        "{} captures x 3 inputs: {} calls; profile right {}, unknown with a reason {}, account fingerprint {}",
        dirs.len(),
        tally.calls,
        tally.right,
        tally.unknown,
        tally.fingerprinted
    );
    assert!(
        tally.errors.is_empty(),
        "{} problems:\n{}",
        tally.errors.len(),
        tally.errors.join("\n")
    );
    assert!(tally.right > tally.calls / 3, "too few calls attributed");
}

//! The analyzer over every capture of the real Hermes (fixtures/captured/hermes-<version>/<scenario>)
//! against the findings its request log justifies (`expected.json`).

mod common;

use serde_json::{json, Value};
use std::path::Path;

/// Turn an expected.json into the case shape `common::check_case` reads.
fn case_of(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let e: Value = serde_json::from_str(&text).expect("expected.json parses");
    let mut args: Vec<String> = vec!["--hermes-version".into()];
    args.push(e["hermes_version"].as_str().unwrap_or("0.19.0").to_string());
    for input in e["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        if !dir.join(input).exists() {
            continue;
        }
        if input.contains("auth-list") {
            args.push("--auth-list".into());
        }
        args.push(input.to_string());
    }
    let must: Vec<Value> = e["must_report"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["rule"].clone())
        .collect();
    json!({
        "name": e["scenario"],
        "args": args,
        "must": must,
        "must_not": e["must_not_report"],
    })
}

#[test]
fn captures_match_their_ground_truth() {
    let dirs = common::captures();
    assert!(dirs.len() >= 30, "only {} captures", dirs.len());
    let mut errors = Vec::new();
    for dir in &dirs {
        errors.extend(common::check_case(dir, &case_of(dir)));
    }
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn no_fake_key_reaches_any_output() {
    for dir in common::captures() {
        let case = case_of(&dir);
        let args: Vec<&str> = case["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        for format in ["text", "markdown", "json", "html", "otlp", "journal-export"] {
            let mut all = vec![
                "analyze",
                "--timeline",
                "--fail-on",
                "never",
                "--format",
                format,
            ];
            all.extend(&args);
            let out = common::run_in(&dir, &all);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                !text.contains("FAKESECRET"),
                "{} {format} leaked a key",
                dir.display()
            );
        }
    }
}

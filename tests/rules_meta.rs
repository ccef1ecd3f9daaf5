//! Every registered rule has documentation, at least one fixture that fires it and one that must
//! not; the rule fixtures under fixtures/rules come out as their cases.json says.

mod common;

use hermes_forensics::rules;
use serde_json::Value;
use std::collections::BTreeSet;

fn all_cases() -> Vec<Value> {
    let mut out = Vec::new();
    for tree in ["corpus", "rules"] {
        let root = common::fixtures().join(tree);
        for entry in std::fs::read_dir(&root).expect("fixture tree") {
            let path = entry.expect("dir entry").path().join("cases.json");
            if let Ok(text) = std::fs::read_to_string(&path) {
                let v: Value = serde_json::from_str(&text).expect("cases.json parses");
                out.extend(v.as_array().cloned().unwrap_or_default());
            }
        }
    }
    out
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .flat_map(|s| s.split('|'))
        .map(str::to_string)
        .collect()
}

#[test]
fn rule_fixtures_match_their_cases() {
    let (n, errors) = common::check_tree(&common::fixtures().join("rules"));
    assert!(n > 0, "no rule fixtures");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn every_rule_has_firing_and_quiet_fixtures() {
    let cases = all_cases();
    let mut fired = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    let all: BTreeSet<String> = rules::RULES.iter().map(|r| r.info.id.to_string()).collect();
    for c in &cases {
        fired.extend(names(&c["must"]));
        quiet.extend(names(&c["must_not"]));
        if c["max_severity"] == "none" {
            quiet.extend(all.iter().cloned());
        }
    }
    let missing_fire: Vec<_> = all.difference(&fired).collect();
    let missing_quiet: Vec<_> = all.difference(&quiet).collect();
    assert!(
        missing_fire.is_empty(),
        "rules with no firing fixture: {missing_fire:?}"
    );
    assert!(
        missing_quiet.is_empty(),
        "rules with no quiet fixture: {missing_quiet:?}"
    );
}

/// `explain RULE` says which client-lifecycle evidence the rule reads (which key and endpoint
/// each call carried), or that it reads none per call.
#[test]
fn every_rule_documents_its_lifecycle_evidence() {
    for r in rules::RULES {
        assert!(
            r.info.doc.contains("## Lifecycle evidence used\n"),
            "{} has no lifecycle evidence section",
            r.info.id
        );
    }
}

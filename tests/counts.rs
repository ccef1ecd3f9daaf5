//! Header counts that agree with the findings: the rotation count includes the rotations the
//! log shows without a rotation line, and each pool says how many of its members are labelled
//! profiles and how many are accounts known only by their fingerprint.

mod common;

fn text_report(dir: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["--fail-on", "never"];
    all.extend_from_slice(args);
    let out = common::run_in(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rotations_include_those_no_rotation_line_printed() {
    // A 429, then a client rebuilt for `credential_rotation` on another endpoint, then a
    // success: the pool lines are missing, the rotation happened.
    let dir = common::fixtures().join("counts");
    let (v, _) = common::analyze_json(&dir, &["inferred-rotation.log"]);
    assert_eq!(v["summary"]["rotations"], 1, "{}", v["summary"]);
    assert_eq!(v["summary"]["rotations_inferred"], 1);
    let text = text_report(&dir, &["inferred-rotation.log"]);
    assert!(text.contains("rotations: 1 (1 inferred)"), "{text}");
    let md = text_report(&dir, &["--format", "markdown", "inferred-rotation.log"]);
    assert!(md.contains("**Rotations:** 1 (1 inferred)"), "{md}");

    // Two calls on two accounts (error-body fingerprints) with no line between them saying so:
    // silent-rotation reports it, and the header counts it.
    let dir = common::fixtures().join("corpus/partial-rotation-journal");
    let (v, _) = common::analyze_json(&dir, &["journal-short-iso.log", "auth.json"]);
    assert!(
        common::rule_ids(&v).iter().any(|r| r == "silent-rotation"),
        "{}",
        v["findings"]
    );
    assert_eq!(v["summary"]["rotations"], 1, "{}", v["summary"]);
    assert_eq!(v["summary"]["rotations_inferred"], 1);

    // The same request with its rotation lines: counted once, from the lines.
    let dir = common::fixtures().join("rules/rotation-endpoint-switch");
    let (v, _) = common::analyze_json(&dir, &["stored-endpoint.log"]);
    assert_eq!(v["summary"]["rotations"], 1, "{}", v["summary"]);
    assert_eq!(v["summary"]["rotations_inferred"], 0);
    let text = text_report(&dir, &["stored-endpoint.log"]);
    assert!(text.contains("rotations: 1, fallbacks"), "{text}");
}

#[test]
fn pools_separate_labelled_profiles_from_fingerprint_accounts() {
    // Three labelled entries, and an account the error bodies show by fingerprint only.
    let dir = common::fixtures().join("captured/hermes-0.15.2/healthy-rotation");
    let (v, _) = common::analyze_json(&dir, &["logs", "auth.after.json"]);
    let pools = v["summary"]["pools"].as_array().expect("pools");
    let pool = pools
        .iter()
        .find(|p| p["provider"] == "custom:fakeprimary")
        .expect("the primary pool");
    let profiles = pool["profiles"].as_array().expect("profiles");
    let accounts = pool["by_fingerprint"].as_array().expect("by_fingerprint");
    assert_eq!(profiles.len(), 4, "{pool}");
    assert_eq!(accounts.len(), 1, "{pool}");
    assert!(
        accounts[0]
            .as_str()
            .is_some_and(|a| a.starts_with("account[")),
        "{pool}"
    );
    assert!(profiles.contains(&accounts[0]));
    let text = text_report(&dir, &["logs", "auth.after.json"]);
    assert!(
        text.contains(
            "custom:fakeprimary: 4 profiles (3 labelled, 1 by account fingerprint): prim-acct-1"
        ),
        "{text}"
    );
    // A pool of labels only says so.
    let dir = common::fixtures().join("secrets");
    let text = text_report(&dir, &["agent.log", "auth.json"]);
    assert!(
        text.contains(
            "custom:fakeprimary: 3 labelled profiles: prim-acct-1, prim-acct-2, prim-acct-3"
        ),
        "{text}"
    );
}

//! Bug-report fragments (issue #16): every family of fixtures/fragments yields its expected
//! findings and its negative twins stay quiet (fixtures/fragments/*/cases.json).

mod common;

use std::io::Write;
use std::process::Stdio;

#[test]
fn fragment_cases_match_expected() {
    let (n, errors) = common::check_tree(&common::fixtures().join("fragments"));
    assert!(n >= 3, "only {n} fragment cases found");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// `gh issue view N --json body -q .body | hermes-forensics`: standard input is told to be an
/// issue body and split into its pastes, named `<stdin>#blockN`.
#[test]
fn issue_body_on_stdin() {
    let body =
        std::fs::read(common::fixtures().join("fragments/issue-body/report.md")).expect("fixture");
    let mut child = common::bin()
        .args(["--format", "json", "--fail-on", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write");
    let out = child.wait_with_output().expect("exit");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = v["summary"]["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["<stdin>#block2", "<stdin>#block3", "<stdin>#block4"]
    );
    let text = v["findings"].to_string();
    assert!(text.contains("misattributed-exhaustion"), "{text}");
}

/// The Desktop app's `── Hermes error details ──` receipt is one record with its `key: value`
/// rows: every line of the paste is used, none is left unrecognized.
#[test]
fn desktop_receipt_rows_belong_to_their_record() {
    let dir = common::fixtures().join("fragments/shapes");
    let (v, _) = common::analyze_json(&dir, &["desktop-receipt.txt"]);
    let src = &v["summary"]["sources"][0];
    assert_eq!(src["lines_read"], 14, "{src}");
    assert_eq!(src["lines_used"], 14, "{src}");
    assert_eq!(src["lines_unrecognized"], 0, "{src}");
}

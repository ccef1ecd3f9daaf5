//! One emitter is (host, process), never a PID alone: a journal of two hosts whose gateways
//! share a PID gives, host by host, exactly the findings each host's lines give alone, and no
//! knowledge (a cooldown, a pool's state) crosses from one host to the other.

mod common;

use std::collections::BTreeSet;

/// (rule, profile, request id without its host) of every finding.
fn findings(report: &serde_json::Value, host: Option<&str>) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let request = f["request"].as_str().unwrap_or_default();
            let request = match host {
                Some(h) => request.strip_prefix(&format!("{h} "))?.to_string(),
                None => request.to_string(),
            };
            Some((
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["profile"].as_str().unwrap_or_default().to_string(),
                request,
            ))
        })
        .collect()
}

#[test]
fn each_host_of_a_shared_journal_gets_the_findings_it_gets_alone() {
    let src = common::fixtures().join("release/two-hosts.journal");
    let text = std::fs::read_to_string(&src).expect("fixture");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (all, _) =
        common::analyze_json(&common::fixtures().join("release"), &["two-hosts.journal"]);
    let mut total = 0;
    for host in ["gw-old", "gw-new"] {
        let own: String = text
            .lines()
            .filter(|l| l.split(' ').nth(1) == Some(host))
            .map(|l| format!("{l}\n"))
            .collect();
        let name = format!("{host}.journal");
        std::fs::write(tmp.path().join(&name), own).expect("write");
        let (alone, _) = common::analyze_json(tmp.path(), &[&name]);
        let mine = findings(&all, Some(host));
        assert_eq!(
            mine,
            findings(&alone, None),
            "{host}: findings in the shared journal differ from the host's own"
        );
        total += mine.len();
    }
    assert_eq!(
        total,
        all["findings"].as_array().map_or(0, Vec::len),
        "every finding names its host"
    );
    let ids: BTreeSet<&str> = all["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["request"].as_str())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("gw-")), "{ids:?}");
}

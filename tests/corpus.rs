//! Every case of the shared corpus yields exactly its "Must report" rules and none of its
//! "Must NOT" ones (fixtures/corpus/*/cases.json, written from each case's expected.md).

mod common;

#[test]
fn corpus_cases_match_expected() {
    let (n, errors) = common::check_tree(&common::fixtures().join("corpus"));
    assert!(n >= 13, "only {n} corpus cases found");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Every log input of the corpus parses with no unrecognized line that carries a request event.
#[test]
fn no_request_line_goes_unrecognized() {
    let root = common::fixtures().join("corpus");
    let mut checked = 0;
    for case in std::fs::read_dir(&root).expect("corpus dir") {
        let dir = case.expect("entry").path();
        for name in [
            "input.log",
            "journal-short-iso.log",
            "logs/agent.log",
            "logs/errors.log",
            "stdout.txt",
        ] {
            if !dir.join(name).is_file() {
                continue;
            }
            checked += 1;
            let out = common::run_in(&dir, &["events", "--show-unrecognized", name]);
            assert_eq!(out.status.code(), Some(0));
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("NDJSON");
                if v["kind"] != "unrecognized" {
                    continue;
                }
                let text = v["text"].as_str().unwrap_or("");
                assert!(
                    !hermes_forensics::ingest::looks_like_request_line(text),
                    "{}/{name}: unrecognized request line: {text}",
                    dir.display()
                );
            }
        }
    }
    assert!(checked >= 12, "only {checked} corpus logs checked");
}

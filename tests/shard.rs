//! Fleet scale: a run over several hosts analyzes each host alone and gives the same bytes at
//! any thread count; `merge` of per-host JSON reports gives the report of one run over all
//! their input, and refuses what cannot be merged.

mod common;

use std::path::{Path, PathBuf};

/// Two-host journals: the captured renderings and the release fixture of two releases.
fn two_host_inputs() -> Vec<PathBuf> {
    let root = common::fixtures().join("captured").join("two-host");
    let mut out = Vec::new();
    for case in std::fs::read_dir(&root)
        .expect("two-host fixtures")
        .flatten()
    {
        for mode in ["short-iso.txt", "json.txt"] {
            let p = case.path().join("render").join(mode);
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out.push(common::fixtures().join("release").join("two-hosts.journal"));
    out
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let out = common::run_in(dir, args);
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_fleet_report_is_the_same_at_any_thread_count() {
    for input in two_host_inputs() {
        let dir = input.parent().expect("dir");
        let name = input.file_name().and_then(|n| n.to_str()).expect("name");
        for extra in [
            &["--format", "json"][..],
            &["--format", "json", "--timeline"],
            &["--format", "json", "--no-streaming"],
            &["--format", "text"],
            &["--format", "sarif"],
        ] {
            let mut one = vec!["analyze", "--fail-on", "never", "--threads", "1", name];
            one.extend_from_slice(extra);
            let mut four = vec!["analyze", "--fail-on", "never", "--threads", "4", name];
            four.extend_from_slice(extra);
            let (c1, o1, e1) = run(dir, &one);
            let (c4, o4, _) = run(dir, &four);
            assert_eq!(c1, Some(0), "{}: {e1}", input.display());
            assert_eq!(c1, c4);
            assert!(
                o1 == o4,
                "{} {extra:?}: --threads 1 and --threads 4 differ",
                input.display()
            );
        }
        // Streamed and whole-input runs report the same.
        let (_, streamed, _) = run(dir, &["--format", "json", "--fail-on", "never", name]);
        let (_, whole, _) = run(
            dir,
            &[
                "--format",
                "json",
                "--fail-on",
                "never",
                "--no-streaming",
                name,
            ],
        );
        assert!(
            streamed == whole,
            "{}: streamed and --no-streaming differ",
            input.display()
        );
    }
}

/// Split a journal by its hostname column into one file per host, in `dir`; the file names.
fn split_by_host(input: &Path, dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(input).expect("fixture");
    let mut hosts: Vec<String> = Vec::new();
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for line in text.lines() {
        let Some(host) = line.split(' ').nth(1) else {
            continue;
        };
        if !host.contains("gw") {
            continue;
        }
        if !hosts.iter().any(|h| h == host) {
            hosts.push(host.to_string());
        }
        let f = files.entry(host.to_string()).or_default();
        f.push_str(line);
        f.push('\n');
    }
    let mut names = Vec::new();
    for (host, body) in files {
        let name = format!("host-{host}.log");
        std::fs::write(dir.join(&name), body).expect("write");
        names.push(name);
    }
    names
}

/// Short-iso journals of two hosts (the line format carries the hostname column).
fn short_iso_inputs() -> Vec<PathBuf> {
    two_host_inputs()
        .into_iter()
        .filter(|p| !p.ends_with("json.txt"))
        .collect()
}

/// Per-host JSON reports (with timelines) of `names` in `dir`: the report file names.
fn host_reports(dir: &Path, names: &[String]) -> Vec<String> {
    let mut reports = Vec::new();
    for name in names {
        let (code, out, err) = run(
            dir,
            &[
                "analyze",
                "--format",
                "json",
                "--timeline",
                "--fail-on",
                "never",
                name,
            ],
        );
        assert_eq!(code, Some(0), "{name}: {err}");
        let report = format!("{}.json", name.trim_end_matches(".log"));
        std::fs::write(dir.join(&report), out).expect("write");
        reports.push(report);
    }
    reports
}

#[test]
fn merged_host_reports_equal_one_run_over_all_hosts() {
    for input in short_iso_inputs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let names = split_by_host(&input, dir);
        assert_eq!(names.len(), 2, "{}", input.display());
        let reports = host_reports(dir, &names);
        for format in ["json", "text", "markdown", "sarif", "github", "html"] {
            let mut one = vec!["analyze", "--fail-on", "never", "--format", format];
            let mut merge = vec!["merge", "--fail-on", "never", "--format", format];
            if matches!(format, "json" | "text") {
                one.push("--timeline");
                merge.push("--timeline");
            }
            one.extend(names.iter().map(String::as_str));
            // Given in any order: shards are combined in host order.
            merge.extend(reports.iter().rev().map(String::as_str));
            let (c1, whole, e1) = run(dir, &one);
            let (c2, merged, e2) = run(dir, &merge);
            assert_eq!(c1, Some(0), "{e1}");
            assert_eq!(c2, Some(0), "{e2}");
            assert!(
                whole == merged,
                "{} --format {format}: merge differs from one run\n--- one run\n{}\n--- merge\n{}",
                input.display(),
                String::from_utf8_lossy(&whole),
                String::from_utf8_lossy(&merged)
            );
        }
    }
}

#[test]
fn merge_exits_1_on_findings_like_analyze() {
    let input = &short_iso_inputs()[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let names = split_by_host(input, tmp.path());
    let reports = host_reports(tmp.path(), &names);
    let mut merge = vec!["merge", "--format", "json"];
    merge.extend(reports.iter().map(String::as_str));
    let (merged, _, _) = run(tmp.path(), &merge);
    let mut one = vec!["analyze", "--format", "json"];
    one.extend(names.iter().map(String::as_str));
    let (whole, _, _) = run(tmp.path(), &one);
    assert_eq!(merged, whole);
}

#[test]
fn merge_refuses_a_report_given_twice_and_overlapping_shards_of_one_host() {
    let input = &short_iso_inputs()[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let names = split_by_host(input, dir);
    let reports = host_reports(dir, &names);
    let (code, _, err) = run(dir, &["merge", &reports[0], &reports[0]]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&reports[0]) && err.contains("same report"),
        "{err}"
    );

    // The same host again, in a second report whose times overlap the first.
    let text = std::fs::read_to_string(dir.join(&names[0])).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let tail: String = lines[lines.len() / 2..]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("again.log"), tail).expect("write");
    let again = host_reports(dir, &["again.log".to_string()]);
    let (code, _, err) = run(dir, &["merge", &reports[0], &again[0]]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&reports[0]) && err.contains(&again[0]) && err.contains("overlap"),
        "{err}"
    );
}

#[test]
fn merge_accepts_consecutive_shards_of_one_host() {
    let input = &short_iso_inputs()[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let names = split_by_host(input, dir);
    let text = std::fs::read_to_string(dir.join(&names[0])).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    // Cut between two seconds, so the halves do not share an instant.
    let mut cut = lines.len() / 2;
    while cut < lines.len() && lines[cut].get(..19) == lines[cut - 1].get(..19) {
        cut += 1;
    }
    let part = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    std::fs::write(dir.join("early.log"), part(&lines[..cut])).expect("write");
    std::fs::write(dir.join("late.log"), part(&lines[cut..])).expect("write");
    let reports = host_reports(dir, &["early.log".into(), "late.log".into()]);
    let (code, out, err) = run(
        dir,
        &[
            "merge",
            "--format",
            "json",
            "--fail-on",
            "never",
            &reports[1],
            &reports[0],
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let sources: Vec<&str> = v["summary"]["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(sources, ["early.log", "late.log"], "in time order");
}

#[test]
fn merge_refuses_what_is_not_a_report() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("other.json"), "{\"a\": 1}\n").expect("write");
    std::fs::write(dir.join("broken.json"), "{\"schema_version\": 1,").expect("write");
    let (code, _, err) = run(dir, &["merge", "other.json"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("other.json: not a hermes-forensics JSON report"),
        "{err}"
    );
    let (code, _, err) = run(dir, &["merge", "broken.json"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("broken.json: not a hermes-forensics JSON report"),
        "{err}"
    );
    let (code, _, err) = run(dir, &["merge", "missing.json"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.json"), "{err}");

    // A report of another schema version.
    let input = &short_iso_inputs()[0];
    let names = split_by_host(input, dir);
    let reports = host_reports(dir, &names[..1]);
    let text = std::fs::read_to_string(dir.join(&reports[0])).expect("read");
    let newer = text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
    std::fs::write(dir.join("newer.json"), newer).expect("write");
    let (code, _, err) = run(dir, &["merge", "newer.json"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("newer.json") && err.contains("schema_version 2"),
        "{err}"
    );
}

/// (rule, host, profile) of every finding with a host.
fn host_findings(report: &serde_json::Value, host: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["host"].as_str() == Some(host))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["profile"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A scratch directory holding the two-host journal `two-hosts.journal`.
fn two_hosts_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::fixtures().join("release/two-hosts.journal"),
        tmp.path().join("two-hosts.journal"),
    )
    .expect("copy");
    tmp
}

#[test]
fn a_snapshot_speaks_only_for_the_host_its_path_names() {
    let tmp = two_hosts_dir();
    let dir = tmp.path();
    let snapshot = common::fixtures().join("snapshots/previous-day-cooldown/auth.json");
    std::fs::create_dir(dir.join("gw-new")).expect("mkdir");
    std::fs::copy(&snapshot, dir.join("gw-new/auth.json")).expect("copy");
    std::fs::copy(&snapshot, dir.join("auth.json")).expect("copy");
    let (bare, _) = common::analyze_json(dir, &["two-hosts.journal"]);
    for streaming in [&[][..], &["--no-streaming"]] {
        // gw-new's snapshot: gw-new's findings are those of its lines with it; gw-old's unchanged.
        let mut args = vec!["two-hosts.journal", "--auth", "gw-new/auth.json"];
        args.extend_from_slice(streaming);
        let (with, _) = common::analyze_json(dir, &args);
        assert_eq!(
            host_findings(&with, "gw-old"),
            host_findings(&bare, "gw-old")
        );
        assert_ne!(
            host_findings(&with, "gw-new"),
            host_findings(&bare, "gw-new"),
            "the snapshot of gw-new says something about gw-new"
        );
        // A snapshot that names no host says nothing about either, and the report says so.
        let mut args = vec!["two-hosts.journal", "--auth", "auth.json"];
        args.extend_from_slice(streaming);
        let (unplaced, _) = common::analyze_json(dir, &args);
        for host in ["gw-new", "gw-old"] {
            assert_eq!(
                host_findings(&unplaced, host),
                host_findings(&bare, host),
                "{host}"
            );
        }
        let warnings = unplaced["summary"]["warnings"].to_string();
        assert!(
            warnings.contains("auth.json: names none of the hosts"),
            "{warnings}"
        );
    }
}

#[test]
fn a_log_without_host_beside_a_fleet_journal_is_placed_the_same_in_every_run() {
    let tmp = two_hosts_dir();
    let dir = tmp.path();
    std::fs::copy(
        common::fixtures().join("snapshots/previous-day-cooldown/agent.log"),
        dir.join("agent.log"),
    )
    .expect("copy");
    let base = ["--format", "json", "--fail-on", "never"];
    let mut outputs = Vec::new();
    for extra in [
        &[][..],
        &["--no-streaming"],
        &["--threads", "1"],
        &["--threads", "4", "--no-streaming"],
    ] {
        // The file without a host first: its lines come before the second host shows up.
        let mut args = vec!["agent.log", "two-hosts.journal"];
        args.extend_from_slice(&base);
        args.extend_from_slice(extra);
        let (code, out, err) = run(dir, &args);
        assert_eq!(code, Some(0), "{err}");
        outputs.push(out);
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn merge_says_which_reports_lack_the_timelines_a_format_draws() {
    let input = &short_iso_inputs()[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let names = split_by_host(input, dir);
    let (code, out, err) = run(
        dir,
        &[
            "analyze",
            "--format",
            "json",
            "--fail-on",
            "never",
            &names[0],
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(dir.join("bare.json"), out).expect("write");
    let (_, md, _) = run(
        dir,
        &[
            "merge",
            "--format",
            "markdown",
            "--fail-on",
            "never",
            "bare.json",
        ],
    );
    let md = String::from_utf8_lossy(&md);
    assert!(
        md.contains("bare.json: report(s) without timelines"),
        "{md}"
    );
    let (_, sarif, _) = run(
        dir,
        &[
            "merge",
            "--format",
            "sarif",
            "--fail-on",
            "never",
            "bare.json",
        ],
    );
    assert!(!String::from_utf8_lossy(&sarif).contains("without timelines"));
}

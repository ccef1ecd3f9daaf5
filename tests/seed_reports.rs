//! Snapshot tests pinning each report format on the two seed incidents, plus determinism and
//! secret-leak checks across every output format.

mod common;

use std::path::PathBuf;

fn corpus(case: &str) -> PathBuf {
    common::fixtures().join("corpus").join(case)
}

fn render(case: &str, args: &[&str]) -> String {
    let mut all = vec![
        "analyze",
        "--color",
        "never",
        "--fail-on",
        "never",
        "--timeline",
    ];
    all.extend_from_slice(args);
    let out = common::run_in(&corpus(case), &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

const SEED_000: (&str, &[&str]) = ("fallback-429-exhausts-primary-pool", &["input.log"]);
const SEED_003: (&str, &[&str]) = (
    "partial-rotation-journal",
    &["journal-short-iso.log", "auth.json"],
);

#[test]
fn seed_000_text() {
    insta::assert_snapshot!(render(
        SEED_000.0,
        &[&["--format", "text"], SEED_000.1].concat()
    ));
}

#[test]
fn seed_000_markdown() {
    insta::assert_snapshot!(render(
        SEED_000.0,
        &[&["--format", "markdown"], SEED_000.1].concat()
    ));
}

#[test]
fn seed_000_json() {
    insta::assert_snapshot!(render(
        SEED_000.0,
        &[&["--format", "json"], SEED_000.1].concat()
    ));
}

#[test]
fn seed_003_text() {
    insta::assert_snapshot!(render(
        SEED_003.0,
        &[&["--format", "text"], SEED_003.1].concat()
    ));
}

#[test]
fn seed_003_markdown() {
    insta::assert_snapshot!(render(
        SEED_003.0,
        &[&["--format", "markdown"], SEED_003.1].concat()
    ));
}

#[test]
fn seed_003_json() {
    insta::assert_snapshot!(render(
        SEED_003.0,
        &[&["--format", "json"], SEED_003.1].concat()
    ));
}

/// Every corpus case, every format, with 1 thread and with the default: identical bytes, twice.
#[test]
fn output_is_deterministic_across_runs_and_thread_counts() {
    // Several inputs read in parallel: two logs, console output and two snapshots.
    const MANY: (&str, &[&str]) = (
        "real-0.19.0-shared-retry-budget",
        &["logs", "stdout.txt", "auth.before.json", "auth.after.json"],
    );
    for (case, args) in [SEED_000, SEED_003, MANY] {
        for format in ["text", "markdown", "json"] {
            let mut all = vec![
                "analyze",
                "--color",
                "never",
                "--fail-on",
                "never",
                "--timeline",
                "--format",
                format,
            ];
            all.extend_from_slice(args);
            let mut outputs = Vec::new();
            for threads in ["1", "4", "1"] {
                let out = common::bin()
                    .current_dir(corpus(case))
                    .env("RAYON_NUM_THREADS", threads)
                    .args(&all)
                    .args(["--threads", threads])
                    .output()
                    .expect("runs");
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(!out.stdout.is_empty());
                outputs.push(out.stdout);
            }
            assert!(
                outputs.windows(2).all(|w| w[0] == w[1]),
                "{case} {format} differs between runs"
            );
        }
    }
}

/// Markers planted in the fake tokens of every auth.json fixture and the real captures.
const SECRET_MARKERS: &[&str] = &[
    "FAKESECRET",
    "DO-NOT-PRINT",
    "DO_NOT_PRINT",
    "FAKE-ACCESS",
    "FAKE_REFRESH",
    "FAKE-PRO",
    "FAKE-TEAM",
];

#[test]
fn no_auth_token_reaches_any_output() {
    let cases: &[(&str, &[&str])] = &[
        SEED_003,
        (
            "partial-rotation-journal",
            &["input.log", "--auth", "auth.json"],
        ),
        (
            "real-0.19.0-healthy-rotation",
            &[
                "logs/agent.log",
                "stdout.txt",
                "auth.before.json",
                "auth.after.json",
            ],
        ),
        (
            "real-0.19.0-shared-retry-budget",
            &["logs", "stdout.txt", "auth.before.json", "auth.after.json"],
        ),
    ];
    for (case, args) in cases {
        let mut runs: Vec<Vec<&str>> = ["text", "markdown", "json", "sarif", "github", "html"]
            .iter()
            .map(|f| {
                let mut v = vec!["analyze", "--timeline", "--fail-on", "never", "--format", f];
                v.extend_from_slice(args);
                v
            })
            .collect();
        let mut ev = vec!["events", "--show-unrecognized"];
        ev.extend(args.iter().filter(|a| !a.starts_with("--")));
        runs.push(ev);
        for run in runs {
            let out = common::run_in(&corpus(case), &run);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for m in SECRET_MARKERS {
                assert!(!text.contains(m), "{case} {run:?} leaked {m}");
            }
        }
    }
}

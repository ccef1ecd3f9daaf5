//! Secrets planted in logs (attempt summaries, error bodies, `error=` fields, evidence lines a
//! finding quotes, unrecognized lines) and in auth.json (tokens, keys, an error message) never
//! reach any output: every `--format` value, with timelines, and the `events` stream. Hermes's
//! own masked form stays readable. `--no-redact` prints them and says so.

mod common;

use clap::ValueEnum;
use hermes_forensics::report::Format;
use std::process::Output;

/// What must never appear: the planted values carry `SECRET`, and the two values without it (a
/// JWT payload, a bare random token) are listed whole.
const LEAKS: &[&str] = &[
    "SECRET",
    "eyJzdWIiOiJTRUNSRVQifQ",
    "Q7xK2mP9vL4nR8tW3yZ6bC1dF5gH0jS2aE7uI9o",
];

/// Hermes's masked key form, which must stay recognizable.
const MASKED: &str = "sk-pro...EFGH";

fn run(args: &[&str]) -> Output {
    let dir = common::fixtures().join("secrets");
    let out = common::run_in(&dir, args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_clean(what: &str, out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for leak in LEAKS {
            assert!(!text.contains(leak), "{what} leaks {leak}:\n{text}");
        }
    }
    // SARIF carries locations, not the text of the evidence lines.
    if what != "sarif" {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(MASKED), "{what} lost {MASKED}:\n{stdout}");
    }
}

/// Every `--format` value (new formats are picked up automatically).
fn formats() -> Vec<String> {
    Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value())
        .map(|v| v.get_name().to_string())
        .collect()
}

#[test]
fn planted_secrets_are_planted_and_found() {
    let log = std::fs::read_to_string(common::fixtures().join("secrets/agent.log")).expect("log");
    for secret in [
        "sk-SECRET",
        "sk-proj-SECRET",
        "sk-ant-api03-SECRET",
        "rt_SECRET",
        "Bearer SECRET",
        "api_key=SECRET",
        "Authorization: SECRET",
        "'x-api-key': 'SECRET",
        "eyJhbGciOiJIUzI1NiJ9.",
        LEAKS[2],
    ] {
        assert!(log.contains(secret), "fixture lacks {secret}");
    }
    let out = run(&[
        "--format",
        "json",
        "--fail-on",
        "never",
        "agent.log",
        "auth.json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "the planted log must produce findings that quote its lines"
    );
}

#[test]
fn no_format_prints_a_secret() {
    let formats = formats();
    assert!(formats.len() >= 3, "{formats:?}");
    for format in &formats {
        let out = run(&["--format", format, "--timeline", "agent.log", "auth.json"]);
        assert_clean(format, &out);
    }
}

#[test]
fn events_stream_prints_no_secret() {
    let out = run(&["events", "--show-unrecognized", "agent.log", "auth.json"]);
    assert_clean("events", &out);
}

#[test]
fn strict_error_prints_no_secret() {
    let out = common::run_in(
        &common::fixtures().join("secrets"),
        &["--strict", "agent.log"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognized Hermes request line"), "{err}");
    for leak in LEAKS {
        assert!(!err.contains(leak), "{err}");
    }
}

#[test]
fn no_redact_prints_secrets_and_says_so() {
    let out = run(&["--no-redact", "--format", "json", "agent.log", "auth.json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["summary"]["redacted"], false);
    assert!(String::from_utf8_lossy(&out.stdout).contains("SECRETapikey"));
    for format in ["text", "markdown"] {
        let out = run(&["--no-redact", "--format", format, "agent.log"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("NOT redacted"), "{format}: {text}");
    }
    // Secrets in auth.json are never even read.
    let out = run(&["--no-redact", "--format", "json", "--timeline", "auth.json"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SECRET"));
}

// ---- Every token family in every field (`fixtures/secrets/families/`) ----
//
// `planted.json` lists each planted value with the part that must never be printed: one token
// of each family as rotation / mark labels and auth.json labels (three per family, so two keys
// of one family must stay two profiles), a provider name and a pool key shaped like keys,
// header / URL / query / e-mail secrets in error bodies, `base_url` endpoints, auth.json error
// messages, and config values that errors echo.

/// One planted value.
#[derive(serde::Deserialize)]
struct Planted {
    family: String,
    #[serde(rename = "where")]
    place: String,
    secret: String,
}

fn planted() -> Vec<Planted> {
    let path = common::fixtures().join("secrets/families/planted.json");
    let text = std::fs::read_to_string(path).expect("planted.json");
    serde_json::from_str(&text).expect("planted.json parses")
}

/// Characters of a secret that may not appear together anywhere: any run this long of the
/// secret (so no prefix, suffix or middle of it survives either).
const WINDOW: usize = 10;

/// The planted secrets `text` leaks (a window of [`WINDOW`] characters of one).
fn leaked<'a>(text: &str, planted: &'a [Planted]) -> Vec<(&'a str, &'a str, String)> {
    let mut out = Vec::new();
    for p in planted {
        let chars: Vec<char> = p.secret.chars().collect();
        assert!(chars.len() >= WINDOW, "{}: secret too short", p.family);
        if let Some(w) = chars
            .windows(WINDOW)
            .map(|w| w.iter().collect::<String>())
            .find(|w| text.contains(w.as_str()))
        {
            out.push((p.family.as_str(), p.place.as_str(), w));
        }
    }
    out
}

fn families_dir() -> std::path::PathBuf {
    common::fixtures().join("secrets/families")
}

fn run_families(args: &[&str], env: &[(&str, &std::path::Path)]) -> Output {
    run_families_fed(args, env, None)
}

/// `run_families` with `stdin` read from a file of the families fixture (how `--follow` is fed:
/// a named file would be tailed like `tail -F`, never ending).
fn run_families_fed(
    args: &[&str],
    env: &[(&str, &std::path::Path)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = common::bin();
    let input = match stdin {
        Some(name) => std::fs::File::open(families_dir().join(name))
            .expect("stdin fixture")
            .into(),
        None => std::process::Stdio::null(),
    };
    cmd.current_dir(families_dir())
        .args(args)
        .stdin(input)
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_no_leak(what: &str, text: &str, planted: &[Planted]) {
    let leaks = leaked(text, planted);
    assert!(leaks.is_empty(), "{what} leaks {leaks:?}");
}

#[test]
fn planted_families_reach_the_output_unredacted() {
    // With --no-redact every planted value of the log and of the auth.json labels is printed:
    // the fixture exercises each field, so the redacted runs below prove something.
    let planted = planted();
    let out = run_families(
        &[
            "--no-redact",
            "--format",
            "json",
            "--timeline",
            "agent.log",
            "auth.json",
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let seen = leaked(&text, &planted);
    for p in planted.iter().filter(|p| p.family != "config") {
        assert!(
            seen.iter().any(|(f, w, _)| *f == p.family && *w == p.place),
            "{} ({}) is not in the output at all",
            p.family,
            p.place
        );
    }
    assert!(planted.iter().filter(|p| p.place == "label").count() >= 60);
}

#[test]
fn no_planted_family_reaches_any_output() {
    let planted = planted();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in &formats() {
        let args = ["--format", format, "--timeline", "agent.log", "auth.json"];
        let summary = tmp.path().join(format!("{format}-summary.md"));
        let out = run_families(&args, &[("GITHUB_STEP_SUMMARY", &summary)]);
        outputs.push((format.clone(), String::from_utf8_lossy(&out.stdout).into()));
        outputs.push((
            format!("{format} stderr"),
            String::from_utf8_lossy(&out.stderr).into(),
        ));
        if format == "github" {
            let step = std::fs::read_to_string(&summary).expect("step summary written");
            assert!(step.contains("shared-retry-budget"), "{step}");
            outputs.push(("step summary".into(), step));
        }
    }
    for (what, args) in [
        (
            "events",
            &["events", "--show-unrecognized", "agent.log", "auth.json"][..],
        ),
        ("follow text", &["--follow", "--auth", "auth.json"][..]),
        (
            "follow json",
            &["--follow", "--format", "json", "--auth", "auth.json"][..],
        ),
        (
            "follow otlp",
            &["--follow", "--format", "otlp", "--auth", "auth.json"][..],
        ),
        (
            "follow journal-export",
            &[
                "--follow",
                "--format",
                "journal-export",
                "--auth",
                "auth.json",
            ][..],
        ),
    ] {
        let fed = args.contains(&"--follow").then_some("agent.log");
        let out = run_families_fed(args, &[], fed);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(stdout.lines().count() >= 21, "{what}: {stdout}");
        outputs.push((what.into(), stdout));
        outputs.push((
            format!("{what} stderr"),
            String::from_utf8_lossy(&out.stderr).into(),
        ));
    }
    for (what, text) in &outputs {
        assert_no_leak(what, text, &planted);
    }
    // Every format ran and quoted the planted lines.
    assert!(outputs.len() >= 2 * formats().len() + 11);
    for (what, text) in outputs.iter().filter(|(w, _)| !w.ends_with("stderr")) {
        assert!(text.contains("[REDACTED"), "{what} shows no redaction");
    }
}

#[test]
fn redacted_labels_stay_distinct_stable_and_readable() {
    let out = run_families(
        &["--format", "json", "--timeline", "agent.log", "auth.json"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pools = report["summary"]["pools"].as_array().expect("pools");
    let profiles = |provider_prefix: &str| -> Vec<String> {
        pools
            .iter()
            .find(|p| {
                p["provider"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(provider_prefix))
            })
            .and_then(|p| p["profiles"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    // 20 families × 3 labels: all kept apart, all masked with their family's public prefix.
    let custom = profiles("custom:fakeprimary");
    assert_eq!(custom.len(), 60, "{custom:?}");
    let distinct: std::collections::BTreeSet<&String> = custom.iter().collect();
    assert_eq!(
        distinct.len(),
        60,
        "two keys collapsed into one: {custom:?}"
    );
    assert!(
        custom.iter().all(|p| p.contains("[REDACTED:")),
        "{custom:?}"
    );
    for prefix in [
        "sk-…",
        "sk-proj-…",
        "sk-ant-…",
        "sk-or-…",
        "AIza…",
        "ya29.…",
        "AKIA…",
        "ASIA…",
        "ghp_…",
        "gho_…",
        "ghu_…",
        "ghs_…",
        "ghr_…",
        "github_pat_…",
        "xoxb-…",
        "xoxp-…",
        "sk_live_…",
        "rk_live_…",
        "eyJ…",
    ] {
        let n = custom.iter().filter(|p| p.starts_with(prefix)).count();
        assert_eq!(n, 3, "{prefix}: {custom:?}");
    }
    assert_eq!(
        custom
            .iter()
            .filter(|p| p.ends_with("@example.com"))
            .count(),
        3
    );
    // A pool key shaped like a key is masked, and its labels stay two.
    let keyed = pools
        .iter()
        .find(|p| {
            p["provider"]
                .as_str()
                .is_some_and(|s| s.starts_with("sk-proj-…[REDACTED:"))
        })
        .expect("the key-shaped pool key is listed, masked");
    assert_eq!(keyed["profiles"].as_array().map(Vec::len), Some(2));
    // Ordinary labels stay readable; a provider name shaped like a key is masked.
    let plain = pools
        .iter()
        .find(|p| {
            p["profiles"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "key-1"))
        })
        .expect("the ordinary labels' pool");
    assert_eq!(
        plain["profiles"],
        serde_json::json!(["key-1", "primary", "work@"])
    );
    assert!(plain["provider"]
        .as_str()
        .is_some_and(|p| p.starts_with("sk-or-…[REDACTED:")));

    // Findings: one shared retry budget per request, quoting the masked labels as the pools
    // header shows them (the same label reads the same everywhere).
    let findings = report["findings"].as_array().expect("findings");
    let budget: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "shared-retry-budget")
        .collect();
    assert_eq!(budget.len(), 21, "{findings:?}");
    let all_profiles: Vec<String> = pools
        .iter()
        .flat_map(|p| p["profiles"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    for f in &budget {
        // `attempt 1/3 on A, attempt 2/3 on B and attempt 3/3 on C; …untried…`
        let message = f["message"]
            .as_str()
            .and_then(|m| m.split(';').next())
            .unwrap_or_default();
        let named = all_profiles
            .iter()
            .filter(|p| message.contains(p.as_str()))
            .count();
        assert_eq!(named, 3, "{message}");
    }
    // Timelines name the profile of each attempt by its masked label.
    let mut attributed = 0;
    for t in report["timelines"].as_array().expect("timelines") {
        for e in t["entries"].as_array().into_iter().flatten() {
            if let Some(p) = e["profile"].as_str() {
                assert!(all_profiles.iter().any(|q| q == p), "{p}");
                attributed += 1;
            }
        }
    }
    assert!(attributed >= 60, "{attributed}");
}

#[test]
fn config_values_echoed_by_errors_are_redacted() {
    let planted = planted();
    for p in planted.iter().filter(|p| p.family == "config") {
        let run = |extra: &[&str]| {
            let mut args = extra.to_vec();
            args.extend(["--config", p.place.as_str(), "agent.log"]);
            common::run_in(&families_dir(), &args)
        };
        let out = run(&[]);
        assert_eq!(out.status.code(), Some(2), "{}", p.place);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(p.place.as_str()), "names the file: {err}");
        assert!(err.contains("[REDACTED:"), "{err}");
        assert_no_leak(&p.place, &err, &planted);
        // The value is echoed: unredacted it is there.
        let raw = run(&["--no-redact"]);
        assert!(
            String::from_utf8_lossy(&raw.stderr).contains(p.secret.as_str()),
            "{}",
            p.place
        );
    }
}

//! CI and bug-report integration: SARIF (snapshot + schema validation), GitHub workflow
//! commands (snapshot, hostile log lines, job summary), baselines, the configuration file,
//! shell completions and the man page.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn corpus(case: &str) -> PathBuf {
    common::fixtures().join("corpus").join(case)
}

const SEED_000: (&str, &[&str]) = ("fallback-429-exhausts-primary-pool", &["input.log"]);
const SEED_003: (&str, &[&str]) = (
    "partial-rotation-journal",
    &["journal-short-iso.log", "auth.json"],
);

/// Runs `analyze` with `args` in `dir` without any `GITHUB_*` variable of the caller.
fn analyze_in(dir: &Path, args: &[&str]) -> Output {
    common::bin()
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .arg("analyze")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn render(case: (&str, &[&str]), format: &str) -> String {
    let args = [&["--fail-on", "never", "--format", format], case.1].concat();
    let out = analyze_in(&corpus(case.0), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn seed_000_sarif() {
    insta::assert_snapshot!(render(SEED_000, "sarif"));
}

#[test]
fn seed_003_sarif() {
    insta::assert_snapshot!(render(SEED_003, "sarif"));
}

#[test]
fn seed_000_github() {
    insta::assert_snapshot!(render(SEED_000, "github"));
}

#[test]
fn seed_003_github() {
    insta::assert_snapshot!(render(SEED_003, "github"));
}

fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(path).expect("schema readable");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    jsonschema::draft4::new(&schema).expect("schema compiles")
}

fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// SARIF for the seed cases and the captured real runs is valid SARIF 2.1.0 and has what
/// GitHub code scanning requires.
#[test]
fn sarif_validates_against_the_schema() {
    let validator = sarif_validator();
    let cases: &[(&str, &[&str])] = &[
        SEED_000,
        SEED_003,
        (
            "real-0.19.0-shared-retry-budget",
            &["logs", "stdout.txt", "auth.before.json", "auth.after.json"],
        ),
        ("healthy-cron-fallback-zai", &["."]),
    ];
    let mut results = 0;
    for case in cases {
        let doc: Value = serde_json::from_str(&render(*case, "sarif")).expect("sarif parses");
        let errors = schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", case.0);
        let run = &doc["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), hermes_forensics::rules::RULES.len());
        for rule in rules {
            for key in ["shortDescription", "fullDescription", "help"] {
                let text = rule[key]["text"].as_str().unwrap_or("");
                assert!(!text.is_empty(), "{key} of {}", rule["id"]);
            }
        }
        for r in run["results"].as_array().expect("results") {
            results += 1;
            let loc = &r["locations"][0]["physicalLocation"];
            assert!(!loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or("")
                .is_empty());
            assert!(loc["region"]["startLine"].as_u64().unwrap_or(0) >= 1);
            assert!(!r["message"]["text"].as_str().unwrap_or("").is_empty());
            assert!(r["partialFingerprints"]["hermesForensics/v1"].is_string());
        }
    }
    assert!(results > 0, "the cases produce results");
    // The validator is real: a wrong level and a missing message are rejected.
    let mut bad: Value = serde_json::from_str(&render(SEED_000, "sarif")).expect("parses");
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    if let Some(r) = bad["runs"][0]["results"][0].as_object_mut() {
        r.remove("message");
    }
    assert!(schema_errors(&validator, &bad).len() >= 2);
}

#[test]
fn sarif_fingerprints_are_stable_across_runs_and_paths() {
    let fps = |dir: &Path, args: &[&str]| -> Vec<Value> {
        let out = analyze_in(
            dir,
            &[&["--fail-on", "never", "--format", "sarif"], args].concat(),
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("sarif parses");
        doc["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = corpus(SEED_003.0);
    for f in ["journal-short-iso.log", "auth.json"] {
        std::fs::copy(src.join(f), tmp.path().join(format!("copy-{f}"))).expect("copy");
    }
    let a = fps(&src, SEED_003.1);
    let b = fps(
        tmp.path(),
        &["copy-journal-short-iso.log", "copy-auth.json"],
    );
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

/// The lines a workflow runner would process as commands (`::cmd` after leading blanks, or a
/// `##[cmd]` anywhere), honouring `::stop-commands::TOKEN` … `::TOKEN::`.
fn runner_commands(text: &str) -> Vec<&str> {
    let mut stopped: Option<String> = None;
    let mut processed = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(token) = &stopped {
            if t == format!("::{token}::") || line.contains(&format!("##[{token}]")) {
                stopped = None;
                processed.push(line);
            }
            continue;
        }
        if t.starts_with("::") || line.contains("##[") {
            processed.push(line);
            if let Some(token) = t.strip_prefix("::stop-commands::") {
                stopped = Some(token.to_string());
            }
        }
    }
    processed
}

#[test]
fn hostile_log_lines_cannot_inject_workflow_commands() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // `,` and `:` in the file name must be escaped in the `file=` property.
    let name = "we,ird:name.log";
    std::fs::copy(
        common::fixtures().join("ci/hostile.log"),
        tmp.path().join(name),
    )
    .expect("copy");
    let out = analyze_in(tmp.path(), &["--format", "github", name]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .expect("the text report is fenced by stop-commands");
    let token = lines[start].trim_start_matches("::stop-commands::");
    assert!(!token.is_empty());
    let end = format!("::{token}::");
    assert_eq!(lines.last().copied(), Some(end.as_str()));
    // Inside the fence nothing can resume command processing.
    let body = lines[start + 1..lines.len() - 1].join("\n");
    assert!(!body.contains(token));
    assert!(
        body.contains("::add-mask::x"),
        "the report still shows the line"
    );
    // Before the fence: only our own annotations, one per line, hostile text escaped.
    let head = &lines[..start];
    assert!(head.len() >= 2);
    for l in head {
        assert!(
            l.starts_with("::notice ") || l.starts_with("::error ") || l.starts_with("::warning "),
            "unexpected command line {l:?}"
        );
        let (props, message) = l
            .split_once("::")
            .and_then(|(_, rest)| rest.split_once("::"))
            .expect("command shape");
        assert!(!props.contains('\r') && !message.contains('\r'));
        if props.contains("file=") {
            assert!(props.contains("file=we%2Cird%3Aname.log"), "{props}");
        }
    }
    let annotations = head.join("\n");
    assert!(
        annotations.contains("%250A::error::pwned"),
        "% escaped first"
    );
    assert!(annotations.contains("Insufficient balance%0D::warning file=x::cr"));
    // A runner acts on our annotations and the fence, and on nothing from the log.
    let commands = runner_commands(&text);
    let expected: Vec<&str> = head
        .iter()
        .copied()
        .chain([lines[start], end.as_str()])
        .collect();
    assert_eq!(commands, expected);
}

#[test]
fn github_annotations_are_capped_per_type() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Twelve seed-000 incidents an hour apart: more high findings than GitHub shows.
    let log: String = (10..22)
        .map(|h| {
            format!(
                "2026-05-27 {h}:28:42 CST  Fallback activated: gpt-5.5 -> glm-5.1 (zai)\n\
                 2026-05-27 {h}:28:43 CST  zai returned 429 code=1113 \"Insufficient balance\"\n\
                 2026-05-27 {h}:28:48 CST  credential pool: marking openai-codex-oauth-{h} exhausted\n"
            )
        })
        .collect();
    std::fs::write(tmp.path().join("many.log"), log).expect("write");
    let out = analyze_in(
        tmp.path(),
        &["--format", "github", "--fail-on", "never", "many.log"],
    );
    let text = stdout(&out);
    let count = |p: &str| text.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(count("::error "), 10);
    assert!(count("::notice ") <= 10);
    let summary = text.lines().next().unwrap_or("");
    assert!(summary.starts_with("::notice title=hermes-forensics::"));
    assert!(summary.contains("not annotated"), "{summary}");
}

#[test]
fn github_format_appends_the_markdown_report_to_the_step_summary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "## earlier step\n").expect("write");
    let out = common::bin()
        .current_dir(corpus(SEED_000.0))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "analyze",
            "--format",
            "github",
            "--fail-on",
            "never",
            "input.log",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&summary).expect("summary written");
    let markdown = render(SEED_000, "markdown");
    assert_eq!(text, format!("## earlier step\n{markdown}"));
    // Other formats leave the summary alone.
    let out = common::bin()
        .current_dir(corpus(SEED_000.0))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "analyze",
            "--format",
            "json",
            "--fail-on",
            "never",
            "input.log",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&summary).expect("read"), text);
}

fn json_findings(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// Shifts every `2026-05-08T18:MM:SS` journal time by `minutes` and inserts an unrelated line
/// after the third line.
fn shifted_journal(text: &str, minutes: i64) -> String {
    let re = regex::Regex::new(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d{4})").expect("regex");
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let shifted = re.replace(line, |c: &regex::Captures| {
            let t = chrono::NaiveDateTime::parse_from_str(&c[1], "%Y-%m-%dT%H:%M:%S")
                .expect("journal time");
            let t = t + chrono::Duration::minutes(minutes);
            format!("{}{}", t.format("%Y-%m-%dT%H:%M:%S"), &c[2])
        });
        out.push_str(&shifted);
        out.push('\n');
        if i == 2 {
            out.push_str(
                "2026-05-08T18:41:09-0400 gw-1 python[2844586]: INFO gateway.platforms.telegram: heartbeat ok\n",
            );
        }
    }
    out
}

#[test]
fn baselines_round_trip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let src = corpus(SEED_003.0);
    std::fs::copy(src.join("journal-short-iso.log"), dir.join("journal.log")).expect("copy");
    std::fs::copy(src.join("auth.json"), dir.join("auth.json")).expect("copy");
    let base = ["--format", "json", "journal.log", "auth.json"];

    // Record: the report is unchanged and the exit code still follows the findings.
    let out = analyze_in(
        dir,
        &[&base[..], &["--write-baseline", "baseline.json"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = json_findings(&out);
    assert!(!all.is_empty());
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("baseline.json")).expect("baseline written"),
    )
    .expect("baseline parses");
    assert_eq!(baseline["version"], 1);
    let fps: Vec<&str> = baseline["fingerprints"]
        .as_array()
        .expect("fingerprints")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(fps.len(), all.len());
    assert!(fps.windows(2).all(|w| w[0] < w[1]), "sorted and unique");

    // Same input against the baseline: nothing new, exit 0.
    let out = analyze_in(dir, &[&base[..], &["--baseline", "baseline.json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(json_findings(&out).is_empty());

    // Shifted timestamps and an unrelated inserted line: still nothing new.
    let text = std::fs::read_to_string(dir.join("journal.log")).expect("read");
    let shifted = shifted_journal(&text, 7);
    assert_ne!(shifted, text);
    std::fs::write(dir.join("shifted.log"), shifted).expect("write");
    let shifted_args = ["--format", "json", "shifted.log", "auth.json"];
    let plain = analyze_in(dir, &shifted_args);
    assert_eq!(json_findings(&plain).len(), all.len(), "same incidents");
    let out = analyze_in(
        dir,
        &[&shifted_args[..], &["--baseline", "baseline.json"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(json_findings(&out).is_empty());

    // A different incident is new: reported, exit code follows it.
    std::fs::copy(corpus(SEED_000.0).join("input.log"), dir.join("other.log")).expect("copy");
    let out = analyze_in(
        dir,
        &[
            "--format",
            "json",
            "other.log",
            "--baseline",
            "baseline.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_findings(&out).len(), 1);

    // One file compared against and then updated: the new finding is reported once.
    let update = [
        "--format",
        "json",
        "other.log",
        "--baseline",
        "baseline.json",
        "--write-baseline",
        "baseline.json",
    ];
    let out = analyze_in(dir, &update);
    assert_eq!(json_findings(&out).len(), 1);
    let out = analyze_in(dir, &update);
    assert_eq!(out.status.code(), Some(0));
    assert!(json_findings(&out).is_empty());

    // A broken baseline is a usage error naming the file.
    std::fs::write(
        dir.join("broken.json"),
        "{\"version\": 7, \"fingerprints\": []}",
    )
    .expect("w");
    let out = analyze_in(dir, &[&base[..], &["--baseline", "broken.json"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
}

/// A temporary directory holding the seed-000 log and `hermes-forensics.toml` with `config`.
fn config_dir(config: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        corpus(SEED_000.0).join("input.log"),
        tmp.path().join("input.log"),
    )
    .expect("copy");
    std::fs::write(tmp.path().join("hermes-forensics.toml"), config).expect("write");
    tmp
}

#[test]
fn config_unknown_key_is_an_error_with_a_hint() {
    let tmp = config_dir("[rules.misattributed-exhaustion]\nseverity = \"low\"\nenabeld = true\n");
    let out = analyze_in(tmp.path(), &["input.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "hermes-forensics: hermes-forensics.toml: unknown key \
         `rules.misattributed-exhaustion.enabeld` (did you mean `enabled`?)"
    );
}

#[test]
fn config_severity_override_changes_findings_and_exit_code() {
    let tmp = config_dir("[rules.misattributed-exhaustion]\nseverity = \"info\"\n");
    let out = analyze_in(tmp.path(), &["--format", "json", "input.log"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let f = json_findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "info");
    // The same run without the file (another directory, no --config) fails on the high finding.
    let out = analyze_in(&corpus(SEED_000.0), &["input.log"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_sits_between_defaults_and_flags() {
    let tmp =
        config_dir("tz = \"Asia/Shanghai\"\n[rules.misattributed-exhaustion]\nenabled = false\n");
    let times = |args: &[&str]| -> (Option<i32>, Vec<String>) {
        let out = analyze_in(
            tmp.path(),
            &[&["--format", "json", "--fail-on", "never"], args].concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        let first = v["summary"]["first_time"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let rules = json_findings(&out)
            .iter()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect();
        (first.get(11..13).and_then(|h| h.parse().ok()), rules)
    };
    // Config: Shanghai time (14:28 CST → 06:28Z), the rule switched off.
    assert_eq!(times(&["input.log"]), (Some(6), vec![]));
    // Flags win: --tz and --rule.
    assert_eq!(
        times(&[
            "--tz",
            "UTC",
            "--rule",
            "misattributed-exhaustion",
            "input.log"
        ]),
        (Some(14), vec!["misattributed-exhaustion".to_string()])
    );
    // `events` takes the zone from the file too.
    let out = common::run_in(tmp.path(), &["events", "input.log"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"time\":\"2026-05-27T06:28:42"),
        "{}",
        stdout(&out)
    );
    // --config names another file, which replaces the one in the directory.
    std::fs::write(tmp.path().join("other.toml"), "tz = \"America/Chicago\"\n").expect("write");
    assert_eq!(times(&["--config", "other.toml", "input.log"]).0, Some(19));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let out = common::run_in(Path::new("."), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(text.contains("hermes-forensics"), "{shell}");
        assert!(text.contains("write-baseline"), "{shell} lists the flags");
        assert!(text.contains("sarif"), "{shell} lists the formats");
    }
    let out = common::run_in(Path::new("."), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with(".ie") || text.contains(".TH hermes-forensics"),
        "{text}"
    );
    assert!(text.contains("\\-\\-baseline"));
    let out = common::run_in(Path::new("."), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The new formats are byte-deterministic like the others.
#[test]
fn ci_formats_are_deterministic() {
    for case in [SEED_000, SEED_003] {
        for format in ["sarif", "github"] {
            assert_eq!(
                render(case, format),
                render(case, format),
                "{} {format}",
                case.0
            );
        }
    }
}

/// The README's "Report a Hermes bug" example is what the tool prints for that case.
#[test]
fn readme_bug_report_example_matches_the_output() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("## Report a Hermes bug")
        .nth(1)
        .expect("section exists");
    let example = section
        .split("````markdown\n")
        .nth(1)
        .and_then(|s| s.split("````").next())
        .expect("example block");
    let out = analyze_in(
        &corpus(SEED_000.0),
        &["--format", "markdown", "--tz", "Asia/Shanghai", "input.log"],
    );
    assert!(stdout(&out).contains(example), "README example is stale");
}

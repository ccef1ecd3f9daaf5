//! The pictures and the counterfactual over every corpus case and every capture of the real
//! Hermes: every Mermaid diagram the Markdown report emits is parsed by the real Mermaid library
//! in headless Chromium, every HTML report is loaded in headless Chromium and checked for one
//! SVG per request with a finding and every finding's rule id, and the counterfactual replay is
//! compared with the fake provider's plan (tools/capture/scenarios) where the logs decide it.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (name, directory, analyze args) of every corpus case and capture.
fn runs() -> Vec<(String, PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let corpus = common::fixtures().join("corpus");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cases.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("cases.json")).expect("cases.json");
        let cases: Value = serde_json::from_str(&text).expect("cases.json parses");
        for c in cases.as_array().into_iter().flatten() {
            let args = c["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            let name = format!("{} / {}", dir.display(), c["name"].as_str().unwrap_or("-"));
            out.push((name, dir.clone(), args));
        }
    }
    for dir in common::captures() {
        out.push((dir.display().to_string(), dir.clone(), capture_args(&dir)));
    }
    out
}

fn capture_args(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
    let e: Value = serde_json::from_str(&text).expect("expected.json parses");
    let mut args = vec![
        "--hermes-version".to_string(),
        e["hermes_version"].as_str().unwrap_or("0.19.0").to_string(),
    ];
    for input in e["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !dir.join(input).exists() {
            continue;
        }
        if input.contains("auth-list") {
            args.push("--auth-list".into());
        }
        args.push(input.to_string());
    }
    args
}

fn report(dir: &Path, format: &str, args: &[String]) -> String {
    let mut all = vec!["analyze", "--format", format, "--fail-on", "never"];
    all.extend(args.iter().map(String::as_str));
    let out = common::run_in(dir, &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {all:?}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 report")
}

fn mermaid_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line) {
            (None, "```mermaid") => cur = Some(String::new()),
            (Some(_), "```") => out.extend(cur.take()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn mermaid_js() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mermaid/node_modules/mermaid/dist/mermaid.min.js")
}

/// `chromium --headless --dump-dom` of a local page.
fn dump_dom(chrome: &Path, page: &Path, tmp: &Path) -> String {
    let profile = tmp.join(format!(
        "profile-{}",
        page.file_stem().and_then(|s| s.to_str()).unwrap_or("p")
    ));
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--allow-file-access-from-files",
            "--virtual-time-budget=60000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hf-visuals-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn every_emitted_mermaid_diagram_is_accepted_by_mermaid() {
    let Some(chrome) = chromium() else {
        eprintln!("SKIP: chromium not installed (apt-get install chromium); Mermaid diagrams not rendered");
        return;
    };
    if !mermaid_js().is_file() {
        eprintln!(
            "SKIP: {} missing (run `npm ci` in tests/mermaid); Mermaid diagrams not rendered",
            mermaid_js().display()
        );
        return;
    }
    let mut diagrams: Vec<(String, String)> = Vec::new();
    for (name, dir, args) in runs() {
        for (i, d) in mermaid_blocks(&report(&dir, "markdown", &args))
            .into_iter()
            .enumerate()
        {
            diagrams.push((format!("{name} #{}", i + 1), d));
        }
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    for (i, d) in mermaid_blocks(&readme).into_iter().enumerate() {
        diagrams.push((format!("README.md #{}", i + 1), d));
    }
    assert!(
        diagrams.len() >= 50,
        "only {} diagrams emitted",
        diagrams.len()
    );
    let tmp = tmp_dir("mermaid");
    let data = serde_json::to_string(&diagrams)
        .expect("json")
        .replace('<', "\\u003c");
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script src=\"file://{}\"></script></head><body>\
<script id=\"d\" type=\"application/json\">{data}</script>\
<script>(async () => {{ const ds = JSON.parse(document.getElementById('d').textContent);\
 const out = []; let ok = 0; try {{ mermaid.initialize({{startOnLoad: false}});\
 for (const [id, d] of ds) {{ try {{ await mermaid.parse(d); ok++; }} catch (e) {{ out.push('ERR ' + id + ': ' + String((e && e.message) || e).slice(0, 400)); }} }} }}\
 catch (e) {{ out.push('ERR setup: ' + e); }}\
 const pre = document.createElement('pre'); pre.id = 'result'; pre.textContent = 'DONE ' + ok + '\\n' + out.join('\\n'); document.body.appendChild(pre); }})();</script>\
</body></html>",
        mermaid_js().display()
    );
    let path = tmp.join("mermaid.html");
    std::fs::write(&path, page).expect("page written");
    let dom = dump_dom(&chrome, &path, &tmp);
    let start = dom
        .find("<pre id=\"result\">DONE ")
        .map(|i| i + 17)
        .unwrap_or_else(|| {
            panic!(
                "Mermaid page did not finish: {}",
                &dom[..dom.len().min(2000)]
            )
        });
    let result = &dom[start..];
    let result = &result[..result.find("</pre>").unwrap_or(result.len())];
    let ok: usize = result[5..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        !result.contains("ERR "),
        "Mermaid rejected diagrams:\n{result}"
    );
    assert_eq!(ok, diagrams.len(), "{result}");
    eprintln!("Mermaid parsed {ok} diagrams (every corpus case, every capture, README.md)");
}

#[test]
fn html_reports_render_in_chromium_with_one_svg_per_request_with_a_finding() {
    let Some(chrome) = chromium() else {
        eprintln!(
            "SKIP: chromium not installed (apt-get install chromium); HTML reports not rendered"
        );
        return;
    };
    let tmp = tmp_dir("html");
    let mut pages = 0;
    for (i, (name, dir, args)) in runs().into_iter().enumerate() {
        let json: Value = serde_json::from_str(&report(&dir, "json", &args)).expect("json");
        let findings = json["findings"].as_array().cloned().unwrap_or_default();
        let mut requests: Vec<&str> = findings
            .iter()
            .filter_map(|f| f["request"].as_str())
            .collect();
        requests.sort();
        requests.dedup();
        let html = report(&dir, "html", &args);
        for bad in [
            "<script",
            "<link",
            " src=",
            "href=\"http",
            "url(http",
            "@import",
        ] {
            assert!(
                !html.contains(bad),
                "{name}: external resource or script ({bad})"
            );
        }
        let path = tmp.join(format!("r{i}.html"));
        std::fs::write(&path, &html).expect("page written");
        let dom = dump_dom(&chrome, &path, &tmp);
        assert!(dom.contains("</html>"), "{name}: chromium gave no DOM");
        assert_eq!(
            dom.matches("<svg class=\"timeline\"").count(),
            requests.len(),
            "{name}: one SVG per request with a finding"
        );
        for f in &findings {
            let rule = f["rule"].as_str().unwrap_or("-");
            assert!(
                dom.contains(&format!("<code class=\"rule\">{rule}</code>")),
                "{name}: rule {rule} missing"
            );
        }
        pages += 1;
    }
    eprintln!("Chromium rendered {pages} HTML reports");
}

#[test]
fn html_report_snapshot() {
    let dir = common::fixtures().join("captured/hermes-0.19.0/more-keys-than-budget");
    let html = report(&dir, "html", &capture_args(&dir));
    insta::assert_snapshot!("html_more_keys_than_budget", html);
}

/// How the contract treats one scripted answer of the fake provider.
fn answer_class(a: &str) -> &'static str {
    if a == "ok" {
        "ok"
    } else if [
        "rate_limit",
        "usage",
        "quota",
        "1113",
        "402",
        "billing",
        "401",
        "invalid",
        "auth",
    ]
    .iter()
    .any(|w| a.contains(w))
    {
        "rotate"
    } else {
        "retry"
    }
}

#[test]
fn counterfactual_matches_the_scenario_plan_where_the_logs_decide_it() {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/capture/scenarios");
    let (mut decided, mut undecided) = (0, 0);
    for dir in common::captures() {
        let scenario = dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("-")
            .to_string();
        let plan: Value = serde_json::from_str(
            &std::fs::read_to_string(scenarios.join(format!("{scenario}.json"))).expect("scenario"),
        )
        .expect("scenario parses");
        let requests_log = std::fs::read_to_string(dir.join("requests.log")).unwrap_or_default();
        let mut args = capture_args(&dir);
        args.push("--timeline".into());
        let json: Value = serde_json::from_str(&report(&dir, "json", &args)).expect("json");
        let Some(tl) = json["timelines"].as_array().and_then(|t| t.first()) else {
            continue;
        };
        let cf = &tl["counterfactual"];
        let pool: Vec<String> = json["summary"]["pools"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| p["profiles"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let answers = &plan["answers"]["primary"];
        let key_of = |label: &str| label.rsplit('-').next().map(|n| format!("key{n}"));
        let first_answer = |label: &str| -> String {
            let key = key_of(label).unwrap_or_default();
            let seq = answers.get(&key).or_else(|| answers.get("*"));
            seq.and_then(|s| s.as_array())
                .and_then(|s| s.first())
                .and_then(Value::as_str)
                .unwrap_or("ok")
                .to_string()
        };
        let contacted = |label: &str| {
            key_of(label).is_some_and(|k| {
                requests_log
                    .lines()
                    .any(|l| l.contains("/chat/completions") && l.contains(&format!("key={k}\t")))
            })
        };
        let notes: Vec<String> = cf["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        match cf["outcome"].as_str() {
            Some("served") if !cf["served_by"].is_null() => {
                let by = cf["served_by"].as_str().unwrap_or("-");
                assert_eq!(
                    answer_class(&first_answer(by)),
                    "ok",
                    "{}: replay serves by {by}, plan says {}",
                    dir.display(),
                    first_answer(by)
                );
                decided += 1;
            }
            Some("served" | "failed") => {
                // The pool ran empty: no profile the replay could send to answers ok first.
                for p in &pool {
                    let skipped = notes.iter().any(|n| n.starts_with(&format!("{p} skipped")));
                    if !skipped && contacted(p) {
                        assert_ne!(
                            answer_class(&first_answer(p)),
                            "ok",
                            "{}: {p} would have served",
                            dir.display()
                        );
                    }
                }
                assert_eq!(cf["fallback_needed"], true, "{}", dir.display());
                decided += 1;
            }
            Some("unknown") => {
                // The logs cannot decide: the replay stopped at a profile that never answered.
                let named: Vec<&String> = pool
                    .iter()
                    .filter(|p| {
                        notes
                            .iter()
                            .any(|n| n.starts_with(&format!("{p} would be")))
                    })
                    .collect();
                // A profile that did answer in requests.log is unknown only when the logs did not
                // tie its calls to its label (an account known by fingerprint only).
                let tied_elsewhere = tl["entries"].as_array().into_iter().flatten().any(|e| {
                    e["profile"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("account["))
                });
                for p in &named {
                    assert!(
                        !contacted(p)
                            || tied_elsewhere
                            || notes.iter().any(|n| n.contains("retried")),
                        "{}: {p} did answer in requests.log",
                        dir.display()
                    );
                }
                assert!(
                    !notes.is_empty(),
                    "{}: unknown without a reason",
                    dir.display()
                );
                undecided += 1;
            }
            other => panic!("{}: counterfactual outcome {other:?}", dir.display()),
        }
    }
    eprintln!("counterfactual checked against the plan on {decided} captures; {undecided} undecided from the logs");
    assert!(decided >= 20, "only {decided} captures decided");
}

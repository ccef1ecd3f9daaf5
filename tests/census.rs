//! The template census (`fixtures/census/request-path.tsv`, from `tools/census`): every
//! request-path template of every release, rendered as that release writes it, classifies as
//! its disposition (`fixtures/census/dispositions.tsv`): the event kind it becomes, or `known`
//! (a Hermes line with no bearing on request forensics, with a reason). No rendered line is
//! `other` or `unrecognized`; at least 90% of each release's request-path templates (log and
//! console counted apart) become events.

use hermes_forensics::classify::census::{split_placeholders, templates, Template};
use hermes_forensics::classify::classify;
use hermes_forensics::model::{Record, Shape};
use hermes_forensics::parse::{detect, Parser, TimeContext};
use std::collections::{BTreeMap, HashMap};

const DISPOSITIONS: &str = include_str!("../fixtures/census/dispositions.tsv");

/// A value for the placeholder that follows `before` and precedes `after`.
fn value(before: &str, after: &str) -> &'static str {
    let b = before.trim_end_matches(['(', '~', '=']);
    let numeric_before = [
        "attempt", "retry", "after", "in", "level", "#", "/", "HTTP", "Waiting",
    ]
    .iter()
    .any(|w| b.ends_with(w) || before.ends_with(&format!("{w} ")))
        || before.ends_with("~");
    let numeric_after = after.starts_with('/')
        || after.starts_with("s ")
        || after.starts_with("s)")
        || after.starts_with("s.")
        || after.starts_with("s,")
        || after == "s"
        || after.starts_with(" retries")
        || after.starts_with(" refreshes")
        || after.starts_with(" attempts");
    if numeric_before || numeric_after {
        "2"
    } else if before.ends_with("HTTP ") || before.ends_with("status=") {
        "429"
    } else {
        "openrouter"
    }
}

/// The template's first line with plausible values in its placeholders; a leading placeholder
/// (the log prefix of the console helpers) is empty.
fn render(t: &Template) -> String {
    let text = t
        .text
        .split("\\n")
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let pieces = split_placeholders(text);
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(piece);
        if let Some(next) = pieces.get(i + 1) {
            if i == 0 && piece.is_empty() {
                continue;
            }
            out.push_str(value(&out, next));
        }
    }
    out
}

/// The line as the release writes it: the agent.log frame for a logging call, bare for a print.
fn line(t: &Template) -> String {
    let msg = render(t);
    if t.channel == "console" {
        msg
    } else {
        format!("2026-11-23 15:28:31,469 {} {}: {}", t.level, t.logger, msg)
    }
}

fn record(t: &Template) -> Record {
    let line = line(t);
    if t.channel == "console" {
        let mut r = Record::empty();
        r.message = line.clone();
        r.raw = line;
        return r;
    }
    let format = detect(&[line.as_str()]);
    let mut parser = Parser::new(0, format, TimeContext::default());
    let mut out = Vec::new();
    parser.push(1, &line, &mut out);
    parser.finish(&mut out);
    let r = out.into_iter().next().expect("one record");
    assert_ne!(r.shape, Shape::Bare, "{line}");
    assert_eq!(r.logger.as_deref(), Some(t.logger), "{line}");
    r
}

/// id → disposition (`kind` or `known: reason`).
fn dispositions() -> HashMap<&'static str, &'static str> {
    DISPOSITIONS
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((f.next()?, f.next()?))
        })
        .collect()
}

#[test]
fn every_template_classifies_as_its_disposition() {
    let disp = dispositions();
    let mut wrong = Vec::new();
    let mut draft = String::new();
    // (release, channel) → (events, known)
    let mut cover: BTreeMap<(&str, &str), (u32, u32)> = BTreeMap::new();
    for t in templates() {
        let kind = classify(&record(t));
        let got = kind.name();
        match t.scope {
            "request" => {
                let want = disp.get(t.id).copied();
                draft.push_str(&format!("{}\t{}\t{}\n", t.id, want.unwrap_or(got), t.text));
                let Some(want) = want else {
                    wrong.push(format!(
                        "{} no disposition (classifies {got}): {}",
                        t.id, t.text
                    ));
                    continue;
                };
                let want_kind = if let Some(reason) = want.strip_prefix("known:") {
                    assert!(reason.trim().len() > 5, "{}: a reason", t.id);
                    "known"
                } else {
                    want
                };
                if got != want_kind {
                    wrong.push(format!(
                        "{} {} want {want_kind} got {got}: {}",
                        t.id, t.channel, t.text
                    ));
                }
                for rel in t.releases.split(',') {
                    let c = cover.entry((rel, t.channel)).or_default();
                    if want_kind == "known" {
                        c.1 += 1;
                    } else {
                        c.0 += 1;
                    }
                }
            }
            "side" => {
                if kind.is_request_event() {
                    wrong.push(format!("{} side client as {got}: {}", t.id, t.text));
                }
            }
            _ => {
                // Neither: anything but other / unrecognized, unless the template has too
                // little literal text to be told from other lines.
                let literal: usize = split_placeholders(t.text)
                    .iter()
                    .map(|p| p.trim().chars().count())
                    .sum();
                if matches!(got, "other" | "unrecognized") && literal >= 12 {
                    wrong.push(format!("{} {} {got}: {}", t.id, t.channel, t.text));
                }
            }
        }
    }
    if let Ok(path) = std::env::var("CENSUS_DRAFT") {
        std::fs::write(path, draft).expect("write draft");
    }
    let mut low = Vec::new();
    for ((rel, channel), (events, known)) in &cover {
        let pct = 100.0 * f64::from(*events) / f64::from(events + known).max(1.0);
        println!("{rel} {channel:7} events {events:3} known {known:3} coverage {pct:5.1}%");
        if pct < 90.0 {
            low.push(format!("{rel} {channel} {pct:.1}%"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(low.is_empty(), "coverage below 90%: {low:?}");
}

/// `fixtures/census/rendered/{agent.log,console.txt}` hold every template rendered (what the
/// classifier and the prefilter tests read as fixture lines); `CENSUS_WRITE=1` rewrites them.
#[test]
fn rendered_census_is_committed() {
    let mut log = String::new();
    let mut console = String::new();
    for t in templates() {
        let out = if t.channel == "console" {
            &mut console
        } else {
            &mut log
        };
        out.push_str(&line(t));
        out.push('\n');
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/census/rendered");
    if std::env::var_os("CENSUS_WRITE").is_some() {
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("agent.log"), &log).expect("write");
        std::fs::write(dir.join("console.txt"), &console).expect("write");
    }
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    assert!(
        read("agent.log") == log,
        "agent.log differs: CENSUS_WRITE=1 cargo test --test census"
    );
    assert!(
        read("console.txt") == console,
        "console.txt differs: CENSUS_WRITE=1 cargo test --test census"
    );
}

#[test]
fn every_disposition_names_a_census_row() {
    let ids: std::collections::HashSet<&str> = templates().iter().map(|t| t.id).collect();
    for (id, _) in dispositions() {
        assert!(ids.contains(id), "{id} is not in the census");
    }
}

/// The README's "Supported Hermes releases" table, from the census: per release, the
/// request-path templates (logging calls / console prints), how many become events, and the
/// templates only that release range holds.
fn releases_table() -> String {
    let disp = dispositions();
    let mut rows: BTreeMap<&str, [u32; 4]> = BTreeMap::new();
    let mut all: BTreeMap<&str, u32> = BTreeMap::new();
    for t in templates() {
        for rel in t.releases.split(',') {
            *all.entry(rel).or_default() += 1;
            if t.scope != "request" {
                continue;
            }
            let event = disp.get(t.id).is_some_and(|d| !d.starts_with("known"));
            let r = rows.entry(rel).or_default();
            let col = if t.channel == "console" { 2 } else { 0 };
            r[col] += 1;
            if event {
                r[col + 1] += 1;
            }
        }
    }
    let mut out = String::from(
        "| Release | Templates of the census modules | Request-path logging calls (events) | Request-path console prints (events) |\n|---|---|---|---|\n",
    );
    for (rel, [log, log_ev, con, con_ev]) in &rows {
        out.push_str(&format!(
            "| {rel} | {} | {log} ({log_ev}, {:.0}%) | {con} ({con_ev}, {:.0}%) |\n",
            all.get(rel).copied().unwrap_or(0),
            100.0 * f64::from(*log_ev) / f64::from(*log).max(1.0),
            100.0 * f64::from(*con_ev) / f64::from(*con).max(1.0),
        ));
    }
    out
}

#[test]
fn readme_release_table_comes_from_the_census() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).expect("README.md");
    let begin = "<!-- census:begin (CENSUS_WRITE=1 cargo test --test census) -->\n";
    let end = "<!-- census:end -->";
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        panic!("README.md lacks the census markers");
    };
    let table = releases_table();
    if std::env::var_os("CENSUS_WRITE").is_some() {
        let new = format!("{}{begin}{table}{}", &text[..b], &text[e..]);
        std::fs::write(&path, new).expect("write README.md");
        return;
    }
    assert_eq!(
        &text[b + begin.len()..e],
        table,
        "README release table is stale: CENSUS_WRITE=1 cargo test --test census"
    );
}

/// `--strict` fails on a record of a request-path Hermes logger that matches no template, and
/// names its file and line; the same record matching a template passes.
#[test]
fn strict_fails_on_unrecognized_request_path_records() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/census/strict");
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hermes-forensics"))
            .args(["--strict", "--fail-on", "never"])
            .arg(dir.join(file))
            .output()
            .expect("the binary runs")
    };
    let out = run("unrecognized.log");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unrecognized.log:2: unrecognized Hermes request line:"),
        "{err}"
    );
    let out = run("known.log");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

//! `hermes-forensics matrix DIR`: the regression matrix over captures of the real Hermes.
//!
//! DIR holds `hermes-<release>/<scenario>/` captures (as `tools/capture` writes them, with an
//! `expected.json` listing the capture's inputs). Every capture is analyzed as a user would,
//! without `--hermes-version`, and the table shows, per scenario and release, the findings: which
//! release breaks which contract.

use crate::error::Error;
use crate::pipeline;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One analyzed capture.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Rule ids reported, each once, in rule order of appearance.
    pub rules: Vec<String>,
    /// The release range the logs showed (`0.15.2–0.16.0`, `0.17.0 or newer`).
    pub detected: String,
}

/// Scenario → release → cell.
pub type Matrix = BTreeMap<String, BTreeMap<String, Cell>>;

/// Compare release names numerically (`0.9.0` < `0.13.0`).
fn release_key(r: &str) -> Vec<u32> {
    r.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn inputs_of(dir: &Path) -> Result<Vec<String>, Error> {
    let path = dir.join("expected.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(v["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.as_str().map(str::to_string))
        .collect())
}

/// Analyze one capture with all its inputs and no release flag.
fn analyze_capture(dir: &Path) -> Result<Cell, Error> {
    let mut ingest = crate::ingest::Options::default();
    for input in inputs_of(dir)? {
        let path = dir.join(&input);
        if !path.exists() {
            continue;
        }
        if input.contains("auth-list") {
            ingest.auth_list.push(path);
        } else {
            ingest.paths.push(path);
        }
    }
    let mut opts = pipeline::Options {
        ingest,
        ..pipeline::Options::default()
    };
    opts.judge.fail_on = None;
    let outcome = pipeline::analyze(&opts)?;
    let mut seen = BTreeSet::new();
    let rules = outcome
        .report
        .findings
        .iter()
        .filter(|f| seen.insert(f.rule))
        .map(|f| f.rule.to_string())
        .collect();
    let r = &outcome.report.summary.hermes_release;
    let detected = match (&r.min, &r.max) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        (Some(a), None) => format!("{a}+"),
        _ => "?".to_string(),
    };
    Ok(Cell { rules, detected })
}

/// Every capture under `root`, analyzed (captures in parallel, output in a fixed order).
pub fn build(root: &Path) -> Result<Matrix, Error> {
    use rayon::prelude::*;
    let mut dirs: Vec<(String, String, PathBuf)> = Vec::new();
    let list = |p: &Path| -> Result<Vec<PathBuf>, Error> {
        let rd = std::fs::read_dir(p).map_err(|e| Error::Usage(format!("{}: {e}", p.display())))?;
        let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        v.sort();
        Ok(v)
    };
    for version_dir in list(root)? {
        let Some(release) = version_dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("hermes-"))
            .map(str::to_string)
        else {
            continue;
        };
        if !version_dir.is_dir() {
            continue;
        }
        for scenario_dir in list(&version_dir)? {
            if !scenario_dir.join("expected.json").is_file() {
                continue;
            }
            let scenario = scenario_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            dirs.push((scenario, release.clone(), scenario_dir));
        }
    }
    if dirs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no captures (hermes-<release>/<scenario>/expected.json)",
            root.display()
        )));
    }
    let cells: Vec<Result<Cell, Error>> = dirs
        .par_iter()
        .map(|(_, _, d)| analyze_capture(d))
        .collect();
    let mut m = Matrix::new();
    for ((scenario, release, _), cell) in dirs.into_iter().zip(cells) {
        m.entry(scenario).or_default().insert(release, cell?);
    }
    Ok(m)
}

/// The matrix as a Markdown table: one row per scenario, one column per release; a cell lists
/// the rules reported (`—` for none, blank where the scenario was not captured).
pub fn markdown(m: &Matrix) -> String {
    let mut releases: Vec<&String> = m.values().flat_map(|r| r.keys()).collect();
    releases.sort_by_key(|r| release_key(r));
    releases.dedup();
    let mut out = String::from("| scenario |");
    for r in &releases {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    for _ in &releases {
        out.push_str("---|");
    }
    out.push('\n');
    for (scenario, row) in m {
        out.push_str(&format!("| {scenario} |"));
        for r in &releases {
            let text = match row.get(*r) {
                None => String::new(),
                Some(c) if c.rules.is_empty() => "—".to_string(),
                Some(c) => c
                    .rules
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out.push_str("| *release detected from the logs* |");
    for r in &releases {
        let mut seen: Vec<&str> = m
            .values()
            .filter_map(|row| row.get(*r).map(|c| c.detected.as_str()))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        out.push_str(&format!(" {} |", seen.join(", ")));
    }
    out.push('\n');
    out
}

//! The modules form layers: no two sibling modules import each other, directly or through
//! others (`config` ↔ `pipeline`, `correlate` ↔ `release`, `parse/document` ↔ `parse/otlp` were
//! such circles). Read from the `crate::` and `super::` paths of every source file outside its
//! tests; doc comments do not count.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`parse::otlp`) → its source without tests and comments.
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Some(name) = p.file_stem().and_then(|s| s.to_str()).map(str::to_string) else {
            continue;
        };
        let module = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}::{name}")
        };
        if p.is_dir() {
            modules(&p, &module, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let module = match name.as_str() {
                "mod" | "lib" | "main" => prefix.to_string(),
                _ => module,
            };
            out.entry(module).or_default().push_str(&code);
        }
    }
}

/// Every module a module's code names, as the longest known module prefix of each path.
fn imports(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let path = Regex::new(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)").expect("regex");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, code) in mods {
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        for c in path.captures_iter(code) {
            let base = if &c[1] == "crate" { "" } else { parent };
            let mut parts: Vec<&str> = base.split("::").filter(|s| !s.is_empty()).collect();
            parts.extend(c[2].split("::").filter(|s| !s.is_empty()));
            let target = (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("::"))
                .find(|t| mods.contains_key(t));
            if let Some(t) = target {
                if &t != m {
                    out.entry(m.clone()).or_default().insert(t);
                }
            }
        }
    }
    out
}

/// The child of `parent` that holds module `m` (`m` itself for a direct child).
fn child_of(parent: &str, m: &str) -> Option<String> {
    let rest = if parent.is_empty() {
        m
    } else {
        m.strip_prefix(parent)?.strip_prefix("::")?
    };
    let first = rest.split("::").next().filter(|s| !s.is_empty())?;
    Some(if parent.is_empty() {
        first.to_string()
    } else {
        format!("{parent}::{first}")
    })
}

/// Whether `to` is reachable from `from` in `graph`.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n.clone()) {
            stack.extend(graph.get(&n).into_iter().flatten().cloned());
        }
    }
    false
}

#[test]
fn sibling_modules_import_each_other_in_one_direction_only() {
    let mut mods = BTreeMap::new();
    modules(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        "",
        &mut mods,
    );
    assert!(mods.contains_key("parse::otlp") && mods.contains_key("correlate"));
    let edges = imports(&mods);
    let parents: BTreeSet<String> = mods
        .keys()
        .map(|m| {
            m.rsplit_once("::")
                .map_or(String::new(), |(p, _)| p.to_string())
        })
        .collect();
    let mut circles = Vec::new();
    for parent in &parents {
        // The graph of `parent`'s children: an edge where any module inside one names any
        // module inside another.
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (m, targets) in &edges {
            let Some(a) = child_of(parent, m) else {
                continue;
            };
            for t in targets {
                if let Some(b) = child_of(parent, t).filter(|b| *b != a) {
                    graph.entry(a.clone()).or_default().insert(b);
                }
            }
        }
        for (a, targets) in &graph {
            for b in targets {
                if a < b && reaches(&graph, b, a) {
                    circles.push(format!("{a} ↔ {b}"));
                }
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

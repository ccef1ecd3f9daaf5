//! Issue bodies as input: a bug report's Markdown (`gh issue view N --json body -q .body`, a saved
//! `report.md`) or `gh issue view N --json body,comments` JSON is split into its pastes — fenced
//! code blocks, `<details>` blocks without a fence inside, runs of quoted (`> `) log lines — and
//! each paste becomes a source of its own, named after the block it came from
//! (`report.md#block3`, `issue.json#comment2.block1`). Prose is ignored.
//!
//! Lines keep their number in the Markdown text (the document, or one body of the JSON), so
//! evidence reads `report.md#block3:12` for line 12 of `report.md`.

use super::{Content, InputSpec, ReadError, SourceHint};
use std::io::Read;
use std::sync::Arc;

/// A paste taken out of a Markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paste {
    /// `#block3` (document) or `#comment2.block1` (JSON): appended to the input's name.
    pub suffix: String,
    /// Line number in the Markdown text of the paste's first line, minus one.
    pub line_offset: u32,
    /// The paste's lines, quote markers removed, joined with `\n`.
    pub text: String,
}

/// Fenced block info strings (the word after the fence) of blocks that hold configuration or
/// program code, never log output: skipped.
const NOT_LOGS: &[&str] = &[
    "yaml",
    "yml",
    "toml",
    "ini",
    "diff",
    "patch",
    "rust",
    "rs",
    "js",
    "javascript",
    "ts",
    "typescript",
    "go",
    "c",
    "cpp",
    "java",
    "html",
    "xml",
    "css",
    "dockerfile",
];

/// How many bytes are read from an input to tell whether it is an issue body.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Markdown with at least one paste.
    Markdown,
    /// `gh issue view --json body[,comments]` output.
    GhJson,
}

/// Whether the first bytes of an input look like an issue body. `is_log` tells a quoted line
/// worth reading (a log line, an auth-list row) from quoted prose.
pub fn sniff(head: &str, is_log: &dyn Fn(&str) -> bool) -> Option<DocKind> {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        let key = t.contains("\"body\":") || t.contains("\"body\" :");
        let journal = t.contains("\"__CURSOR\"") || t.contains("\"MESSAGE\"");
        return (key && !journal).then_some(DocKind::GhJson);
    }
    let blocks = head
        .lines()
        .any(|l| fence_open(l.trim_end_matches('\r')).is_some() || is_tag(l, "<details"));
    (blocks || !split_markdown(head, is_log).is_empty()).then_some(DocKind::Markdown)
}

/// The pastes of a `gh issue view --json body[,comments]` object: the body's blocks
/// (`#body.blockN`), then each comment's (`#commentK.blockN`). `None` when the text is not
/// such an object.
pub fn split_gh_json(text: &str, is_log: &dyn Fn(&str) -> bool) -> Option<Vec<Paste>> {
    let v: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    let obj = v.as_object()?;
    let mut bodies: Vec<(String, &str)> = Vec::new();
    if let Some(b) = obj.get("body").and_then(|b| b.as_str()) {
        bodies.push(("body".into(), b));
    }
    if let Some(cs) = obj.get("comments").and_then(|c| c.as_array()) {
        for (k, c) in cs.iter().enumerate() {
            if let Some(b) = c.get("body").and_then(|b| b.as_str()) {
                bodies.push((format!("comment{}", k + 1), b));
            }
        }
    }
    if bodies.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (part, body) in bodies {
        for mut p in split_markdown(body, is_log) {
            p.suffix = format!("#{part}.{}", p.suffix.trim_start_matches('#'));
            out.push(p);
        }
    }
    Some(out)
}

/// A fence opening: (fence character, run length, info word).
fn fence_open(line: &str) -> Option<(char, usize, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = t.chars().take_while(|x| *x == c).count();
    if run < 3 {
        return None;
    }
    let info = t[run..].trim();
    if c == '`' && info.contains('`') {
        return None;
    }
    let word = info
        .split(|ch: char| ch.is_whitespace() || ch == '{' || ch == ',')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    Some((c, run, word))
}

/// Whether `line` closes a fence opened with `run` times `c`.
fn fence_close(line: &str, c: char, run: usize) -> bool {
    let t = line.trim();
    let indent = line.len() - line.trim_start_matches(' ').len();
    indent <= 3 && t.chars().take_while(|x| *x == c).count() >= run && t.chars().all(|x| x == c)
}

/// The text of a quoted line (`> x`, `>x`, `>`), or None.
fn unquote(line: &str) -> Option<&str> {
    let t = line.trim_start_matches(' ');
    let rest = t.strip_prefix('>')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// Number the next block; keep it as a paste when `keep` and it holds text.
fn push(out: &mut Vec<Paste>, n: &mut u32, start: usize, body: Vec<&str>, keep: bool) {
    *n += 1;
    if keep && body.iter().any(|l| !l.trim().is_empty()) {
        out.push(Paste {
            suffix: format!("#block{n}"),
            line_offset: u32::try_from(start).unwrap_or(u32::MAX),
            text: body.join("\n"),
        });
    }
}

fn is_tag(line: &str, tag: &str) -> bool {
    line.trim_start().to_ascii_lowercase().starts_with(tag)
}

/// The pastes of a Markdown text, in document order. Fenced blocks are numbered in document
/// order (those skipped as configuration or code included, so `block3` is the third block a
/// reader sees); `<details>` blocks without a fence and quoted runs holding log lines take the
/// next number.
pub fn split_markdown(text: &str, is_log: &dyn Fn(&str) -> bool) -> Vec<Paste> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut out = Vec::new();
    let mut n = 0u32;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some((c, run, word)) = fence_open(line) {
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && !fence_close(lines[end], c, run) {
                end += 1;
            }
            let keep = !NOT_LOGS.contains(&word.as_str());
            push(&mut out, &mut n, start, lines[start..end].to_vec(), keep);
            i = end + 1;
            continue;
        }
        if is_tag(line, "<details") {
            // Up to the matching `</details>`; a fence inside is read as its own block by the
            // main loop, so only a details block without one is a paste here.
            let mut end = i + 1;
            let mut depth = 1;
            let mut fenced = false;
            while end < lines.len() {
                if is_tag(lines[end], "<details") {
                    depth += 1;
                } else if lines[end].to_ascii_lowercase().contains("</details>") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                fenced |= fence_open(lines[end]).is_some();
                end += 1;
            }
            if fenced {
                i += 1;
                continue;
            }
            // The content: lines after the `<summary>` line(s), up to `</details>`.
            let mut start = i + 1;
            while start < end
                && (is_tag(lines[start], "<summary")
                    || lines[start].trim().is_empty()
                    || lines[start].trim_start().starts_with("</summary>"))
            {
                start += 1;
            }
            push(&mut out, &mut n, start, lines[start..end].to_vec(), true);
            i = end + 1;
            continue;
        }
        if unquote(line).is_some() {
            let start = i;
            let mut end = i;
            while end < lines.len() && unquote(lines[end]).is_some() {
                end += 1;
            }
            let body: Vec<&str> = lines[start..end]
                .iter()
                .filter_map(|l| unquote(l))
                .collect();
            // A quote holding a fence: its blocks are pastes of their own.
            if body.iter().any(|l| fence_open(l).is_some()) {
                for mut p in split_markdown(&body.join("\n"), is_log) {
                    n += 1;
                    p.suffix = format!("#block{n}");
                    p.line_offset += u32::try_from(start).unwrap_or(u32::MAX);
                    out.push(p);
                }
            } else if let (Some(a), Some(b)) = (
                body.iter().position(|l| is_log(l)),
                body.iter().rposition(|l| is_log(l)),
            ) {
                // Prose quoted around the log lines stays out.
                push(&mut out, &mut n, start + a, body[a..=b].to_vec(), true);
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Replace every input that is an issue body by one input per paste (named
/// `<input>#blockN`); other inputs stay as they are. Standard input is read up to
/// [`SNIFF_BYTES`] to tell; when it is not an issue body, those bytes are read again before the
/// rest of it. `is_log` tells quoted log lines from quoted prose.
pub fn expand(
    specs: Vec<InputSpec>,
    is_log: &dyn Fn(&str) -> bool,
) -> Result<Vec<InputSpec>, ReadError> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        if spec.hint != SourceHint::Unknown || spec.content.is_some() {
            out.push(spec);
            continue;
        }
        let stdin = spec.path.is_none();
        let mut reader: Box<dyn Read + Send> = if stdin {
            Box::new(super::Stdin)
        } else {
            Box::new(super::open(&spec)?)
        };
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        (&mut reader)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|e| ReadError::reading(&spec.name, e))?;
        let kind = sniff(&String::from_utf8_lossy(&head), is_log);
        let Some(kind) = kind else {
            if stdin {
                out.push(InputSpec {
                    content: Some(Arc::new(Content {
                        bytes: head,
                        line_offset: 0,
                        then_stdin: true,
                    })),
                    ..spec
                });
            } else {
                out.push(spec);
            }
            continue;
        };
        let mut rest = head;
        (&mut reader)
            .take(super::AUTH_FILE_LIMIT)
            .read_to_end(&mut rest)
            .map_err(|e| ReadError::reading(&spec.name, e))?;
        let text = String::from_utf8_lossy(&rest);
        let pastes = match kind {
            DocKind::Markdown => Some(split_markdown(&text, is_log)),
            DocKind::GhJson => split_gh_json(&text, is_log),
        };
        match pastes {
            Some(pastes) if !pastes.is_empty() => {
                for p in pastes {
                    out.push(InputSpec {
                        name: format!("{}{}", spec.name, p.suffix),
                        path: spec.path.clone(),
                        hint: SourceHint::Unknown,
                        content: Some(Arc::new(Content {
                            bytes: p.text.into_bytes(),
                            line_offset: p.line_offset,
                            then_stdin: false,
                        })),
                    });
                }
            }
            // Markdown whose blocks hold no log (configuration, code): nothing to read.
            Some(_) => out.push(InputSpec {
                content: Some(Arc::new(Content {
                    bytes: Vec::new(),
                    line_offset: 0,
                    then_stdin: false,
                })),
                ..spec
            }),
            // Not an issue body after all: read as it is.
            None if stdin => out.push(InputSpec {
                content: Some(Arc::new(Content {
                    bytes: text.into_owned().into_bytes(),
                    line_offset: 0,
                    then_stdin: false,
                })),
                ..spec
            }),
            None => out.push(spec),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(l: &str) -> bool {
        l.contains("API call")
    }

    #[test]
    fn blocks_details_quotes() {
        let md = "### What happened\r\n\r\nIt broke:\r\n\r\n```text\r\nAPI call failed a\r\nb\r\n```\r\n\r\n```yaml\r\nfallback: x\r\n```\r\n<details><summary>logs</summary>\r\n\r\nAPI call failed c\r\n</details>\r\n\r\n> I think fallback is broken\r\n\r\n> API call failed d\r\n> e\r\n";
        let p = split_markdown(md, &log);
        let got: Vec<(&str, u32, &str)> = p
            .iter()
            .map(|p| (p.suffix.as_str(), p.line_offset, p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("#block1", 5, "API call failed a\nb"),
                ("#block3", 14, "API call failed c"),
                ("#block4", 19, "API call failed d"),
            ]
        );
        assert_eq!(sniff(md, &log), Some(DocKind::Markdown));
        assert_eq!(sniff("2026-05-08 12:00:00 INFO x: y\n", &log), None);
    }

    #[test]
    fn details_with_fence_and_unclosed_fence() {
        let md = "<details>\n<summary>agent.log</summary>\n\n```\nAPI call x\n```\n</details>\n\n~~~~\nAPI call y";
        let p = split_markdown(md, &log);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].line_offset, p[0].text.as_str()), (4, "API call x"));
        assert_eq!(
            (p[1].suffix.as_str(), p[1].text.as_str()),
            ("#block2", "API call y")
        );
    }

    #[test]
    fn gh_json() {
        let j = r#"{"body":"x\n```\nAPI call a\n```","comments":[{"author":{"login":"u"},"body":"> API call b"}]}"#;
        assert_eq!(sniff(j, &log), Some(DocKind::GhJson));
        let p = split_gh_json(j, &log).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.suffix.as_str()).collect();
        assert_eq!(names, ["#body.block1", "#comment1.block1"]);
        assert_eq!(p[0].line_offset, 2);
        assert_eq!(sniff(r#"{"MESSAGE":"x","body":1}"#, &log), None);
    }
}

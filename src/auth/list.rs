//! `hermes auth list` captures (catalog §5.1), old and new row formats.
//!
//! ```text
//! custom:fakeprimary (3 credentials):
//!   #1  prim-acct-1          api_key manual rate-limited usage_limit_reached (429) (3h 59m left)
//!   #2  prim-acct-2          api_key id=0ddbb5 priority=1 manual ←
//! ```
//! A cut row without index and label (`device_code rate-limited (429) (Xh Ym left)`) is parsed
//! too when it carries a status word followed only by a code and/or countdown group. Blank lines
//! are skipped without being counted.

use super::AuthListRow;

/// Status words (`auth failed` is two tokens).
const STATUSES: [&str; 3] = ["rate-limited", "auth failed", "exhausted"];
const AUTH_TYPES: [&str; 2] = ["api_key", "oauth"];
const MARKER: char = '←';

/// Parse a capture. Lines that are not rows or provider headers are ignored (returned count).
pub fn parse_auth_list(text: &str) -> (Vec<AuthListRow>, u64) {
    let mut rows = Vec::new();
    let mut ignored = 0;
    let mut provider: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if let Some(p) = provider_header(line) {
            provider = Some(p.to_string());
        } else if let Some(mut row) = parse_row(line) {
            row.provider.clone_from(&provider);
            row.line = line_no;
            rows.push(row);
        } else {
            ignored += 1;
        }
    }
    (rows, ignored)
}

/// Quick sniff on the first lines: a provider header, an indexed row with an auth type, or a
/// cut row that ends in a countdown (`device_code rate-limited (429) (Xh Ym left)`).
pub fn looks_like_auth_list(first_lines: &[&str]) -> bool {
    first_lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .any(|l| provider_header(l).is_some() || is_indexed_row(l) || is_fragment_row(l))
}

fn is_fragment_row(line: &str) -> bool {
    let body = line.trim().trim_end_matches(MARKER).trim_end();
    find_status(body).is_some()
        && [" left)", "(ready to retry)", "(re-auth may be required)"]
            .iter()
            .any(|end| body.ends_with(end))
}

fn is_indexed_row(line: &str) -> bool {
    let mut t = line.split_whitespace();
    t.next().is_some_and(|i| index_of(i).is_some())
        && t.next().is_some()
        && line.split_whitespace().any(|w| AUTH_TYPES.contains(&w))
}

/// `custom:fakeprimary (3 credentials):` → `custom:fakeprimary`.
fn provider_header(line: &str) -> Option<&str> {
    let rest = line.trim().strip_suffix("):")?;
    let (name, count) = rest.split_once(" (")?;
    let n = count
        .strip_suffix(" credentials")
        .or_else(|| count.strip_suffix(" credential"))?;
    let digits = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    (digits && !name.is_empty() && !name.contains(' ')).then_some(name)
}

/// `#12` → 12.
fn index_of(token: &str) -> Option<u32> {
    token.strip_prefix('#')?.parse().ok()
}

/// Find the first status word at a token boundary; returns (byte offset, status).
fn find_status(s: &str) -> Option<(usize, &'static str)> {
    let mut best: Option<(usize, &'static str)> = None;
    for status in STATUSES {
        let mut from = 0;
        while let Some(p) = s.get(from..).and_then(|r| r.find(status)).map(|p| p + from) {
            let before_ok = s[..p].ends_with(' ') || p == 0;
            let after = &s[p + status.len()..];
            if before_ok && (after.is_empty() || after.starts_with(' ')) {
                if best.is_none_or(|(b, _)| p < b) {
                    best = Some((p, status));
                }
                break;
            }
            from = p + status.len();
        }
    }
    best
}

fn parse_row(line: &str) -> Option<AuthListRow> {
    let body = line.trim();
    let (body, current) = match body.strip_suffix(MARKER) {
        Some(b) => (b.trim_end(), true),
        None => (body, false),
    };
    let mut row = AuthListRow {
        current,
        raw: line.trim_end().to_string(),
        ..AuthListRow::default()
    };
    let mut tokens: Vec<&str> = body.split_whitespace().collect();
    row.index = tokens.first().and_then(|t| index_of(t));
    let tail = if row.index.is_some() {
        tokens.remove(0);
        // #N label... auth_type [id=] [priority=] source [status...]
        let at = tokens
            .iter()
            .skip(1)
            .position(|t| AUTH_TYPES.contains(t))
            .map_or(1, |p| p + 1);
        row.label =
            Some(tokens.get(..at).unwrap_or(&tokens[..]).join(" ")).filter(|l| !l.is_empty());
        let mut rest = tokens.get(at..).unwrap_or_default().iter();
        row.auth_type = rest.next().map(|s| s.to_string());
        let mut rest = rest.as_slice();
        while let Some((t, more)) = rest.split_first() {
            if let Some(id) = t.strip_prefix("id=") {
                row.id = Some(id.to_string());
            } else if let Some(p) = t.strip_prefix("priority=") {
                row.priority = p.parse().ok();
            } else {
                break;
            }
            rest = more;
        }
        row.source = rest.first().map(|s| s.to_string());
        rest.get(1..).unwrap_or_default().join(" ")
    } else {
        // Fragment: `[...] source status ...`; it must carry a status word.
        let (p, _) = find_status(body)?;
        let head: Vec<&str> = body
            .get(..p)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        row.source = head.last().map(|s| s.to_string());
        if let Some(at) = head.iter().position(|t| AUTH_TYPES.contains(t)) {
            row.auth_type = head.get(at).map(|s| s.to_string());
            row.label =
                Some(head.get(..at).unwrap_or_default().join(" ")).filter(|l| !l.is_empty());
        }
        let tail = body.get(p..).unwrap_or_default();
        // Only a row-shaped tail: every parenthesised group is a code or a countdown.
        let (known, unknown) = parse_status(tail, &mut row);
        return (known > 0 && unknown == 0 && tail.ends_with(')')).then_some(row);
    };
    parse_status(&tail, &mut row);
    Some(row)
}

/// `rate-limited usage_limit_reached (429) (3h 59m left)` into the row's status fields.
/// Returns the numbers of recognised and unrecognised parenthesised groups.
fn parse_status(tail: &str, row: &mut AuthListRow) -> (usize, usize) {
    let Some(status) = STATUSES.iter().find(|s| tail.starts_with(**s)) else {
        return (0, 0);
    };
    row.status = Some(status.to_string());
    let rest = tail.get(status.len()..).unwrap_or_default();
    let (reason, groups) = rest.split_once('(').map_or((rest, ""), |(r, g)| (r, g));
    row.reason = Some(reason.trim().to_string()).filter(|r| !r.is_empty());
    let (mut known, mut unknown) = (0, 0);
    for group in groups.split('(').filter(|g| !g.trim().is_empty()) {
        let g = group.trim().trim_end_matches(')').trim();
        if let Ok(code) = g.parse::<u16>() {
            row.code = Some(code);
        } else if let Some(left) = g.strip_suffix(" left") {
            row.left_s = parse_countdown(left);
        } else if g == "ready to retry" {
            row.ready_to_retry = true;
        } else if g == "re-auth may be required" {
            row.reauth_required = true;
        } else {
            unknown += 1;
            continue;
        }
        known += 1;
    }
    (known, unknown)
}

/// `1d 2h` / `3h 59m` / `59m 54s` → seconds; None for placeholders like `Xh Ym`.
fn parse_countdown(s: &str) -> Option<u64> {
    s.split_whitespace().try_fold(0u64, |acc, part| {
        let unit = part.chars().last()?;
        let n: u64 = part.get(..part.len() - unit.len_utf8())?.parse().ok()?;
        let mult = match unit {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        acc.checked_add(n.checked_mul(mult)?)
    })
}

//! Stable finding fingerprints, shared by SARIF `partialFingerprints` and baselines.
//!
//! A fingerprint identifies the *shape* of an incident, not where or when it happened in one
//! particular log: it hashes the rule id, provider, profile, the message and the evidence texts
//! with every word that contains a digit (times, dates, pids, counters, request ids) replaced by
//! `#`. Evidence is sorted and de-duplicated first, so reordering lines changes nothing; line
//! numbers, source names and the request id are left out, so inserted lines, a renamed or copied
//! log file and shifted timestamps keep the fingerprint. Severity is left out too, so a severity
//! override in the configuration does not turn old findings into new ones.
//!
//! Findings of identical shape are told apart by an occurrence number in report order
//! (`3f2a…:1`, `3f2a…:2`), so a second incident of a known shape still counts as new.
//!
//! The hash is 64-bit FNV-1a, written out here because `std`'s `DefaultHasher` may change
//! between Rust releases and fingerprints are stored in baselines and code-scanning history.

use crate::model::Finding;
use crate::redact::scrub;
use std::collections::BTreeMap;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`, continuing from `state`.
fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        state ^= u64::from(*b);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// 64-bit FNV-1a of `bytes` as 16 lowercase hex digits.
pub fn hash_hex(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a(FNV_OFFSET, bytes))
}

/// `text` with every run of letters and digits that contains a digit replaced by `#`, so times,
/// dates, durations, pids, counters and generated ids compare equal across incidents.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The shape hash of one finding (16 hex digits), without occurrence number. Every text is
/// scrubbed first, with or without `--no-redact`: a fingerprint is printed (SARIF) and stored
/// (baselines), so it never hashes a secret, and redaction does not change it.
pub fn shape_hash(f: &Finding) -> String {
    let clean = |s: &str| scrub(s).into_owned();
    let mut evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|e| normalize(&scrub(&e.text)))
        .collect();
    evidence.sort();
    evidence.dedup();
    let fields = [
        f.rule.to_string(),
        clean(f.provider.as_deref().unwrap_or_default()),
        clean(f.profile.as_deref().unwrap_or_default()),
        normalize(&scrub(&f.message)),
    ];
    let mut state = FNV_OFFSET;
    for part in fields.iter().chain(&evidence) {
        state = fnv1a(state, part.as_bytes());
        // Unit separator: keeps ("ab", "c") and ("a", "bc") apart.
        state = fnv1a(state, &[0x1f]);
    }
    format!("{state:016x}")
}

/// The fingerprint of every finding, in order: shape hash plus occurrence number among findings
/// of the same shape (`<hash>:<n>`, counting from 1).
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    findings
        .iter()
        .map(|f| {
            let hash = shape_hash(f);
            let n = seen.entry(hash.clone()).or_insert(0);
            *n += 1;
            format!("{hash}:{n}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Severity};

    fn finding(message: &str, evidence: &[(&str, u32, &str)]) -> Finding {
        Finding {
            rule: "missed-rotation",
            severity: Severity::High,
            message: message.into(),
            time: None,
            time_text: None,
            request: Some("r1".into()),
            host: None,
            provider: Some("openai-codex".into()),
            profile: Some("work".into()),
            evidence: evidence
                .iter()
                .map(|(s, l, t)| Evidence {
                    source: (*s).into(),
                    line: *l,
                    text: (*t).into(),
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(hash_hex(b""), "cbf29ce484222325");
        assert_eq!(hash_hex(b"a"), "af63dc4c8601ec8c");
        assert_eq!(hash_hex(b"foobar"), "85944171f73967e8");
    }

    #[test]
    fn normalization_hides_numbers_and_ids() {
        assert_eq!(
            normalize("2026-05-08 18:41:08,123 [20260815_232112_71febe] attempt 2/4"),
            "#-#-# #:#:#,# [#_#_#] attempt #/#"
        );
        assert_eq!(normalize("oauth-2 ⚠️ usage"), "oauth-# ⚠️ usage");
    }

    #[test]
    fn shape_ignores_times_order_lines_and_sources() {
        let a = finding(
            "retried work at 18:41:08",
            &[
                ("a.log", 10, "18:41:08 python[2844586]: attempt 1/4 failed"),
                ("a.log", 12, "18:41:09 python[2844586]: attempt 2/4 failed"),
            ],
        );
        let b = finding(
            "retried work at 09:02:51",
            &[
                ("copy.log", 40, "09:02:52 python[17]: attempt 2/4 failed"),
                ("copy.log", 37, "09:02:51 python[17]: attempt 1/4 failed"),
            ],
        );
        assert_eq!(shape_hash(&a), shape_hash(&b));
        let mut c = b.clone();
        c.profile = Some("personal".into());
        assert_ne!(shape_hash(&a), shape_hash(&c));
        let mut d = b.clone();
        d.severity = Severity::Low;
        assert_eq!(shape_hash(&a), shape_hash(&d));
    }

    #[test]
    fn repeated_shapes_get_occurrence_numbers() {
        let a = finding("x", &[]);
        let fps = fingerprints(&[a.clone(), finding("y", &[]), a]);
        let h = shape_hash(&finding("x", &[]));
        assert_eq!(fps[0], format!("{h}:1"));
        assert_eq!(fps[2], format!("{h}:2"));
        assert!(fps[1].ends_with(":1"));
    }
}

//! missed-rotation: a profile-level failure on X, then the next attempt goes to X again while
//! another profile was available.

use super::{
    attempt_name, available_phrase, class_text, join_names, profile_note, FindingBuilder, Rule,
};
use crate::correlate::Analysis;
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "missed-rotation",
        severity: Severity::High,
        summary: "After a profile-level failure the request retried the same credential although another one was available.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
After a profile-level failure (usage limit / quota 429, 402 billing, 401/403 auth) on profile X
of provider P, the next attempt of the same request goes to X again while another profile of P
was available (known, not cooled, not dead) at that moment. Knowledge that another profile
exists comes from auth.json, a `hermes auth list` capture, or earlier log lines naming it.

## Why it matters
A quota wall does not lift in seconds: every retry on X is wasted and the request may give up or
leave for the fallback chain while a healthy credential of the preferred provider sits unused.

## Example
```
18:41:08 python[2844586]: ⚠️ API call failed (attempt 1/4): RateLimitError [HTTP 429]
   📋 Details: {'type':'usage_limit_reached','plan_type':'team','resets_at':1778295076}
18:41:08 python[2844586]: ⚠️ API call failed (attempt 2/4): RateLimitError [HTTP 429]
   📋 Details: {'type':'usage_limit_reached','plan_type':'team','resets_at':1778295076}
```
with auth.json listing a third, healthy openai-codex profile.

## Not triggered by
A single-profile pool; all other profiles cooled or dead at that time (see `pool-exhausted`); a
transient failure (5xx, timeout, a first plain 429), where retrying the same profile is correct.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        for w in 0..req.attempts.len().saturating_sub(1) {
            let (prev, next) = (&req.attempts[w], &req.attempts[w + 1]);
            if prev.succeeded || !prev.class.is_profile_level() {
                continue;
            }
            if prev.profile.is_none() || prev.profile != next.profile {
                continue;
            }
            if next.others_available.is_empty() {
                continue;
            }
            hits.push((w, w + 1));
        }
        let Some(&(first_prev, _)) = hits.first() else {
            continue;
        };
        let prev = &req.attempts[first_prev];
        let profile = prev.profile.clone().unwrap_or_default();
        let repeated: Vec<String> = hits
            .iter()
            .map(|&(_, n)| attempt_name(&req.attempts[n]))
            .collect();
        let last = &req.attempts[hits[hits.len() - 1].1];
        let mut f = FindingBuilder::new(
            a,
            &RULE.info,
            format!(
                "{} went to {profile} again after its {} failure at {}, while {} available",
                join_names(&repeated),
                class_text(prev.class),
                attempt_name(prev),
                available_phrase(&last.others_available, last.availability_inferred)
            ),
        )
        .request(req)
        .provider(prev.provider.as_deref())
        .profile(Some(&profile))
        .at(req.attempts[hits[0].1].events[0])
        .events(prev.events.iter().copied());
        for &(_, n) in &hits {
            f = f.events(req.attempts[n].events.iter().copied());
        }
        if let Some(n) = profile_note(prev) {
            f = f.note(n);
        }
        if last.availability_inferred {
            f = f.note(format!(
                "availability inferred: the pool lists {} profile(s) not cooled; accounts seen only by fingerprint are counted as some of them",
                last.others_available.len()
            ));
        }
        out.push(f.build());
    }
}

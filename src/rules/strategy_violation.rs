//! strategy-violation: a selection contradicts the configured pool strategy (fill_first).

use super::{attempt_name, FindingBuilder, Rule};
use crate::correlate::{Analysis, Attempt, ProfileBasis, Request};
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "strategy-violation",
        severity: Severity::Medium,
        summary: "A credential was picked against the configured pool strategy (fill_first: lowest available priority).",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
A selection contradicts the configured pool strategy. With `fill_first` (the default) a request
must use the available entry with the lowest `priority`: after profile 0 cooled, a new request
should pick profile 1; picking cooled profile 0 again, or skipping to priority 2 while 1 is
available, is a violation. Checked at the first attempt of each request and after each logged
rotation.

## Why it matters
fill_first is how operators express \"use my main account first\"; a violation spends a backup
account's quota early or hits a benched one.

## Example
auth.json: prim-acct-1 (priority 0, exhausted until 19:00), prim-acct-2 (priority 1, ok),
prim-acct-3 (priority 2, ok); a new request at 16:00 starts on prim-acct-3.

## Lifecycle evidence used
The order of profiles the request's calls used (rotation lines, fingerprints) against the
configured strategy.

## Not triggered by
Strategies other than fill_first (round_robin rewrites priorities; random and least_used do not
order by priority); pools without priorities; profiles known only by fingerprint.
Set the strategy per provider with `--strategy PROVIDER=STRATEGY`.
";

fn priority_of(a: &Analysis, provider: &str, label: &str) -> Option<i64> {
    a.pools
        .pool(provider)?
        .members
        .iter()
        .find(|m| m.label == label)?
        .priority
}

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        for (i, at) in req.attempts.iter().enumerate() {
            let selection = i == 0 || after_rotation(a, req, &req.attempts[i - 1], at);
            if !selection {
                continue;
            }
            let (Some(profile), Some(basis), Some(provider)) =
                (&at.profile, at.basis, &at.provider)
            else {
                continue;
            };
            if basis == ProfileBasis::Fingerprint || a.strategy(provider) != "fill_first" {
                continue;
            }
            let Some(own) = priority_of(a, provider, profile) else {
                continue;
            };
            let better: Vec<(i64, &String)> = at
                .others_available
                .iter()
                .filter_map(|o| priority_of(a, provider, o).map(|p| (p, o)))
                .filter(|(p, _)| *p < own)
                .collect();
            let expected = better.iter().min_by_key(|(p, _)| *p);
            let msg = match (expected, &at.cooled) {
                (Some((p, name)), _) => format!(
                    "fill_first should have picked {name} (priority {p}) but {} used {profile} (priority {own})",
                    attempt_name(at)
                ),
                (None, Some(c)) => format!(
                    "fill_first picked {profile} (priority {own}) although it was cooled ({})",
                    c.reason
                ),
                _ => continue,
            };
            out.push(
                FindingBuilder::new(a, &RULE.info, msg)
                    .request(req)
                    .provider(Some(provider))
                    .profile(Some(profile))
                    .at(at.events[0])
                    .events(at.events.iter().copied())
                    .note(format!(
                        "profile known from a {}; strategy {}",
                        basis.describe(),
                        a.strategy(provider)
                    ))
                    .build(),
            );
        }
    }
}

fn after_rotation(a: &Analysis, req: &Request, prev: &Attempt, at: &Attempt) -> bool {
    let (Some(&p), Some(&n)) = (prev.events.last(), at.events.first()) else {
        return false;
    };
    req.between(p, n)
        .iter()
        .any(|&e| a.events[e].kind.is_rotation())
}

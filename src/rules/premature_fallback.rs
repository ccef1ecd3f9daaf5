//! premature-fallback: left the provider for the fallback chain with an untried profile left.

use super::{available_phrase, FindingBuilder, Rule};
use crate::correlate::Analysis;
use crate::model::{Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "premature-fallback",
        severity: Severity::High,
        summary: "The request fell back to another provider while a credential of its own provider was untried.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
The request left provider P for the fallback chain (`Fallback activated`, `trying fallback`,
`switching to fallback`, a gateway `Primary provider ... — trying fallback`) while another
profile of P was available (not cooled, not dead) and untried in this request.

## Why it matters
The operator pays the cross-provider latency and context-loss tax although a healthy profile of
the preferred provider existed.

## Example
Three openai-codex profiles in auth.json; two accounts answer `usage_limit_reached`, then
`⚠️ Max retries (4) exhausted — trying fallback...` with the third profile never tried.

## Lifecycle evidence used
The profiles the request's calls used before the fallback and the pool's available members at
that time (log marks, snapshots valid then); calls on another provider after a fallback belong to
that provider, never to the primary's pool.

## Not triggered by
Every profile of P tried or cooled; no knowledge of other profiles; a fallback after transport
failures that affect the provider as a whole (connection refused, DNS, TLS, timeouts), which is
reported at most as `info`.
";

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    for req in &a.requests {
        for exit in &req.fallbacks {
            if exit.untried_available.is_empty() {
                continue;
            }
            let provider = exit.provider.as_deref().unwrap_or("the primary provider");
            let mut f = FindingBuilder::new(
                a,
                &RULE.info,
                format!(
                    "left {provider} for the fallback chain while {} untried and not cooled",
                    available_phrase(&exit.untried_available, exit.availability_inferred)
                ),
            )
            .request(req)
            .provider(exit.provider.as_deref())
            .membership(exit.provider.as_deref(), &exit.untried_available)
            .at(exit.event);
            if exit.transport_only {
                f = f
                    .severity(Severity::Info)
                    .note("every failure before the fallback was a transport error, which affects the provider as a whole");
            }
            if exit.availability_inferred {
                f = f.note(format!(
                    "inferred: {} profile(s) of {provider} are known and not cooled; the accounts seen in this request are known only by fingerprint, so the untried one cannot be named exactly",
                    exit.untried_available.len()
                ));
            }
            for at in &req.attempts {
                if let Some(&e) = at.events.last() {
                    if e < exit.event {
                        f = f.event(e);
                    }
                }
            }
            out.push(f.event(exit.event).build());
        }
    }
}

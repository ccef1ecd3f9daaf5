//! fallback-flapping: fallback → restore → fallback cycles with nothing served.

use super::{FindingBuilder, Rule};
use crate::correlate::Analysis;
use crate::model::{EventKind, Finding, RuleInfo, Severity};

pub const RULE: Rule = Rule {
    info: RuleInfo {
        id: "fallback-flapping",
        severity: Severity::Medium,
        summary: "Fallback and restore alternated repeatedly without any request being served.",
        doc: DOC,
    },
    check,
};

const DOC: &str = "\
## What it detects
Two or more fallback → restore → fallback cycles within a short window (30 minutes) with no
request served in between: the warnings alternate and no answer is produced.

## Why it matters
Each cycle pays the primary's failure and the fallback's switch cost again; the restore logic
is fighting a condition that has not changed (usually a quota window).

## Example
```
Fallback activated: gpt-5.5 → glm-5.1 (zai)
Primary runtime restored for new turn: gpt-5.5 (openai-codex)
Fallback activated: gpt-5.5 → glm-5.1 (zai)
Primary runtime restored for new turn: gpt-5.5 (openai-codex)
Fallback activated: gpt-5.5 → glm-5.1 (zai)
```

## Lifecycle evidence used
None per call: fallback and restore lines of one pair.

## Not triggered by
A single fallback, or one fallback and one restore; cycles separated by a successful call;
cycles spread over more than 30 minutes.
";

const WINDOW_SECS: i64 = 1800;

fn check(a: &Analysis, out: &mut Vec<Finding>) {
    // (event, is_fallback)
    let mut seq: Vec<usize> = Vec::new();
    let mut cycles = 0;
    let mut restored = false;
    let mut reported = false;
    let flush = |seq: &mut Vec<usize>, cycles: &mut usize, restored: &mut bool| {
        seq.clear();
        *cycles = 0;
        *restored = false;
    };
    for (i, ev) in a.events.iter().enumerate() {
        match &ev.kind {
            EventKind::Success { .. } => {
                flush(&mut seq, &mut cycles, &mut restored);
                reported = false;
            }
            EventKind::FallbackActivated { .. } => {
                if let (Some(&first), Some(t)) = (seq.first(), a.times[i]) {
                    if a.times[first].is_some_and(|f| (t - f).num_seconds() > WINDOW_SECS) {
                        flush(&mut seq, &mut cycles, &mut restored);
                        reported = false;
                    }
                }
                if restored {
                    cycles += 1;
                    restored = false;
                }
                seq.push(i);
                if cycles >= 2 && !reported {
                    reported = true;
                    out.push(
                        FindingBuilder::new(
                            a,
                            &RULE.info,
                            format!("fallback and restore alternated {cycles} times with no request served"),
                        )
                        .at(i)
                        .events(seq.iter().copied())
                        .build(),
                    );
                }
            }
            EventKind::PrimaryRestored { .. } if !seq.is_empty() => {
                restored = true;
                seq.push(i);
            }
            _ => {}
        }
    }
}

//! Counterfactual replay: each request run again as a Hermes keeping the rotation contract
//! (seed 003) would have run it, with only what the logs and snapshots show about each profile.
//!
//! The contract: on a quota, billing, auth or rate-limit answer rotate to an untried profile that
//! is not cooled; never send to a cooled profile; a retry budget per profile (transient answers
//! are retried on the same profile); rotation is capped by the pool size; fall back only when
//! the pool is empty. A profile's answer is the one the logs show (in this request, else the
//! nearest call of that profile in another request); a profile the logs never show answering
//! stays unknown, and so does the replay's outcome once it reaches that profile.

use crate::classify::quota::FailureClass;
use crate::correlate::{Analysis, Outcome, Request};
use crate::model::{Counterfactual, EventKind, Impact};

/// What a profile answered, as far as the replay needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The call was served.
    Ok,
    /// Quota, billing, auth or rate-limit: the contract rotates away.
    Rotate,
    /// 5xx, timeout and other failures: retried on the same profile within its budget.
    Retry,
}

/// What is known about one profile of the pool when the request starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Knowledge {
    pub label: String,
    /// Cooled or dead when the request started (reason), never to be sent to.
    pub cooled: Option<String>,
    /// Answers seen, in order.
    pub answers: Vec<Answer>,
    /// Where the answers come from when not from this request (`request X`).
    pub from: Option<String>,
}

/// The replay's input: the pool in rotation order, starting at the profile Hermes used first.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub profiles: Vec<Knowledge>,
    /// Calls per profile.
    pub budget: u32,
    /// When the pool runs empty: whether the fallback (as the logs show it) served the request;
    /// `None` when no fallback ran.
    pub fallback_served: Option<bool>,
}

/// The result of [`replay`] (before the waste of the real run is counted).
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub outcome: &'static str,
    pub served_by: Option<String>,
    pub attempts: u32,
    pub fallback_needed: bool,
    pub notes: Vec<String>,
}

/// Runs the contract over `plan`.
pub fn replay(plan: &Plan) -> Replayed {
    let mut attempts = 0;
    let mut notes = Vec::new();
    for p in &plan.profiles {
        if let Some(why) = &p.cooled {
            notes.push(format!("{} skipped: cooled ({why})", p.label));
            continue;
        }
        let mut tries = 0;
        while tries < plan.budget.max(1) {
            let Some(answer) = p.answers.get(tries as usize) else {
                notes.push(if p.answers.is_empty() {
                    format!(
                        "{} would be tried at attempt {}; the logs never show it answering: outcome unknown",
                        p.label,
                        attempts + 1
                    )
                } else {
                    format!(
                        "{} would be retried at attempt {}; the logs show no answer for that call: outcome unknown",
                        p.label,
                        attempts + 1
                    )
                });
                return Replayed {
                    outcome: "unknown",
                    served_by: None,
                    attempts: attempts + 1,
                    fallback_needed: false,
                    notes,
                };
            };
            attempts += 1;
            tries += 1;
            match answer {
                Answer::Ok => {
                    if let Some(from) = &p.from {
                        notes.push(format!("{} answered in {from}", p.label));
                    }
                    return Replayed {
                        outcome: "served",
                        served_by: Some(p.label.clone()),
                        attempts,
                        fallback_needed: false,
                        notes,
                    };
                }
                Answer::Rotate => break,
                Answer::Retry => {}
            }
        }
    }
    notes.push("every profile of the pool cooled or refused: fallback needed".to_string());
    Replayed {
        outcome: if plan.fallback_served == Some(true) {
            "served"
        } else {
            "failed"
        },
        served_by: None,
        attempts,
        fallback_needed: true,
        notes,
    }
}

fn answer_of(succeeded: bool, class: FailureClass) -> Answer {
    match (succeeded, class) {
        (true, _) => Answer::Ok,
        (
            false,
            FailureClass::QuotaWall
            | FailureClass::Billing
            | FailureClass::AuthInvalid
            | FailureClass::RateLimit,
        ) => Answer::Rotate,
        _ => Answer::Retry,
    }
}

/// Index of the first fallback event of `r` (attempts from there on belong to the fallback).
fn fallback_start(r: &Request) -> usize {
    r.fallbacks.first().map_or(usize::MAX, |f| f.event)
}

/// The plan of request `r` as the logs and snapshots show it, or why there is none.
pub fn plan_of(a: &Analysis, ri: usize) -> Result<Plan, String> {
    let r = &a.requests[ri];
    let cut = fallback_start(r);
    let primary: Vec<_> = r
        .attempts
        .iter()
        .filter(|at| at.events.first().is_some_and(|&e| e < cut))
        .collect();
    let first = primary.first().ok_or("no call to the primary provider")?;
    let provider = r.primary_provider.as_deref();
    let pool = a.pools.pools.iter().find(|p| {
        provider.is_some_and(|pr| p.key == pr || p.provider == pr)
            || (provider.is_none() && a.pools.pools.len() == 1)
    });
    let mut labels: Vec<String> = pool
        .map(|p| {
            p.members
                .iter()
                .filter(|m| !m.is_account)
                .map(|m| m.label.clone())
                .collect()
        })
        .unwrap_or_default();
    for at in &primary {
        if let Some(l) = &at.profile {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
    }
    let only = (labels.len() == 1).then(|| labels[0].clone());
    let profile_of = |p: Option<&String>| -> Option<String> { p.cloned().or_else(|| only.clone()) };
    let start = profile_of(first.profile.as_ref())
        .ok_or("the logs do not say which profile the first call carried")?;
    if primary
        .iter()
        .any(|at| profile_of(at.profile.as_ref()).is_none())
    {
        return Err("the logs do not say which profile every call carried".to_string());
    }
    let at_start = labels.iter().position(|l| *l == start).unwrap_or(0);
    labels.rotate_left(at_start);
    let budget = primary
        .iter()
        .filter_map(|at| at.counter.map(|c| c.1))
        .max()
        .unwrap_or(3);
    let mut profiles = Vec::new();
    for label in labels {
        let own: Vec<_> = primary
            .iter()
            .filter(|at| profile_of(at.profile.as_ref()).as_deref() == Some(label.as_str()))
            .collect();
        let mut k = Knowledge {
            label: label.clone(),
            cooled: None,
            answers: Vec::new(),
            from: None,
        };
        if let Some(first_own) = own.first() {
            if let Some(c) = &first_own.cooled {
                k.cooled = Some(c.reason.clone());
            }
            k.answers = own
                .iter()
                .map(|at| answer_of(at.succeeded, at.class))
                .collect();
        } else {
            let available = first.others_available.contains(&label) || label == start;
            if !available {
                let reason = pool
                    .and_then(|p| p.members.iter().find(|m| m.label == label))
                    .and_then(|m| m.cooling.as_ref().map(|c| c.reason.clone()))
                    .unwrap_or_else(|| "not available when the request started".to_string());
                k.cooled = Some(reason);
            } else if let Some((rid, ans)) = nearest_answer(a, ri, &label) {
                k.answers = vec![ans];
                k.from = Some(format!("request {rid}"));
            }
        }
        profiles.push(k);
    }
    let fallback_served = (!r.fallbacks.is_empty()).then_some(r.outcome == Outcome::Success);
    Ok(Plan {
        profiles,
        budget,
        fallback_served,
    })
}

/// The answer of `label`'s call nearest in time to request `ri`, in another request.
fn nearest_answer(a: &Analysis, ri: usize, label: &str) -> Option<(String, Answer)> {
    let here = a.requests[ri].events.first().copied().unwrap_or(0);
    a.requests
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ri)
        .flat_map(|(_, r)| {
            let cut = fallback_start(r);
            r.attempts
                .iter()
                .filter(move |at| at.events.first().is_some_and(|&e| e < cut))
                .map(move |at| (r, at))
        })
        .filter(|(_, at)| at.profile.as_deref() == Some(label))
        .min_by_key(|(_, at)| at.events.first().map_or(usize::MAX, |&e| e.abs_diff(here)))
        .map(|(r, at)| (r.id.clone(), answer_of(at.succeeded, at.class)))
}

/// Calls Hermes made that the contract would not have made, and the waits before them.
fn waste(a: &Analysis, r: &Request) -> (u32, f64, Vec<String>) {
    let cut = fallback_start(r);
    let mut wasted = 0;
    let mut wait = 0.0;
    let mut notes = Vec::new();
    let mut prev: Option<&crate::correlate::Attempt> = None;
    for at in r
        .attempts
        .iter()
        .filter(|at| at.events.first().is_some_and(|&e| e < cut))
    {
        let retry_after_refusal = prev.is_some_and(|p| {
            !p.succeeded
                && p.profile.is_some()
                && p.profile == at.profile
                && answer_of(false, p.class) == Answer::Rotate
                && !p.untried_available.is_empty()
        });
        let why = if let Some(c) = &at.cooled {
            Some(format!("cooled ({})", c.reason))
        } else if retry_after_refusal {
            Some(
                "retried after a quota / rate-limit answer while untried profiles were left"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(why) = why {
            wasted += 1;
            let lo = prev.and_then(|p| p.events.first().copied());
            let hi = at.events.first().copied().unwrap_or(0);
            let waited: f64 = lo
                .map(|lo| r.between(lo, hi))
                .unwrap_or(&[])
                .iter()
                .filter_map(|&e| match &a.events[e].kind {
                    EventKind::RetryScheduled { wait_s, .. } => Some(*wait_s),
                    _ => None,
                })
                .sum();
            wait += waited;
            notes.push(format!(
                "call on {} wasted: {why}",
                at.profile.as_deref().unwrap_or("an unknown profile")
            ));
        }
        prev = Some(at);
    }
    (wasted, wait, notes)
}

/// The counterfactual of request `ri`.
pub fn counterfactual(a: &Analysis, ri: usize) -> Counterfactual {
    let r = &a.requests[ri];
    let (wasted_attempts, wasted_wait_s, mut waste_notes) = waste(a, r);
    let (outcome, served_by, attempts, fallback_needed, mut notes) = match plan_of(a, ri) {
        Ok(plan) => {
            let rp = replay(&plan);
            (
                rp.outcome,
                rp.served_by,
                rp.attempts,
                rp.fallback_needed,
                rp.notes,
            )
        }
        Err(why) => ("unknown", None, 0, false, vec![format!("no replay: {why}")]),
    };
    notes.append(&mut waste_notes);
    Counterfactual {
        outcome: outcome.to_string(),
        served_by,
        attempts,
        wasted_attempts,
        wasted_wait_s: (wasted_wait_s * 1000.0).round() / 1000.0,
        fallback_needed,
        notes: notes
            .iter()
            .map(|n| crate::redact::redact(n).into_owned())
            .collect(),
    }
}

/// Counterfactuals of every request, in request order.
pub fn all(a: &Analysis) -> Vec<Counterfactual> {
    (0..a.requests.len())
        .map(|i| counterfactual(a, i))
        .collect()
}

/// The totals over all requests.
pub fn impact(a: &Analysis, cfs: &[Counterfactual]) -> Impact {
    let mut imp = Impact::default();
    for (r, cf) in a.requests.iter().zip(cfs) {
        let fell_back = !r.fallbacks.is_empty();
        let failed = r.outcome == Outcome::Failed || fell_back;
        if failed {
            imp.failed_requests += 1;
        }
        if cf.outcome == "unknown" && failed {
            imp.undecided += 1;
        }
        if let Some(by) = cf.served_by.as_ref().filter(|_| cf.outcome == "served") {
            if r.outcome == Outcome::Failed {
                imp.avoidable_failures += 1;
            }
            if fell_back {
                imp.avoidable_fallbacks += 1;
            }
            if failed {
                match imp.served_by.iter_mut().find(|(l, _)| l == by) {
                    Some((_, n)) => *n += 1,
                    None => imp.served_by.push((by.clone(), 1)),
                }
            }
        }
        imp.wasted_attempts += u64::from(cf.wasted_attempts);
        imp.wasted_wait_s += cf.wasted_wait_s;
    }
    imp.wasted_wait_s = (imp.wasted_wait_s * 1000.0).round() / 1000.0;
    imp.served_by.sort();
    imp
}

/// One-paragraph reading of `imp` for the text, Markdown and HTML reports.
pub fn impact_sentence(imp: &Impact) -> String {
    let mut parts = Vec::new();
    let avoidable = imp.avoidable_failures + imp.avoidable_fallbacks;
    if imp.failed_requests == 0 {
        parts.push("no request failed or fell back".to_string());
    } else {
        let by = imp
            .served_by
            .iter()
            .map(|(l, n)| format!("{l} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        parts.push(format!(
            "{avoidable} of {} failed or fallen-back requests would have been served by the pool{}",
            imp.failed_requests,
            if by.is_empty() {
                String::new()
            } else {
                format!(" ({by})")
            }
        ));
        if imp.undecided > 0 {
            parts.push(format!(
                "{} undecided: the replay reaches a profile the logs never show answering",
                imp.undecided
            ));
        }
    }
    parts.push(format!(
        "{} wasted call(s), {:.1} s of backoff before them",
        imp.wasted_attempts, imp.wasted_wait_s
    ));
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(label: &str, answers: &[Answer]) -> Knowledge {
        Knowledge {
            label: label.to_string(),
            cooled: None,
            answers: answers.to_vec(),
            from: None,
        }
    }

    #[test]
    fn shared_budget_failure_is_served_by_the_fourth_key() {
        let plan = Plan {
            profiles: vec![
                k("k1", &[Answer::Rotate]),
                k("k2", &[Answer::Rotate]),
                k("k3", &[Answer::Rotate]),
                k("k4", &[Answer::Ok]),
            ],
            budget: 3,
            fallback_served: None,
        };
        let r = replay(&plan);
        assert_eq!(r.outcome, "served");
        assert_eq!(r.served_by.as_deref(), Some("k4"));
        assert_eq!(r.attempts, 4);
        assert!(!r.fallback_needed);
    }

    #[test]
    fn all_usage_limited_without_fallback_fails_either_way() {
        let mut cooled = k("k2", &[]);
        cooled.cooled = Some("usage_limit_reached".into());
        let plan = Plan {
            profiles: vec![k("k1", &[Answer::Rotate, Answer::Rotate]), cooled],
            budget: 3,
            fallback_served: None,
        };
        let r = replay(&plan);
        assert_eq!(r.outcome, "failed");
        assert_eq!(r.attempts, 1);
        assert!(r.fallback_needed);
    }

    #[test]
    fn a_working_rotation_is_served_by_the_same_profile() {
        let plan = Plan {
            profiles: vec![k("k1", &[Answer::Rotate]), k("k2", &[Answer::Ok])],
            budget: 3,
            fallback_served: None,
        };
        let r = replay(&plan);
        assert_eq!((r.outcome, r.served_by.as_deref()), ("served", Some("k2")));
        assert_eq!(r.attempts, 2);
    }

    #[test]
    fn an_untried_profile_without_answers_leaves_the_outcome_unknown() {
        let plan = Plan {
            profiles: vec![k("k1", &[Answer::Rotate]), k("k2", &[])],
            budget: 3,
            fallback_served: None,
        };
        let r = replay(&plan);
        assert_eq!(r.outcome, "unknown");
        assert!(r.notes.iter().any(|n| n.contains("k2")));
    }

    #[test]
    fn transient_answers_are_retried_within_the_budget() {
        let plan = Plan {
            profiles: vec![k("k1", &[Answer::Retry, Answer::Ok])],
            budget: 3,
            fallback_served: None,
        };
        let r = replay(&plan);
        assert_eq!((r.outcome, r.attempts), ("served", 2));
        let plan = Plan {
            profiles: vec![k("k1", &[Answer::Retry; 3])],
            budget: 3,
            fallback_served: Some(true),
        };
        let r = replay(&plan);
        assert_eq!((r.outcome, r.fallback_needed), ("served", true));
    }
}

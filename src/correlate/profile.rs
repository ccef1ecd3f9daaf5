//! Assign a profile to each attempt of a request: an explicit label or id (rotation lines,
//! `profile_rotation` events, mark lines) beats an account fingerprint, which beats unknown.

use super::pool::PoolModel;
use super::{providers, ProfileBasis, Request};
use crate::model::{Event, EventKind};

/// Display name of an account known only by its fingerprint.
pub fn account_name(plan_type: &str, resets_at: Option<f64>) -> String {
    match resets_at {
        Some(r) => format!("account[plan_type={plan_type}, resets_at={r:.0}]"),
        None => format!("account[plan_type={plan_type}]"),
    }
}

/// Assign profiles in place; learn id and fingerprint aliases into `pools`.
pub fn assign(req: &mut Request, events: &[Event], pools: &mut PoolModel) {
    // Position of each attempt's first event in the request's event list.
    let mut current: Option<(String, ProfileBasis)> = None;
    // Attempts since the last explicit rotation (candidates for a later mark line).
    let mut since_rotation: Vec<usize> = Vec::new();
    let mut next_attempt = 0usize;
    for &e in &req.events {
        // Attempts whose first event is `e`.
        while next_attempt < req.attempts.len()
            && req.attempts[next_attempt].events.first() == Some(&e)
        {
            let a = &mut req.attempts[next_attempt];
            let fp = a.details.as_ref().and_then(|d| {
                d.plan_type
                    .as_deref()
                    .map(|p| (d.fingerprint(), account_name(p, d.resets_at)))
            });
            if let Some((label, basis)) = &current {
                a.profile = Some(label.clone());
                a.basis = Some(*basis);
                if let Some((Some(key), _)) = &fp {
                    pools
                        .fp_alias
                        .entry(key.clone())
                        .or_insert_with(|| label.clone());
                }
            } else if let Some((key, name)) = fp {
                match key.as_ref().and_then(|k| pools.fp_alias.get(k)) {
                    Some(label) => {
                        a.profile = Some(label.clone());
                        a.basis = Some(ProfileBasis::MarkLine);
                    }
                    None => {
                        a.profile = Some(name);
                        a.basis = Some(ProfileBasis::Fingerprint);
                    }
                }
            }
            since_rotation.push(next_attempt);
            next_attempt += 1;
        }
        match &events[e].kind {
            EventKind::PoolRotated { to } => {
                current = Some((pools.canonical(to), ProfileBasis::RotationLine));
                since_rotation.clear();
            }
            EventKind::PoolRecoveryRotated { to_id, .. } => {
                let label = pools.canonical(to_id);
                // `rotated to LABEL` and `rotated to pool entry ID` report the same rotation.
                if let Some((cur, ProfileBasis::RotationLine)) = &current {
                    if since_rotation.is_empty() && *cur != label {
                        pools.id_alias.insert(to_id.clone(), cur.clone());
                        continue;
                    }
                }
                current = Some((label, ProfileBasis::RotationLine));
                since_rotation.clear();
            }
            EventKind::ProfileRotation { to: Some(to), .. } => {
                current = Some((pools.canonical(to), ProfileBasis::RotationEvent));
                since_rotation.clear();
            }
            EventKind::PoolMarked { label, .. } => {
                let label = pools.canonical(label);
                let owner = pools.provider_of_label(&label).map(|(p, _)| p);
                for &ai in &since_rotation {
                    let a = &mut req.attempts[ai];
                    // A mark names the profile of the attempts before it only when they were
                    // sent to the marked entry's provider.
                    let other_provider = match (&owner, &a.provider) {
                        (Some(o), Some(p)) => providers::normalize(p) != *o,
                        _ => false,
                    };
                    if other_provider {
                        continue;
                    }
                    let replace = match a.basis {
                        None => true,
                        Some(ProfileBasis::Fingerprint) => {
                            if let Some(key) = a.details.as_ref().and_then(|d| d.fingerprint()) {
                                pools.fp_alias.entry(key).or_insert_with(|| label.clone());
                            }
                            true
                        }
                        Some(_) => false,
                    };
                    if replace {
                        a.profile = Some(label.clone());
                        a.basis = Some(ProfileBasis::MarkLine);
                    }
                }
                if current.is_none() {
                    current = Some((label, ProfileBasis::MarkLine));
                }
            }
            _ => {}
        }
    }
}

//! Assign a profile to each attempt of a request: an explicit label or id (rotation lines,
//! `profile_rotation` events, mark lines) beats an account fingerprint, which beats unknown.

use super::pool::PoolModel;
use super::{providers, ProfileBasis, Request};
use crate::model::{Event, EventKind};

/// Client constructions that rebuild the primary client from the turn's runtime snapshot
/// (transport recovery, restore of the primary) rather than from the pool's current entry.
pub fn is_rebuild(reason: &str) -> bool {
    matches!(reason, "primary_recovery" | "restore_primary")
}

/// Assign profiles in place; learn id and fingerprint aliases into `pools`.
pub fn assign(req: &mut Request, events: &[Event], pools: &mut PoolModel) {
    // Position of each attempt's first event in the request's event list.
    let mut current: Option<(String, ProfileBasis)> = None;
    // Attempts since the last explicit rotation (candidates for a later mark line).
    let mut since_rotation: Vec<usize> = Vec::new();
    let mut next_attempt = 0usize;
    // After a fallback activation, attempts go to the fallback provider, whose entries are not
    // the primary's: the current profile is unknown until a pool line names one.
    let mut fallback_provider: Option<String> = None;
    let primary = req.primary_provider.as_deref().map(providers::normalize);
    // A client was rebuilt and no line names the credential it carries.
    let mut rebuilt = false;
    for &e in &req.events {
        // Attempts whose first event is `e`.
        while next_attempt < req.attempts.len()
            && req.attempts[next_attempt].events.first() == Some(&e)
        {
            let a = &mut req.attempts[next_attempt];
            if let Some(fb) = &fallback_provider {
                // Attempt lines after a fallback may still name the primary's provider.
                a.provider = Some(fb.clone());
                a.provider_basis = "fallback activation line";
            }
            let account = a.details.as_ref().and_then(|d| pools.account(d));
            if let Some((label, basis)) = &current {
                a.profile = Some(label.clone());
                a.basis = Some(*basis);
                if let Some(acc) = &account {
                    pools
                        .fp_alias
                        .entry(acc.clone())
                        .or_insert_with(|| label.clone());
                }
            } else if let Some(acc) = account {
                match pools.fp_alias.get(&acc) {
                    // The label an earlier mark gave this account: still an inference from the
                    // fingerprint, which a mark line of this request overrides.
                    Some(label) => {
                        a.profile = Some(label.clone());
                        a.basis = Some(ProfileBasis::Fingerprint);
                    }
                    None => {
                        a.profile = Some(acc);
                        a.basis = Some(ProfileBasis::Fingerprint);
                    }
                }
            }
            if rebuilt && a.profile.is_none() {
                a.unknown_reason =
                    Some("sent on a rebuilt client whose start-up credential no line names");
            }
            since_rotation.push(next_attempt);
            next_attempt += 1;
        }
        match &events[e].kind {
            EventKind::ClientCreated { reason, .. } if is_rebuild(reason) => {
                // The rebuilt client carries the turn's start-up credential: the profile of the
                // request's first call, when a line named it.
                let first = req
                    .attempts
                    .first()
                    .filter(|a| a.basis.is_some_and(|b| b != ProfileBasis::Fingerprint))
                    .and_then(|a| a.profile.clone());
                current = first.map(|p| (p, ProfileBasis::RebuiltClient));
                rebuilt = current.is_none();
                since_rotation.clear();
            }
            EventKind::FallbackActivated { to_provider, .. } => {
                current = None;
                since_rotation.clear();
                fallback_provider = to_provider.as_deref().map(providers::normalize);
            }
            EventKind::FallbackNotice {
                to_provider: Some(p),
                ..
            } => {
                current = None;
                since_rotation.clear();
                fallback_provider = Some(providers::normalize(p));
            }
            EventKind::PoolRotated { to } => {
                rebuilt = false;
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
                // After a fallback, a mark names the fallback's calls only when the marked
                // entry is known to be the fallback's: a mark of the primary's own entry, or of
                // an entry whose provider nothing shows, is no evidence of the key those calls
                // carried (Hermes 0.13/0.14 mark the primary's entry for the fallback's error).
                if let Some(fb) = &fallback_provider {
                    if owner == primary || owner.as_ref() != Some(fb) {
                        for &ai in &since_rotation {
                            let a = &mut req.attempts[ai];
                            if a.profile.is_none() {
                                a.unknown_reason = Some(
                                    "after a fallback, the mark line names an entry not known to be the fallback's",
                                );
                            }
                        }
                        continue;
                    }
                }
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
                            if let Some(acc) = &a.profile {
                                pools
                                    .fp_alias
                                    .entry(acc.clone())
                                    .or_insert_with(|| label.clone());
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

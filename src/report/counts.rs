//! Header counts shared by the text, Markdown and HTML formats: rotations with those inferred
//! without a rotation line, and each pool's members, labelled or known by account fingerprint.

use crate::model::{PoolSummary, Summary};

/// `5`, or `5 (2 inferred)` when some rotations no rotation line printed.
pub fn rotations(s: &Summary) -> String {
    if s.rotations_inferred == 0 {
        s.rotations.to_string()
    } else {
        format!("{} ({} inferred)", s.rotations, s.rotations_inferred)
    }
}

fn profiles(n: usize) -> &'static str {
    if n == 1 {
        "profile"
    } else {
        "profiles"
    }
}

/// How many members a pool has and how they are known: `3 labelled profiles`, or `3 profiles
/// (2 labelled, 1 by account fingerprint)`.
pub fn pool_size(p: &PoolSummary) -> String {
    let total = p.profiles.len();
    let accounts = p.by_fingerprint.len().min(total);
    match (total, accounts) {
        (0, _) => "no profile known".to_string(),
        (n, 0) => format!("{n} labelled {}", profiles(n)),
        (n, a) if a == n => format!("{n} {} (all by account fingerprint)", profiles(n)),
        (n, a) => format!(
            "{n} {} ({} labelled, {a} by account fingerprint)",
            profiles(n),
            n - a
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(profiles: &[&str], accounts: &[&str]) -> PoolSummary {
        PoolSummary {
            provider: "openrouter".into(),
            profiles: profiles.iter().map(|s| s.to_string()).collect(),
            by_fingerprint: accounts.iter().map(|s| s.to_string()).collect(),
            known_from: "log lines".into(),
        }
    }

    #[test]
    fn pool_sizes_separate_labels_from_fingerprints() {
        assert_eq!(pool_size(&pool(&[], &[])), "no profile known");
        assert_eq!(pool_size(&pool(&["a"], &[])), "1 labelled profile");
        assert_eq!(
            pool_size(&pool(&["a", "b", "acct"], &["acct"])),
            "3 profiles (2 labelled, 1 by account fingerprint)"
        );
        assert_eq!(
            pool_size(&pool(&["x", "y"], &["x", "y"])),
            "2 profiles (all by account fingerprint)"
        );
    }

    #[test]
    fn rotations_say_how_many_were_inferred() {
        let mut s = Summary {
            rotations: 5,
            ..Summary::default()
        };
        assert_eq!(rotations(&s), "5");
        s.rotations_inferred = 2;
        assert_eq!(rotations(&s), "5 (2 inferred)");
    }
}

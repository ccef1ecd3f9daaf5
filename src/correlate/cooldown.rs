//! Cooldown rules per Hermes version (catalog §3.4): how long a marked entry stays cooled when
//! the error gave no reset time.

use crate::release::HermesVersion;

/// Why an entry is benched, for TTL purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlCause {
    Status401,
    Status429,
    Billing,
    Other,
}

/// TTL in seconds of an exhausted entry without a provider reset time, for `version`.
/// `sole_credential`: at most one non-dead entry in the provider's pool.
pub fn exhausted_ttl(version: HermesVersion, cause: TtlCause, sole_credential: bool) -> f64 {
    let v = |minor: u32| HermesVersion {
        major: 0,
        minor,
        patch: 0,
    };
    // PR #21264 (v0.13): 401 → 5 min.
    if cause == TtlCause::Status401 && version >= v(13) {
        return 300.0;
    }
    // PR #78380 (~v0.20): sole credential, non-billing → 60 s.
    if sole_credential && cause != TtlCause::Billing && version >= v(20) {
        return 60.0;
    }
    // PR #6504 (2026-04-09, before v0.12): default → 1 h (earlier builds used 24 h for non-429).
    3600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_by_version() {
        let v12: HermesVersion = "0.12".parse().unwrap();
        let v19: HermesVersion = "0.19.0".parse().unwrap();
        let v21: HermesVersion = "0.21.0".parse().unwrap();
        assert_eq!(exhausted_ttl(v12, TtlCause::Status401, false), 3600.0);
        assert_eq!(exhausted_ttl(v19, TtlCause::Status401, false), 300.0);
        assert_eq!(exhausted_ttl(v19, TtlCause::Status429, true), 3600.0);
        assert_eq!(exhausted_ttl(v21, TtlCause::Status429, true), 60.0);
        assert_eq!(exhausted_ttl(v21, TtlCause::Billing, true), 3600.0);
        assert_eq!(exhausted_ttl(v21, TtlCause::Status429, false), 3600.0);
    }
}

//! Cooldown rules per Hermes version (catalog §3.4): how long a marked entry stays cooled when
//! the error gave no reset time.

use std::fmt;
use std::str::FromStr;

/// A Hermes release, compared by (major, minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HermesVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Default for HermesVersion {
    /// The newest published release.
    fn default() -> Self {
        crate::release::NEWEST
    }
}

impl fmt::Display for HermesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for HermesVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let mut next = |name: &str| -> Result<u32, String> {
            match parts.next() {
                None | Some("") => Ok(0),
                Some(p) => p
                    .parse::<u32>()
                    .map_err(|_| format!("invalid Hermes version {s:?}: bad {name} part {p:?}")),
            }
        };
        let major = next("major")?;
        let minor = next("minor")?;
        let patch = next("patch")?;
        if major == 0 && minor == 0 {
            return Err(format!(
                "invalid Hermes version {s:?}: expected e.g. 0.19.0"
            ));
        }
        Ok(HermesVersion {
            major,
            minor,
            patch,
        })
    }
}

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
    fn parses_versions() {
        let v: HermesVersion = "0.19.0".parse().unwrap();
        assert_eq!((v.major, v.minor, v.patch), (0, 19, 0));
        let v: HermesVersion = "v0.14".parse().unwrap();
        assert_eq!((v.minor, v.patch), (14, 0));
        assert!("abc".parse::<HermesVersion>().is_err());
        assert!("0".parse::<HermesVersion>().is_err());
    }

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

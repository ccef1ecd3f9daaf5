//! Baselines: a file of finding fingerprints (see [`crate::fingerprint`]) recorded with
//! `--write-baseline`; `--baseline` then reports only findings whose fingerprint is not in it.
//!
//! File format: `{"version": 1, "fingerprints": ["<hash>:<n>", ...]}`, fingerprints sorted and
//! unique, pretty-printed, so baselines diff well in version control.

use crate::fingerprint;
use crate::model::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// Version of the baseline file format.
pub const VERSION: u32 = 1;

/// A baseline file's content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub fingerprints: BTreeSet<String>,
}

/// Reading or writing a baseline failed.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: not a baseline file: {err}")]
    Parse {
        path: String,
        err: serde_json::Error,
    },
    #[error("{path}: baseline version {found} is not supported (expected {VERSION})")]
    Version { path: String, found: u32 },
}

impl Baseline {
    /// The baseline of `findings`.
    pub fn of(findings: &[Finding]) -> Self {
        Baseline {
            version: VERSION,
            fingerprints: fingerprint::fingerprints(findings).into_iter().collect(),
        }
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| BaselineError::Io {
            path: name.clone(),
            err,
        })?;
        let b: Baseline = serde_json::from_str(&text).map_err(|err| BaselineError::Parse {
            path: name.clone(),
            err,
        })?;
        if b.version != VERSION {
            return Err(BaselineError::Version {
                path: name,
                found: b.version,
            });
        }
        Ok(b)
    }

    /// Writes the baseline as pretty JSON with a trailing newline.
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let io_err = |err| BaselineError::Io {
            path: path.display().to_string(),
            err,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| io_err(e.into()))?;
        text.push('\n');
        std::fs::write(path, text).map_err(io_err)
    }

    /// Keeps only the findings whose fingerprint is not in the baseline; returns how many were
    /// dropped.
    pub fn retain_new(&self, findings: &mut Vec<Finding>) -> usize {
        let fps = fingerprint::fingerprints(findings);
        let before = findings.len();
        let mut keep = fps.iter().map(|fp| !self.fingerprints.contains(fp));
        findings.retain(|_| keep.next().unwrap_or(true));
        before - findings.len()
    }
}

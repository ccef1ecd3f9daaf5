//! The error of a run: what ends `analyze`, `events`, `matrix` and `merge` with exit code 2.
//! Each layer's own error (read, auth, configuration, baseline, merge) is carried as it is and
//! rendered at the edge.

use crate::{auth, read};

/// Errors that end a run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] read::ReadError),
    #[error("{path}:{err}")]
    Auth { path: String, err: auth::AuthError },
    #[error("{0}")]
    Usage(String),
    /// An input that cannot be read as what its name says (a `*.json` that is no known JSON).
    #[error("{path}: {what}")]
    NotALog { path: String, what: String },
    /// Nothing to analyze: an empty directory, or inputs without a single log line.
    #[error("{0}")]
    Empty(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Baseline(#[from] crate::baseline::BaselineError),
    /// `merge`: a report that is none, of another schema, or overlapping another.
    #[error(transparent)]
    Merge(#[from] crate::shard::MergeError),
    /// `--strict`: a line that looks like a request event matched no template.
    #[error("{name}:{line}: unrecognized Hermes request line: {text}{}", more_text(*.more))]
    Strict {
        /// Source name.
        name: String,
        line: u32,
        /// The line, redacted.
        text: String,
        /// Further such lines after this one.
        more: u64,
    },
}

fn more_text(more: u64) -> String {
    if more == 0 {
        String::new()
    } else {
        format!(" (and {more} more)")
    }
}

//! hermes-forensics: reads what Hermes Agent leaves behind (logs, journal, auth.json) and says,
//! with evidence, where credential rotation, retries and fallback went wrong.
//!
//! Pipeline: [`read`] → [`parse`] → [`classify`] → [`correlate`] → [`rules`] → [`report`].

pub mod app;
pub mod auth;
pub mod baseline;
pub mod classify;
pub mod cli;
pub mod config;
pub mod correlate;
pub mod fingerprint;
pub mod follow;
#[doc(hidden)]
pub mod fuzzing;
pub mod intake;
pub mod matrix;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod read;
pub mod redact;
pub mod release;
pub mod replay;
pub mod report;
pub mod rules;
pub mod shard;
pub mod triage;

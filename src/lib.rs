//! hermes-forensics: reads what Hermes Agent leaves behind (logs, journal, auth.json) and says,
//! with evidence, where credential rotation, retries and fallback went wrong.
//!
//! Pipeline: [`ingest`] ([`read`] → [`parse`] → [`classify`]) → [`correlate`] → [`judge`]
//! ([`rules`]) → [`report`], driven by [`pipeline::analyze`]; [`app`] turns the command line
//! ([`cli`]) into each stage's options.

pub mod app;
pub mod auth;
pub mod baseline;
pub mod classify;
pub mod cli;
pub mod config;
pub mod correlate;
pub mod error;
pub mod fingerprint;
pub mod follow;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod intake;
pub mod judge;
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

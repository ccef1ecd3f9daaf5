//! Message classifier: one file per family (attempts, pool, fallback, gateway, turn).
//! Turns a [`Record`]'s message (and its continuation lines) into an [`EventKind`].

pub mod quota;

use crate::model::{EventKind, Record};

/// Classify a record. Never panics; unknown messages are `EventKind::Other`.
pub fn classify(_record: &Record) -> EventKind {
    EventKind::Other
}

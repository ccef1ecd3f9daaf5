//! Correlator.

//! Shared helpers for the oracle tests and benchmarks.

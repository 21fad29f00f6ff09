//! Bitcoin script engine.

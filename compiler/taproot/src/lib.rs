//! The Taproot back end.

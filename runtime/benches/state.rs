//! Benchmark of the contract state store (placeholder while the store is written).

fn main() {}

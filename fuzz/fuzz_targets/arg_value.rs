//! Command-line argument values → `parse_value` for every `ValueType` (arrays included),
//! `parse_key` and `parse_network`.
#![no_main]

use biscol_artifact::value::{parse_key, parse_network, parse_value, ValueType};
use libfuzzer_sys::fuzz_target;

const SCALARS: [ValueType; 13] = [
    ValueType::PubKey,
    ValueType::Sha256,
    ValueType::Hash256,
    ValueType::Ripemd160,
    ValueType::Hash160,
    ValueType::Bytes32,
    ValueType::Blocks,
    ValueType::Duration,
    ValueType::Height,
    ValueType::Time,
    ValueType::Int,
    ValueType::Amount,
    ValueType::Bool,
];

fuzz_target!(|data: &[u8]| {
    // First byte: the type selector (low 4 bits the scalar, bit 4 an array of it, the next
    // byte the array length, bit 5 an array of arrays); the rest is the text.
    let Some((&sel, rest)) = data.split_first() else { return };
    let (len, rest) = if sel & 0x30 != 0 {
        match rest.split_first() {
            Some((&n, r)) => (u32::from(n % 8), r),
            None => return,
        }
    } else {
        (0, rest)
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let scalar = SCALARS[usize::from(sel & 0x0f) % SCALARS.len()].clone();
    let chosen = if sel & 0x20 != 0 {
        ValueType::Array(Box::new(ValueType::Array(Box::new(scalar), len)), 2)
    } else if sel & 0x10 != 0 {
        ValueType::Array(Box::new(scalar), len)
    } else {
        scalar
    };
    let _ = parse_value(&chosen, text);
    // Every scalar type on the same text too, so each gets every input.
    for ty in &SCALARS {
        let _ = parse_value(ty, text);
    }
    let _ = parse_key(text);
    let _ = parse_network(text);
});

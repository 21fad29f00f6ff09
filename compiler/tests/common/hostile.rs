//! Hostile front-end inputs shared by the compiler's robustness tests and the CLI's
//! `check` test: in, a seed or a count; out, the bytes or source text of one input.
//!
//! Every input is a pure function of its arguments, so a failing test fails the same way on
//! every run.

#![allow(dead_code)] // Reason: each includer uses a different part.

/// `len` pseudo-random bytes from an xorshift generator started at `seed`.
pub fn xorshift_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A contract whose one `require` opens `count` parentheses and never closes them.
pub fn unclosed_parentheses(count: usize) -> String {
    format!(
        "contract A(a: PubKey) {{ spend s() {{ require {} }} }}",
        "(".repeat(count)
    )
}

/// A contract whose one `require` is `count` `sig(a)` joined by `&&`.
pub fn and_chain(count: usize) -> String {
    format!(
        "contract A(a: PubKey) {{ spend s() {{ require {}; }} }}",
        vec!["sig(a)"; count].join(" && ")
    )
}

//! Oracle helpers: run blocks of the embedded chain through libbitcoinkernel.

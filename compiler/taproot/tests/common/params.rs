//! Contract parameters for the instantiation tests (`analysis.rs`, `bip327.rs`, `bip341.rs`):
//! in, parameter names; out, the `Param`s of an artifact's ABI.

use biscol_taproot::instantiate::{Param, ValueType};

/// One `PubKey` parameter per name, in the order given.
pub fn pubkey_params(names: &[&str]) -> Vec<Param> {
    names
        .iter()
        .map(|n| Param {
            name: n.to_string(),
            ty: ValueType::PubKey,
        })
        .collect()
}

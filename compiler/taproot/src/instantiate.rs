//! Instantiation of a compiled contract: bind argument values and derive what a funder needs.
//!
//! The binding itself, the one argument value type and the typed [`Instance`] live in
//! `biscol-artifact` (re-exported here), so that the runtime can instantiate stored artifacts
//! without the compiler. This module adds the entry point from a [`Compiled`] contract.

use std::collections::BTreeMap;

use bitcoin::Network;

pub use biscol_artifact::instance::*;
pub use biscol_artifact::instantiate::*;
pub use biscol_artifact::value::*;

use crate::compile::Compiled;

/// Instantiate a compiled contract (see [`instantiate`]).
pub fn instantiate_compiled(
    compiled: &Compiled,
    params: &[Param],
    args: &BTreeMap<String, String>,
    network: Network,
) -> Result<Instance, InstantiateError> {
    instantiate(
        &crate::artifact::from_compiled(compiled),
        params,
        args,
        network,
    )
}

#!/usr/bin/env bash
# The runtime's Bitcoin Core oracle: runs the embedded-chain scenario and feeds every block into
# libbitcoinkernel's regtest ChainstateManager (Bitcoin Core's own validation code, built from
# source by the `bitcoinkernel` crate), asserting each block is accepted and the tips agree.
# Installs what that build needs (cmake, Boost headers) when missing. The oracle crate has its
# own Cargo workspace, so the root build never compiles Bitcoin Core.
# A clean run takes several minutes on 2 cores (most of it building Bitcoin Core once).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/../.ci/need-packages" cmake libboost-dev

cd "$here/oracle-chain"
cargo test --release -- --nocapture

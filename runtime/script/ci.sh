#!/usr/bin/env bash
# Differential tests of biscol-script against Bitcoin Core's own validation code
# (libbitcoinkernel, built from source by the `bitcoinkernel` crate). Installs what that build
# needs (cmake, Boost headers) when missing, then runs the oracle crate's tests in release mode.
# A clean run takes about 6-7 minutes on 2 cores (most of it building Bitcoin Core once).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/../../.ci/need-packages" cmake libboost-dev

cd "$here/oracle"
cargo test --release -- --nocapture

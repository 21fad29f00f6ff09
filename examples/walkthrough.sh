#!/usr/bin/env bash
# The main job, end to end on the embedded regtest chain (nothing else to install):
#   build examples/htlc.bsc, make two keys, deploy the HTLC, try the refund too early (refused,
#   explained at the source line), claim with the preimage, and show the instance's state.
#
# Usage: bash examples/walkthrough.sh [STATE_DIR]
# STATE_DIR defaults to a fresh temporary folder; give one to look around afterwards with
# `biscol --state-dir STATE_DIR state` or `... events`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/biscol-target}"

# BISCOL_PROFILE=debug reuses a test build (CI does); the default is an optimised build.
profile="${BISCOL_PROFILE:-release}"
echo "== building biscol ($profile)"
if [ "$profile" = release ]; then
    cargo build --release --quiet -p biscol-cli --manifest-path "$root/Cargo.toml"
else
    cargo build --quiet -p biscol-cli --manifest-path "$root/Cargo.toml"
fi
biscol="$CARGO_TARGET_DIR/$profile/biscol"

state="${1:-$(mktemp -d)/state}"
build="$(dirname "$state")/build"
run() {
    echo
    echo "\$ biscol $*"
    "$biscol" --state-dir "$state" "$@"
}

# The receiver's secret and its SHA-256 (the `hash` argument): sha256(00…002a).
preimage=000000000000000000000000000000000000000000000000000000000000002a
hash=0a28e9ffef0073f9a6a674cf57ee77307f38f0f1bebb087888d9011ed0eeefdf

run build "$root/examples/htlc.bsc" -o "$build"
run --new key new alice
run key new bob
run deploy "$build/Htlc.json" --arg sender=@alice --arg receiver=@bob \
    --arg hash="$hash" --arg timeout=144 --amount 0.01btc

# Too early: the refund path needs 144 blocks since the deployment confirmed. The spend is
# refused before anything is signed or broadcast, and biscol exits with code 1.
set +e
run spend htlc-1 refund
code=$?
set -e
if [ "$code" -ne 1 ]; then
    echo "walkthrough: expected the early refund to be refused with exit code 1, got $code" >&2
    exit 1
fi

run spend htlc-1 claim --arg preimage="$preimage" --to @bob
run state htlc-1
run events
echo
echo "walkthrough finished; state folder: $state"

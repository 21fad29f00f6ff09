#!/usr/bin/env bash
# CI steps of the language server: install Neovim for the end-to-end test when it is missing,
# then run the crate's tests (in-memory features, protocol, random edits, Neovim).
set -euo pipefail
if ! command -v nvim >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim
    else
        echo "lsp/ci.sh: nvim is missing and apt-get is not available" >&2
        exit 1
    fi
fi
cargo test -p biscol-lsp
cargo test -p biscol-compiler --test format

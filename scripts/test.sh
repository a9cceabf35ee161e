#!/usr/bin/env bash
# Run every test of ferrite: unit, property, lint (Verilator/Yosys/Icarus) and Verilator
# co-simulation tests. Installs the HDL tools first if they are missing (see ensure-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
# ccache makes rebuilding verilated models cheap; the sim crate uses it when present.
cargo test --workspace "$@"

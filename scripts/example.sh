#!/usr/bin/env bash
# Build the bundled example network into out/example and co-simulate it in Verilator
# against the golden model. Installs the HDL tools first if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
cargo build --release --bin ferrite
ferrite=target/release/ferrite
model=examples/bnn_mlp_random/model.json
$ferrite build "$model" -o out/example
$ferrite cosim out/example --random 256 --stall 0.3 --seed 1

#!/usr/bin/env bash
# Build the bundled example network into out/example, co-simulate it in Verilator against
# the golden model, and check the golden model against the qonnx reference outputs.
# Installs the HDL tools first if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
cargo build --release --bin ferrite
ferrite=target/release/ferrite
# A binarized MLP (784-64-64-10) trained on MNIST with Brevitas and exported to QONNX
# (tools/make_examples.py); its inputs are real MNIST test images and random images.
example=examples/mlp_w1a1
$ferrite build "$example/model.onnx" -o out/example
$ferrite cosim out/example --input "$example/inputs.npy" --stall 0.3 --seed 1
# the golden model on the float inputs, against the qonnx reference outputs and the labels
$ferrite golden "$example/model.onnx" --input "$example/inputs.npy" --output out/example-golden.npy \
  --expected "$example/expected.npy" --labels "$example/labels.npy"
# A small CNN (3x3 convs, max pool, FC) trained on 8x8 digits: imported, built and
# co-simulated the same way, and its golden model checked against qonnx
cnn=examples/cnv_w2a2
$ferrite build "$cnn/model.onnx" -o out/example-cnn
$ferrite cosim out/example-cnn --input "$cnn/inputs.npy" --stall 0.3 --seed 1
$ferrite golden "$cnn/model.onnx" --input "$cnn/inputs.npy" --output out/example-cnn-golden.npy \
  --expected "$cnn/expected.npy" --labels "$cnn/labels.npy"

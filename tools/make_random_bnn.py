#!/usr/bin/env python3
"""Write examples/bnn_mlp_random/model.json: a binarized MLP in ferrite's IR with random
weights and thresholds (deterministic seed). It exercises every layer kind of the
fully-connected spine: bipolar MatrixVector layers with thresholds, a last MatrixVector
without activation (integer accumulator out) and a LabelSelect (top-1 index).

Usage: python3 tools/make_random_bnn.py  (no dependencies beyond the standard library)
"""
import json
import os
import random

SIZES = [784, 64, 64, 10]
SEED = 2026

def main():
    rng = random.Random(SEED)
    layers = []
    for i, (mw, mh) in enumerate(zip(SIZES, SIZES[1:])):
        last = i == len(SIZES) - 2
        layer = {
            "kind": "MatrixVector",
            "name": f"fc{i}",
            "mw": mw,
            "mh": mh,
            "input_type": "BIPOLAR",
            "weight_type": "BIPOLAR",
            "weights": [rng.choice((-1, 1)) for _ in range(mw * mh)],
        }
        if not last:
            # dot products of +/-1 vectors have the parity of mw; thresholds near 0
            spread = max(2, int(mw ** 0.5))
            layer["thresholds"] = {
                "rows": [[rng.randint(-spread, spread)] for _ in range(mh)],
                "out_type": "BIPOLAR",
                "out_bias": 0,
            }
        layers.append(layer)
    # accumulator of the last layer: INT8 for mw = 64 (range -64..64)
    layers.append({"kind": "LabelSelect", "name": "top1", "labels": SIZES[-1], "k": 1, "input_type": "INT8"})
    model = {
        "ir_version": 1,
        "name": "bnn_mlp_random",
        "input": {"shape": [SIZES[0]], "dtype": "BIPOLAR"},
        "layers": layers,
    }
    out = os.path.join(os.path.dirname(__file__), "..", "examples", "bnn_mlp_random", "model.json")
    with open(out, "w") as f:
        json.dump(model, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(out))

if __name__ == "__main__":
    main()

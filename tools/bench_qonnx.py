#!/usr/bin/env python3
"""Time the qonnx reference executor (qonnx.core.onnx_exec.execute_onnx) per sample on a
model's inputs.npy, one sample a call, after qonnx's cleanup: the baseline that ferrite's
golden model is compared with in docs/BENCHMARKS.md. Not run by CI.

Usage: python tools/bench_qonnx.py DIR [DIR ...]   (DIR holds model.onnx and inputs.npy)
Needs the packages of tools/requirements.txt (qonnx, onnx, onnxruntime, numpy).
"""
import sys
import time

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model


def main():
    for d in sys.argv[1:]:
        model = cleanup_model(ModelWrapper(f"{d}/model.onnx"))
        x = np.load(f"{d}/inputs.npy")
        iname = model.graph.input[0].name
        oname = model.graph.output[0].name
        shape = [1] + list(x.shape[1:])
        times = []
        for i in range(x.shape[0]):
            t = time.perf_counter()
            execute_onnx(model, {iname: x[i].reshape(shape)})[oname]
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"{d}: qonnx execute_onnx median {times[len(times) // 2] * 1e3:.1f} ms a sample ({len(times)} samples)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time onnxruntime at batch 1 on a standard-ONNX (float) lowering of FINN's CNV topology:
the baseline ferrite's golden model on CNV-w1a1 is compared with in docs/BENCHMARKS.md.
Not run by CI.

The network is the CNV of `ferrite_gen::testing::cnv`, as float ops: 3x32x32 input;
Conv3x3 (no padding, with a bias: a BatchNorm folded in) + Sign for 64, 64, MaxPool 2,
128, 128, MaxPool 2, 256, 256; Flatten; Linear + Sign 512, 512; Linear 10; ArgMax.
Random weights (torch.manual_seed(0)), exported with torch.onnx.export (TorchScript exporter,
opset 17). The same number of multiply-accumulates as the quantized network (59 M a frame),
in float32.

Usage: python tools/bench_onnxruntime.py [--runs N] [--out model.onnx]
Prints the median time a frame for a single-threaded session (intra_op_num_threads=1,
inter_op_num_threads=1) and for onnxruntime's default threading, graph optimisations on
(ORT_ENABLE_ALL), CPU execution provider.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from torch import nn


class Sign(nn.Module):
    def forward(self, x):
        return torch.sign(x)


def cnv():
    layers = []
    cin = 3
    for i, c in enumerate([64, 64, 128, 128, 256, 256]):
        layers += [nn.Conv2d(cin, c, 3, bias=True), Sign()]
        if i in (1, 3):
            layers.append(nn.MaxPool2d(2))
        cin = c
    layers += [nn.Flatten(), nn.Linear(256, 512), Sign(), nn.Linear(512, 512), Sign(),
               nn.Linear(512, 10)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*layers)

        def forward(self, x):
            return torch.argmax(self.body(x), dim=1)

    return Net().eval()


def time_session(path, x, runs, threads):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = threads
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for i in range(20):  # warm-up
        s.run(None, {name: x[i % len(x)]})
    times = []
    for i in range(runs):
        t = time.perf_counter()
        s.run(None, {name: x[i % len(x)]})
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times[len(times) // 10], times[9 * len(times) // 10]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--out", help="keep the ONNX file here")
    args = ap.parse_args()
    torch.manual_seed(0)
    net = cnv()
    d = tempfile.mkdtemp()
    path = args.out or os.path.join(d, "cnv_float.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=17,
                      input_names=["x"], output_names=["label"], dynamo=False)
    rng = np.random.default_rng(0)
    x = [(rng.integers(0, 256, (1, 3, 32, 32)) / 255.0).astype(np.float32) for _ in range(16)]
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"{args.runs} runs at batch 1")
    for label, threads in [("single thread (intra_op_num_threads=1)", 1), ("default threads", 0)]:
        med, p10, p90 = time_session(path, x, args.runs, threads)
        print(f"CNV float, onnxruntime {label}: median {med * 1e3:.2f} ms a frame "
              f"({1 / med:.0f} frames/s; p10 {p10 * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`ferrite golden` as a whole process against the qonnx executor, per frame, in one run:
the figure of docs/BENCHMARKS.md (TFC_2W2A, 4,096 frames). Not run by CI.

Usage: python tools/bench_golden_process.py DIR [--frames 4096] [--runs 15] [--ferrite PATH]
DIR holds model.onnx and inputs.npy. The input file of FRAMES frames is inputs.npy repeated
(up to half of them) then uniform random values in [0, 1) (numpy default_rng(0)), written to a
temporary folder. The qonnx executor is timed before and after ferrite (tools/bench_qonnx.py:
one sample a call, median), and the speed-up is printed against each.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def qonnx(d):
    out = subprocess.run([sys.executable, os.path.join(HERE, "bench_qonnx.py"), d],
                         check=True, capture_output=True, text=True).stdout.strip()
    print(out)
    return float(out.split("median")[1].split("ms")[0]) / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--frames", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--ferrite", default=os.path.join(HERE, "..", "target", "release", "ferrite"))
    a = ap.parse_args()
    x = np.load(f"{a.dir}/inputs.npy")
    half = a.frames // 2
    reps = np.concatenate([x] * (half // len(x) + 1))[:half]
    rnd = np.random.default_rng(0).random((a.frames - half,) + x.shape[1:], dtype=np.float32)
    frames = np.concatenate([reps, rnd]).astype(np.float32)
    tmp = tempfile.mkdtemp()
    inp, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(inp, frames)
    cmd = [a.ferrite, "golden", f"{a.dir}/model.onnx", "--input", inp, "--output", out]
    print("load average", open("/proc/loadavg").read().split()[:3])
    q1 = qonnx(a.dir)
    ts = []
    for _ in range(a.runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        ts.append(time.perf_counter() - t)
    q2 = qonnx(a.dir)
    print("load average", open("/proc/loadavg").read().split()[:3])
    med = statistics.median(ts)
    per = med / a.frames
    print(f"ferrite golden, whole process, {a.frames} frames: median {med * 1e3:.1f} ms of "
          f"{a.runs} runs (min {min(ts) * 1e3:.1f}, max {max(ts) * 1e3:.1f}) = {per * 1e6:.2f} us a frame")
    for q in (q1, q2):
        print(f"  against qonnx at {q * 1e3:.2f} ms a sample: {q / per:.0f}x")


if __name__ == "__main__":
    main()

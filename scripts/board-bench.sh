#!/usr/bin/env bash
# One row of docs/BENCHMARKS.md's table per network and board: build for the board (with a
# folding file, --fit or --target-fps), co-simulate random frames (measured cycles a frame
# and latency), synthesise with `ferrite synth` (measured LUT/FF/BRAM/DSP and, on ECP5 and
# iCE40, nextpnr's Fmax), and print the estimate next to the measurement as a Markdown row.
#   scripts/board-bench.sh LABEL MODEL BOARD [build flags...]
# e.g.
#   scripts/board-bench.sh "TFC-w1a1, FINN folding" ../shared/models/TFC_1W1A/model.onnx ulx3s --folding f.json
#   scripts/board-bench.sh "mlp_w1a1, --fit" examples/mlp_w1a1/model.onnx icebreaker --fit
# Takes minutes (Yosys and nextpnr); keeps its build in target/board-bench/<board>-<slug>.
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:?usage: scripts/board-bench.sh LABEL MODEL BOARD [build flags...]}
model=${2:?model}
board=${3:?board}
shift 3
slug=$(printf '%s' "$label" | tr -c 'A-Za-z0-9' '_' | cut -c1-40)
out=target/board-bench/$board-$slug
mkdir -p target/board-bench
cargo build -q -p ferrite-gen --bin ferrite
f=target/debug/ferrite
start=$(date +%s)
$f build "$model" -o "$out" --board "$board" "$@" >"$out.build.txt"
$f cosim "$out" --random 8 --stall 0.3 >"$out.cosim.txt"
$f synth "$out" --board "$board" >"$out.synth.txt"
secs=$(($(date +%s) - start))
python3 - "$label" "$board" "$out" "$secs" <<'EOF'
import json, sys
label, board, out, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
folds = json.load(open(f"{out}/folding.json"))["nodes"]
design = json.load(open(f"{out}/design.json"))
cosim = json.load(open(f"{out}/cosim.json"))
synth = json.load(open(f"{out}/synth.json"))
report = json.load(open(f"{out}/report.json"))
cycles = report["exp_cycles_per_frame"]
t = report["estimate"]["total"]
elut, eff, ebram, edsp = t["lut"], t["ff"], t["bram"], t["dsp"]
order = [n["role"]["node"] for n in design["nodes"] if n["role"]["role"] == "engine"]
fold = ", ".join(f"{folds[n]['pe']}x{folds[n]['simd']}" for n in order)
meas = cosim.get("cycles_per_frame_measured", cosim.get("cycles_per_frame"))
lat = cosim.get("latency_cycles")
fmax = synth.get("fmax_mhz")
clock = fmax if fmax else 100.0
fps = clock * 1e6 / meas if meas else float("nan")
lat_us = lat / clock if lat else float("nan")
fm = f"{fmax:.1f} MHz" if fmax else "(Vivado)"
print(f"| {label} | {board} | {fold} | {cycles} / {meas:g} | {fm} | {fps:,.0f} | {lat_us:.2f} us ({lat} cycles) "
      f"| {elut:,} / {synth['luts']:,} | {eff:,} / {synth['ffs']:,} | {ebram} / {synth['brams']} | {edsp} / {synth['dsps']} | {secs} s |")
EOF

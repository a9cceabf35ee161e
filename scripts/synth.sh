#!/usr/bin/env bash
# Resource and logic-depth figures of a built design (`ferrite build ... -o OUT`), with Yosys:
#   scripts/synth.sh OUT
# prints the synth_xilinx cell counts (LUT, FF, LUTRAM, BRAM, DSP, CARRY4) and the longest
# combinational path in 6-input LUT levels (generic synth + abc -lut 6 + ltp -noff; ltp
# cannot tell Xilinx flip-flops from logic, so depth is measured on the generic mapping).
set -euo pipefail
out=${1:?usage: scripts/synth.sh OUT}
rtl=$(cd "$out/rtl" && pwd)
top=$(basename "$(ls "$rtl"/*_top.v)" .v)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common="read_verilog -defer $rtl/*.v
chparam -set MEM_DIR \"$rtl/\" $top
hierarchy -check -top $top"
printf '%s\nsynth_xilinx -flatten -top %s\n' "$common" "$top" >"$tmp/x.ys"
printf '%s\nsynth -flatten -top %s\nabc -lut 6\nopt_clean\nltp -noff\n' "$common" "$top" >"$tmp/d.ys"
run() { yosys -q -l "$tmp/$1.log" "$tmp/$1.ys" >/dev/null 2>&1 || { tail -20 "$tmp/$1.log" >&2; exit 1; }; }
start=$(date +%s%N)
run x
ms=$((($(date +%s%N) - start) / 1000000))
run d
awk -v t="$ms" '
  /Number of cells/ { cells = $4 }
  $1 ~ /^LUT[1-6]$/ { lut += $2 }
  $1 ~ /^FD/ { ff += $2 }
  $1 ~ /^RAM(32|64|128|256)/ { lutram += $2 }
  $1 ~ /^RAMB18/ { b18 += $2 }
  $1 ~ /^RAMB36/ { b36 += $2 }
  $1 ~ /^DSP48/ { dsp += $2 }
  $1 == "CARRY4" { carry += $2 }
  END { printf "synth_xilinx: %d LUT, %d FF, %d LUTRAM cells, %d RAMB36 + %d RAMB18, %d DSP, %d CARRY4 (%.1f s)\n", lut, ff, lutram, b36, b18, dsp, carry, t / 1000 }
' "$tmp/x.log"
grep -o 'Longest topological path in [^ ]* (length=[0-9]*)' "$tmp/d.log" | sed 's/.*length=\([0-9]*\))/longest combinational path: \1 LUT6 levels/'

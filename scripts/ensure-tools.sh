#!/usr/bin/env bash
# Make sure the HDL tools ferrite's tests and examples need are installed:
# Verilator 5 (co-simulation, lint), Yosys (elaboration, synthesis), Icarus Verilog (portability),
# Chromium (headless: the browser test of `ferrite report`'s HTML), tclsh (the Vivado script
# test without Vivado) and a Python 3 with numpy (the PYNQ driver test: gen/tests/vivado.rs
# tries $FERRITE_PYTHON, python3, then /usr/bin/python3; Debian's python3-numpy gives the last).
# Installs Debian's packages when it can (root or passwordless sudo); otherwise fails and says how.
set -euo pipefail

need=()
verilator_ok() {
  command -v verilator >/dev/null 2>&1 || return 1
  local v
  v=$(verilator --version | awk '{print $2}')
  [ "${v%%.*}" -ge 5 ]
}
verilator_ok || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
command -v iverilog >/dev/null 2>&1 || need+=(iverilog)
command -v ccache >/dev/null 2>&1 || need+=(ccache)
command -v g++ >/dev/null 2>&1 || need+=(g++)
chromium_ok() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
chromium_ok || need+=(chromium)
command -v tclsh >/dev/null 2>&1 || need+=(tcl)
numpy_ok() {
  local p
  for p in "${FERRITE_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$p" ] && "$p" -c "import numpy" >/dev/null 2>&1 && return 0
  done
  return 1
}
numpy_ok || need+=(python3-numpy)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "ferrite: installing missing tools: ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

missing=()
verilator_ok || missing+=("verilator (version 5 or newer)")
command -v yosys >/dev/null 2>&1 || missing+=(yosys)
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
chromium_ok || missing+=(chromium)
command -v tclsh >/dev/null 2>&1 || missing+=("tclsh (tcl)")
numpy_ok || missing+=("python3 with numpy (python3-numpy)")
if [ ${#missing[@]} -ne 0 ]; then
  echo "ferrite: missing: ${missing[*]}" >&2
  echo "install them, e.g. on Debian/Ubuntu: sudo apt-get install verilator yosys iverilog ccache g++ chromium tcl python3-numpy" >&2
  echo "(Verilator 5 is needed: Debian 12's 5.006 works; older distributions: build it from source)" >&2
  exit 1
fi

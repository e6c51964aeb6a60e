#!/usr/bin/env bash
# make demo: a live migration of kvd's request parser from C to Rust under load, narrated
# (tools/demo/demo.py does the work; see docs/OPERATING.md). Usage:
#   tools/demo.sh BUILD_DIR [--short] [--out DIR]      DEMO_SHORT=1 selects --short
# The build is already done by make. The trap makes sure the driver (which stops kvd and
# the load generators it started) is stopped on Ctrl-C or TERM.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
build=${1:-build}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/demo/demo.py" "$build" "$@" &
driver=$!
trap 'kill -TERM "$driver" 2>/dev/null; wait "$driver"; exit 130' INT TERM
wait "$driver"

#!/usr/bin/env bash
# make demo: until the live migration demo exists, run the smoke program.
set -euo pipefail
build=${1:-build}
"$build/tests/smoke/test_smoke"

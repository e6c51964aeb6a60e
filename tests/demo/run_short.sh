#!/usr/bin/env bash
# run_short.sh: the demo in its short form (about 40 s) as a test: runs tools/demo.sh
# --short into BUILD/demo-short and asserts the numbers of its report.json.
# Usage: run_short.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
src=$1 build=$2
out="$build/demo-short"
rm -rf "$out"
"$src/tools/demo.sh" "$build" --short --out "$out"
rc=$?
[ -f "$out/report.json" ] || { echo "FAIL: no report.json (demo exit $rc)"; exit 1; }
python3 "$src/tests/demo/check_report.py" "$out/report.json" || exit 1
[ -s "$out/report.html" ] || { echo "FAIL: no report.html"; exit 1; }
grep -q '<svg' "$out/report.html" || { echo "FAIL: report.html has no plot"; exit 1; }
exit $rc

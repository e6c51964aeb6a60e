#!/usr/bin/env bash
# Self-test of tools/lint.d/ffi-boundary.sh: the good fixtures pass, and every one of the
# seven broken definitions in bad.rs is reported by line.
set -uo pipefail
cd "$(dirname "$0")/../../.."
lint=tools/lint.d/ffi-boundary.sh
"$lint" tests/ffi/lint/good.rs || { echo "FAIL: good.rs rejected"; exit 1; }
out=$("$lint" tests/ffi/lint/bad.rs 2>&1) && { echo "FAIL: bad.rs accepted"; exit 1; }
echo "$out"
for line in 5 10 16 22 27 30 34; do
  grep -q "^tests/ffi/lint/bad.rs:$line: " <<<"$out" || { echo "FAIL: bad.rs:$line not reported"; exit 1; }
done
[ "$(grep -c '^tests/ffi/lint/bad.rs:' <<<"$out")" -eq 7 ] || { echo "FAIL: unexpected reports"; exit 1; }
echo "ffi-boundary lint self-test: ok"

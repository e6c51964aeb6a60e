#!/usr/bin/env bash
# promtool.sh: GET /metrics from a live endpoint (the test host, with traffic and a
# token) and validate it with `promtool check metrics`; also checks that /api/seams is
# well-formed JSON. Usage: promtool.sh TESTHOST
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus)"
start_host "$1" 127.0.0.1:0 tok --seconds 60
sleep 1 # let some traffic through so every series has values
url=http://127.0.0.1:$HOST_PORT
metrics=$(mktemp)
trap 'rm -f "$metrics"; cleanup_host' EXIT
code=$(curl -s -o "$metrics" -w '%{http_code}' -H 'Authorization: Bearer tok' "$url/metrics")
[ "$code" = 200 ] || fail "/metrics answered $code"
grep -q 'demo.sum' "$metrics" || fail "/metrics does not mention seam demo.sum"
grep -q '^# TYPE ' "$metrics" || fail "/metrics has no TYPE lines"
if ! out=$(promtool check metrics <"$metrics" 2>&1); then
  echo "$out" >&2
  fail "promtool rejected /metrics"
fi
[ -z "$out" ] || { echo "$out" >&2; fail "promtool reported problems"; }
curl -sf -H 'Authorization: Bearer tok' "$url/api/seams" | python3 -m json.tool >/dev/null ||
  fail "/api/seams is not valid JSON"
echo "promtool: $(grep -c -v '^#' "$metrics") samples valid"

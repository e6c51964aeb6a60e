#!/usr/bin/env bash
# report_live.sh: `graft ledger report --url` reads the runtime's stage history (issue 16)
# from a live kvd: kv.parse entered canary 50% by config (GRAFT_SEAMS) and candidate by
# api (graftctl set), listed oldest first with the time in each mode; and from /metrics
# alone (an endpoint without /api/seams, here kvd's exposition served as a file) the
# mode the seam is in since when, and its changes by mode and cause.
#   report_live.sh GRAFT KVD GRAFTCTL SOURCE_DIR
set -euo pipefail
graft=$1 kvd=$2 ctl=$3 src=$4
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
aport=$(free_port)
mport=$(free_port)
tmp=$(mktemp -d)
GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=led-tok GRAFT_SEAMS=kv.parse=canary:50 \
  "$kvd" -l 127.0.0.1 -p "$port" -t 1 >"$tmp/kvd.log" 2>&1 &
kpid=$!
mpid=
cleanup() {
  kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
  [ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out" >&2 2>/dev/null || true; exit 1; }
export GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=led-tok
for _ in $(seq 100); do
  "$ctl" status -w 0 >/dev/null 2>&1 && break
  kill -0 "$kpid" 2>/dev/null || fail "kvd exited"
  sleep 0.1
done
"$ctl" set kv.parse candidate >/dev/null || fail "graftctl set kv.parse candidate"

"$graft" ledger --root "$src" report --url "http://127.0.0.1:$aport" --token led-tok >"$tmp/out"
grep -q 'stage history in this process (3 changes)' "$tmp/out" || fail "no stage history of 3 changes"
grep -Eq '^        [0-9-]+ [0-9:]+ UTC  entered legacy by start$' "$tmp/out" || fail "no start entry"
grep -Eq 'entered canary 50% by config$' "$tmp/out" || fail "no canary 50% by config entry"
grep -Eq 'entered candidate by api$' "$tmp/out" || fail "no candidate by api entry"
grep -Eq 'time in each mode in this process: legacy .*, canary .*, candidate ' "$tmp/out" ||
  fail "no time in each mode"
if grep -q 'no stage history' "$tmp/out"; then fail "still says no stage history"; fi
grep -A10 '^live process' "$tmp/out" || true
# Oldest first: start, then config, then api.
python3 - "$tmp/out" <<'PY' || fail "entries out of order"
import sys
t = open(sys.argv[1]).read()
a, b, c = t.index("by start"), t.index("by config"), t.index("by api")
assert a < b < c
PY

# /metrics only: serve kvd's exposition from a directory (no /api/seams there).
mkdir -p "$tmp/www"
curl -sf -H "Authorization: Bearer led-tok" "http://127.0.0.1:$aport/metrics" >"$tmp/www/metrics" ||
  fail "GET /metrics"
(cd "$tmp/www" && exec python3 -m http.server "$mport" --bind 127.0.0.1 >/dev/null 2>&1) &
mpid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$mport/metrics" >/dev/null 2>&1 && break
  sleep 0.1
done
"$graft" ledger --root "$src" report --url "http://127.0.0.1:$mport" --token x >"$tmp/out"
grep -Eq 'kv.parse: mode candidate' "$tmp/out" || fail "/metrics: kv.parse not in candidate"
grep -Eq 'in candidate since [0-9-]+ [0-9:]+ UTC \(from /metrics; changes: .*candidate by api 1' "$tmp/out" ||
  fail "/metrics: no mode since / changes"
grep -q 'canary by config 1' "$tmp/out" || fail "/metrics: canary by config not counted"
cat "$tmp/out" | grep -A8 "^live process" || true
echo "ledger report --url: stage history from /api/seams and from /metrics"

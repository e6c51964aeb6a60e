#!/usr/bin/env bash
# graftctl_kvd.sh: graftctl against a live kvd (GRAFT_ADMIN set at its start-up, token
# required): status, set/refuse, watch, report while real memcached-protocol traffic
# flows through kv.parse (kv.hash is retired: no seam). Usage: graftctl_kvd.sh GRAFTCTL KVD
set -euo pipefail
ctl=$1 kvd=$2
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
aport=$(free_port)
out=$(mktemp)
log=$(mktemp)
GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=kvd-tok "$kvd" -l 127.0.0.1 -p "$port" -t 2 >"$log" 2>&1 &
kpid=$!
cleanup() {
  kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
  rm -f "$out" "$log"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- kvd log" >&2; cat "$log" >&2; exit 1; }

export GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=kvd-tok
for _ in $(seq 100); do
  "$ctl" status >/dev/null 2>&1 && break
  kill -0 "$kpid" 2>/dev/null || fail "kvd exited"
  sleep 0.1
done
"$ctl" status >"$out" 2>&1 || { cat "$out"; fail "kvd's admin endpoint did not answer"; }
grep -q '^kv.parse ' "$out" || { cat "$out"; fail "no kv.parse seam"; }
if grep -q '^kv.hash ' "$out"; then cat "$out"; fail "kv.hash is retired but still a seam"; fi

traffic() { # N set/get pairs over a few connections, every reply checked
  python3 - "$port" "$1" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for c in range(4):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    for i in range(n // 4):
        k, v = b"k%d-%d" % (c, i), b"v%d" % i
        s.sendall(b"set %s 0 0 %d\r\n%s\r\nget %s\r\n" % (k, len(v), v, k))
        assert f.readline() == b"STORED\r\n"
        assert f.readline() == b"VALUE %s 0 %d\r\n" % (k, len(v))
        assert f.readline() == v + b"\r\n"
        assert f.readline() == b"END\r\n"
    s.close()
PY
}
traffic 400 || fail "traffic in legacy mode"
"$ctl" set kv.parse shadow >"$out" 2>&1 || { cat "$out"; fail "set shadow"; }
traffic 400 || fail "traffic in shadow mode"
"$ctl" report --json | python3 -c '
import json, sys
r = {s["seam"]: s for s in json.load(sys.stdin)}
p = r["kv.parse"]
assert p["mode"] == "shadow", p
assert p["calls"] >= 800, p            # every request went through the seam
assert p["compared"] > 0, p            # shadow compared C and Rust
assert p["mismatches"] == 0, p
' || fail "report --json after shadow traffic"
"$ctl" set kv.parse canary 12.5 >/dev/null || fail "set canary"
if "$ctl" set kv.parse canary 250 >"$out" 2>&1; then fail "percent 250 accepted"; fi
grep -q percent "$out" || fail "refusal does not explain the percent"
"$ctl" status --json | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin)["seams"] if x["name"] == "kv.parse"][0]
assert s["mode"] == "canary" and abs(s["percent"] - 12.5) < 1e-9, s' || fail "canary 12.5 not kept after a refusal"
"$ctl" set kv.parse candidate >/dev/null || fail "set candidate"
traffic 200 || fail "traffic in candidate mode"
"$ctl" watch -n 2 -i 0.3 >"$out" || fail "watch"
[ "$(grep -c '^kv.parse  *candidate ' "$out")" = 2 ] || { cat "$out"; fail "watch frames"; }
"$ctl" report >"$out" || fail "report"
grep -q '^seam kv.parse' "$out" && grep -q 'latency p50/p99' "$out" || { cat "$out"; fail "report text"; }
# kvd's own exposition, with real traffic behind it, is valid Prometheus text too.
curl -sf -H "Authorization: Bearer kvd-tok" "http://127.0.0.1:$aport/metrics" >"$out" || fail "GET /metrics"
grep -q 'seam="kv.parse"' "$out" || fail "/metrics lacks kv.parse"
if command -v promtool >/dev/null; then
  promtool check metrics <"$out" >/dev/null 2>&1 || { promtool check metrics <"$out" | head; fail "promtool rejected kvd's /metrics"; }
fi
if "$ctl" --token wrong status >"$out" 2>&1; then fail "wrong token accepted"; fi
grep -q 401 "$out" || fail "wrong token: no 401"
echo "graftctl against kvd: all checks passed"

#!/usr/bin/env bash
# graftctl_plan.sh: a rollout plan and asynchronous shadow on a live kvd (issue 15):
# the plan from GRAFT_CONFIG, `graftctl plan` showing stage, evidence and reason, the
# operator's pause/resume/advance/abort over the admin endpoint, and the plan and
# executor figures in /metrics. Usage: graftctl_plan.sh GRAFTCTL KVD
set -euo pipefail
ctl=$1 kvd=$2
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
aport=$(free_port)
dir=$(mktemp -d)
cat >"$dir/graft.ini" <<'INI'
[seam kv.parse]
shadow = async
plan.stages = shadow, canary:10, candidate
plan.min_compared = 1000000
plan.min_time = 1h
plan.interval = 100ms
INI
GRAFT_CONFIG=$dir/graft.ini GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=plan-tok \
  "$kvd" -l 127.0.0.1 -p "$port" -t 2 >"$dir/kvd.log" 2>&1 &
kpid=$!
cleanup() {
  kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- kvd log" >&2; cat "$dir/kvd.log" >&2; exit 1; }
export GRAFT_ADMIN=127.0.0.1:$aport GRAFT_ADMIN_TOKEN=plan-tok
for _ in $(seq 100); do
  "$ctl" status >/dev/null 2>&1 && break
  kill -0 "$kpid" 2>/dev/null || fail "kvd exited"
  sleep 0.1
done
python3 - "$port" <<'PY' || fail "traffic"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
for i in range(300):
    s.sendall(b"set k%d 0 0 1\r\nx\r\n" % i)
    assert f.readline() == b"STORED\r\n"
PY
out=$("$ctl" plan kv.parse) || fail "graftctl plan: $out"
echo "$out"
grep -q 'plan running, stage 0 of 3: \[shadow\] canary:10 candidate' <<<"$out" || fail "plan line"
grep -q 'evidence: compared [0-9]*/1000000' <<<"$out" || fail "evidence line"
grep -q 'last decision: hold: evidence' <<<"$out" || fail "hold with its reason"
out=$("$ctl" pause kv.parse) || fail "pause: $out"
grep -q 'plan paused' <<<"$out" || fail "paused: $out"
if "$ctl" pause kv.parse >"$dir/o" 2>&1; then fail "a second pause was accepted"; fi
grep -q 'the plan is paused' "$dir/o" || { cat "$dir/o"; fail "refusal names the state"; }
"$ctl" resume kv.parse >/dev/null || fail "resume"
out=$("$ctl" plan kv.parse advance) || fail "advance: $out"
grep -q 'stage 1 of 3: shadow \[canary:10\]' <<<"$out" || fail "advanced: $out"
"$ctl" status | grep -q '^kv.parse  *canary' || fail "mode after advance"
set +e
"$ctl" plan kv.parse promote >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "an unknown action is a usage error (exit $rc)"
python3 - "$aport" <<'PY' || fail "/metrics"
import sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/metrics" % sys.argv[1],
                             headers={"Authorization": "Bearer plan-tok"})
text = urllib.request.urlopen(req, timeout=5).read().decode()
need = ['graft_seam_plan_state{seam="kv.parse",state="running"} 1',
        'graft_seam_plan_stage{seam="kv.parse",mode="canary",percent="10.00"} 1',
        'graft_seam_plan_needed{seam="kv.parse",kind="compared"} 1000000',
        'graft_seam_plan_decisions_total{seam="kv.parse",decision="advance"} 1',
        'graft_seam_shadow_enqueued_total{seam="kv.parse"}']
missing = [n for n in need if n not in text]
assert not missing, missing
PY
out=$("$ctl" abort kv.parse) || fail "abort: $out"
grep -q 'plan aborted' <<<"$out" || fail "aborted: $out"
"$ctl" status | grep -q '^kv.parse  *legacy' || fail "legacy after abort"
echo "graftctl plan: ok"

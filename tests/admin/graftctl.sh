#!/usr/bin/env bash
# graftctl.sh: graftctl against a live endpoint (the test host: seams demo.sum in shadow
# with rare mismatches, demo.upper). Usage: graftctl.sh GRAFTCTL TESTHOST
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ctl=$1
long_name=demo.a-seam-name-well-over-sixteen
# A typo in GRAFT_SEAMS (issue 18.2.1): applies to nothing, and status says so.
GRAFT_SEAMS=demo.smu=candidate start_host "$2" 127.0.0.1:0 tok --seconds 60 --extra "$long_name"
export GRAFT_ADMIN=127.0.0.1:$HOST_PORT
unset GRAFT_ADMIN_TOKEN
out=$(mktemp)
trap 'rm -f "$out"; cleanup_host' EXIT

expect() { # expect RC CMD...: runs graftctl, checks its exit status, output in $out
  local want=$1 rc=0
  shift
  "$ctl" "$@" >"$out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$out" >&2; fail "graftctl $* exited $rc, want $want"; }
}
seam_field() { # seam_field SEAM FIELD: from `status --json`
  "$ctl" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
seams = d if isinstance(d, list) else d["seams"]
print([s for s in seams if s["name"] == sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}

expect 1 status
grep -q 'token' "$out" || fail "no token: message should say so"
export GRAFT_ADMIN_TOKEN=tok
expect 0 status
grep -q '^demo.sum  *shadow ' "$out" || { cat "$out"; fail "status table lacks demo.sum in shadow"; }
grep -q '^demo.upper ' "$out" || fail "status table lacks demo.upper"
grep -q '^configuration that applies to nothing' "$out" || { cat "$out"; fail "status does not show the unmatched GRAFT_SEAMS entry"; }
grep -q '^  demo.smu (did you mean demo.sum?)$' "$out" || { cat "$out"; fail "status does not name the typo and the seam meant"; }
expect 0 --token tok --url "http://127.0.0.1:$HOST_PORT/" status
# Columns line up whatever the length of the names (before: a name over 16 characters
# pushed the rest of its row right).
expect 0 status -w 0
grep -q "^$long_name " "$out" || { cat "$out"; fail "status lacks the long-named seam"; }
python3 - "$out" <<'EOF' || { cat "$out"; fail "status columns do not line up"; }
import sys
# The table: up to the blank line before the unmatched-configuration note.
lines = open(sys.argv[1]).read().split("\n\n")[0].splitlines()
col = lines[0].index("MODE")
ends = lines[0].index("CALLS/S") + len("CALLS/S")
for l in lines[1:]:
    assert l[col - 1] == " " and l[col] != " ", (col, l)   # the mode starts under MODE
    assert l[ends - 1] != " " and l[ends] == " ", (ends, l)  # calls/s ends under its title
EOF

expect 0 set demo.upper canary 25
[ "$(seam_field demo.upper mode)" = canary ] || fail "mode not canary after set"
python3 -c 'import sys; assert abs(float(sys.argv[1]) - 25) < 1e-9' "$(seam_field demo.upper percent)" ||
  fail "percent not 25 after set"
# Mode names and percentages are checked before any request, by libgraft's own
# graft_mode_parse and graft_percent_parse (the endpoint's refusals: test_admin_api).
expect 2 set demo.upper sideways
grep -q "candidate-only" "$out" || fail "bad mode: the modes are not listed"
expect 2 set demo.upper canary 101
grep -q "percent" "$out" || fail "bad percent: no explanation"
expect 2 set demo.upper canary 12.345
expect 2 fault demo.upper error=1e1
expect 0 set demo.upper canary 12.5%
python3 -c 'import sys; assert abs(float(sys.argv[1]) - 12.5) < 1e-9' "$(seam_field demo.upper percent)" ||
  fail "percent not 12.5 after 'canary 12.5%'"
expect 0 set demo.upper canary 25
[ "$(seam_field demo.upper mode)" = canary ] || fail "a refused change changed the mode"
expect 1 set no.such.seam legacy
grep -q "unknown seam" "$out" || fail "unknown seam not reported"
expect 2 set demo.upper canary ten
expect 2 set 'bad/name' legacy
expect 2 frobnicate
expect 0 reset demo.sum
grep -q 'breaker reset' "$out" || fail "reset not confirmed"
expect 0 fault demo.upper error=100 delay=1 delay_ms=0.5
expect 0 fault demo.upper off
# Recent error rates beside lifetime ones: after a while of error-free candidate calls,
# 30% injected errors show as about 30% "now" and much less over the lifetime.
expect 0 set demo.upper candidate
sleep 1.5
expect 0 fault demo.upper error=30
sleep 0.3
expect 0 status -w 1
grep -q 'RUST-ERR now/all' "$out" || { cat "$out"; fail "status has no recent/lifetime columns"; }
python3 - "$out" <<'EOF' || { cat "$out"; fail "recent Rust error rate not shown beside the lifetime one"; }
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
col = head.index("RUST-ERR now/all")
row = [l for l in lines if l.startswith("demo.upper ")][0]
now, life = row[col - 1:col + len("RUST-ERR now/all")].split()[0].split("/")
now, life = float(now.rstrip("%")), float(life.rstrip("%"))
assert 15 <= now <= 45, (now, life)
assert life < now / 1.5, (now, life)
EOF
expect 0 fault demo.upper off
expect 0 set demo.upper canary 25
expect 2 fault demo.upper boom=1
expect 1 --url http://127.0.0.1:1 status
grep -q 'cannot reach' "$out" || fail "unreachable endpoint not reported"

expect 0 watch -n 3 -i 0.3
[ "$(grep -c '^graftctl watch' "$out")" = 3 ] || fail "watch -n 3 did not print 3 frames"
grep '^demo.sum ' "$out" | tail -n 1 | awk '{ if ($4 == "-" || $4 + 0 <= 0) exit 1 }' ||
  fail "watch shows no call rate on its later frames"

# Ctrl-C stops an endless watch promptly and cleanly.
"$ctl" watch -i 0.2 >/dev/null 2>&1 &
wpid=$!
sleep 1
kill -INT $wpid
for _ in $(seq 30); do kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
kill -0 $wpid 2>/dev/null && { kill $wpid; fail "watch ignored Ctrl-C"; }
wait $wpid || fail "watch exited non-zero after Ctrl-C"

expect 0 report
grep -q '^seam demo.sum' "$out" || fail "report lacks demo.sum"
grep -q 'latency p50/p99' "$out" || fail "report lacks latency"
"$ctl" report --json | python3 -c '
import json, sys
r = {s["seam"]: s for s in json.load(sys.stdin)}
s = r["demo.sum"]
assert s["calls"] > 0, s
assert s["compared"] > 0 and s["mismatches"] > 0, s  # the candidate is wrong 1 in 997
assert s["legacy_p50_ns"] > 0 and s["legacy_p99_ns"] >= s["legacy_p50_ns"], s
' || fail "report --json numbers"
# An endpoint started without a token generates one into a 0600 file; graftctl finds it
# from the port alone, and `dashboard` hands it to the page after '#'.
cleanup_host
rt_dir=$(mktemp -d)
trap 'rm -f "$out"; cleanup_host; rm -rf "$rt_dir"' EXIT
host_out=$(mktemp)
XDG_RUNTIME_DIR=$rt_dir start_host "$2" 127.0.0.1:0 --seconds 60
export XDG_RUNTIME_DIR=$rt_dir GRAFT_ADMIN=127.0.0.1:$HOST_PORT
unset GRAFT_ADMIN_TOKEN
tok_file=$rt_dir/graft/admin-$HOST_PORT.token
[ -f "$tok_file" ] || fail "no token file $tok_file"
[ "$(stat -c %a "$tok_file")" = 600 ] || fail "token file mode $(stat -c %a "$tok_file"), want 600"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HOST_PORT/api/seams" | grep -q 401 ||
  fail "an endpoint without a given token accepted a request without one"
expect 0 status -w 0
grep -q '^demo.sum ' "$out" || { cat "$out"; fail "graftctl did not use the token file"; }
expect 0 set demo.upper candidate
expect 0 dashboard
grep -qx "http://127.0.0.1:$HOST_PORT/#token=$(cat "$tok_file")" "$out" || { cat "$out"; fail "dashboard URL"; }
expect 0 --token-file "$tok_file" --url "http://localhost:$HOST_PORT" status -w 0
expect 1 --token-file "$rt_dir/none" status -w 0
grep -q "no token file" "$out" || fail "missing --token-file not reported"
# Elsewhere (no file for that port): the 401 comes with a hint.
XDG_RUNTIME_DIR=$rt_dir/elsewhere expect 1 status -w 0
grep -q 'no token: pass --token' "$out" || { cat "$out"; fail "401 without a hint"; }
kill "$HOST_PID"
wait "$HOST_PID" 2>/dev/null || true
HOST_PID=
[ ! -e "$tok_file" ] || fail "token file left behind after the endpoint stopped"
echo "graftctl: all checks passed"

#!/usr/bin/env bash
# fleet_reload.sh: a fleet steered by one distributed file. Two kvd processes read the
# same GRAFT_CONFIG with GRAFT_CONFIG_WATCH=1; the file is changed the way a ConfigMap
# volume changes (a `..data` symlink swapped by rename) and both must apply it within a
# second, while traffic keeps flowing; then a bad version is distributed and both must
# refuse it, log why, and keep the running configuration.
# Usage: fleet_reload.sh GRAFTCTL KVD
set -euo pipefail
ctl=$1 kvd=$2
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for l in "$dir"/kvd*.log; do echo "--- $l" >&2; cat "$l" >&2; done; exit 1; }

# The ConfigMap layout: graft.ini -> ..data/graft.ini, ..data -> ..v1
version=0
publish() { # TEXT: a new version directory, then one atomic rename of ..data
  version=$((version + 1))
  mkdir "$dir/..v$version"
  printf '%s\n' "$1" >"$dir/..v$version/graft.ini"
  ln -s "..v$version" "$dir/..data_tmp"
  mv -T "$dir/..data_tmp" "$dir/..data"
}
publish "[seam kv.parse]
mode = shadow"
ln -s ..data/graft.ini "$dir/graft.ini"

ports=() aports=()
for i in 0 1; do
  ports[$i]=$(free_port)
  aports[$i]=$(free_port)
  GRAFT_CONFIG="$dir/graft.ini" GRAFT_CONFIG_WATCH=1 GRAFT_ADMIN=127.0.0.1:${aports[$i]} \
    GRAFT_ADMIN_TOKEN=fleet-tok "$kvd" -l 127.0.0.1 -p "${ports[$i]}" -t 2 >"$dir/kvd$i.log" 2>&1 &
  pids[$i]=$!
done

mode_of() { # INDEX -> "mode" or "mode:percent" as graftctl status prints it
  GRAFT_ADMIN=127.0.0.1:${aports[$1]} GRAFT_ADMIN_TOKEN=fleet-tok "$ctl" report --json 2>/dev/null |
    python3 -c 'import json,sys; s={x["seam"]:x for x in json.load(sys.stdin)}["kv.parse"]; print(s["mode"] + (":%g" % s["percent"] if s["mode"] == "canary" else ""))'
}
wait_mode() { # WANT: both processes, 5 s deadline
  for _ in $(seq 50); do
    a=$(mode_of 0 || true) b=$(mode_of 1 || true)
    [ "$a" = "$1" ] && [ "$b" = "$1" ] && return 0
    sleep 0.1
  done
  fail "wanted $1 in both, have '$a' and '$b'"
}
for i in 0 1; do
  for _ in $(seq 100); do
    mode_of "$i" >/dev/null 2>&1 && break
    kill -0 "${pids[$i]}" 2>/dev/null || fail "kvd $i exited"
    sleep 0.1
  done
done
wait_mode shadow

# Traffic through both processes during every change; every reply checked.
python3 - "${ports[0]}" "${ports[1]}" >"$dir/traffic.out" 2>&1 <<'PY' &
import socket, sys, time
conns = []
for port in sys.argv[1:]:
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    conns.append((s, s.makefile("rb")))
n, deadline = 0, time.time() + 4
while time.time() < deadline:
    for s, f in conns:
        k, v = b"k%d" % (n % 500), b"v%d" % n
        s.sendall(b"set %s 0 0 %d\r\n%s\r\nget %s\r\n" % (k, len(v), v, k))
        assert f.readline() == b"STORED\r\n"
        assert f.readline() == b"VALUE %s 0 %d\r\n" % (k, len(v))
        assert f.readline() == v + b"\r\n"
        assert f.readline() == b"END\r\n"
        n += 1
print("traffic ok", n)
PY
tpid=$!

publish "[seam kv.parse]
mode = canary
percent = 25"
wait_mode canary:25
publish "[seam kv.parse]
mode = candidate"
wait_mode candidate

# A bad version (unknown key) reaches the fleet: refused everywhere, candidate kept.
publish "[seam kv.parse]
mode = legacy
percnt = 5"
for i in 0 1; do
  for _ in $(seq 50); do
    grep -q "refused, running configuration kept" "$dir/kvd$i.log" && break
    sleep 0.1
  done
  grep -q "refused, running configuration kept" "$dir/kvd$i.log" || fail "kvd $i did not log the refusal"
done
wait_mode candidate
# ... and the fix after it is applied.
publish "[seam kv.parse]
mode = legacy"
wait_mode legacy

wait "$tpid" || { cat "$dir/traffic.out"; fail "client-visible error during the changes"; }
grep -q "traffic ok" "$dir/traffic.out" || fail "no traffic"
echo "fleet_reload: ok: 2 processes followed 4 versions (1 refused); $(cat "$dir/traffic.out")"

#!/usr/bin/env bash
# kvd under load in every mode of its seam: kvload --check (every reply verified, lost
# acknowledged writes detected) against kvd with kv.parse in legacy, shadow,
# canary 50%, candidate and candidate-only; any error, stale read or dropped connection
# fails. Shadow is run once more with a capture directory, which must stay empty (C and
# Rust agreed on every compared call).
# Under a sanitizer build (make asan / make tsan) any report in kvd's log fails too.
#   kvd_modes_load.sh KVD KVLOAD [SECONDS_PER_MODE]
set -euo pipefail
kvd=$1 kvload=$2 secs=${3:-2}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/graft.ini" <<INI
[seam kv.parse]
mode = shadow
capture.dir = $tmp/captures
INI
mkdir -p "$tmp/captures"
fail=0
run() { # label, env...
  local label=$1; shift
  env "$@" "$kvd" -p "$port" -t 2 2>"$tmp/kvd.log" &
  pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  local line
  line=$("$kvload" -p "$port" -c 16 -t 1 -d "$secs" -k 2000 --check -q | grep '^kvload:' || true)
  kill "$pid"; wait "$pid" || true; pid=
  echo "$label: $line"
  if grep -q -E 'ThreadSanitizer|AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/kvd.log"; then
    echo "FAIL: $label: sanitizer report from kvd"; cat "$tmp/kvd.log"; fail=1
  fi
  if ! grep -q ' errors=0 conn_errors=0 ' <<<"$line" || ! grep -q ' stale=0 ' <<<"$line" ||
     grep -q ' ops=0 ' <<<"$line" || [ -z "$line" ]; then
    echo "FAIL: $label"; cat "$tmp/kvd.log"; fail=1
  fi
}
for m in legacy shadow canary:50 candidate candidate-only; do
  run "$m" GRAFT_SEAMS="kv.parse=$m"
done
run "shadow+capture" GRAFT_CONFIG="$tmp/graft.ini"
n=$(find "$tmp/captures" -type f | wc -l)
echo "captured mismatches in shadow: $n"
[ "$n" -eq 0 ] || { echo "FAIL: C and Rust disagreed under load:"; ls "$tmp/captures"; fail=1; }
[ $fail -eq 0 ] && echo "kvd_modes_load: every mode correct under load"
exit $fail

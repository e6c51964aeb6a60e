#!/usr/bin/env bash
# kvd throughput with kv.store in legacy against kvd without the seam (KVD_STORE_SEAM=0,
# the connection engine calling the store directly: "today's"), and with both stores
# written (dual-write, shadow), side by side: each round runs every variant once, in
# turn. Load: kvload, 32 connections, one kvd worker, 90% gets (-g 0.9) and a write-heavy
# 50% (-g 0.5) set of rounds.
#
# The figure is requests served per CPU-second of kvd (all its threads, from
# /proc/<pid>/task/*/schedstat, counted only while the load runs), as bench/parse's
# kvd_seam_modes.sh: wall-clock ops/s swings by 2x on a shared machine, the CPU cost of
# a request does not. The median round of each variant counts.
#   kvd_store_stages.sh KVD KVLOAD [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
kvd=$1 kvload=$2 secs=${3:-2} rounds=${4:-5}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
variants=(today legacy dual-write shadow)
pid=
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
results=$(mktemp)
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$results"' EXIT

for g in 0.9 0.5; do
  for ((r = 0; r < rounds; r++)); do
    for v in "${variants[@]}"; do
      if [ "$v" = today ]; then
        KVD_STORE_SEAM=0 "$kvd" -p "$port" -t 1 2>/dev/null &
      else
        GRAFT_SEAMS="kv.store=$v" "$kvd" -p "$port" -t 1 2>/dev/null &
      fi
      pid=$!
      for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
      c0=$(cpu_ns "$pid")
      line=$("$kvload" -p "$port" -c 32 -t 1 -d "$secs" -g "$g" -q | grep '^kvload:')
      c1=$(cpu_ns "$pid")
      kill "$pid"; wait "$pid" || true; pid=
      ops=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$line")
      errs=$(sed -n 's/.* errors=\([0-9]*\) conn_errors=\([0-9]*\).*/\1+\2/p' <<<"$line")
      if [ -z "$ops" ] || [ "$ops" -eq 0 ] || [ "$errs" != "0+0" ] || [ "$c1" -le "$c0" ]; then
        echo "kvd_store_stages: $v (gets $g): bad run: $line" >&2
        exit 1
      fi
      echo "$g $v $ops $((c1 - c0))" >>"$results"
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    g, v, ops, ns = line.split()
    runs.setdefault((g, v), []).append(int(ops) / (int(ns) / 1e9))
for g, label in (("0.9", "gets90"), ("0.5", "gets50")):
    base = statistics.median(runs[(g, "today")])
    print(f"bench kvd_store_today_{label}: {base:.0f} req/cpu-s (1.00x kvd_store_today_{label}: "
          f"kvd without the kv.store seam)")
    for v in ("legacy", "dual-write", "shadow"):
        rate = statistics.median(runs[(g, v)])
        name = v.replace("-", "_")
        print(f"bench kvd_store_{name}_{label}: {rate:.0f} req/cpu-s ({rate / base:.2f}x "
              f"kvd_store_today_{label}: kv.store in {v})")
PY

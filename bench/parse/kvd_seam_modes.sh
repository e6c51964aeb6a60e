#!/usr/bin/env bash
# kvd throughput with the kv.parse seam in legacy, shadow and candidate modes (kv.hash
# stays legacy), side by side: rounds alternate the modes. Load: kvload, 90% gets,
# 32 connections, one kvd worker.
#
# The figure is requests served per CPU-second of kvd (all its threads, from
# /proc/<pid>/task/*/schedstat, nanosecond resolution, counted only while the load
# runs): on a machine shared with other jobs, wall-clock ops/s swings by 2x between runs
# while the CPU cost of a request does not. The median round of each mode counts.
# Also printed: the extra kvd CPU per request of shadow over legacy (kvd_parse_shadow_
# extra_cpu, from the two medians), against the time of one Rust parse that
# bench_kv_parse measures right after the rounds (shadow = a second parse + compare, so
# about 1x plus the compare is expected; the difference of two noisy medians can be
# off by more, or below 0). OPT names the optimisation levels of C (legacy) and Rust
# (candidate) that the shadow and candidate ratios compare (bench/CMakeLists.txt).
#   kvd_seam_modes.sh KVD KVLOAD BENCH_KV_PARSE OPT [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
kvd=$1 kvload=$2 parse_bench=$3 opt=$4 secs=${5:-2} rounds=${6:-5}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
modes=(legacy shadow candidate)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; true' EXIT
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
results=$(mktemp)
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$results"' EXIT

for ((r = 0; r < rounds; r++)); do
  for m in "${modes[@]}"; do
    GRAFT_SEAMS="kv.parse=$m" "$kvd" -p "$port" -t 1 2>/dev/null &
    pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    c0=$(cpu_ns "$pid")
    line=$("$kvload" -p "$port" -c 32 -t 1 -d "$secs" -q | grep '^kvload:')
    c1=$(cpu_ns "$pid")
    kill "$pid"; wait "$pid" || true; pid=
    ops=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$line")
    errs=$(sed -n 's/.* errors=\([0-9]*\) conn_errors=\([0-9]*\).*/\1+\2/p' <<<"$line")
    if [ -z "$ops" ] || [ "$ops" -eq 0 ] || [ "$errs" != "0+0" ] || [ "$c1" -le "$c0" ]; then
      echo "kvd_seam_modes: mode $m: bad run: $line" >&2
      exit 1
    fi
    echo "$m $ops $((c1 - c0))" >>"$results"
  done
done

rust_rate=$("$parse_bench" | sed -n 's/^bench kv_parse_rust: \([0-9][0-9]*\) req\/s.*/\1/p')
if [ -z "$rust_rate" ] || [ "$rust_rate" -eq 0 ]; then
  echo "kvd_seam_modes: no kv_parse_rust figure from $parse_bench" >&2
  exit 1
fi

python3 - "$results" "$rust_rate" "$opt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m, ops, ns = line.split()
    runs.setdefault(m, []).append((int(ops), int(ns)))
rate = {m: statistics.median(o / (n / 1e9) for o, n in v) for m, v in runs.items()}
base = rate["legacy"]
opt = sys.argv[3]
for m in ("legacy", "shadow", "candidate"):
    tail = f", {opt}" if m != "legacy" else ""
    print(f"bench kvd_parse_{m}: {rate[m]:.0f} req/cpu-s ({rate[m] / base:.2f}x kvd_parse_legacy{tail})")
extra = 1e9 / rate["shadow"] - 1e9 / rate["legacy"]
rust_ns = 1e9 / float(sys.argv[2])
print(f"bench kvd_parse_shadow_extra_cpu: {extra:.0f} ns/req ({extra / rust_ns:.2f}x kv_parse_rust)")
PY

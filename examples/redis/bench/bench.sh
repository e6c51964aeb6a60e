#!/usr/bin/env bash
# bench.sh: the grafted Redis in legacy, candidate-only and shadow mode, side by side
# (three servers on unix sockets, rounds interleaved, medians), ratios against legacy:
#   - KEYS over 1M keys (DEBUG POPULATE: "key:0".."key:999999"), server CPU time per call
#     (INFO cpu);
#   - a full SCAN ... MATCH ... COUNT 1000 iteration over the same keys, server CPU time;
#   - redis-benchmark: GET/SET (no pattern: graft's start-up costs nothing elsewhere) and
#     SCAN 0 MATCH (1000 buckets matched per request), requests per second;
#   - the matcher alone (redis-matchbench), C vs Rust vs through the seam.
# The shadow server's counters are read live from graft's admin endpoint: 0 mismatches.
#   bench.sh OUT [ROUNDS]
set -euo pipefail
out=$(cd "$1" && pwd)
rounds=${2:-${REDIS_BENCH_ROUNDS:-5}}
src=$out/redis-7.0.15/src
modes=(legacy candidate-only shadow)
work=$(mktemp -d "${TMPDIR:-/tmp}/redis-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cli() { "$src/redis-cli" -s "$work/$1.sock" "${@:2}"; }

for m in "${modes[@]}"; do
  admin=()
  # The endpoint always wants a token: it writes the generated one to this file.
  [ "$m" = shadow ] && admin=(GRAFT_ADMIN=127.0.0.1:0 "GRAFT_ADMIN_TOKEN_FILE=$work/admin.token")
  env GRAFT_SEAMS="redis.stringmatch=$m" "${admin[@]}" "$src/redis-server" --port 0 \
    --unixsocket "$work/$m.sock" --save '' --appendonly no --enable-debug-command local \
    --dir "$work" --logfile "$work/$m.log" &
  pids+=($!)
done
for m in "${modes[@]}"; do
  for _ in $(seq 50); do cli "$m" ping > /dev/null 2>&1 && break; sleep 0.1; done
  cli "$m" debug populate 1000000 key 10 > /dev/null
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Server CPU time (getrusage through INFO cpu, microseconds), not wall time: on a shared
# machine with a load of 10 on 2 cores the wall time of a command is mostly waiting.
cpu_us() {
  cli "$1" info cpu | tr -d '\r' |
    awk -F: '/^used_cpu_(user|sys):/ { t += $2 } END { printf "%.0f\n", t * 1e6 }'
}
line() { # name value unit legacy-value what
  awk -v n="$1" -v v="$2" -v u="$3" -v b="$4" -v w="$5" \
    'BEGIN { printf "bench %s: %.1f %s (%.2fx legacy) -- %s\n", n, v, u, (b > 0 ? v / b : 0), w }'
}

# ------------------------------------------------------------ KEYS and SCAN over 1M keys
scan_all="local c = '0' repeat c = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000)[1] until c == '0' return 1"
for pat in 'key:*99*' '*1*2*3*'; do
  for m in "${modes[@]}"; do : > "$work/keys.$m" && : > "$work/scan.$m"; done
  for _ in $(seq "$rounds"); do
    for m in "${modes[@]}"; do
      # (KEYS replies with the keys: redis-cli reading them runs beside, not in, the server)
      t0=$(cpu_us "$m")
      cli "$m" keys "$pat" > /dev/null
      echo $(($(cpu_us "$m") - t0)) >> "$work/keys.$m"
      # The whole iteration inside the server (a script): one command to measure.
      t0=$(cpu_us "$m")
      cli "$m" eval "$scan_all" 0 "$pat" > /dev/null
      echo $(($(cpu_us "$m") - t0)) >> "$work/scan.$m"
    done
  done
  kl=$(median < "$work/keys.legacy")
  sl=$(median < "$work/scan.legacy")
  for m in "${modes[@]}"; do
    line "redis.keys_1m[$pat].$m" "$(median < "$work/keys.$m" | awk '{ print $1 / 1000 }')" ms "$(awk -v x="$kl" 'BEGIN { print x / 1000 }')" \
      "server CPU time of one KEYS over 1M keys (INFO cpu), median of $rounds"
  done
  for m in "${modes[@]}"; do
    line "redis.scan_1m[$pat].$m" "$(median < "$work/scan.$m" | awk '{ print $1 / 1000 }')" ms "$(awk -v x="$sl" 'BEGIN { print x / 1000 }')" \
      "server CPU time of a full SCAN MATCH COUNT 1000 iteration over 1M keys (one script), median of $rounds"
  done
done

# ------------------------------------------------------------ redis-benchmark
bench_rps() { # mode, then redis-benchmark arguments; prints requests per second
  "$src/redis-benchmark" -s "$work/$1.sock" --csv "${@:2}" 2> /dev/null | tail -n1 | cut -d, -f2 | tr -d '"'
}
for t in get set; do
  for m in "${modes[@]}"; do : > "$work/rb.$m"; done
  for _ in $(seq "$rounds"); do
    for m in "${modes[@]}"; do bench_rps "$m" -t "$t" -n 100000 -c 20 -P 16 -r 1000000 >> "$work/rb.$m"; done
  done
  b=$(median < "$work/rb.legacy")
  for m in "${modes[@]}"; do
    line "redis.benchmark.$t.$m" "$(median < "$work/rb.$m")" req/s "$b" \
      "redis-benchmark -t $t -n 100000 -c 20 -P 16 over 1M keys (no pattern matching), median of $rounds"
  done
done
for m in "${modes[@]}"; do : > "$work/rb.$m"; done
for _ in $(seq "$rounds"); do
  for m in "${modes[@]}"; do bench_rps "$m" -n 1000 -c 4 scan 0 match 'key:*99*' count 1000 >> "$work/rb.$m"; done
done
b=$(median < "$work/rb.legacy")
for m in "${modes[@]}"; do
  line "redis.benchmark.scan_match.$m" "$(median < "$work/rb.$m")" req/s "$b" \
    "redis-benchmark SCAN 0 MATCH key:*99* COUNT 1000 (1000 buckets matched per request), median of $rounds"
done

# ------------------------------------------------------------ shadow, read from the process
port=$(sed -n 's/.*graft: admin endpoint on port \([0-9]*\).*/\1/p' "$work/shadow.log" | head -n1)
[ -n "$port" ] || { echo "bench: the shadow server logged no admin port" >&2; exit 1; }
json=$(curl -sf -H "Authorization: Bearer $(cat "$work/admin.token")" \
  "http://127.0.0.1:$port/api/seams/redis.stringmatch") ||
  { echo "bench: the shadow server's admin endpoint did not answer" >&2; exit 1; }
read -r compared mism < <(jq -r '[.counters.compared, .counters.mismatches] | @tsv' <<< "$json")
echo "redis bench: shadow server (admin endpoint, port $port): $compared calls compared, $mism mismatches"
[ "$compared" -gt 1000000 ] && [ "$mism" -eq 0 ] || { echo "bench: shadow mismatches" >&2; exit 1; }

# ------------------------------------------------------------ the matcher alone
"$out/bin/redis-matchbench" "$rounds"

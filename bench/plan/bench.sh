#!/usr/bin/env bash
# Benchmark of graft plan: generates a ~1M-line C project (gen_tree.py), plans it with
# -j1, -j2 and -j2 --no-pch one after the other, and prints
#   bench plan-1m-lines: <wall seconds with -j2> s (<ratio>x graft plan -j1 on the same tree)
# where ratio = wall(-j2) / wall(-j1) (below 1: the second thread helps), and
#   bench plan-1m-lines-cpu: <CPU seconds with -j2> s (<ratio>x graft plan -j2 --no-pch ...)
# where ratio = CPU(-j2) / CPU(-j2 --no-pch): what the shared preamble saves, in CPU time
# (user + sys), which machine load does not inflate the way it does wall time. All measured
# side by side in the same run. Fails when the -j2 plan takes a minute or more (the
# requirement), when the plans differ in a byte, or when a file failed to parse.
# Usage: bench.sh GRAFT TREE_DIR [LINES]
set -euo pipefail
graft=$1 tree=$2 lines=${3:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tree"
generated=$(python3 "$here/gen_tree.py" "$tree" "$lines")
[ "$generated" -ge "$lines" ] || { echo "bench: generated only $generated lines"; exit 1; }
run() { # run JOBS [OPTION] -> prints "wall cpu" seconds (cpu = user + sys, to see machine load)
    local TIMEFORMAT='%R %U %S' t
    t=$( { time "$graft" plan -q -p "$tree" -j "$1" --no-history ${2:-} --format json \
        -o "$tree/plan-j$1${2:-}.json"; } 2>&1)
    set -- $t
    echo "$1 $(echo "$2 + $3" | bc -l)"
}
read -r t1 c1 < <(run 1)
read -r t2 c2 < <(run 2)
read -r t3 c3 < <(run 2 --no-pch)
cmp -s "$tree/plan-j1.json" "$tree/plan-j2.json" || { echo "bench: -j1 and -j2 plans differ"; exit 1; }
cmp -s "$tree/plan-j2.json" "$tree/plan-j2--no-pch.json" ||
    { echo "bench: the plans with and without the shared preamble differ"; exit 1; }
python3 - "$tree/plan-j2.json" "$generated" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["files_failed"] == 0 and s["files_partial"] == 0, s
print(f"plan: {s['files']} files, {s['functions']} functions, {s['lines']} lines in "
      f"sources ({sys.argv[2]} generated with headers), {s['components']} components")
PY
printf 'plan: -j1 took %.2f s (%.2f s CPU), -j2 %.2f s (%.2f s CPU), -j2 --no-pch %.2f s (%.2f s CPU); wall time > CPU time / threads means the machine is busy (load average: %s)\n' "$t1" "$c1" "$t2" "$c2" "$t3" "$c3" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'bench plan-1m-lines: %.2f s (%.2fx graft plan -j1 on the same tree: wall time of -j2 over -j1)\n' "$t2" "$(echo "$t2 / $t1" | bc -l)"
printf 'bench plan-1m-lines-cpu: %.2f s (%.2fx graft plan -j2 --no-pch on the same tree: CPU time, user + sys, of -j2 with the shared preamble over -j2 without)\n' "$c2" "$(echo "$c2 / $c3" | bc -l)"
awk -v t="$t2" 'BEGIN { exit !(t < 60) }' || { echo "bench: over a minute"; exit 1; }

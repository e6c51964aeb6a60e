#!/usr/bin/env bash
# units.sh: Redis's own test units that exercise glob patterns, run against the grafted
# redis-server in one graft mode, then the seam's figures read from the servers
# themselves: every redis-server the suite starts appends its metrics to a report file
# at exit (REDIS_GRAFT_REPORT, src/graft_seam.c), and this script sums them.
#   units.sh OUT MODE     MODE: legacy | shadow | canary | candidate-only | faults
# faults = candidate mode with 20% injected errors and 20% real Rust panics: every
# reply must still be correct (the units pass) and every failure served by legacy.
set -euo pipefail
out=$(cd "$1" && pwd)
mode=$2
src=$out/redis-7.0.15
# Units whose commands call stringmatchlen(): KEYS and SCAN MATCH (keyspace, scan),
# PSUBSCRIBE and PUBSUB CHANNELS/NUMPAT (pubsub, pubsubshard), ACL key and channel
# patterns (acl, acl-v2), CONFIG GET and COMMAND LIST FILTERBY PATTERN (introspection,
# introspection-2), FUNCTION LIST LIBRARYNAME (functions).
units=(unit/keyspace unit/scan unit/pubsub unit/pubsubshard unit/acl unit/acl-v2
       unit/introspection-2 unit/functions)
[ -x "$src/src/redis-server" ] || { echo "units: $src/src/redis-server not built" >&2; exit 1; }
command -v tclsh > /dev/null || { echo "units: tclsh missing (deps/redis.list: tcl)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/redis-units.XXXXXX")
trap 'rm -rf "$work"' EXIT
report=$work/report.jsonl
unset GRAFT_CONFIG GRAFT_SEAMS GRAFT_ADMIN
case $mode in
  legacy) ;;
  shadow) export GRAFT_SEAMS=redis.stringmatch=shadow ;;
  canary) export GRAFT_SEAMS=redis.stringmatch=canary:50 REDIS_GRAFT_KEY=${REDIS_GRAFT_KEY:-input} ;;
  candidate-only) export GRAFT_SEAMS=redis.stringmatch=candidate-only ;;
  faults)
    cat > "$work/graft.ini" <<'EOF'
[seam redis.stringmatch]
mode = candidate
fault.error = 20
fault.panic = 20
breaker.enabled = false   ; keep injecting: the breaker would send everything to legacy
EOF
    export GRAFT_CONFIG=$work/graft.ini ;;
  *) echo "units: unknown mode $mode" >&2; exit 2 ;;
esac
export REDIS_GRAFT_REPORT=$report
args=()
for u in "${units[@]}"; do args+=(--single "$u"); done
# The suite runs from the source tree and writes its servers' files under tests/tmp.
cd "$src"
rm -rf tests/tmp
start=$SECONDS
# Redis's suite cannot use port 0: it probes for free ports from --baseport. A random
# base in 20000-43999 (1000 ports per run) keeps parallel runs of other people apart.
base=$((20000 + (RANDOM % 24) * 1000))
if ! ./runtest "${args[@]}" --clients 2 --timeout 300 --baseport "$base" --portcount 1000 \
     > "$work/runtest.log" 2>&1; then
  grep -E '\[(err|exception)\]|^\*\*\*|Killing|Error' "$work/runtest.log" | head -n 40
  tail -n 20 "$work/runtest.log"
  echo "units ($mode): Redis's tests FAILED" >&2
  exit 1
fi
passed=$(grep -c '\[.*ok.*\]:' "$work/runtest.log" || true)
[ -s "$report" ] || { echo "units ($mode): no server wrote a report" >&2; exit 1; }
# One line per server process; sum the seam's counters over all of them.
read -r procs calls compared mism legacy_served cand_served fallbacks faults panics failures < <(
  jq -rs '[.[] | {f: .facade_failures, s: (.seams.seams[] | select(.name == "redis.stringmatch"))}] |
    [length, (map(.s.counters.calls) | add), (map(.s.counters.compared) | add),
     (map(.s.counters.mismatches) | add), (map(.s.impl.legacy.served) | add),
     (map(.s.impl.candidate.served) | add), (map(.s.counters.fallbacks) | add),
     (map(.s.counters.faults_injected) | add), (map(.s.impl.candidate.panics) | add),
     (map(.f) | add)] | @tsv' "$report")
printf 'units (%s): %s tests passed in %ss; %s servers reported %s calls: compared %s, mismatches %s, served legacy %s / candidate %s, fallbacks %s, faults %s (panics %s), facade failures %s\n' \
  "$mode" "$passed" "$((SECONDS - start))" "$procs" "$calls" "$compared" "$mism" "$legacy_served" \
  "$cand_served" "$fallbacks" "$faults" "$panics" "$failures"
fail() { echo "units ($mode): FAIL: $*" >&2; exit 1; }
[ "$calls" -gt 1000 ] || fail "only $calls calls reached the seam"
[ "$failures" -eq 0 ] || fail "$failures calls answered without a result"
case $mode in
  legacy) [ "$cand_served" -eq 0 ] && [ "$legacy_served" -eq "$calls" ] || fail "legacy mode served by the candidate" ;;
  shadow) [ "$compared" -eq "$calls" ] || fail "shadow compared $compared of $calls calls"
          [ "$mism" -eq 0 ] || fail "$mism mismatches" ;;
  canary) [ "$cand_served" -gt 0 ] && [ "$legacy_served" -gt 0 ] || fail "canary 50 did not split the calls" ;;
  candidate-only) [ "$cand_served" -eq "$calls" ] || fail "candidate-only served $cand_served of $calls by Rust" ;;
  faults) [ "$faults" -gt 0 ] && [ "$panics" -gt 0 ] || fail "no fault injected"
          [ "$fallbacks" -eq "$faults" ] || fail "$faults faults but $fallbacks fallbacks" ;;
esac
echo "units ($mode): passed"

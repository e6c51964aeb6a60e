#!/usr/bin/env bash
# rules.sh: deploy/prometheus's rules pass `promtool check rules` and their unit tests,
# and every graft_* metric they name appears in libgraft's exposition (rt_metrics_dump).
# Usage: rules.sh PROMTOOL RULES_DIR RT_METRICS_DUMP
set -euo pipefail
promtool=$1 dir=$2 dump=$3
cd "$dir"
"$promtool" check rules graft.rules.yml
"$promtool" test rules graft.rules.test.yml graft.rules.stall.test.yml
exported=$("$dump" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort -u)
missing=0
for m in $(grep -o 'graft_[a-z_]*' graft.rules.yml | sed 's/_bucket$//' | sort -u); do
  grep -qx "$m" <<<"$exported" || { echo "FAIL: the rules read $m, which libgraft does not export"; missing=1; }
done
[ $missing -eq 0 ] && echo "rules: every metric the rules read is exported"
exit $missing

#!/usr/bin/env bash
# Regenerates the committed plans of real codebases, docs/plans/{redis,leveldb}.{md,svg}:
# fetches the Debian source packages and builds their compile databases with
# tools/plan/eval/eval.py --fetch (private apt configuration, into EXT), then plans them
# with directory/flat components (no groups file) and no git history.
# Usage: tools/plan/examples/real-plans.sh [BUILD_DIR] [EXT]   (default: build, build/plan-eval)
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
ext=${2:-${PLAN_EVAL_EXT:-$build/plan-eval}}
cmake --build "$build" -j 2 --target graft_cli
status=0
for name in redis leveldb; do
    read -r tree db < <(python3 tools/plan/eval/eval.py --ext "$ext" --fetch "$name")
    for fmt in md svg; do
        "$build/tools/plan/graft" plan -q -j 2 --no-history -p "$db" --root "$tree" \
            --format "$fmt" -o "docs/plans/$name.$fmt" || status=$?
    done
done
echo "plans written to docs/plans/{redis,leveldb}.{md,svg} (graft plan status $status)"
exit "$status"

#!/usr/bin/env bash
# Regenerates the committed example plan of kvd (docs/plans/kvd.{md,json,html,dot,svg}):
# builds graft and kvd (kvd's generated headers must exist for libclang), then plans the
# server/ sources of the build's compile_commands.json with the groups in kvd.ini.
# Usage: tools/plan/examples/kvd-plan.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja
cmake --build "$build" -j 2 --target graft_cli kvd
mkdir -p docs/plans
status=0
for fmt in md json html dot svg; do
    "$build/tools/plan/graft" plan -q -p "$build" --config tools/plan/examples/kvd.ini --no-history \
        --format "$fmt" -o "docs/plans/kvd.$fmt" || status=$?
done
echo "kvd plan written to docs/plans/kvd.{md,json,html,dot,svg} (graft plan status $status)"
exit "$status"

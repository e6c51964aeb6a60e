#!/usr/bin/env bash
# kvd's request parser must stay the first component to migrate: plans kvd's own sources
# (the build's compile_commands.json, tools/plan/examples/kvd.ini) and checks the order.
# Usage: kvd_first.sh GRAFT BUILD_DIR SOURCE_DIR
set -euo pipefail
graft=$1 build=$2 src=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$src"
status=0
"$graft" plan -q --no-history -p "$build" --config tools/plan/examples/kvd.ini --format json \
    -o "$out" || status=$?
[ "$status" -eq 0 ] || { echo "FAIL: graft plan exited $status"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
order = [o["component"] for o in p["order"]]
print("kvd order:", ", ".join(order))
first = p["order"][0]
assert first["component"] == "proto", f"first is {first['component']}, want proto"
assert first["tier"] == 1, first
inbound = sorted(i["name"] for i in first["seam"]["inbound"])
assert "kv_parse" in inbound, inbound
print("ok: proto first,", first["reason"])
PY

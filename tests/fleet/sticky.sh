#!/usr/bin/env bash
# sticky.sh: sticky bucketing is the same in every process of a fleet: two processes
# with different state (other seams registered first, different heap and ASLR) route
# the same 20,000 client keys identically at canary 1, 25 and 50; the share is within
# one point of the percentage; and the routing equals the committed vector
# (route_golden.txt: sha256 of route_dump's output per percentage), so a new version
# that moved buckets (which would re-shuffle users mid-rollout during a rolling deploy)
# fails here. Usage: sticky.sh ROUTE_DUMP GOLDEN
set -euo pipefail
dump=$1 golden=$2
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in 1 25 50; do
  "$dump" kv.parse "$p" "$n" >"$tmp/a"
  env GRAFT_UNRELATED=1 setarch -R "$dump" kv.parse "$p" "$n" -- other.seam another.one zzz >"$tmp/b" 2>/dev/null ||
    "$dump" kv.parse "$p" "$n" -- other.seam another.one zzz >"$tmp/b"
  cmp -s "$tmp/a" "$tmp/b" || { diff "$tmp/a" "$tmp/b" | head; echo "FAIL: routing differs between processes at canary $p"; exit 1; }
  got=$(wc -l <"$tmp/a")
  python3 -c "import sys; g,n,p=$got,$n,$p; sys.exit(0 if abs(100*g/n-p)<=1 else 1)" ||
    { echo "FAIL: canary $p served $got of $n keys"; exit 1; }
  sum=$(sha256sum <"$tmp/a" | cut -d' ' -f1)
  want=$(awk -v p="$p" '$1 == p { print $2 }' "$golden")
  [ "$sum" = "$want" ] || { echo "FAIL: canary $p routing changed: sha256 $sum, committed $want"; exit 1; }
  echo "canary $p: $got of $n keys to the candidate, identical in both processes and to the committed vector"
done

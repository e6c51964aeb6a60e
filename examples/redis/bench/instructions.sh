#!/usr/bin/env bash
# instructions.sh: the matcher's cost in instructions per key, counted by valgrind's
# callgrind (deterministic: a loaded machine does not blur it), for C, the Rust twin
# called directly, and both through the seam (legacy, candidate-only). One pass of
# redis-matchbench --profile over its 1M keys "key:N" per figure, counting only inside
# its pass() (the keys' set-up is not counted); ratios against the C of the same run.
# docs/REDIS.md's instruction table is made with it.
#   instructions.sh MATCHBENCH [PATTERN...]   (default: the four patterns of the table)
set -euo pipefail
bin=$1
shift
pats=("$@")
[ ${#pats[@]} -gt 0 ] || pats=('key:*99*' '*1*2*3*' '*[13579]?[02468]' 'key:1*')
command -v valgrind > /dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/redis-instr.XXXXXX")
trap 'rm -rf "$work"' EXIT
names=(c rust seam-legacy seam-candidate-only) # redis-matchbench's IMPL numbers 0..3
keys=1000000
for pat in "${pats[@]}"; do
  c=
  for impl in 0 1 2 3; do
    valgrind --tool=callgrind --toggle-collect=pass --callgrind-out-file="$work/cg" \
      "$bin" --profile "$impl" "$pat" 1 > /dev/null 2> "$work/log" ||
      { cat "$work/log" >&2; exit 1; }
    n=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$work/cg")
    [ -n "$n" ] || { echo "instructions.sh: no totals from callgrind" >&2; exit 1; }
    c=${c:-$n}
    awk -v name="${names[$impl]}" -v pat="$pat" -v n="$n" -v c="$c" -v k="$keys" 'BEGIN {
      printf "bench redis.match_instructions.%s[%s]: %.0f instructions/key (%.2fx c) -- callgrind, inside one pass over %d keys \"key:N\"\n",
        name, pat, n / k, n / c, k }'
  done
done

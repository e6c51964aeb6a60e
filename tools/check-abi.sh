#!/usr/bin/env bash
# check-abi.sh: libgraft's exported symbols must be exactly the documented list in
# abi/libgraft.symbols, so no symbol appears in or disappears from the ABI unnoticed.
#
#   tools/check-abi.sh <libgraft.so> [<libgraft.a>]   check (ctest abi-symbols, make lint)
#   tools/check-abi.sh --update <libgraft.so>         rewrite the list from the library
#
# Checks: (1) the .so's defined dynamic symbols equal the list, all under the version
# node GRAFT_0 (cmake/graft.map); (2) every listed symbol is declared in a public
# header (include/graft/{base,graft,admin}.h), so nothing internal leaks; (3) with the
# static archive, every global symbol it defines starts with graft_ (internal ones
# graft__), so a static link cannot collide with the host's names (except the USDT
# notes' shared weak anchor _.stapsdt.base).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list="$root/abi/libgraft.symbols"
update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
so=${1:?usage: check-abi.sh [--update] <libgraft.so> [<libgraft.a>]}
archive=${2:-}
[ -f "$so" ] || { echo "abi: no shared library at $so (build target graft_shared)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name@@version for every defined dynamic symbol except the version node itself.
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort -u > "$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u > "$tmp/actual"

if [ $update -eq 1 ]; then
  {
    echo "# abi/libgraft.symbols: every symbol libgraft.so exports (version node GRAFT_0)."
    echo "# Checked by tools/check-abi.sh (ctest abi-symbols, make lint). A change here is an"
    echo "# ABI change: adding is compatible, removing or renaming breaks hosts (bump the"
    echo "# soname, see cmake/GraftInstall.cmake). Regenerate: tools/check-abi.sh --update <so>"
    cat "$tmp/actual"
  } > "$list"
  echo "abi: wrote $(wc -l < "$tmp/actual") symbols to abi/libgraft.symbols"
  exit 0
fi

status=0
sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$list" | sort -u > "$tmp/expected"
if ! diff -u "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
  echo "abi: libgraft.so's exported symbols differ from abi/libgraft.symbols" >&2
  echo "abi: (+ exported but not listed, - listed but not exported)" >&2
  grep -E '^[+-][^+-]' "$tmp/diff" >&2 || true
  echo "abi: if the change is intended, run tools/check-abi.sh --update $so and commit" >&2
  status=1
fi
if grep -v '@@GRAFT_0$' "$tmp/versioned" > "$tmp/unversioned"; then
  echo "abi: symbols outside version node GRAFT_0:" >&2
  cat "$tmp/unversioned" >&2
  status=1
fi

headers=("$root/include/graft/base.h" "$root/include/graft/graft.h" "$root/include/graft/admin.h"
         "$root/include/graft/stateful.h")
while read -r sym; do
  if ! grep -qE "[^A-Za-z0-9_]$sym[[:space:]]*\(" "${headers[@]}"; then
    echo "abi: $sym is exported but not declared in a public header (include/graft/)" >&2
    status=1
  fi
done < "$tmp/actual"

if [ -n "$archive" ]; then
  [ -f "$archive" ] || { echo "abi: no archive at $archive" >&2; exit 2; }
  nm -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/static"
  # _.stapsdt.base: <sys/sdt.h>'s weak, hidden, COMDAT anchor of USDT notes (src/probes.h),
  # one per program by design: it merges with the host's own instead of colliding.
  if grep -v -e '^graft_' -e '^_\.stapsdt\.base$' "$tmp/static" > "$tmp/foreign"; then
    echo "abi: libgraft.a defines global symbols without the graft_ prefix:" >&2
    sed 's/^/  /' "$tmp/foreign" >&2
    status=1
  fi
fi

[ $status -eq 0 ] && echo "abi: $(wc -l < "$tmp/actual") exported symbols match abi/libgraft.symbols"
exit $status

#!/usr/bin/env bash
# Header drift check: every crate that declares [package.metadata.graft] header = "..."
# (the map cmake/GraftCrateHeaders.cmake reads, for this script, GraftRust.cmake and the
# Makefile's `headers`) is run through cbindgen into a temporary file, which must equal
# the committed header. (cbindgen 0.24.3's --verify rewrites the file before failing, so
# it is not used.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
map=$(cmake -DROOT=. -P cmake/GraftCrateHeaders.cmake)
[ -n "$map" ] || { echo "header-drift: no crate declares a header (cmake/GraftCrateHeaders.cmake)" >&2; exit 1; }
status=0
while read -r dir header; do
  out="$tmp/$(basename "$header")"
  cbindgen --quiet --config "$dir/cbindgen.toml" --output "$out" "$dir"
  if [ ! -f "$header" ]; then
    echo "header-drift: $header is missing (generate it with 'make headers')" >&2
    status=1
  elif ! diff -u "$header" "$out"; then
    echo "header-drift: $header differs from what cbindgen generates from $dir (run 'make headers')" >&2
    status=1
  else
    echo "header-drift: $header is up to date"
  fi
done <<< "$map"
exit $status

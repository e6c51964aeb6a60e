#!/usr/bin/env bash
# Header drift check: every crate that declares [package.metadata.graft] header = "..."
# is run through cbindgen into a temporary file, which must equal the committed header.
# (cbindgen 0.24.3's --verify rewrites the file before failing, so it is not used.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for manifest in rust/*/Cargo.toml; do
  header=$(sed -n 's/^header *= *"\([^"]*\)".*/\1/p' "$manifest" | head -n1)
  [ -n "$header" ] || continue
  dir=$(dirname "$manifest")
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
done
exit $status

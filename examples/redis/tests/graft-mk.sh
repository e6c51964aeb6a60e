#!/usr/bin/env bash
# graft-mk.sh: ctest graft-mk. cmake/graft.mk builds a Make host (tests/graft-mk/):
#   1. first make: cargo builds the twin, graft_cbindgen writes the header from the
#      repository root's point of view (workspace in a subdirectory), the host links;
#   2. a second make has nothing to do (`make -q`: no phony relink);
#   3. touching a .rs of the twin makes the staticlib and the host out of date;
#   4. GRAFT_RUST_SYSLIBS came from rustc (the cache file exists and is not empty).
# Usage: graft-mk.sh <graft source> <libgraft.a> "<its deps>" <out dir>
set -euo pipefail
root=$1 lib=$2 deps=$3
mkdir -p "$4"
out=$(cd "$4" && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
mk=(make -s -f "$root/examples/redis/tests/graft-mk/Makefile" ROOT="$root" LIBGRAFT="$lib" LIBGRAFT_DEPS="$deps" OUT="$out")
cd "$root"   # cbindgen from the repository root
rm -f "$out/host" "$out/host.o" "$out/redis_match_rs.h"
"${mk[@]}"
"$out/host"
cmp -s "$out/redis_match_rs.h" examples/redis/include/redis_match_rs.h ||
  { echo "graft-mk: generated header differs from examples/redis/include/redis_match_rs.h" >&2; exit 1; }
"${mk[@]}" -q || { echo "graft-mk: a second make would rebuild (phony dependency?)" >&2; exit 1; }
rs=examples/redis/rust/redis-match/src/lib.rs
saved=$(stat -c %y "$rs")
touch "$rs"
if "${mk[@]}" -q; then touch -d "$saved" "$rs"; echo "graft-mk: a changed .rs did not make the host out of date" >&2; exit 1; fi
"${mk[@]}"
touch -d "$saved" "$rs"
[ -s "$out/cargo/graft-native-static-libs.txt" ] || { echo "graft-mk: no native-static-libs cache" >&2; exit 1; }
echo "graft-mk: passed (std needs: $(cat "$out/cargo/graft-native-static-libs.txt"))"

#!/usr/bin/env bash
# build.sh: Redis 7.0.15 from Debian's source package, with stringmatchlen() behind a
# graft seam and its Rust twin (examples/redis, docs/REDIS.md).
#   1. fetch: `apt-get source redis` with a private apt configuration under OUT/apt (the
#      machine's sources are not touched); once, the archives stay cached in OUT/apt;
#   2. extract (dpkg-source, Debian's own patches applied) into OUT/redis-7.0.15 and apply
#      patches/series on top; re-done whenever a patch changes;
#   3-4. Redis's own Makefile, with graft.mk (GRAFT_MK), builds the twin
#      (rust/redis-match, cargo, into OUT/cargo), redis-server, redis-cli and
#      redis-benchmark;
#   5. the differential test and (with clang) the libFuzzer target, against the C
#      matcher extracted from the patched util.c (never committed: it is Redis's code).
# Usage: build.sh OUT LIBGRAFT_A "GRAFT_STATIC_LIBS" LIBGRAFT_ADMIN_A "GRAFT_ADMIN_LIBS"
#   (called by examples/redis/CMakeLists.txt). The patch serves the admin endpoint
#   (graft_admin_start_from_env), so redis-server links libgraft-admin (GRAFT_ADMIN=1);
#   the difference test links the core alone.
#        build.sh --fetch-only OUT                     (step 1 only: deps/redis.sh, make deps)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fetch_only=0
if [ "${1:-}" = --fetch-only ]; then fetch_only=1; shift; fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
jobs=${JOBS:-2}
export PATH="$HOME/.cargo/bin:$PATH"
version=7.0.15
src=$out/redis-$version
log() { printf 'redis example: %s\n' "$*"; }

# ---------------------------------------------------------------- 1. fetch
apt=$out/apt
if ! ls "$apt"/src/redis_"$version"-*.dsc > /dev/null 2>&1; then
  log "fetching Debian's redis source package (private apt configuration in $apt)"
  mkdir -p "$apt"/{lists/partial,parts,cache/archives/partial,src}
  # deb-src twins of the machine's own Debian sources (its mirror, its suites), in a
  # private list: the machine's configuration is only read.
  apt-get indextargets --format '$(SITE) $(RELEASE)' 'Created-By: Packages' | sort -u |
    awk '{ print "deb-src " $1 " " $2 " main" }' > "$apt/sources.list"
  [ -s "$apt/sources.list" ] || { echo "redis example: no Debian source configured on this machine" >&2; exit 1; }
  aptopts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/parts"
           -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${aptopts[@]}" -qq update
  (cd "$apt/src" && apt-get "${aptopts[@]}" -qq --download-only source redis)
  ls "$apt"/src/redis_"$version"-*.dsc > /dev/null 2>&1 ||
    { echo "redis example: bookworm's redis is not $version; update examples/redis" >&2; exit 1; }
fi
dsc=$(ls "$apt"/src/redis_"$version"-*.dsc | tail -n1)
[ "$fetch_only" -eq 0 ] || exit 0
libgraft=$(realpath "$2")
graft_deps=$3
libgraft_admin=$(realpath "$4")
graft_admin_deps=$5

# ---------------------------------------------------------------- 2. extract + patch
stamp=$(cat "$dsc" "$here/patches/series" $(sed "s|^|$here/patches/|" "$here/patches/series") | sha256sum | cut -c1-16)
if [ "$(cat "$src/.graft-patches" 2>/dev/null)" != "$stamp" ]; then
  log "extracting $(basename "$dsc") and applying patches/series"
  rm -rf "$src"
  dpkg-source --no-check -x "$dsc" "$src" > "$out/extract.log" 2>&1 || { cat "$out/extract.log"; exit 1; }
  while read -r p; do
    [ -n "$p" ] || continue
    patch -d "$src" -p1 --forward --quiet < "$here/patches/$p" || { echo "redis example: $p does not apply" >&2; exit 1; }
  done < "$here/patches/series"
  echo "$stamp" > "$src/.graft-patches"
fi

# ---------------------------------------------------------------- 3-4. the twin and Redis
# graft.mk (cmake/graft.mk; installed as share/graft/graft.mk) computes the flags, builds
# the twin with cargo when its sources changed and asks rustc for std's system
# libraries; libgraft comes from this build tree instead of pkg-config.
log "make -C redis-$version (MALLOC=libc USE_SYSTEMD=no BUILD_TLS=no, graft.mk)"
make -C "$src" -j "$jobs" MALLOC=libc USE_SYSTEMD=no BUILD_TLS=no \
  GRAFT_MK="$root/cmake/graft.mk" GRAFT_CRATE=redis-match GRAFT_CARGO_DIR="$here/rust" \
  GRAFT_CARGO_TARGET_DIR="$out/cargo" GRAFT_LIBGRAFT="$libgraft" GRAFT_LIBGRAFT_DEPS="$graft_deps" \
  GRAFT_ADMIN=1 GRAFT_LIBGRAFT_ADMIN="$libgraft_admin" GRAFT_LIBGRAFT_ADMIN_DEPS="$graft_admin_deps" \
  GRAFT_INCLUDE_DIRS="$root/include $here/include" > "$out/make.log" 2>&1 ||
  { tail -n 40 "$out/make.log"; exit 1; }
rustlib=$out/cargo/release/libredis_match.a
rust_syslibs=$(cat "$out/cargo/graft-native-static-libs.txt")
graft_libs="$libgraft $graft_deps $rustlib $rust_syslibs"
# For clangd in the Redis tree (tools/ide-setup.sh): the glue's compile command.
printf '[{"directory": "%s", "file": "graft_seam.c", "command": "cc -std=c11 -I../deps/hiredis -I../deps/linenoise -I../deps/lua/src -I../deps/hdr_histogram -I%s -I%s -c graft_seam.c"}]\n' \
  "$src/src" "$root/include" "$here/include" > "$src/compile_commands.json"
grep -E 'graft_seam\.c.*(warning|error)' "$out/make.log" && { echo "redis example: warnings in graft_seam.c" >&2; exit 1; }

# ---------------------------------------------------------------- 5. differential test, fuzz target
# The C matcher as the patched util.c has it: from its comment to the end of
# stringmatchlen_legacy(), nothing else of Redis.
mkdir -p "$out/bin"
{ printf '/* Extracted from redis-%s/src/util.c by examples/redis/build.sh. */\n#include <ctype.h>\n' "$version"
  sed -n '/^\/\* Glob-style pattern matching\. \*\//,/^int stringmatch(const char/p' "$src/src/util.c" | sed '$d'
} > "$out/stringmatch_c.c"
grep -q '^int stringmatchlen_legacy(' "$out/stringmatch_c.c" || { echo "redis example: matcher not found in util.c" >&2; exit 1; }
cc=${CC:-cc}
$cc -std=c11 -O2 -g -Wall -Wextra -I"$here/include" -o "$out/bin/redis-difftest" \
  "$here/tests/difftest.c" "$out/stringmatch_c.c" "$rustlib" $rust_syslibs
$cc -std=c11 -O2 -g -Wall -Wextra -I"$root/include" -I"$here/include" -o "$out/bin/redis-matchbench" \
  "$here/bench/matchbench.c" "$out/stringmatch_c.c" $graft_libs
if command -v clang > /dev/null; then
  clang -O1 -g -fsanitize=fuzzer,address,undefined -I"$here/include" -o "$out/bin/redis-fuzz-stringmatch" \
    "$here/tests/fuzz_stringmatch.c" "$out/stringmatch_c.c" "$rustlib" $rust_syslibs
fi
log "built $src/src/redis-server"

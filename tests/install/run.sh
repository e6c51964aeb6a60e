#!/usr/bin/env bash
# run.sh: ctest install-starter. Installs this build of graft into a fresh temporary
# prefix with `cmake --install`, then, using that prefix ONLY:
#   1. checks the prefix holds what docs/ADOPTING.md promises (soname, headers,
#      CMake package, pkg-config files, the graft-ffi crate, cargo settings);
#   2. configures, builds and tests examples/starter with find_package(graft), from C
#      (shared libgraft) and from C++ (graft.hpp, static libgraft), and checks no path
#      of graft's source or build tree leaked into it;
#   3. builds the starter again with its Makefile (pkg-config, cargo, no CMake);
#   4. builds tests/install/host.c with pkg-config (graft.pc, then graft-static.pc)
#      and host.cpp with graft.pc, and runs them; the static core host must need no
#      library beyond libc and pthreads (readelf NEEDED);
#   5. builds tests/install/host_admin.c with graft-admin.pc + graft-static.pc (the
#      admin endpoint) and runs it: it serves /api/seams.
# Usage: run.sh <graft build dir> <graft source dir> <C compiler> <C++ compiler>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=$3
cxx=$4
export PATH="$HOME/.cargo/bin:$PATH"
unset CARGO_TARGET_DIR RUSTFLAGS PKG_CONFIG_PATH CMAKE_PREFIX_PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/graft-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
step() { printf '== install-starter: %s (%ss)\n' "$*" "$SECONDS"; }
fail() { echo "install-starter: FAIL: $*" >&2; exit 1; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "install"; }

pc=$(find "$prefix" -name graft.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "no graft.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in include/graft/graft.h include/graft/base.h include/graft/admin.h \
         include/graft/graft_ffi.h include/graft/graft.hpp \
         share/graft/rust/graft-ffi/Cargo.toml share/graft/rust/graft-ffi/src/lib.rs \
         share/graft/cargo-config.toml; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
for f in libgraft.a libgraft-admin.a libgraft.so cmake/graft/graftConfig.cmake cmake/graft/graftConfigVersion.cmake \
         cmake/graft/graftTargets.cmake cmake/graft/GraftRust.cmake cmake/graft/GraftCrateHeaders.cmake \
         pkgconfig/graft-static.pc pkgconfig/graft-admin.pc; do
  [ -e "$libdir/$f" ] || fail "${libdir#"$prefix"/}/$f not installed"
done
soname=$(objdump -p "$libdir/libgraft.so" | awk '$1 == "SONAME" { print $2 }')
[[ "$soname" =~ ^libgraft\.so\.[0-9]+(\.[0-9]+)?$ ]] || fail "unexpected soname '$soname'"
[ -e "$libdir/$soname" ] || fail "$soname (the soname link) not installed"
grep -q "path = \"$prefix/share/graft/rust/graft-ffi\"" "$prefix/share/graft/cargo-config.toml" ||
  fail "cargo-config.toml does not point at the installed graft-ffi"

step "starter: configure against the prefix only"
sb=$tmp/starter
cmake -S "$src/examples/starter" -B "$sb" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON > "$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "starter configure"; }
graft_dir=$(sed -n 's/^graft_DIR:PATH=//p' "$sb/CMakeCache.txt")
[[ "$graft_dir" == "$prefix"/* ]] || fail "graft found at '$graft_dir', not in the prefix"

step "starter: build (C, C++, Rust twin)"
cmake --build "$sb" -j 2 > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "starter build"; }
if grep -F -e "$src/include" -e "$src/rust" -e "$build" "$sb/compile_commands.json" "$sb/build.ninja" \
   > "$tmp/leaks"; then
  head -n5 "$tmp/leaks"
  fail "the starter's build refers to graft's source or build tree"
fi
# (ldd into a file: grep -q closing the pipe early would fail the pipeline)
ldd "$sb/parity_c" > "$tmp/ldd_c"
grep -q "libgraft\.so.* => $libdir/" "$tmp/ldd_c" || { cat "$tmp/ldd_c"; fail "parity_c does not load the installed libgraft.so"; }
ldd "$sb/parity_cpp" > "$tmp/ldd_cpp"
if grep -q libgraft "$tmp/ldd_cpp"; then fail "parity_cpp should link libgraft statically"; fi

step "starter: ctest"
ctest --test-dir "$sb" --output-on-failure --timeout 60 || fail "starter tests"

step "starter: Make + pkg-config build (examples/starter/Makefile)"
# Reuses the CMake build's cargo directory: same crate, same profile, nothing to rebuild.
make -s -f "$src/examples/starter/Makefile" GRAFT_PREFIX="$prefix" BUILD="$tmp/starter-make" \
  CC="$cc" CARGO_TARGET_DIR="$sb/cargo" test > "$tmp/make.log" 2>&1 ||
  { cat "$tmp/make.log"; fail "starter Make build"; }
tail -n2 "$tmp/make.log"

step "pkg-config hosts"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is intended
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/host_shared" "$src/tests/install/host.c" \
  $(pkg-config --cflags --libs graft) -Wl,-rpath,"$libdir" || fail "pkg-config graft: C host build"
"$tmp/host_shared" || fail "C host (shared)"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/host_static" "$src/tests/install/host.c" \
  $(pkg-config --cflags --libs graft-static) || fail "pkg-config graft-static: C host build"
ldd "$tmp/host_static" > "$tmp/ldd_host"
if grep -q libgraft "$tmp/ldd_host"; then fail "host_static loads libgraft.so"; fi
"$tmp/host_static" || fail "C host (static)"
# The core alone: nothing but libc (pthreads are in glibc 2.34+'s libc) at run time,
# nothing of the endpoint's libraries at link time.
readelf -d "$tmp/host_static" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }' > "$tmp/needed_static"
if grep -v -E '^(libc|libpthread|libm)\.so' "$tmp/needed_static"; then
  fail "host_static (core only) needs more than libc/libpthread/libm"
fi
pkg-config --libs graft-static > "$tmp/libs_static"
if grep -E 'microhttpd|cjson|inih|gnutls' "$tmp/libs_static"; then
  fail "graft-static.pc names a library of the admin endpoint"
fi
grep -q "graft::graft_admin" "$libdir/cmake/graft/graftTargets.cmake" ||
  fail "the CMake package has no graft::graft_admin"
# shellcheck disable=SC2046
"$cxx" -std=c++17 -Wall -Wextra -Werror -o "$tmp/host_cpp" "$src/tests/install/host.cpp" \
  $(pkg-config --cflags --libs graft) -Wl,-rpath,"$libdir" || fail "pkg-config graft: C++ host build"
"$tmp/host_cpp" || fail "C++ host"

step "pkg-config host with the admin endpoint (graft-admin.pc + graft-static.pc)"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/host_admin" "$src/tests/install/host_admin.c" \
  $(pkg-config --cflags --libs graft-admin graft-static) || fail "pkg-config graft-admin: C host build"
ldd "$tmp/host_admin" > "$tmp/ldd_admin"
grep -q libmicrohttpd "$tmp/ldd_admin" || fail "host_admin does not load libmicrohttpd"
"$tmp/host_admin" || fail "C host with the admin endpoint"

step "done"
echo "install-starter: passed"

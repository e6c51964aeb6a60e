#!/usr/bin/env bash
# check-core-deps.sh: the core library may need nothing beyond libc, libpthread and
# libm (issue 18.5; ctest core-deps). Every member of the archive is linked into a
# shared object with -nodefaultlibs -lc -lpthread -lm and --no-undefined, so any symbol
# from another library (cJSON_*, MHD_*, ini_*) fails the link; the symbols the archive
# leaves undefined and no allowed library defines are listed by name.
#
#   tools/check-core-deps.sh <cc> <libgraft.a>            must pass
#   tools/check-core-deps.sh --must-fail <cc> <other.a>   the check itself catches a
#                                                         library that needs more
set -euo pipefail
must_fail=0
if [ "${1:-}" = "--must-fail" ]; then
  must_fail=1
  shift
fi
cc=${1:?usage: check-core-deps.sh [--must-fail] <cc> <archive>}
archive=${2:?usage: check-core-deps.sh [--must-fail] <cc> <archive>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Undefined in the archive, minus what the archive defines itself.
nm -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/defined"
nm -g -u "$archive" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u > "$tmp/undef"
comm -23 "$tmp/undef" "$tmp/defined" > "$tmp/needed"
# What libc, libpthread and libm (and the dynamic loader) export.
: > "$tmp/allowed"
for lib in libc.so.6 libpthread.so.0 libm.so.6 ld-linux-x86-64.so.2; do
  path=$("$cc" -print-file-name="$lib")
  if [ -f "$path" ]; then
    nm -D --defined-only "$path" | awk '{ sub(/@.*/, "", $3); print $3 }' >> "$tmp/allowed"
  fi
done
# libc.so is a linker script that also names libc_nonshared.a (atexit, at_quick_exit,
# stat wrappers on older glibc): part of libc for every program linked with -lc.
nonshared=$("$cc" -print-file-name=libc_nonshared.a)
if [ -f "$nonshared" ]; then
  nm -g --defined-only "$nonshared" 2>/dev/null | awk 'NF == 3 { print $3 }' >> "$tmp/allowed"
fi
sort -u -o "$tmp/allowed" "$tmp/allowed"
# Symbols the linker itself defines.
printf '%s\n' _GLOBAL_OFFSET_TABLE_ __dso_handle _DYNAMIC >> "$tmp/allowed"
sort -u -o "$tmp/allowed" "$tmp/allowed"
comm -23 "$tmp/needed" "$tmp/allowed" > "$tmp/foreign"

rc=0
"$cc" -shared -o "$tmp/probe.so" -Wl,--whole-archive "$archive" -Wl,--no-whole-archive \
  -nodefaultlibs -lc -lpthread -lm -lgcc -Wl,--no-undefined 2> "$tmp/link.log" || rc=$?

name=$(basename "$archive")
if [ $must_fail -eq 1 ]; then
  if [ $rc -eq 0 ] && [ ! -s "$tmp/foreign" ]; then
    echo "core-deps: $name links with libc, libpthread and libm alone, but it was expected not to" >&2
    exit 1
  fi
  echo "core-deps: $name needs more than libc/libpthread/libm, as expected: $(head -n 3 "$tmp/foreign" | tr '\n' ' ')..."
  exit 0
fi
if [ -s "$tmp/foreign" ] || [ $rc -ne 0 ]; then
  echo "core-deps: $name needs symbols beyond libc, libpthread and libm:" >&2
  sed 's/^/  /' "$tmp/foreign" >&2
  grep -m 10 "undefined reference" "$tmp/link.log" >&2 || cat "$tmp/link.log" >&2
  exit 1
fi
echo "core-deps: $name: $(wc -l < "$tmp/needed") undefined symbols, all from libc, libpthread or libm"

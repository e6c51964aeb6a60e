#!/usr/bin/env bash
# deps-test.bash: the dependency-closure check (deps.sh) must FAIL, naming the package
# and the list, on lists that miss something. Fixtures are copies of deps/ with one
# package taken out, so they follow the lists as they change:
#   1. the lists before issue 12's fix: without librust-proptest+default-dev (cargo could
#      not resolve lazy_static on a new machine);
#   2. without memcached (a program), libinih-dev (a pkg-config module) and curl (a
#      program a test script calls);
#   3. a list naming a package Debian does not have.
# (Not named .sh: lint.sh runs every lint.d/*.sh; this one is run by ctest.)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

fixture() { # name, then sed expressions applied to every list
  local d=$tmp/$1; shift
  cp -r "$repo/deps" "$d"
  for f in "$d"/*.list; do sed -i "$@" "$f"; done
  echo "$d"
}
expect_fail() { # name dir pattern...
  local name=$1 dir=$2; shift 2
  "$here/deps.sh" "$dir" >"$tmp/$name.out" 2>&1
  local rc=$?
  if [ $rc -ne 1 ]; then
    echo "FAIL $name: deps.sh exited $rc, wanted 1"; cat "$tmp/$name.out"; fail=1; return
  fi
  for p in "$@"; do
    grep -qF -- "$p" "$tmp/$name.out" || { echo "FAIL $name: no '$p' in:"; cat "$tmp/$name.out"; fail=1; }
  done
  echo "ok $name: fails, naming: $*"
}

# The cases run side by side (each is mostly one apt resolution); each writes its verdict.
(
  d=$(fixture old-lists -e '/^librust-proptest+default-dev$/d')
  expect_fail old-lists "$d" \
    "add librust-proptest+default-dev to deps/base.list" \
    "crate lazy_static 1.4.0: /usr/share/cargo/registry/lazy_static-1.4.0 is in librust-lazy-static-dev"
  exit $fail
) >"$tmp/case1" 2>&1 &
p1=$!
(
  d=$(fixture no-server-tools -e '/^memcached$/d' -e '/^libinih-dev$/d' -e '/^curl$/d')
  expect_fail no-server-tools "$d" \
    "program memcached: /usr/bin/memcached is in memcached" "add memcached to deps/server.list" \
    "pkg-config inih:" "add libinih-dev to deps/plan.list" \
    "program curl: /usr/bin/curl is in curl" "add curl to deps/"
  exit $fail
) >"$tmp/case2" 2>&1 &
p2=$!
d=$(fixture bad-name -e '$a graft-no-such-package-xyz')
expect_fail bad-name "$d" "no such Debian package: graft-no-such-package-xyz"
wait $p1 || fail=1
cat "$tmp/case1"
wait $p2 || fail=1
cat "$tmp/case2"

[ $fail -eq 0 ] && echo "deps-test: the closure check catches each missing package"
exit $fail

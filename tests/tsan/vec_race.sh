#!/usr/bin/env bash
# vec_race.sh BIN SUPPRESSIONS: the TSan suppression file against planted races on Rust
# Vec-backed memory (vec_race.c): real C-versus-Rust races must be reported, the Rust
# Vec-growth false positive must be silenced, and the false positive must really occur
# without the file (or the "silenced" check would prove nothing).
set -uo pipefail
bin=$1 supp=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
run() { # case suppressions-file-or-empty -> sets rc, output in $out
  local opts="halt_on_error=1:exitcode=66"
  [ -n "$2" ] && opts="$opts:suppressions=$2"
  TSAN_OPTIONS=$opts "$bin" "$1" >"$out" 2>&1
  rc=$?
}
expect() { # case reported|silent [suppressions]
  local c=$1 want=$2 file=${3-$supp}
  run "$c" "$file"
  if [ "$want" = reported ]; then
    if [ $rc -eq 66 ] && grep -q 'WARNING: ThreadSanitizer: data race' "$out"; then
      echo "ok $c: reported${file:+ with $(basename "$file")}"
    else
      echo "FAIL $c: a real race was not reported (exit $rc)"; cat "$out"; fail=1
    fi
  else
    if [ $rc -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' "$out"; then
      echo "ok $c: silent with $(basename "$file")"
    else
      echo "FAIL $c: expected no report (exit $rc)"; cat "$out"; fail=1
    fi
  fi
}
expect publish reported
expect free reported
expect grow silent
expect clean silent
expect grow reported "" # the false positive is real without the file
# Not a check, a record: the old line hid the publish race.
old=$(mktemp)
echo 'race:alloc::raw_vec::*' >"$old"
run publish "$old"
[ $rc -eq 0 ] && echo "note: the old 'race:alloc::raw_vec::*' hides the publish race"
rm -f "$old"
exit $fail

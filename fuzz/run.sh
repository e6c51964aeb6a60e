#!/usr/bin/env bash
# Differential fuzzing of kvd's C components against their Rust twins (libFuzzer).
#
#   fuzz/run.sh [SECONDS] [FUZZ_BUILD_DIR]
#
# Configures a separate clang build (-DGRAFT_FUZZ=ON: C with libFuzzer instrumentation,
# ASan and UBSan; Rust with sanitizer coverage), builds only the fuzz targets, then
# fuzzes the parser for 1/2 of SECONDS, the storage engines (fuzz_kv_store) for 1/4 and
# the hash for the rest. The parser and store harnesses abort on the first difference
# between C and Rust, the hash harness (kv.hash is
# retired, no C left) on a golden vector or a property of the definition that fails; the input is then saved under
# <dir>/artifacts/ and this script exits non-zero, printing how to turn it into a
# regression case (fuzz/regressions/<target>/, replayed by the parity tests).
# New coverage found goes to <dir>/corpus/<target>/ (the committed seeds in
# fuzz/corpus/ are read, never written).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
secs=${1:-300}
dir=${2:-${BUILD:-build}-fuzz}
jobs=${FUZZ_JOBS:-2}
case "$secs" in '' | *[!0-9]*) echo "fuzz/run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac
[ "$secs" -ge 4 ] || { echo "fuzz/run.sh: give at least 4 seconds" >&2; exit 2; }

if [ ! -f "$dir/build.ninja" ]; then
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGRAFT_FUZZ=ON >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; exit 1; }
fi
cmake --build "$dir" -j "$jobs" --target fuzz_kv_parse fuzz_kv_hash fuzz_kv_store

parse_secs=$((secs / 2))
store_secs=$((secs / 4))
hash_secs=$((secs - parse_secs - store_secs))
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
run() { # target seconds
  local t=$1 s=$2
  # git does not keep empty directories: the regressions folder may be absent in a clone.
  mkdir -p "$dir/corpus/$t" "$dir/artifacts" "fuzz/regressions/$t"
  echo "== fuzz $t for ${s}s"
  local dict=()
  [ -f "fuzz/kv_$t.dict" ] && dict=(-dict="fuzz/kv_$t.dict")
  if ! "$dir/fuzz/fuzz_kv_$t" -max_total_time="$s" -print_final_stats=1 -timeout=10 \
    "${dict[@]}" -artifact_prefix="$dir/artifacts/$t-" \
    "$dir/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" 2>"$dir/fuzz-$t.log"; then
    tail -n 60 "$dir/fuzz-$t.log"
    echo "fuzz $t: C and Rust diverged (or crashed). Keep the case as a regression test:"
    for a in "$dir/artifacts/$t-"*; do
      [ -f "$a" ] && echo "  cp $a fuzz/regressions/$t/\$(sha1sum < $a | cut -c1-16)"
    done
    status=1
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$dir/fuzz-$t.log" | sed "s/^/fuzz $t: /" || true
  fi
}
run parse "$parse_secs"
run store "$store_secs"
run hash "$hash_secs"
[ $status -eq 0 ] && echo "fuzz: no divergence in ${secs}s"
exit $status

#!/usr/bin/env bash
# Static checks: C formatting and analysis, Rust formatting and clippy, FFI rules.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
fail=0
step() { echo "== lint: $*"; }
mapfile -t csrc < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | grep -v -E '^(include/graft/graft_ffi\.h|tests/include/graft_ffi_testkit\.h|server/include/kv_rs\.h)$' | grep -v -E '(^|/)generated/')

step "clang-format"
if ((${#csrc[@]})); then clang-format --dry-run -Werror "${csrc[@]}" || fail=1; fi

step "cppcheck"
mapfile -t cfiles < <(git ls-files 'src/*.c' 'server/*.c' 'tools/*.c' 'tools/**/*.c')
if ((${#cfiles[@]})); then
  cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
    --inline-suppr --suppress=missingIncludeSystem -I include -I server "${cfiles[@]}" || fail=1
fi

step "rustfmt"
cargo fmt --all -- --check || fail=1

step "clippy"
cargo clippy --offline --locked --workspace --all-targets -q -- -D warnings || fail=1

for check in tools/lint.d/*.sh; do
  [ -x "$check" ] || continue
  step "$(basename "$check" .sh)"
  "$check" || fail=1
done

[ $fail -eq 0 ] && echo "lint: clean" || echo "lint: FAILED"
exit $fail

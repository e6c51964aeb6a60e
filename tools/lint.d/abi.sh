#!/usr/bin/env bash
# lint.d/abi.sh: the ABI symbol check of `make lint` (tools/check-abi.sh) on a fresh
# libgraft.so and libgraft.a, built in their own directory (GRAFT_LINT_BUILD,
# default build-lint) so lint needs no prior build and disturbs no other.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
dir=${GRAFT_LINT_BUILD:-build-lint}
if [ ! -f "$dir/build.ninja" ]; then
  log=$(mktemp)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$log" 2>&1 ||
    { cat "$log" >&2; rm -f "$log"; echo "abi: configure failed" >&2; exit 1; }
  rm -f "$log"
fi
cmake --build "$dir" --target graft_shared graft -j 2 > /dev/null ||
  { cmake --build "$dir" --target graft_shared graft -j 1 >&2; exit 1; }
tools/check-abi.sh "$dir/libgraft.so" "$(find "$dir/src" -name libgraft.a | head -n1)"

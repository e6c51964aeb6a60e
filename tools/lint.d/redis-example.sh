#!/usr/bin/env bash
# examples/redis has its own Cargo workspace, outside graft's: rustfmt, clippy -D
# warnings and the FFI boundary rule (tools/lint.d/ffi-boundary.sh) over it.
set -euo pipefail
cd "$(dirname "$0")/../.."
m=examples/redis/rust/Cargo.toml
cargo fmt --manifest-path "$m" --all -- --check
cargo clippy --offline --locked -q --manifest-path "$m" --target-dir "${BUILD:-build}/examples/redis/cargo" \
  --all-targets -- -D warnings
mapfile -t files < <(find examples/redis/rust -path '*/src/*' -name '*.rs' | sort)
tools/lint.d/ffi-boundary.sh "${files[@]}"

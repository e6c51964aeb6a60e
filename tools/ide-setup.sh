#!/usr/bin/env bash
# ide-setup.sh: the one step that sets up clangd and rust-analyzer for graft (docs/BUILDING
# and docs/REVIEWING.md, "Onboarding"), and --check, which proves they work offline.
#   tools/ide-setup.sh [BUILD]          configure BUILD (default build) so that
#                                       compile_commands.json exists; link it at the root
#                                       when BUILD is not build/ (clangd looks in build/)
#   tools/ide-setup.sh --check [BUILD]  clangd parses graft's C and the Redis example's
#                                       glue with 0 errors; every Cargo workspace
#                                       resolves offline from Debian's registry (what
#                                       rust-analyzer does first); rust-analyzer itself
#                                       if installed (ctest ide-setup)
# rust-analyzer: `rustup component add rust-analyzer` (rustup's network) or any build of
# it; it finds the root workspace itself; the other workspaces go into your editor's
# rust-analyzer.linkedProjects (the list this script prints). Offline resolution needs
# nothing more: .cargo/config.toml replaces crates.io with /usr/share/cargo/registry.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
build=${1:-build}
export PATH="$HOME/.cargo/bin:$PATH"
workspaces=(Cargo.toml examples/redis/rust/Cargo.toml examples/starter/Cargo.toml)

if [ "$check" -eq 0 ]; then
  [ -f "$build/compile_commands.json" ] || cmake -S . -B "$build" -G Ninja > /dev/null
  if [ "$build" != build ]; then ln -sfn "$build/compile_commands.json" compile_commands.json; fi
  echo "ide-setup: clangd uses $build/compile_commands.json (C and C++ of graft, kvd, tools, tests)"
  echo "ide-setup: the Redis example's glue has its own: $build/examples/redis/redis-7.0.15/compile_commands.json (after make build)"
  echo "ide-setup: rust-analyzer.linkedProjects = [$(printf '"%s", ' "${workspaces[@]}" | sed 's/, $//')]"
  command -v rust-analyzer > /dev/null && rust-analyzer --version > /dev/null 2>&1 ||
    echo "ide-setup: rust-analyzer not installed: rustup component add rust-analyzer"
  exit 0
fi

fail=0
ccdb=$build/compile_commands.json
[ -f "$ccdb" ] || { echo "ide-setup: no $ccdb (run tools/ide-setup.sh)" >&2; exit 1; }
files=(src/call.c server/kv_proto.c)
glue=$build/examples/redis/redis-7.0.15/src/graft_seam.c
[ -f "$glue" ] && files+=("$glue")
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  log=$(clangd --check="$f" 2>&1) || true
  if ! grep -q "All checks completed, 0 errors" <<< "$log"; then
    grep -E '^E\[' <<< "$log" | head -n 5
    echo "ide-setup: clangd reports errors in $f" >&2
    fail=1
  else
    db=$(sed -n 's/.*Loaded compilation database from //p' <<< "$log" | head -n1)
    echo "ide-setup: clangd: $f: 0 errors (database $db)"
  fi
done
for m in "${workspaces[@]}"; do
  patch=()
  [ "$m" = examples/starter/Cargo.toml ] && patch=(--config "patch.crates-io.graft-ffi.path='$PWD/rust/graft-ffi'")
  if cargo metadata --offline --locked --format-version 1 --manifest-path "$m" "${patch[@]}" > /dev/null 2> "$build/ide-metadata.log"; then
    echo "ide-setup: $m resolves offline"
  else
    cat "$build/ide-metadata.log"; echo "ide-setup: $m does not resolve offline" >&2; fail=1
  fi
done
if command -v rust-analyzer > /dev/null && rust-analyzer --version > /dev/null 2>&1; then
  rust-analyzer analysis-stats --skip-inference . > /dev/null || { echo "ide-setup: rust-analyzer failed" >&2; fail=1; }
  echo "ide-setup: rust-analyzer loaded the workspace"
else
  echo "ide-setup: rust-analyzer not installed here: its offline part (cargo metadata) checked above"
fi
exit $fail

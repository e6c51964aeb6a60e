#!/usr/bin/env bash
# make deps hook: fetch Debian's redis source package for examples/redis into the build
# directory (private apt configuration; nothing of the machine's changes). Needs the
# network once; later builds use the cached archives. Skipped for non-root or when
# GRAFT_EXAMPLE_REDIS=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${GRAFT_EXAMPLE_REDIS:-ON}" != OFF ] || exit 0
[ "$(id -u)" -eq 0 ] || exit 0
# Not fatal: without the network the rest of make deps still works; the build then
# says the source is missing (or configure with -DGRAFT_EXAMPLE_REDIS=OFF).
examples/redis/build.sh --fetch-only "${BUILD:-build}/examples/redis" ||
  echo "deps: could not fetch Debian's redis source for examples/redis (see above)" >&2
exit 0

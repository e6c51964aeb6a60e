#!/usr/bin/env bash
# lint.d/deps.sh [DEPS_DIR]: every crate of every Cargo.lock, pkg-config module, library,
# header and program the build and tests use comes from a Debian package that a new
# machine gets from DEPS_DIR/*.list (default deps/) with --no-install-recommends: named
# there, or in their Depends/Pre-Depends closure as apt resolves it on an empty system.
# Names each missing package and the list to add it to (tools/lint.d/deps_closure.py).
set -euo pipefail
exec python3 "$(dirname "$0")/deps_closure.py" "$@"

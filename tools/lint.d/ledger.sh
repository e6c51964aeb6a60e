#!/usr/bin/env bash
# lint.d/ledger.sh: `graft ledger check` on the committed migration.toml: the legacy C of
# every component in shadow, canary, candidate or candidate-only still has the token
# fingerprint its parity was established on, and retired C stays out of the tree (the
# binary ratchet runs in the build and in ctest ledger-check).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tools/ledger/graft_ledger.py --root . check

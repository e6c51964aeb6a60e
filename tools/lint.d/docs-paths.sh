#!/usr/bin/env bash
# Docs name files by their path in the repository, never by a path on somebody's
# machine (/work/..., /root/..., /home/...). Also ctest docs-paths. docs/plans/ is
# graft plan's generated output, which records the root it ran in; not checked here.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t docs < <(git ls-files '*.md' ':!docs/plans/*')
if grep -nE '(^|[^A-Za-z0-9_.])/(work|root|home)/' "${docs[@]}"; then
  echo "docs-paths: the lines above name machine paths; name the file by its repository path" >&2
  exit 1
fi

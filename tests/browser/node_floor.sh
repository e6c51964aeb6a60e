#!/usr/bin/env bash
# node_floor.sh: the playwright-core pinned in package-lock.json must run on the Node.js
# that Debian's archive offers (bookworm: nodejs 18.20), not only on the newer node a
# developer machine may have: its engines.node minimum (">=N") must not exceed the major
# version of Debian's nodejs, and the node found here must satisfy it too.
# Exit 77 (skipped) when apt knows no nodejs (no package lists).
set -euo pipefail
lock=${1:-$(dirname "$0")/package-lock.json}
need=$(sed -n '/"node_modules\/playwright-core"/,/}$/s/.*"node": *">=\([0-9][0-9]*\)".*/\1/p' "$lock" | head -n1)
have=$(sed -n '/"node_modules\/playwright-core"/,/}$/s/.*"version": *"\([^"]*\)".*/\1/p' "$lock" | head -n1)
[ -n "$need" ] || { echo "FAIL: no engines.node of playwright-core in $lock"; exit 1; }
# Debian's versions only: apt-cache madison lists the archive's, never a local or third-party install.
debian=$(apt-cache madison nodejs 2>/dev/null | awk -F'|' '$3 ~ /debian\.org/ {gsub(/ /, "", $2); print $2}' |
  sed 's/^[0-9]*://' | cut -d. -f1 | sort -n | head -n1)
[ -n "$debian" ] || { echo "skip: apt knows no Debian nodejs (apt-get update?)"; exit 77; }
fail=0
if [ "$debian" -lt "$need" ]; then
  echo "FAIL: playwright-core $have needs Node.js >= $need; Debian's nodejs is $debian: pin a version whose engines admit $debian"
  fail=1
else
  echo "ok: playwright-core $have needs Node.js >= $need; Debian's nodejs is $debian"
fi
if command -v node >/dev/null; then
  here=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$here" -lt "$need" ]; then
    echo "FAIL: this machine's node $(node --version) is older than $need"; fail=1
  else
    echo "ok: this machine's node $(node --version) satisfies it"
  fi
fi
exit $fail

#!/usr/bin/env bash
# browser.sh: installs playwright-core (npm) into tests/browser/node_modules for the
# dashboard's browser test. The browser itself is Debian's chromium (deps/admin.list);
# playwright-core never downloads one. Idempotent: does nothing when already installed.
# The pinned playwright-core (package.json, package-lock.json) is 1.61.1, the newest whose
# engines field still admits Node.js 18: Debian 12's nodejs is 18.20, and 1.62 and later
# require Node.js 20. The same version runs on newer Node.js (20, 22) where a machine has one.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
# Refuse early, with the reason, a node older than the lock's playwright-core accepts.
need=$(sed -n '/"node_modules\/playwright-core"/,/}$/s/.*"node": *">=\([0-9]*\)".*/\1/p' package-lock.json | head -n1)
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ -n "$need" ] && [ "$node_major" -lt "$need" ]; then
  echo "deps/browser.sh: node $(node --version 2>/dev/null || echo missing) is older than playwright-core's" \
    "minimum (Node.js $need, package-lock.json): install Debian's nodejs (deps/admin.list)" >&2
  exit 1
fi
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' package.json)
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' node_modules/playwright-core/package.json 2>/dev/null | head -n1 || true)
[ "$have" = "$want" ] && exit 0
if ! command -v npm >/dev/null; then
  # Debian ships npm apart from nodejs (other node builds bundle it).
  [ "$(id -u)" -eq 0 ] || { echo "deps/browser.sh: npm not found: apt-get install npm" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "deps: npm install playwright-core@$want (tests/browser)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

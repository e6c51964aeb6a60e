#!/usr/bin/env bash
# browser.sh: installs playwright-core (npm) into tests/browser/node_modules for the
# dashboard's browser test. The browser itself is Debian's chromium (deps/admin.list);
# playwright-core never downloads one. Idempotent: does nothing when already installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
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

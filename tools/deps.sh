#!/usr/bin/env bash
# Installs the Debian packages listed in deps/*.list that are missing, then runs the
# deps/*.sh hooks (e.g. npm packages for the browser test). Idempotent and fast when
# everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(cat deps/*.list | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$s" = "installed" ] || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run 'sudo make deps' (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || [ -x "$HOME/.cargo/bin/cargo" ] || {
  echo "deps: cargo not found; install Rust with rustup (stable; nightly for make asan)" >&2; exit 1; }
for hook in deps/*.sh; do
  [ -x "$hook" ] && "$hook"
done
exit 0

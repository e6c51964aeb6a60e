#!/usr/bin/env bash
# make profile: kvd under kvload, recorded with `perf record -g` (frame pointers in C and
# Rust), rendered as one flame graph with both languages' frames (docs/OPERATING.md,
# "Profiles").
#   tools/profile/profile.sh BUILD_DIR [SECONDS] [OUT_DIR]
# Environment: PROFILE_SEAMS (default kv.parse=canary:50, so the C and the Rust parser
# both serve), PROFILE_FREQ (samples per second, default 999).
# Writes OUT_DIR (default BUILD_DIR/profile): perf.data, perf-script.txt, kvd.folded,
# kvd.svg (the whole process), kvd-seam.svg (only stacks through graft_call, rooted there). Exit 77 when perf may not record here (not root, perf_event_paranoid, ...).
set -euo pipefail
build=$(cd "${1:?usage: profile.sh BUILD_DIR [SECONDS] [OUT_DIR]}" && pwd)
seconds=${2:-10}
out=${3:-$build/profile}
here=$(cd "$(dirname "$0")" && pwd)
kvd=$build/server/kvd
kvload=$build/tools/kvload/kvload
rust_lib=
for f in "$build"/cargo/*/libkvd_rs.a "$build"/cargo/*/*/libkvd_rs.a; do
  [ -e "$f" ] && rust_lib=$f && break
done
for f in "$kvd" "$kvload" "$rust_lib"; do
  [ -e "$f" ] || { echo "profile: $f missing: run make build" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "profile: SKIP: perf not installed (Debian: linux-perf)"; exit 77; }
mkdir -p "$out"
if ! perf record -q -o "$out/probe.data" -- true >/dev/null 2>&1; then
  echo "profile: SKIP: perf may not record here (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo ?), uid $(id -u))"
  exit 77
fi
rm -f "$out/probe.data"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GRAFT_SEAMS=${PROFILE_SEAMS:-kv.parse=canary:50} "$kvd" -p "$port" -t 2 -m 64 2>"$out/kvd.log" &
kvd_pid=$!
trap 'kill $kvd_pid 2>/dev/null || true; wait $kvd_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  ss -Hltn "sport = :$port" | grep -q . && break
  sleep 0.05
done
"$kvload" -p "$port" -c 16 -t 1 -d "$((seconds + 2))" -q >"$out/kvload.txt" &
load_pid=$!
sleep 1
perf record -q -F "${PROFILE_FREQ:-999}" -g -p "$kvd_pid" -o "$out/perf.data" -- sleep "$seconds" \
  2>"$out/perf-record.log"
wait "$load_pid"
perf script -i "$out/perf.data" 2>/dev/null >"$out/perf-script.txt"
python3 "$here/flamegraph.py" fold <"$out/perf-script.txt" >"$out/kvd.folded"
python3 "$here/flamegraph.py" svg --rust-archive "$rust_lib" \
  --title "kvd under kvload ($seconds s, ${PROFILE_SEAMS:-kv.parse=canary:50})" \
  <"$out/kvd.folded" >"$out/kvd.svg"
python3 "$here/flamegraph.py" svg --rust-archive "$rust_lib" --focus graft_call \
  --title "kvd: the seam kv.parse (graft_call) and its two parsers, C and Rust" \
  <"$out/kvd.folded" >"$out/kvd-seam.svg"
samples=$(awk '{n += $NF} END {print n + 0}' "$out/kvd.folded")
echo "profile: $samples samples; $(tail -n1 "$out/kvload.txt")"
echo "profile: flame graph $out/kvd.svg, the seam alone $out/kvd-seam.svg (stacks: $out/kvd.folded)"

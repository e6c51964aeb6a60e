#!/usr/bin/env bash
# seamgen.sh: ctest seamgen-redis. tools/seamgen/graft-seam on Redis's real util.h (from
# the extracted source, through libclang) must write exactly the committed
# examples/redis/seamgen/generated/, whose C compiles against graft and Redis's headers
# and whose Rust skeleton compiles against graft-ffi.
# Usage: seamgen.sh <graft source> <example build dir>
set -euo pipefail
root=$1 out=$2
src=$out/redis-7.0.15/src
export PATH="$HOME/.cargo/bin:$PATH"
gen=$out/seamgen
rm -rf "$gen"
"$root/tools/seamgen/graft-seam" --header "$src/util.h" --function stringmatchlen --seam redis.stringmatch \
  --rust-crate redis-match --rust-fn redis_rs_stringmatchlen --rust-header redis_match_rs.h --out "$gen" -- -I"$src"
diff -ru "$root/examples/redis/seamgen/generated" "$gen" ||
  { echo "seamgen: output differs from examples/redis/seamgen/generated (regenerate and commit)" >&2; exit 1; }
cc -std=c11 -fsyntax-only -Wall -Wextra -Werror -I"$root/include" -I"$root/examples/redis/include" -I"$src" \
  "$gen/stringmatchlen_seam.c"
cc -std=c11 -fsyntax-only -Wall -Wextra -Werror -I"$root/include" -I"$src" "$gen/parity_stringmatchlen.c"
ffi=$(ls -t "$out"/cargo/release/deps/libgraft_ffi-*.rlib | head -n1)
rustc --edition 2021 --crate-type rlib --crate-name seamgen_check -D warnings -o "$gen/check.rlib" \
  --extern graft_ffi="$ffi" -L dependency="$(dirname "$ffi")" "$gen/lib.rs"
echo "seamgen: generated glue, Rust skeleton and parity skeleton are current and compile"

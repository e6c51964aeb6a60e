#!/usr/bin/env bash
# The ledger catches what it must, and only that. In a temporary copy of the tree:
#   1. the committed ledger passes `graft ledger check`;
#   2. a whitespace- and comment-only change to server/kv_proto.c passes (tokens only);
#   3. a one-character change inside a function body of server/kv_proto.c (kv.parse is
#      in stage candidate) fails, naming the function and the way to revalidate;
#   4. server/kv_hash.c back in the tree (kv.hash is retired) fails;
#   5. the ratchet refuses a binary that defines kv_hash, and accepts one that does not;
#   6. after the drift of case 3, `graft ledger revalidate` with a parity test that does
#      not exist fails and leaves the fingerprint alone (check still fails);
#   7. revalidate with a parity test that runs and passes (here the quick golden_kv_hash
#      of BUILD_DIR stands in for kv.parse's own, which take minutes) records the new
#      fingerprint, and check passes again.
#   drift.sh GRAFT SOURCE_DIR RESURRECTED_BINARY BUILD_DIR
set -uo pipefail
graft=$1 src=$2 resurrected=$3 build=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
fresh() { # a clean copy of what the check reads
  rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"
  cp -r "$src/migration.toml" "$src/server" "$src/include" "$tmp/tree/"
}
check() { "$graft" ledger --root "$tmp/tree" check >"$tmp/out" 2>&1; }

fresh
check && echo "case 1: committed ledger passes" || { cat "$tmp/out"; bad "the committed ledger does not pass"; }

fresh
python3 - "$tmp/tree/server/kv_proto.c" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
out = []
for line in s.split("\n"):
    # re-indent (two more spaces) and add a blank line after every opening brace
    out.append(("  " + line) if line and not line.startswith("#") else line)
    if line.rstrip().endswith("{"):
        out.append("")
s = "\n".join(out)
i = s.index("void kv_parse(")
j = s.index("{", i) + 1
s = s[:j] + "\n    /* a comment does not change behaviour */\n" + s[j:]
open(p, "w").write(s)
PY
if check; then echo "case 2: whitespace and comments only: passes"; else cat "$tmp/out"; bad "a formatting-only change was reported as drift"; fi

fresh
python3 - "$tmp/tree/server/kv_proto.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("void kv_parse(")
j = s.index("{", i) + 1
# the first digit of the body outside comments becomes another digit: one character
k, n = j, len(s)
while k < n:
    if s.startswith("/*", k):
        k = s.index("*/", k) + 2
    elif s.startswith("//", k):
        k = s.index("\n", k)
    elif s[k].isdigit() and not (s[k - 1].isalnum() or s[k - 1] == "_"):
        break
    else:
        k += 1
s = s[:k] + str((int(s[k]) + 1) % 10) + s[k + 1:]
open(p, "w").write(s)
print(f"changed one character at offset {k} of kv_parse's body")
PY
if check; then cat "$tmp/out"; bad "a one-character change in kv_parse was not caught"; else
  grep -q "kv.parse (candidate): its legacy C drifted" "$tmp/out" || { cat "$tmp/out"; bad "no drift message"; }
  grep -q "fn:kv_parse\b" "$tmp/out" || { cat "$tmp/out"; bad "the drifted function is not named"; }
  grep -q "graft ledger revalidate kv.parse" "$tmp/out" || { cat "$tmp/out"; bad "no revalidate hint"; }
  echo "case 3: one-character change caught:"; grep FAIL "$tmp/out"
fi

# cases 6 and 7 continue from the drifted tree of case 3
set_tests() { # the parity tests of kv.parse in the copy's ledger
  python3 - "$tmp/tree/migration.toml" "$1" <<'PY'
import re, sys
p, t = sys.argv[1], sys.argv[2]
s = open(p).read()
i = s.index('name = "kv.parse"')
j = s.index("tests = [", s.index("[component.evidence.parity]", i))
k = s.index("\n", j)
open(p, "w").write(s[:j] + f'tests = ["{t}"]' + s[k:])
PY
}
set_tests no-such-test
before=$(grep -A1 '^\[component.fingerprint\]' "$tmp/tree/migration.toml" | sed -n 2p)
if "$graft" ledger --root "$tmp/tree" revalidate kv.parse --build "$build" >"$tmp/out" 2>&1; then
  cat "$tmp/out"; bad "revalidate passed without its parity test"
else
  after=$(grep -A1 '^\[component.fingerprint\]' "$tmp/tree/migration.toml" | sed -n 2p)
  [ "$before" = "$after" ] || bad "a failed revalidate changed the fingerprint"
  check && bad "check passed after a failed revalidate"
  echo "case 6: revalidate without passing parity tests refused, fingerprint kept"
fi
set_tests golden_kv_hash
if "$graft" ledger --root "$tmp/tree" revalidate kv.parse --build "$build" >"$tmp/out" 2>&1 && check; then
  echo "case 7: revalidated after the parity test passed; check passes again"
else
  cat "$tmp/out"; bad "revalidate then check did not pass"
fi

fresh
git -C "$src" show f5caae5:server/kv_hash.c >"$tmp/tree/server/kv_hash.c" 2>/dev/null || echo "/* back */" >"$tmp/tree/server/kv_hash.c"
if check; then cat "$tmp/out"; bad "retired C back in the tree was not caught"; else
  grep -q "kv.hash is retired but its legacy C is back" "$tmp/out" || { cat "$tmp/out"; bad "no message for retired C"; }
  echo "case 4: retired C back in the tree caught"
fi

fresh
if "$graft" ledger --root "$tmp/tree" ratchet --binary "$resurrected" >"$tmp/out" 2>&1; then
  cat "$tmp/out"; bad "the ratchet accepted a binary defining kv_hash"
else
  grep -q "legacy symbol kv_hash is back" "$tmp/out" || { cat "$tmp/out"; bad "ratchet message"; }
  echo "case 5: ratchet refuses a binary defining kv_hash"
fi
"$graft" ledger --root "$tmp/tree" ratchet --binary "$graft" >"$tmp/out" 2>&1 ||
  { cat "$tmp/out"; bad "the ratchet refused a binary without legacy symbols"; }

[ $fail -eq 0 ] && echo "ledger drift: all cases behaved"
exit $fail

#!/usr/bin/env bash
# The `graft` executable's front door: subcommand dispatch, usage, exit statuses, and a
# partial plan on stdout with clear errors on stderr. Usage: cli.sh GRAFT CCDB FIXTURE_ROOT
set -uo pipefail
graft=$1 ccdb=$2 root=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME WANT_STATUS GOT_STATUS
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, want $2"; fail=1; else echo "ok: $1"; fi
}
"$graft" >/dev/null 2>&1; check "no command" 2 $?
"$graft" --help >"$tmp/help" 2>&1; check "graft --help" 0 $?
grep -q '^  plan ' "$tmp/help" || { echo "FAIL: help lists no plan command"; fail=1; }
"$graft" frobnicate >/dev/null 2>&1; check "unknown command" 2 $?
"$graft" plan --help >"$tmp/phelp" 2>&1; check "graft plan --help" 0 $?
grep -q -- '--format md|json|html|dot' "$tmp/phelp" || { echo "FAIL: plan usage"; fail=1; }

"$graft" plan -p "$ccdb" --root "$root" >"$tmp/out.md" 2>"$tmp/err"; check "partial plan" 3 $?
grep -q '^# Migration plan' "$tmp/out.md" || { echo "FAIL: no plan on stdout"; fail=1; }
grep -q 'parse error: .*bad.c:9:16: error: expected expression' "$tmp/err" ||
    { echo "FAIL: parse error not reported"; cat "$tmp/err"; fail=1; }
grep -q 'error: cannot read .*gone/missing.c: No such file or directory' "$tmp/err" ||
    { echo "FAIL: missing source not reported"; fail=1; }
grep -q '8 files (1 failed, 1 with errors), 8 functions' "$tmp/err" ||
    { echo "FAIL: no summary"; fail=1; }

"$graft" plan -p "$tmp/nothing.json" 2>"$tmp/err2" >/dev/null; check "missing database" 1 $?
grep -q "error: cannot open $tmp/nothing.json: No such file or directory" "$tmp/err2" ||
    { echo "FAIL: missing database message"; cat "$tmp/err2"; fail=1; }
printf '[{"directory": "/", ' >"$tmp/bad.json"
"$graft" plan -p "$tmp/bad.json" 2>"$tmp/err3" >/dev/null; check "malformed database" 1 $?
grep -q 'not valid JSON (error near line 1, column 2[0-9])' "$tmp/err3" ||
    { echo "FAIL: malformed database message"; cat "$tmp/err3"; fail=1; }
"$graft" plan -p "$ccdb" -o /nonexistent/dir/plan.md 2>/dev/null; check "unwritable output" 1 $?

# HTML: the graph is rendered by graphviz when it can be run, and said missing otherwise
"$graft" plan -q -p "$ccdb" --format html -o "$tmp/with.html" 2>/dev/null; check "html" 3 $?
grep -q '<div class="graph"><svg' "$tmp/with.html" || { echo "FAIL: no inline SVG"; fail=1; }
PATH=/nonexistent "$graft" plan -q -p "$ccdb" --format html -o "$tmp/without.html" 2>"$tmp/err4"
check "html without graphviz" 3 $?
grep -q 'Component graph not rendered: cannot run graphviz' "$tmp/without.html" ||
    { echo "FAIL: missing graphviz not said in the report"; fail=1; }
grep -q "warning: cannot run graphviz 'dot'" "$tmp/err4" ||
    { echo "FAIL: missing graphviz not said on stderr"; cat "$tmp/err4"; fail=1; }
exit $fail

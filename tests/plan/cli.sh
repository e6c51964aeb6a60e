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
# the shared preamble: three sources opening with the same system #includes (one with a
# comment between them, one with a compile error) share one PCH; a fourth that defines a
# macro first and a fifth that includes a project header first do not. The plan is the
# same bytes with and without it (--no-pch), and the summary says how many shared it.
pre="$tmp/pre"
mkdir -p "$pre"
printf '/* licence */\n#include <string.h>\n#include <stdio.h>\nint a(char *d, const char *s, unsigned long n) { memcpy(d, s, n); return d[n - 1] == 0x2c; }\n' >"$pre/a.c"
printf '#include <string.h>\n// between\n#include <stdio.h>\nstatic int h(const char *p) { return *p == 0x61 || *p == 0x62; }\nint b(const char *p, unsigned long n) { char buf[8]; return h(p + n) + snprintf(buf, sizeof buf, "%%lu", n); }\n' >"$pre/b.c"
printf '#include <string.h>\n#include <stdio.h>\nint c(void) { return undeclared_thing + 1; }\nint c2(char *p) { p++; return *p; }\n' >"$pre/c.c"
printf '#define _GNU_SOURCE\n#include <string.h>\n#include <stdio.h>\nint d(const char *s) { return (int)strlen(s); }\n' >"$pre/d.c"
printf '#include "own.h"\n#include <string.h>\nint e(const char *s) { return OWN + (int)strlen(s); }\n' >"$pre/e.c"
printf '#define OWN 1\n' >"$pre/own.h"
python3 - "$pre" <<'PY'
import json, sys
d = sys.argv[1]
json.dump([{"directory": d, "file": f"{d}/{n}.c", "arguments": ["cc", "-std=c11", "-c", f"{n}.c"]}
           for n in "abcde"], open(f"{d}/compile_commands.json", "w"))
PY
mkdir -p "$tmp/scratch"
TMPDIR="$tmp/scratch" "$graft" plan -p "$pre" --no-history --format json -o "$tmp/pre-pch.json" \
    2>"$tmp/pre-err1"
check "plan with a shared preamble" 3 $?
"$graft" plan -p "$pre" --no-history --no-pch --format json -o "$tmp/pre-nopch.json" 2>"$tmp/pre-err2"
check "plan with --no-pch" 3 $?
cmp -s "$tmp/pre-pch.json" "$tmp/pre-nopch.json" ||
    { echo "FAIL: the shared preamble changed the plan"; diff "$tmp/pre-pch.json" "$tmp/pre-nopch.json" | head; fail=1; }
cmp -s "$tmp/pre-err1" "$tmp/pre-err2" && { echo "FAIL: the summaries do not differ"; fail=1; }
grep -q '5 files (0 failed, 1 with errors).*; 2 parsed with a shared preamble$' "$tmp/pre-err1" ||
    { echo "FAIL: a.c and b.c should share a preamble (c.c has errors: parsed alone)"; cat "$tmp/pre-err1"; fail=1; }
grep -q '; 0 parsed with a shared preamble$' "$tmp/pre-err2" ||
    { echo "FAIL: --no-pch still shared a preamble"; cat "$tmp/pre-err2"; fail=1; }
grep -q "undeclared_thing" "$tmp/pre-err1" || { echo "FAIL: c.c's error not reported"; fail=1; }
[ -z "$(ls -A "$tmp/scratch")" ] || { echo "FAIL: the PCH directory was left behind"; fail=1; }
exit $fail

#!/usr/bin/env bash
# FFI boundary lint (docs/FFI.md, "The lint rule"). In every rust/*/src/**/*.rs (or the
# files given as arguments):
#   1. every function DEFINITION `extern "C" fn <name>` (also `extern fn`, which is C)
#      has a body that is exactly ONE call to a path ending in `boundary::<function>`,
#      e.g. `graft_ffi::boundary::status(|| ...)` or `boundary::value(0, || ...)`,
#      optionally followed by `;`. Everything else goes inside that call's closure.
#   2. `extern "C-unwind"` does not appear: unwinding into C is never allowed.
# Function pointer types (`extern "C" fn(` with no name) and declarations inside
# `extern "C" { ... }` blocks are not definitions and are not checked. The one exemption:
# a definition in rust/graft-ffi-testkit/ whose preceding attribute/comment lines contain
# `// ffi-boundary: exempt <reason>` (the benchmark's no-boundary baseline).
set -euo pipefail
cd "$(dirname "$0")/../.."
if (($# == 0)); then
  mapfile -t files < <(find rust -path '*/src/*' -name '*.rs' -not -path '*/target/*' | sort)
else
  files=("$@")
fi
exec python3 - "${files[@]}" <<'PY'
import re, sys

DEF = re.compile(r'\bextern\s+(?:"C"\s+)?fn\s+([A-Za-z_]\w*)')
UNWIND = re.compile(r'\bextern\s+"C-unwind"')
CALL = re.compile(r'(?:[A-Za-z_]\w*::)*boundary::[A-Za-z_]\w*\s*(?:::\s*<[^(){};]*>\s*)?\(')


def blank_comments(src):
    """Comments replaced by spaces (newlines kept), so positions and lines stay."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith('/*', j): depth += 1; j += 2
                elif src.startswith('*/', j): depth -= 1; j += 2
                else: j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif src[i] == '"' or src.startswith('r"', i) or src.startswith('r#', i):
            j = skip_string(src, i)
            out.append(src[i:j]); i = j
        else:
            out.append(src[i]); i += 1
    return ''.join(out)


def skip_string(s, i):
    """Index just after the string or raw string literal starting at i."""
    if s[i] == 'r':
        m = re.match(r'r(#*)"', s[i:])
        if not m:
            return i + 1
        end = s.find('"' + m.group(1), i + len(m.group(0)))
        return len(s) if end < 0 else end + 1 + len(m.group(1))
    j = i + 1
    while j < len(s) and s[j] != '"':
        j += 2 if s[j] == '\\' else 1
    return j + 1


def skip_char(s, i):
    """Index after a char literal at i, or i + 1 when it is a lifetime."""
    m = re.match(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", s[i:])
    return i + len(m.group(0)) if m else i + 1


def match_close(s, i):
    """s[i] is an opening bracket; index of its partner, skipping strings and chars."""
    pairs = {'(': ')', '{': '}', '[': ']'}
    stack, j = [], i
    while j < len(s):
        c = s[j]
        if c == '"' or (c == 'r' and re.match(r'r#*"', s[j:]) and (j == 0 or not (s[j-1].isalnum() or s[j-1] == '_'))):
            j = skip_string(s, j); continue
        if c == "'":
            j = skip_char(s, j); continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ')}]':
            if not stack or stack.pop() != c:
                return -1
            if not stack:
                return j
        j += 1
    return -1


def check(path, problems):
    raw = open(path, encoding='utf-8').read()
    src = blank_comments(raw)
    lines = raw.split('\n')
    line_of = lambda pos: src.count('\n', 0, pos) + 1
    for m in UNWIND.finditer(src):
        problems.append(f'{path}:{line_of(m.start())}: extern "C-unwind" is forbidden: '
                        'a panic must never unwind into C')
    count = 0
    for m in DEF.finditer(src):
        name, line = m.group(1), line_of(m.start())
        p = src.find('(', m.end())
        close = match_close(src, p) if p >= 0 else -1
        if close < 0:
            problems.append(f'{path}:{line}: {name}: cannot parse the parameter list'); continue
        k = close + 1
        while k < len(src) and src[k] not in '{;':
            k += 1
        if k >= len(src) or src[k] == ';':
            continue  # a declaration, not a definition
        count += 1
        exempt = False
        j = line - 2
        while j >= 0 and re.match(r'\s*(#\[|//|$)', lines[j]) and lines[j].strip() != '':
            if 'ffi-boundary: exempt' in lines[j]:
                exempt = True
            j -= 1
        if exempt:
            if '/graft-ffi-testkit/' in '/' + path.replace('\\', '/'):
                continue
            problems.append(f'{path}:{line}: {name}: "ffi-boundary: exempt" is honoured only '
                            'in rust/graft-ffi-testkit')
            continue
        body_end = match_close(src, k)
        if body_end < 0:
            problems.append(f'{path}:{line}: {name}: cannot parse the body'); continue
        body = src[k + 1:body_end]
        stripped = body.lstrip()
        c = CALL.match(stripped)
        ok = False
        if c:
            start = k + 1 + (len(body) - len(stripped)) + c.end() - 1
            call_end = match_close(src, start)
            ok = call_end >= 0 and re.fullmatch(r'\s*;?\s*', src[call_end + 1:body_end]) is not None
        if not ok:
            problems.append(f'{path}:{line}: extern "C" fn {name}: the body must be exactly one '
                            'call to graft_ffi::boundary::{status,pointer,pointer_const,boolean,'
                            'value,unit}(closure) (docs/FFI.md)')
    return count


problems, total = [], 0
for f in sys.argv[1:]:
    total += check(f, problems)
for p in problems:
    print(p, file=sys.stderr)
if problems:
    print(f'ffi-boundary: {len(problems)} problem(s) in {total} exported function(s)', file=sys.stderr)
    sys.exit(1)
print(f'ffi-boundary: {total} extern "C" function definition(s) go through the panic boundary')
PY

#!/usr/bin/env python3
"""braces.py: one brace dialect for C: every if/else/for/while/do body in braces, as
clang-format's InsertBraces would write it (that option needs clang-format 15+; the
project formats with 14). Checks the files named, or src/, server/ and include/graft/.
Files listed in EXEMPT are other engineers' files still to be converted."""
import re
import subprocess
import sys

EXEMPT = set()  # every file is in the one dialect; list one here only while converting it
CTRL = re.compile(r"^\s*(?:\}\s*)?(?:else\s+)?(if|for|while|switch)\s*\(")
ELSE = re.compile(r"^\s*(?:\}\s*)?else\s*(\{.*|//.*|/\*.*)?$")


def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])*'", "''", line)
    line = re.sub(r"/\*.*?\*/", "", line)
    return re.sub(r"//.*", "", line)


def check(path):
    bad = []
    lines = open(path, encoding="utf-8").read().split("\n")
    in_comment = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        if in_comment:
            if "*/" in raw:
                in_comment = False
            i += 1
            continue
        line = strip(raw)
        if "/*" in line:
            in_comment = True
            line = line[: line.index("/*")]
        if line.rstrip().endswith("\\") or line.lstrip().startswith("#"):
            i += 1
            continue
        m = CTRL.match(line)
        if m:
            start = i
            text = line[m.end() - 1 :]
            depth, j, rest = 0, i, None
            while True:
                for k, ch in enumerate(text):
                    depth += ch == "("
                    depth -= ch == ")"
                    if depth == 0:
                        rest = text[k + 1 :]
                        break
                if rest is not None or j + 1 >= len(lines):
                    break
                j += 1
                text = strip(lines[j])
            rest = (rest or "").strip()
            is_do_while = m.group(1) == "while" and line.lstrip().startswith("}")
            # An empty body (`;` on the next line) has nothing to brace.
            empty = rest == "" and j + 1 < len(lines) and strip(lines[j + 1]).strip() == ";"
            if not rest.startswith("{") and not is_do_while and not empty and rest != ";":
                bad.append((start + 1, raw.strip()))
            i = j + 1
            continue
        if ELSE.match(line) and "{" not in line:
            nxt = strip(lines[i + 1]).strip() if i + 1 < len(lines) else ""
            if not nxt.startswith("{"):
                bad.append((i + 1, raw.strip()))
        if re.match(r"^\s*do\s*$", line):
            bad.append((i + 1, raw.strip()))
        i += 1
    return bad


files = sys.argv[1:] or [
    f
    for f in subprocess.run(
        ["git", "ls-files", "src/*.c", "src/*.h", "server/*.c", "server/*.h", "include/graft/*.h"],
        capture_output=True, text=True, check=True).stdout.split()
    if f not in EXEMPT and not f.endswith("graft_ffi.h")
]
fail = False
for f in files:
    for n, text in check(f):
        print(f"{f}:{n}: braces: put the body of this statement in braces: {text}")
        fail = True
sys.exit(1 if fail else 0)

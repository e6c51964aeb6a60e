#!/usr/bin/env python3
"""options_drift.py: graft.hpp's runtime_options must have a counterpart for every field
of graft.h's graft_runtime_options (the C++ wrapper once lacked disarm_panic, sleep and
time_sample_every). The ctx pointers are covered by the wrapper's closures.
Usage: options_drift.py REPO_ROOT"""
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."


def body(path, start, end):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, flags=re.S)
    if not m:
        sys.exit(f"options_drift: {start!r} not found in {path}")
    return m.group(1)


def fields(decls):
    out = []
    for d in decls.split(";"):
        d = " ".join(d.split())
        if not d:
            continue
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", d)  # function pointer
        m = fp or re.search(r"(\w+)\s*(=.*)?$", d)
        out.append(m.group(1))
    return out


c = fields(body(f"{root}/include/graft/graft.h", "typedef struct graft_runtime_options {",
                "} graft_runtime_options;"))
cpp = set(fields(body(f"{root}/include/graft/graft.hpp", "struct runtime_options {", "};")))
if len(c) < 5:
    sys.exit(f"options_drift: only {c} found in graft_runtime_options")
missing = [f for f in c if f not in ("clock_ctx", "log_ctx") and f not in cpp]
for f in missing:
    print(f"options_drift: graft_runtime_options.{f} has no counterpart in graft.hpp's "
          "runtime_options", file=sys.stderr)
if missing:
    sys.exit(1)
print(f"options_drift: the {len(c)} fields of graft_runtime_options all have a counterpart")

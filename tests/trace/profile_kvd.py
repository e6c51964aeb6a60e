#!/usr/bin/env python3
"""make profile's pipeline (tools/profile/profile.sh) on a short run: perf record -g of kvd
under kvload, folded stacks, SVG flame graph. Checks that one profile shows both
languages: the seam (graft_call) calling the C parser (kv_parse) and, in other stacks,
the Rust parser (kv_rs_parse, then kv_proto:: frames, demangled from v0 symbols), and
that the SVG names them. Exits 77 (skip) with the reason when perf may not record here.
"""
import os
import re
import subprocess
import sys
import tempfile

FAILS = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)


def below(stack, caller, callee):
    """True when `callee` is called (directly or not) from `caller` in this stack."""
    return caller in stack and any(callee(f) for f in stack[stack.index(caller) + 1:])


def main():
    script, build = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PROFILE_FREQ="4999")
        r = subprocess.run([script, build, "6", out], env=env, capture_output=True, text=True,
                           timeout=240)
        sys.stdout.write(r.stdout)
        if r.returncode == 77:
            return 77
        if r.returncode != 0:
            print(f"FAIL profile.sh exited {r.returncode}: {r.stderr[-2000:]}")
            return 1
        stacks = []
        with open(os.path.join(out, "kvd.folded")) as f:
            for line in f:
                frames, _, n = line.rstrip("\n").rpartition(" ")
                stacks.append((frames.split(";"), int(n)))
        with open(os.path.join(out, "kvd.svg")) as f:
            svg = f.read()
        with open(os.path.join(out, "kvd-seam.svg")) as f:
            seam_svg = f.read()
    total = sum(n for _, n in stacks)
    c_parser = sum(n for s, n in stacks if below(s, "graft_call", lambda f: f == "kv_parse"))
    rust_entry = sum(n for s, n in stacks
                     if below(s, "graft_call", lambda f: f == "kv_rs_parse"))
    rust_inner = sum(n for s, n in stacks
                     if "kv_rs_parse" in s and below(s, "kv_rs_parse",
                                                     lambda f: f.startswith("kv_proto::")))
    mangled = [f for s, _ in stacks for f in s if f.startswith(("_R", "_ZN"))]
    print(f"samples {total}: graft_call->kv_parse {c_parser}, graft_call->kv_rs_parse "
          f"{rust_entry}, kv_rs_parse->kv_proto:: {rust_inner}")
    check(total > 100, f"{total} samples recorded")
    check(c_parser > 0, "a stack where the seam (graft_call) calls the C parser (kv_parse)")
    check(rust_entry > 0, "a stack where graft_call calls the Rust parser (kv_rs_parse)")
    check(rust_inner > 0, "Rust frames (kv_proto::...) below kv_rs_parse: frame pointers "
                          "walk through Rust")
    check(not mangled, f"every Rust frame demangled (v0): {mangled[:3]}")
    for name in ("graft_call", "kv_parse", "kv_rs_parse", "kv_proto::parse"):
        check(f">{name}" in svg or f"{name} (" in svg, f"the flame graph names {name}")
    check("(Rust)" in svg and "(C)" in svg, "the flame graph colours Rust and C frames")
    # The seam's graph is rooted at graft_call: its bottom box is the whole width.
    check(re.search(r"<title>graft_call \(C\): \d+ samples, 100\.00%</title>", seam_svg)
          is not None, "kvd-seam.svg: rooted at graft_call")
    for name in ("kv_parse", "kv_rs_parse"):
        check(re.search(r">" + name + r"</text>", seam_svg) is not None,
              f"kvd-seam.svg: {name} wide enough to be labelled")
    print("profile_kvd: " + ("FAILED: " + "; ".join(FAILS) if FAILS else "all passed"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

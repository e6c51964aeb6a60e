#!/usr/bin/env python3
"""Flame graphs from `perf script`, for graft's mixed C and Rust programs.

  flamegraph.py fold [--rust-archive LIB.a]... < perf-script.txt > stacks.folded
  flamegraph.py svg  [--rust-archive LIB.a]... [--title T] [--focus FRAME]
                     < stacks.folded > graph.svg

fold: one line per distinct stack, root first, frames separated by ';', then the number
of samples ("kvd;kv__worker_main;graft_call;kv_rs_parse 12"). Offsets are dropped; kernel
frames get the suffix "_[k]"; frames perf could not name stay "[unknown]".

svg: a self-contained SVG (no script): each frame a box as wide as its share of the
samples, callers below callees; hover shows the name, samples and share. Boxes are
coloured by language: Rust (a demangled path with '::', or a symbol defined in one of the
--rust-archive static libraries, e.g. kv_rs_parse), C/C++ (everything else in user space),
kernel. --focus FRAME keeps only the stacks through FRAME, cut to start at it (e.g.
graft_call: the seam and both implementations, at full width).

Debian packages no FlameGraph, so graft carries this small renderer (docs/OPERATING.md,
"Profiles").
"""
import argparse
import html
import re
import subprocess
import sys
from collections import Counter

FRAME = re.compile(r"^\s*([0-9a-fA-F]+)\s+(.+?)\s+\((.*)\)\s*$")
OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


def fold(lines):
    stacks = Counter()
    comm, frames = None, []

    def flush():
        if comm is not None:
            stacks[";".join([comm] + frames[::-1])] += 1

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            comm, frames = line.split()[0], []
            continue
        m = FRAME.match(line)
        if not m or comm is None:
            continue
        sym, module = OFFSET.sub("", m.group(2)), m.group(3)
        if "kernel.kallsyms" in module or module.startswith("[kernel"):
            sym += "_[k]"
        frames.append(sym.replace(";", ":"))
    flush()
    return stacks


def rust_symbols(archives):
    names = set()
    for a in archives:
        out = subprocess.run(["nm", "--defined-only", "--demangle", a], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[1] in "TtWw":
                names.add(parts[2])
    return names


def language(name, rust):
    if name.endswith("_[k]"):
        return "kernel"
    if name == "[unknown]":
        return "unknown"
    if "::" in name or name in rust:
        return "rust"
    return "c"


COLORS = {"rust": (222, 110, 40), "c": (70, 130, 200), "kernel": (150, 150, 150),
          "unknown": (200, 200, 200)}
LABELS = {"rust": "Rust", "c": "C", "kernel": "kernel", "unknown": "unknown"}


def svg(stacks, rust, title, width=1200, row=17):
    root = {"n": 0, "kids": {}}
    for stack, n in stacks.items():
        node = root
        node["n"] += n
        for f in stack.split(";"):
            node = node["kids"].setdefault(f, {"n": 0, "kids": {}})
            node["n"] += n
    total = root["n"] or 1
    boxes = []

    def walk(node, depth, x):
        for name in sorted(node["kids"]):
            kid = node["kids"][name]
            boxes.append((name, depth, x, kid["n"]))
            walk(kid, depth + 1, x)
            x += kid["n"]

    walk(root, 0, 0)
    depth = max((b[1] for b in boxes), default=0) + 1
    top = 50
    height = top + depth * row + 30
    scale = (width - 20) / total
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">'
           f'{html.escape(title)}</text>']
    lx = 10
    for lang in ("c", "rust", "kernel"):
        r, g, b = COLORS[lang]
        out.append(f'<rect x="{lx}" y="30" width="12" height="12" fill="rgb({r},{g},{b})"/>'
                   f'<text x="{lx + 16}" y="40">{LABELS[lang]}</text>')
        lx += 90
    out.append(f'<text x="{width - 10}" y="40" text-anchor="end">{total} samples</text>')
    for i, (name, d, x, n) in enumerate(boxes):
        w = n * scale
        if w < 0.3:
            continue
        y = height - 30 - (d + 1) * row
        lang = language(name, rust)
        r, g, b = COLORS[lang]
        shade = (i * 37) % 30  # neighbouring boxes apart
        fill = f"rgb({min(255, r + shade)},{min(255, g + shade)},{min(255, b + shade)})"
        esc = html.escape(name)
        out.append(f'<g><title>{esc} ({LABELS[lang]}): {n} samples, '
                   f'{100.0 * n / total:.2f}%</title>'
                   f'<rect x="{10 + x * scale:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" '
                   f'fill="{fill}" rx="1"/>')
        chars = int((w - 4) / 6.6)
        if chars >= 3:
            label = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append(f'<text x="{12 + x * scale:.2f}" y="{y + row - 5}">'
                       f'{html.escape(label)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["fold", "svg"])
    ap.add_argument("--rust-archive", action="append", default=[])
    ap.add_argument("--title", default="Flame graph")
    ap.add_argument("--focus", help="keep the stacks through this frame, rooted at it")
    a = ap.parse_args()
    if a.command == "fold":
        for stack, n in sorted(fold(sys.stdin).items()):
            sys.stdout.write(f"{stack} {n}\n")
        return 0
    stacks = Counter()
    for line in sys.stdin:
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not stack or not n.isdigit():
            continue
        if a.focus:
            frames = stack.split(";")
            if a.focus not in frames:
                continue
            stack = ";".join(frames[frames.index(a.focus):])
        stacks[stack] += int(n)
    sys.stdout.write(svg(stacks, rust_symbols(a.rust_archive), a.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())

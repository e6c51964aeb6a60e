#!/usr/bin/env python3
"""call_graph.py: no file of libgraft's src/ calls into a file that calls back into it
(directly or through others): the call graph between its object files, read with nm,
must have no cycle. Prints the graph (docs/ARCHITECTURE.md shows it).
Usage: call_graph.py OBJECT_DIR"""
import glob
import os
import subprocess
import sys

objs = sorted(glob.glob(os.path.join(sys.argv[1], "*.c.o")))
if len(objs) < 5:
    sys.exit(f"call_graph: only {len(objs)} objects in {sys.argv[1]}")
defs, undefs = {}, {}
for o in objs:
    name = os.path.basename(o)[:-4]
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    defs[name], undefs[name] = set(), set()
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBR":
            defs[name].add(p[2])
        elif len(p) == 2 and p[0] == "U":
            undefs[name].add(p[1])
owner = {s: f for f, ds in defs.items() for s in ds}
edges = {f: sorted({owner[s] for s in us if s in owner and owner[s] != f}) for f, us in undefs.items()}
for f in sorted(edges):
    print(f"{f}.c -> {', '.join(e + '.c' for e in edges[f]) or '(nothing)'}")

state = {}


def visit(f, path):
    state[f] = 1
    for g in edges[f]:
        if state.get(g) == 1:
            sys.exit("call_graph: cycle " + " -> ".join(path[path.index(g):] + [g]))
        if g not in state:
            visit(g, path + [g])
    state[f] = 2


for f in sorted(edges):
    if f not in state:
        visit(f, [f])
print("call_graph: no cycles")

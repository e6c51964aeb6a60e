#!/usr/bin/env python3
"""report.py: GRAFT_REPORT from short-lived processes (issue 18.2.2). Runs
rt_report_child several times against one report file, in shadow and candidate mode,
leaving by graft_runtime_free, exit(), SIGKILL after graft_runtime_report, and with a
fork child that calls exit(); then checks the JSON lines: one final line per process
that left normally, the killed process's line from graft_runtime_report (its later
calls lost), nothing from the fork child, counts as the calls made. With GRAFTCTL, also
that `graftctl report --from FILE...` sums them (its --json output).
Usage: report.py RT_REPORT_CHILD [GRAFTCTL]"""
import json
import os
import subprocess
import sys
import tempfile

child = sys.argv[1]
graftctl = sys.argv[2] if len(sys.argv) > 2 else None
N = 300  # calls per process


def fail(msg):
    sys.exit(f"report: {msg}")


# calls 1..N: candidate fails on multiples of 3; off by one on multiples of 5.
fails = N // 3
mism = len([i for i in range(1, N + 1) if i % 5 == 0 and i % 3 != 0])

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "report.jsonl")
    other = os.path.join(tmp, "other.jsonl")
    runs = [("free", "shadow", path), ("exit", "shadow", path), ("kill", "candidate", path),
            ("fork", "candidate", path), ("free", "candidate", other)]
    for how, mode, out in runs:
        env = dict(os.environ, GRAFT_REPORT=out, GRAFT_SEAMS=f"toy.report={mode}")
        env.pop("GRAFT_CONFIG", None)
        p = subprocess.run([child, how, str(N)], env=env, capture_output=True, text=True)
        want = -9 if how == "kill" else 0
        if p.returncode != want:
            fail(f"{how}: exit {p.returncode}, wanted {want}: {p.stderr}")
    lines = [json.loads(l) for l in open(path, encoding="utf-8")]
    if len(lines) != 4:
        fail(f"{len(lines)} lines in the report, wanted 4 (free, exit, kill, fork parent)")
    pids = [l["pid"] for l in lines]
    if len(set(pids)) != 4:
        fail(f"pids {pids}: one line per process expected")
    finals = [l["final"] for l in lines]
    if finals != [True, True, False, True]:
        fail(f"final flags {finals}, wanted free/exit/fork final, the killed one not")
    for l in lines:
        if l["graft_report"] != 1 or l["seq"] != 1 or l["start_unix_ms"] > l["unix_ms"]:
            fail(f"bad header {dict((k, v) for k, v in l.items() if k != 'metrics')}")
        seams = l["metrics"]["seams"]
        if len(seams) != 1 or seams[0]["name"] != "toy.report":
            fail("one seam toy.report per line expected")
    c = [l["metrics"]["seams"][0] for l in lines]
    for i in (0, 1):  # shadow: every call compared unless the candidate failed
        cnt = c[i]["counters"]
        if c[i]["mode"] != "shadow" or cnt["calls"] != N or cnt["mismatches"] != mism:
            fail(f"shadow line {i}: {cnt}")
    for i in (2, 3):  # candidate: failures fell back; the kill line holds N calls, not 2N
        cnt = c[i]["counters"]
        if cnt["calls"] != N or cnt["fallbacks"] != fails:
            fail(f"candidate line {i}: {cnt} (the killed process's later calls must be lost)")
    if c[0]["history"][-1]["by"] != "config":
        fail("the stage history travels in the report")
    # Each line carries its lifetime latency histograms, as many calls as were timed.
    timed = {"legacy": 0, "candidate": 0}
    for x in c:
        for impl in timed:
            n = sum(cnt for _, cnt in x["latency_hist"][impl])
            if n != x["impl"][impl]["latency"]["count"]:
                fail(f"latency_hist of {impl}: {n} calls, latency.count {x['impl'][impl]['latency']['count']}")
            timed[impl] += n

    if graftctl:
        p = subprocess.run([graftctl, "report", "--json", "--from", path, other],
                           capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"graftctl report: exit {p.returncode}: {p.stderr}")
        got = json.loads(p.stdout)
        s = {x["name"]: x for x in got["seams"]}["toy.report"]
        if got["processes"] != 5 or s["calls"] != 5 * N:
            fail(f"graftctl report: {got}")
        if s["calls_by_mode"]["shadow"] != 2 * N or s["calls_by_mode"]["candidate"] != 3 * N:
            fail(f"graftctl report calls_by_mode: {s['calls_by_mode']}")
        if s["mismatches"] != 2 * mism or s["fallbacks"] != 3 * fails:
            fail(f"graftctl report mismatches/fallbacks: {s}")
        other_line = json.loads(open(other, encoding="utf-8").readline())["metrics"]["seams"][0]
        for impl in ("legacy", "candidate"):
            want = timed[impl] + sum(cnt for _, cnt in other_line["latency_hist"][impl])
            if s[f"{impl}_timed"] != want:
                fail(f"graftctl report: merged {impl} histogram holds {s[impl + '_timed']}, want {want}")
            if want and not s[f"{impl}_p50_ns"] > 0:
                fail(f"graftctl report: no {impl} p50 from the merged histograms")
        p = subprocess.run([graftctl, "report", "--from", path, other], capture_output=True,
                           text=True)
        if p.returncode != 0 or "toy.report" not in p.stdout:
            fail(f"graftctl report (text): {p.returncode} {p.stdout} {p.stderr}")
        print(p.stdout)
print(f"report: 4 lines from 5 processes (one killed, one fork child silent), "
      f"{N} calls each, mismatches {mism}, fallbacks {fails}")

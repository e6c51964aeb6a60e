#!/usr/bin/env python3
"""kvd's served-path latency in legacy, synchronous shadow and asynchronous shadow
(issue 15.1), side by side in one run, one kvd binary and one process.

kvd runs with GRAFT_CONFIG pointing at a file this script rewrites; SIGHUP reloads it, so
the three configurations of kv.parse alternate in interleaved rounds (the order rotates
each round) on the same process, and background load on the machine hits all alike:

  legacy   mode = legacy
  sync     mode = shadow, shadow = sync   (the candidate runs on the serving thread)
  async    mode = shadow, shadow = async  (the executor runs it at idle priority)

With two or more CPUs kvd runs on one and kvload on another (taskset; --no-pin turns it
off), so the tail measures kvd and its executor, not the load generator's scheduling.
Each round drives kvload (50 connections, 90% gets over 10,000 keys, 100-byte values,
every reply verified) for --seconds per configuration. Reported values are medians over
rounds; the ratio is the median over rounds of that round's value against the same
round's legacy value:

  bench kvd_shadow_p50_<cfg>: <us> us (<ratio>x legacy)
  bench kvd_shadow_p99_<cfg>: <us> us (<ratio>x legacy)
  bench kvd_shadow_throughput_<cfg>: <ops/s> ops/s (<ratio>x legacy)
  bench kvd_shadow_async_dropped: <percent> % of async shadow calls (<n> of <m>)

The last line is the executor's drop share under this closed-loop load (kvload keeps
both cores busy, so an idle-priority worker gets little CPU: drops are the design).
Fails if kvload saw a client-visible error, or if async shadow compared nothing.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CONFIGS = {
    "legacy": "[seam kv.parse]\nmode = legacy\n",
    "sync": "[seam kv.parse]\nmode = shadow\nshadow = sync\n",
    "async": "[seam kv.parse]\nmode = shadow\nshadow = async\n",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_listen(p, port):
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if p.poll() is not None:
                raise RuntimeError(f"kvd exited with {p.returncode}")
            time.sleep(0.05)
    raise RuntimeError("kvd did not listen")


def load(kvload, port, secs, conns, pin=()):
    out = subprocess.run([*pin, kvload, "-p", str(port), "-d", str(secs), "-c", str(conns), "-t", "2",
                          "-k", "10000", "-v", "100", "-g", "0.9", "-q"],
                         capture_output=True, text=True, timeout=secs + 60)
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout))
    if "ops_per_sec" not in m:
        raise RuntimeError(f"kvload failed: {out.stdout} {out.stderr}")
    return m


def seam(admin_port, token):
    req = urllib.request.Request(f"http://127.0.0.1:{admin_port}/api/seams/kv.parse",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvd", required=True)
    ap.add_argument("--kvload", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("SHADOW_BENCH_ROUNDS", "5")))
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("SHADOW_BENCH_SECONDS", "2")))
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--no-pin", action="store_true",
                    help="let kvd and kvload share every CPU (default: kvd on one, kvload on "
                         "another, so the load generator's own scheduling does not land in "
                         "kvd's tail)")
    a = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    pin_kvd = pin_load = ()
    if not a.no_pin and len(cpus) >= 2 and shutil.which("taskset"):
        pin_kvd, pin_load = ("taskset", "-c", str(cpus[0])), ("taskset", "-c", str(cpus[1]))
        print(f"pinned: kvd (its workers and the async executor) on CPU {cpus[0]}, "
              f"kvload on CPU {cpus[1]}", flush=True)

    tmp = tempfile.mkdtemp(prefix="graft-bench-shadow-")
    cfg = os.path.join(tmp, "graft.ini")
    with open(cfg, "w") as f:
        f.write(CONFIGS["legacy"])
    port, admin = free_port(), free_port()
    token = "bench-" + os.urandom(8).hex()
    env = dict(os.environ, GRAFT_CONFIG=cfg, GRAFT_ADMIN=f"127.0.0.1:{admin}",
               GRAFT_ADMIN_TOKEN=token)
    env.pop("GRAFT_SEAMS", None)
    kv = subprocess.Popen([*pin_kvd, a.kvd, "-p", str(port), "-l", "127.0.0.1", "-t", "2", "-m", "256"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    res = {k: [] for k in CONFIGS}
    errors = 0
    enq = drop = 0
    try:
        wait_listen(kv, port)
        load(a.kvload, port, 1, a.conns, pin_load)  # warm: fills the key space
        names = list(CONFIGS)
        for r in range(a.rounds):
            order = names[r % 3:] + names[:r % 3]
            for name in order:
                with open(cfg + ".tmp", "w") as f:
                    f.write(CONFIGS[name])
                os.replace(cfg + ".tmp", cfg)
                kv.send_signal(signal.SIGHUP)
                time.sleep(0.3)
                before = seam(admin, token)
                if before["mode"] != ("legacy" if name == "legacy" else "shadow") or (
                        name != "legacy" and before["shadow"]["exec"] != name):
                    raise RuntimeError(f"kvd did not switch to {name}: {before['mode']} "
                                       f"{before['shadow']['exec']}")
                m = load(a.kvload, port, a.seconds, a.conns, pin_load)
                after = seam(admin, token)
                if name == "async":
                    enq += after["shadow"]["enqueued"] - before["shadow"]["enqueued"]
                    drop += after["shadow"]["dropped"] - before["shadow"]["dropped"]
                errors += int(m["errors"]) + int(m.get("stale", 0))
                res[name].append(m)
                print(f"round {r + 1} {name}: {m['ops_per_sec']} ops/s, p50 {m['p50_us']} us, "
                      f"p99 {m['p99_us']} us, errors {m['errors']}", flush=True)
        final = seam(admin, token)
    finally:
        kv.send_signal(signal.SIGTERM)
        try:
            kv.wait(10)
        except subprocess.TimeoutExpired:
            kv.kill()
            kv.wait()
        for f in (cfg, cfg + ".tmp"):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(tmp)

    def med(name, key):
        return statistics.median(float(m[key]) for m in res[name])

    def ratio(name, key):
        return statistics.median(float(x[key]) / max(float(l[key]), 1e-9)
                                 for x, l in zip(res[name], res["legacy"]))

    for key, label, unit in (("p50_us", "p50", "us"), ("p99_us", "p99", "us"),
                             ("ops_per_sec", "throughput", "ops/s")):
        for name in CONFIGS:
            print(f"bench kvd_shadow_{label}_{name}: {med(name, key):.0f} {unit} "
                  f"({ratio(name, key):.2f}x legacy)")
    total = enq + drop
    share = 100.0 * drop / total if total else 0.0
    print(f"bench kvd_shadow_async_dropped: {share:.1f} % of async shadow calls "
          f"({drop} of {total})")
    sh = final["shadow"]
    print(f"async executor: {sh['executor_threads']} thread(s) at {sh['executor_priority']} "
          f"priority; lifetime enqueued {sh['enqueued']} dropped {sh['dropped']} overran "
          f"{sh['overran']} done {sh['done']}; compared {final['counters']['compared']} "
          f"mismatches {final['counters']['mismatches']}")
    if errors:
        print(f"bench: {errors} client-visible errors", file=sys.stderr)
        return 1
    if sh["done"] == 0:
        print("bench: async shadow compared nothing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kvd vs memcached, side by side in one run.

Both servers are started here on free loopback ports with the same worker thread
count and memory; the same load generator (kvload: 50 connections, 90% gets over
10,000 keys, 100-byte values, every reply verified) drives them in alternating rounds,
so background load on the machine hits both alike. Each round runs the two servers
back to back; the ratio reported is the median over rounds of that round's kvd/memcached
ratio (neighbouring runs see similar background load), the values are kvd's medians:

  bench kvd_throughput: <ops/s> ops/s (<ratio>x memcached)
  bench kvd_p99_latency: <us> us (<ratio>x memcached)

Fails if kvload saw any client-visible error against either server.
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, port):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return p
        except OSError:
            if p.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {p.returncode}")
            time.sleep(0.05)
    raise RuntimeError(f"{argv[0]} did not listen")


def load(kvload, port, secs, conns, threads):
    out = subprocess.run([kvload, "-p", str(port), "-d", str(secs), "-c", str(conns),
                          "-t", str(threads), "-k", "10000", "-v", "100", "-g", "0.9", "-q"],
                         capture_output=True, text=True, timeout=secs + 60)
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.stdout))
    if "ops_per_sec" not in m:
        raise RuntimeError(f"kvload failed: {out.stdout} {out.stderr}")
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvd", required=True)
    ap.add_argument("--kvload", required=True)
    ap.add_argument("--memcached", default="memcached")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("KVD_BENCH_ROUNDS", "6")))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("KVD_BENCH_SECONDS", "2")))
    ap.add_argument("--conns", type=int, default=50)
    a = ap.parse_args()

    t = str(a.threads)
    mp, kp = free_port(), free_port()
    mc_argv = [a.memcached, "-p", str(mp), "-l", "127.0.0.1", "-U", "0", "-t", t, "-m", "256"]
    if os.geteuid() == 0:
        mc_argv += ["-u", "nobody"]
    mc = start(mc_argv, mp)
    kv = start([a.kvd, "-p", str(kp), "-l", "127.0.0.1", "-t", t, "-m", "256"], kp)
    res = {"memcached": [], "kvd": []}
    errors = 0
    try:
        # warm both (fills the key space so gets mostly hit)
        for port in (mp, kp):
            load(a.kvload, port, 1, a.conns, 2)
        for r in range(a.rounds):
            order = [("memcached", mp), ("kvd", kp)]
            if r % 2:
                order.reverse()
            for name, port in order:
                m = load(a.kvload, port, a.seconds, a.conns, 2)
                errors += int(m["errors"]) + int(m["stale"])
                res[name].append(m)
                print(f"round {r + 1} {name}: {m['ops_per_sec']} ops/s, p50 {m['p50_us']} us, "
                      f"p99 {m['p99_us']} us, errors {m['errors']}", flush=True)
    finally:
        for p in (mc, kv):
            p.send_signal(signal.SIGTERM)
            p.wait(10)

    def med(name, key):
        return statistics.median(float(m[key]) for m in res[name])

    def ratio(key):
        return statistics.median(float(k[key]) / max(float(m[key]), 1e-9)
                                 for k, m in zip(res["kvd"], res["memcached"]))
    kv_ops, kv_p99 = med("kvd", "ops_per_sec"), med("kvd", "p99_us")
    print(f"medians: kvd {kv_ops:.0f} ops/s p99 {kv_p99:.0f} us, memcached "
          f"{med('memcached', 'ops_per_sec'):.0f} ops/s p99 {med('memcached', 'p99_us'):.0f} us")
    print(f"bench kvd_throughput: {kv_ops:.0f} ops/s ({ratio('ops_per_sec'):.2f}x memcached)")
    print(f"bench kvd_p99_latency: {kv_p99:.0f} us ({ratio('p99_us'):.2f}x memcached)")
    if errors:
        print(f"bench: {errors} client-visible errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Bounded soak of kvd: many clients, a small memory limit, malformed traffic alongside.

Phase 1 (60% of the time): 64 kvload --check connections over a key space five times
larger than -m, half sets, half gets, every value verified: evictions must happen,
no reply may be wrong, no get may return an older value than the last acknowledged
write of that key ("stale"), and misses of acknowledged keys are only allowed because
of evictions.
Phase 2 (40%): after flush_all, a key space that fits: not a single acknowledged write
may be missing (no eviction, no expiry involved).
Throughout: a client sends garbage, truncated requests, over-long lines and too-large
values and hangs up; kvd's accounted bytes ("stats" bytes) never pass the limit and its
RSS stays under limit + RSS at start + allocator and buffer overhead (checked every
0.5 s). At the end kvd must still answer and must stop with status 0 on SIGTERM.

Duration: KVD_SOAK_SECONDS (default 30).
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

MB = 1024 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def stats(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return {k.decode(): v.decode() for k, v in re.findall(rb"STAT (\S+) (\S+)\r\n", buf)}


def garbage(port, stop, counts):
    rnd = random.Random(1)
    junk = [b"set x 0 0 -5\r\n", b"get " + b"k" * 300 + b"\r\n", b"\x00\xff\r\n",
            b"set y 0 0 10\r\nshort\r\n", b"incr\r\n", b"GET / HTTP/1.1\r\n",
            b"x" * 5000, b"set z 0 0 3000000\r\n" + b"q" * 100000,
            b"delete a b c d e\r\n", b"cas k 0 0 1 zz\r\n", b"gets " + b"k " * 2000,
            bytes(rnd.getrandbits(8) for _ in range(512))]
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            for _ in range(rnd.randint(1, 5)):
                s.sendall(rnd.choice(junk))
            s.settimeout(0.05)
            try:
                s.recv(65536)
            except OSError:
                pass
            s.close()
            counts["garbage"] += 1
        except OSError:
            counts["garbage_conn_errors"] += 1
        time.sleep(0.01)


def kvload(path, port, secs, keys, extra=()):
    r = subprocess.run([path, "-p", str(port), "-d", str(secs), "-c", "64", "-t", "2",
                        "-k", str(keys), "-v", "400", "-g", "0.5", "--check", "-K", "soak:",
                        "-q", *extra], capture_output=True, text=True, timeout=secs + 120)
    m = dict(re.findall(r"(\w+)=([\d.]+)", r.stdout))
    if "ops" not in m:
        raise RuntimeError(f"kvload failed: {r.stdout} {r.stderr}")
    print("  " + r.stdout.strip(), flush=True)
    return {k: float(v) for k, v in m.items()}


def main():
    kvd, kvl = sys.argv[1], sys.argv[2]
    total = float(os.environ.get("KVD_SOAK_SECONDS", "30"))
    limit_mb = 16
    port = free_port()
    proc = subprocess.Popen([kvd, "-p", str(port), "-t", "2", "-m", str(limit_mb), "-c", "512"],
                            stderr=subprocess.DEVNULL)
    PROCS.append(proc)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    base_rss = rss(proc.pid)
    # allowance over the limit: RSS at start, malloc's per-chunk and fragmentation cost
    # (a quarter of the limit), the hash tables and per-connection buffers (16 MB)
    rss_cap = limit_mb * MB + base_rss + limit_mb * MB // 4 + 16 * MB
    fails = []
    stop = threading.Event()
    counts = {"garbage": 0, "garbage_conn_errors": 0}
    peak = {"rss": 0, "bytes": 0}

    def monitor():
        while not stop.is_set():
            try:
                peak["rss"] = max(peak["rss"], rss(proc.pid))
                st = stats(port)
                b = int(st.get("bytes", 0))
                peak["bytes"] = max(peak["bytes"], b)
                if b > int(st["limit_maxbytes"]):
                    fails.append(f"accounted bytes {b} over the limit")
            except (OSError, FileNotFoundError, KeyError) as e:
                fails.append(f"monitor: {e}")
            stop.wait(0.5)

    threads = [threading.Thread(target=garbage, args=(port, stop, counts)),
               threading.Thread(target=monitor)]
    for t in threads:
        t.start()
    try:
        print(f"soak: phase 1, {total * 0.6:.0f} s, 200000 keys x 400 B over -m {limit_mb}")
        m1 = kvload(kvl, port, round(total * 0.6, 1), 200000)
        st1 = stats(port)
        ev = int(st1["evictions"])
        if m1["errors"] or m1["stale"]:
            fails.append(f"phase 1: errors {m1['errors']:.0f}, stale {m1['stale']:.0f}")
        if ev == 0:
            fails.append("phase 1: no eviction happened, the memory limit was not exercised")
        if m1["miss_after_ack"] and ev == 0:
            fails.append("phase 1: acknowledged writes missing without evictions")
        print(f"soak: phase 1 evictions {ev}; phase 2, {total * 0.4:.0f} s, 2000 keys fit")
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"flush_all\r\n")
        s.recv(100)
        s.close()
        m2 = kvload(kvl, port, round(total * 0.4, 1), 2000)
        st2 = stats(port)
        if m2["errors"] or m2["stale"] or m2["miss_after_ack"]:
            fails.append(f"phase 2: errors {m2['errors']:.0f}, stale {m2['stale']:.0f}, "
                         f"lost acknowledged writes {m2['miss_after_ack']:.0f}")
        if int(st2["evictions"]) != ev:
            fails.append("phase 2: evictions although everything fits")
    finally:
        stop.set()
        for t in threads:
            t.join()
    if proc.poll() is not None:
        fails.append(f"kvd died with status {proc.returncode}")
    else:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
            if rc != 0:
                fails.append(f"kvd exit status {rc} after SIGTERM")
        except subprocess.TimeoutExpired:
            proc.kill()
            fails.append("kvd did not stop within 15 s of SIGTERM")
    print(f"soak: RSS peak {peak['rss'] / MB:.1f} MB (cap {rss_cap / MB:.1f} MB, start "
          f"{base_rss / MB:.1f} MB), accounted bytes peak {peak['bytes'] / MB:.1f} MB of "
          f"{limit_mb} MB, garbage connections {counts['garbage']}")
    if peak["rss"] > rss_cap:
        fails.append(f"RSS {peak['rss']} over {rss_cap}")
    for f in fails:
        print("FAIL " + f)
    print("soak: " + ("passed" if not fails else "FAILED"))
    return 1 if fails else 0


PROCS = []

if __name__ == "__main__":
    try:
        rc = main()
    finally:
        for proc in PROCS:  # never leave kvd behind (ctest would wait for it)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    sys.exit(rc)

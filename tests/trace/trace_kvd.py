#!/usr/bin/env python3
"""tools/trace/*.bt against a running kvd, checked against known traffic (issue 19).

Starts kvd, attaches a bpftrace script with -p, drives a known sequence of memcached
requests over fresh connections (kvd's graft key is the connection id: 1, 2, ... in
accept order), stops bpftrace and compares what it printed with what must have happened:

  served-by-key  kv.parse in canary 50%: every request of the chosen key, served by the
                 implementation its bucket picks (graft's bucket hash, docs/RUNTIME.md),
                 and nothing of the other keys;
  latency        one histogram per implementation, run counts equal to the requests;
  failures       candidate mode with fault.panic=100 (real Rust panics): one panic line
                 (fn kv_rs_parse), one failed run and one fallback (reason GRAFT_EPANIC) per
                 request;
  mismatches     (with a third argument, tests/trace/trace_host) a shadow seam whose
                 candidate differs on keys divisible by 3: exactly those keys, in order;
  changes        the same host's mode change and the breaker opening on its mismatches.

Exits 77 (ctest SKIP_RETURN_CODE) with a reason where bpftrace is missing, we are not
root, or the kernel refuses to load BPF.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
FAILS = []
MASK = (1 << 64) - 1


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def bucket(salt, key):
    """graft__bucket_hash (src/internal.h) modulo the 10000 buckets."""
    z = ((key ^ salt) + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return (z ^ (z >> 31)) % 10000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_kvd(kvd, env_extra):
    port = free_port()
    env = dict(os.environ)
    env.update(env_extra)
    proc = subprocess.Popen([kvd, "-p", str(port), "-t", "2", "-m", "64"], env=env,
                            stderr=subprocess.PIPE)
    # Wait for the port without connecting (a connection would take an id).
    deadline = time.time() + 10
    while time.time() < deadline:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True).stdout
        if str(port) in out:
            return proc, port
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"kvd did not start: {proc.stderr.read().decode(errors='replace')}")


class Trace:
    """bpftrace -p PID SCRIPT ARGS, started and waited for until its BEGIN printed."""

    def __init__(self, script, pid, *args):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(["bpftrace", "-p", str(pid), script] + [str(a) for a in args],
                                     stdout=self.out, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if "tracing:" in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bpftrace did not attach: {self.text()[-2000:]}")

    def text(self):
        self.out.seek(0)
        return self.out.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.text()


def drive(port, requests_per_conn):
    """One connection per entry, in order (ids 1, 2, ...); each sends that many gets and
    reads every reply."""
    for n in requests_per_conn:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        f = s.makefile("rb")
        for i in range(n):
            s.sendall(b"get trace-key-%d\r\n" % i)
            assert f.readline() == b"END\r\n"
        f.close()
        s.close()
    time.sleep(0.5)  # let the last probes reach bpftrace's buffer


def preflight():
    if shutil.which("bpftrace") is None:
        return "bpftrace is not installed (Debian: bpftrace, deps/trace.list)"
    if os.geteuid() != 0:
        return "not root: attaching USDT probes needs CAP_BPF and CAP_PERFMON"
    r = subprocess.run(["bpftrace", "-e", 'BEGIN { printf("bpf-ok\\n"); exit(); }'],
                       capture_output=True, text=True, timeout=60)
    if "bpf-ok" not in r.stdout:
        return "the kernel refused to load a BPF program: " + (r.stderr.strip()[-300:] or "?")
    return None


def main():
    kvd, tools = sys.argv[1], sys.argv[2]
    # The notes are in the binary whether or not BPF may run here.
    notes = subprocess.run(["readelf", "-n", kvd], capture_output=True, text=True).stdout
    named = set(re.findall(r"Provider: graft\n\s+Name: (\S+)", notes))
    semas = set(re.findall(r"Provider: graft\n\s+Name: \S+\n\s+Location: \S+, Base: \S+, "
                           r"Semaphore: (\S+)", notes))
    check(len(named) == 11, f"readelf -n: kvd's notes name 11 graft probes ({sorted(named)})")
    check(len(semas) == 2 and all(int(x, 16) != 0 for x in semas),
          f"readelf -n: two semaphores (libgraft's, graft-ffi's), never 0 ({sorted(semas)})")
    why = preflight()
    if why:
        print(f"SKIP: {why}")
        return 1 if FAILS else SKIP
    listed = subprocess.run(["bpftrace", "-l", f"usdt:{kvd}:graft:*"], capture_output=True,
                            text=True).stdout.split()
    want = {f"usdt:{kvd}:graft:{p}" for p in ("seam__call", "seam__return", "impl__enter",
                                              "impl__return", "compare", "fallback",
                                              "breaker", "mode", "ffi__enter",
                                              "ffi__return", "ffi__panic")}
    check(want <= set(listed), f"bpftrace -l lists kvd's {len(want)} graft probes")

    # 1, 2: canary 50% (sticky by connection id).
    proc, port = start_kvd(kvd, {"GRAFT_SEAMS": "kv.parse=canary:50"})
    try:
        salt = fnv1a(b"kv.parse")
        counts = [3, 4, 5, 6, 7, 8]  # connection id i+1 sends counts[i] requests
        served = {i + 1: ("candidate" if bucket(salt, i + 1) < 5000 else "legacy")
                  for i in range(len(counts))}
        key = next((k for k, v in served.items() if v == "candidate"), 1)
        by_key = Trace(os.path.join(tools, "served-by-key.bt"), proc.pid, key)
        lat = Trace(os.path.join(tools, "latency.bt"), proc.pid)
        drive(port, counts)
        out = by_key.stop()
        lat_out = lat.stop()
        lines = re.findall(r"^served seam=(\S+) key=(\d+) by=(\S+) status=(-?\d+) ns=(\d+)$",
                           out, re.M)
        check(len(lines) == counts[key - 1],
              f"served-by-key {key}: {len(lines)} lines for {counts[key - 1]} requests")
        check(all(l[0] == "kv.parse" and int(l[1]) == key for l in lines),
              "served-by-key: only kv.parse calls of that key")
        check(all(l[2] == served[key] and l[3] == "0" for l in lines),
              f"served-by-key: every request served by {served[key]} (its bucket), status 0")
        runs = {m[0]: int(m[1]) for m in
                re.findall(r"^@runs\[kv\.parse, (legacy|candidate)\]: (\d+)$", lat_out, re.M)}
        want_runs = {"legacy": 0, "candidate": 0}
        for i, n in enumerate(counts):
            want_runs[served[i + 1]] += n
        check(runs == {k: v for k, v in want_runs.items() if v},
              f"latency: runs per implementation {runs} == {want_runs}")
        for impl, n in want_runs.items():
            if n:
                check(f"@ns[kv.parse, {impl}]:" in lat_out and re.search(
                    r"^\[\d+\S*, \d+\S*\)\s+\d+ \|@+", lat_out, re.M) is not None,
                    f"latency: a histogram for {impl}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    # 3: every candidate run panics for real in Rust; legacy answers.
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as cfg:
        cfg.write("[seam kv.parse]\nmode = candidate\nfault.panic = 100\n"
                  "breaker.enabled = false\n")
    proc, port = start_kvd(kvd, {"GRAFT_CONFIG": cfg.name})
    try:
        fails = Trace(os.path.join(tools, "failures.bt"), proc.pid)
        counts = [4, 3]
        drive(port, counts)
        out = fails.stop()
        n = sum(counts)
        panics = re.findall(r"^panic fn=(\S+) status=9$", out, re.M)
        failed = re.findall(r"^failed seam=kv\.parse impl=candidate key=(\d+) status=9$", out,
                            re.M)
        fallbacks = re.findall(r"^fallback seam=kv\.parse key=(\d+) reason=GRAFT_EPANIC status=9$",
                               out, re.M)
        check(len(panics) == n and all("kv_rs_parse" in p for p in panics),
              f"failures: {len(panics)} Rust panics in kv_rs_parse for {n} requests "
              f"({sorted(set(panics))})")
        check(len(failed) == n, f"failures: {len(failed)} failed candidate runs")
        check(sorted(int(k) for k in fallbacks) == sorted([1] * counts[0] + [2] * counts[1]),
              f"failures: {len(fallbacks)} fallbacks with reason GRAFT_EPANIC, keyed by connection")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(cfg.name)

    # 4: mismatches as they happen, from a host whose candidate differs on keys 3, 6, ...
    if len(sys.argv) > 3:
        host = subprocess.Popen([sys.argv[3]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        try:
            check(host.stdout.readline().strip() == "ready", "trace_host: ready")
            mism = Trace(os.path.join(tools, "mismatches.bt"), host.pid)
            changes = Trace(os.path.join(tools, "changes.bt"), host.pid)
            host.stdin.write("go\n")
            host.stdin.flush()
            check(host.stdout.readline().strip() == "done", "trace_host: 30 shadow calls made")
            time.sleep(0.5)
            out = mism.stop()
            keys = [int(k) for k in re.findall(r"^mismatch seam=trace\.demo key=(\d+)$", out,
                                               re.M)]
            check(keys == list(range(3, 31, 3)), f"mismatches: keys {keys} == 3, 6, ..., 30")
            check(re.search(r"^@compared\[trace\.demo\]: 30$", out, re.M) is not None,
                  "mismatches: 30 comparisons counted")
            # 5: the breaker opens on the mismatches (20% over 10 calls; they are 33%).
            host.stdin.write("breaker\n")
            host.stdin.flush()
            last = host.stdout.readline().strip()
            check(last == "done open", f"trace_host: breaker open after 30 more calls ({last})")
            time.sleep(0.5)
            out = changes.stop()
            check(re.findall(r"^mode seam=(\S+) from=(\S+) to=(\S+) percent=(\S+)$", out, re.M)
                  == [("trace.demo", "legacy", "shadow", "0.00")],
                  "changes: one mode line, legacy -> shadow")
            opened = re.findall(r"^breaker seam=trace\.demo from=(\S+) to=(\S+) reason=(.*)$",
                                out, re.M)
            check(len([o for o in opened if o[1] == "open"]) == 1 and
                  any(o[:2] == ("closed", "open") and "mismatch" in o[2] for o in opened),
                  f"changes: the breaker went closed -> open once, on mismatches ({opened})")
        finally:
            host.stdin.close()
            host.wait(timeout=10)

    print("trace_kvd: " + ("FAILED: " + "; ".join(FAILS) if FAILS else "all passed"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

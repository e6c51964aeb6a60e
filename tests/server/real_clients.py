#!/usr/bin/env python3
"""kvd with real clients: Debian's libmemcached-tools against a kvd started here.

memccapable -a (libmemcached's own ASCII protocol conformance checks), memccp/memccat
round trips of text and binary files (including a 600 KB one), memcexist, memctouch,
memcrm, memcflush, memcstat, memcping, and memcslap / memcaslap load runs; then kvd
must stop cleanly on SIGTERM. Every client must exit 0 (or fail where a failure is the
expected answer, e.g. memccat of a removed key).
"""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

FAILS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(argv, expect_rc=0, timeout=120, want_out=None):
    r = subprocess.run(argv, capture_output=True, timeout=timeout)
    ok = r.returncode == expect_rc if expect_rc is not None else True
    if want_out is not None and want_out not in r.stdout:
        ok = False
    print(("ok   " if ok else "FAIL ") + " ".join(os.path.basename(a) if i == 0 else a
                                             for i, a in enumerate(argv[:6])) +
          f" -> rc {r.returncode}")
    if not ok:
        FAILS.append(argv[0])
        sys.stdout.write(r.stdout.decode(errors="replace")[-2000:])
        sys.stdout.write(r.stderr.decode(errors="replace")[-2000:])
    return r


def main():
    kvd = sys.argv[1]
    env = dict(os.environ)
    port = free_port()
    srv = f"--servers=127.0.0.1:{port}"
    proc = subprocess.Popen([kvd, "-p", str(port), "-t", "2", "-m", "64"], env=env,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                print("FAIL kvd did not start")
                return 1
            time.sleep(0.05)
    try:
        run(["memccapable", "-h", "127.0.0.1", "-p", str(port), "-a"],
            want_out=b"All tests passed")
        with tempfile.TemporaryDirectory() as d:
            files = {}
            rnd = random.Random(7)
            files["small.txt"] = b"hello from kvd\n"
            files["binary.bin"] = bytes(rnd.getrandbits(8) for _ in range(4096))
            files["big.bin"] = bytes(rnd.getrandbits(8) for _ in range(600 * 1024))
            paths = []
            for name, data in files.items():
                p = os.path.join(d, name)
                with open(p, "wb") as f:
                    f.write(data)
                paths.append(p)
            os.chdir(d)
            run(["memccp", srv] + list(files))
            for name, data in files.items():
                r = run(["memccat", srv, name])
                if r.stdout != data + b"\n":  # memccat ends each value with a newline
                    print(f"FAIL memccat {name}: {len(r.stdout)} bytes, wanted {len(data)}")
                    FAILS.append("memccat-content")
            run(["memcexist", srv, "small.txt"])
            run(["memcexist", srv, "no-such-key"], expect_rc=1)
            run(["memctouch", srv, "--expire=100", "small.txt"])
            run(["memcrm", srv, "small.txt"])
            run(["memccat", srv, "small.txt"], expect_rc=1)
            run(["memcflush", srv])
            run(["memccat", srv, "binary.bin"], expect_rc=1)
        run(["memcstat", srv], want_out=b"curr_connections")
        run(["memcping", srv])
        run(["memcslap", srv, "--concurrency=4", "--execute-number=2000",
             "--flush"], want_out=b"Time to")
        run(["memcslap", srv, "--concurrency=4", "--execute-number=1000", "--test=get"],
            want_out=b"Time to")
        run(["memcaslap", "-s", f"127.0.0.1:{port}", "-T", "2", "-c", "16", "-t", "3s"],
            want_out=b"Run time")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "timeout"
    if rc != 0:
        print(f"FAIL kvd exit status after SIGTERM: {rc}")
        FAILS.append("kvd-exit")
    print(f"real clients: {'all passed' if not FAILS else 'FAILED: ' + ', '.join(FAILS)}")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

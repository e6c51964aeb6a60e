#!/usr/bin/env python3
"""kvload must notice what it exists to notice. Against kvd: exit 0, a summary line with
ops > 0 and no errors. Against a fake server here that (a) corrupts one value byte,
(b) answers a stale version for acknowledged keys, (c) answers SERVER_ERROR, (d) drops
connections: kvload must exit 1 and count errors / stale values.
"""
import re
import socket
import subprocess
import sys
import threading
import time

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def fake_server(mode):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    store = {}
    lock = threading.Lock()

    def serve(c):
        buf = b""
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
                while b"\r\n" in buf:
                    line, rest = buf.split(b"\r\n", 1)
                    parts = line.split()
                    if parts[0] == b"set":
                        n = int(parts[4])
                        if len(rest) < n + 2:
                            break
                        val, buf = rest[:n], rest[n + 2:]
                        with lock:
                            old = store.get(parts[1])
                            # stale mode keeps serving the first value ever written
                            if mode != "stale" or old is None:
                                store[parts[1]] = val
                        if mode == "drop" and len(store) > 20:
                            c.close()
                            return
                        c.sendall(b"SERVER_ERROR out of memory storing object\r\n"
                                  if mode == "error" else b"STORED\r\n")
                    else:
                        buf = rest
                        with lock:
                            v = store.get(parts[1])
                        if v is None:
                            c.sendall(b"END\r\n")
                        else:
                            if mode == "corrupt":
                                v = v[:-1] + (b"A" if v[-1:] != b"A" else b"B")
                            c.sendall(b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (parts[1], len(v), v))
        except OSError:
            return
        finally:
            c.close()

    def accept():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return ls, ls.getsockname()[1]


def kvload(path, port, *extra):
    r = subprocess.run([path, "-p", str(port), "-d", "1", "-c", "4", "-t", "2", "-k", "50",
                        "-g", "0.5", "-q", *extra], capture_output=True, text=True, timeout=60)
    m = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", r.stdout)}
    return r.returncode, m


def main():
    kvd, kvl = sys.argv[1], sys.argv[2]
    p = subprocess.Popen([kvd, "-p", "0", "-t", "2"], stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+) ", p.stderr.readline()).group(1))
        rc, m = kvload(kvl, port, "--check")
        check(rc == 0 and m.get("ops", 0) > 0 and m.get("errors") == 0,
              f"against kvd: rc {rc}, ops {m.get('ops')}, errors {m.get('errors')}")
    finally:
        p.terminate()
        p.wait()
    servers = []
    for mode, field in (("corrupt", "errors"), ("stale", "stale"), ("error", "errors"),
                        ("drop", "errors")):
        ls, port = fake_server(mode)
        rc, m = kvload(kvl, port, "--check")
        check(rc == 1 and m.get(field, 0) > 0,
              f"fake server '{mode}': rc {rc}, {field} {m.get(field)}")
        # listeners stay open: closing one under its blocked accept() could hand its
        # descriptor number, and the next server's connections, to the old thread
        servers.append(ls)
    print("kvload self-test: " + ("passed" if not FAILS else "FAILED"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

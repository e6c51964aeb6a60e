#!/usr/bin/env python3
"""kvd's options and process behaviour: -c (connections over the limit are told
"ERROR Too many open connections" and closed; freed slots are reusable), -I (item size
limit with memcached's 59-byte overhead), -l/-p 0 (binds where told, reports the port),
bad options rejected with status 2, graceful SIGINT (replies owed are delivered, status
0), and that a pipelined burst is answered in order on one connection.
"""
import re
import signal
import socket
import subprocess
import sys
import time

FAILS = []
PROCS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def start(kvd, *args):
    p = subprocess.Popen([kvd, "-p", "0", *args], stderr=subprocess.PIPE, text=True)
    PROCS.append(p)
    line = p.stderr.readline()
    m = re.search(r"listening on (\S+):(\d+)", line)
    if not m:
        raise RuntimeError(f"no listening line: {line!r}")
    return p, int(m.group(2))


def talk(port, data, wait=0.3):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(data)
    time.sleep(wait)
    s.settimeout(0.3)
    out = b""
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def stop(p, sig=signal.SIGTERM):
    p.send_signal(sig)
    try:
        return p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        return "timeout"


def main():
    kvd = sys.argv[1]
    for bad in (["-t", "0"], ["-m", "x"], ["-I", "100"], ["-U", "5"], ["extra"]):
        r = subprocess.run([kvd, *bad], capture_output=True, timeout=10)
        check(r.returncode == 2, f"kvd {' '.join(bad)} rejected with status 2")

    p, port = start(kvd, "-c", "4", "-t", "2")
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    time.sleep(0.2)
    over = talk(port, b"")  # sending nothing: the refusal is not raced by a reset
    check(over == b"ERROR Too many open connections\r\n",
          f"5th connection over -c 4 refused ({over!r})")
    held.pop().close()
    time.sleep(0.2)
    check(talk(port, b"get a\r\n") == b"END\r\n", "a freed slot is reusable")
    for s in held:
        s.close()
    check(stop(p) == 0, "SIGTERM exit status 0")

    p, port = start(kvd, "-I", "2k")
    ok = talk(port, b"set a 0 0 1988\r\n" + b"x" * 1988 + b"\r\n")
    big = talk(port, b"set b 0 0 1989\r\n" + b"x" * 1989 + b"\r\nget b\r\n")
    check(ok == b"STORED\r\n", "-I 2k: 1-byte key + 1988-byte value fits")
    check(big == b"SERVER_ERROR object too large for cache\r\nEND\r\n",
          "-I 2k: 1989 bytes are too large")
    # a pipelined burst of 500 requests is answered completely and in order
    burst = b"".join(b"set k%d 0 0 %d\r\n%d\r\nget k%d\r\n" % (i, len(str(i)), i, i)
                     for i in range(500))
    out = talk(port, burst, wait=1.0)
    want = b"".join(b"STORED\r\nVALUE k%d 0 %d\r\n%d\r\nEND\r\n" % (i, len(str(i)), i)
                    for i in range(500))
    check(out == want, "500 pipelined set+get pairs answered in order")
    # SIGINT while a client waits for a big reply: the reply still arrives
    talk(port, b"set big 0 0 1500\r\n" + b"y" * 1500 + b"\r\n")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"get big big big big\r\n")
    time.sleep(0.2)
    rc = stop(p, signal.SIGINT)
    data = b""
    s.settimeout(2)
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    check(rc == 0, f"SIGINT exit status 0 ({rc})")
    check(data.count(b"VALUE big 0 1500\r\n") == 4 and data.endswith(b"END\r\n"),
          "replies owed at shutdown were delivered")

    p, port = start(kvd, "-l", "::1")
    try:
        s = socket.create_connection(("::1", port), timeout=3)
        s.sendall(b"version\r\n")
        check(s.recv(100).startswith(b"VERSION "), "-l ::1 listens on IPv6 loopback")
        s.close()
    except OSError as e:
        print(f"skip IPv6 loopback: {e}")
    check(stop(p) == 0, "IPv6 instance stops cleanly")
    print("server options: " + ("all passed" if not FAILS else "FAILED"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        for proc in PROCS:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    sys.exit(rc)

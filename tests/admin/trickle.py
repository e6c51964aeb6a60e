#!/usr/bin/env python3
"""trickle.py: slow clients must not lock the admin endpoint (and its rollback) out.

64 clients connect to the test host's endpoint and trickle request header bytes at one
byte a second, reconnecting whenever they are closed, for the whole test. Meanwhile:
  - a rollback (PUT mode legacy, as `graftctl set SEAM legacy` sends it) must succeed
    within 1 s, several times over;
  - no trickling connection may live longer than the endpoint's total request deadline
    (10 s) plus a margin: an idle timeout alone never fires for them.

Usage: trickle.py TESTHOST
"""
import json
import socket
import subprocess
import sys
import threading
import time

TOKEN = "trickle-tok"
CLIENTS = 64
DEADLINE_S = 10.0
RUN_S = 13.0  # longer than the deadline, so every first connection must have been cut


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def rollback(port, mode):
    """One PUT over a fresh connection; returns (status, seconds)."""
    body = json.dumps({"mode": mode}).encode()
    req = (
        "PUT /api/seams/demo.upper HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nConnection: close\r\n\r\n" % (port, TOKEN, len(body))
    ).encode() + body
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(req)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError as e:
        return ("error: %s" % e, time.monotonic() - t0)
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    status = int(line.split()[1]) if line.startswith("HTTP/1.") else line or "closed"
    return (status, time.monotonic() - t0)


def main():
    host = subprocess.Popen([sys.argv[1], "127.0.0.1:0", TOKEN, "--seconds", "60"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = host.stdout.readline()
        if not line.startswith("port "):
            fail("test host did not report its port: %r" % line)
        port = int(line.split()[1])
        stop = threading.Event()
        lifetimes = []  # seconds each trickling connection lived before the server cut it
        lock = threading.Lock()
        connected = [0]

        def trickler():
            payload = b"GET /api/seams HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Pad: " % port
            while not stop.is_set():
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=2)
                except OSError:
                    time.sleep(0.05)
                    continue
                t0 = time.monotonic()
                with lock:
                    connected[0] += 1
                i = 0
                try:
                    while not stop.is_set():
                        b = payload[i:i + 1] if i < len(payload) else b"a"
                        s.sendall(b)
                        i += 1
                        # 1 byte a second; notice a close from the server meanwhile.
                        s.settimeout(1.0)
                        try:
                            if s.recv(4096) == b"":
                                break
                        except socket.timeout:
                            pass
                except OSError:
                    pass
                if not stop.is_set():
                    with lock:
                        lifetimes.append(time.monotonic() - t0)
                s.close()

        threads = [threading.Thread(target=trickler, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(2.0)  # every trickler connected and holding its slot
        t_start = time.monotonic()
        results = []
        modes = ["candidate", "legacy"]
        n = 0
        while time.monotonic() - t_start < RUN_S:
            results.append(rollback(port, modes[n % 2]))
            n += 1
            time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=5)
        worst = max(r[1] for r in results)
        ok = [r for r in results if r[0] == 200 and r[1] <= 1.0]
        print("trickle: %d clients at 1 byte/s (%d connections made); %d of %d rollbacks "
              "answered 200 within 1 s, slowest %.3f s; trickling connections cut after "
              "at most %.1f s (%d cut)" % (CLIENTS, connected[0], len(ok), len(results), worst,
                                          max(lifetimes) if lifetimes else -1, len(lifetimes)))
        if len(ok) != len(results):
            fail("rollback refused or slow: %r" % results)
        if not lifetimes:
            fail("no trickling connection was ever cut: the deadline never fired")
        if max(lifetimes) > DEADLINE_S + 1.5:
            fail("a trickling connection lived %.1f s, past the %.0f s deadline"
                 % (max(lifetimes), DEADLINE_S))
        print("trickle: all checks passed")
    finally:
        host.terminate()
        host.wait(timeout=10)


if __name__ == "__main__":
    main()

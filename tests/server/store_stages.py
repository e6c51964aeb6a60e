#!/usr/bin/env python3
"""kv.store under load while its stage changes at random (tests/server/stateful.cmake).

Starts kvd with the admin endpoint, preloads keys, then runs client threads that check
every reply against a model (each thread owns its keys, so the model is exact: set, add,
append, incr, delete, get, gets+cas) while a controller moves kv.store to a random stage
(any of the six, canary at a random share) every 150-450 ms through PUT /api/seams.
Refusals by the gates (409: backfill running, verify, candidate-only from candidate only,
reverse backfill) are part of the run: the controller just asks again later.

Passes when no reply differed from the model, no client saw an error and the seam went
through every stage at least once; prints one summary line.

usage: store_stages.py KVD SECONDS [--preload N] [--threads T]
"""
import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

STAGES = ["legacy", "dual-write", "shadow", "canary", "candidate", "candidate-only"]
TOKEN = "store-stages-token"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise IOError("connection closed")
            self.buf += d
        i = self.buf.index(b"\r\n")
        ln, self.buf = self.buf[:i], self.buf[i + 2:]
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise IOError("connection closed")
            self.buf += d
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def cmd(self, text, data=None):
        out = text.encode() + b"\r\n"
        if data is not None:
            out += data + b"\r\n"
        self.s.sendall(out)
        return self.line()

    def get(self, key, gets=False):
        self.s.sendall(("gets " if gets else "get ").encode() + key.encode() + b"\r\n")
        ln = self.line()
        if ln == b"END":
            return None, None
        parts = ln.split()
        if parts[0] != b"VALUE" or parts[1].decode() != key:
            raise ValueError("bad get reply %r" % ln)
        n = int(parts[3])
        cas = int(parts[4]) if gets else None
        data = self.exact(n + 2)[:-2]
        end = self.line()
        if end != b"END":
            raise ValueError("bad get end %r" % end)
        return data, cas


class Admin:
    def __init__(self, port):
        self.port = port

    def req(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Authorization": "Bearer " + TOKEN}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def seam(self):
        st, data = self.req("GET", "/api/seams/kv.store")
        assert st == 200, (st, data)
        return json.loads(data)


def worker(port, tid, nkeys, stop, stats, errors):
    c = Client(port)
    rnd = random.Random(tid * 7919 + 1)
    model = {}
    for i in range(nkeys):
        model["t%d-%d" % (tid, i)] = b"p%d" % i  # preloaded by main
    keys = list(model)
    ops = 0

    def bad(what):
        errors.append("thread %d: %s" % (tid, what))

    while not stop.is_set() and len(errors) < 20:
        k = rnd.choice(keys)
        r = rnd.random()
        want = model.get(k)
        try:
            if r < 0.30:
                v = b"v%d" % rnd.randrange(10 ** 9)
                if c.cmd("set %s 0 0 %d" % (k, len(v)), v) != b"STORED":
                    bad("set %s not STORED" % k)
                model[k] = v
            elif r < 0.38:
                got = c.cmd("delete %s" % k)
                exp = b"DELETED" if want is not None else b"NOT_FOUND"
                if got != exp:
                    bad("delete %s: %r, model %r" % (k, got, want))
                model[k] = None
            elif r < 0.44:
                v = b"a%d" % rnd.randrange(100)
                got = c.cmd("append %s 0 0 %d" % (k, len(v)), v)
                exp = b"STORED" if want is not None else b"NOT_STORED"
                if got != exp:
                    bad("append %s: %r, model %r" % (k, got, want))
                if want is not None:
                    model[k] = want + v
            elif r < 0.50:
                v = b"%d" % rnd.randrange(1000)
                got = c.cmd("add %s 0 0 %d" % (k, len(v)), v)
                exp = b"STORED" if want is None else b"NOT_STORED"
                if got != exp:
                    bad("add %s: %r, model %r" % (k, got, want))
                if want is None:
                    model[k] = v
            elif r < 0.56:
                got = c.cmd("incr %s 3" % k)
                if want is None:
                    exp = b"NOT_FOUND"
                elif want.isdigit():
                    n = (int(want) + 3) % (1 << 64)
                    exp = b"%d" % n
                else:
                    exp = b"CLIENT_ERROR cannot increment or decrement non-numeric value"
                if got != exp:
                    bad("incr %s: %r, expected %r" % (k, got, exp))
                if want is not None and want.isdigit():
                    model[k] = exp
            elif r < 0.62:
                data, cas = c.get(k, gets=True)
                if data != want:
                    bad("gets %s: %r, model %r" % (k, data, want))
                if data is not None:
                    v = b"c%d" % rnd.randrange(1000)
                    got = c.cmd("cas %s 0 0 %d %d" % (k, len(v), cas), v)
                    if got != b"STORED":
                        bad("cas %s with the CAS just read: %r" % (k, got))
                    model[k] = v
            else:
                data, _ = c.get(k)
                if data != want:
                    bad("get %s: %r, model %r" % (k, data, want))
        except Exception as e:  # a closed connection or a malformed reply
            bad("%s: %r" % (k, e))
            return
        ops += 1
    stats[tid] = ops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kvd")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--preload", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--keys", type=int, default=300, help="keys per thread")
    a = ap.parse_args()

    port, aport = free_port(), free_port()
    env = dict(os.environ, GRAFT_ADMIN="127.0.0.1:%d" % aport, GRAFT_ADMIN_TOKEN=TOKEN,
               KVD_BACKFILL_ITEMS=os.environ.get("KVD_BACKFILL_ITEMS", "500"))
    p = subprocess.Popen([a.kvd, "-p", str(port), "-U", "0", "-t", "4", "-m", "256"], env=env,
                         stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        c = Client(port)
        for i in range(a.preload):
            v = b"x%d" % i
            c.s.sendall(b"set pre%d 0 0 %d noreply\r\n%s\r\n" % (i, len(v), v))
        for t in range(a.threads):
            for i in range(a.keys):
                v = b"p%d" % i
                c.s.sendall(b"set t%d-%d 0 0 %d noreply\r\n%s\r\n" % (t, i, len(v), v))
        assert c.cmd("version").startswith(b"VERSION")
        admin = Admin(aport)

        stop = threading.Event()
        stats, errors = {}, []
        ths = [threading.Thread(target=worker, args=(port, t, a.keys, stop, stats, errors))
               for t in range(a.threads)]
        for t in ths:
            t.start()
        rnd = random.Random(42)
        asked = refused = 0
        seen = set()
        end = time.time() + a.seconds
        while time.time() < end and not errors:
            cur = admin.seam()["mode"]
            # Half the time the next stage forward (so every stage is reached), else any.
            nxt = STAGES[min(STAGES.index(cur) + 1, len(STAGES) - 1)]
            target = nxt if rnd.random() < 0.5 else rnd.choice(STAGES)
            body = {"mode": target}
            if target == "canary":
                body["percent"] = rnd.choice([1, 10, 50, 90])
            st, data = admin.req("PUT", "/api/seams/kv.store", body)
            asked += 1
            if st == 409:
                refused += 1
            elif st != 200:
                errors.append("PUT %s: %d %s" % (target, st, data[:200]))
            seen.add(admin.seam()["mode"])
            time.sleep(rnd.uniform(0.15, 0.45))
        stop.set()
        for t in ths:
            t.join()
        js = admin.seam()
        sf = js["stateful"]
        # The preloaded keys nobody wrote are still there, whatever stage it ended in.
        for i in range(0, a.preload, max(1, a.preload // 500)):
            data, _ = c.get("pre%d" % i)
            if data != b"x%d" % i:
                errors.append("pre%d: %r after the run" % (i, data))
                break
        total = sum(stats.values())
        missing = [s for s in STAGES if s not in seen]
        print("store-stages: %.0f s, %d checked operations by %d clients, %d stage changes "
              "asked (%d refused by the gates), stages seen %s, seam mismatches %d, write "
              "mismatches %d, errors %d"
              % (a.seconds, total, a.threads, asked, refused, ",".join(sorted(seen)),
                 js["counters"]["mismatches"], sf["writes"]["mismatches"], len(errors)))
        for e in errors[:10]:
            print("  " + e)
        ok = not errors and not missing and total > 0 and js["counters"]["mismatches"] == 0 \
            and sf["writes"]["mismatches"] == 0
        if missing:
            print("  stages never reached: " + ",".join(missing))
        print("store-stages: %s" % ("every read matched the model" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        p.terminate()
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if p.returncode not in (0, -15):
            sys.stderr.write(err.decode(errors="replace")[-4000:])
            print("store-stages: kvd exited with %d" % p.returncode)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Conformance of kvd against the real memcached (Debian's binary).

Every case is a request script: chunks of bytes sent on one fresh connection, with
pauses and reads in between. The same script runs against memcached and against kvd,
each started here on a free loopback port, and the two transcripts (every byte each
server sent, plus "<CLOSED>" when it closed the connection) must be identical after
the normalisations below -- and only these:

  N1  "VERSION <anything>\\r\\n" -> "VERSION <v>\\r\\n"       (version strings differ)
  N2  the CAS unique in "VALUE <key> <flags> <bytes> <cas>\\r\\n" -> "<casN>", N numbering
      distinct values in order of appearance within the case (equal stays equal,
      different stays different: the relations are compared, not the numbers)
  N3  a run of "STAT <name> <value>\\r\\n" lines -> "<STATS>" (the servers keep different
      statistics; the framing, "END" and surrounding replies are still compared)

  N4  the CAS in a meta reply ("c<cas>" tokens of HD/VA/NS/EX/NF lines, "cas=<cas>" of
      an ME line) -> "c<casN>" / "cas=<casN>", numbered with N2's values

Cases may capture a CAS value from a previous reply and use it in a later request
("{cas:<key>}", or "{mcas}": the last "c<cas>" token of a meta reply), so the cas
command is exercised with real values on both servers. "{b64:<text>}" is sent as the
base64 of <text> (meta keys with the b flag).

Usage: conformance.py --kvd PATH [--memcached PATH] [--env NAME=VALUE ...] [-j N]
                      [--filter TEXT] [--list] [-v]
Extra environment for kvd also comes from KVD_ENV ("A=1 B=2"), so wrappers (e.g. the
seam modes of the migration) can re-run the same corpus unchanged.
"""
import argparse
import base64
import concurrent.futures
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import build_cases, keyed  # noqa: E402

IDLE = 0.25        # seconds of silence that end a read (a differing case is re-run
                   # with each of SLOW_IDLES, on fresh keys, so a loaded machine's late
                   # reply is not taken for a difference)
SLOW_IDLES = (1.0, 3.0)
READ_CAP = 10.0    # hard cap of one read


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Server:
    def __init__(self, name, argv, env=None):
        self.name = name
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        # stderr to a file, never a pipe: "verbosity" makes memcached log every command,
        # and an undrained pipe would stall it
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        wait_port(self.port, self.proc, name)

    def tail(self, n=2000):
        self.log.seek(0)
        return self.log.read()[-n:].decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def read_idle(sock, out, idle):
    """Reads until the server is silent for `idle` seconds or closes; True if closed."""
    end = time.time() + READ_CAP
    sock.settimeout(idle)
    while time.time() < end:
        try:
            d = sock.recv(1 << 20)
        except socket.timeout:
            return False
        except ConnectionResetError:
            out.append(b"<CLOSED>")
            return True
        if not d:
            out.append(b"<CLOSED>")
            return True
        out.append(d)
    return False


CAS_RE = re.compile(rb"VALUE ([^ \n]+) (\d+) (\d+) (\d+)\r\n")  # keys may hold tabs, CRs


def last_cas(chunks, key):
    found = None
    for m in CAS_RE.finditer(b"".join(chunks)):
        if m.group(1) == key:
            found = m.group(4)
    if found is None:
        return b"0"
    return found


META_LINE_RE = re.compile(rb"(?m)^(?:HD|VA \d+|NS|EX|NF)(?: [^ \r\n]+)*\r$")
META_CAS_RE = re.compile(rb"(?<= )c(\d+)(?= |\r)")
ME_CAS_RE = re.compile(rb"(?m)^(ME [^\r\n]* cas=)(\d+)")


def last_meta_cas(chunks):
    found = b"0"
    for m in META_LINE_RE.finditer(b"".join(chunks)):
        for c in META_CAS_RE.finditer(m.group(0)):
            found = c.group(1)
    return found


def run_script(port, steps, idle=IDLE):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    closed = False
    try:
        for st in steps:
            kind = st[0]
            if kind == "send":
                data = st[1]
                for m in re.finditer(rb"\{cas:([^}]*)\}", data):
                    data = data.replace(m.group(0), last_cas(out, m.group(1)))
                if b"{mcas}" in data:
                    data = data.replace(b"{mcas}", last_meta_cas(out))
                for m in re.finditer(rb"\{b64:(.*?)\}", data, re.S):
                    data = data.replace(m.group(0), base64.b64encode(m.group(1)))
                try:
                    sock.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
            elif kind == "sleep":
                time.sleep(st[1])
            elif kind == "read":
                if read_idle(sock, out, idle):
                    closed = True
                    break
        if not closed:
            read_idle(sock, out, idle)
    finally:
        sock.close()
    return b"".join(out)


STAT_RUN = re.compile(rb"(?:STAT [^\r\n]*\r\n)+")
VERSION_RE = re.compile(rb"VERSION [^\r\n]*\r\n")


def normalise(b):
    b = VERSION_RE.sub(b"VERSION <v>\r\n", b)
    b = STAT_RUN.sub(b"<STATS>", b)
    seen = {}

    def cas(m):
        v = m.group(4)
        if v not in seen:
            seen[v] = b"<cas%d>" % len(seen)
        return b"VALUE %s %s %s %s\r\n" % (m.group(1), m.group(2), m.group(3), seen[v])
    b = CAS_RE.sub(cas, b)

    def mcas(m):
        v = m.group(1)
        if v not in seen:
            seen[v] = b"<cas%d>" % len(seen)
        return b"c" + seen[v]

    def meta_line(m):
        return META_CAS_RE.sub(mcas, m.group(0))

    def me_cas(m):
        v = m.group(2)
        if v not in seen:
            seen[v] = b"<cas%d>" % len(seen)
        return m.group(1) + seen[v]
    b = META_LINE_RE.sub(meta_line, b)
    return ME_CAS_RE.sub(me_cas, b)


def show(b, limit=600):
    r = repr(b)
    return r if len(r) <= limit else r[:limit] + "...(%d bytes)" % len(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kvd", required=False, help="path of the kvd binary")
    ap.add_argument("--memcached", default="memcached")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for kvd (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=12)
    ap.add_argument("--filter", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    cases = [c for c in build_cases() if a.filter in c["name"]]
    if a.list:
        for c in cases:
            print(c["name"])
        print(f"{len(cases)} cases")
        return 0
    if not a.kvd:
        ap.error("--kvd is required")

    env = dict(os.environ)
    extra = shlex.split(os.environ.get("KVD_ENV", "")) + a.env
    for kv in extra:
        k, _, v = kv.partition("=")
        env[k] = v
    mc_argv = [a.memcached, "-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-t", "2",
               "-m", "64"]
    if os.geteuid() == 0:
        mc_argv += ["-u", "nobody"]
    kvd_argv = [a.kvd, "-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-t", "2", "-m", "64"]
    mc = Server("memcached", mc_argv)
    try:
        kv = Server("kvd", kvd_argv, env)
    except Exception:
        mc.stop()
        raise
    failures = []
    try:
        def one(c):
            r_mc = run_script(mc.port, keyed(c, 0))
            r_kv = run_script(kv.port, keyed(c, 0))
            # A difference is re-run on fresh keys with longer silences before it counts:
            # a machine stalled for a second (sanitizers, parallel builds) delays a reply
            # past the idle window, which is not a behavioural difference.
            for attempt, idle in enumerate(SLOW_IDLES, start=1):
                if normalise(r_mc) == normalise(r_kv):
                    break
                r_mc = run_script(mc.port, keyed(c, attempt), idle)
                r_kv = run_script(kv.port, keyed(c, attempt), idle)
            return c, r_mc, r_kv

        parallel = [c for c in cases if not c.get("serial")]
        serial = [c for c in cases if c.get("serial")]
        results = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            results += list(ex.map(one, parallel))
        for c in serial:
            results.append(one(c))
        for c, r_mc, r_kv in results:
            n_mc, n_kv = normalise(r_mc), normalise(r_kv)
            ok = n_mc == n_kv
            if not ok:
                failures.append(c["name"])
                print(f"FAIL {c['name']}\n  memcached: {show(n_mc)}\n  kvd:       {show(n_kv)}")
            elif a.verbose:
                print(f"ok   {c['name']}: {show(n_kv, 160)}")
        if kv.proc.poll() is not None:
            failures.append("kvd-still-running")
            print("FAIL kvd exited during the run")
    finally:
        mc.stop()
        rc = kv.stop()
    if rc not in (0, None):
        failures.append("kvd-exit-status")
        print(f"FAIL kvd exit status after SIGTERM: {rc}\n{kv.tail()}")
    print(f"conformance: {len(cases) - len([f for f in failures if not f.startswith('kvd-')])}"
          f"/{len(cases)} cases identical to memcached")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

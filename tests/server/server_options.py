#!/usr/bin/env python3
"""kvd's options and process behaviour: -c (connections over the limit are told
"ERROR Too many open connections" and closed; freed slots are reusable), -I (item size
limit with memcached's 59-byte overhead), -l/-p 0 (binds where told, reports the port),
bad options rejected with status 2, graceful SIGINT (replies owed are delivered, status
0), and that a pipelined burst is answered in order on one connection.

memcached's command line (server/kv_opts.c): each flag that kvd applies is run against
memcached 1.6.18 started with the same flag and the transcripts compared (-F, -C, -R,
-A, -X, -W, -B ascii, -o); process flags are checked on the process (-u: /proc Uid and
Groups; -s/-a: the socket file's mode, TCP off; -d/-P: a detached session leader whose
pid file names it and goes at exit; -b, -R in stats settings); refused flags (-U 5,
-B binary, -M, -S, -Y, -Z, -e, -o ext_*/ssl_*) exit 2 naming the reason; no-effect flags
log a note. Signals: SIGHUP keeps kvd serving and reloads GRAFT_CONFIG (all or nothing),
SIGUSR1 stops gracefully like SIGINT.
"""
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from conformance import Server, normalise, run_script  # noqa: E402

FAILS = []
PROCS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def start(kvd, *args, env=None, tcp=True):
    """Starts kvd; its stderr lines are collected in p.lines by a thread (notes may come
    before the listening line). Returns (p, port), port None for a UNIX socket."""
    argv = [kvd, "-p", "0", *args] if tcp else [kvd, *args]
    p = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    PROCS.append(p)
    p.lines = []
    got = threading.Event()

    def reader():
        for line in p.stderr:
            p.lines.append(line)
            if "listening on" in line:
                got.set()
        got.set()
    threading.Thread(target=reader, daemon=True).start()
    got.wait(10)
    for line in p.lines:
        m = re.search(r"listening on (\S+):(\d+) ", line)
        if m:
            return p, int(m.group(2))
        if "listening on unix:" in line:
            return p, None
    raise RuntimeError(f"no listening line: {p.lines!r}")


def stderr_has(p, text, timeout=3.0):
    end = time.time() + timeout
    while time.time() < end:
        if any(text in line for line in p.lines):
            return True
        time.sleep(0.05)
    return False


def talk_unix(path, data, wait=0.3):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
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


# ---- memcached's command line, compared with memcached itself -----------------------

def send(b):
    return ("send", b)


READ = ("read",)


def mc_argv(flags):
    argv = ["memcached", "-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-t", "2", *flags]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    return argv


def compare_with_memcached(kvd, flags, scripts, raw=False):
    """Runs each script on memcached and on kvd, both started with `flags`; raw compares
    the bytes unnormalised (CAS values under -C must be 0 on both)."""
    mc = Server("memcached", mc_argv(flags))
    try:
        kv = Server("kvd", [kvd, "-p", "{port}", "-l", "127.0.0.1", "-U", "0", "-t", "2", *flags])
    except RuntimeError as e:
        mc.stop()
        check(False, f"kvd {' '.join(flags)} starts ({e})")
        return
    try:
        for name, steps in scripts:
            a = run_script(mc.port, steps)
            b = run_script(kv.port, steps)
            if not raw:
                a, b = normalise(a), normalise(b)
            check(a == b, f"{' '.join(flags)}: {name} as memcached ({b!r}"
                  + ("" if a == b else f" != {a!r}") + ")")
    finally:
        mc.stop()
        kv.stop()


def test_flags_vs_memcached(kvd):
    compare_with_memcached(kvd, ["-F"], [
        ("flush_all refused", [send(b"set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\n")]),
        ("flush_all <delay> refused", [send(b"flush_all 0\r\nflush_all 10\r\n")]),
        ("flush_all noreply silent", [send(b"flush_all noreply\r\nversion\r\n")]),
        ("flush_all bad delay refused", [send(b"flush_all x\r\nflush_all noreply x\r\n")]),
        ("flush_all token count", [send(b"flush_all 1 2 3\r\n")]),
        ("stats settings framing", [send(b"stats settings\r\n")]),
    ])
    cas = [
        ("gets shows cas 0", [send(b"set a 0 0 1\r\nx\r\ngets a\r\n")]),
        ("cas 0 on an item: EXISTS", [send(b"set b 0 0 1\r\nx\r\ncas b 0 0 1 0\r\ny\r\n"
                                           b"get b\r\n")]),
        ("cas N on an item: EXISTS", [send(b"set c 0 0 1\r\nx\r\ncas c 0 0 1 1\r\ny\r\n"
                                           b"cas c 0 0 1 2 noreply\r\nz\r\nget c\r\n")]),
        ("cas on a miss: NOT_FOUND", [send(b"cas zz 0 0 1 0\r\ny\r\n")]),
        ("incr keeps cas 0", [send(b"set d 0 0 1\r\n1\r\nincr d 1\r\ngets d\r\n")]),
        ("gats shows cas 0", [send(b"set e 0 0 1\r\n1\r\ngats 100 e\r\n")]),
    ]
    compare_with_memcached(kvd, ["-C"], cas, raw=True)
    # -R moves memcached's flush points: replies before an over-long get key survive
    # only up to the last yield
    big = b"get " + b"k" * 251 + b"\r\n"
    sets = b"".join(b"set k%d 0 0 1\r\nx\r\n" % i for i in range(12))
    for r in ("1", "5"):
        compare_with_memcached(kvd, ["-R", r], [
            ("12 sets then a bad get", [send(sets + big)]),
            ("stats settings framing", [send(b"stats settings\r\n")]),
        ])
    compare_with_memcached(kvd, ["-X", "-W"], [
        ("stats cachedump not allowed", [send(b"stats cachedump 1 1\r\n")]),
        ("metadump not allowed", [send(b"lru_crawler metadump all\r\n")]),
        ("watch not allowed", [send(b"watch\r\n")]),
    ])
    compare_with_memcached(kvd, ["-B", "ascii"], [
        ("version", [send(b"version\r\n")]),
        ("a binary request is an unknown command", [send(b"\x80\x0a" + b"\x00" * 22)]),
    ])
    compare_with_memcached(kvd, ["-o", "hashpower=16,no_modern,lru_crawler_sleep=10"], [
        ("set/get", [send(b"set a 0 0 1\r\nx\r\nget a\r\n")]),
    ])
    compare_with_memcached(kvd, ["-A"], [
        ("shutdown with a bad mode", [send(b"shutdown foo\r\n")]),
    ])
    # -A "shutdown graceful": the connection closes and the server stops, exit 0
    for prog, argv in (("memcached", mc_argv(["-A"])),
                       ("kvd", [kvd, "-p", "{port}", "-l", "127.0.0.1", "-A"])):
        srv = Server(prog, argv)
        out = run_script(srv.port, [send(b"shutdown graceful\r\n")])
        try:
            rc = srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = "still running"
        srv.stop()
        check(out == b"<CLOSED>" and rc == 0,
              f"{prog} -A: shutdown graceful closes and stops with 0 ({out!r}, {rc})")


def test_refused_and_noted(kvd):
    for bad, why in ((["-U", "5"], "UDP"), (["-B", "binary"], "ASCII"),
                     (["-B", "foo"], "binding protocol"), (["-M"], "evicts"),
                     (["-S"], "SASL"), (["-Y", "/dev/null"], "authentication"),
                     (["-Z"], "TLS"), (["-e", "/tmp/x"], "memory"),
                     (["-o", "ext_path=/tmp/x:64m"], "extstore"),
                     (["-o", "ssl_key=x"], "TLS"), (["-o", "bogus"], "Illegal suboption"),
                     (["-o", "hashpower=5"], "hashpower"),
                     (["-o", "hash_algorithm=foo"], "hash_algorithm"),
                     (["-R", "0"], "-R"), (["-a", "999"], "-a"), (["-m", "1g"], "-m"),
                     (["-l", "127.0.0.1,::1"], "one address")):
        r = subprocess.run([kvd, "-p", "0", *bad], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and why in r.stderr,
              f"kvd {' '.join(bad)} refused, status 2, saying {why!r} ({r.stderr.strip()[:90]!r})")
    p, port = start(kvd, "-L", "-f", "1.5", "-n", "48", "-D", ":", "-N", "1", "-v", "-vv",
                    "-k", "-r", "-b", "16", "-R", "7", "-B", "auto",
                    "-o", "hashpower=18,idle_timeout=0,modern,maxconns_fast")
    notes = [ln for ln in p.lines if "accepted, no effect" in ln or "-B auto" in ln]
    check(len(notes) == 8, f"7 no-effect flags each logged a note, -B auto one ({len(notes)})")
    st = talk(port, b"stats settings\r\n")
    check(b"STAT tcp_backlog 16\r\n" in st and b"STAT reqs_per_event 7\r\n" in st,
          "-b 16 and -R 7 in stats settings")
    check(talk(port, b"set a 0 0 1\r\nx\r\nget a\r\n") == b"STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n",
          "serves with -o hashpower=18")
    # meta commands: an ms value is stored, never run as commands (here a flush_all that
    # would empty the cache), also when it is split across reads
    out = talk(port, b"ms a 9 T0\r\nflush_all\r\nmg a v\r\nget a\r\n")
    check(out == b"HD\r\nVA 9\r\nflush_all\r\nVALUE a 0 9\r\nflush_all\r\nEND\r\n",
          f"ms: its value stored, not executed ({out!r})")
    out = run_script(port, [send(b"ms a 11\r\nflush"), READ, send(b"_all\r\n\r\nget a\r\n")])
    check(out == b"HD\r\nVALUE a 0 11\r\nflush_all\r\n\r\nEND\r\n",
          f"ms: a value split across reads is stored whole ({out!r})")
    # lru_crawler crawl runs a sweep slice on the worker: at most one per 100 ms, else
    # memcached's BUSY line
    out = talk(port, b"lru_crawler crawl all\r\nlru_crawler crawl all\r\n")
    time.sleep(0.15)
    out2 = talk(port, b"lru_crawler crawl 1\r\n")
    check(out == b"OK\r\nBUSY currently processing crawler request\r\n" and out2 == b"OK\r\n",
          f"lru_crawler crawl: back to back BUSY, 150 ms later OK ({out!r} {out2!r})")
    p.send_signal(signal.SIGHUP)  # no GRAFT_CONFIG: reloads GRAFT_SEAMS (none), no harm
    check(stderr_has(p, "SIGHUP: configuration reloaded") and p.poll() is None,
          "SIGHUP without GRAFT_CONFIG: kept running")
    check(stop(p) == 0, "stops cleanly")
    r = subprocess.run([kvd, "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "--disable-flush-all" in r.stdout and "ext_path" in r.stdout,
          "--help lists memcached's flags and -o options")
    # memcached's -l host:port form (the port wins over -p) and -m with an "m" suffix
    from conformance import free_port
    want = free_port()
    p, port = start(kvd, "-l", "127.0.0.1:%d" % want, "-m", "48m")
    st = talk(port, b"stats settings\r\n")
    check(port == want and b"STAT maxbytes 50331648\r\n" in st,
          f"-l 127.0.0.1:{want} listens on that port, -m 48m is 48 MB ({port})")
    stop(p)
    p, port = start(kvd, "--threads=2", "--disable-cas", "--max-item-size=2k")
    st = talk(port, b"stats settings\r\n")
    check(b"STAT cas_enabled no\r\n" in st and b"STAT item_size_max 2048\r\n" in st,
          "long options (--disable-cas, --max-item-size=2k)")
    stop(p)


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(ln.rstrip("\n").split(":\t", 1) for ln in f if ":\t" in ln)


def test_process_flags(kvd, tmp):
    os.chmod(tmp, 0o777)  # the unprivileged user must be able to create its socket here
    if os.geteuid() == 0:
        p, port = start(kvd, "-u", "nobody")
        st = proc_status(p.pid)
        uid = st["Uid"].split()
        check(uid == ["65534"] * 4 and st["Gid"].split() == ["65534"] * 4
              and st["Groups"].strip() == "", f"-u nobody: Uid/Gid 65534 x4, no groups ({st['Uid']})")
        check(talk(port, b"version\r\n").startswith(b"VERSION "), "-u nobody serves")
        check(stop(p) == 0, "-u nobody stops with 0")
        r = subprocess.run([kvd, "-p", "0", "-u", "no-such-user-kvd"], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode == 2 and "can't find the user no-such-user-kvd" in r.stderr,
              "-u with an unknown user refused")
        p, port = start(kvd)
        check(stderr_has(p, "running as root without -u"), "root without -u warns")
        stop(p)
    else:
        print("skip -u: not root")

    sock = os.path.join(tmp, "kvd.sock")
    with open(sock, "w"):
        pass  # not a socket: kvd must not delete it
    r = subprocess.run([kvd, "-s", sock], capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and os.path.exists(sock), "-s over a regular file refuses, keeps it")
    os.unlink(sock)
    p, _ = start(kvd, "-s", sock, "-a", "0660", tcp=False)
    m = os.stat(sock).st_mode
    check(stat.S_ISSOCK(m) and stat.S_IMODE(m) == 0o660, f"-s/-a 0660: socket mode {oct(m)}")
    check(talk_unix(sock, b"set a 0 0 1\r\nx\r\nget a\r\n")
          == b"STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n", "-s: serves on the UNIX socket")
    st = talk_unix(sock, b"stats settings\r\n")
    check(("STAT domain_socket %s\r\n" % sock).encode() in st and b"STAT umask 660\r\n" in st,
          "-s/-a in stats settings")
    check(stop(p) == 0, "-s stops cleanly")
    p, _ = start(kvd, "-s", sock, tcp=False)  # a stale socket file is replaced
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0o700, "-s default mask 0700, stale socket replaced")
    stop(p)
    p, _ = start(kvd, "-s", sock, "-a", "0", tcp=False)
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0, "-s with -a 0: mode 000, as memcached")
    stop(p)

    pidfile = os.path.join(tmp, "kvd.pid")
    t0 = time.time()
    r = subprocess.run([kvd, "-d", "-P", pidfile, "-s", sock], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode == 0 and "listening on unix:" in r.stderr,
          f"-d returns 0 once listening ({time.time() - t0:.2f} s)")
    try:
        with open(pidfile) as f:
            dpid = int(f.read())
    except (OSError, ValueError):
        dpid = 0
    check(dpid > 0 and os.path.exists(f"/proc/{dpid}"), f"-P names the daemon ({dpid})")
    if dpid > 0:
        with open(f"/proc/{dpid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        check(int(fields[3]) == dpid, "-d: the daemon leads its own session")
        check(os.readlink(f"/proc/{dpid}/cwd") == "/", "-d: the daemon left its directory")
        check(talk_unix(sock, b"version\r\n").startswith(b"VERSION "), "-d: the daemon serves")
        os.kill(dpid, signal.SIGUSR1)
        end = time.time() + 10
        while os.path.exists(f"/proc/{dpid}") and time.time() < end:
            time.sleep(0.05)
        check(not os.path.exists(f"/proc/{dpid}"), "SIGUSR1 stops the daemon")
        check(not os.path.exists(pidfile), "the pid file is removed at exit")
    r = subprocess.run([kvd, "-d", "-s", os.path.join(tmp, "missing", "s")],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "cannot listen" in r.stderr,
          f"-d: a start-up failure reaches the caller's status and terminal ({r.returncode})")
    p, port = start(kvd, "-P", pidfile)
    with open(pidfile) as f:
        check(int(f.read()) == p.pid, "-P without -d writes the pid")
    check(stop(p) == 0 and not os.path.exists(pidfile), "-P: removed at SIGTERM")


def test_signals(kvd, tmp):
    ini = os.path.join(tmp, "graft.ini")
    with open(ini, "w") as f:
        f.write("[graft]\nlog_level = info\n[seam kv.parse]\nmode = legacy\n")
    env = dict(os.environ, GRAFT_CONFIG=ini)
    p, port = start(kvd, env=env)
    talk(port, b"set a 0 0 1\r\nx\r\n")
    p.send_signal(signal.SIGHUP)
    check(stderr_has(p, "SIGHUP: configuration reloaded"), "SIGHUP reloads GRAFT_CONFIG")
    check(p.poll() is None and talk(port, b"get a\r\n") == b"VALUE a 0 1\r\nx\r\nEND\r\n",
          "SIGHUP: still serving, items kept")
    with open(ini, "w") as f:
        f.write("[seam kv.parse]\nmode = sideways\n")
    p.send_signal(signal.SIGHUP)
    check(stderr_has(p, "configuration not reloaded") and stderr_has(p, "sideways"),
          "SIGHUP with a bad file: not reloaded, the error names the value")
    check(p.poll() is None and talk(port, b"get a\r\n") == b"VALUE a 0 1\r\nx\r\nEND\r\n",
          "SIGHUP with a bad file: still serving")
    # SIGUSR1 (memcached's graceful stop) while a client waits for a big reply
    talk(port, b"set big 0 0 1500\r\n" + b"y" * 1500 + b"\r\n")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"get big big big big\r\n")
    time.sleep(0.2)
    rc = stop(p, signal.SIGUSR1)
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
    check(rc == 0 and any("Gracefully stopping" in ln for ln in p.lines),
          f"SIGUSR1: graceful stop, status 0 ({rc})")
    check(data.count(b"VALUE big 0 1500\r\n") == 4 and data.endswith(b"END\r\n"),
          "SIGUSR1: replies owed were delivered")


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

    with tempfile.TemporaryDirectory() as tmp:
        for section in (lambda: test_flags_vs_memcached(kvd), lambda: test_refused_and_noted(kvd),
                        lambda: test_process_flags(kvd, tmp), lambda: test_signals(kvd, tmp)):
            try:
                section()
            except Exception as e:  # a section that cannot go on fails; the next runs
                check(False, f"section stopped: {type(e).__name__}: {e}")
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

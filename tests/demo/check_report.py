#!/usr/bin/env python3
"""check_report.py: asserts the numbers of a demo run's report.json (tests/demo).

Every gate passed; no client-visible error at all, in particular none during the fault;
the breaker opened; after it opened C served the traffic and Rust served none; the
final snapshot agrees (mismatch-free walk, fallbacks counted, breaker closed again).
"""
import json
import sys


def main(path):
    r = json.load(open(path))
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    need(r["ok"], "demo failed: %s" % r.get("failure"))
    names = [p["name"] for p in r["phases"]]
    need(names == ["legacy", "shadow", "canary-10", "canary-50", "candidate", "fault", "recovery",
                   "auto-rollout"],
         "phases run: %s" % names)
    need(all(p["ok"] for p in r["phases"]), "a gate failed")
    need(r["client"]["requests"] > 0, "the client sent no requests")
    need(r["client"]["errors"] == 0, "%s client-visible errors" % r["client"]["errors"])
    f = r["fault"]
    need(f["client_errors"] == 0, "client errors during the fault: %s" % f["client_errors"])
    need((f["breaker_opens"] or 0) >= 1, "the breaker did not open")
    need((f["fallbacks"] or 0) > 0, "no fallbacks during the fault")
    need((f["legacy_served_after_open"] or 0) > 0, "C did not serve after the breaker opened")
    need(f["rust_served_after_open"] == 0, "Rust served %s calls under the fault" % f["rust_served_after_open"])
    shadow = next(p for p in r["phases"] if p["name"] == "shadow")
    need(shadow["delta"]["compared"] > 0 and shadow["delta"]["mismatches"] == 0, "shadow phase comparisons")
    auto = next((p for p in r["phases"] if p["name"] == "auto-rollout"), None)
    need(auto is not None and auto["plan"]["rollback"] is not None,
         "the plan did not roll back after the mid-ramp fault")
    need(auto is not None and (auto["plan"]["final"] or {}).get("state") == "done",
         "the plan did not finish")
    need(auto is not None and auto["client_errors"] == 0, "client errors during the automatic rollout")
    fin = r["final"] or {}
    need(fin.get("mismatches") == 0, "mismatches at the end: %s" % fin.get("mismatches"))
    need(fin.get("breaker_opens", 0) >= 1, "final breaker_opens")
    need(fin.get("breaker") == "closed", "final breaker state %s" % fin.get("breaker"))
    for p in problems:
        print("FAIL: " + p)
    if not problems:
        print("demo report: %d requests, 0 client errors, breaker opened %d time(s), %d fallbacks, "
              "C served %d calls after it opened" % (r["client"]["requests"], f["breaker_opens"], f["fallbacks"],
                                                     f["legacy_served_after_open"]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

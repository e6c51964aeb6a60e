#!/usr/bin/env python3
"""Evaluation of graft plan against real codebases (docs/PLAN.md, "Evaluation").

For each project of projects.ini: fetch its Debian source package through a private apt
configuration (never the machine's sources), build its compile_commands.json, plan it,
and rank its own source files by the plan's security benefit. Against the files where its
public memory-safety CVEs were fixed (cve/*.csv), report recall in the top 10% and 20% of
the ranked files and the median rank, beside two trivial baselines measured on the same
files: lines of code, and total cyclomatic complexity. Fails (exit 1) when a project falls
below its floors (recall@10%, recall@20% and the median rank, set to the figures measured
when they were set), or when, averaged over the projects, the plan does not beat both
baselines on recall@10%, recall@20% and median rank (as a share of the ranked files).
Whether it beats, ties or is behind the better baseline on each project is printed.

usage: eval.py [--ext DIR] [--graft PATH] [--before PATH] [--only NAME] [--json OUT]
       eval.py --fetch NAME [--ext DIR]    (fetch and build only; prints tree and database)
  --ext     where sources are fetched and built (default $PLAN_EVAL_EXT or build/plan-eval)
  --before  a graft binary of an earlier version to report beside (files as components)
"""
import argparse
import configparser
import csv
import fnmatch
import json
import math
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SRC_LINE = "deb-src http://deb.debian.org/debian bookworm main\n"


def sh(cmd, cwd=None, quiet=False):
    r = subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), text=True,
                       stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.STDOUT if quiet else None)
    if r.returncode != 0:
        if quiet and r.stdout:
            sys.stderr.write(r.stdout[-4000:])
        raise SystemExit(f"plan-eval: command failed ({r.returncode}): {cmd}")
    return r.stdout


def apt_opts(ext):
    a = os.path.join(ext, "apt")
    return ["-o", f"Dir::Etc::SourceParts={a}/parts", "-o", f"Dir::State::Lists={a}/lists",
            "-o", f"Dir::Etc::SourceList={a}/sources.list"]


def fetch(ext, p):
    """apt-get source with a private configuration; returns the source tree."""
    tree = os.path.join(ext, "src", p["dir"])
    if os.path.isdir(tree):
        return tree
    a = os.path.join(ext, "apt")
    os.makedirs(os.path.join(a, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(a, "parts"), exist_ok=True)
    with open(os.path.join(a, "sources.list"), "w") as f:
        f.write(SRC_LINE)
    if not os.listdir(os.path.join(a, "lists")) or not any(
            n.endswith("Sources") for n in os.listdir(os.path.join(a, "lists"))):
        sh(["apt-get"] + apt_opts(ext) + ["update"], quiet=True)
    src = os.path.join(ext, "src")
    os.makedirs(src, exist_ok=True)
    sh(["apt-get"] + apt_opts(ext) + ["source", "--download-only", p["package"]], cwd=src,
       quiet=True)
    dscs = sorted(n for n in os.listdir(src)
                  if n.startswith(p["package"] + "_") and n.endswith(".dsc"))
    if not dscs:
        raise SystemExit(f"plan-eval: no .dsc for {p['package']} in {src}")
    # upstream tree as released (Debian's patches change no file list the CVE data uses)
    sh(["dpkg-source", "-x", "--skip-patches", dscs[-1]], cwd=src, quiet=True)
    if not os.path.isdir(tree):
        got = [n for n in os.listdir(src) if n.startswith(p["package"] + "-")]
        raise SystemExit(f"plan-eval: expected {tree} (upstream {p['upstream']}), got {got}")
    return tree


def build(tree, p):
    db = os.path.join(tree, p["ccdb"])
    dbfile = db if db.endswith(".json") else os.path.join(db, "compile_commands.json")
    if os.path.exists(dbfile):
        return db
    missing = [d for d in p.get("build_deps", "").split()
               if subprocess.run(["dpkg", "-s", d], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode != 0]
    if missing:
        if os.geteuid() != 0:
            raise SystemExit(f"plan-eval: install {' '.join(missing)} to build {p['dir']}")
        sh(["apt-get", "install", "-y", "--no-install-recommends"] + missing, quiet=True)
    sh(p["build"], cwd=tree, quiet=True)
    if not os.path.exists(dbfile):
        raise SystemExit(f"plan-eval: the build of {p['dir']} wrote no {dbfile}")
    return db


def population(p, files):
    pats = p["population"].split()
    ex = p.get("exclude", "").split()
    return [f for f in files
            if any(fnmatch.fnmatch(f, g) for g in pats) and not any(fnmatch.fnmatch(f, g) for g in ex)]


def cve_files(p):
    rows = []
    with open(os.path.join(HERE, p["cves"])) as f:
        for r in csv.DictReader(line for line in f if not line.startswith("#")):
            rows.append(r)
    return rows


def metrics(order, targets):
    """order: files best first; targets: CVE files in the population."""
    n = len(order)
    pos = {f: i + 1 for i, f in enumerate(order)}
    ranks = sorted(pos[t] for t in targets if t in pos)
    k10, k20 = max(1, math.ceil(0.1 * n)), max(1, math.ceil(0.2 * n))
    med = ranks[len(ranks) // 2] if len(ranks) % 2 else (ranks[len(ranks) // 2 - 1] + ranks[len(ranks) // 2]) / 2
    return {"n": n, "targets": len(ranks), "recall10": sum(r <= k10 for r in ranks) / len(ranks),
            "recall20": sum(r <= k20 for r in ranks) / len(ranks), "median": med,
            "median_share": med / n, "top_k": sum(r <= len(ranks) for r in ranks), "ranks": ranks}


def run_plan(graft, tree, db, out, args):
    cmd = [graft, "plan", "-q", "-p", db, "--root", tree, "--format", "json", "-o", out,
           "-j", "2"] + args
    r = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 3):
        raise SystemExit(f"plan-eval: graft plan failed ({r.returncode}): {r.stderr[-2000:]}")
    with open(out) as f:
        return json.load(f)


def lines_of(path):
    with open(path, "rb") as f:
        data = f.read()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def evaluate(name, p, ext, graft, before, work):
    tree = fetch(ext, p)
    db = build(tree, p)
    plan = run_plan(graft, tree, db, os.path.join(work, f"{name}.json"), [])
    files = {f["file"]: f for f in plan["files"]}
    pop = population(p, [f for f in files if files[f]["benefit_rank"] > 0])
    rows = cve_files(p)
    targets = sorted({r["file"] for r in rows} & set(pop))
    missing = sorted({r["file"] for r in rows} - set(pop))
    res = {"population": len(pop), "cve_files": targets, "cve_files_missing": missing,
           "cves": len({r["cve"] for r in rows if r["file"] in targets})}
    by = lambda key: sorted(pop, key=lambda f: (-key(f), f))
    res["plan"] = metrics(by(lambda f: files[f]["benefit"]), targets)
    res["lines"] = metrics(by(lambda f: lines_of(os.path.join(tree, f))), targets)
    res["complexity"] = metrics(by(lambda f: files[f]["complexity"]), targets)
    if before:
        # an earlier graft: one component per source file, files in the plan's order
        ini = os.path.join(work, f"{name}-perfile.ini")
        with open(ini, "w") as f:
            f.write(f"[plan]\nroot = {tree}\n[components]\n")
            for x in sorted(files):
                f.write(f"{x.replace('/', '|')} = {x}\n")
        old = run_plan(before, tree, db, os.path.join(work, f"{name}-before.json"),
                       ["--config", ini])
        rank = {o["component"].replace("|", "/"): o["rank"] for o in old["order"]}
        res["before"] = metrics(sorted(pop, key=lambda f: (rank.get(f, 1 << 30), f)), targets)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ext", default=os.environ.get("PLAN_EVAL_EXT", os.path.join(REPO, "build", "plan-eval")))
    ap.add_argument("--graft", default=os.path.join(REPO, "build", "tools", "plan", "graft"))
    ap.add_argument("--before")
    ap.add_argument("--only")
    ap.add_argument("--json")
    ap.add_argument("--fetch", metavar="NAME", help="only fetch and build NAME; print its tree and database")
    a = ap.parse_args()
    cfg = configparser.ConfigParser(inline_comment_prefixes=(";",))
    cfg.read(os.path.join(HERE, "projects.ini"))
    ext = os.path.abspath(a.ext)
    work = os.path.join(ext, "out")
    os.makedirs(work, exist_ok=True)
    if a.fetch:
        p = dict(cfg[a.fetch])
        tree = fetch(ext, p)
        print(tree, build(tree, p))
        return 0
    results, fail = {}, []
    for name in cfg.sections():
        if (a.only and name != a.only) or cfg[name].get("evaluate", "yes") == "no":
            continue
        p = dict(cfg[name])
        r = evaluate(name, p, ext, os.path.abspath(a.graft), a.before and os.path.abspath(a.before), work)
        results[name] = r
        print(f"\n{name} {p['upstream']}: {r['population']} files ranked, {len(r['cve_files'])} "
              f"CVE files ({r['cves']} CVEs)" + (f"; not in the population: {', '.join(r['cve_files_missing'])}"
                                                 if r["cve_files_missing"] else ""))
        print(f"  {'ranking':<22} {'recall@10%':>10} {'recall@20%':>10} {'median rank':>12} {'CVE files in top k':>18}")
        for key, label in (("before", "graft plan (before)"), ("plan", "graft plan"),
                           ("lines", "lines of code"), ("complexity", "total complexity")):
            if key not in r:
                continue
            m = r[key]
            print(f"  {label:<22} {m['recall10']:>10.2f} {m['recall20']:>10.2f} "
                  f"{m['median']:>7g} of {m['n']:<3} {m['top_k']:>8} of {m['targets']}")
        m, l, c = r["plan"], r["lines"], r["complexity"]
        for key, label in (("recall10", "recall@10%"), ("recall20", "recall@20%"),
                           ("median_share", "median rank")):
            sign = -1 if key == "median_share" else 1  # a lower median rank is better
            best = max(sign * l[key], sign * c[key])
            verdict = ("beats both baselines" if sign * m[key] > best + 1e-9 else
                       "ties the better baseline" if sign * m[key] >= best - 1e-9 else
                       "is behind a baseline")
            print(f"  {label}: {verdict} on this project")
        if m["recall10"] < float(p["floor_recall10"]) - 1e-9:
            fail.append(f"{name}: recall@10% {m['recall10']:.2f} below the floor {p['floor_recall10']}")
        if m["recall20"] < float(p["floor_recall20"]) - 1e-9:
            fail.append(f"{name}: recall@20% {m['recall20']:.2f} below the floor {p['floor_recall20']}")
        if m["median_share"] > float(p["floor_median_share"]) + 1e-9:
            fail.append(f"{name}: median rank at {m['median_share']:.3f} of the files, above the floor "
                        f"{p['floor_median_share']}")
    # the claim: over the projects, the plan ranks CVE files better than both baselines
    if results and not a.only:
        avg = {k: {q: sum(r[k][q] for r in results.values()) / len(results)
                   for q in ("recall10", "recall20", "median_share")}
               for k in ("plan", "lines", "complexity")}
        print("\nmean over the projects: " + "; ".join(
            f"{k}: recall@10% {v['recall10']:.2f}, recall@20% {v['recall20']:.2f}, median rank at "
            f"{v['median_share']:.3f} of the files" for k, v in avg.items()))
        for b in ("lines", "complexity"):
            if not avg["plan"]["recall10"] > avg[b]["recall10"]:
                fail.append(f"mean recall@10% {avg['plan']['recall10']:.2f} does not beat {b} "
                            f"({avg[b]['recall10']:.2f})")
            if not avg["plan"]["recall20"] > avg[b]["recall20"]:
                fail.append(f"mean recall@20% {avg['plan']['recall20']:.2f} does not beat {b} "
                            f"({avg[b]['recall20']:.2f})")
            if not avg["plan"]["median_share"] < avg[b]["median_share"]:
                fail.append(f"mean median rank {avg['plan']['median_share']:.3f} does not beat {b} "
                            f"({avg[b]['median_share']:.3f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if fail:
        print("\nplan-eval: FAILED\n  " + "\n  ".join(fail))
        return 1
    print("\nplan-eval: above every project's floors; over the projects the plan beats lines of "
          "code and total complexity on recall@10%, recall@20% and median rank")
    return 0


if __name__ == "__main__":
    sys.exit(main())

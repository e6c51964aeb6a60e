#!/usr/bin/env python3
"""graft ledger: the migration ledger (migration.toml) kept honest.

  graft ledger check [--build DIR]          schema, drift of legacy C, retired C absent
  graft ledger revalidate COMPONENT --build DIR
                                            rerun the parity tests, then record the
                                            fingerprint of the legacy C with the evidence
  graft ledger ratchet --build DIR [--binary FILE]...
                                            retired legacy symbols absent from binaries
  graft ledger report [--html FILE] [--url URL] [--token TOKEN]
                                            the state of the migration, text and HTML/SVG
  graft ledger fingerprint COMPONENT [--at REV]
                                            the token fingerprint, entity by entity

Common options: --root DIR (the source tree; default: the git top level of the current
directory), --ledger FILE (default ROOT/migration.toml). The format is docs/LEDGER.md.
Exit status: 0 fine, 1 the ledger or the tree is wrong (drift, resurrected symbol,
failed parity), 2 usage or I/O error.
"""

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

try:
    import tomllib
except ImportError:  # pragma: no cover - python3 < 3.11
    sys.exit("graft ledger: needs Python 3.11 (tomllib)")

STAGES = ["legacy", "shadow", "canary", "candidate", "candidate-only", "retired"]
# Stages in which the C still backs a live Rust twin: its drift breaks the parity.
GUARDED = {"shadow", "canary", "candidate", "candidate-only"}
MEANS = {"code", "tests", "config", "api", "breaker", "plan", "deletion"}
STAGE_COLOURS = {
    "legacy": "#c0504d",
    "shadow": "#e0a030",
    "canary": "#d4c040",
    "candidate": "#7fb04a",
    "candidate-only": "#3f9a6a",
    "retired": "#4a7ab0",
}


class LedgerError(Exception):
    """A problem with the ledger or the tree (exit 1)."""


class UsageError(Exception):
    """Bad invocation or unreadable input (exit 2)."""


# ------------------------------------------------------------------ libclang


def _cindex():
    try:
        import clang.cindex as ci  # noqa: PLC0415
    except ImportError:
        # Debian's python3-clang-14 lives in the system dist-packages, which another
        # interpreter on PATH (pyenv, venv) does not search.
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import clang.cindex as ci  # noqa: PLC0415
        except ImportError as e:
            raise UsageError("libclang's Python bindings are missing: apt-get install python3-clang-14") from e
    if not getattr(_cindex, "configured", False):
        for lib in ("/usr/lib/llvm-14/lib/libclang.so.1", "/usr/lib/llvm-14/lib/libclang-14.so.1"):
            if os.path.exists(lib):
                ci.Config.set_library_file(lib)
                break
        _cindex.configured = True
    return ci


ENTITY_KINDS = {
    "FUNCTION_DECL": "fn",
    "VAR_DECL": "var",
    "MACRO_DEFINITION": "macro",
    "STRUCT_DECL": "struct",
    "UNION_DECL": "union",
    "ENUM_DECL": "enum",
    "TYPEDEF_DECL": "typedef",
}


def parse_c(path, root):
    """Parses one C file; returns (entities {key: token list}, code line count)."""
    ci = _cindex()
    args = ["-std=c11", "-I", os.path.join(root, "include"), "-I", os.path.join(root, "server"),
            "-I", os.path.join(root, "server", "include")]
    if path.endswith(".h"):
        args = ["-x", "c"] + args
    index = ci.Index.create()
    try:
        tu = index.parse(path, args=args, options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    except ci.TranslationUnitLoadError as e:
        raise UsageError(f"{path}: libclang cannot parse it: {e}") from e
    real = os.path.realpath(path)
    entities, anon = {}, 0
    lines = set()
    comment = ci.TokenKind.COMMENT
    for tok in tu.cursor.get_tokens():
        if tok.kind == comment:
            continue  # libclang hands back comments inside a cursor's extent too
        if tok.location.file is not None and os.path.realpath(tok.location.file.name) == real:
            lines.add(tok.location.line)
    for c in tu.cursor.get_children():
        if c.location.file is None or os.path.realpath(c.location.file.name) != real:
            continue
        kind = ENTITY_KINDS.get(c.kind.name)
        if kind is None:
            continue
        if kind in ("fn", "var", "struct", "union", "enum") and not c.is_definition():
            continue  # a prototype or extern declaration: no behaviour of its own
        name = c.spelling
        if not name or "(anonymous" in name or "(unnamed" in name:
            anon += 1
            name = f"<anonymous {anon}>"
        key = f"{kind}:{name}"
        n = 2
        while key in entities:
            key = f"{kind}:{name}#{n}"
            n += 1
        entities[key] = [t.spelling for t in c.get_tokens() if t.kind != comment]
    return entities, len(lines)


def fingerprint_files(paths, root):
    """Token fingerprint of C files: per entity, a hash of its token spellings (comments
    and layout are not tokens), and one hash over them all."""
    entities, lines, files = {}, 0, []
    for rel in paths:
        full = os.path.join(root, rel)
        if not os.path.isfile(full):
            raise LedgerError(f"{rel}: legacy source missing")
        ents, n = parse_c(full, root)
        lines += n
        files.append(rel)
        for k, toks in ents.items():
            key = f"{rel}:{k}" if len(paths) > 1 else k
            entities[key] = hashlib.sha256("\x1f".join(toks).encode()).hexdigest()[:16]
    whole = hashlib.sha256("".join(f"{k}={v}\n" for k, v in sorted(entities.items())).encode())
    return {"value": "sha256:" + whole.hexdigest(), "entities": dict(sorted(entities.items())),
            "code_lines": lines}


def fingerprint_at(paths, root, rev):
    """The fingerprint of the files as they were at git revision rev."""
    tmp = tempfile.mkdtemp(prefix="graft-ledger-")
    try:
        dirs = sorted({p.split("/")[0] for p in paths} | {"include", "server"})
        arch = subprocess.run(["git", "-C", root, "archive", rev] + dirs, capture_output=True)
        if arch.returncode != 0:
            raise UsageError(f"git archive {rev}: {arch.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=arch.stdout, check=True)
        return fingerprint_files(paths, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ Rust source


def _strip_rust(text):
    """Blanks comments, strings and char literals (newlines kept) and #[cfg(test)] items."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif re.match(r'b?r(#*)"', text[i:i + 40]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'\n])'", text[i:i + 12]):
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'\n])'", text[i:])
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    s = "".join(out)
    # Drop #[cfg(test)] items: unit tests are not migrated code.
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*([{;])", s)
        if not m:
            break
        if m.group(2) == ";":
            s = s[:m.start()] + s[m.end():]
            continue
        depth, j = 1, m.end()
        while j < len(s) and depth:
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            j += 1
        s = s[:m.start()] + "\n" * s.count("\n", m.start(), j) + s[j:]
    return s


def rust_stats(paths, root):
    """Code lines (no comments, blanks or unit tests), unsafe blocks, unsafe fns/impls."""
    lines = blocks = fns = 0
    for rel in paths:
        full = os.path.join(root, rel)
        files = []
        if os.path.isdir(full):
            for d, _, names in os.walk(full):
                files += [os.path.join(d, x) for x in names if x.endswith(".rs")]
        elif os.path.isfile(full):
            files.append(full)
        for f in sorted(files):
            with open(f, encoding="utf-8") as fh:
                s = _strip_rust(fh.read())
            lines += sum(1 for ln in s.splitlines() if ln.strip())
            blocks += len(re.findall(r"\bunsafe\s*\{", s))
            fns += len(re.findall(r"\bunsafe\s+(?:extern\s+\"\"\s+)?(?:fn|impl|trait)\b", s))
    return {"code_lines": lines, "unsafe_blocks": blocks, "unsafe_fns": fns}


# ------------------------------------------------------------------ the ledger file


def find_root(arg):
    if arg:
        return os.path.abspath(arg)
    r = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else os.getcwd()


def load(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise UsageError(f"{path}: no ledger") from e
    except tomllib.TOMLDecodeError as e:
        raise LedgerError(f"{path}: not TOML: {e}") from e


def _key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _val(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to the ledger")


def _emit(out, path, d):
    for k, v in d.items():
        if not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict)):
            out.append(f"{_key(k)} = {_val(v)}")
    for k, v in d.items():
        if isinstance(v, dict):
            p = f"{path}.{_key(k)}" if path else _key(k)
            if not v or any(not isinstance(x, dict) for x in v.values()):
                out.append(f"\n[{p}]")  # a table holding only tables needs no header
            _emit(out, p, v)
    for k, v in d.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            p = f"{path}.{_key(k)}" if path else _key(k)
            for item in v:
                out.append(f"\n[[{p}]]")
                _emit(out, p, item)


HEADER = """# migration.toml: the migration ledger of kvd (format: docs/LEDGER.md).
# One [[component]] per component being moved from C to Rust: its seam, its stage and
# when it entered each stage, the evidence that let it advance, and the token
# fingerprint of its legacy C. `graft ledger check` (make lint, ctest ledger-check)
# fails when that C changed after parity was established; `graft ledger revalidate`
# reruns the parity tests and records the new fingerprint with the evidence.
"""


def save(path, data):
    out = [HEADER.rstrip("\n")]
    _emit(out, "", data)
    text = "\n".join(out).replace("\n\n\n", "\n\n") + "\n"
    tomllib.loads(text)  # never write what cannot be read back
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_time(s, where):
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (TypeError, ValueError) as e:
        raise LedgerError(f"{where}: not an ISO 8601 time: {s!r}") from e
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def validate(data):
    """Schema rules of docs/LEDGER.md; returns the components."""
    errs = []
    comps = data.get("component")
    if not isinstance(comps, list) or not comps:
        raise LedgerError("no [[component]] entries")
    seen = set()
    for c in comps:
        name = c.get("name", "?")
        w = f"component {name}"
        if name in seen:
            errs.append(f"{w}: listed twice")
        seen.add(name)
        for k in ("name", "seam", "stage", "legacy", "history"):
            if k not in c:
                errs.append(f"{w}: missing {k}")
        stage = c.get("stage")
        if stage not in STAGES:
            errs.append(f"{w}: stage {stage!r} is not one of {', '.join(STAGES)}")
            continue
        hist = c.get("history", [])
        last = None
        for h in hist:
            if h.get("stage") not in STAGES:
                errs.append(f"{w}: history stage {h.get('stage')!r} unknown")
                continue
            if h.get("means") not in MEANS:
                errs.append(f"{w}: history entry {h.get('stage')}: means {h.get('means')!r} is not one of {', '.join(sorted(MEANS))}")
            try:
                t = parse_time(h.get("since"), f"{w}: history {h.get('stage')}")
            except LedgerError as e:
                errs.append(str(e))
                continue
            if last and t < last:
                errs.append(f"{w}: history is not in time order at {h['stage']}")
            last = t
        if hist and hist[-1].get("stage") != stage:
            errs.append(f"{w}: stage is {stage} but the last history entry says {hist[-1].get('stage')}")
        leg = c.get("legacy", {})
        if not leg.get("sources"):
            errs.append(f"{w}: legacy.sources is empty")
        if stage != "legacy" and "fingerprint" not in c:
            errs.append(f"{w}: stage {stage} needs the fingerprint its parity was established on")
        if STAGES.index(stage) >= 1 and not c.get("evidence", {}).get("parity", {}).get("tests"):
            errs.append(f"{w}: stage {stage} needs evidence.parity.tests")
        if stage == "retired":
            if not leg.get("symbols"):
                errs.append(f"{w}: a retired component lists the legacy symbols that must stay absent")
            if not leg.get("last_commit"):
                errs.append(f"{w}: a retired component names legacy.last_commit (the last revision with its C)")
    if errs:
        raise LedgerError("\n".join(errs))
    return comps


# ------------------------------------------------------------------ commands


def nm_defined(binary):
    r = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True)
    if r.returncode != 0:
        raise UsageError(f"nm {binary}: {r.stderr.strip()}")
    syms = set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            syms.add(parts[2])
        elif len(parts) == 2:
            syms.add(parts[1])
    return syms


def ratchet(data, comps, build, binaries):
    """Retired components' legacy symbols must be absent from the binaries."""
    if not binaries:
        binaries = [os.path.join(build, b) for b in data.get("ledger", {}).get("binaries", [])]
    missing = [b for b in binaries if not os.path.isfile(b)]
    if missing:
        raise UsageError("binary not built: " + ", ".join(missing))
    problems, checked = [], 0
    for b in binaries:
        syms = nm_defined(b)
        for c in comps:
            if c["stage"] != "retired":
                continue
            for s in c["legacy"]["symbols"]:
                checked += 1
                if s in syms:
                    problems.append(f"{c['name']} is retired but its legacy symbol {s} is back in {b}")
    return problems, checked


def cmd_check(a, root, data, comps):
    problems, notes = [], []
    for c in comps:
        stage, leg = c["stage"], c["legacy"]
        if stage == "retired":
            back = [p for p in leg["sources"] if os.path.exists(os.path.join(root, p))]
            if back:
                problems.append(f"{c['name']} is retired but its legacy C is back in the tree: {', '.join(back)}")
            if os.path.isdir(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, ".git")):
                then = fingerprint_at(leg["sources"], root, leg["last_commit"])
                if then["value"] != c["fingerprint"]["value"]:
                    problems.append(f"{c['name']}: the recorded fingerprint is not that of {', '.join(leg['sources'])} at {leg['last_commit']}")
            notes.append(f"{c['name']}: retired; its C is absent")
            continue
        now = fingerprint_files(leg["sources"], root)
        rec = c.get("fingerprint")
        if rec is None:
            notes.append(f"{c['name']}: {stage}, no fingerprint recorded")
            continue
        if now["value"] == rec["value"]:
            notes.append(f"{c['name']}: {stage}, legacy C unchanged since {rec.get('recorded', '?')} ({now['value'][7:19]})")
            continue
        old, new = rec.get("entities", {}), now["entities"]
        changed = sorted(k for k in new if k in old and old[k] != new[k])
        added = sorted(set(new) - set(old))
        removed = sorted(set(old) - set(new))
        what = "; ".join(x for x in (
            "changed " + ", ".join(changed) if changed else "",
            "added " + ", ".join(added) if added else "",
            "removed " + ", ".join(removed) if removed else "") if x)
        if stage in GUARDED:
            problems.append(
                f"{c['name']} ({stage}): its legacy C drifted after parity was established "
                f"({rec.get('recorded', '?')}, {rec.get('commit', '?')}): {what}.\n"
                f"  The Rust twin was validated against other C. Port the change to Rust if it is "
                f"meant, then: graft ledger revalidate {c['name']} --build <dir>")
        else:
            notes.append(f"{c['name']}: {stage}, legacy C changed since its fingerprint was recorded ({what}); not guarded in stage {stage}")
    if a.build or a.binary:
        rp, n = ratchet(data, comps, a.build, a.binary)
        problems += rp
        notes.append(f"ratchet: {n} retired legacy symbol(s) checked, {len(rp)} present")
    for n in notes:
        print(f"ledger: {n}")
    if problems:
        for p in problems:
            print(f"ledger: FAIL: {p}", file=sys.stderr)
        return 1
    print(f"ledger: {len(comps)} components, check passed")
    return 0


def cmd_ratchet(a, root, data, comps):
    if not a.build and not a.binary:
        raise UsageError("ratchet needs --build DIR or --binary FILE")
    problems, n = ratchet(data, comps, a.build, a.binary)
    for p in problems:
        print(f"ledger ratchet: FAIL: {p}", file=sys.stderr)
    if problems:
        print("ledger ratchet: a retired implementation came back; delete it again or move the "
              "component out of \"retired\" in migration.toml (docs/MIGRATION.md, \"Retiring a seam\")",
              file=sys.stderr)
        return 1
    print(f"ledger ratchet: {n} retired legacy symbol(s) checked, none present")
    return 0


def git_head(root):
    r = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def now_iso():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def cmd_revalidate(a, root, data, comps):
    c = next((x for x in comps if x["name"] == a.component), None)
    if c is None:
        raise UsageError(f"no component {a.component!r} in the ledger")
    if c["stage"] == "retired":
        raise LedgerError(f"{c['name']} is retired: its C is gone, nothing to revalidate")
    parity = c.get("evidence", {}).get("parity", {})
    tests = parity.get("tests", [])
    if tests:
        if not a.build:
            raise UsageError("revalidate needs --build DIR (the parity tests run there)")
        regex = "^(" + "|".join(re.escape(t) for t in tests) + ")$"
        print(f"ledger: revalidating {c['name']}: ctest -R '{regex}'", flush=True)
        r = subprocess.run(["ctest", "--test-dir", a.build, "-R", regex, "-V", "-j", str(a.jobs)],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        m = re.search(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", out)
        ran = int(m.group(3)) if m else 0
        if r.returncode != 0 or not m or int(m.group(2)) != 0 or ran != len(tests):
            sys.stderr.write(out[-4000:])
            raise LedgerError(f"{c['name']}: parity tests failed or missing ({ran} of {len(tests)} ran): the fingerprint is NOT updated")
        # The parity test's own summary line, when it prints one.
        s = re.search(r"parity \S+: (\d+) inputs, (\d+) \w+ per side, (\d+) differences", out)
        if s:
            parity["inputs"], parity["calls_per_side"], parity["differences"] = (
                int(s.group(1)), int(s.group(2)), int(s.group(3)))
        parity["passed"] = ran
        parity["validated"] = now_iso()
        parity["validated_commit"] = git_head(root)
    else:
        print(f"ledger: {c['name']} ({c['stage']}) has no parity tests: recording its fingerprint for reference")
    fp = fingerprint_files(c["legacy"]["sources"], root)
    old = c.get("fingerprint", {}).get("value")
    c["fingerprint"] = {"value": fp["value"], "recorded": now_iso(), "commit": git_head(root),
                        "entities": fp["entities"]}
    c["legacy"]["code_lines"] = fp["code_lines"]
    save(a.ledger, data)
    print(f"ledger: {c['name']}: fingerprint {fp['value'][7:19]} recorded"
          + (" (was " + old[7:19] + ")" if old and old.startswith("sha256:") and old != fp["value"] else "") + f" in {a.ledger}")
    return 0


def cmd_fingerprint(a, root, data, comps):
    c = next((x for x in comps if x["name"] == a.component), None)
    if c is None:
        raise UsageError(f"no component {a.component!r} in the ledger")
    src = c["legacy"]["sources"]
    fp = fingerprint_at(src, root, a.at) if a.at else fingerprint_files(src, root)
    print(json.dumps(fp, indent=2))
    return 0


# ------------------------------------------------------------------ report


def fetch_live(url, token):
    """Seams of a live process: /api/seams (JSON), else /metrics (Prometheus)."""
    hdr = {"Authorization": "Bearer " + token} if token else {}
    base = url.rstrip("/")
    try:
        req = urllib.request.Request(base + "/api/seams", headers=hdr)
        with urllib.request.urlopen(req, timeout=5) as r:
            d = json.load(r)
        seams = d["seams"] if isinstance(d, dict) else d
        out = {}
        for s in seams:
            imp = s.get("impl", {})
            out[s["name"]] = {
                "mode": s.get("mode"), "percent": s.get("percent", 0),
                "calls": s.get("counters", {}).get("calls", 0),
                "legacy_served": imp.get("legacy", {}).get("served", 0),
                "candidate_served": imp.get("candidate", {}).get("served", 0),
                "compared": s.get("counters", {}).get("compared", 0),
                "mismatches": s.get("counters", {}).get("mismatches", 0),
                "fallbacks": s.get("counters", {}).get("fallbacks", 0),
                # The runtime's stage history (graft_seam_history, docs/LEDGER.md).
                "history": s.get("history"),
                "history_total": s.get("history_total"),
            }
        return {"source": base + "/api/seams", "seams": out}
    except (urllib.error.URLError, OSError, ValueError, KeyError) as first:
        try:
            req = urllib.request.Request(base + "/metrics", headers=hdr)
            with urllib.request.urlopen(req, timeout=5) as r:
                text = r.read().decode()
        except (urllib.error.URLError, OSError) as e:
            raise UsageError(f"{url}: neither /api/seams ({first}) nor /metrics ({e}) answered") from e
    out = {}
    for m in re.finditer(r'^graft_impl_served_total\{seam="([^"]+)",impl="(legacy|candidate)"\} (\d+)', text, re.M):
        s = out.setdefault(m.group(1), {"mode": None, "legacy_served": 0, "candidate_served": 0, "history": None})
        s[m.group(2) + "_served"] = int(m.group(3))
    for m in re.finditer(r'^graft_seam_mode\{seam="([^"]+)",mode="([^"]+)"\} 1', text, re.M):
        out.setdefault(m.group(1), {"legacy_served": 0, "candidate_served": 0, "history": None})["mode"] = m.group(2)
    for name, metric in (("mismatches", "graft_seam_mismatches_total"), ("compared", "graft_seam_compared_total")):
        for m in re.finditer(r'^' + metric + r'\{seam="([^"]+)"\} (\d+)', text, re.M):
            out.setdefault(m.group(1), {})[name] = int(m.group(2))
    # The stage history's Prometheus side: when the current mode was entered, and the
    # changes counted by mode and cause (no list of entries: that is /api/seams').
    for m in re.finditer(r'^graft_seam_mode_since_seconds\{seam="([^"]+)",mode="([^"]+)"\} ([0-9.eE+]+)', text, re.M):
        out.setdefault(m.group(1), {})["mode_since"] = {"mode": m.group(2), "unix_ms": float(m.group(3)) * 1000}
    for m in re.finditer(r'^graft_seam_mode_changes_total\{seam="([^"]+)",mode="([^"]+)",by="([^"]+)"\} (\d+)', text, re.M):
        out.setdefault(m.group(1), {}).setdefault("changes", {})[f"{m.group(2)} by {m.group(3)}"] = int(m.group(4))
    return {"source": base + "/metrics", "seams": out}


def _utc_ms(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def live_history_lines(lv, now):
    """The live seam's stage history in this process, oldest first, with the time spent in
    each mode (from each entry to the next, the last to now)."""
    hist = lv.get("history")
    if hist:
        total = lv.get("history_total") or len(hist)
        kept = f", the oldest {total - len(hist)} no longer kept" if total > len(hist) else ""
        out = [f"      stage history in this process ({total} changes{kept}):"]
        spent = {}
        now_ms = now.timestamp() * 1000
        for i, h in enumerate(hist):
            mode = h.get("mode")
            pct = f" {h.get('percent'):g}%" if mode == "canary" else ""
            bk = f" (breaker {h.get('breaker')})" if h.get("by") == "breaker" else ""
            out.append(f"        {_utc_ms(h.get('unix_ms', 0))}  entered {mode}{pct} by {h.get('by')}{bk}")
            end = hist[i + 1].get("unix_ms", now_ms) if i + 1 < len(hist) else now_ms
            spent[mode] = spent.get(mode, 0.0) + max(0.0, end - h.get("unix_ms", end)) / 86400000
        out.append("      time in each mode in this process: " +
                   ", ".join(f"{k} {_dur(v)}" for k, v in spent.items()))
        return out
    ms = lv.get("mode_since")
    if ms:
        ch = ", ".join(f"{k} {v}" for k, v in sorted(lv.get("changes", {}).items()))
        return [f"      in {ms['mode']} since {_utc_ms(ms['unix_ms'])} (from /metrics; changes: {ch or 'none counted'})"]
    return ["      (no stage history from the runtime: it exposes neither \"history\" nor "
            "graft_seam_mode_since_seconds)"]


def build_model(root, comps, live, now):
    rows = []
    for c in comps:
        leg, stage = c["legacy"], c["stage"]
        if stage == "retired":
            c_lines = 0
            retired = leg.get("code_lines", 0)
        else:
            c_lines = fingerprint_files(leg["sources"], root)["code_lines"]
            retired = 0
        rs = rust_stats(c.get("rust", []), root)
        days = {}
        hist = c.get("history", [])
        for i, h in enumerate(hist):
            start = parse_time(h["since"], c["name"])
            end = parse_time(hist[i + 1]["since"], c["name"]) if i + 1 < len(hist) else now
            days[h["stage"]] = days.get(h["stage"], 0.0) + max(0.0, (end - start).total_seconds() / 86400)
        lv = live["seams"].get(c["seam"]) if live else None
        rows.append({"name": c["name"], "seam": c["seam"], "stage": stage, "c_lines": c_lines,
                     "c_retired": retired, "rust": rs, "days": days, "history": hist,
                     "evidence": c.get("evidence", {}), "live": lv,
                     "since": hist[-1]["since"] if hist else None})
    extra = []
    if live:
        known = {c["seam"] for c in comps}
        extra = sorted(set(live["seams"]) - known)
    return rows, extra


def _dur(days):
    if days < 1 / 24:
        return f"{days * 1440:.0f} min"
    if days < 1:
        return f"{days * 24:.1f} h"
    return f"{days:.1f} d"


def _n(x):
    return f"{x:,}" if isinstance(x, int) else str(x)


def report_text(rows, extra, live, now):
    out = [f"graft ledger report ({now.strftime('%Y-%m-%d %H:%M UTC')})", ""]
    hdr = f"{'component':<10} {'stage':<15} {'C lines':>8} {'C retired':>9} {'Rust lines':>10} {'unsafe':>6}  time in each stage"
    out.append(hdr)
    tot = {"c": 0, "r": 0, "rust": 0, "unsafe": 0}
    for r in rows:
        d = ", ".join(f"{k} {_dur(v)}" for k, v in r["days"].items())
        out.append(f"{r['name']:<10} {r['stage']:<15} {r['c_lines']:>8} {r['c_retired']:>9} "
                   f"{r['rust']['code_lines']:>10} {r['rust']['unsafe_blocks']:>6}  {d}")
        tot["c"] += r["c_lines"]
        tot["r"] += r["c_retired"]
        tot["rust"] += r["rust"]["code_lines"]
        tot["unsafe"] += r["rust"]["unsafe_blocks"]
    out.append(f"{'total':<10} {'':<15} {tot['c']:>8} {tot['r']:>9} {tot['rust']:>10} {tot['unsafe']:>6}")
    moved = tot["r"] / (tot["c"] + tot["r"]) * 100 if tot["c"] + tot["r"] else 0
    out.append(f"C lines of the components still serving: {tot['c']}; moved to Rust and deleted: "
               f"{tot['r']} ({moved:.0f}%)")
    out.append("")
    out.append("evidence:")
    for r in rows:
        ev = r["evidence"]
        parts = []
        p = ev.get("parity")
        if p:
            parts.append(f"parity {'+'.join(p.get('tests', []))}: {_n(p.get('inputs', '?'))} inputs, "
                         f"{_n(p.get('calls_per_side', '?'))} calls per side, {p.get('differences', '?')} differences")
        f = ev.get("fuzz")
        if f:
            parts.append(f"fuzz {f.get('seconds', 0) / 3600:.2f} h, {_n(f.get('executions', 0))} executions, "
                         f"{f.get('divergences', '?')} divergences")
        lv = ev.get("live")
        if lv:
            cmp = f"{_n(lv['compared'])} compared calls" if "compared" in lv else "compared calls not counted"
            parts.append(f"live {cmp}, {lv.get('mismatches', '?')} mismatches ({lv.get('source', '')})")
        g = ev.get("golden")
        if g:
            parts.append(f"golden {g.get('vectors')} vectors ({g.get('file')})")
        out.append(f"  {r['name']}: " + ("; ".join(parts) if parts else "none yet"))
    if live:
        out.append("")
        out.append(f"live process ({live['source']}):")
        for r in rows:
            lv = r["live"]
            if lv is None:
                why = {"retired": " (retired: as it should be)", "legacy": " (no seam yet)"}.get(r["stage"], " (expected a seam in this stage)")
                out.append(f"  {r['seam']}: not registered{why}")
                continue
            tot_served = lv.get("legacy_served", 0) + lv.get("candidate_served", 0)
            share = lv.get("legacy_served", 0) / tot_served * 100 if tot_served else 0
            warn = "  <- the retired seam is still registered" if r["stage"] == "retired" else ""
            out.append(f"  {r['seam']}: mode {lv.get('mode')}, C served {_n(lv.get('legacy_served', 0))} "
                       f"({share:.1f}%), Rust served {_n(lv.get('candidate_served', 0))}, "
                       f"{_n(lv.get('mismatches', 0))} mismatches{warn}")
            out.extend(live_history_lines(lv, now))
        for s in extra:
            out.append(f"  {s}: live seam not in the ledger")
    return "\n".join(out) + "\n"


def svg_lines(rows):
    """Horizontal bars: C still serving, C moved to Rust (deleted), Rust lines."""
    w, bar, gap, left = 760, 22, 14, 110
    items = rows + [{"name": "total", "c_lines": sum(r["c_lines"] for r in rows),
                     "c_retired": sum(r["c_retired"] for r in rows),
                     "rust": {"code_lines": sum(r["rust"]["code_lines"] for r in rows)}}]
    mx = max(max(r["c_lines"] + r["c_retired"], r["rust"]["code_lines"]) for r in items) or 1
    scale = (w - left - 80) / mx
    h = 40 + len(items) * (2 * bar + gap) + 30
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" id="lines-chart" width="{w}" height="{h}" role="img" '
         f'aria-label="lines of C still serving and lines moved to Rust">',
         '<style>text{font:12px sans-serif}</style>']
    y = 30
    for r in items:
        s.append(f'<text x="4" y="{y + bar}" font-weight="{"bold" if r["name"] == "total" else "normal"}">{html.escape(r["name"])}</text>')
        cw, rw = r["c_lines"] * scale, r["c_retired"] * scale
        s.append(f'<rect class="c-serving" x="{left}" y="{y}" width="{cw:.1f}" height="{bar}" fill="#c0504d"><title>C still serving: {r["c_lines"]} lines</title></rect>')
        s.append(f'<rect class="c-retired" x="{left + cw:.1f}" y="{y}" width="{rw:.1f}" height="{bar}" fill="#bbbbbb"><title>C moved to Rust and deleted: {r["c_retired"]} lines</title></rect>')
        s.append(f'<text x="{left + cw + rw + 4:.1f}" y="{y + bar - 6}">C {r["c_lines"]} + {r["c_retired"]} deleted</text>')
        y += bar
        ru = r["rust"]["code_lines"] * scale
        s.append(f'<rect class="rust" x="{left}" y="{y}" width="{ru:.1f}" height="{bar}" fill="#4a7ab0"><title>Rust: {r["rust"]["code_lines"]} lines</title></rect>')
        s.append(f'<text x="{left + ru + 4:.1f}" y="{y + bar - 6}">Rust {r["rust"]["code_lines"]}</text>')
        y += bar + gap
    ly = y + 10
    for i, (label, col) in enumerate((("C still serving", "#c0504d"), ("C moved to Rust, deleted", "#bbbbbb"), ("Rust", "#4a7ab0"))):
        s.append(f'<rect x="{left + i * 200}" y="{ly - 10}" width="12" height="12" fill="{col}"/>'
                 f'<text x="{left + i * 200 + 16}" y="{ly}">{label}</text>')
    s.append("</svg>")
    return "\n".join(s)


def svg_timeline(rows, now):
    starts = [parse_time(h["since"], r["name"]) for r in rows for h in r["history"]]
    if not starts:
        return ""
    t0 = min(starts)
    span = max((now - t0).total_seconds(), 1)
    w, left, bar = 760, 110, 20
    h = 30 + len(rows) * (bar + 12) + 40
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" id="stage-timeline" width="{w}" height="{h}" role="img" aria-label="stages over time">',
         '<style>text{font:12px sans-serif}</style>']
    y = 20
    for r in rows:
        s.append(f'<text x="4" y="{y + 15}">{html.escape(r["name"])}</text>')
        hist = r["history"]
        for i, hh in enumerate(hist):
            a = parse_time(hh["since"], r["name"])
            b = parse_time(hist[i + 1]["since"], r["name"]) if i + 1 < len(hist) else now
            x0 = left + (a - t0).total_seconds() / span * (w - left - 10)
            x1 = left + (b - t0).total_seconds() / span * (w - left - 10)
            s.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.5):.1f}" height="{bar}" fill="{STAGE_COLOURS[hh["stage"]]}">'
                     f'<title>{hh["stage"]} from {hh["since"]} ({hh.get("means")}: {html.escape(hh.get("note", ""))})</title></rect>')
        y += bar + 12
    s.append(f'<text x="{left}" y="{y + 10}">{t0.strftime("%Y-%m-%d")}</text>')
    s.append(f'<text x="{w - 90}" y="{y + 10}">{now.strftime("%Y-%m-%d")}</text>')
    for i, st in enumerate(STAGES):
        s.append(f'<rect x="{left + i * 105}" y="{y + 18}" width="10" height="10" fill="{STAGE_COLOURS[st]}"/>'
                 f'<text x="{left + i * 105 + 13}" y="{y + 27}">{st}</text>')
    s.append("</svg>")
    return "\n".join(s).replace(f'height="{h}"', f'height="{y + 36}"', 1)


def report_html(rows, extra, live, now, text):
    e = html.escape
    trs = []
    for r in rows:
        d = ", ".join(f"{k} {_dur(v)}" for k, v in r["days"].items())
        lv = r["live"]
        if live is None:
            ltxt = "(no --url)"
        elif lv is None:
            ltxt = "not registered" + {"retired": " (retired)", "legacy": " (no seam yet)"}.get(r["stage"], "")
        else:
            ltxt = f"{lv.get('mode')}: C {_n(lv.get('legacy_served', 0))}, Rust {_n(lv.get('candidate_served', 0))}"
            last = (lv.get("history") or [None])[-1]
            if last:
                ltxt += f"; {last.get('mode')} since {_utc_ms(last.get('unix_ms', 0))} by {last.get('by')}"
            elif lv.get("mode_since"):
                ltxt += f"; {lv['mode_since']['mode']} since {_utc_ms(lv['mode_since']['unix_ms'])}"
        trs.append(f'<tr class="component" data-component="{e(r["name"])}"><td>{e(r["name"])}</td><td>{e(r["seam"])}</td>'
                   f'<td><span class="stage" style="background:{STAGE_COLOURS[r["stage"]]}">{e(r["stage"])}</span></td>'
                   f'<td class="num">{r["c_lines"]}</td><td class="num">{r["c_retired"]}</td>'
                   f'<td class="num">{r["rust"]["code_lines"]}</td><td class="num">{r["rust"]["unsafe_blocks"]}</td>'
                   f'<td>{e(d)}</td><td>{e(ltxt)}</td></tr>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>graft migration ledger</title>
<style>
body{{font:14px sans-serif;margin:24px;color:#222}} table{{border-collapse:collapse;margin:12px 0}}
td,th{{border:1px solid #ccc;padding:4px 8px}} th{{background:#f3f3f3}} .num{{text-align:right}}
.stage{{color:#fff;padding:1px 6px;border-radius:3px}} pre{{background:#f7f7f7;padding:10px;font-size:12px;white-space:pre-wrap}}
</style></head><body>
<h1>graft migration ledger</h1>
<p id="generated">Generated {e(now.strftime('%Y-%m-%d %H:%M UTC'))} from migration.toml{(' and the live process at ' + e(live['source'])) if live else ''}.</p>
<table id="components"><tr><th>component</th><th>seam</th><th>stage</th><th>C lines serving</th><th>C lines deleted</th><th>Rust lines</th><th>unsafe blocks</th><th>time in each stage</th><th>live calls served</th></tr>
{''.join(trs)}
</table>
<h2>Lines of C still serving vs moved to Rust</h2>
{svg_lines(rows)}
<h2>Stages over time</h2>
{svg_timeline(rows, now)}
<h2>Text report</h2>
<pre id="text-report">{e(text)}</pre>
</body></html>
"""


def admin_token(url, given):
    """The bearer token for a live endpoint: --token, $GRAFT_ADMIN_TOKEN, else the file an
    endpoint started without a token writes (the rule of src/admin.c and graftctl)."""
    if given:
        return given
    if os.environ.get("GRAFT_ADMIN_TOKEN"):
        return os.environ["GRAFT_ADMIN_TOKEN"]
    port = urllib.parse.urlsplit(url if "//" in url else "http://" + url).port or 80
    path = os.environ.get("GRAFT_ADMIN_TOKEN_FILE")
    if not path:
        xdg = os.environ.get("XDG_RUNTIME_DIR", "")
        path = (f"{xdg}/graft/admin-{port}.token" if xdg.startswith("/")
                else f"/tmp/graft-{os.geteuid()}/admin-{port}.token")
    try:
        with open(path, encoding="ascii") as f:
            return f.readline().strip() or None
    except OSError:
        return None


def cmd_report(a, root, data, comps):
    now = dt.datetime.now(dt.timezone.utc)
    live = fetch_live(a.url, admin_token(a.url, a.token)) if a.url else None
    rows, extra = build_model(root, comps, live, now)
    text = report_text(rows, extra, live, now)
    sys.stdout.write(text)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(report_html(rows, extra, live, now, text))
        print(f"ledger report: {a.html}")
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="graft ledger", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", help="source tree (default: git top level of the current directory)")
    p.add_argument("--ledger", help="ledger file (default: ROOT/migration.toml)")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="schema, drift of the legacy C, retired C absent")
    c.add_argument("--build", help="also run the ratchet on this build directory's binaries")
    c.add_argument("--binary", action="append", default=[], help="binary for the ratchet (repeatable)")
    r = sub.add_parser("ratchet", help="retired legacy symbols absent from the binaries")
    r.add_argument("--build")
    r.add_argument("--binary", action="append", default=[])
    v = sub.add_parser("revalidate", help="rerun the parity tests and record the fingerprint")
    v.add_argument("component")
    v.add_argument("--build")
    v.add_argument("--jobs", type=int, default=2)
    f = sub.add_parser("fingerprint", help="print the token fingerprint of a component's legacy C")
    f.add_argument("component")
    f.add_argument("--at", help="git revision (default: the work tree)")
    o = sub.add_parser("report", help="text report; --html for HTML with SVG")
    o.add_argument("--html", help="write the HTML report here")
    o.add_argument("--url", help="live process admin endpoint, e.g. http://127.0.0.1:9100")
    o.add_argument("--token", help="admin bearer token (default: $GRAFT_ADMIN_TOKEN, else the endpoint's token file)")
    a = p.parse_args(argv)
    root = find_root(a.root)
    a.ledger = a.ledger or os.path.join(root, "migration.toml")
    try:
        data = load(a.ledger)
        comps = validate(data)
        return {"check": cmd_check, "ratchet": cmd_ratchet, "revalidate": cmd_revalidate,
                "fingerprint": cmd_fingerprint, "report": cmd_report}[a.cmd](a, root, data, comps)
    except LedgerError as e:
        print(f"graft ledger: {e}", file=sys.stderr)
        return 1
    except UsageError as e:
        print(f"graft ledger: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

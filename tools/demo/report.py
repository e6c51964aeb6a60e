"""report.py: the demo's migration report, from the admin endpoint's JSON snapshots.

Used by tools/demo/demo.py: `text_report` prints the per-seam summary, `html_report`
writes one self-contained HTML page (inline SVG plots, no external assets) with the
timeline of the migration: calls served by C and by Rust, latency percentiles C vs
Rust, mismatches/errors/fallbacks, breaker state, and the phases of the walk.

Field names follow the runtime's JSON (docs/RUNTIME.md); `get` reads dotted paths so the
mapping lives in one place.
"""
import html
import math
import time


def get(obj, path, default=0):
    """A value at a dotted path ("impl.candidate.latency.p99_ns"), default if absent."""
    cur = obj
    for key in path.split("."):
        if not isinstance(cur, dict) or key not in cur:
            return default
        cur = cur[key]
    return cur


def seams_of(snapshot):
    if isinstance(snapshot, list):
        return snapshot
    if isinstance(snapshot, dict):
        return snapshot.get("seams", [])
    return []


def seam_in(snapshot, name):
    for s in seams_of(snapshot):
        if s.get("name") == name:
            return s
    return None


def figures(s):
    """The numbers the report shows for one seam snapshot."""
    leg, cand = "impl.legacy.", "impl.candidate."
    return {
        "seam": s.get("name"),
        "mode": s.get("mode"),
        "percent": get(s, "percent"),
        "calls": get(s, "counters.calls"),
        "compared": get(s, "counters.compared"),
        "mismatches": get(s, "counters.mismatches"),
        "served_legacy": get(s, leg + "served"),
        "served_candidate": get(s, cand + "served"),
        "calls_legacy": get(s, leg + "calls"),
        "calls_candidate": get(s, cand + "calls"),
        "errors_legacy": get(s, leg + "errors") + get(s, leg + "panics"),
        "errors_candidate": get(s, cand + "errors") + get(s, cand + "panics"),
        "panics_candidate": get(s, cand + "panics"),
        "fallbacks": get(s, "counters.fallbacks"),
        "faults_injected": get(s, "counters.faults_injected"),
        "breaker": get(s, "breaker.state", "?"),
        "breaker_opens": get(s, "breaker.opens"),
        "breaker_transitions": get(s, "breaker.transitions"),
        "breaker_rejected": get(s, "breaker.rejected"),
        "p50_legacy_ns": get(s, leg + "latency.p50_ns"),
        "p99_legacy_ns": get(s, leg + "latency.p99_ns"),
        "p50_candidate_ns": get(s, cand + "latency.p50_ns"),
        "p99_candidate_ns": get(s, cand + "latency.p99_ns"),
    }


def fmt_ns(ns):
    if not ns:
        return "-"
    if ns < 1e3:
        return "%.0f ns" % ns
    if ns < 1e6:
        return "%.2f us" % (ns / 1e3)
    return "%.2f ms" % (ns / 1e6)


def rate(part, whole):
    return "-" if not whole else "%.3f%%" % (100.0 * part / whole)


def text_report(snapshot, phases, load):
    lines = ["graft migration report"]
    for s in seams_of(snapshot):
        f = figures(s)
        mode = f["mode"] + (" %g%%" % f["percent"] if f["mode"] == "canary" else "")
        lines += [
            "",
            "seam %s   (mode %s, breaker %s)" % (f["seam"], mode, f["breaker"]),
            "  calls          %d   served by C %d, by Rust %d" % (f["calls"], f["served_legacy"], f["served_candidate"]),
            "  mismatches     %d of %d compared (%s)" % (f["mismatches"], f["compared"], rate(f["mismatches"], f["compared"])),
            "  errors         C %d, Rust %d (%d panics)" % (f["errors_legacy"], f["errors_candidate"], f["panics_candidate"]),
            "  fallbacks      %d   (Rust failed, C answered)" % f["fallbacks"],
            "  breaker events %d opened, %d transitions, %d calls kept on C" % (f["breaker_opens"], f["breaker_transitions"], f["breaker_rejected"]),
            "  p50 / p99      C %s / %s    Rust %s / %s" % (fmt_ns(f["p50_legacy_ns"]), fmt_ns(f["p99_legacy_ns"]), fmt_ns(f["p50_candidate_ns"]), fmt_ns(f["p99_candidate_ns"])),
        ]
        for e in get(s, "breaker.events", []) or []:
            ms = get(e, "unix_ms", 0)
            lines.append("    %s.%03d UTC  %s -> %s: %s" % (time.strftime("%H:%M:%S", time.gmtime(ms / 1000.0)), ms % 1000,
                                                      get(e, "from", "?"), get(e, "to", "?"), get(e, "reason", "")))
    if phases:
        lines += ["", "phases"]
        for p in phases:
            lines.append("  %-12s %5.1fs  %-4s %s" % (p["name"], p["end"] - p["start"], "ok" if p["ok"] else "FAIL", p.get("note", "")))
    if load:
        lines += ["", "client (kvload): %d requests, %d client-visible errors" % (load.get("requests", 0), load.get("errors", 0))]
    return "\n".join(lines)


# ------------------------------------------------------------------ HTML + SVG

PHASE_COLOURS = ["#eef2ff", "#f0f9f0", "#fff7e6", "#f5f0ff", "#eefaf9", "#fdeeee", "#f3f4f6"]
C_COLOUR, RUST_COLOUR = "#3b6fd8", "#d0632b"


def _series(samples, seam, fn):
    """[(t, value)] from consecutive snapshots; fn(prev_fig, fig, dt) -> value or None."""
    out = []
    prev = None
    for t, snap in samples:
        s = seam_in(snap, seam)
        if s is None:
            continue
        f = figures(s)
        if prev is not None and t > prev[0]:
            v = fn(prev[1], f, t - prev[0])
            if v is not None:
                out.append((t, v))
        prev = (t, f)
    return out


def _svg_chart(title, series, phases, t0, t1, unit_fmt, height=190, log=False, bands=None):
    """series: [(label, colour, [(t, v)], dashed)]."""
    W, H, L, R, T, B = 860, height, 70, 12, 24, 26
    vals = [v for _, _, pts, _ in series for _, v in pts if v is not None]
    vmax = max(vals) if vals else 1.0
    vmin_pos = min([v for v in vals if v > 0], default=1.0)
    if vmax <= 0:
        vmax = 1.0
    span = max(t1 - t0, 1e-9)

    def x(t):
        return L + (W - L - R) * (t - t0) / span

    if log:
        lo, hi = math.log10(max(vmin_pos / 1.5, 1e-9)), math.log10(vmax * 1.5)
        hi = max(hi, lo + 1e-9)

        def y(v):
            v = max(v, 10 ** lo)
            return T + (H - T - B) * (1 - (math.log10(v) - lo) / (hi - lo))
        ticks = [10 ** (lo + (hi - lo) * i / 4) for i in range(5)]
    else:
        vmax *= 1.1

        def y(v):
            return T + (H - T - B) * (1 - v / vmax)
        ticks = [vmax * i / 4 for i in range(5)]
    out = ['<svg viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">' % (W, H, html.escape(title))]
    for i, p in enumerate(phases):
        xa, xb = x(p["start"]), x(p["end"])
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (xa, T, max(xb - xa, 0.5), H - T - B, PHASE_COLOURS[i % len(PHASE_COLOURS)]))
        out.append('<text x="%.1f" y="%d" font-size="10" fill="#555">%s</text>' % (xa + 3, T + 11, html.escape(p["name"])))
    for (ta, tb) in bands or []:
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="6" fill="#c53030"><title>breaker open</title></rect>' % (x(ta), H - B - 6, max(x(tb) - x(ta), 1.0)))
    for v in ticks:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="#555">%s</text>' % (L - 4, y(v) + 3, html.escape(unit_fmt(v))))
    sec = 0
    step = 10 if span > 60 else 5
    while sec <= span:
        out.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#555">%ds</text>' % (x(t0 + sec), H - 8, sec))
        sec += step
    out.append('<text x="%d" y="14" font-size="12" font-weight="600">%s</text>' % (L, html.escape(title)))
    lx = W - R - 10
    for label, colour, pts, dashed in reversed(series):
        out.append('<text x="%d" y="14" font-size="11" text-anchor="end" fill="%s">%s</text>' % (lx, colour, html.escape(label)))
        lx -= 9 * len(label) + 14
    for label, colour, pts, dashed in series:
        if not pts:
            continue
        d = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", x(t), y(v)) for i, (t, v) in enumerate(pts))
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="1.8"%s/>' % (d, colour, ' stroke-dasharray="5,3"' if dashed else ""))
    out.append("</svg>")
    return "\n".join(out)


def _breaker_bands(samples, seam):
    bands, start = [], None
    for t, snap in samples:
        s = seam_in(snap, seam)
        state = get(s, "breaker.state", "closed") if s else "closed"
        if state in ("open", "half-open") and start is None:
            start = t
        elif state not in ("open", "half-open") and start is not None:
            bands.append((start, t))
            start = None
    if start is not None and samples:
        bands.append((start, samples[-1][0]))
    return bands


def html_report(samples, phases, load, final, seam="kv.parse", title="graft demo: migrating kv.parse live"):
    """samples: [(t_seconds, snapshot)], phases: [{name, start, end, ok, note}]."""
    t0 = phases[0]["start"] if phases else (samples[0][0] if samples else 0)
    t1 = phases[-1]["end"] if phases else (samples[-1][0] if samples else 1)

    def per_s(key):
        return lambda a, b, dt: max(b[key] - a[key], 0) / dt

    def level(key):
        return lambda a, b, dt: b[key]

    def count(v):
        return "%.0f" % v if v < 1e4 else "%.0fk" % (v / 1e3)

    served = [("C (legacy)", C_COLOUR, _series(samples, seam, per_s("served_legacy")), False),
              ("Rust (candidate)", RUST_COLOUR, _series(samples, seam, per_s("served_candidate")), False)]
    lat = [("C p50", C_COLOUR, [(t, v) for t, v in _series(samples, seam, level("p50_legacy_ns")) if v], False),
           ("C p99", C_COLOUR, [(t, v) for t, v in _series(samples, seam, level("p99_legacy_ns")) if v], True),
           ("Rust p50", RUST_COLOUR, [(t, v) for t, v in _series(samples, seam, level("p50_candidate_ns")) if v], False),
           ("Rust p99", RUST_COLOUR, [(t, v) for t, v in _series(samples, seam, level("p99_candidate_ns")) if v], True)]
    trouble = [("mismatches/s", "#7a3fc4", _series(samples, seam, per_s("mismatches")), False),
               ("Rust errors/s", "#c53030", _series(samples, seam, per_s("errors_candidate")), False),
               ("fallbacks to C/s", "#1f8a4c", _series(samples, seam, per_s("fallbacks")), True)]
    bands = _breaker_bands(samples, seam)
    charts = [
        _svg_chart("calls served per second", served, phases, t0, t1, count, bands=bands),
        _svg_chart("latency percentiles (log scale)", lat, phases, t0, t1, fmt_ns, log=True, bands=bands),
        _svg_chart("mismatches, Rust errors and fallbacks per second", trouble, phases, t0, t1, count, height=160, bands=bands),
    ]
    rows = []
    for s in seams_of(final):
        f = figures(s)
        rows.append("<tr>" + "".join("<td>%s</td>" % html.escape(str(c)) for c in [
            f["seam"], f["mode"] + (" %g%%" % f["percent"] if f["mode"] == "canary" else ""), "%d" % f["calls"],
            "%d / %d" % (f["served_legacy"], f["served_candidate"]), "%d of %d" % (f["mismatches"], f["compared"]),
            "%d / %d" % (f["errors_legacy"], f["errors_candidate"]), "%d" % f["fallbacks"],
            "%s (%d opened, %d transitions)" % (f["breaker"], f["breaker_opens"], f["breaker_transitions"]),
            "%s / %s" % (fmt_ns(f["p50_legacy_ns"]), fmt_ns(f["p99_legacy_ns"])),
            "%s / %s" % (fmt_ns(f["p50_candidate_ns"]), fmt_ns(f["p99_candidate_ns"]))]) + "</tr>")
    prow = "".join("<tr><td>%s</td><td>%.1f s</td><td class=\"%s\">%s</td><td>%s</td></tr>" % (
        html.escape(p["name"]), p["end"] - p["start"], "ok" if p["ok"] else "bad", "passed" if p["ok"] else "FAILED",
        html.escape(p.get("note", ""))) for p in phases)
    events = get(seam_in(final, seam) or {}, "breaker.events", [])
    ev = ""
    if isinstance(events, list) and events:
        lines = []
        for e in events:
            ms = e.get("unix_ms", 0) if isinstance(e, dict) else 0
            stamp = time.strftime("%H:%M:%S", time.gmtime(ms / 1000.0)) + ".%03d" % (ms % 1000)
            lines.append("%s UTC  %-9s -> %-9s  %s" % (stamp, get(e, "from", "?"), get(e, "to", "?"), get(e, "reason", "")))
        ev = "<h2>breaker events (most recent %d)</h2><pre>%s</pre>" % (len(events), html.escape("\n".join(lines)))
    loadline = ""
    if load:
        loadline = "<p>Client (kvload, every response verified): <b>%d</b> requests, <b class=\"%s\">%d</b> client-visible errors.</p>" % (
            load.get("requests", 0), "ok" if load.get("errors", 0) == 0 else "bad", load.get("errors", 0))
    return """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 920px; color: #1d2330; }
table { border-collapse: collapse; width: 100%%; margin: 8px 0 18px; font-variant-numeric: tabular-nums; }
td, th { border-bottom: 1px solid #e3e6eb; padding: 3px 6px; text-align: left; font-size: 13px; }
.ok { color: #1f8a4c; } .bad { color: #c53030; font-weight: 600; }
svg { display: block; margin: 10px 0 16px; border: 1px solid #e3e6eb; border-radius: 6px; background: #fff; }
pre { background: #f6f7f9; padding: 8px; font-size: 12px; white-space: pre-wrap; }
</style></head><body>
<h1>%(title)s</h1>
%(loadline)s
<h2>phases</h2>
<table><tr><th>phase</th><th>length</th><th>gate</th><th>what happened</th></tr>%(prow)s</table>
<h2>timeline</h2>
<p>Shaded bands are the phases; a red strip at the bottom marks the breaker open (or half-open).</p>
%(charts)s
<h2>per seam, at the end</h2>
<table><tr><th>seam</th><th>mode</th><th>calls</th><th>served C / Rust</th><th>mismatches</th><th>errors C / Rust</th><th>fallbacks</th><th>breaker</th><th>C p50 / p99</th><th>Rust p50 / p99</th></tr>
%(rows)s</table>
%(ev)s
</body></html>
""" % {"title": html.escape(title), "loadline": loadline, "prow": prow, "charts": "\n".join(charts),
       "rows": "\n".join(rows), "ev": ev}

#!/usr/bin/env python3
"""Draws bench/results/workload.svg from bench/results/workload.csv (written
by bench/workload.sh): cycle time and peak memory of the standard workload
against N, on log-log axes, with a dashed line of linear growth through the
N = 100k point. It also prints the table of docs/performance.md: medians
over the rounds, and the ratios of runs made side by side. No dependencies
beyond Python's standard library.

    python3 bench/plot_workload.py
"""
import csv
import math
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
rows = list(csv.DictReader(open(HERE / "results" / "workload.csv")))


def series(ids, mode, field):
    by_n = {}
    for r in rows:
        if r["ids"] == ids and r["mode"] == mode:
            by_n.setdefault(int(r["n"]), []).append(float(r[field]))
    return sorted((n, statistics.median(v)) for n, v in by_n.items())


W, H, PAD = 420, 300, 60
panels = [
    ("cycle time (ms, median)", "median_ms", 1.0),
    ("peak memory (MiB, max RSS)", "max_rss_kb", 1 / 1024),
]
lines = [
    ("framework, String IDs", "string", "framework", "#1f77b4"),
    ("baseline loop, String IDs", "string", "baseline", "#ff7f0e"),
    ("framework, Digest IDs", "digest", "framework", "#2ca02c"),
]
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H + 40}" font-family="sans-serif" font-size="11">',
       f'<rect width="{2 * W}" height="{H + 40}" fill="white"/>']
for p, (title, field, scale) in enumerate(panels):
    x0 = p * W
    data = {name: [(n, v * scale) for n, v in series(ids, mode, field)] for name, ids, mode, _ in lines}
    values = [v for pts in data.values() for _, v in pts if v > 0]
    ns = [n for pts in data.values() for n, _ in pts]
    if not values:
        continue
    lx0, lx1 = math.log10(min(ns)), math.log10(max(ns))
    ly0, ly1 = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    ly1 = max(ly1, ly0 + 1)

    def px(n):
        return x0 + PAD + (math.log10(n) - lx0) / max(lx1 - lx0, 1e-9) * (W - 2 * PAD)

    def py(v):
        return PAD / 2 + (ly1 - math.log10(v)) / (ly1 - ly0) * (H - PAD)

    out.append(f'<text x="{x0 + W / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>')
    for e in range(ly0, ly1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{x0 + PAD}" x2="{x0 + W - PAD}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + PAD - 6}" y="{y + 4}" text-anchor="end">{10 ** e:g}</text>')
    for n in sorted(set(ns)):
        x = px(n)
        out.append(f'<line x1="{x}" x2="{x}" y1="{PAD / 2}" y2="{H - PAD / 2}" stroke="#eee"/>')
        out.append(f'<text x="{x}" y="{H - PAD / 2 + 14}" text-anchor="middle">N={n:,}</text>')
    # Linear growth through the framework's N = 100k point.
    ref = dict(data[lines[0][0]])
    if 100000 in ref:
        k = ref[100000] / 100000
        a, b = min(ns), max(ns)
        out.append(f'<line x1="{px(a)}" y1="{py(k * a)}" x2="{px(b)}" y2="{py(k * b)}" stroke="#999" stroke-dasharray="4 3"/>')
    for name, _, _, colour in lines:
        pts = [(px(n), py(v)) for n, v in data[name] if v > 0]
        if len(pts) > 1:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}"/>')
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
legend_y = H + 14
for i, (name, _, _, colour) in enumerate(lines + [("linear growth (reference)", "", "", "#999")]):
    x = 20 + i * 200
    out.append(f'<rect x="{x}" y="{legend_y - 9}" width="12" height="12" fill="{colour}"/>')
    out.append(f'<text x="{x + 18}" y="{legend_y + 1}">{name}</text>')
out.append("</svg>")
(HERE / "results" / "workload.svg").write_text("\n".join(out) + "\n")
print("wrote", HERE / "results" / "workload.svg")


def ratio(n, ids, field="median_ms"):
    """The framework over the baseline, per round (each pair ran side by
    side), then the median of those ratios."""
    f = [float(r[field]) for r in rows if (int(r["n"]), r["ids"], r["mode"]) == (n, ids, "framework")]
    b = [float(r[field]) for r in rows if (int(r["n"]), r["ids"], r["mode"]) == (n, ids, "baseline")]
    return statistics.median(x / y for x, y in zip(f, b))


def median(n, ids, mode, field):
    return statistics.median(
        float(r[field]) for r in rows if (int(r["n"]), r["ids"], r["mode"]) == (n, ids, mode)
    )


print()
print("| N | framework, String | baseline, String | ratio | framework, Digest | baseline, Digest | ratio "
      "| String / Digest | time per N, String |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
ns = sorted({int(r["n"]) for r in rows})
for n in ns:
    fs, bs = median(n, "string", "framework", "median_ms"), median(n, "string", "baseline", "median_ms")
    fd, bd = median(n, "digest", "framework", "median_ms"), median(n, "digest", "baseline", "median_ms")
    print(f"| {n:,} | {fs:,.1f} ms | {bs:,.1f} ms | {ratio(n, 'string'):.3f} | {fd:,.1f} ms | {bd:,.1f} ms "
          f"| {ratio(n, 'digest'):.3f} | {fs / fd:.2f} | {fs * 1000 / n:.2f} µs |")
print()
print("| N | peak RSS, String | ratio to baseline | peak RSS, Digest | ratio to baseline | per N, String |")
print("| ---: | ---: | ---: | ---: | ---: | ---: |")
for n in ns:
    rs = median(n, "string", "framework", "max_rss_kb")
    rd = median(n, "digest", "framework", "max_rss_kb")
    print(f"| {n:,} | {rs / 1024:,.0f} MiB | {ratio(n, 'string', 'max_rss_kb'):.3f} | {rd / 1024:,.0f} MiB "
          f"| {ratio(n, 'digest', 'max_rss_kb'):.3f} | {rs * 1024 / n / 1000:.2f} kB |")

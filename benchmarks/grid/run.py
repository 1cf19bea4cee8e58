#!/usr/bin/python3
"""Runs the scaling grid (grid.py) on Kiln (benchmarks/Kiln.Grid) and PyTorch (torch_grid.py), one
model at a time and the two sides back to back for each model, and writes to
benchmarks/results/grid-<UTC time>/: raw.jsonl (every point of both sides), table.md (Kiln time,
peer time, ratio and Kiln's GFLOP/s per point) and ratio.svg (the ratio across the grid, a heat map).
--publish PATH also copies the SVG there (the README's plot is docs/images/grid-ratio.svg).

The peer is PyTorch in one of the comparison script's variants (--peer-variant, default
blas1-torchN+jemalloc; benchmarks/README.md describes each): Debian's OpenBLAS on its native kernels,
no thread oversubscription, an allocator that keeps freed buffers, ATen on its AVX-512 kernels. Ratios: how many times faster Kiln is (peer time / Kiln time).
"""
import argparse
import datetime
import json
import math
import os
import subprocess
import sys

import grid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def peer_env(variant, threads):
    """The PyTorch variant's environment and torch thread count, as the comparison script sets them up."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks", "peers"))
    import compare  # noqa: E402  (the one definition of the peer variants)
    flavour = "openmp" if variant.startswith("omp-shared") else "pthread"
    libdir = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "peers", "fetch_openblas.sh"), flavour],
                            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return compare.pytorch_env(variant, threads, {flavour: libdir})


def run_lines(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=HERE).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def fmt_time(s):
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def ratio_color(r):
    """Red below 1 (Kiln slower), white at 1, green above, on a log scale saturating at 10x."""
    t = max(-1.0, min(1.0, math.log10(r)))
    if t >= 0:
        return f"rgb({int(255 - 200 * t)},{int(255 - 80 * t)},{int(255 - 200 * t)})"
    return f"rgb(255,{int(255 + 200 * t)},{int(255 + 200 * t)})"


def svg_panel(title, rows, cols, cell, x0, y0):
    """rows: list of row labels; cols: list of (label, key); cell(row, key) -> ratio or None."""
    cw, ch, lw = 58, 20, 120
    parts = [f'<text x="{x0}" y="{y0 - 30}" font-weight="bold">{title}</text>']
    for j, (label, _) in enumerate(cols):
        parts.append(f'<text x="{x0 + lw + j * cw + cw / 2}" y="{y0 - 8}" text-anchor="middle" font-size="10">{label}</text>')
    for i, row in enumerate(rows):
        y = y0 + i * ch
        parts.append(f'<text x="{x0 + lw - 6}" y="{y + 14}" text-anchor="end" font-size="11">{row}</text>')
        for j, (_, key) in enumerate(cols):
            r = cell(row, key)
            x = x0 + lw + j * cw
            fill = "#ddd" if r is None else ratio_color(r)
            parts.append(f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="{fill}"/>')
            text = "–" if r is None else f"{r:.1f}×" if r < 10 else f"{r:.0f}×"
            parts.append(f'<text x="{x + cw / 2 - 1}" y="{y + 13}" text-anchor="middle" font-size="10">{text}</text>')
    return parts, lw + len(cols) * cw, len(rows) * ch


def write_svg(path, ratios, threads, stamp):
    """ratios: {(model, batch, kind): ratio}."""
    def panel(family, batches):
        ms = [m for m in grid.models() if m["family"] == family]
        rows = [m["name"] for m in ms]
        cols = [(f"train b{b}", ("train", b)) for b in batches] + [(f"infer b{b}", ("infer", b)) for b in batches]
        return rows, cols, lambda row, key: ratios.get((row, key[1], key[0]))
    body = []
    y = 90
    width = 1060
    for family, batches, title in (("mlp", grid.MLP_BATCHES, "MLP 784 → width × depth → 10 (Dense+ReLU), Adam"),
                                   ("cnn", grid.CNN_BATCHES, "CNN: Conv c@3×3 → ReLU → MaxPool → Conv 2c@3×3 → ReLU → MaxPool → Dense 10")):
        rows, cols, cell = panel(family, batches)
        parts, w, h = svg_panel(title, rows, cols, cell, 10, y)
        body += parts
        width = max(width, w + 20)
        y += h + 60
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif" font-size="12">',
            f'<rect width="100%" height="100%" fill="white"/>',
            f'<text x="10" y="18">How many times faster Kiln is than PyTorch (expert configuration), {threads} thread(s) each</text>',
            f'<text x="10" y="36" font-size="11">green: Kiln faster, red: Kiln slower, grey: not measured; run {stamp}</text>']
    with open(path, "w") as f:
        f.write("\n".join(head + body + ["</svg>", ""]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--family", choices=("mlp", "cnn", "all"), default="all")
    p.add_argument("--models", default=None, help="comma-separated model names (default: the whole family)")
    p.add_argument("--round-seconds", type=float, default=0.25)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--peer-variant", default="blas1-torchN+jemalloc",
                   help="a PyTorch variant of benchmarks/peers/compare.py (threading+allocator)")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--publish", default=None, help="also copy ratio.svg to this path")
    p.add_argument("--label", default=None, help="the plot's note on the peer (default: the --peer-variant)")
    p.add_argument("--from", dest="from_dirs", nargs="+", default=None,
                   help="measure nothing: rebuild table.md and ratio.svg from earlier runs' raw.jsonl (several runs merge)")
    a = p.parse_args()

    if not a.no_build and not a.from_dirs:
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "benchmarks", "Kiln.Grid"), "-c", "Release", "-v:q", "-nologo"],
                       check=True, stdout=sys.stderr)
    kiln = ["dotnet", os.path.join(ROOT, "benchmarks", "Kiln.Grid", "bin", "Release", "net10.0", "Kiln.Grid.dll")]
    torch = ["/usr/bin/python3", os.path.join(HERE, "torch_grid.py")]
    common = ["--round-seconds", str(a.round_seconds), "--rounds", str(a.rounds)]
    env, torch_threads = peer_env(a.peer_variant, a.threads)
    sides = (("kiln", kiln + ["--threads", str(a.threads)], None),
             ("pytorch", torch + ["--threads", str(torch_threads)], env))

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = os.path.join(ROOT, "benchmarks", "results", f"grid-{stamp}")
    os.makedirs(out_dir, exist_ok=True)
    wanted = None if a.models is None else set(a.models.split(","))
    points = {}
    flops = {}
    with open(os.path.join(out_dir, "raw.jsonl"), "w") as raw:
        for d in a.from_dirs or []:
            for line in open(os.path.join(d, "raw.jsonl")):
                point = json.loads(line)
                raw.write(line)
                points[(point["side"], point["model"], point["batch"], point["kind"])] = point["seconds"]
        for m in grid.models():
            flops[m["name"]] = grid.flops_per_sample(m)
            if a.from_dirs:
                continue
            if (a.family != "all" and m["family"] != a.family) or (wanted and m["name"] not in wanted):
                continue
            for side, cmd, side_env in sides:
                for line in run_lines(cmd + ["--models", m["name"]] + common, side_env):
                    line["side"] = side
                    raw.write(json.dumps(line) + "\n")
                    points[(side, line["model"], line["batch"], line["kind"])] = line["seconds"]
                    print(json.dumps(line), file=sys.stderr, flush=True)

    ratios = {}
    rows = ["| model | batch | kind | Kiln | PyTorch | Kiln × faster | Kiln GFLOP/s | PyTorch GFLOP/s |",
            "|---|---:|---|---:|---:|---:|---:|---:|"]
    for (side, model, batch, kind), k in sorted(points.items(), key=lambda kv: (kv[0][1], kv[0][3], kv[0][2])):
        if side != "kiln" or ("pytorch", model, batch, kind) not in points:
            continue
        t = points[("pytorch", model, batch, kind)]
        ratios[(model, batch, kind)] = t / k
        gf = flops[model][kind] * batch / 1e9
        rows.append(f"| {model} | {batch} | {kind} | {fmt_time(k)} | {fmt_time(t)} | {t / k:.2f} | {gf / k:.1f} | {gf / t:.1f} |")
    slower = [f"{m} b{b} {k} ({r:.2f}×)" for (m, b, k), r in sorted(ratios.items()) if r < 1]
    summary = "\n".join(rows) + f"\n\nPoints: {len(ratios)}; Kiln slower at {len(slower)}: {', '.join(slower) or 'none'}\n"
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(summary)
    write_svg(os.path.join(out_dir, "ratio.svg"), ratios, a.threads, f"{stamp}, PyTorch {a.label or a.peer_variant}")
    if a.publish:
        import shutil
        shutil.copyfile(os.path.join(out_dir, "ratio.svg"), a.publish)
    print(summary)
    print(f"results: {out_dir}")


if __name__ == "__main__":
    main()

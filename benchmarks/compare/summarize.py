#!/usr/bin/env python3
"""Summarises compare-refs.sh's BenchmarkDotNet JSON reports: per benchmark, the median over rounds of each side's
median time (ns), HEAD/BASE, and the rounds' spread; prints a Markdown table."""
import glob
import json
import os
import statistics
import sys


def load(out, side):
    runs = {}
    for d in sorted(glob.glob(os.path.join(out, f"results-{side}-*"))):
        for f in glob.glob(os.path.join(d, "results", "*.json")):
            for b in json.load(open(f))["Benchmarks"]:
                stats = b.get("Statistics")
                if stats:
                    runs.setdefault(b["FullName"], []).append(stats["Median"])
    return runs


def main(out):
    base, head = load(out, "base"), load(out, "head")
    names = [n for n in base if n in head]
    if not names:
        sys.exit(f"no benchmark ran on both sides under {out}")
    print("| benchmark | base (µs) | head (µs) | head/base | spread | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    worse = 0
    for n in names:
        b, h = statistics.median(base[n]), statistics.median(head[n])
        ratio = h / b
        # The rounds' own scatter on each side, relative: a difference inside it is noise.
        spread = max((max(v) - min(v)) / statistics.median(v) for v in (base[n], head[n]))
        verdict = "slower" if ratio > 1 + max(spread, 0.02) else "faster" if ratio < 1 - max(spread, 0.02) else "same"
        worse += verdict == "slower"
        short = n.replace("Kiln.Benchmarks.", "")
        print(f"| {short} | {b / 1000:.2f} | {h / 1000:.2f} | {ratio:.3f} | ±{spread * 100:.1f}% | {verdict} |")
    print(f"\n{len(names)} benchmarks, {worse} slower beyond the rounds' spread; rounds: {len(next(iter(base.values())))}")


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/python3
"""Kiln against every peer on the benchmark MLP and CNN, in one run: one table per model, the targets of
issue 18 as met / not met, and the efficiency (training GFLOP/s as a share of the machine's FMA peak).

Columns (benchmarks/README.md documents how each is configured and why):
  Kiln 1T, Kiln NT  Kiln.Benchmarks --quick-json with --threads 1 and --threads N
  PyTorch           Debian's python3-torch on OpenBLAS's own AVX-512 kernels, configured as an expert would:
                    every --pytorch-variants combination of BLAS threading and allocator is run and, per
                    figure, the fastest is the column (all of them are kept in summary.json)
  TorchSharp eager  benchmarks/Kiln.Peers --peer torchsharp --config eager (libtorch 2.x, MKL + oneDNN)
  TorchSharp best   benchmarks/Kiln.Peers --peer torchsharp --config best
  ONNX Runtime      benchmarks/Kiln.Peers --peer onnxruntime (inference only)
A peer whose program is missing (Kiln.Peers not built) gets a "not built" column and is left out of the ratios.

Machine limits (Kiln.Benchmarks --limits, once per repeat; --no-limits leaves them out): the FMA peak from many
2-ms rounds (the roofline takes the higher of it and the fma side's), read bandwidth from L1,
L2, L3 and DRAM, store bandwidth to DRAM, a cache line's round trip between two threads, the worker pool's empty
stage, on 1 and N threads, and the benchmark models' work counted from their layers. Per model a roofline table
sets each target against what it requires: the step or call time the target allows, and a floor (the products at
the FMA peak plus Adam's bytes at the L3 bandwidth; for batch 1 the larger of the products at the peak and the
weights read from L2, plus one empty pool stage). docs/perf/limits.md explains the arithmetic.

Ratios: Kiln against the STRONGEST peer column of each figure (training: Kiln samples/s / peer samples/s;
inference: peer latency / Kiln latency; above 1 means Kiln is faster). Peers always run on N threads; the
Kiln 1T ratios therefore compare one Kiln thread with N peer threads.

PyTorch variants (--pytorch-variants, THREADING+ALLOCATOR, comma-separated, or "all"):
  threading  blas1-torchN    libopenblas0-pthread, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(N): torch's
                             OpenMP pool runs its parallel loops, every GEMM runs on the calling thread
             blasN-torch1    libopenblas0-pthread, OPENBLAS_NUM_THREADS=N, torch.set_num_threads(1): the GEMMs
                             run on OpenBLAS's own pthread pool, everything else on the calling thread
             omp-shared      libopenblas0-openmp, torch.set_num_threads(N): the GEMMs run in the same libgomp
                             pool as torch's own loops (this flavour follows omp_get_max_threads(), so
                             OPENBLAS_NUM_THREADS has no effect once torch has set its thread count)
  allocator  jemalloc        LD_PRELOAD=libjemalloc.so.2 (Debian's libjemalloc2) with
                             MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1 (jemalloc's
                             defaults purge large freed buffers at once: more page faults than glibc)
             glibc-tuned     glibc malloc with MALLOC_MMAP_MAX_=0 and MALLOC_TRIM_THRESHOLD_ raised, so freed
                             memory stays in the process instead of being unmapped and faulted in again
             glibc           glibc malloc as is (the handicapped default: every large buffer is an mmap)
  ATen       (nothing)       ATEN_CPU_CAPABILITY=avx512 where the CPU has AVX-512: Debian's build has the AVX-512
                             kernels but dispatches AVX2 unless asked
             +aten-build     the build's own choice (a third, optional part: blasN-torch1+jemalloc+aten-build)
In every variant the two pools together never hold more than N threads (no oversubscription: the run-queue
wait printed per column shows it). Every variant unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so OpenBLAS picks its own kernel (AVX-512 on a
Zen 4/5); the peer checks its sgemm against float64 dot products and the table flags a wrong result.
Debian's OpenBLAS packages are unpacked by fetch_openblas.sh into peers/.openblas (nothing is installed).

Run as benchmarks/peers/compare.sh [options] from anywhere; the raw JSON of every run, the tables (summary.md)
and summary.json land in benchmarks/results/<UTC time>/ (git-ignored).
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
PROJECT = os.path.join(BENCH, "Kiln.Benchmarks")
DLL = os.path.join(PROJECT, "bin", "Release", "net10.0", "Kiln.Benchmarks.dll")
PEERS_PROJECT = os.path.join(BENCH, "Kiln.Peers")
PEERS_DLL = os.path.join(PEERS_PROJECT, "bin", "Release", "net10.0", "Kiln.Peers.dll")
PYTHON = "/usr/bin/python3"
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# Keep every freed buffer in the process: no dedicated eagerly-purged arena for large requests, no decay.
JEMALLOC_CONF = "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1"

METRICS = [
    # key, label, kind ("throughput": higher is better, "latency": lower is better)
    ("train_b64_samples_per_s", "train, batch 64 (samples/s)", "throughput"),
    ("train_b256_samples_per_s", "train, batch 256 (samples/s)", "throughput"),
    ("infer_b1_median_us", "inference, batch 1 (median µs)", "latency"),
    ("infer_b256_median_us", "inference, batch 256 (median µs)", "latency"),
]
DETAIL = {"train_b64_samples_per_s": "train_b64", "train_b256_samples_per_s": "train_b256",
          "infer_b1_median_us": "infer_b1", "infer_b256_median_us": "infer_b256"}

THREADINGS = ("blas1-torchN", "blasN-torch1", "omp-shared")
ALLOCATORS = ("jemalloc", "glibc-tuned", "glibc")
DEFAULT_VARIANTS = [f"{t}+{a}" for t in THREADINGS for a in ("jemalloc", "glibc-tuned")]

# The .NET peers: column name, --peer, --config (None: the peer has one configuration).
NET_PEERS = [("TorchSharp eager", "torchsharp", "eager"),
             ("TorchSharp best", "torchsharp", "best"),
             ("ONNX Runtime", "onnxruntime", None)]

# Targets of issue 18, per model: (metric key or special, label, test). Ratios are against the strongest peer.
TARGETS = {
    "mlp": [("ratio", "train_b64_samples_per_s", 5.0, "MLP training, batch 64: ≥ 5× the strongest peer"),
            ("ratio", "train_b256_samples_per_s", 4.0, "MLP training, batch 256: ≥ 4× the strongest peer"),
            ("abs", "infer_b1_median_us", 3.0, "MLP Predict, batch 1: ≤ 3 µs"),
            ("ort", "infer_b1_median_us", 3.0, "MLP Predict, batch 1: ≥ 3× ONNX Runtime"),
            ("eff", "train_b256_gflop_per_s", 0.80, "MLP training, batch 256: ≥ 80 % of the FMA peak")],
    "cnn": [("ratio", "train_b64_samples_per_s", 3.0, "CNN training, batch 64: ≥ 3× the strongest peer"),
            ("ratio", "train_b256_samples_per_s", 3.0, "CNN training, batch 256: ≥ 3× the strongest peer"),
            ("abs", "infer_b1_median_us", 10.0, "CNN Predict, batch 1: ≤ 10 µs"),
            ("ort", "infer_b1_median_us", 3.0, "CNN Predict, batch 1: ≥ 3× ONNX Runtime"),
            ("eff", "train_b256_gflop_per_s", 0.70, "CNN training, batch 256: ≥ 70 % of the FMA peak")],
}


# --------------------------------------------------------------------------------------------- plumbing

def sh(cmd, env=None, cwd=REPO, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.stderr.write(f"\n$ {' '.join(cmd)}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}\n")
        raise SystemExit(f"compare: command failed with exit code {r.returncode}: {' '.join(cmd)}")
    return r


def last_json(text):
    """The JSON object a side printed on stdout (its last non-empty line, or the whole text if pretty-printed)."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])


def lscpu():
    info = {}
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True, check=True).stdout
        for line in out.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                info[k.strip()] = v.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def machine_info(threads):
    cpu = lscpu()
    try:
        cores = int(cpu.get("Core(s) per socket", "0")) * int(cpu.get("Socket(s)", "1"))
    except ValueError:
        cores = None
    flags = cpu.get("Flags", "").split()
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16")
           if f in flags]
    mem_kib = None
    try:
        with open("/proc/meminfo") as f:
            mem_kib = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError):
        pass
    runtimes = sh(["dotnet", "--list-runtimes"], check=False).stdout
    netcore = [l.split()[1] for l in runtimes.splitlines() if l.startswith("Microsoft.NETCore.App")]
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "cpu_model": cpu.get("Model name", platform.processor()),
        "logical_cpus": os.cpu_count(),
        "cores": cores,
        "threads_per_core": cpu.get("Thread(s) per core"),
        "isa_flags": isa,
        "caches": ", ".join(f"{k.split()[0]} {cpu[k]}" for k in ("L1d cache", "L2 cache", "L3 cache") if cpu.get(k)),
        "memory_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
        "kernel": platform.release(),
        "threads_used": threads,
        "loadavg_before": load,
        "dotnet_sdk": sh(["dotnet", "--version"], check=False).stdout.strip(),
        "dotnet_runtime": netcore[-1] if netcore else "?",
    }


def build(project, log_dir, name, required):
    """dotnet build -c Release; returns True when it built. A required project that fails stops the run."""
    r = sh(["dotnet", "build", project, "-c", "Release", "-nologo", "-v", "q"], check=False)
    with open(os.path.join(log_dir, f"{name}-build.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode == 0:
        return True
    errors = [l for l in (r.stdout + r.stderr).splitlines() if "error" in l]
    sys.stderr.write("\n".join(dict.fromkeys(errors[:20])) + "\n")
    if required:
        raise SystemExit(f"compare: {name} did not build (see {name}-build.log).")
    sys.stderr.write(f"compare: {name} did not build (see {name}-build.log); its columns are skipped.\n")
    return False


def cpu_idle_fraction(seconds=1.0):
    """Fraction of all CPUs idle over the next `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])  # idle + iowait, total (guest time is counted in user)
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(1, t1 - t0)


def wait_for_idle(limit_s, log):
    """Waits (up to limit_s) until at least 90 % of the CPUs have been idle for a second, so a run does not start
    while a build or a test suite holds a core. Returns the idle fraction seen last."""
    if limit_s <= 0:
        return None
    deadline = time.time() + limit_s
    idle = cpu_idle_fraction()
    if idle < 0.9:
        log.write(f"compare: machine busy ({100 * (1 - idle):.0f} % CPU in use), waiting up to {limit_s:.0f} s...\n")
        while idle < 0.9 and time.time() < deadline:
            idle = cpu_idle_fraction(2.0)
    return idle


# ------------------------------------------------------------------------------------------------ sides

def run_kiln(args, model, threads, extra):
    env = dict(os.environ, KILN_THREADS=str(threads))
    cmd = ["dotnet", DLL, "--quick-json", "--threads", str(threads), "--model", model] + extra
    if args.isa:
        cmd += ["--isa", args.isa]
    return last_json(sh(cmd, env=env).stdout)


def run_fma(args):
    cmd = ["dotnet", DLL, "--fma-peak", "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    return last_json(sh(cmd).stdout)


def run_limits(args):
    """The machine's limits (Kiln.Benchmarks --limits): FMA peak from many 2-ms rounds, bandwidths, cross-thread
    latencies, the models' work."""
    cmd = ["dotnet", DLL, "--limits", "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    return last_json(sh(cmd).stdout)


def cpu_has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f " in line + " " for line in f)
    except OSError:
        return False


def pytorch_env(variant, threads, blas_dirs):
    """Environment and torch thread count of one PyTorch variant (see the module docstring)."""
    threading, allocator, *aten = variant.split("+")
    env = dict(os.environ)
    # Debian's build carries AVX-512 ATen kernels but dispatches AVX2 by default (upstream's guard against the
    # frequency drop of older Intel parts); on a CPU with AVX-512 the expert asks for them, "+aten-build" does not.
    env.pop("ATEN_CPU_CAPABILITY", None)
    if not aten and cpu_has_avx512():
        env["ATEN_CPU_CAPABILITY"] = "avx512"
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "LD_PRELOAD",
              "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_CONF"):
        env.pop(k, None)
    flavour = "openmp" if threading == "omp-shared" else "pthread"
    env["LD_LIBRARY_PATH"] = blas_dirs[flavour] + (":" + os.environ["LD_LIBRARY_PATH"]
                                                    if os.environ.get("LD_LIBRARY_PATH") else "")
    torch_threads = threads
    if threading == "blas1-torchN":
        env["OPENBLAS_NUM_THREADS"] = "1"
    elif threading == "blasN-torch1":
        env["OPENBLAS_NUM_THREADS"] = str(threads)
        torch_threads = 1
    if allocator == "jemalloc":
        env["LD_PRELOAD"] = JEMALLOC
        env["MALLOC_CONF"] = JEMALLOC_CONF
    elif allocator == "glibc-tuned":
        env["MALLOC_MMAP_MAX_"] = "0"                      # no mmap per large buffer: everything from the heap
        env["MALLOC_TRIM_THRESHOLD_"] = str(16 << 30)      # and freed memory is not given back to the OS
    return env, torch_threads


def run_pytorch(args, model, variant, blas_dirs, extra):
    env, torch_threads = pytorch_env(variant, args.threads, blas_dirs)
    cmd = [PYTHON, os.path.join(HERE, "torch_mlp.py"), "--threads", str(args.threads),
           "--torch-threads", str(torch_threads), "--model", model] + extra
    if args.adam:
        cmd += ["--adam", args.adam]
    r = last_json(sh(cmd, env=env).stdout)
    r["variant"] = variant
    return r


def peers_command(args):
    """The command prefix that runs the .NET peers, or None with the reason when there is none."""
    if args.peers_cmd:
        return shlex.split(args.peers_cmd), None
    if not os.path.exists(PEERS_DLL):
        return None, "not built"
    return ["dotnet", PEERS_DLL], None


def run_net_peer(args, prefix, peer, config, model, quick):
    cmd = prefix + ["--peer", peer, "--model", model, "--threads", str(args.threads)]
    if config:
        cmd += ["--config", config]
    if quick:
        cmd.append("--quick")
    r = sh(cmd, check=False)
    if r.returncode != 0:
        return {"error": f"exit code {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}"}
    try:
        return last_json(r.stdout)
    except (json.JSONDecodeError, IndexError):
        return {"error": f"no JSON on stdout: {r.stdout.strip()[-300:]!r}"}


# ---------------------------------------------------------------------------------------------- figures

def waits_of(run):
    """Every run-queue wait fraction (share of the threads' runnable time spent without a CPU, schedstat.py) a run recorded."""
    d = run.get("details") or {}
    values = []
    for k in ("train_b64", "train_b256"):
        values += (d.get(k) or {}).get("rounds_runqueue_wait_fraction") or []
    for k in ("infer_b1", "infer_b256"):
        values.append((d.get(k) or {}).get("runqueue_wait_fraction"))
    return [v for v in values if v is not None]


def figure(runs, key, quiet):
    """One figure over the runs of a column, preferring undisturbed measurements.

    Training: the median over every timed round (of every run) whose run-queue wait was at most `quiet`;
    inference: the median of the per-run medians of runs at most `quiet` disturbed. A column that reports no
    rounds (only the headline key) counts each run as one measurement. Falls back to every measurement when
    none is quiet. Returns None when no run has the figure, else
    {value, used, total, disturbed (no quiet measurement), range}."""
    d = DETAIL[key]
    pairs = []
    for run in runs:
        det = (run.get("details") or {}).get(d) or {}
        if key.startswith("train") and det.get("rounds_samples_per_s"):
            w = det.get("rounds_runqueue_wait_fraction") or []
            pairs += [(v, w[i] if i < len(w) else None) for i, v in enumerate(det["rounds_samples_per_s"])]
        elif run.get(key) is not None:
            pairs.append((run[key], det.get("runqueue_wait_fraction")))
    if not pairs:
        return None
    good = [v for v, w in pairs if w is None or w <= quiet]
    values = good or [v for v, _ in pairs]
    return {"value": statistics.median(values), "used": len(good), "total": len(pairs), "disturbed": not good,
            "range": [min(values), max(values)]}


def wait_text(waits):
    """Largest and median run-queue wait of a column, and whether it is ≈ 0 (median ≤ 2 %), as the brief demands
    of every column: above that either another process held a CPU or the column's own threads oversubscribe."""
    if not waits:
        return "run-queue wait not reported"
    med = statistics.median(waits)
    return (f"run-queue wait max {100 * max(waits):.1f} %, median {100 * med:.1f} % "
            + ("(≈ 0)" if med <= 0.02 else "(NOT ≈ 0: machine busy or threads oversubscribed)"))


def better(kind, a, b):
    return a > b if kind == "throughput" else a < b


def ratio(kind, kiln, peer):
    return kiln / peer if kind == "throughput" else peer / kiln


def fmt(value, kind):
    if value is None:
        return "—"
    if kind == "throughput":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 100 else f"{value:,.2f}"


def table(header, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(header)) + " |",
             "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i])
                                       for i, v in enumerate(r)) + " |")
    return lines


def model_report(model, kiln_cols, pytorch_runs, net_runs, net_missing, fma, args, summary):
    """The tables of one model; fills summary["models"][model]."""
    quiet = args.quiet
    n = args.threads
    out = [f"## {model.upper()}", ""]
    m = {"metrics": {}, "pytorch_variants": {}, "targets": {}, "efficiency": {}}
    summary["models"][model] = m
    peer_cols = ["PyTorch"] + [name for name, _, _ in NET_PEERS]
    header = ["figure"] + [f"Kiln {t}T" for t in kiln_cols] + peer_cols + ["strongest peer"] + \
             [f"Kiln {t}T ÷ strongest" for t in kiln_cols]
    rows = []
    for key, label, kind in METRICS:
        entry = {"kind": kind, "kiln": {}, "peers": {}}
        row = [label]
        for t, runs in kiln_cols.items():
            f = figure(runs, key, quiet)
            entry["kiln"][str(t)] = f
            row.append(fmt(f and f["value"], kind) + ("†" if f and f["disturbed"] else ""))
        # PyTorch: the fastest variant for this figure.
        best = None
        for variant, runs in pytorch_runs.items():
            f = figure(runs, key, quiet)
            m["pytorch_variants"].setdefault(variant, {})[key] = f
            if f and (best is None or better(kind, f["value"], best["value"])):
                best = dict(f, variant=variant)
        entry["peers"]["PyTorch"] = best
        row.append(fmt(best and best["value"], kind) + ("†" if best and best["disturbed"] else ""))
        for name, _, _ in NET_PEERS:
            if name in net_missing:
                entry["peers"][name] = None
                row.append(net_missing[name])
                continue
            f = figure(net_runs[name], key, quiet)
            entry["peers"][name] = f
            row.append(fmt(f and f["value"], kind) + ("†" if f and f["disturbed"] else ""))
        strongest = None
        for name, f in entry["peers"].items():
            if f and (strongest is None or better(kind, f["value"], strongest[1])):
                strongest = (name, f["value"])
        entry["strongest"] = strongest and {"peer": strongest[0], "value": strongest[1]}
        row.append(f"{strongest[0]}" if strongest else "—")
        entry["ratio_vs_strongest"] = {}
        for t in kiln_cols:
            k = entry["kiln"][str(t)]
            r = ratio(kind, k["value"], strongest[1]) if (k and strongest) else None
            entry["ratio_vs_strongest"][str(t)] = r
            row.append(f"{r:.2f}×" if r is not None else "—")
        m["metrics"][key] = entry
        rows.append(row)
    out += table(header, rows)
    out.append("")

    # Efficiency: training GFLOP/s (Kiln's FLOP count per sample) against the FMA peak on as many threads.
    flop = next((r.get("train_flop_per_sample") for runs in kiln_cols.values() for r in runs
                 if r.get("train_flop_per_sample")), None)
    if flop and fma:
        peak = {1: fma["threads_1"]["peak_gflop_per_s"], n: fma[f"threads_{n}"]["peak_gflop_per_s"]}
        eff_rows = []
        for key, label in (("train_b64_samples_per_s", "train, batch 64"), ("train_b256_samples_per_s", "train, batch 256")):
            row = [f"{label} (GFLOP/s, % of peak)"]
            for t in kiln_cols:
                f = m["metrics"][key]["kiln"][str(t)]
                g = f["value"] * flop * 1e-9 if f else None
                m["efficiency"].setdefault(str(t), {})[key.replace("samples_per_s", "gflop_per_s")] = g
                m["efficiency"][str(t)][key.replace("samples_per_s", "peak_fraction")] = g / peak[t] if g else None
                row.append(f"{g:,.0f} ({100 * g / peak[t]:.0f} %)" if g else "—")
            p = m["metrics"][key]["peers"]
            for name in peer_cols:
                f = p.get(name)
                g = f["value"] * flop * 1e-9 if f else None
                row.append(f"{g:,.0f} ({100 * g / peak[n]:.0f} %)" if g else "—")
            eff_rows.append(row)
        eff_rows.append(["FMA peak (GFLOP/s)"] + [f"{peak[t]:,.0f}" for t in kiln_cols] + [f"{peak[n]:,.0f}"] * len(peer_cols))
        out.append(f"Efficiency: {flop / 1e6:.3f} MFLOP per training sample (GEMM / direct-conv multiply-adds, "
                   "benchmarks/README.md), against the FMA peak measured in this run on as many threads:")
        out.append("")
        out += table(["figure"] + [f"Kiln {t}T" for t in kiln_cols] + [f"{c} ({n}T)" for c in peer_cols], eff_rows)
        out.append("")

    # Targets, for each Kiln thread count.
    t_rows = []
    for test, key, bound, label in TARGETS[model]:
        row = [label]
        for t in kiln_cols:
            e = m["metrics"].get(key, {}) if test != "eff" else None
            value, met = None, None
            if test == "ratio":
                value = e["ratio_vs_strongest"][str(t)]
                text = f"{value:.2f}×" if value is not None else None
                met = value is not None and value >= bound
            elif test == "abs":
                k = e["kiln"][str(t)]
                value = k and k["value"]
                text = f"{value:.2f} µs" if value is not None else None
                met = value is not None and value <= bound
            elif test == "ort":
                k, o = e["kiln"][str(t)], e["peers"].get("ONNX Runtime")
                value = ratio("latency", k["value"], o["value"]) if (k and o) else None
                text = f"{value:.2f}×" if value is not None else None
                met = value is not None and value >= bound
            else:
                value = (m["efficiency"].get(str(t)) or {}).get("train_b256_peak_fraction")
                text = f"{100 * value:.0f} %" if value is not None else None
                met = value is not None and value >= bound
            m["targets"].setdefault(label, {})[str(t)] = {"value": value, "met": met if value is not None else None}
            row.append(f"{text}: {'met' if met else 'NOT met'}" if text else "no figure")
        t_rows.append(row)
    out.append("Targets (issue 18), Kiln on each thread count against the peers on "
               f"{n} thread{'s' if n > 1 else ''}:")
    out.append("")
    out += table(["target"] + [f"Kiln {t}T" for t in kiln_cols], t_rows)
    out.append("")

    # How each column ran: configuration, run-queue wait (must be ~0), and for PyTorch every variant.
    notes = []
    for t, runs in kiln_cols.items():
        w = [x for r in runs for x in waits_of(r)]
        notes.append(f"- Kiln {t}T: KILN_THREADS={t}, ISA path {runs[0].get('isa')}; {wait_text(w)}")
    if pytorch_runs:
        notes.append(f"- PyTorch: per figure the fastest of {len(pytorch_runs)} variants (threading+allocator):")
        for variant, runs in pytorch_runs.items():
            r0 = runs[0]
            w = [x for r in runs for x in waits_of(r)]
            b = r0["machine"]["blas"]
            faults = [(r["details"][k].get("page_faults_per_step")) for r in runs for k in ("train_b64", "train_b256")]
            won = [label.split(" (")[0] for key, label, _ in METRICS
                   if (m["metrics"][key]["peers"]["PyTorch"] or {}).get("variant") == variant]
            figs = ", ".join(fmt((m["pytorch_variants"][variant].get(key) or {}).get("value"), kind)
                             for key, _, kind in METRICS)
            err = r0["machine"]["gemm_check_max_rel_err"]
            notes.append(f"  - {variant}: {figs}; OpenBLAS core {b.get('openblas_corename', '?')}, "
                         f"{b.get('openblas_threads', '?')} BLAS thread(s), torch threads {r0.get('torch_threads')}, "
                         f"ATen {r0['machine'].get('torch_cpu_capability', '?')}, "
                         f"malloc {r0['machine'].get('allocator', {}).get('name', '?')}; page faults/step "
                         f"{'/'.join(str(f) for f in faults)}; {wait_text(w)}; sgemm check {err:.1e}"
                         + (" WRONG RESULTS: discard" if err > 1e-5 else "")
                         + (f"; fastest for: {', '.join(won)}" if won else ""))
    for name, _, _ in NET_PEERS:
        if name in net_missing:
            notes.append(f"- {name}: {net_missing[name]}")
            continue
        runs = net_runs[name]
        w = [x for r in runs for x in waits_of(r)]
        notes.append(f"- {name}: {runs[0].get('config', '(no config string)')}; {wait_text(w)}")
    out.append("Columns:")
    out += notes
    out.append("")
    return out


# ------------------------------------------------------------------------------------------ machine limits

# The bandwidth probes the roofline uses: Adam's state (w, g, m, v: ~1 MB each for the benchmark models) lives in L3,
# a batch-1 call's weights split over the cores' L2 (about half a megabyte per core).
ADAM_PROBE = "read_l3_8m"
WEIGHTS_PROBE = "read_l2_512k"


def merge_limits(limits_runs):
    """The machine's limits over every --limits run: per bandwidth probe and thread count the best round of any
    run (interference only slows a round) and the median of the runs' medians; per cross-thread probe the run
    with the lowest median (the least disturbed); the models' work from the first run. None without runs."""
    if not limits_runs:
        return None
    bandwidth = {}
    for r in limits_runs:
        for name, probe in (r.get("bandwidth") or {}).items():
            b = bandwidth.setdefault(name, {"what": probe.get("what", name),
                                            "bytes_per_thread": probe.get("bytes_per_thread")})
            for key, v in probe.items():
                if key.startswith("threads_"):
                    b.setdefault(key, {"best": [], "median": []})
                    b[key]["best"].append(v["best_gb_per_s"])
                    b[key]["median"].append(v["median_gb_per_s"])
    for b in bandwidth.values():
        for key in [k for k in b if k.startswith("threads_")]:
            b[key] = {"best_gb_per_s": max(b[key]["best"]), "median_gb_per_s": statistics.median(b[key]["median"])}
    cross = {}
    for r in limits_runs:
        for name, v in (r.get("cross_thread") or {}).items():
            if isinstance(v, dict) and (name not in cross or v["median"] < cross[name]["median"]):
                cross[name] = v
            elif not isinstance(v, dict):
                cross[name] = v
    fma = {}
    for r in limits_runs:
        for key, v in (r.get("fma") or {}).items():
            if key not in fma or v["peak_gflop_per_s"] > fma[key]["peak_gflop_per_s"]:
                fma[key] = v
    return {"runs": len(limits_runs), "fma": fma, "bandwidth": bandwidth, "cross_thread": cross,
            "work": limits_runs[0].get("work") or {}}


def roofline_peak(fma, limits, n):
    """The FMA peak on n threads the roofline uses: the higher of the fma side's (rounds of 0.3 s, the efficiency
    figures' denominator) and --limits' (best of many 2-ms rounds, which a busy machine disturbs far less)."""
    values = [(fma.get(f"threads_{n}") or {}).get("peak_gflop_per_s"),
              ((limits.get("fma") or {}).get(f"threads_{n}") or {}).get("peak_gflop_per_s")]
    values = [v for v in values if v]
    return max(values) if values else None


def thread_keys(d):
    return sorted((k for k in d if k.startswith("threads_")), key=lambda k: int(k[8:]))


def limits_report(limits, fma):
    """The table of the machine's limits and of the benchmark models' work."""
    keys = sorted(set(thread_keys(fma)) | {k for b in limits["bandwidth"].values() for k in thread_keys(b)},
                  key=lambda k: int(k[8:]))
    out = ["## Machine limits", "",
           f"Kiln.Benchmarks --limits ({limits['runs']} run(s)): every thread streams its own buffer; best round "
           "(median of the rounds in brackets). The roofline uses the higher of the two FMA peaks.", ""]
    lf = limits.get("fma") or {}
    keys = sorted(set(keys) | set(thread_keys(lf)), key=lambda k: int(k[8:]))
    rows = [["FMA peak, --fma-peak side (GFLOP/s)"] + [f"{fma[k]['peak_gflop_per_s']:,.0f}" if k in fma else "—" for k in keys],
            ["FMA peak, best 2-ms round (GFLOP/s)"] + [f"{lf[k]['peak_gflop_per_s']:,.0f}" if k in lf else "—" for k in keys]]
    for b in limits["bandwidth"].values():
        rows.append([f"{b['what']} (GB/s)"] + [f"{b[k]['best_gb_per_s']:,.1f} ({b[k]['median_gb_per_s']:,.1f})"
                                              if k in b else "—" for k in keys])
    out += table(["limit"] + [f"{k[8:]} thread{'s' if k != 'threads_1' else ''}" for k in keys], rows)
    out.append("")
    c = limits["cross_thread"]
    names = (("cache_line_round_trip_us", "a cache line's round trip between two threads"),
             ("pool_empty_stage_us", f"an empty stage of the worker pool ({c.get('pool_threads', '?')} threads)"),
             ("yielding_wakeup_us", "waking a thread that polls with Thread.Yield"),
             ("blocking_wakeup_us", "waking a thread blocked in Monitor.Wait"))
    lines = [f"- {label}: {c[k]['median']:.3f} µs median, p90 {c[k]['p90']:.3f}, max {c[k]['max']:.1f}"
             for k, label in names if k in c]
    if lines:
        out += ["Cross-thread costs (Kiln.Kernels.PoolProbe):", ""] + lines + [""]
    w = limits["work"]
    if w:
        def mflop(v, key):
            ex = v.get(key.replace("_per_sample", "_executed_per_sample"))
            return f"{v[key] / 1e6:.3f}" + (f" ({ex / 1e6:.3f})" if ex is not None else "")
        rows = [[m.upper(), mflop(v, "train_flop_per_sample"), mflop(v, "infer_flop_per_sample"),
                 f"{v['product_weight_bytes'] / 1e3:,.1f}", f"{v['adam_bytes_per_step'] / 1e6:.2f}",
                 f"{v['activation_bytes_per_sample'] / 1e3:,.1f}"] for m, v in w.items()]
        out += ["Work of the benchmark models, counted from their layers: products only, direct convolution (in "
                "brackets: as the runtime runs them, Winograd where it does; docs/perf/limits.md):", ""]
        out += table(["model", "training MFLOP/sample", "inference MFLOP/sample", "weights+biases (kB)",
                      "Adam bytes/step (MB)", "activations, 1 pass (kB/sample)"], rows)
        out.append("")
    return out


def roofline(model, msum, limits, fma, n):
    """What each target of `model` requires from the machine, against the measured limits, on n threads.

    The FMA peak is roofline_peak's. Training targets: the step time a target allows (batch / required samples/s; the efficiency target: the
    direct-convolution FLOPs at that share of the peak) against a floor that counts only the products as the
    runtime runs them (Winograd where it does: "executed" FLOPs) at the FMA peak and Adam's bytes at the L3 read
    bandwidth, one after the other. Batch-1 targets: the latency allowed against the larger of
    the forward products at the peak and the weights read from the cores' L2, plus one empty pool stage on n > 1
    threads. A floor is optimistic (everything else costs nothing), so floor > allowed proves a target out of reach
    on this machine; floor <= allowed only says the hardware does not forbid it. Returns {label: row}."""
    work = limits["work"].get(model)
    peak = roofline_peak(fma, limits, n)
    if not work or not peak:
        return {}
    bw = limits["bandwidth"]

    def gbs(probe):
        return ((bw.get(probe) or {}).get(f"threads_{n}") or {}).get("best_gb_per_s")
    adam_bw, weights_bw = gbs(ADAM_PROBE), gbs(WEIGHTS_PROBE)
    handoff = (limits["cross_thread"].get("pool_empty_stage_us") or {}).get("median", 0.0) if n > 1 else 0.0
    rows = {}
    for test, key, bound, label in TARGETS[model]:
        row = {"kind": "train" if test in ("ratio", "eff") else "b1", "allowed_us": None, "floor_us": None,
               "today_us": None}
        if row["kind"] == "train":
            batch = 64 if "b64" in key else 256
            skey = f"train_b{batch}_samples_per_s"
            flop = batch * work["train_flop_per_sample"]
            executed = batch * work.get("train_flop_executed_per_sample", work["train_flop_per_sample"])
            if test == "ratio":
                peer = (msum["metrics"].get(skey) or {}).get("strongest")
                if peer:
                    row["allowed_us"] = batch / (bound * peer["value"]) * 1e6
            else:  # the efficiency target counts direct-convolution FLOPs, whatever the algorithm
                row["allowed_us"] = flop / (bound * peak * 1e3)
            row["compute_us"] = executed / (peak * 1e3)
            row["memory_us"] = work["adam_bytes_per_step"] / (adam_bw * 1e3) if adam_bw else None
            row["floor_us"] = row["compute_us"] + (row["memory_us"] or 0.0)
            k = (msum["metrics"].get(skey) or {}).get("kiln", {}).get(str(n))
            row["today_us"] = batch / k["value"] * 1e6 if k else None
        else:
            e = msum["metrics"].get(key) or {}
            if test == "abs":
                row["allowed_us"] = bound
            else:
                o = (e.get("peers") or {}).get("ONNX Runtime")
                row["allowed_us"] = o["value"] / bound if o else None
            row["compute_us"] = work.get("infer_flop_executed_per_sample", work["infer_flop_per_sample"]) / (peak * 1e3)
            row["memory_us"] = work["product_weight_bytes"] / (weights_bw * 1e3) if weights_bw else None
            row["handoff_us"] = handoff
            row["floor_us"] = max(row["compute_us"], row["memory_us"] or 0.0) + handoff
            k = (e.get("kiln") or {}).get(str(n))
            row["today_us"] = k["value"] if k else None
        a, f = row["allowed_us"], row["floor_us"]
        row["hardware_allows"] = None if a is None else f <= a
        rows[label] = row
    return rows


def limits_disturbed(limits, n):
    """Whether the limits the roofline uses look disturbed on n threads: a bandwidth probe it uses whose median round
    is below 70 % of its best (another process shared the caches or the memory bus), or an empty pool stage above
    20 µs median (the worker was off its CPU; on an idle machine it takes 1-2 µs)."""
    for probe in (ADAM_PROBE, WEIGHTS_PROBE):
        v = (limits["bandwidth"].get(probe) or {}).get(f"threads_{n}")
        if v and v["median_gb_per_s"] < 0.7 * v["best_gb_per_s"]:
            return True
    stage = limits["cross_thread"].get("pool_empty_stage_us")
    return bool(n > 1 and stage and stage["median"] > 20)


def roofline_report(model, msum, limits, fma, n):
    """The roofline table of one model (fills msum["roofline"])."""
    rows = roofline(model, msum, limits, fma, n)
    msum["roofline"] = rows
    msum["roofline_limits_disturbed"] = limits_disturbed(limits, n)
    if not rows:
        return []

    def us(v):
        return "—" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:,.2f}")
    t = []
    for label, r in rows.items():
        a, f, d = r["allowed_us"], r["floor_us"], r["today_us"]
        verdict = "—" if r["hardware_allows"] is None else ("yes" if r["hardware_allows"] else "NO: floor > allowed")
        parts = (f"{us(r['compute_us'])} + {us(r['memory_us'])}" if r["kind"] == "train" else
                 f"max({us(r['compute_us'])}, {us(r['memory_us'])}) + {us(r['handoff_us'])}")
        t.append([label, us(a), f"{us(f)} = {parts}", verdict, us(d),
                  f"{d / f:.2f}×" if d and f else "—"])
    out = [f"Roofline of the {model.upper()} targets on {n} thread{'s' if n > 1 else ''} (µs per training step or "
           "per batch-1 call; floor = products at the FMA peak + Adam's bytes at the L3 bandwidth for training, "
           "max(products at the peak, weights from L2) + one empty pool stage for batch 1; docs/perf/limits.md):", ""]
    out += table(["target", "allowed", "floor (compute, memory, hand-off)", "hardware allows", f"Kiln {n}T today",
                  "today ÷ floor"], t)
    out.append("")
    if msum["roofline_limits_disturbed"]:
        out += ["WARNING: the limits behind these floors were measured on a busy machine (bandwidth rounds far below "
                "their best, or a slow empty pool stage): the floors are too high, and a NO is no proof.", ""]
    return out


# ------------------------------------------------------------------------------------------------- main

def measure(args, models, kiln_threads, variants, log):
    """Builds what is needed and runs every column (repeat times, alternating the order); writes each side's JSON to
    the output directory as <model>-<column>-<repeat>.json. Returns (out, machine, runs, fma_runs, limits_runs,
    net_missing)."""
    wait_idle = args.wait_idle if args.wait_idle is not None else (0 if args.quick else 120)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(BENCH, "results", stamp)
    os.makedirs(out, exist_ok=True)
    log.write(f"compare: results in {out}\n")
    blas_dirs = {}
    for flavour in sorted({"openmp" if v.startswith("omp-shared") else "pthread" for v in variants}):
        blas_dirs[flavour] = sh(["bash", os.path.join(HERE, "fetch_openblas.sh"), flavour]).stdout.strip().splitlines()[-1]

    machine = machine_info(args.threads)
    if not args.no_build:
        log.write("compare: building Kiln.Benchmarks (Release)...\n")
        build(PROJECT, out, "Kiln.Benchmarks", required=True)
    elif not os.path.exists(DLL):
        raise SystemExit(f"compare: --no-build but {DLL} does not exist")
    net_missing = {}
    prefix = None
    if args.no_net_peers:
        net_missing = {name: "left out" for name, _, _ in NET_PEERS}
    elif not args.peers_cmd and not args.no_build and os.path.exists(os.path.join(PEERS_PROJECT, "Kiln.Peers.csproj")):
        log.write("compare: building Kiln.Peers (Release)...\n")
        build(PEERS_PROJECT, out, "Kiln.Peers", required=False)
    if not args.no_net_peers:
        prefix, missing = peers_command(args)
        if missing:
            net_missing = {name: missing for name, _, _ in NET_PEERS}
            log.write(f"compare: {PEERS_DLL} does not exist: TorchSharp and ONNX Runtime columns are 'not built' "
                      "(dotnet build benchmarks/Kiln.Peers -c Release).\n")

    quick_args = (["--quick"] if args.quick else []) + (["--data", args.data] if args.data else [])
    runs = {m: {"kiln": {t: [] for t in kiln_threads}, "pytorch": {v: [] for v in variants},
                "net": {name: [] for name, _, _ in NET_PEERS if name not in net_missing}} for m in models}
    fma_runs, limits_runs = [], []
    sides = [("fma", None, None)] + ([] if args.no_limits else [("limits", None, None)])
    for m in models:
        sides += [("kiln", m, t) for t in kiln_threads]
        sides += [("pytorch", m, v) for v in variants]
        sides += [("net", m, (name, peer, config)) for name, peer, config in NET_PEERS if name not in net_missing]
    for rep in range(args.repeat):
        order = sides if rep % 2 == 0 else list(reversed(sides))
        for kind, m, what in order:
            idle = wait_for_idle(wait_idle, log)
            label = {"fma": "FMA peak", "limits": "machine limits", "kiln": f"Kiln {what}T", "pytorch": f"PyTorch {what}",
                     "net": what[0] if kind == "net" else ""}[kind]
            log.write(f"compare: run {rep + 1}/{args.repeat}: {m or ''} {label}"
                      + (f" (CPUs {100 * idle:.0f} % idle at start)" if idle is not None else "") + "...\n")
            t0 = time.time()
            if kind == "fma":
                r = run_fma(args)
                fma_runs.append(r)
                name = "fma"
            elif kind == "limits":
                r = run_limits(args)
                limits_runs.append(r)
                name = "limits"
            elif kind == "kiln":
                r = run_kiln(args, m, what, quick_args)
                runs[m]["kiln"][what].append(r)
                name = f"{m}-kiln-{what}t"
            elif kind == "pytorch":
                r = run_pytorch(args, m, what, blas_dirs, quick_args)
                runs[m]["pytorch"][what].append(r)
                name = f"{m}-pytorch-{what}"
            else:
                r = run_net_peer(args, prefix, what[1], what[2], m, args.quick)
                name = f"{m}-{what[1]}" + (f"-{what[2]}" if what[2] else "")
                if "error" in r:
                    log.write(f"compare: {what[0]} ({m}) failed: {r['error']}\n")
                else:
                    runs[m]["net"][what[0]].append(r)
            r["idle_at_start"] = idle
            r["wall_s_total"] = round(time.time() - t0, 1)
            with open(os.path.join(out, f"{name}-{rep + 1}.json"), "w") as f:
                json.dump(r, f, indent=2)
    with open("/proc/loadavg") as f:
        machine["loadavg_after"] = f.read().split()[:3]

    return out, machine, runs, fma_runs, limits_runs, net_missing


def load_results(out, log):
    """The runs an earlier measurement left in `out` (see measure's file names), for --from."""
    machine_path = os.path.join(out, "machine.json")
    if os.path.exists(machine_path):
        with open(machine_path) as f:
            machine = json.load(f)
    else:
        log.write(f"compare: {machine_path} missing: machine description from this machine, load average unknown\n")
        machine = dict(machine_info(None), loadavg_before=["?"], loadavg_after=["?"])
    runs, fma_runs, limits_runs = {}, [], []
    net_files = {f"{peer}-{config}" if config else peer: name for name, peer, config in NET_PEERS}
    for file in sorted(os.listdir(out)):
        stem, ext = os.path.splitext(file)
        if ext != ".json" or stem in ("summary", "machine"):
            continue
        side, _, rep = stem.rpartition("-")
        if not rep.isdigit():
            continue
        with open(os.path.join(out, file)) as f:
            r = json.load(f)
        if side == "fma":
            fma_runs.append(r)
            continue
        if side == "limits":
            limits_runs.append(r)
            continue
        model, _, column = side.partition("-")
        m = runs.setdefault(model, {"kiln": {}, "pytorch": {}, "net": {}})
        if column.startswith("kiln-") and column.endswith("t"):
            m["kiln"].setdefault(int(column[5:-1]), []).append(r)
        elif column.startswith("pytorch-"):
            m["pytorch"].setdefault(column[8:], []).append(r)
        elif column in net_files and "error" not in r:
            m["net"].setdefault(net_files[column], []).append(r)
    if not runs or not fma_runs:
        raise SystemExit(f"compare: --from {out}: no Kiln.Benchmarks / FMA results there")
    models = [m for m in TARGETS if m in runs]
    kiln_threads = sorted({t for m in runs.values() for t in m["kiln"]})
    variants = sorted({v for m in runs.values() for v in m["pytorch"]})
    net_missing = {name: "not in this run" for name, _, _ in NET_PEERS if not any(name in m["net"] for m in runs.values())}
    for m in runs.values():
        m["net"] = {name: m["net"].get(name, []) for name, _, _ in NET_PEERS if name not in net_missing}
    return machine, runs, fma_runs, limits_runs, models, kiln_threads, variants, net_missing


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="N: threads of the peers and of the Kiln NT column (default: all CPUs)")
    p.add_argument("--models", default="mlp,cnn", help="comma-separated benchmark models (default mlp,cnn)")
    p.add_argument("--model", choices=("mlp", "cnn"), help="one model only (same as --models MODEL)")
    p.add_argument("--kiln-threads", default=None,
                   help="comma-separated thread counts of the Kiln columns (default 1,N)")
    p.add_argument("--pytorch-variants", default=",".join(DEFAULT_VARIANTS),
                   help="comma-separated THREADING+ALLOCATOR[+aten-build] variants of the PyTorch peer, 'all' for "
                        "every combination, 'none' for no PyTorch column (default: every threading with jemalloc "
                        "and with glibc-tuned)")
    p.add_argument("--peers-cmd", help="command that runs the .NET peers instead of 'dotnet Kiln.Peers.dll' "
                                       "(it gets --peer, --model, --threads, --config, --quick)")
    p.add_argument("--no-net-peers", action="store_true", help="leave TorchSharp and ONNX Runtime out")
    p.add_argument("--no-limits", action="store_true",
                   help="leave out the machine's limits (Kiln.Benchmarks --limits: bandwidths, cross-thread "
                        "latencies) and the roofline of each target")
    p.add_argument("--data", nargs="?", const="/usr/share/datasets/fashion-mnist", default=None,
                   help="Fashion-MNIST IDX directory instead of synthetic data (Kiln and PyTorch; the .NET "
                        "peers always use synthetic data, which does not change the cost of a step)")
    p.add_argument("--repeat", type=int, default=1,
                   help="run every side this many times, alternating the order, and report medians")
    p.add_argument("--isa", choices=("avx512", "avx2", "portable"), help="force Kiln's ISA path (default: best)")
    p.add_argument("--adam", choices=("single", "foreach"), help="PyTorch Adam implementation (peer default: single)")
    p.add_argument("--quick", action="store_true", help="short measurement on every side (smoke test; noisy)")
    p.add_argument("--no-build", action="store_true", help="reuse the existing Release builds")
    p.add_argument("--wait-idle", type=float, default=None, metavar="SECONDS",
                   help="before each run wait up to this long for the CPUs to be >= 90%% idle "
                        "(default 120, 0 with --quick; 0: no wait)")
    p.add_argument("--quiet", type=float, default=0.05, metavar="FRACTION",
                   help="largest run-queue wait fraction of a measurement used for the figures (default 0.05)")
    p.add_argument("--peer-blas", help=argparse.SUPPRESS)  # replaced by --pytorch-variants
    p.add_argument("--out", help="directory for raw results (default benchmarks/results/<UTC time>)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="run nothing: print the tables again from the raw JSON of an earlier run in DIR "
                        "(--threads, --quiet apply; the columns are those DIR holds)")
    args = p.parse_args()
    log = sys.stderr
    if args.threads < 1 or args.repeat < 1:
        p.error("--threads and --repeat must be >= 1")
    if args.peer_blas:
        log.write("compare: --peer-blas is gone: the PyTorch column is now the expert configuration on OpenBLAS's "
                  "native kernels (--pytorch-variants); ignoring it.\n")
    models = [args.model] if args.model else [m.strip() for m in args.models.split(",") if m.strip()]
    if any(m not in TARGETS for m in models):
        p.error("--models: mlp and/or cnn")
    kiln_threads = sorted({int(t) for t in args.kiln_threads.split(",")} if args.kiln_threads else {1, args.threads})
    if args.pytorch_variants == "none":
        variants = []
    elif args.pytorch_variants == "all":
        variants = [f"{t}+{a}{k}" for t in THREADINGS for a in ALLOCATORS for k in ("", "+aten-build")]
    else:
        variants = [v.strip() for v in args.pytorch_variants.split(",") if v.strip()]
    for v in variants:
        parts = v.split("+")
        if len(parts) not in (2, 3) or parts[0] not in THREADINGS or parts[1] not in ALLOCATORS \
                or parts[2:] not in ([], ["aten-build"]):
            p.error(f"--pytorch-variants: '{v}' is not THREADING+ALLOCATOR[+aten-build] with THREADING in "
                    f"{THREADINGS} and ALLOCATOR in {ALLOCATORS}")
    if any("+jemalloc" in v for v in variants) and not os.path.exists(JEMALLOC):
        p.error(f"{JEMALLOC} not found (Debian's libjemalloc2): install it or choose glibc-tuned variants")
    if args.from_dir:
        out = args.from_dir
        machine, runs, fma_runs, limits_runs, models, kiln_threads, variants, net_missing = load_results(out, log)
    else:
        out, machine, runs, fma_runs, limits_runs, net_missing = measure(args, models, kiln_threads, variants, log)
        with open(os.path.join(out, "machine.json"), "w") as f:
            json.dump(machine, f, indent=2)

    # FMA peak: the best round over every repeat, per thread count.
    fma = {}
    for key in {k for r in fma_runs for k in r if k.startswith("threads_")}:
        best = max(fma_runs, key=lambda r: r[key]["peak_gflop_per_s"])[key]
        fma[key] = dict(best, waits=[w for r in fma_runs for w in r[key]["rounds_runqueue_wait_fraction"]])

    limits = merge_limits(limits_runs)
    summary = {"machine": machine, "threads": args.threads, "kiln_threads": kiln_threads, "repeat": args.repeat,
               "quick": args.quick, "quiet": args.quiet, "fma_peak": fma, "limits": limits,
               "pytorch_variants": variants, "models": {}}
    text = []
    for m in models:
        net_missing_m = dict(net_missing)
        net_missing_m.update({name: "failed" for name, rs in runs[m]["net"].items() if not rs})
        text += model_report(m, runs[m]["kiln"], runs[m]["pytorch"], runs[m]["net"], net_missing_m, fma, args, summary)
        if limits:
            text += roofline_report(m, summary["models"][m], limits, fma, args.threads)
    if limits:
        text += limits_report(limits, fma)
    disturbed = any(f and f["disturbed"] for mm in summary["models"].values() for e in mm["metrics"].values()
                    for f in list(e["kiln"].values()) + list(e["peers"].values()))
    mc = machine
    first_py = next((rs[0] for m in models for rs in runs[m]["pytorch"].values() if rs), None)
    first_kiln = runs[models[0]]["kiln"][kiln_threads[0]][0]
    text += [
        "## Machine and method",
        "",
        f"- CPU: {mc['cpu_model']}; {mc['cores']} cores, {mc['logical_cpus']} logical CPUs, "
        f"{mc['threads_per_core']} thread(s)/core; {mc['caches'] + '; ' if mc['caches'] else ''}"
        f"{mc['memory_gib']} GiB; {' '.join(mc['isa_flags'])}; Linux {mc['kernel']}",
        f"- FMA peak (Kiln.Benchmarks --fma-peak, {fma.get('threads_1', {}).get('threads', 1)} and {args.threads} threads, "
        "best round): " + ", ".join(f"{v['threads']}T {v['peak_gflop_per_s']:,.0f} GFLOP/s (rounds' run-queue wait max "
                                    f"{100 * max(v['waits'], default=0):.1f} %)" for k, v in sorted(fma.items())),
        f"- .NET SDK {mc['dotnet_sdk']}, runtime {mc['dotnet_runtime']}; Kiln ISA path {first_kiln.get('isa')}"
        + (f"; PyTorch {first_py['machine']['torch']} (BLAS_INFO={first_py['machine']['torch_blas_info']}, "
           f"CPU capability {first_py['machine']['torch_cpu_capability']}), Python {first_py['machine']['python']}"
           if first_py else ""),
        f"- Data: {first_kiln.get('data')}; {args.repeat} run(s) per column"
        + ("; --quick (short measurements: smoke test, not figures to quote)" if args.quick else ""),
        f"- Load average before {' '.join(mc['loadavg_before'])}, after {' '.join(mc['loadavg_after'])}. Figures use "
        f"only measurements with at most {100 * args.quiet:.0f} % run-queue wait (time runnable without a CPU); "
        "† marks a figure that had none (rerun on a quiet machine or with more --repeat).",
        "- Ratio > 1: Kiln faster (training: Kiln / peer samples/s; inference: peer / Kiln latency).",
    ]
    if disturbed:
        text.append("- WARNING: some figures (†) come only from disturbed measurements: the machine was busy.")
    report = "\n".join(text)
    print(report)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(report + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()

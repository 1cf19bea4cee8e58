#!/usr/bin/python3
"""Kiln vs PyTorch on the benchmark MLP (or, with --model cnn, the benchmark CNN), in one run.

Builds the Kiln benchmark project, runs its --quick-json mode and the PyTorch peer
(peers/torch_mlp.py; its --model cnn is the model of peers/torch_cnn.py) with the same thread
count (KILN_THREADS and torch.set_num_threads), and prints a table: metric, Kiln, PyTorch, ratio.
Ratios are "how many times faster Kiln is": training = Kiln samples/s / PyTorch samples/s;
inference = PyTorch latency / Kiln latency.

--model cnn is passed on to both sides (Kiln.Benchmarks --quick-json --model cnn, torch_mlp.py
--model cnn); the default, mlp, is what both sides measure without the option.

Run it as benchmarks/peers/compare.sh [options] from anywhere; raw JSON of every run, the table
(summary.md) and summary.json land in benchmarks/results/<UTC time>/ (git-ignored).

PyTorch's BLAS (--peer-blas): python3-torch is built with BLAS_INFO=generic, so nn.Linear's sgemm
comes from whatever libblas.so.3 the loader finds.
  asis             the environment as it is (default; on a machine without libopenblas0 that is
                   netlib's unoptimised reference BLAS, which the table then flags)
  openblas         Debian's OpenBLAS 0.3.21 (OpenMP flavour), unpacked by fetch_openblas.sh into
                   peers/.openblas and put first on LD_LIBRARY_PATH, environment otherwise as is
                   (so OPENBLAS_CORETYPE, if set, still picks the kernel)
  openblas-native  the same with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the peer alone,
                   so OpenBLAS picks its own kernel (AVX-512 on a Zen 4/5); the peer checks its sgemm
                   against float64 dot products and the table flags a wrong result
  all              the three above, one column each
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
PROJECT = os.path.join(BENCH, "Kiln.Benchmarks", "Kiln.Benchmarks.csproj")
DLL = os.path.join(BENCH, "Kiln.Benchmarks", "bin", "Release", "net10.0", "Kiln.Benchmarks.dll")
PYTHON = "/usr/bin/python3"

METRICS = [
    # key, label, kind ("throughput": higher is better, "latency": lower is better), format
    ("train_b64_samples_per_s", "train, batch 64 (samples/s)", "throughput"),
    ("train_b256_samples_per_s", "train, batch 256 (samples/s)", "throughput"),
    ("infer_b1_median_us", "inference, batch 1 (median µs)", "latency"),
    ("infer_b256_median_us", "inference, batch 256 (median µs)", "latency"),
]


def sh(cmd, env=None, cwd=REPO, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.stderr.write(f"\n$ {' '.join(cmd)}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}\n")
        raise SystemExit(f"compare: command failed with exit code {r.returncode}: {' '.join(cmd)}")
    return r


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
        sockets = int(cpu.get("Socket(s)", "1"))
        cores = int(cpu.get("Core(s) per socket", "0")) * sockets
    except ValueError:
        cores = None
    flags = cpu.get("Flags", "").split()
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16")
           if f in flags]
    torch_probe = sh([PYTHON, "-c",
                      "import json, torch; print(json.dumps({'version': torch.__version__, "
                      "'config': torch.__config__.show(), 'parallel': torch.__config__.parallel_info()}))"])
    t = json.loads(torch_probe.stdout)
    blas_info = next((f.split("=", 1)[1] for line in t["config"].splitlines()
                      for f in line.replace(",", " ").split() if f.startswith("BLAS_INFO=")), "?")
    capability = next((line.split(":", 1)[1].strip() for line in t["config"].splitlines()
                       if "CPU capability usage" in line), "?")
    mem_kib = None
    try:
        with open("/proc/meminfo") as f:
            mem_kib = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
    except (OSError, StopIteration, ValueError):
        pass
    dotnet = sh(["dotnet", "--version"], check=False).stdout.strip()
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
        "dotnet_sdk": dotnet,
        "dotnet_runtime": netcore[-1] if netcore else "?",
        "torch": t["version"],
        "torch_blas_info": blas_info,
        "torch_cpu_capability": capability,
        "torch_config": t["config"],
    }


def build_kiln(log_dir):
    cmd = ["dotnet", "build", PROJECT, "-c", "Release", "-nologo", "-v", "q"]
    r = sh(cmd, check=False)
    with open(os.path.join(log_dir, "kiln-build.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        errors = [l for l in (r.stdout + r.stderr).splitlines() if "error" in l]
        sys.stderr.write("\n".join(dict.fromkeys(errors[:20])) + "\n")
        raise SystemExit("compare: the Kiln benchmark project did not build (see kiln-build.log).")


def run_kiln(args, quick_args):
    env = dict(os.environ, KILN_THREADS=str(args.threads))
    cmd = ["dotnet", DLL, "--quick-json", "--threads", str(args.threads)] + quick_args
    if args.model != "mlp":  # the MLP is the Kiln side's default, and older builds know no --model
        cmd += ["--model", args.model]
    if args.isa:
        cmd += ["--isa", args.isa]
    return json.loads(sh(cmd, env=env).stdout)


def peer_env(config, openblas_dir):
    env = dict(os.environ)
    if config in ("openblas", "openblas-native"):
        env["LD_LIBRARY_PATH"] = openblas_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    if config == "openblas-native":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run_peer(args, config, openblas_dir, quick_args):
    cmd = [PYTHON, os.path.join(HERE, "torch_mlp.py"), "--threads", str(args.threads), "--model", args.model] + quick_args
    if args.adam:
        cmd += ["--adam", args.adam]
    return json.loads(sh(cmd, env=peer_env(config, openblas_dir)).stdout)


def cpu_idle_fraction(seconds=1.0):
    """Fraction of all CPUs idle over the next `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])  # idle + iowait, total (without guest time, counted in user)
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(1, t1 - t0)


def wait_for_idle(limit_s, log):
    """Waits (up to limit_s) until at least 90 % of the CPUs have been idle for a second, so a run
    does not start while a build or a test suite holds a core. Returns the idle fraction seen last."""
    deadline = time.time() + limit_s
    idle = cpu_idle_fraction()
    if idle < 0.9 and limit_s > 0:
        log.write(f"compare: machine busy ({100 * (1 - idle):.0f} % CPU in use), waiting up to {limit_s:.0f} s...\n")
        while idle < 0.9 and time.time() < deadline:
            idle = cpu_idle_fraction(2.0)
    return idle


def max_wait(run):
    """Largest run-queue wait fraction (time runnable but without a CPU, per thread) of a run."""
    d = run.get("details", {})
    values = []
    for k in ("train_b64", "train_b256"):
        values += d.get(k, {}).get("rounds_runqueue_wait_fraction", [])
    for k in ("infer_b1", "infer_b256"):
        values.append(d.get(k, {}).get("runqueue_wait_fraction"))
    values = [v for v in values if v is not None]
    return max(values) if values else 0.0


DETAIL = {"train_b64_samples_per_s": "train_b64", "train_b256_samples_per_s": "train_b256",
          "infer_b1_median_us": "infer_b1", "infer_b256_median_us": "infer_b256"}


def figure(runs, key, quiet):
    """One figure over all runs of a side, preferring undisturbed measurements.

    Training: the median over every timed round of every run whose run-queue wait was at most
    `quiet` (a round where another process held a core can be several times slower with 2 threads);
    inference: the median of the per-run medians over runs at most `quiet` disturbed. Falls back to
    all rounds / runs when none is quiet. Returns (value, used, total, all_quiet_missing, range)."""
    d = DETAIL[key]
    if key.startswith("train"):
        pairs = [(r, w) for run in runs
                 for r, w in zip(run["details"][d]["rounds_samples_per_s"],
                                 run["details"][d].get("rounds_runqueue_wait_fraction") or [None] * 99)]
    else:
        pairs = [(run["details"][d]["median_us"], run["details"][d].get("runqueue_wait_fraction")) for run in runs]
    good = [v for v, w in pairs if w is None or w <= quiet]
    values = good or [v for v, _ in pairs]
    return statistics.median(values), len(good), len(pairs), not good, [min(values), max(values)]


def fmt(value, kind):
    if kind == "throughput":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 100 else f"{value:,.2f}"


def blas_label(run):
    b = run["machine"]["blas"]
    if b.get("kind") == "OpenBLAS":
        return f"OpenBLAS {b.get('openblas_config', '').split()[1] if b.get('openblas_config') else ''} " \
               f"core {b.get('openblas_corename', '?')}".replace("  ", " ")
    return b.get("kind", "?")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for both sides: KILN_THREADS and torch.set_num_threads (default: all CPUs)")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                   help="benchmark model, passed on to both sides (default mlp)")
    p.add_argument("--data", nargs="?", const="/usr/share/datasets/fashion-mnist", default=None,
                   help="Fashion-MNIST IDX directory instead of synthetic data (both sides)")
    p.add_argument("--peer-blas", choices=("asis", "openblas", "openblas-native", "all"), default="asis")
    p.add_argument("--repeat", type=int, default=1,
                   help="run both sides this many times, alternating, and report medians (3 for final figures)")
    p.add_argument("--isa", choices=("avx512", "avx2", "portable"), help="force Kiln's ISA path (default: best)")
    p.add_argument("--adam", choices=("single", "foreach"), help="PyTorch Adam implementation (peer default: single)")
    p.add_argument("--quick", action="store_true", help="short measurement on both sides (smoke test)")
    p.add_argument("--no-build", action="store_true", help="reuse the existing Release build of Kiln.Benchmarks")
    p.add_argument("--wait-idle", type=float, default=120, metavar="SECONDS",
                   help="before each run wait up to this long for the CPUs to be >= 90%% idle (default 120; 0: no wait)")
    p.add_argument("--quiet", type=float, default=0.05, metavar="FRACTION",
                   help="largest run-queue wait fraction of a measurement used for the figures (default 0.05)")
    p.add_argument("--out", help="directory for raw results (default benchmarks/results/<UTC time>)")
    args = p.parse_args()
    if args.threads < 1 or args.repeat < 1:
        p.error("--threads and --repeat must be >= 1")

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(BENCH, "results", stamp)
    os.makedirs(out, exist_ok=True)
    configs = ["asis", "openblas", "openblas-native"] if args.peer_blas == "all" else [args.peer_blas]
    openblas_dir = None
    if any(c != "asis" for c in configs):
        openblas_dir = sh(["bash", os.path.join(HERE, "fetch_openblas.sh")]).stdout.strip().splitlines()[-1]

    quick_args = []
    if args.quick:
        quick_args.append("--quick")
    if args.data:
        quick_args += ["--data", args.data]

    log = sys.stderr
    log.write(f"compare: results in {out}\n")
    machine = machine_info(args.threads)
    if not args.no_build:
        log.write("compare: building Kiln.Benchmarks (Release)...\n")
        build_kiln(out)
    elif not os.path.exists(DLL):
        raise SystemExit(f"compare: --no-build but {DLL} does not exist")

    kiln_runs, peer_runs = [], {c: [] for c in configs}
    for rep in range(args.repeat):
        order = ["kiln"] + configs if rep % 2 == 0 else configs + ["kiln"]
        for side in order:
            idle = wait_for_idle(args.wait_idle, log)
            log.write(f"compare: run {rep + 1}/{args.repeat}: {side} (CPUs {100 * idle:.0f} % idle at start)...\n")
            if side == "kiln":
                r = run_kiln(args, quick_args)
                kiln_runs.append(r)
            else:
                r = run_peer(args, side, openblas_dir, quick_args)
                peer_runs[side].append(r)
            r["idle_at_start"] = round(idle, 3)
            with open(os.path.join(out, f"{side}-{rep + 1}.json"), "w") as f:
                json.dump(r, f, indent=2)
    with open("/proc/loadavg") as f:
        machine["loadavg_after"] = f.read().split()[:3]

    # ------------------------------------------------------------------------------ the table
    header = ["metric", "Kiln"]
    for c in configs:
        header += [f"PyTorch [{c}]", f"ratio [{c}]"]
    rows = []
    summary = {"machine": machine, "model": args.model, "model_description": peer_runs[configs[0]][0].get("model"),
               "threads": args.threads, "repeat": args.repeat, "quick": args.quick,
               "data": kiln_runs[0]["data"], "kiln_isa": kiln_runs[0].get("isa"), "metrics": {}}
    disturbed = False
    used_counts = []
    for key, label, kind in METRICS:
        k_med, k_used, k_total, k_fallback, k_range = figure(kiln_runs, key, args.quiet)
        disturbed |= k_fallback
        row = [label, fmt(k_med, kind) + ("†" if k_fallback else "")]
        entry = {"kind": kind, "kiln": k_med, "kiln_range": k_range, "kiln_quiet_used": [k_used, k_total],
                 "pytorch": {}, "pytorch_range": {}, "pytorch_quiet_used": {}, "ratio": {}}
        counts = [f"Kiln {k_used}/{k_total}"]
        for c in configs:
            p_med, p_used, p_total, p_fallback, p_range = figure(peer_runs[c], key, args.quiet)
            disturbed |= p_fallback
            ratio = k_med / p_med if kind == "throughput" else p_med / k_med
            row += [fmt(p_med, kind) + ("†" if p_fallback else ""), f"{ratio:.2f}×"]
            entry["pytorch"][c] = p_med
            entry["pytorch_range"][c] = p_range
            entry["pytorch_quiet_used"][c] = [p_used, p_total]
            entry["ratio"][c] = ratio
            counts.append(f"[{c}] {p_used}/{p_total}")
        used_counts.append(f"{label.split(' (')[0]}: " + ", ".join(counts))
        rows.append(row)
        summary["metrics"][key] = entry

    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(header)) + " |",
             "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i])
                                       for i, v in enumerate(r)) + " |")

    notes = []
    for c in configs:
        first = peer_runs[c][0]
        b = first["machine"]["blas"]
        notes.append(f"PyTorch [{c}]: BLAS = {blas_label(first)}; loaded {', '.join(os.path.basename(x) for x in b['loaded'])}; "
                     f"sgemm check max rel. error {first['machine']['gemm_check_max_rel_err']:.1e}"
                     + (f"; env {b['env']}" if b.get("env") else ""))
        if "reference" in b.get("kind", ""):
            notes.append(f"WARNING [{c}]: PyTorch's GEMMs run on netlib's unoptimised reference BLAS, "
                         "so the ratios against it overstate Kiln; compare with --peer-blas all.")
        if first["machine"]["gemm_check_max_rel_err"] > 1e-5:
            notes.append(f"WARNING [{c}]: the peer's sgemm gave wrong results; discard this column.")
    contention = [("Kiln", kiln_runs)] + [(f"PyTorch [{c}]", peer_runs[c]) for c in configs]
    worst = {name: max(max_wait(r) for r in runs) for name, runs in contention}
    notes.append("Largest run-queue wait (share of time a thread was runnable but had no CPU) in any timed "
                 "round: " + ", ".join(f"{n} {100 * w:.1f} %" for n, w in worst.items()) + ".")
    notes.append(f"Figures use only measurements with at most {100 * args.quiet:.0f} % run-queue wait "
                 "(training: timed rounds; inference: runs). Used/total: " + "; ".join(used_counts) + ".")
    if disturbed:
        notes.append("WARNING (†): no undisturbed measurement for that figure, so it comes from disturbed ones; "
                     "rerun on a quiet machine or with more --repeat.")
    summary["max_runqueue_wait_fraction"] = worst
    m = machine
    machine_lines = [
        f"CPU: {m['cpu_model']}; {m['cores']} cores, {m['logical_cpus']} logical CPUs, "
        f"{m['threads_per_core']} thread(s)/core; {m['caches'] + '; ' if m['caches'] else ''}"
        f"{m['memory_gib']} GiB memory; {' '.join(m['isa_flags'])}",
        f"Threads: {args.threads} on both sides (KILN_THREADS, torch.set_num_threads); "
        f"load average before {' '.join(m['loadavg_before'])}, after {' '.join(m['loadavg_after'])}",
        f".NET SDK {m['dotnet_sdk']}, runtime {m['dotnet_runtime']}; Kiln ISA path {summary['kiln_isa']}",
        f"PyTorch {m['torch']} (BLAS_INFO={m['torch_blas_info']}, CPU capability {m['torch_cpu_capability']}), "
        f"Python {peer_runs[configs[0]][0]['machine']['python']}, kernel {m['kernel']}",
        f"Model ({args.model}): {summary['model_description']}",
        f"Data: {summary['data']}; {args.repeat} run(s) per side, medians of undisturbed measurements"
        + ("; --quick (short measurement)" if args.quick else ""),
        "Ratio > 1: Kiln faster (training: Kiln/PyTorch samples/s; inference: PyTorch/Kiln latency).",
    ]
    text = "\n".join(lines + [""] + machine_lines + [""] + notes)
    print(text)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()

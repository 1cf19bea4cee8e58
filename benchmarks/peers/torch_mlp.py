#!/usr/bin/python3
"""PyTorch peer for the Kiln MLP benchmark (and, with --model cnn, the CNN one: see torch_cnn.py).

Trains exactly the model declared as ``BenchMlp`` in benchmarks/Kiln.Benchmarks:

    784 -> Linear 256 (Kaiming normal) -> BatchNorm1d -> ReLU -> Dropout(0.2)
        -> Linear 128 (Kaiming normal) -> BatchNorm1d -> ReLU
        -> Linear 10 (Glorot uniform, Kiln's Init.Auto for a layer without ReLU)
    softmax cross-entropy (mean over the batch), Adam (lr 1e-3 at batch 64, 2e-3 at batch 256)

and prints one JSON object with four headline figures (keys shared with the Kiln side,
``dotnet run -c Release --project benchmarks/Kiln.Benchmarks -- --quick-json``):

    train_b64_samples_per_s    training throughput at batch 64  (optimizer steps only)
    train_b256_samples_per_s   training throughput at batch 256
    infer_b1_median_us         eval-mode latency of one forward pass + softmax, batch 1
    infer_b256_median_us       the same at batch 256

Throughput: after ``--warmup-steps`` steps, ``--rounds`` rounds of training steps are each timed
as a whole (at least ``--round-seconds`` and ``--min-round-steps`` steps per round); the figure is
the median round's samples/s. The input batches are prepared before timing (contiguous slices of
one tensor, no copies), so only forward + loss + backward + optimizer step are timed.

Latency: model.eval(), torch.no_grad(); after warm-up, every call is timed on its own with
perf_counter_ns and the median (and p10/p90) is reported.

``--model cnn`` measures the benchmark CNN of torch_cnn.py with the same harness and keys;
``--profile`` adds a per-operator time split (torch.autograd.profiler) of a few training steps
and inference calls to the JSON (details.profile) and prints the profiler tables on stderr.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13, python3-numpy).
The GEMM behind torch.nn.Linear on CPU is whatever libblas.so.3 the loader finds (this build has
BLAS_INFO=generic): the script reports the shared object actually loaded, and OpenBLAS' core type
when it is OpenBLAS, so that the comparison records what it compared against.
"""

import argparse
import collections
import ctypes
import gzip
import json
import os
import platform
import resource
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import schedstat

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
INPUT, HIDDEN1, HIDDEN2, CLASSES = 784, 256, 128, 10
LEARNING_RATES = {64: 1e-3, 256: 2e-3}
SEED = 42


def build_model():
    model = nn.Sequential(
        nn.Linear(INPUT, HIDDEN1),
        nn.BatchNorm1d(HIDDEN1, eps=1e-5, momentum=0.1),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(HIDDEN1, HIDDEN2),
        nn.BatchNorm1d(HIDDEN2, eps=1e-5, momentum=0.1),
        nn.ReLU(),
        nn.Linear(HIDDEN2, CLASSES),
    )
    # Same schemes as the Kiln declaration: He/Kaiming normal std = sqrt(2 / fan_in) on the two
    # hidden layers, Glorot uniform on the output layer, zero biases.
    nn.init.kaiming_normal_(model[0].weight, mode="fan_in", nonlinearity="relu")
    nn.init.kaiming_normal_(model[4].weight, mode="fan_in", nonlinearity="relu")
    nn.init.xavier_uniform_(model[7].weight)
    for i in (0, 4, 7):
        nn.init.zeros_(model[i].bias)
    return model


# One benchmark model: how to build it, the per-sample input shape the flat 784-feature data are
# viewed as, and the learning rate per batch size (the same on the Kiln side).
ModelSpec = collections.namedtuple("ModelSpec", "key description build input_shape classes learning_rates")

MLP = ModelSpec("mlp", "784-256(BN,ReLU,Dropout0.2)-128(BN,ReLU)-10, softmax CE, Adam",
                build_model, (INPUT,), CLASSES, LEARNING_RATES)


def model_spec(key):
    if key == "mlp":
        return MLP
    import torch_cnn  # the CNN's declaration lives beside this script
    return torch_cnn.CNN


# ----------------------------------------------------------------------------------------- data

def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(directory, count):
    images = read_idx_gz(os.path.join(directory, "train-images-idx3-ubyte.gz"))
    labels = read_idx_gz(os.path.join(directory, "train-labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    x = (x - x.mean()) / x.std()  # standardised like the synthetic data
    y = labels.astype(np.int64)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(x.shape[0])[:count]
    return torch.from_numpy(np.ascontiguousarray(x[order])), torch.from_numpy(y[order])


def synthetic(count):
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(count, INPUT, generator=g, dtype=torch.float32)
    x = (x - x.mean(dim=0)) / x.std(dim=0)  # standardised per feature
    y = torch.randint(0, CLASSES, (count,), generator=g, dtype=torch.int64)
    return x.contiguous(), y


# -------------------------------------------------------------------------------- measurements

class Contention:
    """Run-queue wait of this process over an interval: the share of its threads' runnable time spent without a
    CPU (schedstat.py says how it is computed)."""

    def __enter__(self):
        self.t0, self.totals0 = time.perf_counter(), schedstat.read_totals()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        # Too short an interval makes the fraction meaningless (the /proc reads themselves dominate).
        self.wait_fraction = schedstat.wait_fraction(self.totals0, schedstat.read_totals()) if wall >= 0.05 else None
        return False


def training_step(x, y, batch, args, spec):
    """A fresh model in train mode and a closure doing one optimiser step on the next batch."""
    torch.manual_seed(SEED)
    model = spec.build()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=spec.learning_rates[batch], betas=(0.9, 0.999),
                           eps=1e-8, foreach=(args.adam == "foreach"))
    nb = x.shape[0] // batch
    batches = [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]) for i in range(nb)]
    state = {"i": 0}

    def step():
        xb, yb = batches[state["i"] % nb]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def measure_training(x, y, batch, args, spec):
    step = training_step(x, y, batch, args, spec)

    first_loss = None
    for _ in range(args.warmup_steps):
        loss = step()
        if first_loss is None:
            first_loss = loss.item()

    rounds, waits, faults = [], [], []
    for _ in range(args.rounds):
        steps = 0
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        with Contention() as probe:
            t0 = time.perf_counter()
            deadline = t0 + args.round_seconds
            while True:
                for _ in range(8):  # check the clock every few steps only
                    loss = step()
                steps += 8
                now = time.perf_counter()
                if now >= deadline and steps >= args.min_round_steps:
                    break
        rounds.append(steps * batch / (now - t0))
        waits.append(probe.wait_fraction)
        faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / steps)
    return {
        "samples_per_s": round(statistics.median(rounds), 1),
        "rounds_samples_per_s": [round(r, 1) for r in rounds],
        "best_samples_per_s": round(max(rounds), 1),
        "rounds_runqueue_wait_fraction": [None if w is None else round(w, 4) for w in waits],
        # Minor page faults per step: an allocator that hands the step's buffers back to the OS
        # faults them in again every step (hundreds per step); a caching one stays near 0.
        "page_faults_per_step": round(statistics.median(faults), 1),
        "warmup_steps": args.warmup_steps,
        "first_loss": first_loss,
        "last_loss": loss.item(),
        "learning_rate": spec.learning_rates[batch],
    }


def inference_model(x, spec):
    """A fresh model in eval mode whose BatchNorm running statistics are not the identity."""
    torch.manual_seed(SEED)
    model = spec.build()
    model.train()
    with torch.no_grad():
        for i in range(4):
            model(x[i * 256:(i + 1) * 256])
    model.eval()
    return model


def measure_inference(x, batch, runs, warmup, threads, spec):
    model = inference_model(x, spec)
    xb = x[:batch].contiguous()
    times = []
    with torch.no_grad():
        for _ in range(warmup):
            probs = torch.softmax(model(xb), dim=1)
        clock = time.perf_counter_ns
        with Contention() as probe:
            for _ in range(runs):
                t0 = clock()
                probs = torch.softmax(model(xb), dim=1)
                times.append(clock() - t0)
    assert probs.shape == (batch, spec.classes)
    times.sort()
    us = [t / 1000.0 for t in times]
    return {
        "median_us": round(statistics.median(us), 3),
        "p10_us": round(us[len(us) // 10], 3),
        "p90_us": round(us[(len(us) * 9) // 10], 3),
        "min_us": round(us[0], 3),
        "runs": runs,
        "warmup": warmup,
        "runqueue_wait_fraction": None if probe.wait_fraction is None else round(probe.wait_fraction, 4),
    }


# ------------------------------------------------------------------------------ environment

def blas_info():
    """Which BLAS the process really loaded (torch's Linear calls sgemm from it)."""
    loaded = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) >= 6:
                base = os.path.basename(parts[5])
                if any(k in base for k in ("blas", "lapack", "dnnl", "mkl", "gomp", "blis")):
                    loaded.add(os.path.realpath(parts[5]))
    info = {"loaded": sorted(loaded), "kind": "unknown"}
    for path in sorted(loaded):
        if "openblas" in path and info["kind"] == "unknown":
            try:
                lib = ctypes.CDLL(path)
                for name in ("openblas_get_config", "openblas_get_corename"):
                    fn = getattr(lib, name)
                    fn.restype = ctypes.c_char_p
                    info[name.replace("openblas_get_", "openblas_")] = fn().decode()
                lib.openblas_get_num_threads.restype = ctypes.c_int
                info["openblas_threads"] = lib.openblas_get_num_threads()
                info["kind"] = "OpenBLAS"
            except (OSError, AttributeError):
                pass
    if info["kind"] == "unknown":
        if any("blis" in p for p in loaded):
            info["kind"] = "BLIS"
        elif any("/blas/libblas.so" in p for p in loaded):
            info["kind"] = "netlib reference BLAS (unoptimised)"
    info["env"] = {k: v for k, v in os.environ.items()
                   if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOMP_", "LD_LIBRARY_PATH", "LD_PRELOAD", "MALLOC_", "ATEN_"))}
    return info


def allocator_info():
    """The malloc the process runs on: a preloaded jemalloc/tcmalloc if one is mapped, else glibc's,
    with the settings that keep freed memory in the process (glibc's MALLOC_*_ tunables, jemalloc's MALLOC_CONF)."""
    with open("/proc/self/maps") as maps:
        mapped = {os.path.basename(line.split()[5]) for line in maps if len(line.split()) >= 6}
    name = next((m for m in sorted(mapped) if "jemalloc" in m or "tcmalloc" in m), None)
    settings = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    return {"name": name or "glibc", "settings": settings}


def gemm_check():
    """Checks the loaded sgemm on the benchmark's largest product against float64 dot products
    computed without BLAS (OPENBLAS_CORETYPE overrides exist because old OpenBLAS builds gave
    wrong results on new CPUs)."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(256, INPUT, generator=g)
    b = torch.randn(INPUT, HIDDEN1, generator=g)
    c = a @ b
    worst = 0.0
    for i, j in [(0, 0), (17, 200), (255, 255), (128, 3), (99, 77), (250, 1)]:
        ref = float((a[i].double() * b[:, j].double()).sum())
        scale = float((a[i].double().abs() * b[:, j].double().abs()).sum())
        worst = max(worst, abs(float(c[i, j]) - ref) / scale)
    return worst


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def profile_split(x, y, args, spec, steps=20):
    """Per-operator self CPU time of `steps` training steps (batch 64 and 256) and of `steps`
    inference calls (batch 1 and 256), after warm-up: where the peer spends its time."""
    from torch.autograd import profiler

    def table(prof, count):
        events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in events) or 1
        return {"us_per_call": round(total / count, 1),
                "ops": [{"op": e.key, "self_us_per_call": round(e.self_cpu_time_total / count, 1),
                         "share": round(e.self_cpu_time_total / total, 4), "count_per_call": e.count / count}
                        for e in events if e.self_cpu_time_total / total >= 0.005]}

    out = {}
    for batch in (64, 256):
        step = training_step(x, y, batch, args, spec)
        for _ in range(10):
            step()
        with profiler.profile() as prof:
            for _ in range(steps):
                step()
        sys.stderr.write(f"--- training step, batch {batch} ({steps} steps)\n"
                         + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25) + "\n")
        out[f"train_b{batch}"] = table(prof, steps)
    for batch in (1, 256):
        model = inference_model(x, spec)
        xb = x[:batch].contiguous()
        with torch.no_grad():
            for _ in range(10):
                torch.softmax(model(xb), dim=1)
            with profiler.profile() as prof:
                for _ in range(steps):
                    torch.softmax(model(xb), dim=1)
        sys.stderr.write(f"--- inference, batch {batch} ({steps} calls)\n"
                         + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25) + "\n")
        out[f"infer_b{batch}"] = table(prof, steps)
    return out


def main(default_model="mlp"):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("mlp", "cnn"), default=default_model,
                   help=f"benchmark model (default {default_model})")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="CPUs the peer may use: torch.set_num_threads unless --torch-threads says otherwise, "
                        "and the divisor of the run-queue wait fraction (default: os.cpu_count())")
    p.add_argument("--torch-threads", type=int, default=None,
                   help="torch.set_num_threads when it differs from --threads, e.g. 1 when OpenBLAS's own "
                        "pthread pool (OPENBLAS_NUM_THREADS) runs the GEMMs on the --threads CPUs")
    p.add_argument("--data", nargs="?", const=FASHION_DIR, default=None,
                   help=f"train on Fashion-MNIST IDX files (default dir {FASHION_DIR}) "
                        "instead of synthetic standardised data")
    p.add_argument("--samples", type=int, default=16384, help="training samples cycled through")
    p.add_argument("--warmup-steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--round-seconds", type=float, default=1.0)
    p.add_argument("--min-round-steps", type=int, default=16)
    p.add_argument("--infer-runs", type=int, default=2000, help="timed batch-1 calls")
    p.add_argument("--infer-runs-256", type=int, default=300, help="timed batch-256 calls")
    p.add_argument("--adam", choices=("single", "foreach"), default="single",
                   help="Adam implementation (1.13's default on CPU is single-tensor)")
    p.add_argument("--quick", action="store_true", help="short run for smoke tests")
    p.add_argument("--profile", action="store_true",
                   help="also record a per-operator time split (details.profile; tables on stderr)")
    p.add_argument("--pretty", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.warmup_steps, args.rounds, args.round_seconds = 5, 2, 0.2
        args.infer_runs, args.infer_runs_256 = 100, 20

    torch.set_num_threads(args.torch_threads or args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(SEED)

    if args.data:
        x, y = load_fashion(args.data, args.samples)
        data_name = f"fashion-mnist ({args.data}, {x.shape[0]} training images, standardised)"
    else:
        x, y = synthetic(args.samples)
        data_name = f"synthetic N(0,1) standardised, {x.shape[0]} samples, uniform labels"
    spec = model_spec(args.model)
    # The 784 features per sample as the model's input (1×28×28 for the CNN): a view, no copy.
    x = x.view(x.shape[0], *spec.input_shape)

    t_start = time.perf_counter()
    result = {
        "framework": "pytorch",
        "model": spec.description,
        "model_key": spec.key,
        "threads": args.threads,
        "torch_threads": torch.get_num_threads(),
        "data": data_name,
    }
    train = {b: measure_training(x, y, b, args, spec) for b in (64, 256)}
    infer1 = measure_inference(x, 1, args.infer_runs, max(50, args.infer_runs // 10), args.threads, spec)
    infer256 = measure_inference(x, 256, args.infer_runs_256, max(10, args.infer_runs_256 // 10), args.threads, spec)
    result.update({
        "train_b64_samples_per_s": round(train[64]["samples_per_s"], 1),
        "train_b256_samples_per_s": round(train[256]["samples_per_s"], 1),
        "infer_b1_median_us": round(infer1["median_us"], 2),
        "infer_b256_median_us": round(infer256["median_us"], 2),
        "details": {
            "train_b64": train[64],
            "train_b256": train[256],
            "infer_b1": infer1,
            "infer_b256": infer256,
            "adam": args.adam,
            "wall_s": round(time.perf_counter() - t_start, 1),
        },
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": np.__version__,
            "torch_parallel_backend": next((l.split(":", 1)[1].strip()
                                            for l in torch.__config__.parallel_info().splitlines()
                                            if l.startswith("ATen parallel backend")), "?"),
            "torch_cpu_capability": next((l.split(":", 1)[1].strip()
                                          for l in torch.__config__.show().splitlines()
                                          if "CPU capability usage" in l), "?"),
            "torch_blas_info": next((f.split("=", 1)[1] for l in torch.__config__.show().splitlines()
                                     for f in l.replace(",", " ").split()
                                     if f.startswith("BLAS_INFO=")), "?"),
            "blas": blas_info(),
            "allocator": allocator_info(),
            "gemm_check_max_rel_err": gemm_check(),
            # oneDNN runs fp32 convolutions (its own JIT kernels, not the BLAS) when available.
            "mkldnn_available": torch.backends.mkldnn.is_available(),
            "mkldnn_enabled": bool(torch.backends.mkldnn.enabled),
        },
    })
    if args.profile:
        result["details"]["profile"] = profile_split(x, y, args, spec)
    print(json.dumps(result, indent=2 if args.pretty else None))


if __name__ == "__main__":
    main()

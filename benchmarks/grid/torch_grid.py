#!/usr/bin/python3
"""PyTorch's side of the scaling grid: the same models (grid.py), batches, timing and JSON lines as
benchmarks/Kiln.Grid. Run by run.py, which sets up the peer's environment (BLAS, allocator, threads).

Training point: zero_grad, forward, cross_entropy, backward, Adam step. Inference point: model.eval(),
torch.inference_mode(), softmax(model(x)). Timing as Kiln.Grid: warm-up, then rounds of back-to-back
steps timed as a whole (median round), or each inference call timed on its own (median)."""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import grid


def build(m):
    layers = []
    if m["family"] == "mlp":
        fan_in = grid.MLP_INPUT
        for _ in range(m["depth"]):
            lin = nn.Linear(fan_in, m["width"])
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            layers += [lin, nn.ReLU()]
            fan_in = m["width"]
        layers.append(nn.Linear(fan_in, grid.CLASSES))
    else:
        c, h, w = m["input"]
        ch = m["channels"]
        layers += [nn.Conv2d(c, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                   nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Linear(2 * ch * (h // 4) * (w // 4), grid.CLASSES)]
    return nn.Sequential(*layers)


def time_rounds(op, rounds, round_seconds):
    start = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - start < round_seconds:
        op()
        i += 1
    result = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        calls = 0
        while calls < 2 or time.perf_counter() - t0 < round_seconds:
            op()
            calls += 1
        result.append((time.perf_counter() - t0) / calls)
    return result


def time_calls(op, rounds, round_seconds):
    start = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - start < round_seconds / 2:
        op()
        i += 1
    times = []
    t0 = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - t0 < rounds * round_seconds:
        s = time.perf_counter_ns()
        op()
        times.append((time.perf_counter_ns() - s) * 1e-9)
    return times


def emit(model, batch, kind, times):
    times = sorted(times)
    print(json.dumps({"model": model, "batch": batch, "kind": kind, "seconds": times[len(times) // 2],
                      "samples": len(times)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="all")
    p.add_argument("--batches", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--round-seconds", type=float, default=0.25)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(42)
    wanted = None if a.models == "all" else set(a.models.split(","))
    batches = None if a.batches is None else [int(b) for b in a.batches.split(",")]
    for m in grid.models():
        if wanted is not None and m["name"] not in wanted:
            continue
        net = build(m)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        max_batch = max(m["batches"])
        x_all = torch.randn(max_batch, *m["input"])
        y_all = torch.randint(0, grid.CLASSES, (max_batch,))
        for batch in batches or m["batches"]:
            if batch > max_batch:
                continue
            x, y = x_all[:batch].contiguous(), y_all[:batch].contiguous()

            def train():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(net(x), y).backward()
                opt.step()

            net.train()
            emit(m["name"], batch, "train", time_rounds(train, a.rounds, a.round_seconds))
            net.eval()
            with torch.inference_mode():
                emit(m["name"], batch, "infer",
                     time_calls(lambda: F.softmax(net(x), dim=1), a.rounds, a.round_seconds))
        del net, opt


if __name__ == "__main__":
    sys.exit(main())

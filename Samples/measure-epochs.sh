#!/usr/bin/env bash
# What a user sees against what the benchmark sees (issue 18, scope 3): per-epoch training throughput of the
# MLP sample (batch 256) and the CNN sample (batch 64) next to benchmarks/Kiln.Benchmarks --quick-json for the same
# model and batch, the first epoch against the later ones, and optionally a second ("before") build of the samples
# run interleaved with this one.
#
# Usage (from the repository root, after `dotnet build -c Release` of Samples/FashionMnist, Samples/FashionCnn and
# benchmarks/Kiln.Benchmarks):
#   Samples/measure-epochs.sh [--reps N] [--epochs N] [--cnn-epochs N] [--before DIR] [--aot FILE] [--no-cnn]
# --before DIR: a checkout whose Samples/*/bin/Release builds are run too, alternating with this tree's.
# --aot FILE: a Native AOT image of the MLP sample (docs/perf/first-epoch.md says how to publish one), run as "aot"
#   alternating with the others (MLP only).
# Needs Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
#
# Columns per epoch: "steps/s" counts only the time inside TrainStep (what the benchmark times), "loop/s" the
# whole training loop (batch filling, steps, bookkeeping; builds without EpochMetrics.LoopSeconds show "-"),
# "epoch/s" the epoch's wall time including evaluation. With KILN_EPOCH_CPU=1 (set here) the samples also print
# each epoch's CPU seconds, summarised as "cpu/s" (samples per process CPU second), which stays readable when other
# work shares the machine; wall-clock figures from a shared machine are not comparable with a quiet one's.
# "e1/rest" is the first epoch's throughput over the mean of the later epochs' (1.00: no first-epoch tax).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=2 epochs=4 cnn_epochs=2 before="" aot="" cnn=1
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --cnn-epochs) cnn_epochs=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --aot) aot=$2; shift 2 ;;
    --no-cnn) cnn=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mlp=Samples/FashionMnist/bin/Release/net10.0/Kiln.Samples.FashionMnist.dll
cnnd=Samples/FashionCnn/bin/Release/net10.0/Kiln.Samples.FashionCnn.dll
bench=benchmarks/Kiln.Benchmarks/bin/Release/net10.0/Kiln.Benchmarks.dll
for f in "$mlp" "$bench"; do [ -f "$f" ] || { echo "missing $f: build it with -c Release" >&2; exit 1; }; done
trees=("after:.")
[ -n "$before" ] && trees=("before:$before" "after:.")
[ -n "$aot" ] && { [ -x "$aot" ] || { echo "--aot $aot: not an executable" >&2; exit 1; }; trees+=("aot:$aot"); }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start" >&2
for rep in $(seq 1 "$reps"); do
  echo "rep $rep/$reps" >&2
  dotnet "$bench" --quick-json --data >"$out/bench-mlp-$rep.json"
  for t in "${trees[@]}"; do
    name=${t%%:*} dir=${t#*:}
    if [ "$name" = aot ]; then sample=("$dir"); else sample=(dotnet "$dir/$mlp"); fi
    KILN_EPOCH_CPU=1 "${sample[@]}" --plain --epochs "$epochs" --batch 256 --metrics-out "$out/mlp-$name-$rep.json" \
      >"$out/mlp-$name-$rep.log" 2>"$out/mlp-$name-$rep.err"
  done
  if [ "$cnn" = 1 ] && [ -f "$cnnd" ]; then
    dotnet "$bench" --quick-json --data --model cnn >"$out/bench-cnn-$rep.json"
    for t in "${trees[@]}"; do
      name=${t%%:*} dir=${t#*:}
      [ "$name" != aot ] && [ -f "$dir/$cnnd" ] || continue
      KILN_EPOCH_CPU=1 dotnet "$dir/$cnnd" --plain --epochs "$cnn_epochs" --batch 64 --metrics-out "$out/cnn-$name-$rep.json" \
        >"$out/cnn-$name-$rep.log" 2>"$out/cnn-$name-$rep.err"
    done
  fi
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end" >&2

python3 - "$out" <<'PY'
import glob, json, os, re, sys
out = sys.argv[1]
def cpu_lines(path):
    rows = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("epoch-cpu"):
                d = dict(kv.split("=") for kv in line.split()[1:])
                rows[int(d["epoch"])] = float(d["samples"]) / float(d["process_cpu_s"])
    return rows
for model, bkey in (("mlp", "train_b256_samples_per_s"), ("cnn", "train_b64_samples_per_s")):
    runs = sorted(glob.glob(f"{out}/{model}-*.json"))
    if not runs: continue
    print(f"\n{model.upper()} sample vs Kiln.Benchmarks --quick-json --data{' --model cnn' if model == 'cnn' else ''} ({bkey})")
    print(f"{'run':<12}{'bench/s':>10}{'epoch':>7}{'steps/s':>10}{'loop/s':>10}{'epoch/s':>10}{'cpu/s':>9}{'steps/bench':>13}{'loop/bench':>12}{'e1/rest steps':>15}{'e1/rest loop':>14}{'e1/rest cpu':>13}")
    for path in runs:
        name, rep = re.match(rf".*/{model}-(\w+)-(\d+)\.json", path).groups()
        bench = json.load(open(f"{out}/bench-{model}-{rep}.json"))[bkey]
        hist = json.load(open(path))["history"]
        cpu = cpu_lines(f"{out}/{model}-{name}-{rep}.err")
        def loop(e): return e["samples"] / e["loop_seconds"] if e.get("loop_seconds") else None
        def first_vs_rest(values):
            rest = [v for v in values[1:] if v]
            return f"{values[0] / (sum(rest) / len(rest)):.2f}" if values[0] and rest else "-"
        e1_steps = first_vs_rest([e["samples_per_second"] for e in hist])
        e1_loop = first_vs_rest([loop(e) for e in hist])
        e1_cpu = first_vs_rest([cpu.get(e["epoch"]) for e in hist])
        for e in hist:
            l, ep = loop(e), e["epoch"]
            c = f"{cpu[ep]:,.0f}" if ep in cpu else "-"
            print(f"{name + ' #' + rep:<12}{bench:>10,.0f}{ep:>7}{e['samples_per_second']:>10,.0f}"
                  f"{(f'{l:,.0f}' if l else '-'):>10}{e['samples'] / e['seconds']:>10,.0f}{c:>9}"
                  f"{e['samples_per_second'] / bench:>13.2f}{(f'{l / bench:.2f}' if l else '-'):>12}"
                  f"{(e1_steps if ep == 1 else ''):>15}{(e1_loop if ep == 1 else ''):>14}{(e1_cpu if ep == 1 else ''):>13}")
PY

#!/usr/bin/env bash
# Interleaved A/B of Kiln's training and Predict on 1 and 2 threads: two builds of benchmarks/Kiln.Benchmarks (say, main
# before and after a worker-pool change), each run alternately so both see the same phases of the machine.
# Usage: benchmarks/Kiln.PoolProbe/ab.sh BEFORE_DIR AFTER_DIR [REPS=3] [MODEL=mlp|cnn]
#   where each DIR holds a Kiln.Benchmarks.dll, e.g.
#   git worktree add /tmp/kiln-before <rev> && dotnet build /tmp/kiln-before/benchmarks/Kiln.Benchmarks -c Release -o /tmp/before
#   dotnet build benchmarks/Kiln.Benchmarks -c Release -o /tmp/after
# Prints one line per run and, per build and thread count, the median of each figure and the 2-thread/1-thread ratio.
set -euo pipefail
before=${1:?BEFORE_DIR}; after=${2:?AFTER_DIR}; reps=${3:-3}; model=${4:-mlp}
opts=(--quick-json --model "$model" --rounds 3 --round-seconds 0.5 --warmup-seconds 0.5 --infer-runs 300 --infer-runs-256 30)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for build in before after; do
    dir=$before; [ "$build" = after ] && dir=$after
    for t in 1 2; do
      dotnet "$dir/Kiln.Benchmarks.dll" "${opts[@]}" --threads "$t" |
        python3 -c "import json,sys; d=json.load(sys.stdin); print('$build', $t, $r, d['train_b64_samples_per_s'], d['train_b256_samples_per_s'], d['infer_b1_median_us'], d['infer_b256_median_us'])" |
        tee -a "$out"
    done
  done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for b in ("before", "after"):
    for t in ("1", "2"):
        sel = [list(map(float, r[3:])) for r in rows if r[0] == b and r[1] == t]
        med[b, t] = [statistics.median(c) for c in zip(*sel)]
print(f"{'':8}{'thr':>4}{'train b64/s':>13}{'train b256/s':>14}{'b1 µs':>9}{'b256 µs':>10}")
for b in ("before", "after"):
    for t in ("1", "2"):
        m = med[b, t]
        print(f"{b:8}{t:>4}{m[0]:13.0f}{m[1]:14.0f}{m[2]:9.1f}{m[3]:10.1f}")
    one, two = med[b, "1"], med[b, "2"]
    print(f"{b:8} 2/1 {two[0]/one[0]:13.2f}{two[1]/one[1]:14.2f}{one[2]/two[2]:9.2f}{one[3]/two[3]:10.2f}   (speed of 2 threads over 1; > 1: two threads win)")
PY
